// Lets a child `node` run the TypeScript sources, for tests that must run code in a network
// namespace of their own (a process of its own): `node --conditions=@tsvisor/source --import
// ./ts-loader.mjs script.ts`. The condition makes @tsvisor/* packages resolve to their
// src/index.ts; this loader maps `./x.js` imports to `./x.ts` and strips the types of .ts
// files (TypeScript's transpileModule, file by file, as isolatedModules allows).
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

export async function resolve(specifier, context, next) {
  if (
    specifier.endsWith('.js') &&
    (specifier.startsWith('.') || specifier.startsWith('/')) &&
    context.parentURL
  ) {
    const ts = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
  }
  return next(specifier, context);
}

let typescript;

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  typescript ??= (await import('typescript')).default;
  const out = typescript.transpileModule(readFileSync(fileURLToPath(url), 'utf8'), {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: typescript.ModuleKind.ESNext,
      target: typescript.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
