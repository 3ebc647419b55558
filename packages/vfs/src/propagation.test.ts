import { E, MountFlag, isError } from '@tsvisor/abi';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  O_CREAT,
  O_RDONLY,
  O_WRONLY,
  Posix,
  ROOT_CREDS,
  Tmpfs,
  Vfs,
  attachMount,
  changePropagation,
  copyForBind,
  mountTree,
  MOUNT_MAX,
} from './index.js';
import type { Location, Mount } from './index.js';

const { MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE } = MountFlag;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A namespace with directories `dirs` at the root. */
function ns(...dirs: string[]): { p: Posix; vfs: Vfs } {
  const vfs = new Vfs(new Tmpfs());
  const p = new Posix(vfs, ROOT_CREDS);
  for (const d of dirs) p.mkdir(d, 0o755);
  return { p, vfs };
}

/** Mounts a tmpfs on `path` with a file `id` holding `name` and directories `dirs`. */
function tmpfs(vfs: Vfs, p: Posix, name: string, path: string, ...dirs: string[]): Mount {
  const m = vfs.mount(p.ctx, p.ctx.cwd, path, new Tmpfs({ mode: 0o755 }));
  if (isError(m)) throw new Error(`mount ${path}: ${m.errno}`);
  const fd = p.open(`${path}/id`, O_CREAT | O_WRONLY, 0o644);
  if (isError(fd)) throw new Error(`id ${path}`);
  p.write(fd, enc.encode(name));
  p.close(fd);
  for (const d of dirs) p.mkdir(`${path}/${d}`, 0o755);
  return m;
}

function bind(vfs: Vfs, p: Posix, from: string, to: string, recursive = false): Mount | number {
  const src = vfs.lookupat(p.ctx, p.ctx.cwd, from, 0);
  if (isError(src)) return src.errno;
  if (recursive) {
    const at = vfs.lookupat(p.ctx, p.ctx.cwd, to, 0);
    if (isError(at)) return at.errno;
    const m = copyForBind(src, true);
    const err = attachMount(vfs.rootMount, m, at);
    return err ? err.errno : m;
  }
  const m = vfs.bindMount(p.ctx, src, p.ctx.cwd, to);
  return isError(m) ? m.errno : m;
}

/** The name of the tmpfs a walk finds at `path` (its `id` file), or the errno. */
function who(p: Posix, path: string): string | number {
  const fd = p.open(`${path}/id`, O_RDONLY);
  if (isError(fd)) return fd.errno;
  const buf = new Uint8Array(32);
  const n = p.read(fd, buf);
  p.close(fd);
  return isError(n) ? n.errno : dec.decode(buf.subarray(0, n));
}

function mountAt(vfs: Vfs, p: Posix, path: string): Mount {
  const loc = vfs.lookupat(p.ctx, p.ctx.cwd, path, 0);
  if (isError(loc)) throw new Error(path);
  return loc.mount;
}

const ENOENT = E.ENOENT.errno;

describe('mount propagation', () => {
  it('a shared mount bound twice: a mount under any peer appears under all, as a peer', () => {
    const { p, vfs } = ns('/s', '/p1', '/p2');
    const s = tmpfs(vfs, p, 'src', '/s', 'x', 'y');
    changePropagation(vfs.rootMount, s, MS_SHARED, false);
    const p1 = bind(vfs, p, '/s', '/p1');
    const p2 = bind(vfs, p, '/s', '/p2');
    if (typeof p1 === 'number' || typeof p2 === 'number') throw new Error();
    expect(s.peerGroup).not.toBe(0);
    expect([p1.peerGroup, p2.peerGroup]).toEqual([s.peerGroup, s.peerGroup]);
    tmpfs(vfs, p, 't1', '/p1/x');
    expect([who(p, '/s/x'), who(p, '/p1/x'), who(p, '/p2/x')]).toEqual(['t1', 't1', 't1']);
    const copies = ['/s/x', '/p1/x', '/p2/x'].map((x) => mountAt(vfs, p, x));
    expect(new Set(copies).size).toBe(3);
    const group = copies[0]?.peerGroup;
    expect(group).not.toBe(0);
    expect(group).not.toBe(s.peerGroup);
    expect(copies.every((c) => c.peerGroup === group)).toBe(true);
    // Unmounting one takes the others along.
    expect(vfs.umount(p.ctx, p.ctx.cwd, '/p2/x')).toBeUndefined();
    expect([who(p, '/s/x'), who(p, '/p1/x'), who(p, '/p2/x')]).toEqual([ENOENT, ENOENT, ENOENT]);
  });

  it('a peer bound from a subdirectory receives only what is mounted inside it', () => {
    const { p, vfs } = ns('/s', '/sub');
    const s = tmpfs(vfs, p, 'src', '/s', 'in', 'out', 'in/k');
    changePropagation(vfs.rootMount, s, MS_SHARED, false);
    expect(typeof bind(vfs, p, '/s/in', '/sub')).toBe('object');
    tmpfs(vfs, p, 'o', '/s/out');
    tmpfs(vfs, p, 'k', '/s/in/k');
    expect(who(p, '/sub/k')).toBe('k');
    expect(p.stat('/sub/out')).toBe(E.ENOENT);
  });

  it('umount propagation skips copies that carry mounts of their own', () => {
    const { p, vfs } = ns('/s', '/p1');
    const s = tmpfs(vfs, p, 'src', '/s', 'y');
    changePropagation(vfs.rootMount, s, MS_SHARED, false);
    bind(vfs, p, '/s', '/p1');
    tmpfs(vfs, p, 't2', '/s/y');
    const copy = mountAt(vfs, p, '/p1/y');
    changePropagation(vfs.rootMount, copy, MS_PRIVATE, false);
    tmpfs(vfs, p, 'k', '/p1/y', 'k');
    p.mkdir('/p1/y/k', 0o755);
    // /p1/y is covered by k now; the copy below it has a child, so it stays.
    expect(vfs.umount(p.ctx, p.ctx.cwd, '/s/y')).toBeUndefined();
    expect(who(p, '/s/y')).toBe(ENOENT);
    expect(who(p, '/p1/y')).toBe('k');
  });

  it('a slave receives from its master and sends nothing back; a private mount neither', () => {
    const { p, vfs } = ns('/m', '/sl', '/pr');
    const m = tmpfs(vfs, p, 'master', '/m', 'a', 'b', 'c', 'd');
    changePropagation(vfs.rootMount, m, MS_SHARED, false);
    const sl = bind(vfs, p, '/m', '/sl');
    const pr = bind(vfs, p, '/m', '/pr');
    if (typeof sl === 'number' || typeof pr === 'number') throw new Error();
    changePropagation(vfs.rootMount, sl, MS_SLAVE, false);
    changePropagation(vfs.rootMount, pr, MS_PRIVATE, false);
    expect([sl.peerGroup, sl.masterGroup]).toEqual([0, m.peerGroup]);
    expect([pr.peerGroup, pr.masterGroup]).toEqual([0, 0]);
    const ma = tmpfs(vfs, p, 'ma', '/m/a');
    tmpfs(vfs, p, 'sb', '/sl/b');
    tmpfs(vfs, p, 'prc', '/pr/c');
    expect([who(p, '/sl/a'), who(p, '/pr/a'), who(p, '/m/b'), who(p, '/m/c')]).toEqual([
      'ma',
      ENOENT,
      ENOENT,
      ENOENT,
    ]);
    const copy = mountAt(vfs, p, '/sl/a');
    expect([copy.peerGroup, copy.masterGroup]).toEqual([0, ma.peerGroup]);
    expect(vfs.umount(p.ctx, p.ctx.cwd, '/m/a')).toBeUndefined();
    expect(who(p, '/sl/a')).toBe(ENOENT);
  });

  it('copies on shared slaves are peers of each other and slaves of the copy in the master', () => {
    const { p, vfs } = ns('/m', '/sl', '/sl2');
    const m = tmpfs(vfs, p, 'master', '/m', 'e');
    changePropagation(vfs.rootMount, m, MS_SHARED, false);
    const sl = bind(vfs, p, '/m', '/sl');
    if (typeof sl === 'number') throw new Error();
    changePropagation(vfs.rootMount, sl, MS_SLAVE, false);
    changePropagation(vfs.rootMount, sl, MS_SHARED, false);
    const sl2 = bind(vfs, p, '/sl', '/sl2');
    if (typeof sl2 === 'number') throw new Error();
    expect([sl2.peerGroup, sl2.masterGroup]).toEqual([sl.peerGroup, m.peerGroup]);
    const me = tmpfs(vfs, p, 'me', '/m/e');
    const [a, b] = ['/sl/e', '/sl2/e'].map((x) => mountAt(vfs, p, x));
    if (a === undefined || b === undefined) throw new Error();
    expect(a.peerGroup).not.toBe(0);
    expect(a.peerGroup).not.toBe(me.peerGroup);
    expect([b.peerGroup, a.masterGroup, b.masterGroup]).toEqual([a.peerGroup, me.peerGroup, me.peerGroup]);
  });

  it('tucks a copy under what the receiving mount already has on that spot', () => {
    const { p, vfs } = ns('/m', '/sl');
    const m = tmpfs(vfs, p, 'master', '/m', 't');
    changePropagation(vfs.rootMount, m, MS_SHARED, false);
    const sl = bind(vfs, p, '/m', '/sl');
    if (typeof sl === 'number') throw new Error();
    changePropagation(vfs.rootMount, sl, MS_SLAVE, false);
    const mine = tmpfs(vfs, p, 'slt', '/sl/t');
    tmpfs(vfs, p, 'mt', '/m/t');
    expect([who(p, '/m/t'), who(p, '/sl/t')]).toEqual(['mt', 'slt']);
    expect(mine.parent?.parent).toBe(sl);
    expect(vfs.umount(p.ctx, p.ctx.cwd, '/sl/t')).toBeUndefined();
    expect(who(p, '/sl/t')).toBe('mt');
  });

  it('recursive binds leave unbindable mounts out; unbindable sources cannot be bound', () => {
    const { p, vfs } = ns('/u', '/v', '/w');
    const u = tmpfs(vfs, p, 'unb', '/u', 'in', 'ok');
    const inner = tmpfs(vfs, p, 'inner', '/u/in');
    tmpfs(vfs, p, 'ok', '/u/ok');
    changePropagation(vfs.rootMount, inner, MS_UNBINDABLE, false);
    expect(bind(vfs, p, '/u/in', '/v')).toBe(E.EINVAL.errno);
    expect(typeof bind(vfs, p, '/u', '/v', true)).toBe('object');
    expect([who(p, '/v'), who(p, '/v/in'), who(p, '/v/ok')]).toEqual(['unb', ENOENT, 'ok']);
    changePropagation(vfs.rootMount, u, MS_UNBINDABLE, false);
    expect(bind(vfs, p, '/u', '/w')).toBe(E.EINVAL.errno);
  });

  it('changes types as Linux does: lone shared to slave is private, unbindable stays, slaves pass on', () => {
    const { p, vfs } = ns('/a', '/b', '/c');
    const a = tmpfs(vfs, p, 'a', '/a');
    changePropagation(vfs.rootMount, a, MS_SHARED, false);
    changePropagation(vfs.rootMount, a, MS_SLAVE, false);
    expect([a.peerGroup, a.masterGroup, a.unbindable]).toEqual([0, 0, false]);
    changePropagation(vfs.rootMount, a, MS_UNBINDABLE, false);
    changePropagation(vfs.rootMount, a, MS_SLAVE, false);
    expect(a.unbindable).toBe(true);
    changePropagation(vfs.rootMount, a, MS_SHARED, false);
    expect(a.unbindable).toBe(false);
    // a shared with slave b, b shared with slave c: when b's group ends, c becomes a's slave.
    const b = bind(vfs, p, '/a', '/b');
    if (typeof b === 'number') throw new Error();
    changePropagation(vfs.rootMount, b, MS_SLAVE, false);
    changePropagation(vfs.rootMount, b, MS_SHARED, false);
    const c = bind(vfs, p, '/b', '/c');
    if (typeof c === 'number') throw new Error();
    changePropagation(vfs.rootMount, c, MS_SLAVE, false);
    expect(c.masterGroup).toBe(b.peerGroup);
    changePropagation(vfs.rootMount, b, MS_PRIVATE, false);
    expect(c.masterGroup).toBe(a.peerGroup);
    expect([b.peerGroup, b.masterGroup]).toEqual([0, 0]);
  });

  it('MS_REC changes a whole tree; recursive binds of a shared tree are peers mount by mount', () => {
    const { p, vfs } = ns('/r', '/r2');
    const r = tmpfs(vfs, p, 'r', '/r', 'a');
    tmpfs(vfs, p, 'ra', '/r/a', 'n');
    changePropagation(vfs.rootMount, r, MS_SHARED, true);
    const groups = mountTree(r).map((m) => m.peerGroup);
    expect(groups.every((g) => g !== 0)).toBe(true);
    expect(new Set(groups).size).toBe(2);
    const r2 = bind(vfs, p, '/r', '/r2', true);
    if (typeof r2 === 'number') throw new Error();
    expect(mountTree(r2).map((m) => m.peerGroup)).toEqual(groups);
    tmpfs(vfs, p, 'ran', '/r/a/n');
    expect(who(p, '/r2/a/n')).toBe('ran');
    changePropagation(vfs.rootMount, r2, MS_SLAVE, true);
    expect(mountTree(r2).map((m) => m.masterGroup)).toEqual([...groups, mountAt(vfs, p, '/r/a/n').peerGroup]);
    changePropagation(vfs.rootMount, r2, MS_PRIVATE, true);
    expect(mountTree(r2).every((m) => m.peerGroup === 0 && m.masterGroup === 0)).toBe(true);
  });

  it('keeps its invariants over random sequences of mounts, binds, type changes and unmounts', () => {
    // Every peer of a group has the same master, every master group has a member, unbindable
    // mounts are not shared, and each mount is its parent's child at its mount point.
    const dirs = ['/a', '/b', '/a/a', '/a/b', '/b/a', '/b/b'];
    const types = [MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE] as const;
    const op = fc.oneof(
      fc.record({ kind: fc.constant('mount' as const), at: fc.constantFrom(...dirs) }),
      fc.record({
        kind: fc.constant('bind' as const),
        from: fc.constantFrom(...dirs),
        at: fc.constantFrom(...dirs),
        rec: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('type' as const),
        at: fc.constantFrom(...dirs),
        type: fc.constantFrom(...types),
        rec: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('umount' as const), at: fc.constantFrom(...dirs) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const { p, vfs } = ns('/a', '/b', '/a/a', '/a/b', '/b/a', '/b/b');
        for (const o of ops) {
          if (o.kind === 'mount') {
            // Not the tmpfs() helper: a mount on a shared bind of its own parent propagates over
            // the parent's root (as Linux stacks it), and then the new mount's path is gone.
            if (p.stat(o.at) !== E.ENOENT) {
              const m = vfs.mount(p.ctx, p.ctx.cwd, o.at, new Tmpfs({ mode: 0o755 }));
              expect(isError(m)).toBe(false);
              for (const d of ['a', 'b']) p.mkdir(`${o.at}/${d}`, 0o755);
            }
          } else if (o.kind === 'bind') {
            bind(vfs, p, o.from, o.at, o.rec);
          } else if (o.kind === 'type') {
            const loc = vfs.lookupat(p.ctx, p.ctx.cwd, o.at, 0);
            if (!isError(loc) && loc.inode === loc.mount.root && loc.mount !== vfs.rootMount)
              changePropagation(vfs.rootMount, loc.mount, o.type, o.rec);
          } else {
            vfs.umount(p.ctx, p.ctx.cwd, o.at);
          }
          const all = mountTree(vfs.rootMount);
          const masters = new Map<number, number>();
          for (const m of all) {
            if (m.unbindable) expect(m.peerGroup).toBe(0);
            if (m.parent !== null && m.mountpoint !== null)
              expect(m.parent.children.get(m.mountpoint)).toBe(m);
            if (m.masterGroup !== 0) expect(all.some((x) => x.peerGroup === m.masterGroup)).toBe(true);
            if (m.peerGroup === 0) continue;
            const seen = masters.get(m.peerGroup);
            if (seen === undefined) masters.set(m.peerGroup, m.masterGroup);
            else expect(m.masterGroup).toBe(seen);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('README example: a shared root, a bind, a tmpfs seen twice; a file bound onto a file', () => {
    const vfs = new Vfs(new Tmpfs());
    const p = new Posix(vfs, ROOT_CREDS);
    const at = (path: string) => vfs.lookupat(p.ctx, p.ctx.cwd, path, 0) as Location;
    for (const d of ['/a', '/a/x', '/b']) p.mkdir(d, 0o755);
    changePropagation(vfs.rootMount, vfs.rootMount, MS_SHARED, false);
    expect(isError(vfs.bindMount(p.ctx, at('/a'), p.ctx.cwd, '/b'))).toBe(false);
    expect(isError(vfs.mount(p.ctx, p.ctx.cwd, '/b/x', new Tmpfs()))).toBe(false);
    expect(p.open('/a/x/new', O_CREAT | O_WRONLY, 0o644)).toBeTypeOf('number');
    expect(p.stat('/b/x/new')).toMatchObject({ size: 0 });
    expect(vfs.umount(p.ctx, p.ctx.cwd, '/a/x')).toBeUndefined();
    expect([p.stat('/a/x/new'), p.stat('/b/x/new')]).toEqual([E.ENOENT, E.ENOENT]);
    expect(p.open('/hosts', O_CREAT | O_WRONLY, 0o644)).toBeTypeOf('number');
    expect(p.open('/hosts.sandbox', O_CREAT | O_WRONLY, 0o644)).toBeTypeOf('number');
    expect(isError(vfs.bindMount(p.ctx, at('/hosts.sandbox'), p.ctx.cwd, '/hosts'))).toBe(false);
    expect(p.unlink('/hosts')).toBe(E.EBUSY);
  });

  it('refuses to grow a namespace past fs.mount-max (ENOSPC): self-binds of a shared root double it', () => {
    const { p, vfs } = ns('/a');
    changePropagation(vfs.rootMount, vfs.rootMount, MS_SHARED, false);
    let count = 1;
    for (let i = 0; i < 20; i++) {
      const r = bind(vfs, p, '/', '/a');
      if (typeof r === 'number') {
        expect(r).toBe(E.ENOSPC.errno);
        break;
      }
      count = mountTree(vfs.rootMount).length;
    }
    // 2^16 mounts fit under 100000; the next doubling does not.
    expect(count).toBe(65536);
    expect(count * 2).toBeGreaterThan(MOUNT_MAX);
    expect(mountTree(vfs.rootMount)).toHaveLength(65536);
  });

  it('a moved mount that is a slave of the destination receives a copy of itself, as a slave', () => {
    // Linux (attach_recursive_mnt) propagates before it takes the moved mount from its place.
    const { p, vfs } = ns('/x', '/x/a', '/z');
    const root = vfs.rootMount;
    changePropagation(root, root, MS_SHARED, false);
    const a = bind(vfs, p, '/x/a', '/z');
    if (typeof a === 'number') throw new Error();
    changePropagation(root, root, MS_SLAVE, false);
    const b = bind(vfs, p, '/x', '/x/a');
    if (typeof b === 'number') throw new Error();
    expect([b.peerGroup, b.masterGroup]).toEqual([0, a.peerGroup]);
    const at = vfs.lookupat(p.ctx, p.ctx.cwd, '/z', 0);
    if (isError(at)) throw new Error();
    expect(attachMount(root, b, at, true)).toBeUndefined();
    expect(b.parent).toBe(a);
    expect(b.peerGroup).not.toBe(0);
    expect(b.masterGroup).toBe(a.peerGroup);
    const onRoot = root.mountOn(at.inode, null, '');
    const onItself = [...b.children.values()];
    expect(onItself).toHaveLength(1);
    for (const c of [onRoot, onItself[0]]) expect([c?.peerGroup, c?.masterGroup]).toEqual([0, b.peerGroup]);
  });

  it('a bind stacked on a shared file mount propagates to the dentry of the bound file', () => {
    const { p, vfs } = ns('/x', '/y');
    for (const [f, text] of [
      ['/f', 'f'],
      ['/x/f', 'x-f'],
      ['/y/f', 'y-f'],
    ] as const) {
      const fd = p.open(f, O_CREAT | O_WRONLY, 0o644);
      if (isError(fd)) throw new Error();
      p.write(fd, enc.encode(text));
      p.close(fd);
    }
    const read = (path: string): string => {
      const fd = p.open(path, O_RDONLY);
      if (isError(fd)) return String(fd.errno);
      const buf = new Uint8Array(16);
      const n = p.read(fd, buf);
      p.close(fd);
      return isError(n) ? String(n.errno) : dec.decode(buf.subarray(0, n));
    };
    changePropagation(vfs.rootMount, vfs.rootMount, MS_SHARED, false);
    expect(typeof bind(vfs, p, '/x/f', '/y/f')).toBe('object');
    // /y/f is now the root of a peer whose root is the file /x/f: a mount on it lands, in the
    // root mount, on /x/f (where that file is), not on /y/f.
    expect(typeof bind(vfs, p, '/f', '/y/f')).toBe('object');
    expect([read('/y/f'), read('/x/f'), read('/f')]).toEqual(['f', 'f', 'f']);
    expect(vfs.umount(p.ctx, p.ctx.cwd, '/x/f')).toBeUndefined();
    expect([read('/y/f'), read('/x/f')]).toEqual(['x-f', 'x-f']);
  });
});
