// Loads an earlier version of this package from git, for the benchmark and the differential
// check against it (bench/model-ops.bench.mjs, bench/baseline-diff.mjs).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** This tree's build of @tsvisor/abi, as a file URL. */
export const abiDist = pathToFileURL(join(pkg, '..', 'abi', 'dist', 'index.js')).href;

/**
 * Transpiles packages/mm/src at `rev` (non-test files) into a temp dir and imports its index, with
 * `@tsvisor/abi` pointing at this tree's abi build.
 */
export async function loadBaseline(rev, dir) {
  const ts = require('typescript');
  const files = execFileSync('git', ['-C', pkg, 'ls-tree', '--name-only', rev, 'src/'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.test-util.ts'));
  for (const f of files) {
    const src = execFileSync('git', ['-C', pkg, 'show', `${rev}:./${f}`], { encoding: 'utf8' });
    const js = ts.transpileModule(src, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    }).outputText;
    writeFileSync(
      join(dir, f.slice('src/'.length).replace(/\.ts$/, '.js')),
      js.replaceAll("'@tsvisor/abi'", `'${abiDist}'`),
    );
  }
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  return import(pathToFileURL(join(dir, 'index.js')).href);
}
