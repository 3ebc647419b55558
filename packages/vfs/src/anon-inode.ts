/**
 * Linux's anon_inodefs: the one inode that every anonymous file (eventfd, epoll, signalfd,
 * timerfd, ...) stands on. Linux shares a single inode of mode 0600 with no file type bits among
 * them and tells them apart by the name of the file's dentry, which /proc/<pid>/fd shows as
 * `anon_inode:[eventfd]`; {@link anonInode} gives such a location and {@link anonInodeName}
 * reads the name back.
 *
 * @module
 */

import { nowNs } from './clock.js';
import { anonDev } from './devices.js';
import { Inode } from './inode.js';
import type { FilesystemImpl } from './inode.js';
import { Mount } from './mount.js';
import { simpleStatfs } from './stat.js';
import type { Location, Statfs } from './types.js';

/** ANON_INODE_FS_MAGIC. */
const ANON_INODE_FS_MAGIC = 0x09041934;

class AnonInodeFs implements FilesystemImpl {
  readonly type = 'anon_inodefs';
  readonly dev = anonDev();
  readonly root: Inode;
  readonly mount: Mount;
  constructor() {
    this.root = new AnonInode(this);
    this.mount = new Mount(this, this.root, null, null, 0);
  }
  statfs(): Statfs {
    return simpleStatfs(ANON_INODE_FS_MAGIC);
  }
}

/** The shared inode: mode 0600 without a file type, owned by root, never linked anywhere. */
class AnonInode extends Inode {
  constructor(readonly fs: AnonInodeFs) {
    super();
    this.ino = 1;
    this.mode = 0o600;
    const now = nowNs();
    this.atimeNs = this.mtimeNs = this.ctimeNs = this.btimeNs = now;
  }
}

let shared: AnonInodeFs | undefined;

/**
 * The location an anonymous file of kind `name` (Linux's names: `[eventfd]`, `[eventpoll]`,
 * `[signalfd]`, `[timerfd]`, ...) is opened at: the shared anon_inodefs inode, carrying `name`
 * for /proc/<pid>/fd. Build the file with `new FileDescription(impl, anonInode('[eventfd]'),
 * flags, creds)`.
 *
 * @example
 * ```ts
 * const loc = anonInode('[eventfd]');
 * anonInodeName(loc); // 'anon_inode:[eventfd]'
 * ```
 */
export function anonInode(name: string): Location {
  shared ??= new AnonInodeFs();
  return { mount: shared.mount, inode: shared.root, name };
}

/**
 * What /proc/<pid>/fd shows for a location made by {@link anonInode} (`anon_inode:[eventfd]`),
 * or null for any other location.
 */
export function anonInodeName(loc: Location): string | null {
  if (shared === undefined || loc.inode !== shared.root) return null;
  return `anon_inode:${loc.name ?? ''}`;
}
