import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  Devfs,
  FileDescriptionImpl,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  ROOT_CREDS,
  SEEK_END,
  Tmpfs,
  Vfs,
  makedev,
} from '../index.js';
import type { FileDescription } from '../index.js';

function setup(): { vfs: Vfs; devfs: Devfs; ctx: ReturnType<Vfs['rootContext']> } {
  const vfs = new Vfs(new Tmpfs());
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/dev', 0o755);
  const devfs = new Devfs(vfs.devices);
  const m = vfs.mount(ctx, ctx.cwd, '/dev', devfs);
  if (isError(m)) throw new Error(String(m));
  return { vfs, devfs, ctx };
}

/** What the host kernel answers for a device: write result, read bytes, lseek(0, SEEK_END). */
function hostBehaviour(path: string): { write: number | string; read: number[]; stat: [number, number] } {
  const fd = openSync(path, 'r+');
  let write: number | string;
  try {
    write = writeSync(fd, Buffer.from('abc'));
  } catch (e) {
    write = (e as NodeJS.ErrnoException).code ?? 'ERR';
  }
  const buf = Buffer.alloc(4, 7);
  const n = readSync(fd, buf, 0, 4, null);
  closeSync(fd);
  const st = statSync(path);
  return { write, read: [...buf.subarray(0, n)], stat: [st.mode, st.rdev] };
}

describe('devfs', () => {
  it('behaves like the host /dev for the memory devices', () => {
    const { vfs, ctx } = setup();
    for (const name of ['null', 'zero', 'full']) {
      const host = hostBehaviour(`/dev/${name}`);
      const f = vfs.openat(ctx, ctx.cwd, `/dev/${name}`, O_RDWR) as FileDescription;
      const w = f.write(new Uint8Array([97, 98, 99]));
      const buf = new Uint8Array(4).fill(7);
      const n = f.read(buf) as number;
      const st = vfs.statat(ctx, ctx.cwd, `/dev/${name}`, 0);
      if (isError(st)) throw new Error(String(st));
      expect({
        write: isError(w) ? w.name : w,
        read: [...buf.subarray(0, n)],
        stat: [st.mode, st.rdev],
      }).toEqual(host);
      expect(f.lseek(100, SEEK_END)).toBe(0);
    }
  });

  it('reads random bytes and has the fd symlinks', () => {
    const { vfs, ctx } = setup();
    const f = vfs.openat(ctx, ctx.cwd, '/dev/urandom', O_RDONLY) as FileDescription;
    const buf = new Uint8Array(200000);
    expect(f.read(buf)).toBe(200000);
    expect(buf.some((b) => b !== 0)).toBe(true);
    expect(vfs.readlinkat(ctx, ctx.cwd, '/dev/stdout')).toBe('/proc/self/fd/1');
    expect(vfs.readlinkat(ctx, ctx.cwd, '/dev/fd')).toBe('/proc/self/fd');
    const shm = vfs.statat(ctx, ctx.cwd, '/dev/shm', 0);
    expect(isError(shm) ? shm : shm.mode).toBe(0o41777);
  });

  it('opens /dev/tty through the kernel hook, ENXIO without one', () => {
    const { vfs, devfs, ctx } = setup();
    expect(vfs.openat(ctx, ctx.cwd, '/dev/tty', O_RDWR)).toBe(E.ENXIO);
    class Tty extends FileDescriptionImpl {
      override write(src: Uint8Array): number {
        return src.length;
      }
    }
    devfs.setTty(() => new Tty());
    const f = vfs.openat(ctx, ctx.cwd, '/dev/tty', O_WRONLY) as FileDescription;
    expect(f.write(new Uint8Array(5))).toBe(5);
  });

  it('lets the kernel add device nodes, and device nodes work from any filesystem', () => {
    const { vfs, devfs, ctx } = setup();
    class Ptmx extends FileDescriptionImpl {
      override read(): number {
        return 42;
      }
    }
    expect(devfs.addDevice('ptmx', 0o666, 5, 2, { open: () => new Ptmx() })).toBeUndefined();
    const f = vfs.openat(ctx, ctx.cwd, '/dev/ptmx', O_RDONLY) as FileDescription;
    expect(f.read(new Uint8Array(1))).toBe(42);
    expect(vfs.mknodat(ctx, ctx.cwd, '/mynull', 0o20666, makedev(1, 3))).toBeUndefined();
    const g = vfs.openat(ctx, ctx.cwd, '/mynull', O_RDONLY) as FileDescription;
    expect(g.read(new Uint8Array(1))).toBe(0);
    expect(vfs.mknodat(ctx, ctx.cwd, '/nodev', 0o20666, makedev(200, 1))).toBeUndefined();
    expect(vfs.openat(ctx, ctx.cwd, '/nodev', O_RDONLY)).toBe(E.ENXIO);
  });
});

describe('Devfs.addNode', () => {
  it('makes a root-owned character node for a driver registered elsewhere', () => {
    const { vfs, devfs, ctx } = setup();
    expect(devfs.addNode('kmsg', 0o644, 1, 11)).toBeUndefined();
    const st = vfs.statat(ctx, ctx.cwd, '/dev/kmsg', 0);
    if (isError(st)) throw new Error(String(st));
    expect(st.mode).toBe(0o20644);
    expect(st.rdev).toBe(makedev(1, 11));
    expect(st.uid).toBe(0);
    expect(devfs.addNode('kmsg', 0o644, 1, 11)).toBe(E.EEXIST);
    expect(devfs.addNode('nodir/x', 0o644, 1, 11)).toBe(E.ENOENT);
    // No driver registered yet: opening answers as Linux does for an unknown char device.
    expect(vfs.openat(ctx, ctx.cwd, '/dev/kmsg', O_RDONLY)).toBe(E.ENXIO);
  });
});
