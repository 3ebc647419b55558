import { E, isError, type LinuxError, Madv, MapFlag, Mcl, Mremap, Msync, Prot } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { AddressSpace, mmapBaseFor } from './address-space.js';
import { PAGE_SIZE, STACK_GUARD_GAP, TASK_SIZE } from './constants.js';
import { renderMaps } from './render.js';
import type { MapFile } from './types.js';
import { VM } from './vm-flags.js';

const RW = Prot.PROT_READ | Prot.PROT_WRITE;
const ANON = MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS;
const MB = 1024 * 1024;

function fileOf(path: string, writable = true): MapFile {
  return {
    mapReadable: true,
    mapWritable: writable,
    mapDevMajor: 8,
    mapDevMinor: 1,
    mapInode: 1234,
    mapPath: () => path,
  };
}

function ok<T>(v: T): Exclude<T, LinuxError> {
  if (isError(v)) throw new Error(`unexpected ${v.name}`);
  return v as Exclude<T, LinuxError>;
}

describe('AddressSpace: README example', () => {
  it('maps, splits with mprotect and journals host operations', () => {
    const as = new AddressSpace();
    const addr = as.mmap(
      0,
      8192,
      Prot.PROT_READ | Prot.PROT_WRITE,
      MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS,
      null,
      0,
    );
    if (isError(addr)) throw addr;
    expect(as.mprotect(addr, 4096, Prot.PROT_READ)).toBe(0);
    expect(as.mapCount).toBe(2);
    expect(as.drainHostOps()).toEqual([
      { op: 'mmap', addr, length: 8192, prot: RW, shared: false, file: null, offset: 0, populate: false },
      { op: 'mprotect', addr, length: 4096, prot: Prot.PROT_READ },
    ]);
    expect(as.drainHostOps()).toEqual([]);
  });
});

describe('address choice', () => {
  it('allocates top-down from mmap_base, honours a free hint, skips a taken one', () => {
    const as = new AddressSpace({ mmapBase: 0x7f0000000000 });
    const a = ok(as.mmap(0, 3 * PAGE_SIZE, RW, ANON, null, 0));
    expect(a).toBe(0x7f0000000000 - 3 * PAGE_SIZE);
    const b = ok(as.mmap(0, PAGE_SIZE, Prot.PROT_READ, ANON, null, 0));
    expect(b).toBe(a - PAGE_SIZE);
    expect(ok(as.mmap(0x10000000, PAGE_SIZE, RW, ANON, null, 0))).toBe(0x10000000);
    // The hint is taken now: the search goes top-down again, below b.
    expect(ok(as.mmap(0x10000000, PAGE_SIZE, RW, ANON, null, 0))).toBe(b - PAGE_SIZE);
    // Unaligned hints are rounded down.
    expect(ok(as.mmap(0x20000123, PAGE_SIZE, RW, ANON, null, 0))).toBe(0x20000000);
  });

  it('aligns anonymous mappings of whole 2 MiB multiples on 2 MiB', () => {
    const as = new AddressSpace({ mmapBase: 0x7f0000123000 });
    const a = ok(as.mmap(0, 4 * MB, RW, ANON, null, 0));
    expect(a % (2 * MB)).toBe(0);
    expect(a + 4 * MB).toBeLessThanOrEqual(0x7f0000123000);
  });

  it('places MAP_32BIT mappings between 1 and 2 GiB, bottom-up', () => {
    const as = new AddressSpace();
    expect(ok(as.mmap(0, PAGE_SIZE, RW, ANON | MapFlag.MAP_32BIT, null, 0))).toBe(0x40000000);
    expect(ok(as.mmap(0, PAGE_SIZE, RW, ANON | MapFlag.MAP_32BIT, null, 0))).toBe(0x40001000);
  });

  it('keeps the stack guard gap free below a growsdown mapping', () => {
    const as = new AddressSpace({ mmapBase: 0x7f0000000000 });
    const stackTop = 0x600000000000;
    ok(
      as.mmap(
        stackTop - 16 * PAGE_SIZE,
        16 * PAGE_SIZE,
        RW,
        ANON | MapFlag.MAP_FIXED | MapFlag.MAP_GROWSDOWN,
        null,
        0,
      ),
    );
    const hint = stackTop - 16 * PAGE_SIZE - 2 * PAGE_SIZE;
    const got = ok(as.mmap(hint, PAGE_SIZE, RW, ANON, null, 0));
    expect(got).not.toBe(hint);
    const below = stackTop - 16 * PAGE_SIZE - STACK_GUARD_GAP - PAGE_SIZE;
    expect(ok(as.mmap(below, PAGE_SIZE, RW, ANON, null, 0))).toBe(below);
  });

  it('computes mmap_base like Linux', () => {
    // 8 MiB stack, no randomisation: gap = 8 MiB + 16 GiB pad + 1 MiB guard.
    expect(mmapBaseFor(8 * MB, 0)).toBe(TASK_SIZE - (8 * MB + 0x3fffff * PAGE_SIZE + MB));
    expect(mmapBaseFor(8 * MB, 0, false)).toBe(TASK_SIZE - 128 * MB);
    expect(mmapBaseFor(Infinity, 0)).toBe(
      Math.ceil((TASK_SIZE - Math.floor(TASK_SIZE / 6) * 5) / PAGE_SIZE) * PAGE_SIZE,
    );
  });
});

describe('mmap argument checks', () => {
  const as = new AddressSpace();
  it.each([
    ['zero length', () => as.mmap(0, 0, RW, ANON, null, 0), E.EINVAL],
    ['unaligned offset', () => as.mmap(0, PAGE_SIZE, RW, ANON, null, 5), E.EINVAL],
    ['no type', () => as.mmap(0, PAGE_SIZE, RW, MapFlag.MAP_ANONYMOUS, null, 0), E.EINVAL],
    ['length that wraps', () => as.mmap(0, 2n ** 64n - 1n, RW, ANON, null, 0), E.ENOMEM],
    ['length above TASK_SIZE', () => as.mmap(0, TASK_SIZE + PAGE_SIZE, RW, ANON, null, 0), E.ENOMEM],
    [
      'fixed unaligned',
      () => as.mmap(0x10000001, PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0),
      E.EINVAL,
    ],
    [
      'fixed past TASK_SIZE',
      () => as.mmap(TASK_SIZE - PAGE_SIZE, 2 * PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0),
      E.ENOMEM,
    ],
    [
      'fixed below mmap_min_addr',
      () => as.mmap(0, PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0),
      E.EPERM,
    ],
    ['bad fd', () => as.mmap(0, PAGE_SIZE, RW, MapFlag.MAP_PRIVATE, E.EBADF, 0), E.EBADF],
    ['exact 64-bit offset', () => as.mmap(0, PAGE_SIZE, RW, ANON, null, 2n ** 60n + 1n), E.EINVAL],
  ])('%s', (_name, call, err) => {
    expect(call()).toBe(err);
  });

  it('checks file modes like Linux', () => {
    const ro = fileOf('/ro', false);
    expect(as.mmap(0, PAGE_SIZE, RW, MapFlag.MAP_SHARED, ro, 0)).toBe(E.EACCES);
    expect(isError(as.mmap(0, PAGE_SIZE, RW, MapFlag.MAP_PRIVATE, ro, 0))).toBe(false);
    const noexec = { ...fileOf('/n'), mapNoexec: true };
    expect(as.mmap(0, PAGE_SIZE, Prot.PROT_READ | Prot.PROT_EXEC, MapFlag.MAP_PRIVATE, noexec, 0)).toBe(
      E.EPERM,
    );
    const pipe = { ...fileOf('/p'), mapError: E.ENODEV };
    expect(as.mmap(0, PAGE_SIZE, Prot.PROT_READ, MapFlag.MAP_PRIVATE, pipe, 0)).toBe(E.ENODEV);
    const unreadable = { ...fileOf('/w'), mapReadable: false };
    expect(as.mmap(0, PAGE_SIZE, Prot.PROT_READ, MapFlag.MAP_PRIVATE, unreadable, 0)).toBe(E.EACCES);
  });

  it('MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses with EEXIST', () => {
    const s = new AddressSpace();
    ok(s.mmap(0x10000000, 4 * PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    expect(s.mmap(0x10001000, PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED_NOREPLACE, null, 0)).toBe(E.EEXIST);
    expect(s.mmap(0x10001000, PAGE_SIZE, Prot.PROT_READ, ANON | MapFlag.MAP_FIXED, null, 0)).toBe(0x10001000);
    expect(s.list().map((v) => [v.start, v.end, v.flags & 7])).toEqual([
      [0x10000000, 0x10001000, RW],
      [0x10001000, 0x10002000, Prot.PROT_READ],
      [0x10002000, 0x10004000, RW],
    ]);
    // The replacement is one host mmap; the host's MAP_FIXED does the unmapping.
    expect(s.drainHostOps().map((o) => o.op)).toEqual(['mmap', 'mmap']);
  });
});

describe('limits', () => {
  it('RLIMIT_AS refuses growth with ENOMEM, counting what MAP_FIXED replaces', () => {
    const as = new AddressSpace({ limits: { as: 4 * PAGE_SIZE } });
    ok(as.mmap(0x10000000, 4 * PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    expect(as.mmap(0, PAGE_SIZE, RW, ANON, null, 0)).toBe(E.ENOMEM);
    expect(as.mmap(0x10000000, 4 * PAGE_SIZE, Prot.PROT_READ, ANON | MapFlag.MAP_FIXED, null, 0)).toBe(
      0x10000000,
    );
    expect(as.mremap(0x10000000, 4 * PAGE_SIZE, 5 * PAGE_SIZE, Mremap.MREMAP_MAYMOVE, 0)).toBe(E.ENOMEM);
  });

  it('RLIMIT_DATA limits private writable mappings', () => {
    const as = new AddressSpace({ limits: { data: 2 * PAGE_SIZE } });
    expect(as.mmap(0, 3 * PAGE_SIZE, RW, ANON, null, 0)).toBe(E.ENOMEM);
    expect(isError(as.mmap(0, 3 * PAGE_SIZE, Prot.PROT_READ, ANON, null, 0))).toBe(false);
  });

  it('vm.max_map_count: new mappings and splits fail with ENOMEM', () => {
    const as = new AddressSpace({ maxMapCount: 3 });
    ok(as.mmap(0x10000000, 8 * PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    expect(as.mprotect(0x10001000, PAGE_SIZE, Prot.PROT_READ)).toBe(0); // 3 VMAs
    expect(as.mprotect(0x10004000, PAGE_SIZE, Prot.PROT_READ)).toBe(E.ENOMEM);
    expect(as.munmap(0x10005000, PAGE_SIZE)).toBe(E.ENOMEM);
    // Unmapping a whole VMA or an edge needs no new VMA.
    expect(as.munmap(0x10001000, PAGE_SIZE)).toBe(0);
    expect(as.mapCount).toBe(2);
  });

  it('mlock accounting: RLIMIT_MEMLOCK, mlockall, munlockall', () => {
    const as = new AddressSpace({ limits: { memlock: 2 * PAGE_SIZE } });
    const a = ok(as.mmap(0, 4 * PAGE_SIZE, RW, ANON, null, 0));
    expect(as.mlock(a, 3 * PAGE_SIZE)).toBe(E.ENOMEM);
    expect(as.mlock(a + 1, PAGE_SIZE)).toBe(0); // rounds to pages [a, a+2 pages)
    expect(as.stats().lockedVm).toBe(2);
    expect(as.mapCount).toBe(2);
    expect(as.munlock(a, 4 * PAGE_SIZE)).toBe(0);
    expect(as.stats().lockedVm).toBe(0);
    expect(as.mapCount).toBe(1);
    expect(as.mlockall(Mcl.MCL_CURRENT)).toBe(E.ENOMEM);
    expect(as.mlockall(0)).toBe(E.EINVAL);
    const big = new AddressSpace({ limits: { capIpcLock: true } });
    ok(big.mmap(0, 4 * PAGE_SIZE, RW, ANON, null, 0));
    expect(big.mlockall(Mcl.MCL_CURRENT | Mcl.MCL_FUTURE)).toBe(0);
    const later = ok(big.mmap(0, PAGE_SIZE, RW, ANON, null, 0));
    expect((big.findVma(later)?.flags ?? 0) & VM.LOCKED).toBe(VM.LOCKED);
    expect(big.stats().lockedVm).toBe(5);
    expect(big.munlockall()).toBe(0);
    expect(big.stats().lockedVm).toBe(0);
  });
});

describe('brk', () => {
  function withBrk(): AddressSpace {
    const as = new AddressSpace();
    as.initBrk(0x555555560000);
    return as;
  }

  it('grows and shrinks by pages, returning the requested break', () => {
    const as = withBrk();
    expect(as.brk(0)).toBe(0x555555560000);
    expect(as.brk(0x555555560001)).toBe(0x555555560001);
    expect(as.list().map((v) => [v.start, v.end])).toEqual([[0x555555560000, 0x555555561000]]);
    expect(as.brk(0x555555580000)).toBe(0x555555580000);
    expect(as.mapCount).toBe(1);
    expect(renderMaps(as)).toContain('[heap]');
    expect(as.brk(0x555555570800)).toBe(0x555555570800);
    expect(as.list().map((v) => [v.start, v.end])).toEqual([[0x555555560000, 0x555555571000]]);
    expect(as.drainHostOps().map((o) => o.op)).toEqual(['mmap', 'mmap', 'munmap']);
  });

  it('returns the old break below start_brk, past RLIMIT_DATA, or into another mapping', () => {
    const as = withBrk();
    expect(as.brk(0x555555550000)).toBe(0x555555560000);
    as.limits.data = 8 * PAGE_SIZE;
    expect(as.brk(0x555555560000 + 9 * PAGE_SIZE)).toBe(0x555555560000);
    as.limits.data = Infinity;
    ok(as.mmap(0x555555570000, PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    // A new break must leave one page free below the next mapping.
    expect(as.brk(0x555555570000)).toBe(0x555555560000);
    expect(as.brk(0x55555556f000)).toBe(0x55555556f000);
  });
});

describe('stack', () => {
  it('sets up [stack] with 128 KiB below the arguments, grows down to RLIMIT_STACK', () => {
    const as = new AddressSpace({ limits: { stack: MB } });
    const top = 0x7ffffffde000 + 0x21000;
    const base = ok(as.setupStack(top, top - 0x800));
    expect(base).toBe(top - PAGE_SIZE - 128 * 1024);
    expect(renderMaps(as)).toMatch(/rw-p 00000000 00:00 0 +\[stack\]\n$/);
    expect(as.stats().stackVm).toBe(33);
    expect(as.expandStack(base - 10)).toBe(0);
    expect(as.findVma(base - 10)?.start).toBe(base - PAGE_SIZE);
    expect(as.expandStack(top - MB - 1)).toBe(E.ENOMEM);
    expect(as.expandStack(top - MB)).toBe(0);
    expect(as.drainHostOps().map((o) => o.op)).toEqual(['mmap', 'mmap', 'mmap']);
  });

  it('will not grow into the guard gap of the mapping below', () => {
    const as = new AddressSpace({ limits: { stack: Infinity } });
    ok(as.mmap(0x10000000, 4 * PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED | MapFlag.MAP_GROWSDOWN, null, 0));
    ok(as.mmap(0x0f000000 - PAGE_SIZE, PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    expect(as.expandStack(0x0f000000 + STACK_GUARD_GAP - 1)).toBe(E.ENOMEM);
    expect(as.expandStack(0x0f000000 + STACK_GUARD_GAP)).toBe(0);
    expect(as.findVma(0x0f000000 + STACK_GUARD_GAP)?.end).toBe(0x10004000);
  });
});

describe('fork and exec', () => {
  it('fork copies, drops DONTFORK, empties WIPEONFORK, unlocks', () => {
    const as = new AddressSpace({ limits: { capIpcLock: true } });
    const a = ok(as.mmap(0x10000000, 4 * PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    expect(as.madvise(a, PAGE_SIZE, Madv.MADV_DONTFORK)).toBe(0);
    expect(as.madvise(a + 2 * PAGE_SIZE, PAGE_SIZE, Madv.MADV_WIPEONFORK)).toBe(0);
    expect(as.mlock(a + 3 * PAGE_SIZE, PAGE_SIZE)).toBe(0);
    const child = as.fork();
    expect(child.list().map((v) => [v.start - a, v.end - a])).toEqual([
      [PAGE_SIZE, 2 * PAGE_SIZE],
      [2 * PAGE_SIZE, 3 * PAGE_SIZE],
      [3 * PAGE_SIZE, 4 * PAGE_SIZE],
    ]);
    expect(child.stats()).toMatchObject({ totalVm: 3, peakVm: 4, lockedVm: 0 });
    expect(child.drainHostOps()).toEqual([
      { op: 'munmap', addr: a, length: PAGE_SIZE },
      {
        op: 'mmap',
        addr: a + 2 * PAGE_SIZE,
        length: PAGE_SIZE,
        prot: RW,
        shared: false,
        file: null,
        offset: 0,
        populate: false,
      },
    ]);
    // The parent is unchanged.
    expect(as.mapCount).toBe(4);
  });

  it('exec gives a fresh space whose journal unmaps the old one', () => {
    const as = new AddressSpace();
    ok(as.mmap(0x10000000, PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    ok(as.mmap(0x10001000, PAGE_SIZE, Prot.PROT_READ, ANON | MapFlag.MAP_FIXED, null, 0));
    const fresh = as.exec();
    expect(fresh.mapCount).toBe(0);
    expect(fresh.drainHostOps()).toEqual([{ op: 'munmap', addr: 0x10000000, length: 2 * PAGE_SIZE }]);
  });
});

describe('host operations', () => {
  it('munmap reports only the mapped extent; madvise DONTNEED passes through', () => {
    const as = new AddressSpace();
    ok(as.mmap(0x10002000, 2 * PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    as.drainHostOps();
    expect(as.madvise(0x10002000, 2 * PAGE_SIZE, Madv.MADV_DONTNEED)).toBe(0);
    expect(as.munmap(0x10000000, 16 * PAGE_SIZE)).toBe(0);
    expect(as.munmap(0x10000000, 16 * PAGE_SIZE)).toBe(0);
    expect(as.drainHostOps()).toEqual([
      { op: 'madvise', addr: 0x10002000, length: 2 * PAGE_SIZE, advice: Madv.MADV_DONTNEED },
      { op: 'munmap', addr: 0x10002000, length: 2 * PAGE_SIZE },
    ]);
  });

  it('mremap grows in place or moves, as one host mremap', () => {
    const as = new AddressSpace({ mmapBase: 0x7f0000000000 });
    ok(as.mmap(0x10000000, PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    expect(as.mremap(0x10000000, PAGE_SIZE, 2 * PAGE_SIZE, 0, 0)).toBe(0x10000000);
    ok(as.mmap(0x10002000, PAGE_SIZE, Prot.PROT_NONE, ANON | MapFlag.MAP_FIXED, null, 0));
    expect(as.mremap(0x10000000, 2 * PAGE_SIZE, 3 * PAGE_SIZE, 0, 0)).toBe(E.ENOMEM);
    const moved = ok(as.mremap(0x10000000, 2 * PAGE_SIZE, 3 * PAGE_SIZE, Mremap.MREMAP_MAYMOVE, 0));
    expect(moved).toBe(0x7f0000000000 - 3 * PAGE_SIZE);
    const ops = as.drainHostOps().filter((o) => o.op === 'mremap');
    expect(ops).toEqual([
      {
        op: 'mremap',
        oldAddr: 0x10000000,
        oldLength: PAGE_SIZE,
        newAddr: 0x10000000,
        newLength: 2 * PAGE_SIZE,
        dontUnmap: false,
      },
      {
        op: 'mremap',
        oldAddr: 0x10000000,
        oldLength: 2 * PAGE_SIZE,
        newAddr: moved,
        newLength: 3 * PAGE_SIZE,
        dontUnmap: false,
      },
    ]);
  });

  it('shared anonymous memory gets one shmem object, shared across fork', () => {
    const as = new AddressSpace();
    const a = ok(as.mmap(0, PAGE_SIZE, RW, MapFlag.MAP_SHARED | MapFlag.MAP_ANONYMOUS, null, 0));
    const op = as.drainHostOps()[0];
    expect(op).toMatchObject({ op: 'mmap', shared: true });
    const file = op?.op === 'mmap' ? op.file : null;
    expect(file?.mapPath()).toBe('/dev/zero (deleted)');
    expect(as.fork().findVma(a)?.file).toBe(file);
  });
});

describe('msync, mincore, isAccessible', () => {
  it('msync(MS_SYNC) lists the shared file ranges to write back; holes give ENOMEM', () => {
    const as = new AddressSpace();
    const f = fileOf('/data');
    ok(as.mmap(0x10000000, 2 * PAGE_SIZE, RW, MapFlag.MAP_SHARED | MapFlag.MAP_FIXED, f, 3 * PAGE_SIZE));
    expect(as.msync(0x10000000, 2 * PAGE_SIZE, Msync.MS_SYNC)).toEqual([
      { file: f, offset: 3 * PAGE_SIZE, length: 2 * PAGE_SIZE },
    ]);
    expect(as.msync(0x10000000, 3 * PAGE_SIZE, Msync.MS_SYNC)).toBe(E.ENOMEM);
    expect(as.mincore(0x10000000, 5000)).toBe(2);
    expect(as.mincore(0x10000000, 3 * PAGE_SIZE)).toBe(E.ENOMEM);
    expect(as.isAccessible(0x10000010, 100, Prot.PROT_WRITE)).toBe(true);
    expect(as.isAccessible(0x10001000, 2 * PAGE_SIZE, Prot.PROT_READ)).toBe(false);
    ok(as.mmap(0x10002000, PAGE_SIZE, Prot.PROT_WRITE, ANON | MapFlag.MAP_FIXED, null, 0));
    ok(as.mmap(0x10003000, PAGE_SIZE, Prot.PROT_NONE, ANON | MapFlag.MAP_FIXED, null, 0));
    expect(as.isAccessible(0x10001000, 2 * PAGE_SIZE, Prot.PROT_READ)).toBe(true); // write-only reads on x86
    expect(as.isAccessible(0x10003000, 1, Prot.PROT_READ)).toBe(false);
    expect(as.isAccessible(0x10000000, 1, Prot.PROT_WRITE | Prot.PROT_READ)).toBe(true);
    expect(as.isAccessible(0xfffffffff000, 1, Prot.PROT_READ)).toBe(false);
  });
});

describe('lookup scales', () => {
  it('finds VMAs among 10 000 in O(log n)', () => {
    const as = new AddressSpace();
    for (let i = 0; i < 10_000; i++) {
      ok(
        as.mmap(
          0x10000000 + 2 * i * PAGE_SIZE,
          PAGE_SIZE,
          i % 2 ? RW : Prot.PROT_READ,
          ANON | MapFlag.MAP_FIXED,
          null,
          0,
        ),
      );
    }
    expect(as.mapCount).toBe(10_000);
    expect(as.findVma(0x10000000 + 2 * 5000 * PAGE_SIZE + 5)?.start).toBe(0x10000000 + 2 * 5000 * PAGE_SIZE);
    expect(as.findVma(0x10000000 + (2 * 5000 + 1) * PAGE_SIZE)).toBeUndefined();
  });
});

describe('anonymous VMA names', () => {
  it('names split and merge VMAs; file mappings refuse with EBADF', () => {
    const as = new AddressSpace();
    ok(as.mmap(0x10000000, 4 * PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    expect(as.setAnonName(0x10001000, 2 * PAGE_SIZE, 'cache')).toBe(0);
    expect(as.list().map((v) => v.anonName)).toEqual([undefined, 'cache', undefined]);
    expect(renderMaps(as)).toContain('[anon:cache]');
    expect(as.setAnonName(0x10000000, 4 * PAGE_SIZE, undefined)).toBe(0);
    expect(as.mapCount).toBe(1);
    ok(
      as.mmap(
        0x20000000,
        PAGE_SIZE,
        Prot.PROT_READ,
        MapFlag.MAP_PRIVATE | MapFlag.MAP_FIXED,
        fileOf('/f'),
        0,
      ),
    );
    expect(as.setAnonName(0x20000000, PAGE_SIZE, 'x')).toBe(E.EBADF);
    expect(as.setAnonName(0x30000000, PAGE_SIZE, 'x')).toBe(E.ENOMEM);
    expect(as.setAnonName(0x10000001, PAGE_SIZE, 'x')).toBe(E.EINVAL);
  });
});

describe('write-sealed files (memfd with F_SEAL_WRITE / F_SEAL_FUTURE_WRITE)', () => {
  const sealed: MapFile = { ...fileOf('/memfd:s (deleted)'), mapWriteSealed: true };
  const SHARED = MapFlag.MAP_SHARED;

  it('refuses a shared writable mapping with EPERM and records nothing', () => {
    const as = new AddressSpace();
    expect(as.mmap(0, PAGE_SIZE, RW, SHARED, sealed, 0)).toBe(E.EPERM);
    expect(as.mapCount).toBe(0);
    expect(as.drainHostOps()).toEqual([]);
  });

  it('lets a shared read-only mapping in, but never makes it writable', () => {
    const as = new AddressSpace();
    const a = ok(as.mmap(0, PAGE_SIZE, Prot.PROT_READ, SHARED, sealed, 0));
    expect(as.mprotect(a, PAGE_SIZE, RW)).toBe(E.EACCES);
  });

  it('leaves private mappings alone: they are copy-on-write', () => {
    const as = new AddressSpace();
    const a = ok(as.mmap(0, PAGE_SIZE, RW, MapFlag.MAP_PRIVATE, sealed, 0));
    expect(as.mprotect(a, PAGE_SIZE, Prot.PROT_READ)).toBe(0);
    expect(as.mprotect(a, PAGE_SIZE, RW)).toBe(0);
  });
});
