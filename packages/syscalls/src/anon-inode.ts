/**
 * The one inode that anonymous files (epoll, eventfd) stand on, as Linux's anon_inodefs: a
 * regular file of mode 0600 on a private in-memory filesystem that no path reaches.
 *
 * @module
 */
import { isError } from '@tsvisor/abi';
import { O_CREAT, O_RDWR, ROOT_CREDS, Tmpfs, Vfs, type Location } from '@tsvisor/vfs';

let anonLocation: Location | undefined;

/** The shared anonymous inode's location (made on first use). */
export function anonInode(): Location {
  if (!anonLocation) {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    const f = vfs.openat(ctx, ctx.cwd, '/anon_inode', O_CREAT | O_RDWR, 0o600);
    if (isError(f)) throw new Error(`anon inode: ${String(f)}`);
    anonLocation = f.location;
    f.release();
  }
  return anonLocation;
}
