// Linux overlayfs (-o userxattr) over host directories, for tests: run shell commands in the
// merged tree, or list it, inside a private mount namespace (unshare -m) so nothing leaks.
// And the same listing taken through a tsvisor Posix, so the two can be compared.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isError } from '@tsvisor/abi';
import { O_DIRECTORY, O_RDONLY, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from '../constants.js';
import type { Posix } from '../posix.js';

/** One entry of a listing: `path type mode size content` (content: file bytes or link target). */
export type Listing = string[];

const TYPE: Record<number, string> = { [S_IFDIR]: 'd', [S_IFREG]: 'f', [S_IFLNK]: 'l' };
const typeName = (mode: number): string => TYPE[mode & S_IFMT] ?? `t${(mode & S_IFMT).toString(8)}`;

function line(path: string, mode: number, size: number, content: string): string {
  return `${path} ${typeName(mode)} ${(mode & 0o7777).toString(8)} ${(mode & S_IFMT) === S_IFDIR ? '-' : size} ${JSON.stringify(content)}`;
}

/** The listing script run by node inside the namespace (node:fs on the merged mount). */
const LIST_JS = `
const fs = require('node:fs');
const root = process.argv[1];
const out = [];
const TYPE = { ${S_IFDIR}: 'd', ${S_IFREG}: 'f', ${S_IFLNK}: 'l' };
const walk = (rel) => {
  for (const n of fs.readdirSync(root + rel).sort()) {
    const p = rel + '/' + n;
    let st;
    try { st = fs.lstatSync(root + p); } catch (e) { out.push(p + ' ' + e.code); continue; }
    const t = st.mode & ${S_IFMT};
    const content = t === ${S_IFREG} ? fs.readFileSync(root + p, 'latin1') : t === ${S_IFLNK} ? fs.readlinkSync(root + p, 'latin1') : '';
    out.push(p + ' ' + (TYPE[t] ?? 't' + t.toString(8)) + ' ' + (st.mode & 0o7777).toString(8) + ' ' + (t === ${S_IFDIR} ? '-' : st.size) + ' ' + JSON.stringify(content));
    if (t === ${S_IFDIR}) walk(p);
  }
};
walk('');
process.stdout.write(JSON.stringify(out));
`;

export interface Layers {
  lower: string;
  upper: string;
  work: string;
  merged: string;
}

/** Fresh upper, work and mount-point directories under `base` for `lower`. */
export function layers(base: string, lower: string, name: string): Layers {
  const l = {
    lower,
    upper: join(base, `${name}-upper`),
    work: join(base, `${name}-work`),
    merged: join(base, `${name}-merged`),
  };
  for (const d of [l.upper, l.work, l.merged]) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { mode: 0o755 });
  }
  return l;
}

/**
 * Mount Linux overlayfs with userxattr over `l` in a new mount namespace and run `script` (sh)
 * in the merged directory; its stdout. The work directory is emptied first (overlayfs wants it
 * clean of a previous mount's leftovers only as far as it cleans them itself).
 */
export function inKernelOverlay(l: Layers, script: string): string {
  const opts = `lowerdir=${l.lower},upperdir=${l.upper},workdir=${l.work},userxattr`;
  const r = spawnSync(
    'unshare',
    ['-m', 'sh', '-c', `mount -t overlay -o ${opts} none ${l.merged} && cd ${l.merged} && ${script}`],
    {
      encoding: 'latin1',
    },
  );
  if (r.status !== 0) throw new Error(`kernel overlay: status ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The merged tree as Linux overlayfs shows it. */
export function kernelListing(l: Layers): Listing {
  return JSON.parse(
    inKernelOverlay(l, `${JSON.stringify(process.execPath)} -e ${shellQuote(LIST_JS)} ${l.merged}`),
  ) as Listing;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The tree under `/` of `p` as the same listing. */
export function vfsListing(p: Posix): Listing {
  const out: Listing = [];
  const walk = (rel: string): void => {
    const fd = p.open(rel === '' ? '/' : rel, O_RDONLY | O_DIRECTORY);
    if (isError(fd)) throw new Error(`open ${rel}: ${fd.name}`);
    const ents = p.getdents(fd);
    p.close(fd);
    if (isError(ents)) throw new Error(`getdents ${rel}: ${ents.name}`);
    for (const n of ents
      .map((e) => e.name)
      .filter((n) => n !== '.' && n !== '..')
      .sort()) {
      const path = `${rel}/${n}`;
      const st = p.lstat(path);
      if (isError(st)) {
        out.push(`${path} ${st.name}`);
        continue;
      }
      const t = st.mode & S_IFMT;
      let content = '';
      if (t === S_IFREG) {
        const f = p.open(path, O_RDONLY);
        if (isError(f)) throw new Error(`open ${path}: ${f.name}`);
        const buf = new Uint8Array(st.size);
        const n = p.read(f, buf);
        p.close(f);
        if (isError(n)) throw new Error(`read ${path}: ${n.name}`);
        content = Buffer.from(buf.subarray(0, n)).toString('latin1');
      } else if (t === S_IFLNK) {
        const target = p.readlink(path);
        if (isError(target)) throw new Error(`readlink ${path}: ${target.name}`);
        content = target;
      }
      out.push(line(path, st.mode, st.size, content));
      if (t === S_IFDIR) walk(path);
    }
  };
  walk('');
  return out;
}

/** A digest of every name, mode, size, mtime, byte, link target and xattr under `dir`. */
export function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      h.update(`${p}:${st.mode}:${st.size}:${st.mtimeMs}\n`);
      if (st.isSymbolicLink()) h.update(readlinkSync(p));
      else if (st.isDirectory()) walk(p);
      else if (st.isFile()) h.update(readFileSync(p));
    }
  };
  walk(dir);
  h.update(
    execFileSync('getfattr', ['-R', '-d', '-h', '-m', '-', '--absolute-names', dir], { encoding: 'latin1' }),
  );
  return h.digest('hex');
}

/** The attributes of a host file as `getfattr` shows them (name -> value text). */
export function hostXattrs(path: string): Record<string, string> {
  const out = execFileSync('getfattr', ['-d', '-h', '-m', '-', '--absolute-names', path], {
    encoding: 'latin1',
  });
  const attrs: Record<string, string> = {};
  for (const l of out.split('\n')) {
    const m = /^([^#=][^=]*)=(.*)$/.exec(l);
    if (m !== null) attrs[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1');
  }
  return attrs;
}
