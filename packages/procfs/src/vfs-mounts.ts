/**
 * The mount table of a `@tsvisor/vfs` namespace as {@link ProcMount} records, so a kernel can
 * answer {@link ProcTask.mounts} from its Vfs in one call.
 *
 * @module
 */

import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, major, minor } from '@tsvisor/vfs';
import { MountFlag } from '@tsvisor/abi';

/** mount(2)'s atime flags, which {@link Mount.flags} records too. */
const { MS_NOATIME, MS_NODIRATIME, MS_STRICTATIME } = MountFlag;
import type { FsContext, Inode, Mount, Vfs } from '@tsvisor/vfs';
import type { ProcMount } from './source.js';

/** What the VFS does not know about a mount: its source and its filesystem's options. */
export interface MountDescription {
  /** The source string (`/dev/sda1`, `tmpfs`, `overlay`); default the filesystem type. */
  readonly source?: string;
  /** Per-superblock options after rw/ro (`mode=1777`, `lowerdir=...`); default none. */
  readonly fsOptions?: readonly string[];
}

/** The path of directory `inode` inside its filesystem, from `fsRoot`. */
function pathInFs(inode: Inode, fsRoot: Inode): string {
  const parts: string[] = [];
  let cur: Inode = inode;
  while (cur !== fsRoot) {
    const p = cur.parent;
    if (p === null || p === cur) break;
    parts.push(cur.name);
    cur = p;
  }
  return '/' + parts.reverse().join('/');
}

/**
 * The mounts of `vfs` seen from `ctx.root`, in mount order (by mount id), for mountinfo and
 * mounts. Mounts not reachable from the root (outside a chroot) are left out, as Linux does.
 */
export function vfsMounts(
  vfs: Vfs,
  ctx: FsContext,
  describe: (m: Mount) => MountDescription = () => ({}),
): ProcMount[] {
  // vfs.mounts() walks without recursion: mount trees can be deep.
  const all = vfs.mounts();
  all.sort((a, b) => a.id - b.id);
  const out: ProcMount[] = [];
  for (const m of all) {
    const mountPoint = vfs.pathOf(ctx, { mount: m, inode: m.root });
    if (mountPoint.startsWith('(unreachable)')) continue;
    const d = describe(m);
    const f = m.flags;
    const mountOptions = [
      f & MS_RDONLY ? 'ro' : 'rw',
      ...(f & MS_NOSUID ? ['nosuid'] : []),
      ...(f & MS_NODEV ? ['nodev'] : []),
      ...(f & MS_NOEXEC ? ['noexec'] : []),
      ...(f & MS_NOATIME ? ['noatime'] : []),
      ...(f & MS_NODIRATIME ? ['nodiratime'] : []),
      // Linux's default atime policy is relatime; MS_STRICTATIME or MS_NOATIME replace it.
      ...(f & (MS_NOATIME | MS_STRICTATIME) ? [] : ['relatime']),
    ].join(',');
    // Propagation (show_mountinfo): shared:N, master:N, unbindable; nothing for a private mount.
    const optional = [
      ...(m.peerGroup !== 0 ? [`shared:${m.peerGroup}`] : []),
      ...(m.masterGroup !== 0 ? [`master:${m.masterGroup}`] : []),
      ...(m.unbindable ? ['unbindable'] : []),
    ];
    out.push({
      mountId: m.id,
      parentId: m.parent?.id ?? m.id,
      major: major(m.fs.dev),
      minor: minor(m.fs.dev),
      // A file bind mount's root is a file, which does not know its directory: the mount does.
      root:
        m.rootDir === null
          ? pathInFs(m.root, m.fs.root)
          : pathInFs(m.rootDir, m.fs.root).replace(/\/$/, '') + '/' + m.rootName,
      mountPoint,
      mountOptions,
      ...(optional.length > 0 ? { optional } : {}),
      fsType: m.fs.type,
      source: d.source ?? m.source ?? m.fs.type,
      superOptions: ['rw', ...(d.fsOptions ?? [])].join(','),
    });
  }
  return out;
}
