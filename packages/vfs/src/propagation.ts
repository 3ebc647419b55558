/**
 * Mount propagation (Linux's fs/pnode.c and the mount-tree parts of fs/namespace.c; see
 * Documentation/filesystems/sharedsubtree.rst): peer groups, slaves, unbindable mounts, and what
 * happens to them when a tree is mounted, bound, moved or unmounted.
 *
 * Linux links peers in a ring and slaves in lists under their master mount; here a mount only
 * records its peer group id ({@link Mount.peerGroup}, 0 when not shared) and the id of the group
 * it is a slave of ({@link Mount.masterGroup}). Every peer of a group has the same master, and a
 * group's slaves receive from all its members, so the ids are enough: the peers of a mount are
 * the attached mounts with its group id, its slaves those whose master group is its group.
 *
 * The namespace is given by its root mount; only mounts attached below it take part (Linux skips
 * mounts that are not in a namespace yet, IS_MNT_NEW).
 *
 * @module
 */

import { E, MountFlag } from '@tsvisor/abi';
import type { LinuxError } from '@tsvisor/abi';
import type { Inode } from './inode.js';
import type { Mount } from './mount.js';
import type { Location } from './types.js';

const { MS_SHARED, MS_SLAVE, MS_UNBINDABLE } = MountFlag;

/** The propagation types of mount(2) that {@link changePropagation} takes. */
export type PropagationType =
  | typeof MountFlag.MS_SHARED
  | typeof MountFlag.MS_PRIVATE
  | typeof MountFlag.MS_SLAVE
  | typeof MountFlag.MS_UNBINDABLE;

/** Every mount of the tree under `m`, itself first, parents before children (next_mnt order). */
export function mountTree(m: Mount): Mount[] {
  // Without recursion: propagated copies stack on mount roots, and trees get as deep as they are
  // large (binds of a shared root into itself), as on Linux.
  const out: Mount[] = [];
  const stack = [m];
  for (let x = stack.pop(); x !== undefined; x = stack.pop()) {
    out.push(x);
    const kids = [...x.children.values()];
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as Mount);
  }
  return out;
}

/** Hands out peer group ids: the smallest no mount of the namespace uses (Linux's IDA). */
class GroupIds {
  private readonly used = new Set<number>();
  constructor(mounts: readonly Mount[]) {
    for (const m of mounts) {
      this.used.add(m.peerGroup);
      this.used.add(m.masterGroup);
    }
  }
  take(): number {
    let id = 1;
    while (this.used.has(id)) id++;
    this.used.add(id);
    return id;
  }
}

/**
 * The attached mounts by peer group and by the group they are slaves of, built once per operation
 * so that walking a propagation tree costs its size, not the namespace's. Lists may hold mounts
 * that left a group since; readers check the current ids.
 */
class GroupIndex {
  private readonly peers = new Map<number, Mount[]>();
  private readonly slaves = new Map<number, Mount[]>();
  constructor(all: readonly Mount[]) {
    for (const m of all) {
      if (m.peerGroup !== 0) push(this.peers, m.peerGroup, m);
      if (m.masterGroup !== 0) push(this.slaves, m.masterGroup, m);
    }
  }
  /** The mounts now in peer group `g`. */
  peersOf(g: number): Mount[] {
    return (this.peers.get(g) ?? []).filter((m) => m.peerGroup === g);
  }
  /** The mounts now slaves of group `g`. */
  slavesOf(g: number): Mount[] {
    return (this.slaves.get(g) ?? []).filter((m) => m.masterGroup === g);
  }
  /** Records that `m` is now a slave of group `g` (0: of none). */
  setMaster(m: Mount, g: number): void {
    m.masterGroup = g;
    if (g !== 0) push(this.slaves, g, m);
  }
}

function push(map: Map<number, Mount[]>, key: number, m: Mount): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [m]);
  else list.push(m);
}

/** Linux's default fs.mount-max: a namespace holds at most this many mounts (ENOSPC beyond). */
export const MOUNT_MAX = 100_000;

/** True when inode `x` is `dir` or below it in its filesystem (is_subdir; files by their directory). */
function isBelow(x: Inode | null, dir: Inode): boolean {
  let cur = x;
  for (let i = 0; cur !== null && i < 4096; i++) {
    if (cur === dir) return true;
    const p: Inode | null = cur.parent;
    if (p === cur) break;
    cur = p;
  }
  return false;
}

/**
 * Makes a copy of the mounts of `source` (a mount, or a place in one) for a bind mount: with
 * `recursive` (MS_REC, copy_tree) the mounts below it come along, except unbindable ones and
 * everything under them; without, only the mount itself (clone_mnt). Each copy is a peer of the
 * mount it copies when that one is shared and a slave of the same master. The result is detached.
 * The caller checked that `source.mount` is not unbindable (EINVAL).
 */
export function copyForBind(source: Location, recursive: boolean): Mount {
  const top = source.mount.clone(source.inode);
  if (source.inode !== source.mount.root) top.bindFrom(source);
  if (!recursive) return top;
  const onlyBelow = source.inode === source.mount.root ? null : source.inode;
  // Pre-order, as copy_tree makes them (mount ids, which order mountinfo, follow).
  const stack: [Mount, Mount][] = [];
  const pushChildren = (from: Mount, to: Mount): void => {
    const kids = [...from.children].filter(([mp, child]) => {
      if (child.unbindable) return false;
      // Only the mounts inside the bound directory come along.
      if (from !== source.mount || onlyBelow === null || mp === onlyBelow) return true;
      return isBelow(child.mountpointDir ?? mp, onlyBelow);
    });
    for (let i = kids.length - 1; i >= 0; i--) stack.push([(kids[i] as [Inode, Mount])[1], to]);
  };
  pushChildren(source.mount, top);
  for (let pair = stack.pop(); pair !== undefined; pair = stack.pop()) {
    const [child, to] = pair;
    const c = child.clone();
    c.attach(childPlace(to, child));
    pushChildren(child, c);
  }
  return top;
}

/** Where `child` sits on its parent, as a location on `to` (a copy of that parent). */
function childPlace(to: Mount, child: Mount): Location {
  const mp = child.mountpoint;
  if (mp === null) throw new Error('childPlace: a detached mount');
  if (child.mountpointDir === null) return { mount: to, inode: mp };
  return { mount: to, inode: mp, parent: child.mountpointDir, name: child.mountpointName };
}

/** One mount that receives what is mounted on another, and the peer group it is a slave of. */
interface Receiver {
  readonly mount: Mount;
  /** The peer group `mount` receives from as a slave; 0 for a peer of the destination. */
  readonly master: number;
}

/**
 * The mounts that receive propagation from `dest` (propagate_mnt's walk): its peers, then each
 * group of slaves with its peers, and their slaves, depth first. Empty when `dest` is not shared.
 */
function receivers(index: GroupIndex, dest: Mount): Receiver[] {
  const out: Receiver[] = [];
  const group = dest.peerGroup;
  if (group === 0) return out;
  for (const x of index.peersOf(group)) if (x !== dest) out.push({ mount: x, master: 0 });
  const seen = new Set([group]);
  const visit = (g: number): void => {
    for (const s of index.slavesOf(g)) {
      if (s.peerGroup === 0) {
        out.push({ mount: s, master: g });
        continue;
      }
      if (seen.has(s.peerGroup)) continue;
      seen.add(s.peerGroup);
      for (const x of index.peersOf(s.peerGroup)) out.push({ mount: x, master: g });
      visit(s.peerGroup);
    }
  };
  visit(group);
  return out;
}

/**
 * A mount point as Linux sees it, a dentry: the inode and, for a non-directory, the directory of
 * its filesystem it sits in and its name there (null and '' for a directory, or when unknown).
 */
interface Spot {
  readonly inode: Inode;
  readonly dir: Inode | null;
  readonly name: string;
}

/**
 * The dentry under the place `inode` of `mount`, reached as `name` in `dir` (the walk's view):
 * for a file that is the mount's own root (a file bind mount), where that file sits in the
 * filesystem, not where the mount shows it.
 */
function spotOf(mount: Mount, inode: Inode, dir: Inode | null, name: string): Spot {
  if (inode.isDir) return { inode, dir: null, name: '' };
  if (inode === mount.root) return { inode, dir: mount.rootDir, name: mount.rootName };
  return { inode, dir, name };
}

/** Does mount `m` show the dentry `spot` of a filesystem (is_subdir of the mount point)? */
function shows(m: Mount, fs: Mount['fs'], spot: Spot): boolean {
  if (m.fs !== fs) return false;
  if (spot.inode === m.root) return true;
  return isBelow(spot.inode.isDir ? spot.inode : spot.dir, m.root);
}

/** The place of mount `m` at dentry `spot`: on its root, or a directory or file inside it. */
function placeOn(m: Mount, spot: Spot): Location {
  if (spot.inode === m.root || spot.dir === null) return { mount: m, inode: spot.inode };
  return { mount: m, inode: spot.inode, parent: spot.dir, name: spot.name };
}

/** The mount on dentry `spot` of `m` (__lookup_mnt). */
function mountOnSpot(m: Mount, spot: Spot): Mount | undefined {
  if (spot.inode === m.root) return m.children.get(spot.inode);
  return m.mountOn(spot.inode, spot.dir, spot.name);
}

/**
 * A copy of the tree `tree` (a list in {@link mountTree} order) with its shape, each mount's
 * propagation given by `groups(i)`: [peer group, master group] for the i-th mount.
 */
function copyShape(tree: readonly Mount[], groups: (i: number) => [number, number]): Mount[] {
  const copies: Mount[] = [];
  const index = new Map<Mount, number>();
  tree.forEach((m, i) => {
    const c = m.clone();
    const [peer, master] = groups(i);
    c.peerGroup = peer;
    c.masterGroup = master;
    index.set(m, i);
    copies.push(c);
    if (i > 0 && m.parent !== null) {
      const parent = copies[index.get(m.parent) ?? -1];
      if (parent === undefined) throw new Error('copyShape: tree out of order');
      c.attach(childPlace(parent, m));
    }
  });
  return copies;
}

/**
 * Attaches the detached tree `source` at `at` (attach_recursive_mnt), where `at.mount` is the
 * top mount there. When `at.mount` is shared, the tree becomes shared (its mounts without a peer
 * group get new ones, unbindable marks go) and a copy of it is mounted at the same spot of every
 * mount that receives propagation from `at.mount` and shows that spot: copies on its peers are
 * peers of the source tree's mounts; copies on slaves are slaves of the copies they came from,
 * and peers of each other when the receiving slaves are peers. Where a receiving mount already has
 * a mount on that spot, the copy goes under it (the old mount moves onto the copy's root).
 * EBUSY (nothing changes) when another hard link of a file mount point already carries a mount:
 * the table keys mounts by inode, where Linux keys them by dentry; ENOSPC when the namespace
 * would pass {@link MOUNT_MAX} mounts.
 *
 * With `moving` (MS_MOVE), `source` is an attached mount that leaves its place only after the
 * copies were made: as on Linux, the moved tree's own mounts receive copies too when they are
 * peers or slaves of `at.mount` and show the spot.
 */
export function attachMount(
  nsRoot: Mount,
  source: Mount,
  at: Location,
  moving = false,
): LinuxError | undefined {
  const dest = at.mount;
  // Mounts are keyed by inode: a second hard link of a covered file cannot carry another one.
  if (dest.children.has(at.inode)) return E.EBUSY;
  const all = mountTree(nsRoot);
  const tree = mountTree(source);
  const spot = spotOf(dest, at.inode, at.parent ?? null, at.name ?? '');
  const reached = dest.peerGroup === 0 ? [] : receivers(new GroupIndex(all), dest);
  const targets = reached.filter((r) => shows(r.mount, dest.fs, spot));
  // count_mounts: the namespace may not grow past fs.mount-max (binds of a shared mount into
  // itself double it each time).
  if (all.length + tree.length * ((moving ? 0 : 1) + targets.length) > MOUNT_MAX) return E.ENOSPC;
  const pending: [Mount, Mount][] = [];
  if (dest.peerGroup !== 0) {
    // Receivers count as shared by their groups before the tree gets its own: Linux invents the
    // tree's group ids first but marks it shared only after propagating (a moved mount can receive
    // a copy of itself, as a slave).
    const groupOf = new Map(reached.map((r) => [r.mount, r.mount.peerGroup]));
    const ids = new GroupIds([...all, ...tree]);
    for (const m of tree) {
      if (m.peerGroup === 0) m.peerGroup = ids.take();
      m.unbindable = false;
    }
    // For each receiving peer group (the destination's too), the copies its first member got.
    const copiesOf = new Map<number, Mount[]>([[dest.peerGroup, tree]]);
    const masterOf = new Map<number, number>();
    for (const r of reached) {
      const g = groupOf.get(r.mount) ?? 0;
      if (g !== 0) masterOf.set(g, r.master);
    }
    /** The copies a slave of group `g` copies: those of `g`, or of the nearest master that got one. */
    const mastersCopies = (g: number): Mount[] => {
      for (let i = 0; i < 64; i++) {
        const c = copiesOf.get(g);
        if (c !== undefined) return c;
        g = masterOf.get(g) ?? dest.peerGroup;
      }
      return tree;
    };
    for (const r of targets) {
      const m = r.mount;
      const group = groupOf.get(m) ?? 0;
      let copies: Mount[];
      const own = group !== 0 ? copiesOf.get(group) : undefined;
      if (own !== undefined) {
        // A peer of a receiver that already got a copy: a peer of that copy.
        copies = copyShape(tree, (i) => [own[i]?.peerGroup ?? 0, own[i]?.masterGroup ?? 0]);
      } else {
        const from = mastersCopies(r.master);
        copies = copyShape(tree, (i) => [group !== 0 ? ids.take() : 0, from[i]?.peerGroup ?? 0]);
        if (group !== 0) copiesOf.set(group, copies);
      }
      const top = copies[0];
      if (top !== undefined) pending.push([m, top]);
    }
  }
  if (moving) source.detach();
  source.attach(at);
  for (const [m, copy] of pending) {
    const under = mountOnSpot(m, spot);
    under?.detach();
    copy.attach(placeOn(m, spot));
    // Tucked under: what was mounted there now sits on the copy's root.
    under?.attach({ mount: copy, inode: copy.root });
  }
  return undefined;
}

/**
 * do_make_slave: `m` leaves its peer group. With peers left, it becomes a slave of the group;
 * alone, the group ends and its slaves pass to `m`'s own master (none: they stop being slaves),
 * while `m` keeps its master.
 */
function makeSlave(index: GroupIndex, m: Mount): void {
  const g = m.peerGroup;
  if (g === 0) return;
  m.peerGroup = 0;
  if (index.peersOf(g).length > 0) {
    index.setMaster(m, g);
    return;
  }
  for (const s of index.slavesOf(g)) index.setMaster(s, m.masterGroup);
}

/**
 * do_change_type: makes `m` (and with `recursive` every mount below it, MS_REC) shared, private,
 * a slave or unbindable, as mount(2) with MS_SHARED, MS_PRIVATE, MS_SLAVE or MS_UNBINDABLE does:
 *
 * - shared: mounts without a peer group get a new one; a slave stays a slave too.
 * - slave: a shared mount with peers becomes their slave; one without peers stops being shared
 *   and keeps its master (a mount that is neither shared nor a slave stays private); an
 *   unbindable mount stays unbindable.
 * - private / unbindable: no peer group and no master; slaves of a group that ends pass to its
 *   master.
 */
export function changePropagation(nsRoot: Mount, m: Mount, type: PropagationType, recursive: boolean): void {
  const targets = recursive ? mountTree(m) : [m];
  const all = mountTree(nsRoot);
  if (type === MS_SHARED) {
    const ids = new GroupIds(all);
    for (const x of targets) {
      if (x.peerGroup === 0) x.peerGroup = ids.take();
      x.unbindable = false;
    }
    return;
  }
  const index = new GroupIndex(all);
  for (const x of targets) {
    makeSlave(index, x);
    if (type !== MS_SLAVE) {
      x.masterGroup = 0;
      x.unbindable = type === MS_UNBINDABLE;
    }
  }
}

/**
 * The mount that will stand where `m` stands once the mounts in `going` are unmounted: `m` itself
 * if it stays; else the first mount that stays along the chain stacked on its root, which slides
 * down into its place (Linux moves such a "topper" to the mount point of what it covered).
 */
function survivor(m: Mount, going: ReadonlySet<Mount>): Mount | undefined {
  let cur: Mount | undefined = m;
  for (let i = 0; cur !== undefined && going.has(cur) && i < MOUNT_MAX; i++) cur = cur.children.get(cur.root);
  return cur !== undefined && going.has(cur) ? undefined : cur;
}

/**
 * Can `m` be unmounted along with `going`? Only if, after the others leave (and their survivors
 * slide into their places), nothing is mounted on it, or a single mount on its root (which then
 * slides down in its turn).
 */
function unmountable(m: Mount, going: ReadonlySet<Mount>): boolean {
  let staying = 0;
  for (const c of m.children.values()) {
    if (survivor(c, going) === undefined) continue;
    if (c.mountpoint !== m.root || ++staying > 1) return false;
  }
  return true;
}

/**
 * propagate_umount: the mounts that go with `gone` (mounts chosen to be unmounted): for each of
 * them, the mount on the same spot of every mount that receives propagation from its parent,
 * unless something other than a single mount on its root is mounted on it and stays (a mount that
 * goes but has a survivor stacked on its root counts as staying: the survivor takes its place).
 */
export function umountPropagation(nsRoot: Mount, gone: readonly Mount[]): Mount[] {
  const index = new GroupIndex(mountTree(nsRoot));
  const set = new Set(gone);
  const out: Mount[] = [];
  const work = [...gone];
  // Copies that still carry mounts wait: those may turn out to go too.
  let deferred: Mount[] = [];
  const take = (child: Mount): boolean => {
    if (set.has(child)) return false;
    if (!unmountable(child, set)) {
      deferred.push(child);
      return false;
    }
    set.add(child);
    out.push(child);
    work.push(child);
    return true;
  };
  for (;;) {
    for (let u = work.pop(); u !== undefined; u = work.pop()) {
      const parent = u.parent;
      const mp = u.mountpoint;
      if (parent === null || mp === null || parent.peerGroup === 0) continue;
      const spot = spotOf(parent, mp, u.mountpointDir, u.mountpointName);
      for (const r of receivers(index, parent)) {
        const child = mountOnSpot(r.mount, spot);
        if (child !== undefined) take(child);
      }
    }
    const retry = deferred;
    deferred = [];
    let progress = false;
    for (const c of retry) if (take(c)) progress = true;
    if (!progress) return out;
  }
}

/**
 * umount_tree: unmounts `mounts` (a mount with the mounts below it, and what
 * {@link umountPropagation} added). Each one leaves the namespace and becomes private (slaves of
 * a group that ends pass to its master); one whose parent stays in the namespace is detached,
 * the others stay attached to their unmounted parents (so files open in a lazily unmounted tree
 * keep their paths). The first mount that stays in the chain stacked on a detached mount's root
 * takes that mount's place.
 */
export function umountMounts(nsRoot: Mount, mounts: readonly Mount[]): void {
  const set = new Set(mounts);
  for (const m of mounts) {
    const parent = m.parent;
    const mp = m.mountpoint;
    if (parent === null || mp === null || set.has(parent)) continue;
    const place: Location =
      m.mountpointDir !== null
        ? { mount: parent, inode: mp, parent: m.mountpointDir, name: m.mountpointName }
        : { mount: parent, inode: mp };
    const topper = m.children.get(m.root);
    const heir = topper === undefined ? undefined : survivor(topper, set);
    m.detach();
    if (heir !== undefined) {
      heir.detach();
      heir.attach(place);
    }
  }
  const index = new GroupIndex(mountTree(nsRoot));
  for (const m of mounts) {
    makeSlave(index, m);
    m.masterGroup = 0;
    m.unbindable = false;
  }
}
