// The overlay's own descriptions of layer files (copy-up, merged readdir, seeks) must close like
// any other: an upper file the overlay once opened internally still gets IN_DELETE_SELF as soon
// as its last link goes, because nothing of the overlay's keeps it open.
import { isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { O_CREAT, O_RDONLY, O_WRONLY } from '../constants.js';
import { IN_DELETE_SELF, IN_IGNORED } from '../fsnotify.js';
import { InotifyInstance } from '../inotify.js';
import { Tmpfs } from '../tmpfs/tmpfs.js';
import { ROOT_CREDS, type Location } from '../types.js';
import { Vfs } from '../vfs.js';
import { WOULD_BLOCK } from '../wait.js';
import { Overlayfs } from './overlay.js';

/** The event masks read(2) would return, in order. */
function masks(ino: InotifyInstance): number[] {
  const buf = new Uint8Array(4096);
  const n = ino.read(buf);
  if (n === WOULD_BLOCK) return [];
  if (isError(n)) throw new Error(n.message);
  const v = new DataView(buf.buffer, 0, n);
  const out: number[] = [];
  for (let off = 0; off < n; off += 16 + v.getUint32(off + 12, true)) out.push(v.getUint32(off + 4, true));
  return out;
}

describe('overlay layer descriptions', () => {
  it('release what they opened: a copied-up file unlinked in the upper layer gets IN_DELETE_SELF', () => {
    const lower = new Tmpfs({ mode: 0o755 });
    const upper = new Tmpfs({ mode: 0o755 });
    const lowerVfs = new Vfs(lower);
    const lctx = lowerVfs.rootContext(ROOT_CREDS);
    const seed = lowerVfs.openat(lctx, lctx.cwd, '/f', O_CREAT | O_WRONLY, 0o644);
    if (isError(seed)) throw new Error(seed.message);
    seed.write(new TextEncoder().encode('lower bytes'));
    seed.release();
    lowerVfs.mkdirat(lctx, lctx.cwd, '/d', 0o755);

    // Through the overlay: copy /f up by writing it, and list /d (a merged readdir).
    const vfs = new Vfs(new Overlayfs(lower, upper));
    const ctx = vfs.rootContext(ROOT_CREDS);
    const f = vfs.openat(ctx, ctx.cwd, '/f', O_WRONLY, 0);
    if (isError(f)) throw new Error(f.message);
    f.write(new TextEncoder().encode('upper'));
    f.release();
    const d = vfs.openat(ctx, ctx.cwd, '/d', O_RDONLY, 0);
    if (isError(d)) throw new Error(d.message);
    d.release();

    // The upper layer seen directly: its copy of /f has no open description left.
    const upperVfs = new Vfs(upper);
    const uctx = upperVfs.rootContext(ROOT_CREDS);
    const at = upperVfs.lookupat(uctx, uctx.cwd, '/f', 0) as Location;
    expect(isError(at)).toBe(false);
    const ino = new InotifyInstance({ maxQueuedEvents: 16, maxWatches: 4 });
    expect(ino.addWatch(at.inode, IN_DELETE_SELF)).toBe(1);
    expect(upperVfs.unlinkat(uctx, uctx.cwd, '/f', 0)).toBeUndefined();
    expect(masks(ino)).toEqual([IN_DELETE_SELF, IN_IGNORED]);
  });
});
