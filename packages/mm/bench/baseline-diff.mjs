#!/usr/bin/env node
// Differential check (not a test: it needs git history): this package's build (dist/) and a
// baseline built from git (by default the last commit whose VMA store was a sorted array) run
// the same seeded random operations on address spaces of 3 000 to 9 000 initial mappings; every
// result, errno, host-operation journal, VMA list, counter and fork child must be identical.
//
//   npx tsc -b && node bench/baseline-diff.mjs [--baseline REV] [--runs N] [--steps N] [--seed N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadBaseline } from './baseline.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const opts = { baseline: '5dc8919', runs: 4, steps: 3000, seed: 12345 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const key = argv[i]?.replace(/^--/, '');
  const value = argv[++i];
  if (!key || !(key in opts) || value === undefined) throw new Error(`bad argument ${argv[i - 1]}`);
  opts[key] = key === 'baseline' ? value : Number(value);
}

const tmp = mkdtempSync(join(tmpdir(), 'tsvisor-mm-baseline-'));
try {
  const Old = await loadBaseline(opts.baseline, tmp);
  const New = await import(pathToFileURL(join(pkg, 'dist', 'index.js')).href);
  let seed = opts.seed;
  // mulberry32: the same sequence on every run for one --seed.
  const rnd = (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const P = 4096;
  const BASE = 0x7f0000000000;
  const text = (r) =>
    typeof r === 'object' && r !== null
      ? Array.isArray(r)
        ? JSON.stringify(r.map((x) => [x.offset, x.length]))
        : `E${r.errno}`
      : String(r);
  const view = (as) =>
    as
      .list()
      .map((v) => `${v.start.toString(16)}-${v.end.toString(16)} ${v.flags} ${v.pgoff}`)
      .join('\n');
  const journal = (as) =>
    JSON.stringify(as.drainHostOps().map((o) => ({ ...o, file: o.file ? 'file' : null })));
  const fresh = (M) => {
    const as = new M.AddressSpace({ mmapBase: BASE + 0x100000000 });
    as.initBrk(BASE - 0x100000);
    as.setupStack(BASE + 0x200000000, BASE + 0x1ffffff00);
    return as;
  };
  /** One random call, the same for both models (it may draw more random numbers itself). */
  const call = (as, k, at, len, x) => {
    switch (k) {
      case 0:
        return as.mmap(at, len, x & 3, 0x32, null, 0); // MAP_FIXED
      case 1:
        return as.mmap(rnd(2) ? at : 0, len, x & 3, 0x22 | (x & 4 ? 0x100 : 0), null, 0); // hint, GROWSDOWN
      case 2:
        return as.munmap(at, len);
      case 3:
        return as.mprotect(at, len, x & 7);
      case 4:
        return as.mremap(at, len, len + (x - 3) * P, x & 1, 0);
      case 5:
        return as.mremap(at, len, len, 3, BASE + (((at - BASE) / P + 5000) % 20000) * P);
      case 6:
        return as.madvise(at, len, [4, 10, 11, 16, 17, 18, 19, 1][x]);
      case 7:
        return as.mlock(at, len, x & 1);
      case 8:
        return as.munlock(at, len);
      case 9:
        return as.brk(BASE - 0x100000 + x * 3000);
      case 10:
        return as.expandStack(BASE + 0x200000000 - 0x100000 - x * P);
      default:
        // Placement: 2 MiB-aligned THP sizes, or MAP_32BIT (bottom-up below 2 GiB).
        return x & 1
          ? as.mmap(0, (1 + x) * 0x200000, 3, 0x22, null, 0)
          : as.mmap(rnd(2) ? 0x40000000 + rnd(1000) * P : 0, (1 + x) * P, 3, 0x62, null, 0);
    }
  };
  let steps = 0;
  for (let run = 0; run < opts.runs; run++) {
    const a = fresh(Old);
    const b = fresh(New);
    const initial = 3000 + rnd(6000);
    for (let i = 0; i < initial; i++) {
      // One page at an even page: holes between them keep most VMAs apart.
      const at = BASE + 2 * rnd(10000) * P;
      const len = P;
      const prot = rnd(4);
      a.mmap(at, len, prot, 0x32, null, 0);
      b.mmap(at, len, prot, 0x32, null, 0);
    }
    const startCount = b.mapCount;
    for (let i = 0; i < opts.steps; i++) {
      const k = rnd(12);
      const at = BASE + rnd(20000) * P;
      const len = (1 + rnd(40)) * P;
      const x = rnd(8);
      const s0 = seed;
      const ra = call(a, k, at, len, x);
      seed = s0;
      const rb = call(b, k, at, len, x);
      steps++;
      const where = `run ${run} step ${i} (call ${k})`;
      if (text(ra) !== text(rb)) throw new Error(`${where}: ${text(ra)} before, ${text(rb)} now`);
      if (journal(a) !== journal(b)) throw new Error(`${where}: host operations differ`);
      if ((i % 50 === 0 || k === 1 || k === 11) && view(a) !== view(b))
        throw new Error(`${where}: VMAs differ`);
    }
    if (view(a) !== view(b)) throw new Error(`run ${run}: VMAs differ at the end`);
    if (JSON.stringify(a.stats()) !== JSON.stringify(b.stats()))
      throw new Error(`run ${run}: counters differ`);
    const fa = a.fork();
    const fb = b.fork();
    if (view(fa) !== view(fb) || journal(fa) !== journal(fb))
      throw new Error(`run ${run}: fork children differ`);
    console.log(`run ${run}: ${startCount} VMAs at the start, ${b.mapCount} at the end, identical`);
  }
  console.log(`identical to ${opts.baseline} over ${steps} random calls`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
