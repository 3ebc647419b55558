import { E, isError, OpenFlag } from '@tsvisor/abi';
import { createProcfs } from '@tsvisor/procfs';
import { ROOT_CREDS, Tmpfs, Vfs, createPipe, type FileDescription } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { Kernel } from './kernel.js';
import { CpuState } from './ports/cpu-state.js';
import { SparseMemory } from './ports/sparse-memory.js';
import { KernelProcSource } from './proc-source.js';
import { FsContext } from './task/task.js';
import { ManualTime } from './time/time-source.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A kernel with a tmpfs root, procfs at /proc over the kernel's source, and pid 1 current. */
function boot() {
  const vfs = new Vfs(new Tmpfs());
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
  vfs.mkdirat(ctx, ctx.cwd, '/data', 0o755);
  const kernel = new Kernel<FileDescription>({ time: new ManualTime(), cpuCount: 2, vfs, log: () => {} });
  const init = kernel.spawnInit({
    mm: kernel.newAddressSpace(new SparseMemory(), undefined),
    regs: CpuState.fresh(0x401000, 0x7ff000000000 - 0x100),
    comm: 'init',
    fs: new FsContext(0o022, ctx.cwd, ctx.root),
  });
  kernel.current = init;
  const mounted = vfs.mount(ctx, ctx.cwd, '/proc', createProcfs(new KernelProcSource(kernel)));
  if (isError(mounted)) throw new Error(mounted.name);
  const open = (path: string, flags: number): FileDescription => {
    const f = vfs.openat(ctx, ctx.cwd, path, flags, 0o644);
    if (isError(f)) throw new Error(`${path}: ${f.name}`);
    return f;
  };
  const readAll = (f: FileDescription): string => {
    const buf = new Uint8Array(8192);
    const n = f.read(buf);
    if (typeof n !== 'number') throw new Error(`read: ${String(n)}`);
    return dec.decode(buf.subarray(0, n));
  };
  return { vfs, ctx, kernel, init, open, readAll };
}

describe('procfs over the kernel: magic links', () => {
  it('fd/N shows pipe:[ino] and reopens the pipe; a deleted file is reached through its fd', () => {
    const { vfs, ctx, init, open, readAll } = boot();
    const pipe = createPipe(ROOT_CREDS);
    if (isError(pipe)) throw new Error(pipe.name);
    const [r, w] = pipe;
    expect(init.files.install(r, { limit: 1024 })).toBe(0);
    expect(init.files.install(w, { limit: 1024 })).toBe(1);
    const f = open('/data/gone', OpenFlag.O_CREAT | OpenFlag.O_RDWR);
    expect(f.write(enc.encode('still here'))).toBe(10);
    expect(vfs.unlinkat(ctx, ctx.cwd, '/data/gone', 0)).toBeUndefined();
    expect(init.files.install(f, { limit: 1024 })).toBe(2);

    const ino = w.stat().ino;
    expect(vfs.readlinkat(ctx, ctx.cwd, '/proc/self/fd/1')).toBe(`pipe:[${ino}]`);
    expect(vfs.readlinkat(ctx, ctx.cwd, '/proc/1/fd/2')).toBe('/data/gone (deleted)');
    const w2 = open('/proc/self/fd/1', OpenFlag.O_WRONLY);
    expect(w2.write(enc.encode('via /proc'))).toBe(9);
    expect(readAll(r)).toBe('via /proc');
    expect(readAll(open('/proc/self/fd/2', OpenFlag.O_RDONLY))).toBe('still here');
    // cwd and root jump to the task's own directories.
    expect(isError(vfs.lookupat(ctx, ctx.cwd, '/proc/self/cwd/data', 0))).toBe(false);
    expect(isError(vfs.lookupat(ctx, ctx.cwd, '/proc/1/root/proc/1', 0))).toBe(false);
  });
});

describe('procfs over the kernel: the new files', () => {
  it('/proc/kmsg consumes the syslog ring; syscall reads running for the caller', () => {
    const { kernel, open, readAll } = boot();
    kernel.syslog.append(6, 'hello from the test');
    const f = open('/proc/kmsg', OpenFlag.O_RDONLY | OpenFlag.O_NONBLOCK);
    const text = readAll(f);
    expect(text).toMatch(/^<\d>\[ *\d+\.\d{6}\] /);
    expect(text).toContain('] hello from the test\n');
    expect(kernel.syslog.sizeUnread()).toBe(0);
    expect(f.read(new Uint8Array(100))).toBe(E.EAGAIN);
    expect(readAll(open('/proc/self/syscall', OpenFlag.O_RDONLY))).toBe('running\n');
    expect(readAll(open('/proc/1/smaps_rollup', OpenFlag.O_RDONLY))).toBe('');
  });
});
