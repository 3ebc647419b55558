#!/usr/bin/env node
// Real servers over loopback, each with its own load generator in the same sandbox: Redis
// (redis-benchmark, 10 clients) and PostgreSQL 15 (pgbench, 4 clients: the TPC-B-like default and
// the select-only script), measured natively, under gVisor (`runsc --network=none do`) and under
// tsvisor (`tsvisor do --network none`), medians with ratios. Not a test. Needs the Debian
// packages redis-server, redis-tools and postgresql-15 (a missing one skips its rows, said so).
//
//   node bench/apps.bench.mjs [--runs N] [--no-runsc] [--tsvisor "CMD PREFIX"]
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// The tsvisor command as `npx tsvisor` runs it: the file itself, with its #! line's Node flags.
const cli = join(here, '..', '..', '..', 'apps', 'cli', 'bin', 'tsvisor.cjs');

// Each script prints "RESULT <key> <value>" lines. $W is the work directory (the same path in
// every sandbox); the data directories go to the sandbox's own /tmp.
const REDIS = `#!/bin/sh
redis-server --port 6391 --save '' --appendonly no --daemonize no --logfile /tmp/bench-redis.log &
pid=$!
for i in 1 2 3 4 5 6 7 8 9 10; do redis-cli -p 6391 ping >/dev/null 2>&1 && break; sleep 0.2; done
redis-benchmark -p 6391 -c 10 -n 20000 -t set,get --csv 2>/dev/null |
  awk -F'"' '/^"SET"/ {print "RESULT redis-set " $4} /^"GET"/ {print "RESULT redis-get " $4}'
redis-cli -p 6391 shutdown nosave >/dev/null 2>&1
wait $pid
`;
const PG = `#!/bin/sh
B=/usr/lib/postgresql/15/bin
D=/tmp/bench-pgdata
rm -rf $D /tmp/bench-pgsock; mkdir -p /tmp/bench-pgsock; chown postgres /tmp/bench-pgsock
as_pg() { su postgres -s /bin/sh -c "$1"; }
as_pg "$B/initdb -D $D -A trust -E UTF8 --locale=C" >/dev/null 2>&1 || { echo initdb failed >&2; exit 1; }
as_pg "$B/pg_ctl -D $D -l /tmp/bench-pg.log -o '-k /tmp/bench-pgsock -h 127.0.0.1 -p 5498' -w start" >/dev/null || exit 1
as_pg "$B/pgbench -i -q -s 1 -h /tmp/bench-pgsock -p 5498 postgres" >/dev/null 2>&1
as_pg "$B/pgbench -c 4 -j 2 -t 200 -h 127.0.0.1 -p 5498 postgres" 2>/dev/null |
  awk '/^tps/ {print "RESULT pg-tpcb " $3}'
as_pg "$B/pgbench -S -c 4 -j 2 -t 1000 -h 127.0.0.1 -p 5498 postgres" 2>/dev/null |
  awk '/^tps/ {print "RESULT pg-select " $3}'
as_pg "$B/pg_ctl -D $D -m fast -w stop" >/dev/null
`;

const apps = [
  {
    name: 'redis',
    script: REDIS,
    needs: ['/usr/bin/redis-server', '/usr/bin/redis-benchmark'],
    rows: [
      { key: 'redis-set', label: 'Redis SET, 10 clients (requests/s)' },
      { key: 'redis-get', label: 'Redis GET, 10 clients (requests/s)' },
    ],
  },
  {
    name: 'postgres',
    script: PG,
    needs: ['/usr/lib/postgresql/15/bin/postgres', '/usr/lib/postgresql/15/bin/pgbench'],
    rows: [
      { key: 'pg-tpcb', label: 'pgbench TPC-B, 4 clients (tps)' },
      { key: 'pg-select', label: 'pgbench select-only, 4 clients (tps)' },
    ],
  },
];

function parseArgs(argv) {
  const opts = { runs: 3, runsc: true, tsvisor: [cli, 'do', '--network', 'none'] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') opts.runs = Number(argv[++i]);
    else if (a === '--no-runsc') opts.runsc = false;
    else if (a === '--tsvisor') opts.tsvisor = String(argv[++i]).split(' ').filter(Boolean);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(opts.runs > 0)) throw new Error('--runs must be positive');
  return opts;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  // Not under /tmp: the sandbox has its own tmpfs there.
  const work = mkdtempSync('/var/tmp/tsvisor-apps-bench-');
  try {
    const sandboxes = [{ name: 'native', prefix: [] }];
    if (opts.runsc) sandboxes.push({ name: 'runsc', prefix: ['runsc', '--network=none', 'do'] });
    sandboxes.push({ name: 'tsvisor', prefix: [...opts.tsvisor, '-v', `${work}:${work}`, '--'] });
    const samples = {};
    const notes = [];
    const present = apps.filter((a) => {
      const missing = a.needs.filter((p) => !existsSync(p));
      if (missing.length) notes.push(`skipped ${a.name}: ${missing.join(', ')} not installed`);
      return missing.length === 0;
    });
    for (const a of present) {
      const file = join(work, `${a.name}.sh`);
      writeFileSync(file, a.script);
      chmodSync(file, 0o755);
    }
    for (let i = 0; i < opts.runs; i++)
      for (const a of present)
        for (const s of sandboxes) {
          const argv = [...s.prefix, join(work, `${a.name}.sh`)];
          const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 600_000 });
          const got = new Map(
            [...(r.stdout ?? '').matchAll(/^RESULT (\S+) ([\d.]+)$/gm)].map((m) => [m[1], Number(m[2])]),
          );
          for (const row of a.rows) {
            const v = got.get(row.key);
            if (v === undefined || !(v > 0)) {
              notes.push(
                `${s.name} ${row.key} run ${i + 1}: no result (status ${r.status}) ${(r.stderr ?? '').trim().split('\n')[0] ?? ''}`,
              );
              continue;
            }
            (samples[`${s.name}/${row.key}`] ??= []).push(v);
          }
        }
    const names = sandboxes.map((s) => s.name);
    const fmt = (v) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
    // Higher is better everywhere: a ratio above 1 means the first is that many times slower.
    const pairs = names.includes('runsc')
      ? [
          ['runsc', 'native'],
          ['tsvisor', 'native'],
          ['tsvisor', 'runsc'],
        ]
      : [['tsvisor', 'native']];
    const med = (n, k) => (samples[`${n}/${k}`] ? median(samples[`${n}/${k}`]) : undefined);
    console.log(
      `${new Date().toISOString()}  ${cpus().length} CPUs, load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, ${opts.runs} runs (ratios: times slower than the second)`,
    );
    console.log(
      [
        'metric'.padEnd(40),
        ...names.map((n) => n.padStart(9)),
        ...pairs.map(([a, b]) => `${a}/${b}`.padStart(16)),
      ].join(' '),
    );
    for (const a of present)
      for (const row of a.rows) {
        const cells = names.map((n) => fmt(med(n, row.key)).padStart(9));
        const ratios = pairs.map(([x, y]) => {
          const vx = med(x, row.key);
          const vy = med(y, row.key);
          return (vx && vy ? `${(vy / vx).toFixed(2)}x` : '-').padStart(16);
        });
        console.log([row.label.padEnd(40), ...cells, ...ratios].join(' '));
      }
    for (const n of notes) console.log(n);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
