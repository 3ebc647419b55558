// The bundle with its code cache (scripts/bundle.mjs, bin/load.cjs): the built command starts from
// it, with the cache V8 accepts, and falls back to the modules when a package was rebuilt after
// it. Runs the built files, which nx builds before tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMMAND_FLAGS,
  HELD_ENV,
  bundleFiles,
  bundleIsFresh,
  loadBundle,
  restoreHeldEnv,
  stampOf,
} from '../bin/load.cjs';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'tsvisor.cjs');
const train = join(here, '..', 'dist', 'train');

function tsvisor(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TSVISOR_LOADER_DEBUG: '1', ...env },
  });
}

describe('the built command', () => {
  it('starts from the bundle with a code cache V8 accepts', () => {
    expect(bundleIsFresh()).toBe(true);
    const r = tsvisor(['do', '--', '/bin/echo', 'hi']);
    expect(r.stderr).toContain('tsvisor loader: bundle, code cache accepted');
    expect(r.stdout).toBe('hi\n');
    expect(r.status).toBe(0);
  });

  it('starts Node with its flags when run itself, with a code cache for those flags too', () => {
    // The #! line's flags are load.cjs's COMMAND_FLAGS, whose cache the build trained, and it
    // holds load.cjs's HELD_ENV from Node (all `-u` options before the carriers' assignments).
    const held = Object.entries(HELD_ENV);
    const shebang = readFileSync(bin, 'utf8').split('\n')[0]!;
    expect(shebang).toBe(
      `#!/usr/bin/env -S ${held.map(([name]) => `-u ${name} `).join('')}` +
        `${held.map(([name, carrier]) => `${carrier}=\${${name}} `).join('')}node ${COMMAND_FLAGS.join(' ')}`,
    );
    const r = spawnSync(bin, ['do', '--', '/bin/echo', 'hi'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TSVISOR_LOADER_DEBUG: '1' },
    });
    expect(r.stderr).toContain(`tsvisor loader: Node flags: ${COMMAND_FLAGS.join(' ')}`);
    expect(r.stderr).toContain('tsvisor loader: bundle, code cache accepted');
    expect(r.stdout).toBe('hi\n');
    expect(bundleFiles(undefined, COMMAND_FLAGS).cache).not.toBe(bundleFiles(undefined, []).cache);
  });

  it('starts Node without NODE_EXTRA_CA_CERTS and gives the sandboxed program its value', () => {
    // A file Node cannot load: a Node that reads it says so on stderr.
    const certs = '/nonexistent/tsvisor test/extra $certs.pem';
    const run = (env: NodeJS.ProcessEnv) =>
      spawnSync(bin, ['do', '--', '/usr/bin/env'], { encoding: 'utf8', timeout: 60_000, env });
    const withCerts = run({ ...process.env, NODE_EXTRA_CA_CERTS: certs });
    expect(withCerts.status).toBe(0);
    expect(withCerts.stderr).not.toContain('extra certs');
    const lines = withCerts.stdout.split('\n');
    expect(lines).toContain(`NODE_EXTRA_CA_CERTS=${certs}`);
    expect(lines.filter((l) => l.startsWith('TSVISOR_NODE_EXTRA_CA_CERTS='))).toEqual([]);
    const { NODE_EXTRA_CA_CERTS: _, ...rest } = process.env;
    const without = run(rest);
    expect(without.status).toBe(0);
    expect(without.stdout).not.toMatch(/^(TSVISOR_)?NODE_EXTRA_CA_CERTS=/m);
  });

  it('restores held variables: a value, an unset one, and one given both ways', () => {
    const env: NodeJS.ProcessEnv = { TSVISOR_NODE_EXTRA_CA_CERTS: '/a b/$c.pem', OTHER: 'x' };
    restoreHeldEnv(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/a b/$c.pem', OTHER: 'x' });
    const unset: NodeJS.ProcessEnv = { TSVISOR_NODE_EXTRA_CA_CERTS: '' };
    restoreHeldEnv(unset);
    expect(unset).toEqual({});
    // `node bin/tsvisor.cjs` with both set: the variable Node saw wins.
    const both: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: '/x.pem', TSVISOR_NODE_EXTRA_CA_CERTS: '/y.pem' };
    restoreHeldEnv(both);
    expect(both).toEqual({ NODE_EXTRA_CA_CERTS: '/x.pem' });
  });

  it('is plain ASCII, read as latin1, and a non-ASCII bundle is read as UTF-8', () => {
    const files = bundleFiles();
    const code = readFileSync(files.code);
    expect(code.every((b) => b < 0x80)).toBe(true);
    expect(JSON.parse(readFileSync(files.stamps, 'utf8')).encoding).toBe('latin1');
    // What the loader does with each encoding: a bundle that kept a UTF-8 string must not be
    // read as latin1 (its 'µ' would turn into two characters).
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-enc-'));
    try {
      const own = bundleFiles(dir);
      writeFileSync(own.code, 'module.exports = { unit: "µs" };\n');
      expect(loadBundle(own, 'utf8').exports.unit).toBe('µs');
      expect(loadBundle(own, 'latin1').exports.unit).not.toBe('µs');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the training workload the same from the bundle and from the modules', () => {
    for (const env of [{}, { TSVISOR_NO_BUNDLE: '1' }]) {
      // Through a volume: the sandbox has its own /tmp, and a checkout may live under it.
      const r = tsvisor(['do', '-v', `${dirname(train)}:/train:ro`, '--', '/train/train'], env);
      expect(r.stderr).toContain(
        env.TSVISOR_NO_BUNDLE ? 'tsvisor loader: modules' : 'tsvisor loader: bundle',
      );
      expect(r.status).toBe(0);
    }
  });
});

describe('bundleIsFresh', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsvisor-bundle-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function setup() {
    const files = bundleFiles(dir);
    const input = join(dir, 'input.tsbuildinfo');
    writeFileSync(files.code, '// bundle\n');
    writeFileSync(input, 'abcdef');
    utimesSync(input, 1000, 1000);
    const s = stampOf(input);
    writeFileSync(files.stamps, JSON.stringify({ inputs: [{ ...s, path: relative(dir, input) }] }));
    return { files, input };
  }

  it('is fresh while the inputs are unchanged, even with a new mtime (a restored copy)', () => {
    const { files, input } = setup();
    expect(bundleIsFresh(files)).toBe(true);
    utimesSync(input, 2000, 2000);
    expect(bundleIsFresh(files)).toBe(true);
    // The new mtime is recorded, so the next start need not hash the input again.
    const stamps = JSON.parse(readFileSync(files.stamps, 'utf8')) as { inputs: { mtimeMs: number }[] };
    expect(stamps.inputs[0]?.mtimeMs).toBe(2_000_000);
    // A later change of content at that same size is still seen once the mtime moves again.
    writeFileSync(input, 'abcdeX');
    expect(bundleIsFresh(files)).toBe(false);
  });

  it('is stale once an input changed, even at the same size and mtime', () => {
    const { files, input } = setup();
    writeFileSync(input, 'abcdeX');
    expect(bundleIsFresh(files)).toBe(false);
    utimesSync(input, 1000, 1000);
    // Same size and mtime as stamped: taken as unchanged without reading it (tsc rewrites the
    // file, so a rebuild always moves its mtime).
    expect(bundleIsFresh(files)).toBe(true);
    writeFileSync(input, 'abcdefg');
    utimesSync(input, 1000, 1000);
    expect(bundleIsFresh(files)).toBe(false);
  });

  it('is stale without its inputs, its stamps or its code', () => {
    const { files, input } = setup();
    rmSync(input);
    expect(bundleIsFresh(files)).toBe(false);
    setup();
    writeFileSync(files.stamps, '{');
    expect(bundleIsFresh(files)).toBe(false);
    setup();
    rmSync(files.code);
    expect(bundleIsFresh(files)).toBe(false);
  });
});
