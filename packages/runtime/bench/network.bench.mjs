#!/usr/bin/env node
// Benchmark of issue 8: loopback TCP between two processes of one sandbox (bulk throughput of a
// 1 MiB and a 64 MiB transfer, and the connection rate; plus the 64 MiB transfer repeated in one
// sandbox, the steady state), measured in one run natively, under
// gVisor (`runsc --network=none do`) and under tsvisor (network mode `none`: netstack's
// loopback), and with host sockets: tsvisor's network mode `host` against `runsc --network=host
// do` (gVisor's hostinet), printed as medians with ratios. Not a test: `node bench/network.bench.mjs` after a
// build (`npx tsc -b` here). See README.md.
//
//   node bench/network.bench.mjs [--tsvisor "CMD PREFIX"] [--runs N] [--budget MS]
//                                [--no-runsc] [--no-host] [--runsc-host] [--json]
//
// --tsvisor   the command that runs a program under tsvisor, split on spaces (default: the
//             tsvisor command, apps/cli/bin/tsvisor.cjs `do --network none --`, as a user runs it:
//             its bundle and code cache when built, see apps/cli/README.md); the host mode row
//             appends `--network host` to it
// --no-host   leave out the host-socket row (tsvisor-host)
// --runsc-host  add `runsc --network=host do` (gVisor's hostinet); off by default: runsc do then
//             makes a veth pair and host iptables NAT rules (and needs iptables installed)
// --runs      runs of each measurement per sandbox (median reported; default 5)
// --budget    milliseconds the connection loop runs for (default 1000)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// The tsvisor command of this repository (apps/cli), as `npx tsvisor` runs it: the file itself,
// whose #! line starts Node with the command's flags.
const cli = join(here, '..', '..', '..', 'apps', 'cli', 'bin', 'tsvisor.cjs');
const tsvisorCommand = (network) => [cli, 'do', '--network', network, '--'];

function parseArgs(argv) {
  const opts = {
    tsvisor: tsvisorCommand('none'),
    tsvisorHost: tsvisorCommand('host'),
    host: true,
    runscHost: false,
    runs: 5,
    budget: 1000,
    runsc: true,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--tsvisor') {
      opts.tsvisor = next().split(' ').filter(Boolean);
      opts.tsvisorHost = [...opts.tsvisor, '--network', 'host'];
    } else if (a === '--no-host') opts.host = false;
    else if (a === '--runsc-host') opts.runscHost = true;
    else if (a === '--runs') opts.runs = Number(next());
    else if (a === '--budget') opts.budget = Number(next());
    else if (a === '--no-runsc') opts.runsc = false;
    else if (a === '--json') opts.json = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(opts.runs > 0) || !(opts.budget > 0)) throw new Error('--runs and --budget must be positive');
  return opts;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function run(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 300_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const why = r.error ? String(r.error.message) : r.signal ? `killed by ${r.signal}` : '';
  return { ms, status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + why };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const built = join(here, '..', '..', '..', 'apps', 'cli', 'dist', 'index.js');
  if (!process.argv.includes('--tsvisor') && !existsSync(built))
    throw new Error(`${built} is missing: build first (npm run build at the repository root)`);
  // Not under /tmp: the sandbox has its own tmpfs there.
  const work = mkdtempSync('/var/tmp/tsvisor-bench-');
  try {
    const loop = join(work, 'net-loop');
    execFileSync('gcc', ['-O1', '-static', '-o', loop, join(here, 'net-loop.c')], { stdio: 'ignore' });
    const sandboxes = [{ name: 'native', prefix: [] }];
    if (opts.runsc) sandboxes.push({ name: 'runsc', prefix: ['runsc', '--network=none', 'do'] });
    sandboxes.push({ name: 'tsvisor', prefix: opts.tsvisor });
    if (opts.host) {
      if (opts.runsc && opts.runscHost)
        sandboxes.push({ name: 'runsc-host', prefix: ['runsc', '--network=host', 'do'] });
      sandboxes.push({ name: 'tsvisor-host', prefix: opts.tsvisorHost });
    }
    const MIB = 1 << 20;
    // Each metric: the loop's arguments and how its "<µs> <count>" line becomes the figure.
    const metrics = [
      { key: 'tcp1', label: 'TCP 1 MiB, setup included (MB/s)', args: ['tcp', String(MIB)], higher: true },
      { key: 'tcp64', label: 'TCP 64 MiB (MB/s)', args: ['tcp', String(64 * MIB)], higher: true },
      // Not one of issue 8's rows: the same transfer once the sandbox has run it 3 times, which
      // separates the cost of a cold supervisor (V8 compiling its hot paths) from the steady state.
      {
        key: 'tcp64w',
        label: 'TCP 64 MiB, 4th in a row (MB/s)',
        args: ['tcp-again', String(64 * MIB), '4'],
        higher: true,
      },
      {
        key: 'conn',
        label: 'connect+accept+close (µs/conn)',
        args: ['connect', String(opts.budget)],
        higher: false,
      },
      // Not one of issue 8's rows: a server's idle connections must not slow its new ones ...
      {
        key: 'connidle',
        label: 'connect+accept+close, 4000 idle conns (µs/conn)',
        args: ['connect-idle', '4000', String(opts.budget)],
        higher: false,
      },
      // ... nor its busy one.
      {
        key: 'idle',
        label: 'echo, 500 idle conns in epoll (µs/RTT)',
        args: ['idle', '500', '2000'],
        higher: false,
      },
    ];
    const perOp = (m) => m.key === 'conn' || m.key === 'connidle' || m.key === 'idle';
    const value = (m, us, count) => (perOp(m) ? us : count / us); // bytes/µs = MB/s
    const results = {};
    const skipped = [];
    for (const s of sandboxes) for (const m of metrics) results[`${s.name}/${m.key}`] = [];
    const failed = new Set();
    for (let i = 0; i < opts.runs; i++) {
      for (const m of metrics) {
        for (const s of sandboxes) {
          const id = `${s.name}/${m.key}`;
          if (failed.has(id)) continue;
          const r = run([...s.prefix, loop, ...m.args]);
          const [us, count] = r.stdout.trim().split(/\s+/).map(Number);
          let problem;
          if (r.status !== 0) problem = `exited with ${r.status}: ${r.stderr.trim().split('\n')[0]}`;
          else if (!(us > 0) || !(count > 0)) problem = `printed ${JSON.stringify(r.stdout.slice(0, 80))}`;
          // The time a run claims (its own clock) must fit in the wall time seen from outside.
          else if ((perOp(m) ? us * count : us) / 1000 > r.ms * 1.05 + 1) problem = 'clock inside is off';
          if (problem) {
            failed.add(id);
            skipped.push(`${id}: ${problem}`);
            results[id] = [];
          } else results[id].push(value(m, us, count));
        }
      }
    }
    const med = {};
    for (const [id, v] of Object.entries(results)) med[id] = v.length ? median(v) : undefined;
    if (opts.json) {
      console.log(JSON.stringify({ medians: med, samples: results, skipped }, null, 2));
      return;
    }
    const fmt = (v) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
    // Ratios as "how many times slower than the reference": >1 means slower.
    const ratio = (m, a, b) =>
      a === undefined || b === undefined ? '-' : `${(m.higher ? b / a : a / b).toFixed(2)}x`;
    const names = sandboxes.map((s) => s.name);
    const w = (n, min) => Math.max(min, n.length);
    const header = ['metric'.padEnd(36), ...names.map((n) => n.padStart(w(n, 9)))];
    const pairs = [];
    if (names.includes('runsc')) pairs.push(['runsc', 'native']);
    pairs.push(['tsvisor', 'native']);
    if (names.includes('runsc')) pairs.push(['tsvisor', 'runsc']);
    if (names.includes('tsvisor-host')) pairs.push(['tsvisor-host', 'native']);
    if (names.includes('tsvisor-host') && names.includes('runsc')) pairs.push(['tsvisor-host', 'runsc']);
    if (names.includes('runsc-host')) pairs.push(['tsvisor-host', 'runsc-host']);
    for (const [a, b] of pairs) header.push(`${a}/${b}`.padStart(w(`${a}/${b}`, 16)));
    console.log(
      `${new Date().toISOString()}  ${cpus().length} CPUs, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, ${opts.runs} runs (ratios: times slower than the second)`,
    );
    console.log(header.join(' '));
    for (const m of metrics) {
      const row = [m.label.padEnd(36), ...names.map((n) => fmt(med[`${n}/${m.key}`]).padStart(w(n, 9)))];
      for (const [a, b] of pairs)
        row.push(ratio(m, med[`${a}/${m.key}`], med[`${b}/${m.key}`]).padStart(w(`${a}/${b}`, 16)));
      console.log(row.join(' '));
    }
    for (const s of skipped) console.log(`skipped ${s}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
