#!/usr/bin/env node
// The one test command: builds every package, lints, typechecks and runs every package's tests in
// dependency order through nx, then the repository checks (layering). Prints a closing line
// `N passed, N failed` summed over every test runner it ran.
import { spawnSync } from 'node:child_process';

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: process.env,
  });
  process.stdout.write(r.stdout ?? '');
  return { status: r.status ?? 1, out: r.stdout ?? '' };
};

let passed = 0;
let failed = 0;
let ok = true;

const nx = run('npx', ['nx', 'run-many', '-t', 'build', 'lint', 'typecheck', 'test', '--outputStyle=static']);
if (nx.status !== 0) ok = false;
// vitest prints "Test Files  F failed | ..." then "Tests  N passed | M failed (T)" per package; a
// cached nx task replays it. A file whose setup failed (a beforeAll that threw: a C program that
// did not compile) fails with its tests "skipped", so a package counts at least its failed files.
const plain = nx.out.replace(/\x1b\[[0-9;]*m/g, '');
for (const m of plain.matchAll(/^\s*Test Files\s+(.*)\n\s*Tests\s+(.*)$/gm)) {
  const p = /(\d+) passed/.exec(m[2]);
  const f = /(\d+) failed/.exec(m[2]);
  const files = /(\d+) failed/.exec(m[1]);
  passed += p ? Number(p[1]) : 0;
  failed += Math.max(f ? Number(f[1]) : 0, files ? Number(files[1]) : 0);
}

const repo = run('node', ['--test', 'scripts/check-layering.test.mjs', 'scripts/compatibility.test.mjs']);
if (repo.status !== 0) ok = false;
passed += Number(/^# pass (\d+)/m.exec(repo.out)?.[1] ?? 0);
failed += Number(/^# fail (\d+)/m.exec(repo.out)?.[1] ?? 0);

if (!ok && failed === 0) failed = 1; // a build, lint or typecheck failure counts as a failure
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
