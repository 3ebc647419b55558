// A/B of tsvisor builds on the cold loopback transfer (not a test): runs `net-loop tcp BYTES` in a
// fresh sandbox of each given command, interleaved, and prints each one's median (the time the
// program measures inside, socket setup included). For comparing a change with a copy of the tree
// from before it, e.g.
//   node bench/ab.mjs --runs 7 /tmp/before/apps/cli/bin/tsvisor.cjs ../../apps/cli/bin/tsvisor.cjs
//   node bench/ab.mjs --flags --no-turbofan ...   (V8 flags for every run, through `node FLAGS CLI`
//                                                  instead of the command's own #! line)
//   node bench/ab.mjs --bytes 1048576 ...         (another size)
// Both builds must be complete (`npx nx run-many -t build`), or the command runs from its modules.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
let runs = 7;
let bytes = 64 << 20;
let flags = [];
const clis = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--runs') runs = Number(argv[++i]);
  else if (argv[i] === '--bytes') bytes = Number(argv[++i]);
  else if (argv[i] === '--flags') flags = argv[++i].split(' ').filter(Boolean);
  else clis.push(argv[i]);
}
if (clis.length === 0 || !(runs > 0) || !(bytes > 0)) {
  console.error('usage: node bench/ab.mjs [--runs N] [--bytes B] [--flags "V8 FLAGS"] CLI...');
  process.exit(2);
}
// Not under /tmp: the sandbox has its own tmpfs there.
const work = mkdtempSync('/var/tmp/tsvisor-ab-');
try {
  const loop = join(work, 'net-loop');
  execFileSync('gcc', ['-O1', '-static', '-o', loop, join(here, 'net-loop.c')], { stdio: 'inherit' });
  const ms = clis.map(() => []);
  for (let r = 0; r < runs; r++) {
    clis.forEach((cli, i) => {
      // Each command as a user runs it (the file itself, with its #! line's flags), unless --flags.
      const args = ['do', '--network', 'none', loop, 'tcp', String(bytes)];
      const p =
        flags.length > 0
          ? spawnSync(process.execPath, [...flags, cli, ...args], { encoding: 'utf8' })
          : spawnSync(cli, args, { encoding: 'utf8' });
      const us = Number(p.stdout.trim().split(/\s+/)[0]);
      if (p.status !== 0 || !(us > 0))
        throw new Error(`${cli}: status ${p.status}: ${p.stderr.slice(0, 300)}`);
      ms[i].push(us / 1000);
    });
  }
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  for (const [i, cli] of clis.entries())
    console.log(`${median(ms[i]).toFixed(1)} ms  ${cli}  [${ms[i].map((x) => x.toFixed(0)).join(' ')}]`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
