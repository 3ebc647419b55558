// Tests for the layering check: the real tree passes, and a copy with each kind of violation fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLayering } from './check-layering.mjs';
import { packageDirs } from './layering.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Copies the package.json, tsconfig.json and src/index.ts of every package into a temp tree. */
function skeleton() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layering-'));
  for (const dir of Object.values(packageDirs)) {
    fs.mkdirSync(path.join(tmp, dir, 'src'), { recursive: true });
    for (const f of ['package.json', 'tsconfig.json'])
      fs.copyFileSync(path.join(root, dir, f), path.join(tmp, dir, f));
    fs.writeFileSync(path.join(tmp, dir, 'src/index.ts'), 'export {};\n');
  }
  return tmp;
}

test('the repository obeys the layering', () => {
  assert.deepEqual(checkLayering(root), []);
});

test('a clean skeleton passes', () => {
  assert.deepEqual(checkLayering(skeleton()), []);
});

test('importing a package above in the layering fails', () => {
  const tmp = skeleton();
  fs.writeFileSync(path.join(tmp, 'packages/abi/src/bad.ts'), "import { x } from '@tsvisor/kernel';\n");
  const problems = checkLayering(tmp);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /packages\/abi\/src\/bad\.ts: imports @tsvisor\/kernel/);
});

test('an import shown in a comment is not an import; one after a comment is', () => {
  const tmp = skeleton();
  fs.writeFileSync(
    path.join(tmp, 'packages/abi/src/doc.ts'),
    [
      '/**',
      ' * ```ts',
      " * import { x } from '@tsvisor/kernel';",
      ' * ```',
      ' */',
      "// import { y } from '@tsvisor/vfs';",
      "/* a note */ import { z } from '@tsvisor/mm';",
      '',
    ].join('\n'),
  );
  const problems = checkLayering(tmp);
  assert.deepEqual(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /doc\.ts: imports @tsvisor\/mm/);
});

test("importing another package's src/ fails, by name or by relative path", () => {
  const tmp = skeleton();
  fs.writeFileSync(
    path.join(tmp, 'packages/kernel/src/deep.ts'),
    "import { x } from '@tsvisor/abi/src/errno.js';\n",
  );
  fs.writeFileSync(
    path.join(tmp, 'packages/kernel/src/rel.ts'),
    "export { y } from '../../vfs/src/index.js';\n",
  );
  const problems = checkLayering(tmp);
  assert.ok(
    problems.some((p) => /deep\.ts: deep import @tsvisor\/abi\/src\/errno\.js/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /rel\.ts: relative import .* reaches into another package/.test(p)),
    problems.join('\n'),
  );
});

test('a dependency or tsconfig reference upward fails', () => {
  const tmp = skeleton();
  const pj = path.join(tmp, 'packages/mm/package.json');
  const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'));
  pkg.dependencies = { ...pkg.dependencies, '@tsvisor/vfs': '0.1.0' };
  fs.writeFileSync(pj, JSON.stringify(pkg));
  const tj = path.join(tmp, 'packages/vfs/tsconfig.json');
  const ts = JSON.parse(fs.readFileSync(tj, 'utf8'));
  ts.references.push({ path: '../kernel' });
  fs.writeFileSync(tj, JSON.stringify(ts));
  const problems = checkLayering(tmp);
  assert.ok(problems.some((p) => /packages\/mm\/package\.json: dependencies names @tsvisor\/vfs/.test(p)));
  assert.ok(problems.some((p) => /packages\/vfs\/tsconfig\.json: references \.\.\/kernel/.test(p)));
});
