// Hostfs volumes with the native host calls (trap-native's hostFsCalls): under tsvisor,
// testdata/hostfs-calls.c makes a fifo, sets user.* attributes, exchanges two files with
// renameat2 and fallocates on a volume, and all of it reaches the host directory; names that
// would leave the volume (a symlink to "..", a ".." path) do not reach the host. A read-only
// volume refuses every change with EROFS.
import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostFsCalls } from '@tsvisor/trap-native';
import { compile, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => {
  compile(dir, 'hostfs-calls', ['-O1', '-Wall', '-Werror']);
});

/** A host user.* attribute as text, or the negative errno. */
function hostXattr(dir: string, name: string | null, attr: string): string | number {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const v = hostFsCalls.getxattr(fd, name, attr);
    return typeof v === 'number' ? v : Buffer.from(v).toString();
  } finally {
    closeSync(fd);
  }
}

describe('hostfs host calls in a sandbox', () => {
  it('reach the host directory of a writable volume, and only it', async () => {
    const vol = join(bed.dir, 'vol');
    mkdirSync(vol);
    writeFileSync(join(bed.dir, 'outside'), '');
    const got = await bed.run(['/test/hostfs-calls', '/data'], {
      volumes: [
        { host: bed.dir, sandbox: '/test', readOnly: true },
        { host: vol, sandbox: '/data' },
      ],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(
      [
        'mkfifo(fifo) = 0',
        // No device nodes in host directories (host users would get the device).
        'mknod(dev, char 1:3) = -1 EPERM',
        'open(f) = 0',
        'setxattr(f, user.x) = 0',
        'setxattr(f, user.x, CREATE) = -1 EEXIST',
        'getxattr(f, user.x) = 1',
        'fsetxattr(f, user.y) = 0',
        'listxattr(f) = 14',
        'removexattr(f, user.y) = 0',
        'setxattr(., user.dir) = 0',
        // A sandbox must not label host files outside user.*.
        'setxattr(f, trusted.x) = -1 EOPNOTSUPP',
        'fallocate(f, 0, 0, 8192) = 0',
        '  size 8192',
        'fallocate(f, KEEP_SIZE, 8192, 4096) = 0',
        '  size 8192',
        'write(a) = 1',
        'write(b) = 1',
        'renameat2(a, b, EXCHANGE) = 0',
        'renameat2(a, b, NOREPLACE) = -1 EEXIST',
        'symlink(esc -> ../outside) = 0',
        'setxattr(esc, user.x) = -1 ENOENT',
        'lsetxattr(esc, user.x) = -1 EPERM',
        'setxattr(../outside, user.x) = -1 ENOENT',
        // The volume's ".." is the sandbox root, an in-memory layer over the host's /.
        'mkfifo(../fifo2) = 0',
        '',
      ].join('\n'),
    );
    expect(got.status).toBe(0);
    expect(lstatSync(join(vol, 'fifo')).isFIFO()).toBe(true);
    expect(hostXattr(vol, 'f', 'user.x')).toBe('v');
    expect(hostXattr(vol, 'f', 'user.y')).toBe(-61); // ENODATA: removed
    expect(hostXattr(vol, null, 'user.dir')).toBe('D');
    expect(lstatSync(join(vol, 'f')).size).toBe(8192);
    expect(readFileSync(join(vol, 'a'), 'utf8')).toBe('B');
    expect(readFileSync(join(vol, 'b'), 'utf8')).toBe('A');
    expect(lstatSync(join(vol, 'esc')).isSymbolicLink()).toBe(true);
    expect(hostXattr(bed.dir, 'outside', 'user.x')).toBe(-61);
    expect(() => lstatSync(join(bed.dir, 'fifo2'))).toThrow(/ENOENT/);
  });

  it('are refused with EROFS on a read-only volume', async () => {
    const ro = join(bed.dir, 'ro');
    mkdirSync(ro);
    writeFileSync(join(ro, 'f'), 'x');
    const got = await bed.run(['/test/hostfs-calls', '/ro'], {
      volumes: [
        { host: bed.dir, sandbox: '/test', readOnly: true },
        { host: ro, sandbox: '/ro', readOnly: true },
      ],
    });
    expect(got.stderr).toBe('');
    for (const line of [
      'mkfifo(fifo) = -1 EROFS',
      'setxattr(f, user.x) = -1 EROFS',
      'setxattr(., user.dir) = -1 EROFS',
      'renameat2(a, b, EXCHANGE) = -1 EROFS',
      'symlink(esc -> ../outside) = -1 EROFS',
    ])
      expect(got.stdout).toContain(`${line}\n`);
    expect(got.status).toBe(0);
    expect(hostXattr(ro, 'f', 'user.x')).toBe(-61);
  });
});
