import { fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { afterAll, describe, expect, it } from 'vitest';
import {
  F_ADD_SEALS,
  F_GET_SEALS,
  F_SEAL_EXEC,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  MFD_ALLOW_SEALING,
  MFD_EXEC,
  MFD_NOEXEC_SEAL,
  O_CREAT,
  O_RDONLY,
  O_RDWR,
  ROOT_CREDS,
  Tmpfs,
  Vfs,
  memfdFsOf,
} from '../index.js';
import type { FileDescription, HostMemoryProvider } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvisor-memfd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Host memory from plain temp files; seals are recorded, and `busy` makes F_SEAL_WRITE fail. */
class TempFileMemory implements HostMemoryProvider {
  made: number[] = [];
  sealed: [number, number][] = [];
  busy = false;
  create(name: string): number {
    const fd = openSync(join(dir, `${name}-${this.made.length}`), 'w+');
    this.made.push(fd);
    return fd;
  }
  addSeals(fd: number, seals: number): LinuxError | undefined {
    if (this.busy && (seals & F_SEAL_WRITE) !== 0) return E.EBUSY;
    this.sealed.push([fd, seals]);
    return undefined;
  }
}

function memfd(vfs: Vfs, name: string, flags: number): FileDescription {
  const f = memfdFsOf(vfs).create(name, flags, ROOT_CREDS);
  if (!(typeof f === 'object' && 'impl' in f)) throw new Error(String(f));
  return f;
}

describe('memfd_create', () => {
  const vfs = new Vfs(new Tmpfs());
  const ctx = vfs.rootContext(ROOT_CREDS);

  it('makes an unlinked rwx file named memfd:NAME, sealed with F_SEAL_SEAL unless allowed', () => {
    const f = memfd(vfs, 'buf', 0);
    expect(f.stat().mode).toBe(0o100777);
    expect(f.stat().nlink).toBe(0);
    expect(f.getFlags() & 3).toBe(O_RDWR);
    expect(vfs.pathOf(ctx, f.location)).toBe('/memfd:buf (deleted)');
    expect(f.fcntl(F_GET_SEALS, 0)).toBe(F_SEAL_SEAL);
    expect(f.fcntl(F_ADD_SEALS, F_SEAL_GROW)).toBe(E.EPERM);
    expect(memfd(vfs, 'n', MFD_NOEXEC_SEAL).stat().mode).toBe(0o100666);
    expect(memfd(vfs, 'n', MFD_NOEXEC_SEAL).fcntl(F_GET_SEALS, 0)).toBe(F_SEAL_EXEC);
  });

  it('refuses bad flags and long names with EINVAL', () => {
    const fs = memfdFsOf(vfs);
    expect(fs.create('x', 0x100, ROOT_CREDS)).toBe(E.EINVAL);
    expect(fs.create('x', MFD_EXEC | MFD_NOEXEC_SEAL, ROOT_CREDS)).toBe(E.EINVAL);
    expect(fs.create('a'.repeat(250), 0, ROOT_CREDS)).toBe(E.EINVAL);
    expect(fs.create('a'.repeat(249), 0, ROOT_CREDS)).not.toBe(E.EINVAL);
  });

  it('enforces seals on write, truncate and fallocate', () => {
    const f = memfd(vfs, 's', MFD_ALLOW_SEALING);
    expect(f.fcntl(F_GET_SEALS, 0)).toBe(0);
    expect(f.write(new Uint8Array(100))).toBe(100);
    expect(f.fcntl(F_ADD_SEALS, 0x40)).toBe(E.EINVAL);
    expect(f.fcntl(F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)).toBe(0);
    expect(vfs.ftruncate(f, 50)).toBe(E.EPERM);
    expect(vfs.ftruncate(f, 150)).toBe(E.EPERM);
    expect(vfs.ftruncate(f, 100)).toBeUndefined();
    expect(f.pwrite(new Uint8Array(10), 95)).toBe(E.EPERM);
    expect(f.pwrite(new Uint8Array(10), 90)).toBe(10);
    expect(f.fallocate(1, 90, 20)).toBe(E.EPERM);
    expect(f.fcntl(F_ADD_SEALS, F_SEAL_FUTURE_WRITE)).toBe(0);
    expect(f.pwrite(new Uint8Array(1), 0)).toBe(E.EPERM);
    expect(f.fallocate(3, 0, 10)).toBe(E.EPERM);
    expect(f.fcntl(F_ADD_SEALS, F_SEAL_SEAL)).toBe(0);
    expect(f.fcntl(F_GET_SEALS, 0)).toBe(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL);
    expect(f.fcntl(F_ADD_SEALS, F_SEAL_WRITE)).toBe(E.EPERM);
  });

  it('keeps the exec bits under F_SEAL_EXEC, which brings the write seals on an executable file', () => {
    const f = memfd(vfs, 'x', MFD_ALLOW_SEALING);
    expect(f.fcntl(F_ADD_SEALS, F_SEAL_EXEC)).toBe(0);
    expect(f.fcntl(F_GET_SEALS, 0)).toBe(
      F_SEAL_EXEC | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SHRINK,
    );
    expect(f.location.inode.setattr({ mode: 0o666 })).toBe(E.EPERM);
    expect(f.location.inode.setattr({ mode: 0o4777 })).toBeUndefined();
    const n = memfd(vfs, 'n', MFD_NOEXEC_SEAL);
    expect(n.location.inode.setattr({ mode: 0o766 })).toBe(E.EPERM);
  });

  it('gives EINVAL for seals on an ordinary tmpfs file', () => {
    const f = vfs.openat(ctx, ctx.cwd, '/plain', O_RDWR | O_CREAT, 0o600) as FileDescription;
    expect(f.fcntl(F_GET_SEALS, 0)).toBe(E.EINVAL);
    expect(f.fcntl(F_ADD_SEALS, F_SEAL_GROW)).toBe(E.EINVAL);
  });
});

describe('tmpfs files in host memory', () => {
  it('have no host fd without a provider (standalone VFS)', () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    const f = vfs.openat(ctx, ctx.cwd, '/f', O_RDWR | O_CREAT, 0o600) as FileDescription;
    expect(f.hostFd()).toBeNull();
  });

  it('move their bytes to the provider once, then read and write through it both ways', () => {
    const tmpfs = new Tmpfs();
    const mem = new TempFileMemory();
    tmpfs.hostMemory = mem;
    const vfs = new Vfs(tmpfs);
    const ctx = vfs.rootContext(ROOT_CREDS);
    const f = vfs.openat(ctx, ctx.cwd, '/f', O_RDWR | O_CREAT, 0o600) as FileDescription;
    expect(f.write(new TextEncoder().encode('hello'))).toBe(5);
    expect(f.pwrite(new TextEncoder().encode('far'), 70000)).toBe(3);
    const fd = f.hostFd();
    if (fd === null) throw new Error('no host fd');
    expect(f.hostFd()).toBe(fd);
    expect(mem.made).toEqual([fd]);
    expect(fstatSync(fd).size).toBe(70003);
    const buf = Buffer.alloc(5);
    readSync(fd, buf, 0, 5, 0);
    expect(buf.toString()).toBe('hello');
    // A write through the host side (as a shared mapping does) is what read(2) sees, and back.
    writeSync(fd, Buffer.from('J'), 0, 1, 0);
    const got = new Uint8Array(5);
    expect(f.pread(got, 0)).toBe(5);
    expect(new TextDecoder().decode(got)).toBe('Jello');
    expect(f.pwrite(new TextEncoder().encode('W'), 1)).toBe(1);
    readSync(fd, buf, 0, 5, 0);
    expect(buf.toString()).toBe('JWllo');
    expect(vfs.ftruncate(f, 3)).toBeUndefined();
    expect(fstatSync(fd).size).toBe(3);
    expect(f.stat().size).toBe(3);
    const g = vfs.openat(ctx, ctx.cwd, '/f', O_RDONLY) as FileDescription;
    expect(g.hostFd()).toBe(fd);
  });

  it('give their host memory back when the file is gone (last name and last open)', () => {
    const tmpfs = new Tmpfs();
    tmpfs.hostMemory = new TempFileMemory();
    const vfs = new Vfs(tmpfs);
    const ctx = vfs.rootContext(ROOT_CREDS);
    const f = vfs.openat(ctx, ctx.cwd, '/gone', O_RDWR | O_CREAT, 0o600) as FileDescription;
    const fd = f.hostFd() as number;
    expect(vfs.unlinkat(ctx, ctx.cwd, '/gone', 0)).toBeUndefined();
    expect(() => fstatSync(fd)).not.toThrow(); // the open description still holds it
    f.release();
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
  });

  it('take a memfd seal to the host, where EBUSY comes from', () => {
    const vfs = new Vfs(new Tmpfs());
    const mem = new TempFileMemory();
    memfdFsOf(vfs).hostMemory = mem;
    const f = memfd(vfs, 'm', MFD_ALLOW_SEALING);
    expect(f.fcntl(F_ADD_SEALS, F_SEAL_SHRINK)).toBe(0);
    const fd = f.hostFd();
    expect(mem.sealed).toEqual([[fd, F_SEAL_SHRINK]]);
    mem.busy = true;
    expect(f.fcntl(F_ADD_SEALS, F_SEAL_WRITE)).toBe(E.EBUSY);
    expect(f.fcntl(F_GET_SEALS, 0)).toBe(F_SEAL_SHRINK);
    expect(f.write(new Uint8Array(1))).toBe(1);
  });
});
