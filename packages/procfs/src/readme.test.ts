import { OpenFlag } from '@tsvisor/abi';
// The README's examples, verbatim apart from the imports and the assertions.
import { describe, expect, it } from 'vitest';
import { Posix, ROOT_CREDS, Tmpfs, Vfs } from '@tsvisor/vfs';
import { FixtureProcSource, KernFs, createProcfs, createSysfs, dir, file, symlink } from './index.js';
import { readAll } from './mount.test-util.js';

describe('README', () => {
  it('mounts procfs and sysfs over the fixture and reads them', () => {
    const kernel = FixtureProcSource.sample(); // a fake kernel; a real one implements ProcSource
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
    vfs.mkdirat(ctx, ctx.cwd, '/sys', 0o555);
    vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(kernel));
    vfs.mount(ctx, ctx.cwd, '/sys', createSysfs(kernel));

    const p = new Posix(vfs, ROOT_CREDS);
    expect(p.readlink('/proc/self')).toBe('7');
    const fd = p.open('/proc/self/status', OpenFlag.O_RDONLY) as number;
    const buf = new Uint8Array(4096);
    const n = p.read(fd, buf) as number;
    expect(new TextDecoder().decode(buf.subarray(0, n))).toMatch(/^Name:\tpython3\nUmask:\t0022\n/);
    expect(readAll(p, '/sys/devices/system/cpu/online')).toBe('0-1\n');
  });

  it('declares another tree with KernFs', () => {
    const fs = new KernFs(
      'myfs',
      0x1234,
      dir({
        answer: file(() => '42\n'),
        latest: symlink(() => 'answer'),
      }),
    );
    const p = new Posix(new Vfs(fs), ROOT_CREDS);
    expect(readAll(p, '/latest')).toBe('42\n');
  });
});
