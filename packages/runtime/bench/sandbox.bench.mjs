// Benchmark of issue 4: startup of `tsvisor do /bin/true` (median ms) and a syscall-heavy loop
// (getppid; open/read/close of a small file) under tsvisor, natively and under gVisor's
// `runsc --network=none do`, measured in one run and printed as ratios. Not a test: run it with
// `npm run bench` in packages/runtime after a build. runsc is optional (skipped if missing).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'tsvisor-bench-'));
const loop = join(dir, 'syscall-loop');
execFileSync('gcc', ['-O2', '-static', '-o', loop, join(here, 'syscall-loop.c')]);
const hasRunsc = spawnSync('runsc', ['--version']).status === 0;

// A sandbox run in a fresh Node process, as `tsvisor do` runs: module loading included.
const tsvisorScript = `
import { createSandbox } from ${JSON.stringify(dist)};
const argv = process.argv.slice(1);
const sandbox = createSandbox({ argv, volumes: [{ host: ${JSON.stringify(dir)}, sandbox: '/bench', readOnly: true }], log: () => {} });
process.exit(await sandbox.run());
`;

const runners = {
  native: (argv) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' }),
  tsvisor: (argv) =>
    spawnSync(
      process.execPath,
      ['--input-type=module', '-e', tsvisorScript, '--', ...argv.map((a) => a.replace(dir, '/bench'))],
      {
        encoding: 'utf8',
      },
    ),
  ...(hasRunsc
    ? { runsc: (argv) => spawnSync('runsc', ['--network=none', 'do', ...argv], { encoding: 'utf8' }) }
    : {}),
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const results = {};
for (const [name, run] of Object.entries(runners)) {
  const times = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const r = run(['/bin/true']);
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${name} /bin/true failed: ${r.stderr}`);
  }
  const per = (what, n) => {
    const r = run([loop, what, String(n)]);
    if (r.status !== 0) throw new Error(`${name} ${what} failed: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  results[name] = {
    startupMs: median(times),
    getppidUs: per('getppid', 20000),
    openReadCloseUs: per('open', 5000),
  };
}

const fmt = (x) => x.toFixed(x < 10 ? 2 : 1);
console.log('                    startup ms   getppid µs   open/read/close µs');
for (const [name, r] of Object.entries(results))
  console.log(
    `${name.padEnd(18)} ${fmt(r.startupMs).padStart(10)} ${fmt(r.getppidUs).padStart(12)} ${fmt(r.openReadCloseUs).padStart(20)}`,
  );
const t = results.tsvisor;
for (const base of ['native', 'runsc'].filter((b) => results[b])) {
  const b = results[base];
  console.log(
    `tsvisor / ${base}: startup ${fmt(t.startupMs / b.startupMs)}x, getppid ${fmt(t.getppidUs / b.getppidUs)}x, open/read/close ${fmt(t.openReadCloseUs / b.openReadCloseUs)}x`,
  );
}
rmSync(dir, { recursive: true, force: true });
