import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  lstatSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { E, isError } from '@tsvisor/abi';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AT_REMOVEDIR,
  Hostfs,
  O_APPEND,
  O_CREAT,
  O_DIRECTORY,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  Overlayfs,
  Posix,
  ROOT_CREDS,
  Tmpfs,
  Vfs,
} from '../index.js';
import { normalize, runHost, runVfs } from '../testing/differential.test-util.js';
import type { Op } from '../testing/differential.test-util.js';
import { opArb } from '../testing/model.test-util.js';

const base = mkdtempSync(join(tmpdir(), 'tsvisor-overlay-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A lower layer on the host, with the names the random operations use. */
function makeLower(): string {
  const lower = mkdtempSync(join(base, 'lower-'));
  mkdirSync(join(lower, 'a'), { mode: 0o755 });
  mkdirSync(join(lower, 'a', 'b'), { mode: 0o755 });
  writeFileSync(join(lower, 'a', 'c'), 'lower a/c');
  writeFileSync(join(lower, 'b'), 'lower b contents');
  symlinkSync('a/c', join(lower, 'c'));
  mkdirSync(join(lower, 'a', 'b', 'a'), { mode: 0o700 });
  writeFileSync(join(lower, 'a', 'b', 'c'), 'deep');
  return lower;
}

/** A digest of every name, mode, link target and byte under `dir`. */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      h.update(`${p}:${st.mode}:${st.uid}:${st.size}:${st.mtimeMs}\n`);
      if (st.isSymbolicLink()) h.update(readlinkSync(p));
      else if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

function overlayPosix(lower: string): Posix {
  const vfs = new Vfs(new Overlayfs(new Hostfs(lower, { readOnly: true }), new Tmpfs({ mode: 0o755 })));
  return new Posix(vfs, ROOT_CREDS);
}

describe('overlay against Linux overlayfs', () => {
  it('random operation sequences give what overlayfs gives, and the lower layer never changes', () => {
    const lower = makeLower();
    const before = treeHash(lower);
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
        const host = normalize(runHost(ops, { overlayLower: lower }), ops);
        const p = overlayPosix(lower);
        const mine = normalize(runVfs(p, ops), ops);
        p.closeAll();
        expect(mine).toEqual(host);
        expect(treeHash(lower)).toBe(before);
      }),
      { numRuns: Number(process.env['VFS_FUZZ_RUNS'] ?? 60) },
    );
  });

  it('copies up on write and keeps the lower bytes', () => {
    const lower = makeLower();
    const before = treeHash(lower);
    const ops: Op[] = [
      ['stat', '/b', 0],
      ['open', '/b', O_WRONLY | O_APPEND, 0],
      ['write', 0, ' + upper'],
      ['open', '/b', O_RDONLY, 0],
      ['read', 1, 100],
      ['stat', '/b', 0],
      ['chmod', '/a/c', 0o600],
      ['stat', '/a/c', 0],
      ['stat', '/a', 0],
      ['open', '/a/b/c', O_RDWR | O_TRUNC, 0],
      ['fstat', 2],
      ['unlinkat', '/a/b/c', 0],
      ['stat', '/a/b/c', 0],
      ['open', '/a/b/c', O_CREAT | O_RDWR, 0o640],
      ['fstat', 3],
      ['unlinkat', '/a/b/a', AT_REMOVEDIR],
      ['mkdir', '/a/b/a', 0o755],
      ['open', '/a/b/a', O_RDONLY | O_DIRECTORY, 0],
      ['getdents', 4],
      ['open', '/a/b', O_RDONLY | O_DIRECTORY, 0],
      ['getdents', 5],
      ['open', '/', O_RDONLY | O_DIRECTORY, 0],
      ['getdents', 6],
      ['rename', '/a', '/z', 0],
      ['rename', '/b', '/z', 0],
      ['rename', '/b', '/a/newb', 0],
      ['stat', '/b', 0],
      ['read', 1, 100],
      ['unlinkat', '/a', AT_REMOVEDIR],
      ['readlink', '/c'],
      ['stat', '/c', 0],
      ['link', '/a/c', '/a/hard', 0],
      ['stat', '/a/hard', 0],
      ['stat', '/', 0],
    ];
    const host = normalize(runHost(ops, { overlayLower: lower }), ops);
    const mine = normalize(runVfs(overlayPosix(lower), ops), ops);
    const diffs = ops
      .map((op, i) => ({ i, op: JSON.stringify(op), host: host[i], mine: mine[i] }))
      .filter((d) => d.host !== d.mine);
    expect(diffs).toEqual([]);
    expect(treeHash(lower)).toBe(before);
  });

  it('keeps st_ino across copy-up and whiteouts hide lower names', () => {
    const lower = makeLower();
    const p = overlayPosix(lower);
    const st1 = p.stat('/a/c');
    expect(p.chmod('/a/c', 0o600)).toBe(0);
    const st2 = p.stat('/a/c');
    if (isError(st1) || isError(st2)) throw new Error();
    expect(st2.ino).toBe(st1.ino);
    expect(st2.mode & 0o777).toBe(0o600);
    expect(p.unlink('/b')).toBe(0);
    expect(p.stat('/b')).toBe(E.ENOENT);
    const d = p.open('/', O_RDONLY | O_DIRECTORY) as number;
    const names = (p.getdents(d) as { name: string }[]).map((e) => e.name).sort();
    expect(names).toEqual(['.', '..', 'a', 'c']);
    expect(p.open('/b', O_CREAT | O_RDWR, 0o644)).toBeTypeOf('number');
    expect(p.stat('/b')).toMatchObject({ size: 0 });
    expect(readFileSync(join(lower, 'b'), 'utf8')).toBe('lower b contents');
  });
});

describe('overlay over a tmpfs lower layer', () => {
  it('copies extended attributes up and supports O_TMPFILE', () => {
    const lowerFs = new Tmpfs({ mode: 0o755 });
    const setupVfs = new Vfs(lowerFs);
    const setup = new Posix(setupVfs, ROOT_CREDS);
    setup.mkdir('/dir', 0o755);
    setup.close(setup.open('/dir/file', O_CREAT | O_RDWR, 0o644) as number);
    const lowerLoc = setupVfs.lookupat(setup.ctx, setup.ctx.cwd, '/dir/file', 0);
    if (isError(lowerLoc)) throw new Error();
    expect(setupVfs.setxattr(setup.ctx, lowerLoc, 'user.tag', new Uint8Array([1, 2]), 0)).toBeUndefined();

    const vfs = new Vfs(new Overlayfs(lowerFs, new Tmpfs({ mode: 0o755 })));
    const p = new Posix(vfs, ROOT_CREDS);
    const loc = vfs.lookupat(p.ctx, p.ctx.cwd, '/dir/file', 0);
    if (isError(loc)) throw new Error();
    expect(vfs.getxattr(p.ctx, loc, 'user.tag')).toEqual(new Uint8Array([1, 2]));
    expect(vfs.setxattr(p.ctx, loc, 'user.more', new Uint8Array([3]), 0)).toBeUndefined();
    expect(vfs.listxattr(p.ctx, loc)).toEqual(['user.tag', 'user.more']);
    // The lower file kept only its own attribute.
    expect(setupVfs.listxattr(setup.ctx, lowerLoc)).toEqual(['user.tag']);
    expect(vfs.removexattr(p.ctx, loc, 'user.none')).toBe(E.ENODATA);

    const fd = p.open('/dir', 0o20200000 | O_RDWR, 0o600) as number;
    expect(p.write(fd, new Uint8Array([7]))).toBe(1);
    expect(p.linkat(fd, '', -100, '/dir/born', 0x1000)).toBe(0);
    expect(p.stat('/dir/born')).toMatchObject({ size: 1, nlink: 1 });
    expect(setup.stat('/dir/born')).toBe(E.ENOENT);
  });
});
