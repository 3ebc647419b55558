/**
 * Model-based differential test: random sequences of mmap/munmap/mprotect/mremap/madvise/msync/
 * mlock2 at addresses inside a reserved region run in a real Linux process (src/mm-helper.c) and
 * in the model; results, errnos and the maps lines of the region must be equal after every step.
 */
import { E, isError, Madv, MapFlag, Mlock, Mremap, Msync, Prot } from '@tsvisor/abi';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { PAGE_SIZE } from './constants.js';
import { LinuxOracle, type OracleStep } from './linux-oracle.test-util.js';
import { mapsLine } from './render.js';
import type { HostOp, Word } from './types.js';
import { VM } from './vm-flags.js';

const BASE = 0x100000000000;
const PAGES = 64;
const SIZE = PAGES * PAGE_SIZE;

interface Model {
  as: AddressSpace;
  steps: OracleStep[];
  i: number;
  /** Per step: the host operations it produced (as helper lines) and the model's maps after it. */
  replay: { ops: string[]; maps: string[] }[];
}

let oracle: LinuxOracle;

beforeAll(() => {
  oracle = new LinuxOracle(BASE, SIZE);
});
afterAll(() => oracle?.dispose());

function freshModel(): AddressSpace {
  // mmap_base 1 GiB above the region: what the model maps "elsewhere" stays clear of the
  // helper's own mappings when its host operations are replayed.
  const as = new AddressSpace({
    mmapBase: BASE + 0x40000000,
    limits: { capIpcLock: true, capSysRawio: true },
  });
  const r = as.mmap(
    BASE,
    SIZE,
    Prot.PROT_NONE,
    MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_NORESERVE | MapFlag.MAP_FIXED,
    null,
    0,
  );
  if (r !== BASE) throw new Error('reserve failed');
  as.drainHostOps();
  return as;
}

/** Result text as the helper prints it; addresses outside the region become OUT. */
function resultText(r: number | bigint | { errno: number }): string {
  if (typeof r === 'object') return `-${r.errno}`;
  const n = Number(r);
  return n.toString(16);
}
function normResult(s: string, isAddr: boolean): string {
  if (!isAddr || s.startsWith('-')) return s;
  const n = parseInt(s, 16);
  return n >= BASE && n < BASE + SIZE * 2 ? s : 'OUT';
}
function normMaps(lines: readonly string[]): string[] {
  // Shared anonymous memory lives on shmem inodes whose numbers cannot be predicted.
  return lines.map((l) =>
    l.replace(/ 00:01 \d+ +\/dev\/zero \(deleted\)$/, ' 00:01 SHM /dev/zero (deleted)'),
  );
}

/** The page counters computed from scratch, as Linux's vm_stat_account() defines them. */
function recount(as: AddressSpace): Record<string, number> {
  const c = { totalVm: 0, dataVm: 0, execVm: 0, stackVm: 0, lockedVm: 0, committedVm: 0, mapCount: 0 };
  for (const v of as.list()) {
    const n = (v.end - v.start) / PAGE_SIZE;
    c.mapCount++;
    c.totalVm += n;
    if ((v.flags & (VM.EXEC | VM.WRITE | VM.GROWSDOWN)) === VM.EXEC) c.execVm += n;
    else if (v.flags & VM.GROWSDOWN) c.stackVm += n;
    else if ((v.flags & (VM.WRITE | VM.SHARED | VM.GROWSDOWN)) === VM.WRITE) c.dataVm += n;
    if (v.flags & VM.LOCKED) c.lockedVm += n;
    if (v.flags & VM.ACCOUNT) c.committedVm += n;
  }
  return c;
}

type Kind =
  | 'mmap'
  | 'munmap'
  | 'mprotect'
  | 'mremap'
  | 'madvise'
  | 'msync'
  | 'mlock2'
  | 'munlock'
  | 'mincore'
  | 'touch'
  | 'fork';

class MmCommand implements fc.Command<Model, object> {
  constructor(
    readonly kind: Kind,
    readonly args: readonly (number | bigint)[],
  ) {}
  check(): boolean {
    return true;
  }
  run(m: Model): void {
    const step = m.steps[m.i++];
    if (!step) throw new Error('no oracle step');
    const a = this.args;
    const as = m.as;
    let r: number | { errno: number } = 0;
    let isAddr = false;
    let shown = as;
    switch (this.kind) {
      case 'fork':
        shown = as.fork();
        break;
      case 'mmap': {
        const fi = Number(a[4]);
        const file = fi < 0 ? null : oracle.files[fi as 0 | 1];
        r = as.mmap(a[0]!, a[1]!, a[2]!, a[3]!, file, a[5]!);
        isAddr = true;
        break;
      }
      case 'munmap':
        r = as.munmap(a[0]!, a[1]!);
        break;
      case 'mprotect':
        r = as.mprotect(a[0]!, a[1]!, a[2]!);
        break;
      case 'mremap':
        r = as.mremap(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!);
        isAddr = true;
        break;
      case 'madvise':
        r = as.madvise(a[0]!, a[1]!, a[2]!);
        break;
      case 'msync': {
        const x = as.msync(a[0]!, a[1]!, a[2]!);
        r = isError(x) ? x : 0;
        break;
      }
      case 'mlock2':
        r = as.mlock(a[0]!, a[1]!, a[2]!);
        break;
      case 'munlock':
        r = as.munlock(a[0]!, a[1]!);
        break;
      case 'touch': {
        // A read fault: the kernel grows a growsdown VMA below, then checks access (x86: any of
        // read, write or exec permits a read).
        const addr = Number(a[0]);
        const grown = as.expandStack(addr);
        const v = as.findVma(addr);
        r = !isError(grown) && v && v.flags & 7 ? 0 : E.EFAULT;
        break;
      }
      case 'mincore': {
        // The model checks the range; the helper's answer is 0 on success.
        const x = as.mincore(a[0]!, a[1]!);
        r = isError(x) ? x : 0;
        break;
      }
    }
    expect(normResult(resultText(r), isAddr), `result of ${this.toString()}`).toBe(
      normResult(step.result, isAddr),
    );
    const mine = shown
      .list()
      .filter((v) => v.end > BASE && v.start < BASE + SIZE)
      .map((v) => mapsLine(shown, v));
    expect(normMaps(mine), `maps after ${this.toString()}`).toEqual(normMaps(step.maps));
    const parentMaps = as
      .list()
      .filter((v) => v.end > BASE && v.start < BASE + SIZE)
      .map((v) => mapsLine(as, v));
    m.replay.push({ ops: as.drainHostOps().map(hostOpLine), maps: parentMaps });
    // The incrementally kept page counters agree with a recount.
    for (const space of [as, shown]) {
      const { totalVm, dataVm, execVm, stackVm, lockedVm, committedVm, mapCount } = space.stats();
      expect({ totalVm, dataVm, execVm, stackVm, lockedVm, committedVm, mapCount }).toEqual(recount(space));
    }
  }
  toString(): string {
    if (this.kind === 'mmap') {
      const [addr, len, prot, flags, fi, off] = this.args as [Word, Word, Word, Word, number, Word];
      return `mmap ${addr.toString(16)} ${len.toString(16)} ${prot.toString(16)} ${flags.toString(16)} ${fi} ${off.toString(16)}`;
    }
    return `${this.kind} ${this.args.map((x) => x.toString(16)).join(' ')}`;
  }
}

const page = fc.integer({ min: 0, max: PAGES - 1 });
const addrArb = fc.oneof(
  { weight: 20, arbitrary: page.map((p) => BASE + p * PAGE_SIZE) },
  { weight: 1, arbitrary: page.map((p) => BASE + p * PAGE_SIZE + 0x10) },
);
const lenArb = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 1, max: 12 }).map((n) => n * PAGE_SIZE) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3 * PAGE_SIZE }) },
  { weight: 1, arbitrary: fc.constant(0) },
);
const protArb = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0, max: 7 }) },
  { weight: 1, arbitrary: fc.constantFrom(Prot.PROT_SEM | 1, Prot.PROT_GROWSDOWN | 3, 0x10, 0x30000000) },
);

const mmapArb = fc
  .record({
    where: fc.constantFrom('fixed', 'fixed', 'fixed', 'noreplace', 'hint', 'zero'),
    addr: addrArb,
    len: lenArb,
    prot: protArb,
    type: fc.constantFrom(
      MapFlag.MAP_PRIVATE,
      MapFlag.MAP_PRIVATE,
      MapFlag.MAP_PRIVATE,
      MapFlag.MAP_SHARED,
      MapFlag.MAP_SHARED_VALIDATE,
      0,
      MapFlag.MAP_DROPPABLE,
    ),
    file: fc.constantFrom(-1, -1, -1, 0, 1),
    extra: fc.constantFrom(
      0,
      0,
      0,
      0,
      MapFlag.MAP_GROWSDOWN,
      MapFlag.MAP_NORESERVE,
      MapFlag.MAP_STACK,
      MapFlag.MAP_32BIT,
      0x800000,
    ),
    // 'same' maps file page n at region page n, so separate mappings have contiguous offsets.
    off: fc.oneof(
      { weight: 10, arbitrary: fc.integer({ min: 0, max: 40 }).map((p) => p * PAGE_SIZE) },
      { weight: 10, arbitrary: fc.constant('same' as const) },
      { weight: 1, arbitrary: fc.constant(5) },
    ),
  })
  .map(({ where, addr, len, prot, type, file, extra, off }) => {
    let flags = type | extra | (file < 0 ? MapFlag.MAP_ANONYMOUS : 0);
    if (where === 'fixed') flags |= MapFlag.MAP_FIXED;
    if (where === 'noreplace') flags |= MapFlag.MAP_FIXED_NOREPLACE;
    const offset = off === 'same' ? Math.floor((addr - BASE) / PAGE_SIZE) * PAGE_SIZE : off;
    return new MmCommand('mmap', [where === 'zero' ? 0 : addr, len, prot, flags, file, offset]);
  });

const adviceArb = fc.constantFrom(
  Madv.MADV_NORMAL,
  Madv.MADV_RANDOM,
  Madv.MADV_SEQUENTIAL,
  Madv.MADV_WILLNEED,
  Madv.MADV_DONTNEED,
  Madv.MADV_FREE,
  Madv.MADV_REMOVE,
  Madv.MADV_DONTFORK,
  Madv.MADV_DOFORK,
  Madv.MADV_MERGEABLE,
  Madv.MADV_UNMERGEABLE,
  Madv.MADV_HUGEPAGE,
  Madv.MADV_NOHUGEPAGE,
  Madv.MADV_DONTDUMP,
  Madv.MADV_DODUMP,
  Madv.MADV_WIPEONFORK,
  Madv.MADV_KEEPONFORK,
  Madv.MADV_COLD,
  Madv.MADV_PAGEOUT,
  77,
);

const commandArbs = [
  mmapArb,
  mmapArb,
  fc.tuple(addrArb, lenArb).map(([a, l]) => new MmCommand('munmap', [a, l])),
  fc.tuple(addrArb, lenArb, protArb).map(([a, l, p]) => new MmCommand('mprotect', [a, l, p])),
  fc.tuple(addrArb, lenArb, protArb).map(([a, l, p]) => new MmCommand('mprotect', [a, l, p])),
  fc
    .tuple(
      addrArb,
      lenArb,
      lenArb,
      fc.constantFrom(
        0,
        0,
        Mremap.MREMAP_MAYMOVE,
        Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED,
        Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED | Mremap.MREMAP_DONTUNMAP,
        Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_DONTUNMAP,
        Mremap.MREMAP_FIXED,
        8,
      ),
      addrArb,
    )
    .map(([a, o, n, f, na]) => new MmCommand('mremap', [a, o, n, f, na])),
  fc.tuple(addrArb, lenArb, adviceArb).map(([a, l, adv]) => new MmCommand('madvise', [a, l, adv])),
  fc.tuple(addrArb, lenArb, adviceArb).map(([a, l, adv]) => new MmCommand('madvise', [a, l, adv])),
  fc
    .tuple(
      addrArb,
      lenArb,
      fc.constantFrom(
        Msync.MS_ASYNC,
        Msync.MS_SYNC,
        Msync.MS_INVALIDATE,
        Msync.MS_ASYNC | Msync.MS_SYNC,
        0,
        8,
      ),
    )
    .map(([a, l, f]) => new MmCommand('msync', [a, l, f])),
  fc.tuple(addrArb, lenArb).map(([a, l]) => new MmCommand('mlock2', [a, l, Mlock.MLOCK_ONFAULT])),
  fc.tuple(addrArb, lenArb).map(([a, l]) => new MmCommand('munlock', [a, l])),
  fc.constant(null).map(() => new MmCommand('fork', [])),
  fc.tuple(addrArb, lenArb).map(([a, l]) => new MmCommand('mincore', [a, l])),
  // Faults in the region, often just below a MAP_GROWSDOWN mapping.
  page.map((p) => new MmCommand('touch', [BASE + p * PAGE_SIZE + 8])),
  fc
    .tuple(page, fc.integer({ min: 1, max: 8 }), protArb)
    .map(
      ([p, n, prot]) =>
        new MmCommand('mmap', [
          BASE + p * PAGE_SIZE,
          n * PAGE_SIZE,
          prot & 7,
          MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED | MapFlag.MAP_GROWSDOWN,
          -1,
          0,
        ]),
    ),
];

function check(cmds: Iterable<fc.Command<Model, object>>): void {
  const lines = [...cmds].map((c) => c.toString());
  const steps = oracle.run(lines);
  const model: Model = { as: freshModel(), steps, i: 0, replay: [] };
  fc.modelRun(() => ({ model, real: {} }), cmds);
  // The host-operation contract: a second process that starts from the same reservation and
  // applies only the journaled operations ends up with the model's pages, step by step.
  const replayLines = model.replay.flatMap((r) => [...r.ops, 'nop']);
  const replayed = oracle.run(replayLines);
  let at = 0;
  for (const [n, r] of model.replay.entries()) {
    for (const op of r.ops) {
      expect(replayed[at]?.result, `host op ${op} (step ${n})`).not.toMatch(/^-/);
      at++;
    }
    const host = replayed[at++];
    expect(pageView(host?.maps ?? []), `host pages after step ${n}: ${lines[n]}`).toEqual(pageView(r.maps));
  }
}

/** A HostOp as a helper command line. */
function hostOpLine(op: HostOp): string {
  const hex = (n: number): string => n.toString(16);
  switch (op.op) {
    case 'mmap': {
      const fi = op.file === oracle.files[0] ? 0 : op.file === oracle.files[1] ? 1 : -1;
      const flags =
        MapFlag.MAP_FIXED |
        (op.shared ? MapFlag.MAP_SHARED : MapFlag.MAP_PRIVATE) |
        (fi < 0 ? MapFlag.MAP_ANONYMOUS : 0);
      return `mmap ${hex(op.addr)} ${hex(op.length)} ${hex(op.prot)} ${hex(flags)} ${fi} ${hex(op.offset)}`;
    }
    case 'munmap':
      return `munmap ${hex(op.addr)} ${hex(op.length)}`;
    case 'mprotect':
      return `mprotect ${hex(op.addr)} ${hex(op.length)} ${hex(op.prot)}`;
    case 'madvise':
      return `madvise ${hex(op.addr)} ${hex(op.length)} ${hex(op.advice)}`;
    case 'mremap': {
      const flags =
        op.newAddr === op.oldAddr
          ? 0
          : Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED | (op.dontUnmap ? Mremap.MREMAP_DONTUNMAP : 0);
      return `mremap ${hex(op.oldAddr)} ${hex(op.oldLength)} ${hex(op.newLength)} ${hex(flags)} ${hex(op.newAddr)}`;
    }
  }
}

/**
 * Maps lines reduced to what the pages are, whatever the VMA boundaries: runs of pages with the
 * same permissions and backing (and contiguous file offsets) joined. The host may split and
 * merge differently, since flags such as VM_NORESERVE or VM_NOHUGEPAGE never reach it.
 */
function pageView(lines: readonly string[]): string[] {
  const out: { s: number; e: number; key: string; off: number; file: boolean }[] = [];
  for (const l of lines) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(l);
    if (!m) throw new Error(`bad maps line ${l}`);
    const [, s, e, perms, off, dev, ino, name] = m as unknown as string[];
    const shm = name === '/dev/zero (deleted)';
    const file = ino !== '0' && !shm;
    const cur = {
      s: Math.max(parseInt(s!, 16), BASE),
      e: Math.min(parseInt(e!, 16), BASE + SIZE),
      key: `${perms} ${shm ? 'shm' : `${dev} ${ino} ${name}`}`,
      off: parseInt(off!, 16) + (file ? Math.max(0, BASE - parseInt(s!, 16)) : 0),
      file,
    };
    const last = out[out.length - 1];
    if (
      last &&
      last.e === cur.s &&
      last.key === cur.key &&
      (!cur.file || last.off + (last.e - last.s) === cur.off)
    ) {
      last.e = cur.e;
    } else out.push(cur);
  }
  return out.map(
    (r) => `${r.s.toString(16)}-${r.e.toString(16)} ${r.key}${r.file ? ` @${r.off.toString(16)}` : ''}`,
  );
}

describe('differential against Linux', () => {
  it('mm syscall sequences give the same results and maps as the host kernel', () => {
    fc.assert(
      fc.property(
        fc.commands(commandArbs, { maxCommands: Number(process.env['MM_DIFF_CMDS'] ?? 14) }),
        (cmds) => check(cmds),
      ),
      { numRuns: Number(process.env['MM_DIFF_RUNS'] ?? 60) },
    );
  });
});

/** Fixed sequences for cases random generation reaches rarely. */
describe('differential scenarios', () => {
  const at = (page: number): number => BASE + page * PAGE_SIZE;
  const P = PAGE_SIZE;
  const fixedFile = MapFlag.MAP_PRIVATE | MapFlag.MAP_FIXED;
  it.each<[string, MmCommand[]]>([
    [
      'a private file mapping made read-only keeps VM_ACCOUNT and does not merge',
      [
        new MmCommand('mmap', [at(0), P, 3, fixedFile, 0, 0]),
        new MmCommand('mprotect', [at(0), P, 1]),
        new MmCommand('mmap', [at(1), P, 1, fixedFile, 0, P]),
        new MmCommand('mmap', [at(2), P, 1, fixedFile, 0, 2 * P]),
      ],
    ],
    [
      'mappings of two opens of one file never merge; contiguous offsets of one open do',
      [
        new MmCommand('mmap', [at(4), P, 1, fixedFile, 0, 0]),
        new MmCommand('mmap', [at(5), P, 1, fixedFile, 1, P]),
        new MmCommand('mmap', [at(6), P, 1, fixedFile, 1, 2 * P]),
        new MmCommand('mmap', [at(7), P, 1, fixedFile, 1, 9 * P]),
      ],
    ],
    [
      'shared file mappings, read-only open, msync',
      [
        new MmCommand('mmap', [at(8), 2 * P, 3, MapFlag.MAP_SHARED | MapFlag.MAP_FIXED, 1, 0]),
        new MmCommand('mmap', [at(8), 2 * P, 1, MapFlag.MAP_SHARED | MapFlag.MAP_FIXED, 1, 0]),
        new MmCommand('mprotect', [at(8), P, 3]),
        new MmCommand('mmap', [at(10), 2 * P, 3, MapFlag.MAP_SHARED | MapFlag.MAP_FIXED, 0, 2 * P]),
        new MmCommand('msync', [at(8), 4 * P, Msync.MS_SYNC]),
        new MmCommand('madvise', [at(10), P, Madv.MADV_REMOVE]),
        new MmCommand('madvise', [at(8), P, Madv.MADV_REMOVE]),
      ],
    ],
    [
      'mremap of a file mapping keeps its offset and merges at the destination',
      [
        new MmCommand('mmap', [at(20), 4 * P, 1, fixedFile, 0, 0]),
        new MmCommand('mremap', [at(22), 2 * P, 2 * P, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, at(30)]),
        new MmCommand('mmap', [at(28), 2 * P, 1, fixedFile, 0, 0]),
        new MmCommand('mremap', [at(30), 2 * P, 4 * P, 0, 0]),
        new MmCommand('mremap', [
          at(30),
          2 * P,
          2 * P,
          Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED | Mremap.MREMAP_DONTUNMAP,
          at(40),
        ]),
      ],
    ],
    [
      'mprotect PROT_GROWSDOWN extends to the start of a growsdown mapping',
      [
        new MmCommand('mmap', [
          at(10),
          8 * P,
          3,
          MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED | MapFlag.MAP_GROWSDOWN,
          -1,
          0,
        ]),
        new MmCommand('mprotect', [at(14), P, 1 | Prot.PROT_GROWSDOWN]),
        new MmCommand('mprotect', [at(30), P, 1 | Prot.PROT_GROWSDOWN]),
        new MmCommand('mmap', [at(9), P, 3, MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS, -1, 0]),
      ],
    ],
    [
      'shared anonymous mappings, split and moved, stay one object',
      [
        new MmCommand('mmap', [
          at(0),
          4 * P,
          3,
          MapFlag.MAP_SHARED | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
          -1,
          0,
        ]),
        new MmCommand('mmap', [
          at(4),
          4 * P,
          3,
          MapFlag.MAP_SHARED | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
          -1,
          0,
        ]),
        new MmCommand('mprotect', [at(1), P, 1]),
        new MmCommand('mremap', [at(2), 2 * P, 2 * P, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, at(1)]),
        new MmCommand('mremap', [at(0), 0, 2 * P, Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, at(20)]),
      ],
    ],
    [
      'fork drops DONTFORK ranges, keeps WIPEONFORK ones, unlocks without merging',
      [
        new MmCommand('mmap', [
          at(0),
          8 * P,
          3,
          MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
          -1,
          0,
        ]),
        new MmCommand('madvise', [at(1), P, Madv.MADV_DONTFORK]),
        new MmCommand('madvise', [at(3), P, Madv.MADV_WIPEONFORK]),
        new MmCommand('mlock2', [at(5), P, Mlock.MLOCK_ONFAULT]),
        new MmCommand('fork', []),
      ],
    ],
    [
      'mlock of PROT_NONE memory locks it but fails to fault it in: ENOMEM',
      [
        new MmCommand('mmap', [
          at(2),
          2 * P,
          1,
          MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
          -1,
          0,
        ]),
        new MmCommand('mlock2', [at(0), 4 * P, 0]),
        new MmCommand('munlock', [at(0), 8 * P]),
      ],
    ],
    [
      'a fault below a MAP_GROWSDOWN mapping grows it, except into the guard gap',
      [
        new MmCommand('munmap', [at(10), 10 * P]),
        new MmCommand('mmap', [
          at(20),
          4 * P,
          3,
          MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED | MapFlag.MAP_GROWSDOWN,
          -1,
          0,
        ]),
        new MmCommand('touch', [at(15) + 8]),
        new MmCommand('mmap', [
          at(10),
          P,
          3,
          MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
          -1,
          0,
        ]),
        new MmCommand('touch', [at(12) + 8]),
        new MmCommand('mprotect', [at(10), P, 0]),
        new MmCommand('touch', [at(12) + 8]),
      ],
    ],
  ])('%s', (_name, cmds) => {
    check(cmds);
  });
});

/**
 * Bad input: zero and huge lengths, unaligned and top-of-address-space addresses, junk flags and
 * offsets. Addresses outside the region are only ones no call can succeed at (so the helper
 * cannot clobber itself); madvise keeps to advice that is harmless across the whole helper.
 */
describe('differential bad input', () => {
  const U = 2n ** 64n;
  const T = 0x7ffffffff000n;
  const region = (p: number): bigint => BigInt(BASE + p * PAGE_SIZE);
  const addr = fc.oneof(
    { weight: 4, arbitrary: page.map(region) },
    { weight: 1, arbitrary: page.map((p) => region(p) + 1n) },
    { weight: 2, arbitrary: fc.constantFrom(T, T + 1n, 2n ** 47n, 2n ** 63n, U - 4096n, U - 1n) },
  );
  const length = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 4 }).map((n) => BigInt(n * PAGE_SIZE)) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(1n, 4095n, T, T + 1n, 2n ** 47n, 2n ** 63n, U - 4096n, U - 4095n, U - 1n),
    },
  );
  const junk32 = fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(BigInt);
  // Never populate or lock pages: the model treats memory as untouched.
  const mflags = fc
    .oneof(
      junk32,
      fc.constantFrom(0x22n, 0x32n, 0x21n, 0x02n, 0x01n, 0x03n, 0x100022n, U - 1n, 2n ** 40n + 0x22n),
    )
    .map((f) => f & ~BigInt(0x8000 | 0x2000 | 0x10000))
    // hugetlbfs is not modelled (see the README): no MAP_HUGETLB.
    .map((f) => f & ~0x40000n);
  const prot = fc.oneof(junk32, fc.constantFrom(0n, 1n, 3n, 7n, 0x01000003n, 0x02000001n, 2n ** 33n + 1n));
  const offset = fc.constantFrom(0n, 4096n, 1n, 2n ** 63n, U - 4096n, T);
  const arbs = [
    fc
      .tuple(addr, length, prot, mflags, fc.constantFrom(-1, -1, 0, 1), offset)
      .map(([a, l, p, f, fi, o]) => new MmCommand('mmap', [a, l, p, f, fi, o])),
    fc.tuple(addr, length).map(([a, l]) => new MmCommand('munmap', [a, l])),
    fc.tuple(addr, length, prot).map(([a, l, p]) => new MmCommand('mprotect', [a, l, p])),
    fc
      .tuple(
        addr,
        length,
        length,
        fc.oneof(junk32, fc.constantFrom(0n, 1n, 3n, 5n, 7n)),
        fc.oneof(addr, page.map(region)),
      )
      .map(([a, o, n, f, na]) => new MmCommand('mremap', [a, o, n, f, na])),
    fc
      .tuple(addr, length, fc.constantFrom(0n, 77n, U - 1n, 2n ** 32n, Madv.MADV_WILLNEED))
      .map(([a, l, adv]) => new MmCommand('madvise', [a, l, adv])),
    fc
      .tuple(addr, length, fc.oneof(junk32, fc.constantFrom(1n, 4n)))
      .map(([a, l, f]) => new MmCommand('msync', [a, l, f])),
    fc.tuple(addr, length).map(([a, l]) => new MmCommand('mincore', [a, l])),
    fc
      .tuple(addr, length, fc.oneof(junk32, fc.constantFrom(0n, 1n)))
      .map(([a, l, f]) => new MmCommand('mlock2', [a, l, f])),
    fc.tuple(addr, length).map(([a, l]) => new MmCommand('munlock', [a, l])),
  ];
  it('gives the errnos and results of the host kernel', () => {
    fc.assert(
      fc.property(fc.commands(arbs, { maxCommands: 10 }), (cmds) => check(cmds)),
      { numRuns: Number(process.env['MM_DIFF_RUNS'] ?? 40) },
    );
  });
});
