// overlayfs's redirect_dir: renaming a directory that has a lower part, compared with Linux
// overlayfs mounted in a private mount namespace (with redirect_dir=on and =off).
import { createHash } from 'node:crypto';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E, isError } from '@tsvisor/abi';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AT_REMOVEDIR, Hostfs, O_RDONLY, Overlayfs, Posix, ROOT_CREDS, Tmpfs, Vfs } from '../index.js';
import { normalize, runHost, runVfs } from '../testing/differential.test-util.js';
import type { Op } from '../testing/differential.test-util.js';
import { opArb } from '../testing/model.test-util.js';

const base = mkdtempSync(join(tmpdir(), 'tsvisor-overlay-redirect-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function makeLower(): string {
  const lower = mkdtempSync(join(base, 'lower-'));
  mkdirSync(join(lower, 'a', 'b', 'a'), { recursive: true, mode: 0o755 });
  writeFileSync(join(lower, 'a', 'c'), 'lower a/c');
  writeFileSync(join(lower, 'a', 'b', 'c'), 'deep');
  mkdirSync(join(lower, 'd'), { mode: 0o750 });
  writeFileSync(join(lower, 'd', 'h1'), 'linked');
  linkSync(join(lower, 'd', 'h1'), join(lower, 'd', 'h2'));
  writeFileSync(join(lower, 'f'), 'a file');
  mkdirSync(join(lower, 'e'), { mode: 0o755 });
  writeFileSync(join(lower, 'e', 'x'), 'hidden');
  mkdirSync(join(lower, 'g'), { mode: 0o755 });
  mkdirSync(join(lower, 'k'), { mode: 0o700 });
  mkdirSync(join(lower, 'h'), { mode: 0o711 });
  writeFileSync(join(lower, 'h', 'y'), 'in h');
  return lower;
}

function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      h.update(`${p}:${st.mode}:${st.nlink}:${st.size}:${st.mtimeMs}\n`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

function overlayPosix(lower: string, redirectDir: boolean): Posix {
  const fs = new Overlayfs(new Hostfs(lower, { readOnly: true }), new Tmpfs({ mode: 0o755 }), {
    redirectDir,
  });
  return new Posix(new Vfs(fs), ROOT_CREDS);
}

/** Renames of lower, merged and upper directories, and what the merged tree shows after. */
const OPS: readonly Op[] = [
  ['rename', '/a', '/z', 0],
  ['ls', '/'],
  ['ls', '/z'],
  ['stat', '/a', 0],
  ['stat', '/z', 0],
  ['open', '/z/c', O_RDONLY, 0],
  ['read', 0, 100],
  ['rename', '/z/b', '/d/b2', 0], // a nested lower directory into another lower directory
  ['ls', '/d/b2'],
  ['ls', '/d/b2/a'],
  ['ls', '/z'],
  ['mkdir', '/a', 0o755], // where the renamed lower directory was: nothing shows through
  ['ls', '/a'],
  ['rename', '/d', '/a/d', 0], // into an upper directory
  ['ls', '/a/d'],
  ['stat', '/a/d/h1', 0],
  ['link', '/a/d/h1', '/a/d/h3', 0],
  ['stat', '/a/d/h1', 0],
  ['stat', '/a/d/h2', 0],
  ['rename', '/z', '/a/d/zz', 0], // a renamed directory renamed again
  ['ls', '/a/d/zz'],
  ['unlinkat', '/a/d/zz/c', 0],
  ['unlinkat', '/a/d/zz', AT_REMOVEDIR],
  ['ls', '/a/d'],
  ['rename', '/a/d', '/d', 0], // back to its first name, over the whiteout there
  ['ls', '/d'],
  ['ls', '/d/b2'],
  ['open', '/d/b2/c', O_RDONLY, 0],
  ['read', 1, 100],
  ['mkdir', '/u', 0o755],
  ['rename', '/u', '/z', 0], // an upper directory where a lower one was removed
  ['ls', '/z'],
  ['unlinkat', '/e/x', 0],
  ['unlinkat', '/e', AT_REMOVEDIR],
  ['mkdir', '/v', 0o700],
  ['rename', '/v', '/e', 0], // an upper directory over a whiteout: the lower /e stays hidden
  ['ls', '/e'],
  ['rename', '/d/b2', '/f', 0], // over a file: ENOTDIR either way
  ['rename', '/d', '/d/b2/x', 0], // into itself: EINVAL
  ['rename', '/d', '/z', 2], // RENAME_EXCHANGE of a lower directory and an upper one
  ['ls', '/z'],
  ['ls', '/d'],
  ['mkdir', '/w', 0o755],
  ['rename', '/w', '/g', 0], // an upper directory over an empty lower one
  ['ls', '/g'],
  ['stat', '/g', 0],
  ['rename', '/h', '/k', 0], // a lower directory over an empty lower one
  ['ls', '/k'],
  ['stat', '/k', 0],
  ['stat', '/h', 0],
  ['unlinkat', '/k/y', 0],
  ['rename', '/k', '/z/k', 0], // a renamed directory holding a whiteout, into an emptied one
  ['ls', '/z/k'],
  ['ls', '/'],
];

describe('overlay rename of directories with a lower part', () => {
  for (const redirectDir of [true, false]) {
    it(`gives what Linux overlayfs gives with redirect_dir=${redirectDir ? 'on' : 'off'}`, () => {
      const lower = makeLower();
      const before = treeHash(lower);
      const host = normalize(runHost(OPS, { overlayLower: lower, redirectDir }), OPS);
      const mine = normalize(runVfs(overlayPosix(lower, redirectDir), OPS), OPS);
      const diffs = OPS.map((op, i) => ({ i, op: JSON.stringify(op), host: host[i], mine: mine[i] })).filter(
        (d) => d.host !== d.mine,
      );
      expect(diffs).toEqual([]);
      // The first rename is the one redirect_dir decides.
      expect(host[0]).toBe(redirectDir ? 'OK' : `E${E.EXDEV.errno}`);
      expect(treeHash(lower)).toBe(before);
    });
  }

  it('random operation sequences give what overlayfs with redirect_dir=on gives', () => {
    const lower = makeLower();
    const before = treeHash(lower);
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
        const host = normalize(runHost(ops, { overlayLower: lower, redirectDir: true }), ops);
        const p = overlayPosix(lower, true);
        const mine = normalize(runVfs(p, ops), ops);
        p.closeAll();
        expect(mine).toEqual(host);
        expect(treeHash(lower)).toBe(before);
      }),
      { numRuns: Number(process.env['VFS_FUZZ_RUNS'] ?? 60) },
    );
  });

  it('keeps st_ino of a renamed lower directory, of its children and of hard links', () => {
    const lower = makeLower();
    const p = overlayPosix(lower, true);
    const ino = (path: string): number => {
      const st = p.stat(path);
      if (isError(st)) throw new Error(`${path}: ${st.errno}`);
      return st.ino;
    };
    const dir = ino('/d');
    const h1 = ino('/d/h1');
    expect(ino('/d/h2')).toBe(h1);
    expect(p.rename('/d', '/moved')).toBe(0);
    expect(ino('/moved')).toBe(dir);
    expect(ino('/moved/h1')).toBe(h1);
    expect(ino('/moved/h2')).toBe(h1);
    expect(p.stat('/d')).toBe(E.ENOENT);
    expect(p.rename('/moved', '/a/b/again')).toBe(0);
    expect(ino('/a/b/again')).toBe(dir);
    expect(ino('/a/b/again/h2')).toBe(h1);
  });

  it('defaults to the redirect_dir default of the host kernel', () => {
    const param = '/sys/module/overlay/parameters/redirect_dir';
    const fs = new Overlayfs(new Tmpfs({ mode: 0o755 }), new Tmpfs({ mode: 0o755 }));
    if (existsSync(param)) expect(fs.redirectDir).toBe(readFileSync(param, 'utf8').trim() === 'Y');
    expect(fs.redirectDir).toBe(false);
  });
});
