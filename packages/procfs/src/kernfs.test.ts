import { describe, expect, it } from 'vitest';
import { E, isError, OpenFlag } from '@tsvisor/abi';
import { Posix, ROOT_CREDS, Vfs } from '@tsvisor/vfs';
import type { Stat } from '@tsvisor/vfs';
import { KernFs, dir, file, symlink } from './kernfs.js';
import type { DirNode } from './kernfs.js';
import { list, readAll } from './mount.test-util.js';

/** A tiny declared filesystem: a counter file, a writable value, a dynamic directory. */
function tree(): { root: DirNode; items: Set<string>; value: { v: string }; reads: { n: number } } {
  const items = new Set(['a', 'b']);
  const value = { v: 'x' };
  const reads = { n: 0 };
  const root = dir({
    counter: file(() => `${++reads.n}\n`),
    value: {
      kind: 'file',
      mode: 0o644,
      read: () => value.v,
      write: (data) => {
        value.v = Buffer.from(data).toString('latin1');
        return data.length;
      },
    },
    sink: { kind: 'file', mode: 0o200, write: (d) => d.length },
    link: symlink(() => (value.v === '' ? E.ENOENT : value.v)),
    items: {
      kind: 'dir',
      mode: 0o555,
      dynamic: {
        kind: 'file',
        list: () => [...items],
        lookup: (name) => (items.has(name) ? file(() => name) : null),
      },
    },
  });
  return { root, items, value, reads };
}

function mountTree(root: DirNode): Posix {
  const vfs = new Vfs(new KernFs('testfs', 0x1234, root));
  return new Posix(vfs, ROOT_CREDS);
}

describe('KernFs', () => {
  it('generates content once per open and again after a rewind', () => {
    const t = tree();
    const p = mountTree(t.root);
    expect(readAll(p, '/counter')).toBe('1\n');
    expect(readAll(p, '/counter')).toBe('2\n');
    const fd = p.open('/counter', OpenFlag.O_RDONLY) as number;
    expect(t.reads.n).toBe(2); // opening alone generates nothing
    const b = new Uint8Array(1);
    expect(p.read(fd, b)).toBe(1);
    expect(p.read(fd, b)).toBe(1);
    expect(p.read(fd, b)).toBe(0);
    expect(t.reads.n).toBe(3);
    expect(p.pread(fd, b, 0)).toBe(1);
    expect(t.reads.n).toBe(4);
  });

  it('calls write handlers; reading a write-only file gives EINVAL', () => {
    const t = tree();
    const p = mountTree(t.root);
    const fd = p.open('/value', OpenFlag.O_RDWR) as number;
    expect(p.write(fd, new TextEncoder().encode('hello'))).toBe(5);
    expect(t.value.v).toBe('hello');
    expect(readAll(p, '/value')).toBe('hello');
    const s = p.open('/sink', OpenFlag.O_WRONLY) as number;
    expect(p.write(s, new Uint8Array(3))).toBe(3);
    // root may open a 0200 file for reading (DAC override), but there is nothing to read
    const r = p.open('/sink', OpenFlag.O_RDONLY) as number;
    expect(p.read(r, new Uint8Array(4))).toBe(E.EINVAL);
  });

  it('computes symlink targets on each readlink', () => {
    const t = tree();
    const p = mountTree(t.root);
    expect(p.readlink('/link')).toBe('x');
    t.value.v = '';
    expect(p.readlink('/link')).toBe(E.ENOENT);
  });

  it('follows a dynamic directory and keeps inode numbers while an entry lives', () => {
    const t = tree();
    const p = mountTree(t.root);
    expect(list(p, '/items')).toEqual(['a', 'b']);
    const ino = (p.stat('/items/a') as Stat).ino;
    expect((p.stat('/items/a') as Stat).ino).toBe(ino);
    t.items.delete('a');
    expect(p.stat('/items/a')).toBe(E.ENOENT);
    expect(list(p, '/items')).toEqual(['b']);
    t.items.add('a');
    const again = p.stat('/items/a');
    expect(isError(again)).toBe(false);
    expect((again as Stat).ino).not.toBe(ino);
  });

  it('lists . and .. with the right inode numbers', () => {
    const p = mountTree(tree().root);
    const fd = p.open('/items', OpenFlag.O_RDONLY) as number;
    const ents = p.getdents(fd) as { name: string; ino: number }[];
    expect(ents.slice(0, 2).map((e) => e.name)).toEqual(['.', '..']);
    expect(ents[0]?.ino).toBe((p.stat('/items') as Stat).ino);
    expect(ents[1]?.ino).toBe((p.stat('/') as Stat).ino);
  });
});
