import { E, OpenFlag } from '@tsvisor/abi';
// The README's examples, verbatim apart from the imports and the assertions.
import { describe, expect, it } from 'vitest';
import { MS_RDONLY, Posix, ROOT_CREDS, Tmpfs, Vfs } from '@tsvisor/vfs';
import {
  FixtureProcSource,
  KernFs,
  createCgroupfs,
  createProcfs,
  createSysfs,
  dir,
  file,
  symlink,
} from './index.js';
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
    vfs.mount(ctx, ctx.cwd, '/sys/fs/cgroup', createCgroupfs(kernel), MS_RDONLY);

    const p = new Posix(vfs, ROOT_CREDS);
    expect(p.readlink('/proc/self')).toBe('7');
    const fd = p.open('/proc/self/status', OpenFlag.O_RDONLY) as number;
    const buf = new Uint8Array(4096);
    const n = p.read(fd, buf) as number;
    expect(new TextDecoder().decode(buf.subarray(0, n))).toMatch(/^Name:\tpython3\nUmask:\t0022\n/);

    const cat = (path: string): string => {
      const f = p.open(path, OpenFlag.O_RDONLY) as number;
      const n = p.read(f, buf) as number;
      p.close(f);
      return new TextDecoder().decode(buf.subarray(0, n));
    };
    expect(cat('/sys/fs/cgroup/memory.max')).toBe('536870912\n');
    expect(cat('/sys/class/net/eth0/address')).toBe('02:42:ac:11:00:02\n');
    expect(cat('/proc/self/mountstats')).toMatch(/^device overlay mounted on \/ with fstype overlay\n/);
    const attr = p.open('/proc/self/attr/current', OpenFlag.O_RDONLY) as number;
    expect(p.read(attr, buf)).toBe(E.EINVAL);
    expect(readAll(p, '/sys/devices/system/cpu/online')).toBe('0-1\n');
    expect(p.open('/sys/fs/cgroup/pids.max', OpenFlag.O_WRONLY)).toBe(E.EROFS);
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
