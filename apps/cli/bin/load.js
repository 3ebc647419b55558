// How bin/tsvisor.js finds main(): from the one-file bundle dist/tsvisor.cjs with its V8 code
// cache when the bundle is as new as the packages it was built from, else from the ES modules
// in dist/ (a package rebuilt by hand after the bundle, or TSVISOR_NO_BUNDLE=1).
//
// Why: a sandbox starts in a fresh Node, and most of its first second went to loading ~400
// modules and compiling each function the first time a system call needed it. The bundle is
// one file, and its code cache (trained at build time by scripts/bundle.mjs) holds the bytecode
// of every function a typical program needs, so none of that happens per run.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));

/** The files of a bundle: the code, its code cache, and the stamps of what it was built from. */
export function bundleFiles(dist = join(here, '..', 'dist')) {
  return {
    code: join(dist, 'tsvisor.cjs'),
    cache: join(dist, 'tsvisor.cjs.cache'),
    stamps: join(dist, 'tsvisor.stamps.json'),
  };
}

/** Size, mtime and SHA-256 of a file: what a stamp records. */
export function stampOf(path) {
  const st = statSync(path);
  return {
    path,
    size: st.size,
    mtimeMs: st.mtimeMs,
    sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
  };
}

/**
 * True when every input recorded in the stamps file is unchanged: same size and mtime, or (a
 * copy restored by a build cache) the same content.
 */
export function bundleIsFresh(files = bundleFiles()) {
  if (!existsSync(files.code) || !existsSync(files.stamps)) return false;
  let stamps;
  try {
    stamps = JSON.parse(readFileSync(files.stamps, 'utf8'));
  } catch {
    return false;
  }
  if (!Array.isArray(stamps.inputs) || stamps.inputs.length === 0) return false;
  for (const s of stamps.inputs) {
    const path = join(dirname(files.stamps), s.path);
    let st;
    try {
      st = statSync(path);
    } catch {
      return false;
    }
    if (st.size !== s.size) return false;
    if (st.mtimeMs === s.mtimeMs) continue;
    if (createHash('sha256').update(readFileSync(path)).digest('hex') !== s.sha256) return false;
  }
  return true;
}

/**
 * Loads the bundle with its code cache. Returns its exports and a function that writes a fresh
 * code cache (the bytecode of every function compiled so far) to `files.cache`, atomically.
 * `cache` says what became of the cache: 'accepted', 'rejected' (another Node or V8 flags; the
 * bundle is then compiled as usual) or 'none'.
 */
export function loadBundle(files = bundleFiles()) {
  const source = readFileSync(files.code, 'utf8');
  const cachedData = existsSync(files.cache) ? readFileSync(files.cache) : undefined;
  const script = new Script(Module.wrap(source), {
    filename: files.code,
    ...(cachedData ? { cachedData } : {}),
  });
  const cache = cachedData ? (script.cachedDataRejected ? 'rejected' : 'accepted') : 'none';
  const module = { exports: {} };
  script.runInThisContext()(
    module.exports,
    createRequire(files.code),
    module,
    files.code,
    dirname(files.code),
  );
  const writeCache = () => {
    const tmp = `${files.cache}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, files.cache);
  };
  return { exports: module.exports, cache, writeCache };
}

/**
 * main() of @tsvisor/cli, from the bundle when it is fresh. With TSVISOR_WRITE_CODE_CACHE=1 the
 * returned `done` writes the bundle's code cache (the build's training run uses it).
 * TSVISOR_LOADER_DEBUG=1 reports on stderr which way was taken.
 */
export async function loadMain(env = process.env) {
  const debug =
    env.TSVISOR_LOADER_DEBUG === '1' ? (m) => process.stderr.write(`tsvisor loader: ${m}\n`) : () => {};
  const files = bundleFiles();
  if (env.TSVISOR_NO_BUNDLE !== '1' && bundleIsFresh(files)) {
    const b = loadBundle(files);
    debug(`bundle, code cache ${b.cache}`);
    return {
      main: b.exports.main,
      done: env.TSVISOR_WRITE_CODE_CACHE === '1' ? b.writeCache : () => {},
    };
  }
  debug('modules');
  const m = await import(pathToFileURL(join(here, '..', 'dist', 'index.js')).href);
  return { main: m.main, done: () => {} };
}
