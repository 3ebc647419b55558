import { E } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BufferIOSequence,
  Devfs,
  F_ADD_SEALS,
  F_GET_SEALS,
  F_SEAL_GROW,
  MFD_ALLOW_SEALING,
  O_RDWR,
  ROOT_CREDS,
  Tmpfs,
  UserIOSequence,
  Vfs,
  createPipe,
  memfdFsOf,
} from './index.js';
import type { LinuxError } from '@tsvisor/abi';
import type { FileDescription, UserMemoryIO } from './index.js';

/** A fake address space: bytes [0, mapped) exist, everything above faults. Counts every access. */
class FakeMemory implements UserMemoryIO {
  readonly bytes: Uint8Array;
  accesses = 0;
  constructor(readonly mapped: number) {
    this.bytes = new Uint8Array(mapped);
  }
  readInto(addr: number, dst: Uint8Array): number | LinuxError {
    this.accesses++;
    const n = Math.max(0, Math.min(dst.length, this.mapped - addr));
    if (n === 0 && dst.length > 0) return E.EFAULT;
    dst.set(this.bytes.subarray(addr, addr + n));
    return n;
  }
  write(addr: number, src: Uint8Array): number | LinuxError {
    this.accesses++;
    const n = Math.max(0, Math.min(src.length, this.mapped - addr));
    if (n === 0 && src.length > 0) return E.EFAULT;
    this.bytes.set(src.subarray(0, n), addr);
    return n;
  }
}

function pipePair(): [FileDescription, FileDescription] {
  const p = createPipe(ROOT_CREDS);
  if (!Array.isArray(p)) throw new Error(String(p));
  return p;
}

describe('UserIOSequence', () => {
  it('copies across ranges and stops at the first fault with the count before it', () => {
    const mem = new FakeMemory(100);
    const seq = new UserIOSequence(mem, [
      { base: 10, len: 5 },
      { base: 0, len: 0 },
      { base: 95, len: 20 },
    ]);
    expect(seq.length).toBe(25);
    const src = Uint8Array.from({ length: 25 }, (_, i) => i + 1);
    expect(seq.copyOut(src)).toBe(10); // 5 + the 5 mapped bytes of [95, 115)
    expect([...mem.bytes.subarray(10, 15)]).toEqual([1, 2, 3, 4, 5]);
    expect([...mem.bytes.subarray(95, 100)]).toEqual([6, 7, 8, 9, 10]);
    expect(seq.dropFirst(10).copyOut(src)).toBe(E.EFAULT);
    const back = new Uint8Array(25);
    expect(seq.copyIn(back)).toBe(10);
    expect([...back.subarray(0, 10)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seq.takeFirst(7).length).toBe(7);
    expect(seq.zeroOut(25)).toBe(10);
    expect(mem.bytes[12]).toBe(0);
  });

  it('agrees with a flat model for any ranges, drops and takes', () => {
    const range = fc.record({ base: fc.nat(120), len: fc.nat(40) });
    fc.assert(
      fc.property(fc.array(range, { maxLength: 5 }), fc.nat(200), fc.nat(200), (ranges, drop, take) => {
        const mem = new FakeMemory(128);
        const seq = new UserIOSequence(mem, ranges).dropFirst(drop).takeFirst(take);
        // The model: the list of addresses the sequence covers, in order.
        const addrs = ranges.flatMap((r) => Array.from({ length: r.len }, (_, i) => r.base + i));
        const want = addrs.slice(drop).slice(0, take);
        expect(seq.length).toBe(want.length);
        const src = Uint8Array.from(want, (_, i) => (i % 250) + 1);
        const firstFault = want.findIndex((a) => a >= 128);
        const reach = firstFault < 0 ? want.length : firstFault;
        expect(seq.copyOut(src)).toBe(reach === 0 && want.length > 0 ? E.EFAULT : reach);
        // Later ranges may overlap earlier ones: the last write to an address wins.
        const model = new Uint8Array(128);
        want.slice(0, reach).forEach((a, i) => (model[a] = src[i] as number));
        expect([...mem.bytes]).toEqual([...model]);
      }),
    );
  });

  it('has a buffer form that never faults', () => {
    const a = new Uint8Array(3);
    const b = new Uint8Array(4);
    const seq = new BufferIOSequence([a, b]);
    expect(seq.copyOut(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8))).toBe(7);
    expect([...a, ...b]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const out = new Uint8Array(4);
    expect(seq.dropFirst(2).copyIn(out)).toBe(4);
    expect([...out]).toEqual([3, 4, 5, 6]);
  });
});

describe('files reading into and writing from sequences', () => {
  it('pipes keep what could not be delivered', () => {
    const [r, w] = pipePair();
    expect(w.write(Uint8Array.from({ length: 100 }, (_, i) => i))).toBe(100);
    const mem = new FakeMemory(50);
    // Only 50 of the 100 bytes of the pipe's page can land: nothing is consumed.
    expect(r.readIO(new UserIOSequence(mem, [{ base: 0, len: 100 }]))).toBe(E.EFAULT);
    expect(r.ioctl(0x541b, 0n)).toBe(100);
    expect(r.readIO(new UserIOSequence(mem, [{ base: 10, len: 40 }]))).toBe(40);
    expect([...mem.bytes.subarray(10, 14)]).toEqual([0, 1, 2, 3]);
    expect(r.ioctl(0x541b, 0n)).toBe(60);
  });

  it('pipes take whole pages from a faulting source, as pipe_write', () => {
    const [, w] = pipePair();
    const mem = new FakeMemory(6000);
    expect(w.writeIO(new UserIOSequence(mem, [{ base: 0, len: 10000 }]))).toBe(4096);
    expect(w.writeIO(new UserIOSequence(mem, [{ base: 5900, len: 200 }]))).toBe(E.EFAULT);
  });

  it('/dev/null and /dev/full never read the buffer; /dev/zero clears up to a fault', () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/dev', 0o755);
    vfs.mount(ctx, ctx.cwd, '/dev', new Devfs(vfs.devices));
    const open = (name: string): FileDescription =>
      vfs.openat(ctx, ctx.cwd, `/dev${name}`, O_RDWR) as FileDescription;
    const mem = new FakeMemory(10);
    const nowhere = new UserIOSequence(mem, [{ base: 1000, len: 16 }]);
    expect(open('/null').writeIO(nowhere)).toBe(16);
    expect(open('/full').writeIO(nowhere)).toBe(E.ENOSPC);
    expect(mem.accesses).toBe(0);
    mem.bytes.fill(9);
    expect(open('/zero').readIO(new UserIOSequence(mem, [{ base: 4, len: 16 }]))).toBe(6);
    expect([...mem.bytes]).toEqual([9, 9, 9, 9, 0, 0, 0, 0, 0, 0]);
  });

  it('a tmpfs file position moves only over the bytes that arrived', () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    const f = vfs.openat(ctx, ctx.cwd, '/f', O_RDWR | 0o100, 0o600) as FileDescription;
    expect(f.write(new Uint8Array(300).fill(7))).toBe(300);
    f.lseek(0, 0);
    const mem = new FakeMemory(100);
    expect(f.readIO(new UserIOSequence(mem, [{ base: 0, len: 300 }]))).toBe(100);
    expect(f.offset).toBe(100);
    expect(f.preadIO(new UserIOSequence(mem, [{ base: 100, len: 1 }]), 0)).toBe(E.EFAULT);
    expect(f.writeIO(new UserIOSequence(mem, [{ base: 50, len: 100 }]))).toBe(50);
    expect(f.offset).toBe(150);
  });
});

describe('README examples', () => {
  function devVfs(): { vfs: Vfs; ctx: ReturnType<Vfs['rootContext']> } {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    vfs.mkdirat(ctx, ctx.cwd, '/dev', 0o755);
    vfs.mount(ctx, ctx.cwd, '/dev', new Devfs(vfs.devices));
    return { vfs, ctx };
  }

  it('I/O sequences', () => {
    const { vfs, ctx } = devVfs();
    const bytes = new Uint8Array(16).fill(1);
    const memory = {
      readInto: (addr: number, dst: Uint8Array) =>
        addr === 0x1000 ? (dst.set(bytes.subarray(0, dst.length)), Math.min(16, dst.length)) : E.EFAULT,
      write: (addr: number, src: Uint8Array) =>
        addr === 0x1000 ? (bytes.set(src.subarray(0, 16)), Math.min(16, src.length)) : E.EFAULT,
    };
    const devNull = vfs.openat(ctx, ctx.cwd, '/dev/null', O_RDWR) as FileDescription;
    expect(devNull.writeIO(new UserIOSequence(memory, [{ base: 0, len: 10 }]))).toBe(10);
    const zero = vfs.openat(ctx, ctx.cwd, '/dev/zero', O_RDWR) as FileDescription;
    expect(zero.readIO(new UserIOSequence(memory, [{ base: 0x1000, len: 64 }]))).toBe(16);
    expect(bytes.every((b) => b === 0)).toBe(true);
  });

  it('memfds', () => {
    const { vfs, ctx } = devVfs();
    const mfd = memfdFsOf(vfs).create('cache', MFD_ALLOW_SEALING, ROOT_CREDS) as FileDescription;
    expect(mfd.write(new TextEncoder().encode('abc'))).toBe(3);
    expect(mfd.fcntl(F_ADD_SEALS, F_SEAL_GROW)).toBe(0);
    expect(mfd.write(new TextEncoder().encode('d')) === E.EPERM).toBe(true);
    expect(mfd.fcntl(F_GET_SEALS, 0)).toBe(4);
    expect(vfs.pathOf(ctx, mfd.location)).toBe('/memfd:cache (deleted)');
  });
});
