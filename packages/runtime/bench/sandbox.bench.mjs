#!/usr/bin/env node
// Benchmark of issue 4: startup (`/bin/true` and a static binary) and syscall-heavy loops
// (getppid; open/read/close), measured in one run natively, under gVisor
// (`runsc --network=none do`) and under tsvisor, printed as medians with ratios. Not a test:
// `npm run bench -w @tsvisor/runtime` after a build (`npx tsc -b` here). See README.md.
//
//   node bench/sandbox.bench.mjs [--tsvisor "CMD PREFIX"] [--runs N] [--loop-runs N]
//                                [--budget MS] [--true PROGRAM] [--no-runsc] [--no-tsvisor] [--json]
//
// --tsvisor   the command that runs a program under tsvisor, split on spaces; the program and its
//             arguments are appended. Default: the tsvisor command, apps/cli/bin/tsvisor.cjs `do --`,
//             as a user runs it (its bundle and code cache when built: apps/cli/README.md).
// --true      the program whose startup is timed (default /bin/true)
// --runs      startup runs per sandbox (median reported; default 15)
// --loop-runs runs of each loop program per sandbox (median reported; default 3)
// --budget    milliseconds each loop program runs for (default 500)
// A measurement whose command fails (e.g. tsvisor cannot run it yet) is skipped and the reason
// printed; the others are still measured.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// The tsvisor command of this repository (apps/cli), as `npx tsvisor` runs it: the file itself,
// whose #! line starts Node with the command's flags.
const cli = join(here, '..', '..', '..', 'apps', 'cli', 'bin', 'tsvisor.cjs');

function parseArgs(argv) {
  const opts = {
    tsvisor: [cli, 'do', '--'],
    trueProgram: '/bin/true',
    runs: 15,
    loopRuns: 3,
    budget: 500,
    runsc: true,
    tsvisorOn: true,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--tsvisor') opts.tsvisor = next().split(' ').filter(Boolean);
    else if (a === '--true') opts.trueProgram = next();
    else if (a === '--runs') opts.runs = Number(next());
    else if (a === '--loop-runs') opts.loopRuns = Number(next());
    else if (a === '--budget') opts.budget = Number(next());
    else if (a === '--no-runsc') opts.runsc = false;
    else if (a === '--no-tsvisor') opts.tsvisorOn = false;
    else if (a === '--json') opts.json = true;
    else throw new Error(`unknown argument ${a}`);
  }
  for (const k of ['runs', 'loopRuns', 'budget']) {
    if (!(opts[k] > 0)) throw new Error(`--${k} must be a positive number`);
  }
  return opts;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs argv; returns its wall time in ms, exit status, whether it started, and its output. */
function run(argv, timeoutMs = 120_000) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const why = r.error ? String(r.error.message) : r.signal ? `killed by ${r.signal}` : '';
  return {
    ms,
    status: r.status,
    started: !r.error || r.status !== null,
    stdout: r.stdout ?? '',
    stderr: (r.stderr ?? '') + why,
  };
}

function firstLine(text) {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 160 ? `${line.slice(0, 160)}...` : line;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const customTsvisor = process.argv.includes('--tsvisor');
  const built = join(here, '..', '..', '..', 'apps', 'cli', 'dist', 'index.js');
  if (opts.tsvisorOn && !customTsvisor && !existsSync(built)) {
    throw new Error(`${built} is missing: build first (npm run build at the repository root)`);
  }
  // Not under /tmp: tsvisor gives the sandbox its own tmpfs there, so host /tmp is invisible.
  const work = mkdtempSync('/var/tmp/tsvisor-bench-');
  try {
    const loop = join(work, 'syscall-loop');
    execFileSync('gcc', ['-O1', '-static', '-o', loop, join(here, 'syscall-loop.c')]);
    // Issue 6: a malloc-heavy program, one mmap and one munmap per allocation.
    const mallocBin = join(work, 'mm-malloc');
    execFileSync('gcc', ['-O1', '-static', '-o', mallocBin, join(here, '..', 'conformance', 'mm-malloc.c')]);
    const sandboxes = [{ name: 'native', prefix: [] }];
    if (opts.runsc) sandboxes.push({ name: 'runsc', prefix: ['runsc', '--network=none', 'do'] });
    if (opts.tsvisorOn) sandboxes.push({ name: 'tsvisor', prefix: opts.tsvisor });

    // Each (sandbox, metric) pair is measured on its own: a sandbox that cannot run /bin/true yet
    // may still run the static loop programs. The first failure of a pair skips it, with the reason.
    const results = {};
    const skipped = [];
    for (const s of sandboxes)
      results[s.name] = { startup: [], static: [], getppid: [], open: [], malloc: [], compute: [] };
    const failed = new Set();
    const attempt = (s, key, argv, parse) => {
      if (failed.has(`${s.name}/${key}`)) return;
      const r = run([...s.prefix, ...argv]);
      let problem;
      if (r.status === 0) {
        const value = parse(r);
        if (typeof value === 'number') {
          results[s.name][key].push(value);
          return;
        }
        problem = value;
      } else {
        const why = !r.started
          ? 'could not start'
          : r.status === null
            ? 'did not finish'
            : `exited with ${r.status}`;
        problem = `${why}: ${firstLine(r.stderr) || firstLine(r.stdout) || 'no output'}`;
      }
      failed.add(`${s.name}/${key}`);
      results[s.name][key] = [];
      skipped.push(`${s.name} ${key}: \`${[...s.prefix, ...argv].join(' ')}\` ${problem}`);
    };
    const loops = ['getppid', 'open'];
    // A loop program reports "<µs per op> <ops>" timed by its own clock_gettime; the time it
    // claims must fit in the wall time of its run, or the sandbox's clock is wrong.
    const loopValue = (r) => {
      const [perOp, ops] = r.stdout.trim().split(/\s+/).map(Number);
      if (!Number.isFinite(perOp) || !(ops > 0)) return `printed ${JSON.stringify(firstLine(r.stdout))}`;
      const claimedMs = (perOp * ops) / 1000;
      if (claimedMs > r.ms * 1.05 + 1) {
        return `claims ${claimedMs.toFixed(0)} ms of work in a ${r.ms.toFixed(0)} ms run (clock inside is off)`;
      }
      return perOp;
    };

    // One warm-up run each (page cache, runsc's first start), then rounds that interleave the
    // sandboxes so that load changes on a shared machine hit all of them alike.
    for (const s of sandboxes) attempt(s, 'startup', [opts.trueProgram], () => 0);
    for (const s of sandboxes) results[s.name].startup = [];
    // A static program that exits at once: startup without the dynamic loader and libc.
    const staticTrue = [loop, 'getppid', '0'];
    for (const s of sandboxes) attempt(s, 'static', staticTrue, () => 0);
    for (const s of sandboxes) results[s.name].static = [];
    for (let i = 0; i < opts.runs; i++) {
      for (const s of sandboxes) {
        attempt(s, 'startup', [opts.trueProgram], (r) => r.ms);
        attempt(s, 'static', staticTrue, (r) => r.ms);
      }
    }
    for (let i = 0; i < opts.loopRuns; i++) {
      for (const s of sandboxes) {
        for (const key of loops) attempt(s, key, [loop, key, String(opts.budget)], loopValue);
      }
    }
    // compute prints "<µs for one computing process> <µs for two at once>"; the row is their
    // ratio: 1 when the sandbox runs its processes on two CPUs, 2 when it puts them on one.
    const computeValue = (r) => {
      const [one, two] = r.stdout.trim().split(/\s+/).map(Number);
      if (!(one > 0) || !(two > 0)) return `printed ${JSON.stringify(firstLine(r.stdout))}`;
      if ((one + two) / 1000 > r.ms * 1.05 + 1) {
        return `claims ${((one + two) / 1000).toFixed(0)} ms of work in a ${r.ms.toFixed(0)} ms run (clock inside is off)`;
      }
      return two / one;
    };
    if (cpus().length > 1) {
      for (let i = 0; i < opts.loopRuns; i++) {
        for (const s of sandboxes)
          attempt(s, 'compute', [loop, 'compute', String(opts.budget)], computeValue);
      }
    }
    // mm-malloc prints "ns/iteration N" last, timed inside; the same clock check as the loops.
    const MALLOC_ITERATIONS = 5000;
    const mallocValue = (r) => {
      const ns = Number(/ns\/iteration (\d+)/.exec(r.stdout)?.[1]);
      if (!(ns > 0)) return `printed ${JSON.stringify(firstLine(r.stdout))}`;
      const claimedMs = (ns * MALLOC_ITERATIONS) / 1e6;
      if (claimedMs > r.ms * 1.05 + 1) {
        return `claims ${claimedMs.toFixed(0)} ms of work in a ${r.ms.toFixed(0)} ms run (clock inside is off)`;
      }
      return ns / 1000;
    };
    for (let i = 0; i < opts.loopRuns; i++) {
      for (const s of sandboxes)
        attempt(s, 'malloc', [mallocBin, String(MALLOC_ITERATIONS), 'time'], mallocValue);
    }

    const metrics = [
      ['startup', `${opts.trueProgram} startup, median (ms)`],
      ['static', 'static binary startup, median (ms)'],
      ['getppid', 'getppid (µs/call)'],
      ['open', 'open+read+close 64 B (µs/iter)'],
      ['malloc', 'malloc+free 128-380 KiB, mmap+munmap (µs/iter)'],
      ['compute', '2 processes computing at once, wall / 1 alone'],
    ];
    const table = {};
    for (const [key] of metrics) {
      table[key] = {};
      for (const s of sandboxes) {
        const samples = results[s.name][key];
        if (samples.length) table[key][s.name] = median(samples);
      }
    }
    if (opts.json) {
      console.log(JSON.stringify({ opts, skipped, medians: table, samples: results }, null, 2));
      return;
    }
    const fmt = (v) =>
      v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
    const ratio = (a, b) => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(1)}x`);
    console.log(`tsvisor do benchmark, ${new Date().toISOString()}`);
    console.log(
      `host: ${cpus().length} cpus, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; startup runs ${opts.runs}, loop runs ${opts.loopRuns} x ${opts.budget} ms`,
    );
    console.log(`tsvisor command: ${opts.tsvisor.join(' ')}`);
    for (const why of skipped) console.log(`skipped ${why}`);
    const header = [
      'metric',
      'native',
      'runsc',
      'tsvisor',
      'runsc/native',
      'tsvisor/native',
      'tsvisor/runsc',
    ];
    const rows = metrics.map(([key, label]) => {
      const t = table[key];
      return [
        label,
        fmt(t.native),
        fmt(t.runsc),
        fmt(t.tsvisor),
        ratio(t.runsc, t.native),
        ratio(t.tsvisor, t.native),
        ratio(t.tsvisor, t.runsc),
      ];
    });
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (cells) =>
      cells.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
    console.log(line(header));
    for (const r of rows) console.log(line(r));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  console.error(`sandbox.bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
