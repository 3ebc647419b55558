// Benchmark (not a test): tsvisor's tmpfs through the `Posix` facade against memfs and
// @zenfs/core (InMemory) through their own synchronous fs APIs, measured in one run so the ratios
// compare like with like. One line per row: ops/s (or time) for each library, then how many
// times faster tsvisor is than each (> 1: tsvisor is faster).
//   npm run bench -w @tsvisor/vfs          (builds dist first)
//   BENCH_SEQ_MIB=256 npm run bench -w @tsvisor/vfs   (smaller sequential row)
//   BENCH_MS=300: time spent per library and row on the fast rows.
//   BENCH_ROUNDS=5: timed passes per library of the sequential row (the best is reported).
import { performance } from 'node:perf_hooks';
import { fs as zenfs } from '@zenfs/core';
import { memfs } from 'memfs';
import {
  O_CREAT,
  O_DIRECTORY,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  Posix,
  ROOT_CREDS,
  Tmpfs,
  Vfs,
} from '../dist/index.js';

const SEQ_MIB = Number(process.env.BENCH_SEQ_MIB ?? 1024);
const MS = Number(process.env.BENCH_MS ?? 300);
const DIR_ENTRIES = 10_000;
const CHUNK = 1 << 20;

/** The tree every library gets: a 4 KiB file, a 10 000-entry directory, a deep path. */
const DEEP = Array.from({ length: 20 }, (_, i) => `c${i}`);
/** 20 components plus the leaf; component 10 is a symlink to its sibling `c10`. */
const DEEP_PATH = '/' + DEEP.map((c, i) => (i === 10 ? 's' : c)).join('/') + '/leaf';

/** A library under test: the operations of each row, in that library's own API. */
function tsvisor() {
  const p = new Posix(new Vfs(new Tmpfs()), ROOT_CREDS);
  const ok = (r) => {
    if (typeof r === 'object' && r !== null && 'errno' in r) throw new Error(`tsvisor: ${r.name}`);
    return r;
  };
  const buf4k = new Uint8Array(4096);
  return {
    name: 'tsvisor',
    mkdir: (path) => ok(p.mkdir(path, 0o755)),
    symlink: (target, path) => ok(p.symlink(target, path)),
    writeFile: (path, data) => {
      const fd = ok(p.open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644));
      ok(p.write(fd, data));
      p.close(fd);
    },
    touch: (path) => p.close(ok(p.open(path, O_CREAT | O_WRONLY, 0o644))),
    stat: (path) => ok(p.stat(path)),
    read4k: (path) => {
      const fd = ok(p.open(path, O_RDONLY));
      ok(p.read(fd, buf4k));
      p.close(fd);
    },
    createUnlink: (path) => {
      p.close(ok(p.open(path, O_CREAT | O_RDWR, 0o644)));
      ok(p.unlink(path));
    },
    readdir: (path) => {
      const fd = ok(p.open(path, O_RDONLY | O_DIRECTORY));
      // getdents64 also lists `.` and `..`, which readdirSync leaves out.
      const n = ok(p.getdents(fd)).length - 2;
      p.close(fd);
      return n;
    },
    sequential: (path, chunk, count) => {
      const fd = ok(p.open(path, O_CREAT | O_RDWR | O_TRUNC, 0o644));
      for (let i = 0; i < count; i++) ok(p.write(fd, chunk));
      const back = new Uint8Array(chunk.length);
      let got = 0;
      for (let i = 0; i < count; i++) got += ok(p.pread(fd, back, i * chunk.length));
      p.close(fd);
      ok(p.unlink(path));
      return got;
    },
  };
}

/** memfs and ZenFS share node:fs's synchronous API. */
function nodeLike(name, fs) {
  const buf4k = new Uint8Array(4096);
  return {
    name,
    mkdir: (path) => fs.mkdirSync(path),
    symlink: (target, path) => fs.symlinkSync(target, path),
    writeFile: (path, data) => fs.writeFileSync(path, data),
    touch: (path) => fs.closeSync(fs.openSync(path, 'w')),
    stat: (path) => fs.statSync(path),
    read4k: (path) => {
      const fd = fs.openSync(path, 'r');
      fs.readSync(fd, buf4k, 0, 4096, null);
      fs.closeSync(fd);
    },
    createUnlink: (path) => {
      fs.closeSync(fs.openSync(path, 'w+'));
      fs.unlinkSync(path);
    },
    readdir: (path) => fs.readdirSync(path).length,
    sequential: (path, chunk, count) => {
      const fd = fs.openSync(path, 'w+');
      for (let i = 0; i < count; i++) fs.writeSync(fd, chunk, 0, chunk.length, null);
      const back = new Uint8Array(chunk.length);
      let got = 0;
      for (let i = 0; i < count; i++) got += fs.readSync(fd, back, 0, back.length, i * chunk.length);
      fs.closeSync(fd);
      fs.unlinkSync(path);
      return got;
    },
  };
}

function populate(lib) {
  lib.mkdir('/d');
  lib.writeFile('/d/file', new Uint8Array(4096).fill(1));
  lib.mkdir('/big');
  for (let i = 0; i < DIR_ENTRIES; i++) lib.touch(`/big/f${i}`);
  let dir = '';
  for (const c of DEEP) {
    dir += `/${c}`;
    lib.mkdir(dir);
  }
  lib.touch(`${dir}/leaf`);
  lib.symlink('c10', '/' + DEEP.slice(0, 10).join('/') + '/s');
}

/** Ops per second of `fn`, run for about MS milliseconds after a warm-up. */
function rate(fn) {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MS) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

function slowRate(fn, min = 5) {
  fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (n < min || t - t0 < MS) {
    fn();
    n++;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

const libs = [tsvisor(), nodeLike('memfs', memfs().fs), nodeLike('zenfs', zenfs)];
for (const lib of libs) populate(lib);
for (const lib of libs) {
  if (lib.readdir('/big') !== DIR_ENTRIES) throw new Error(`${lib.name}: readdir count`);
  if (lib.stat(DEEP_PATH) === undefined) throw new Error(`${lib.name}: deep path`);
}

const fmtRate = (r) =>
  r >= 1e5
    ? `${(r / 1e6).toFixed(2)}M ops/s`
    : r >= 100
      ? `${(r / 1e3).toFixed(1)}k ops/s`
      : `${r.toFixed(1)} ops/s`;

const rows = [
  ['stat of an existing file', (l) => rate(() => l.stat('/d/file'))],
  ['open+read 4 KiB+close', (l) => rate(() => l.read4k('/d/file'))],
  ['create+unlink', (l) => rate(() => l.createUnlink('/d/tmp'))],
  [`readdir of ${DIR_ENTRIES} entries`, (l) => slowRate(() => l.readdir('/big'))],
  [`deep path walk (${DEEP.length} dirs, one a symlink, + file)`, (l) => rate(() => l.stat(DEEP_PATH))],
];

console.log(`node ${process.version}, ${MS} ms per library and row; ratio = tsvisor speed / other speed`);
for (const [label, run] of rows) {
  const r = libs.map((l) => run(l));
  const [t, m, z] = r;
  console.log(
    `${label.padEnd(42)} tsvisor ${fmtRate(t).padStart(14)} | memfs ${fmtRate(m).padStart(14)} | zenfs ${fmtRate(z).padStart(14)} | x${(t / m).toFixed(2)} vs memfs, x${(t / z).toFixed(2)} vs zenfs`,
  );
}

// Sequential I/O: ROUNDS timed passes per library, interleaved and in a rotating order (so no
// library always gets the freshest memory or always follows the same one), best pass reported;
// a small warm-up pass first. Run with --expose-gc (the `bench` script does) so each pass starts
// after a full collection.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const chunk = new Uint8Array(CHUNK).fill(7);
for (const l of libs) l.sequential('/d/warm', chunk, 8);
const times = libs.map(() => Infinity);
/** Process CPU time (all threads: the collector's too) of each library's cheapest pass. */
const cpus = libs.map(() => Infinity);
for (let round = 0; round < ROUNDS; round++) {
  libs.forEach((_, k) => {
    const i = (k + round) % libs.length;
    const l = libs[i];
    // Collect the previous pass's garbage first, so no library pays for another's. V8 frees the
    // memory of dead ArrayBuffers on a background thread after a collection (for a GiB of
    // faulted pages that took about 0.2 s here, on a 2-core machine); the second gc() waits for
    // that to finish, so it does not happen during the next library's timed pass.
    globalThis.gc?.();
    globalThis.gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const got = l.sequential('/d/seq', chunk, SEQ_MIB);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    if (got !== SEQ_MIB * CHUNK) throw new Error(`${l.name}: read back ${got}`);
    times[i] = Math.min(times[i], ms);
    cpus[i] = Math.min(cpus[i], (cpu.user + cpu.system) / 1000);
  });
}
const [ts, ms, zs] = times;
const gibs = (t) => `${((2 * SEQ_MIB) / 1024 / (t / 1000)).toFixed(2)} GiB/s`;
// On a shared machine the wall time depends on what else runs; the CPU time much less.
const [tc, mc, zc] = cpus.map((c) => `${c.toFixed(0)} ms`);
console.log(
  `${`${SEQ_MIB} MiB write+read, 1 MiB chunks (best of ${ROUNDS})`.padEnd(42)} tsvisor ${`${ts.toFixed(0)} ms`.padStart(8)} (${gibs(ts)}) | memfs ${`${ms.toFixed(0)} ms`.padStart(8)} (${gibs(ms)}) | zenfs ${`${zs.toFixed(0)} ms`.padStart(8)} (${gibs(zs)}) | x${(ms / ts).toFixed(2)} vs memfs, x${(zs / ts).toFixed(2)} vs zenfs`,
);
console.log(
  `${'  (least CPU time of a pass, all threads)'.padEnd(42)} tsvisor ${tc.padStart(8)} | memfs ${mc.padStart(8)} | zenfs ${zc.padStart(8)}`,
);
