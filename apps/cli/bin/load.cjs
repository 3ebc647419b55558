// How bin/tsvisor.cjs finds main(): from the one-file bundle dist/tsvisor.cjs with its V8 code
// cache when the bundle is as new as the packages it was built from, else from the ES modules
// in dist/ (a package rebuilt by hand after the bundle, or TSVISOR_NO_BUNDLE=1).
//
// Why: a sandbox starts in a fresh Node, and most of its first second went to loading ~400
// modules and compiling each function the first time a system call needed it. The bundle is
// one file, and its code cache (trained at build time by scripts/bundle.mjs) holds the bytecode
// of every function a typical program needs, so none of that happens per run.
//
// CommonJS, as is the command's entry: an ES module entry point sets up Node's ES module loader
// first, about 8 ms of every start here.
'use strict';
const { existsSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

/**
 * The V8 flags the command starts Node with: the #! line of bin/tsvisor.cjs, which says why. V8
 * takes a code cache only under the flags it was made with, so the bundle has one cache for a
 * start with these flags and one for a plain `node bin/tsvisor.cjs`.
 */
const COMMAND_FLAGS = ['--concurrent-sparkplug', '--v8-pool-size=1', '--max-semi-space-size=1'];

/**
 * Variables the #! line of bin/tsvisor.cjs keeps from Node's start (which says why), each under
 * the name that carries its value past it. `env -S` expands an unset variable to nothing, so an
 * empty carrier means the variable was unset (or empty, which Node treats as unset).
 */
const HELD_ENV = { NODE_EXTRA_CA_CERTS: 'TSVISOR_NODE_EXTRA_CA_CERTS' };

/**
 * Puts back in `env` what the #! line held from Node, and drops the carriers, so that the
 * sandboxed program (and anything the supervisor starts) sees the environment it was given.
 */
function restoreHeldEnv(env = process.env) {
  for (const [name, carrier] of Object.entries(HELD_ENV)) {
    if (!(carrier in env)) continue;
    const value = env[carrier];
    delete env[carrier];
    if (value !== '' && !(name in env)) env[name] = value;
  }
}

/**
 * The files of a bundle: the code, the code cache for a process started with `execArgv`, and the
 * stamps of what it was built from.
 */
function bundleFiles(dist = join(__dirname, '..', 'dist'), execArgv = process.execArgv) {
  const flagged = COMMAND_FLAGS.every((f) => execArgv.includes(f));
  return {
    code: join(dist, 'tsvisor.cjs'),
    cache: join(dist, flagged ? 'tsvisor.cjs.cache' : 'tsvisor.cjs.plain.cache'),
    stamps: join(dist, 'tsvisor.stamps.json'),
  };
}

/** The SHA-256 of a file's bytes, in hex (node:crypto loads only when a stamp needs it). */
function sha256(path) {
  return require('node:crypto').createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Size, mtime and SHA-256 of a file: what a stamp records. */
function stampOf(path) {
  const st = statSync(path);
  return {
    path,
    size: st.size,
    mtimeMs: st.mtimeMs,
    sha256: sha256(path),
  };
}

/**
 * True when every input recorded in the stamps file is unchanged: same size and mtime, or (a
 * copy restored by a build cache) the same content.
 */
function bundleIsFresh(files = bundleFiles()) {
  return freshStamps(files) !== undefined;
}

/** The stamps file's contents when every input it records is unchanged, else undefined. */
function freshStamps(files) {
  if (!existsSync(files.code) || !existsSync(files.stamps)) return undefined;
  let stamps;
  try {
    stamps = JSON.parse(readFileSync(files.stamps, 'utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(stamps.inputs) || stamps.inputs.length === 0) return undefined;
  let moved = false;
  for (const s of stamps.inputs) {
    const path = join(dirname(files.stamps), s.path);
    let st;
    try {
      st = statSync(path);
    } catch {
      return undefined;
    }
    if (st.size !== s.size) return undefined;
    if (st.mtimeMs === s.mtimeMs) continue;
    if (sha256(path) !== s.sha256) return undefined;
    s.mtimeMs = st.mtimeMs;
    moved = true;
  }
  // The same content under new mtimes (a build cache restored the files): record the new ones,
  // so that later starts skip the hashing (node:crypto alone costs about 10 ms of every start).
  // Best effort: an install the user cannot write to hashes each time, as before.
  if (moved) {
    try {
      const tmp = `${files.stamps}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(stamps, null, 2)}\n`);
      renameSync(tmp, files.stamps);
    } catch {
      // read-only install: hash again next time
    }
  }
  return stamps;
}

/**
 * Loads the bundle with its code cache. Returns its exports and a function that writes a fresh
 * code cache (the bytecode of every function compiled so far) to `files.cache`, atomically.
 * `cache` says what became of the cache: 'accepted', 'rejected' (another Node or V8 flags; the
 * bundle is then compiled as usual) or 'none'. `encoding` is how the code is read: 'latin1' only
 * for an all-ASCII bundle (the build records which, in the stamps).
 */
function loadBundle(files = bundleFiles(), encoding = 'utf8') {
  const source = readFileSync(files.code, encoding);
  const cachedData = existsSync(files.cache) ? readFileSync(files.cache) : undefined;
  const script = new Script(Module.wrap(source), {
    filename: files.code,
    ...(cachedData ? { cachedData } : {}),
  });
  const cache = cachedData ? (script.cachedDataRejected ? 'rejected' : 'accepted') : 'none';
  const module = { exports: {} };
  script.runInThisContext()(
    module.exports,
    Module.createRequire(files.code),
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
async function loadMain(env = process.env) {
  const debug =
    env.TSVISOR_LOADER_DEBUG === '1' ? (m) => process.stderr.write(`tsvisor loader: ${m}\n`) : () => {};
  debug(`Node flags: ${process.execArgv.join(' ') || 'none'}`);
  const files = bundleFiles();
  const stamps = env.TSVISOR_NO_BUNDLE === '1' ? undefined : freshStamps(files);
  if (stamps) {
    // The build checked the text: latin1 is only recorded for a bundle that is all ASCII.
    const b = loadBundle(files, stamps.encoding === 'latin1' ? 'latin1' : 'utf8');
    debug(`bundle, code cache ${b.cache}`);
    return {
      main: b.exports.main,
      done: env.TSVISOR_WRITE_CODE_CACHE === '1' ? b.writeCache : () => {},
    };
  }
  debug('modules');
  const m = await import(pathToFileURL(join(__dirname, '..', 'dist', 'index.js')).href);
  return { main: m.main, done: () => {} };
}

module.exports = {
  COMMAND_FLAGS,
  HELD_ENV,
  restoreHeldEnv,
  bundleFiles,
  stampOf,
  bundleIsFresh,
  loadBundle,
  loadMain,
};
