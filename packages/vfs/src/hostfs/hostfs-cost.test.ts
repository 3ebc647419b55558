// What a stat, lstat or readlink of a host file costs in host calls (hostfs makes only node:fs
// *Sync calls, counted here), and that what is kept between calls never hides a change Linux
// would show: in place on an overlay's lower layer, any change on a volume (a bind mount).
import fs from 'node:fs';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E, isError } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import { afterEach, describe, expect, it } from 'vitest';
import { Hostfs, MS_RDONLY, Overlayfs, Posix, ROOT_CREDS, Tmpfs, Vfs } from '../index.js';
import type { Stat } from '../index.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop() as string, { recursive: true, force: true });
});

/** A host tree like a distribution's: /etc/localtime links to a zoneinfo file. */
function hostTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'tsvisor-hostfs-cost-'));
  dirs.push(root);
  mkdirSync(join(root, 'usr/share/zoneinfo/Etc'), { recursive: true });
  writeFileSync(join(root, 'usr/share/zoneinfo/Etc/UTC'), 'TZif2');
  mkdirSync(join(root, 'etc'));
  symlinkSync('/usr/share/zoneinfo/Etc/UTC', join(root, 'etc/localtime'));
  return root;
}

/** The sandbox root of `tsvisor do`: the host tree read-only under an in-memory upper layer. */
function overlayOn(root: string): Posix {
  return new Posix(new Vfs(new Overlayfs(new Hostfs(root, { readOnly: true }), new Tmpfs())), ROOT_CREDS);
}

/** The host tree as a volume: hostfs mounted directly, read-only. */
function volumeOn(root: string): Posix {
  return new Posix(new Vfs(new Hostfs(root, { readOnly: true }), MS_RDONLY), ROOT_CREDS);
}

/** The node:fs calls `fn` makes, by name. */
function hostCalls(fn: () => void): Record<string, number> {
  const counts: Record<string, number> = {};
  const api = fs as unknown as Record<string, unknown>;
  const saved = new Map<string, (...args: unknown[]) => unknown>();
  for (const name of Object.keys(api)) {
    const f = api[name];
    if (!name.endsWith('Sync') || typeof f !== 'function') continue;
    saved.set(name, f as (...args: unknown[]) => unknown);
    api[name] = (...args: unknown[]): unknown => {
      counts[name] = (counts[name] ?? 0) + 1;
      return (f as (...args: unknown[]) => unknown)(...args);
    };
  }
  // hostfs imports node:fs as a namespace: its bindings follow the module object only when synced.
  syncBuiltinESMExports();
  try {
    fn();
  } finally {
    for (const [name, f] of saved) api[name] = f;
    syncBuiltinESMExports();
  }
  return counts;
}

function stat(s: Stat | LinuxError): Stat {
  if (isError(s)) throw new Error(`stat failed: ${s.name}`);
  return s;
}

describe('host calls per stat through the overlay', () => {
  it('stat of a symlink to a host file: one lstat of the file, the link target is kept', () => {
    const p = overlayOn(hostTree());
    expect(stat(p.stat('/etc/localtime')).size).toBe(5);
    const calls = hostCalls(() => {
      for (let i = 0; i < 10; i++) expect(stat(p.stat('/etc/localtime')).size).toBe(5);
    });
    expect(calls).toEqual({ lstatSync: 10 });
  });

  it('lstat of the symlink: one lstat; readlink: none', () => {
    const p = overlayOn(hostTree());
    expect(p.readlink('/etc/localtime')).toBe('/usr/share/zoneinfo/Etc/UTC');
    const lstats = hostCalls(() => {
      for (let i = 0; i < 10; i++) expect(stat(p.lstat('/etc/localtime')).size).toBe(27);
    });
    expect(lstats).toEqual({ lstatSync: 10 });
    const readlinks = hostCalls(() => {
      for (let i = 0; i < 10; i++) expect(p.readlink('/etc/localtime')).toBe('/usr/share/zoneinfo/Etc/UTC');
    });
    expect(readlinks).toEqual({});
  });

  it('a host file changed in place shows its new size and mtime at the next stat', () => {
    const root = hostTree();
    const p = overlayOn(root);
    const before = stat(p.stat('/etc/localtime'));
    appendFileSync(join(root, 'usr/share/zoneinfo/Etc/UTC'), ' and more');
    utimesSync(join(root, 'usr/share/zoneinfo/Etc/UTC'), 1_000_000, 2_000_000);
    const after = stat(p.stat('/etc/localtime'));
    expect(after.ino).toBe(before.ino);
    expect(after.size).toBe(14);
    expect(after.mtimeNs).toBe(2_000_000_000_000_000n);
    expect(stat(p.lstat('/usr/share/zoneinfo/Etc/UTC')).size).toBe(14);
  });
});

describe('host calls per stat on a volume', () => {
  it('each directory of the path is one lstat: a known directory is not opened again', () => {
    const p = volumeOn(hostTree());
    expect(stat(p.stat('/usr/share/zoneinfo/Etc/UTC')).size).toBe(5);
    const calls = hostCalls(() => expect(stat(p.stat('/usr/share/zoneinfo/Etc/UTC')).size).toBe(5));
    // Four directories and the file looked up, then the file's attributes at stat.
    expect(calls).toEqual({ lstatSync: 6 });
  });

  it('sees host renames over a file and a directory, new files and a replaced symlink', () => {
    const root = hostTree();
    const p = volumeOn(root);
    mkdirSync(join(root, 'a'));
    writeFileSync(join(root, 'a/f'), 'old');
    writeFileSync(join(root, 'a/g'), 'newer');
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'b/in-b'), 'b');
    mkdirSync(join(root, 'c'));
    expect(stat(p.stat('/a/f')).size).toBe(3);
    expect(stat(p.stat('/b/in-b')).size).toBe(1);
    expect(stat(p.stat('/c')).nlink).toBe(2);
    expect(p.stat('/a/h')).toBe(E.ENOENT);
    expect(p.readlink('/etc/localtime')).toBe('/usr/share/zoneinfo/Etc/UTC');

    renameSync(join(root, 'a/g'), join(root, 'a/f'));
    renameSync(join(root, 'b'), join(root, 'c'));
    writeFileSync(join(root, 'a/h'), 'h');
    rmSync(join(root, 'etc/localtime'));
    symlinkSync('/usr/share/zoneinfo/Etc/GMT', join(root, 'etc/localtime'));

    expect(stat(p.stat('/a/f')).size).toBe(5);
    expect(p.stat('/a/g')).toBe(E.ENOENT);
    expect(stat(p.stat('/c/in-b')).size).toBe(1);
    expect(p.stat('/b/in-b')).toBe(E.ENOENT);
    expect(stat(p.stat('/a/h')).size).toBe(1);
    expect(p.readlink('/etc/localtime')).toBe('/usr/share/zoneinfo/Etc/GMT');
    expect(p.stat('/etc/localtime')).toBe(E.ENOENT);
  });

  it('a known directory moved out of the volume on the host is not reached again', () => {
    const base = mkdtempSync(join(tmpdir(), 'tsvisor-hostfs-cost-'));
    dirs.push(base);
    mkdirSync(join(base, 'vol/d'), { recursive: true });
    writeFileSync(join(base, 'vol/d/f'), 'f');
    const p = volumeOn(join(base, 'vol'));
    expect(stat(p.stat('/d/f')).size).toBe(1);
    renameSync(join(base, 'vol/d'), join(base, 'outside'));
    expect(p.stat('/d/f')).toBe(E.ENOENT);
    mkdirSync(join(base, 'vol/d'));
    expect(p.stat('/d/f')).toBe(E.ENOENT);
    renameSync(join(base, 'outside'), join(base, 'vol/e'));
    expect(stat(p.stat('/e/f')).size).toBe(1);
  });
});
