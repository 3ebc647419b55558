import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  O_CREAT,
  O_DIRECTORY,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  Posix,
  ROOT_CREDS,
  SEEK_SET,
  Tmpfs,
  Vfs,
  createPipe,
} from './index.js';
import { normalize, runHost, runVfs } from './testing/differential.test-util.js';
import type { Op } from './testing/differential.test-util.js';

describe('bad input gets the errno Linux gives', () => {
  it('matches the kernel', () => {
    const ops: Op[] = [
      ['open', '', O_RDONLY, 0],
      ['open', 'a'.repeat(256), O_CREAT | O_RDWR, 0o644],
      ['open', 'a'.repeat(255), O_CREAT | O_RDWR, 0o644],
      ['open', '/' + 'a/'.repeat(2048), O_RDONLY, 0],
      ['open', 'f\0junk', O_CREAT | O_RDWR, 0o644],
      ['stat', '/f', 0],
      ['stat', '/f\0x', 0],
      ['open', '/f', O_RDONLY | 0x40000000, 0],
      ['open', '/f', -1, 0],
      ['open', '/f', O_CREAT | O_DIRECTORY, 0],
      ['open', '/f', O_WRONLY | O_RDWR, 0],
      ['read', 5, 10],
      ['pread', 1, 10, -1],
      ['pwrite', 1, 'x', -5],
      ['lseek', 1, -1, SEEK_SET],
      ['lseek', 1, 0, 99],
      ['lseek', 1, 0, -1],
      ['truncate', '/f', -1],
      ['ftruncate', 1, -5],
      ['read', 99, 1],
      ['write', -1, 'x'],
      ['close', 42],
      ['unlinkat', '/f', 1],
      ['unlinkat', '', 0],
      ['rename', '/f', '/g', 8],
      ['rename', '/f', '/g', 3],
      ['rename', '', '/g', 0],
      ['link', '/f', '/g', 1],
      ['access', '/f', 8, 0],
      ['access', '/f', 0, 1],
      ['stat', '/f', 0x8000000],
      ['mkdir', '', 0o755],
      ['symlink', '', '/s'],
      ['symlink', 'x', ''],
      ['readlink', '/f'],
      ['utimens', '/f', 0, 1e9, 0, 0, false, 0],
      ['utimens', '/f', 0, -1, 0, 0, false, 0],
      ['utimens', '/f', 0, 0, 0, 0, false, 0x1],
      ['chown', '/f', 0, 0, 0x4],
      ['mknod', '/m', 0o170644, 0],
      ['chdir', ''],
      ['fcntl', 1, 9999, 0],
      ['getdents', 1],
      ['mkdir', '/d', 0o755],
      ['open', '/d', 0o20200000 | O_RDWR, 0o600],
      ['open', '/d', 0o20200000 | O_RDONLY, 0o600],
      ['open', '/d', 0o20000000 | O_RDWR, 0o600],
      ['open', '/f', 0o20200000 | O_RDWR, 0o600],
      ['open', '/nope', 0o20200000 | O_RDWR, 0o600],
      ['fstat', 3],
      ['write', 3, 'tmp'],
      ['open', '/d', O_RDONLY | O_DIRECTORY, 0],
      ['getdents', 4],
    ];
    const host = normalize(runHost(ops), ops);
    const mine = normalize(runVfs(new Posix(new Vfs(new Tmpfs()), ROOT_CREDS), ops), ops);
    const diffs = ops
      .map((op, i) => ({ i, op: JSON.stringify(op).slice(0, 80), host: host[i], mine: mine[i] }))
      .filter((d) => d.host !== d.mine);
    expect(diffs).toEqual([]);
  });

  it('never throws, whatever the arguments', () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/d', 0o755);
    const file = vfs.openat(ctx, ctx.cwd, '/d/f', O_CREAT | O_RDWR, 0o644);
    const num = fc.oneof(
      fc.integer(),
      fc.constantFrom(NaN, Infinity, -Infinity, -1, 2 ** 53, 2 ** 63, -(2 ** 31), 0x7fffffff, 1e300, 0.5),
    );
    const str = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '',
        '/',
        '//..//',
        '/d/f',
        '/d/f/',
        'a'.repeat(300),
        '/\0',
        '.'.repeat(5000),
        '/d/../../d',
      ),
    );
    fc.assert(
      fc.property(fc.nat(16), str, str, num, num, num, (which, s1, s2, n1, n2, n3) => {
        if (file instanceof Error || !('read' in file)) return;
        const buf = new Uint8Array(16);
        const calls = [
          () => vfs.openat(ctx, ctx.cwd, s1, n1, n2),
          () => vfs.statat(ctx, ctx.cwd, s1, n1),
          () => vfs.mkdirat(ctx, ctx.cwd, s1, n1),
          () => vfs.mknodat(ctx, ctx.cwd, s1, n1, n2),
          () => vfs.unlinkat(ctx, ctx.cwd, s1, n1),
          () => vfs.renameat2(ctx, ctx.cwd, s1, ctx.cwd, s2, n1),
          () => vfs.linkat(ctx, ctx.cwd, s1, ctx.cwd, s2, n1),
          () => vfs.symlinkat(ctx, s1, ctx.cwd, s2),
          () => vfs.faccessat(ctx, ctx.cwd, s1, n1, n2),
          () => vfs.fchmodat(ctx, ctx.cwd, s1, n1, n2),
          () => vfs.fchownat(ctx, ctx.cwd, s1, n1, n2, n3),
          () =>
            vfs.utimensat(
              ctx,
              ctx.cwd,
              s1,
              [
                { sec: n1, nsec: n2 },
                { sec: n3, nsec: n1 },
              ],
              n2,
            ),
          () => vfs.truncateat(ctx, ctx.cwd, s1, n1),
          () => [
            file.pread(buf, n1),
            file.pwrite(buf, n2),
            file.lseek(n1, n2),
            vfs.ftruncate(file, n3 % 1e7),
          ],
          () => [file.setFlags(n1), file.fcntl(n1, n2), file.ioctl(n1, 0n)],
          () => {
            const p = createPipe(ROOT_CREDS, n1);
            if (Array.isArray(p)) {
              p[1].fcntl(1031, n2);
              p[0].fcntl(1032, 0);
              p[0].release();
              p[1].release();
            }
          },
          () => vfs.chdir(ctx, ctx.cwd, s1),
        ];
        expect(() => calls[which % calls.length]?.()).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });
});
