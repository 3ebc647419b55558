#!/usr/bin/env node
// Checks the package layering of DESIGN.md across the whole tree (the lint rule checks imports
// file by file; this also checks package.json dependencies and tsconfig references):
//  - a package depends on, references and imports only the packages scripts/layering.mjs allows;
//  - no file imports another package's src/ or internal/ (deep imports) or reaches into another
//    package's directory with a relative path.
// Usage: node scripts/check-layering.mjs [ROOT]   (exit 1 and one line per violation on failure)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { layering, packageDirs } from './layering.mjs';

/**
 * The code of a source file without its comments (a doc comment's example may show an import
 * the file itself does not make); line breaks are kept so nothing else moves.
 */
function withoutComments(text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const importRe =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function* sourceFiles(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', 'build'].includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(full);
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield full;
  }
}

/** Returns the list of layering violations under `root`. */
export function checkLayering(root) {
  const problems = [];
  const dirOf = Object.fromEntries(Object.entries(packageDirs).map(([n, d]) => [n, path.join(root, d)]));
  for (const [name, rel] of Object.entries(packageDirs)) {
    const dir = dirOf[name];
    const allowed = new Set(layering[name]);
    const pkgPath = path.join(dir, 'package.json');
    if (!fs.existsSync(pkgPath)) {
      problems.push(`${rel}: missing package.json`);
      continue;
    }
    const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const dep of Object.keys(pkg[field] ?? {})) {
        const m = /^@tsvisor\/(.+)$/.exec(dep);
        if (m && !allowed.has(m[1]))
          problems.push(`${rel}/package.json: ${field} names ${dep}, not allowed for ${name}`);
      }
    }
    const tsPath = path.join(dir, 'tsconfig.json');
    if (fs.existsSync(tsPath)) {
      const ts = JSON.parse(fs.readFileSync(tsPath, 'utf8'));
      for (const ref of ts.references ?? []) {
        const target = path.resolve(dir, ref.path);
        const refName = Object.keys(dirOf).find((n) => dirOf[n] === target);
        if (!refName || !allowed.has(refName))
          problems.push(`${rel}/tsconfig.json: references ${ref.path}, not allowed for ${name}`);
      }
    }
    for (const file of sourceFiles(dir)) {
      const text = withoutComments(fs.readFileSync(file, 'utf8'));
      for (const m of text.matchAll(importRe)) {
        const spec = m[1] ?? m[2] ?? m[3];
        const where = path.relative(root, file);
        const pm = /^@tsvisor\/([^/]+)(\/.*)?$/.exec(spec);
        if (pm) {
          if (pm[1] !== name && !allowed.has(pm[1]))
            problems.push(`${where}: imports ${spec}, not allowed for ${name}`);
          if (pm[2] && pm[2] !== '/package.json')
            problems.push(`${where}: deep import ${spec}; use the package entry`);
        } else if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(file), spec);
          if (!target.startsWith(dir + path.sep) && target !== dir) {
            const inOther = Object.values(dirOf).some((d) => target.startsWith(d + path.sep) || target === d);
            if (inOther) problems.push(`${where}: relative import ${spec} reaches into another package`);
          }
        }
      }
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const problems = checkLayering(root);
  for (const p of problems) console.error(p);
  if (problems.length) process.exit(1);
  console.log(`layering: ${Object.keys(packageDirs).length} packages checked, no violations`);
}
