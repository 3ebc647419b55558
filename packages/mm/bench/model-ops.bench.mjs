#!/usr/bin/env node
// Benchmark (not a test): address-space model operations per second with 10 000 VMAs, this
// package's build (dist/) against a baseline built from git (by default the last commit whose
// VMA store was a sorted array), measured in one run so the ratios compare like with like.
//
//   npm run bench -w @tsvisor/mm                       (builds dist first)
//   node bench/model-ops.bench.mjs [--baseline REV] [--ms N] [--vmas N] [--json]
//
// --baseline  git revision whose packages/mm/src is the "before" column (default 5dc8919);
//             `none` measures dist/ alone
// --ms        time spent per implementation and row, after a warm-up (default 300); each
//             figure is the best of 7 interleaved turns
// --vmas      VMAs in the populated address space (default 10000)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { abiDist, loadBaseline } from './baseline.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');

function parseArgs(argv) {
  const opts = { baseline: '5dc8919', ms: 300, vmas: 10_000, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--baseline') opts.baseline = next();
    else if (a === '--ms') opts.ms = Number(next());
    else if (a === '--vmas') opts.vmas = Number(next());
    else if (a === '--json') opts.json = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(opts.ms > 0) || !(opts.vmas >= 4)) throw new Error('--ms and --vmas must be positive');
  return opts;
}

/** Runs `fn` repeatedly for `ms` milliseconds; returns operations per second. */
function opsPerSecond(fn, ms) {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

/**
 * Measures each implementation's operation in ROUNDS short turns, interleaved so that load from
 * elsewhere on a shared machine hits all of them alike, after a warm-up (JIT tiers); reports the
 * best turn of each (noise only ever makes a turn slower).
 */
const ROUNDS = 7;
function measure(fns, ms) {
  for (const fn of fns) opsPerSecond(fn, ms / 3);
  const best = fns.map(() => 0);
  for (let r = 0; r < ROUNDS; r++)
    fns.forEach((fn, i) => {
      best[i] = Math.max(best[i], opsPerSecond(fn, ms / ROUNDS));
    });
  return best;
}

/** The rows: each builds its address space, then returns the operation to repeat. */
function rows(mm, abi, N) {
  const { AddressSpace, PAGE_SIZE } = mm;
  const { Prot, MapFlag } = abi;
  const RW = Prot.PROT_READ | Prot.PROT_WRITE;
  const ANON = MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS;
  const ok = (r) => {
    if (typeof r === 'object' && r !== null) throw new Error(`model answered ${r.name ?? r}`);
    return r;
  };
  const BASE = 0x100000000000;
  /** N two-page VMAs at BASE, alternating protections so that neighbours do not merge. */
  const packed = () => {
    const as = new AddressSpace();
    for (let i = 0; i < N; i++)
      ok(
        as.mmap(
          BASE + i * 2 * PAGE_SIZE,
          2 * PAGE_SIZE,
          i % 2 ? Prot.PROT_READ : RW,
          ANON | MapFlag.MAP_FIXED,
          null,
          0,
        ),
      );
    as.drainHostOps();
    return as;
  };
  /** N one-page VMAs right below mmap_base, each followed by a one-page hole. */
  const holey = () => {
    const as = new AddressSpace();
    for (let i = 1; i <= N; i++)
      ok(as.mmap(as.mmapBase - i * 2 * PAGE_SIZE, PAGE_SIZE, RW, ANON | MapFlag.MAP_FIXED, null, 0));
    as.drainHostOps();
    return as;
  };
  let k = 0;
  return [
    [
      'mmap + munmap, address chosen top-down',
      () => {
        const as = packed();
        return () => {
          const a = ok(as.mmap(0, PAGE_SIZE, Prot.PROT_READ, ANON, null, 0));
          ok(as.munmap(a, PAGE_SIZE));
          as.drainHostOps();
        };
      },
    ],
    [
      'mmap + munmap, first fitting hole below all VMAs',
      () => {
        const as = holey();
        return () => {
          const a = ok(as.mmap(0, 2 * PAGE_SIZE, Prot.PROT_READ, ANON, null, 0));
          ok(as.munmap(a, 2 * PAGE_SIZE));
          as.drainHostOps();
        };
      },
    ],
    [
      'mprotect split + merge back',
      () => {
        const as = packed();
        return () => {
          const at = BASE + ((k++ % (N / 2)) * 2 * 2 + 0) * PAGE_SIZE; // an RW VMA
          ok(as.mprotect(at, PAGE_SIZE, Prot.PROT_READ));
          ok(as.mprotect(at, PAGE_SIZE, RW));
          as.drainHostOps();
        };
      },
    ],
    [
      'munmap a page + MAP_FIXED it back',
      () => {
        const as = packed();
        return () => {
          const at = BASE + ((k++ * 7919) % (2 * N)) * PAGE_SIZE;
          const prot = as.findVma(at).flags & 7;
          ok(as.munmap(at, PAGE_SIZE));
          ok(as.mmap(at, PAGE_SIZE, prot, ANON | MapFlag.MAP_FIXED, null, 0));
          as.drainHostOps();
        };
      },
    ],
    [
      'findVma',
      () => {
        const as = packed();
        return () => {
          as.findVma(BASE + ((k++ * 7919) % (2 * N)) * PAGE_SIZE + 5);
        };
      },
    ],
  ];
}

const opts = parseArgs(process.argv.slice(2));
const abi = await import(abiDist);
const impls = [];
let tmp;
if (opts.baseline !== 'none') {
  tmp = mkdtempSync(join(tmpdir(), 'tsvisor-mm-baseline-'));
  impls.push({ name: `before (${opts.baseline})`, mm: await loadBaseline(opts.baseline, tmp) });
}
impls.push({ name: 'after (dist)', mm: await import(pathToFileURL(join(pkg, 'dist', 'index.js')).href) });
try {
  const results = [];
  const names = rows(impls[0].mm, abi, opts.vmas).map(([name]) => name);
  for (let r = 0; r < names.length; r++) {
    const row = { row: names[r], opsPerSecond: {} };
    const fns = impls.map((impl) => rows(impl.mm, abi, opts.vmas)[r][1]());
    measure(fns, opts.ms).forEach((v, i) => {
      row.opsPerSecond[impls[i].name] = v;
    });
    results.push(row);
  }
  if (opts.json) {
    console.log(JSON.stringify({ vmas: opts.vmas, ms: opts.ms, results }, null, 2));
  } else {
    const w = Math.max(...names.map((n) => n.length));
    const cols = impls.map((i) => i.name);
    console.log(`${opts.vmas} VMAs, ops/s`);
    console.log(
      `${''.padEnd(w)}  ${cols.map((c) => c.padStart(16)).join('  ')}${impls.length > 1 ? '  after/before' : ''}`,
    );
    for (const row of results) {
      const v = cols.map((c) => row.opsPerSecond[c]);
      const ratio = v.length > 1 ? `  ${(v[1] / v[0]).toFixed(1).padStart(11)}x` : '';
      console.log(
        `${row.row.padEnd(w)}  ${v.map((x) => Math.round(x).toLocaleString('en').padStart(16)).join('  ')}${ratio}`,
      );
    }
  }
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
