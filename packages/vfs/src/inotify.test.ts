import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { O_CREAT, O_RDONLY, O_WRONLY } from './constants.js';
import type { FileDescription } from './file.js';
import {
  IN_ALL_EVENTS,
  IN_ATTRIB,
  IN_CLOSE_WRITE,
  IN_CREATE,
  IN_DELETE,
  IN_EXCL_UNLINK,
  IN_IGNORED,
  IN_ISDIR,
  IN_MODIFY,
  IN_ONESHOT,
  IN_OPEN,
  IN_Q_OVERFLOW,
  IN_UNMOUNT,
  fsnotifyUnmount,
} from './fsnotify.js';
import { InotifyInstance } from './inotify.js';
import { Tmpfs } from './tmpfs/tmpfs.js';
import { ROOT_CREDS, type Location } from './types.js';
import { Vfs } from './vfs.js';
import { WOULD_BLOCK } from './wait.js';

interface Ev {
  wd: number;
  mask: number;
  cookie: number;
  name: string;
}

/** Parses what read(2) returned: struct inotify_event records with padded names. */
function parse(buf: Uint8Array, n: number): Ev[] {
  const v = new DataView(buf.buffer, buf.byteOffset, n);
  const out: Ev[] = [];
  for (let off = 0; off < n;) {
    const len = v.getUint32(off + 12, true);
    const raw = buf.subarray(off + 16, off + 16 + len);
    const nul = raw.indexOf(0);
    out.push({
      wd: v.getInt32(off, true),
      mask: v.getUint32(off + 4, true),
      cookie: v.getUint32(off + 8, true),
      name: Buffer.from(raw.subarray(0, nul < 0 ? len : nul)).toString('latin1'),
    });
    off += 16 + len;
  }
  return out;
}

function drain(ino: InotifyInstance): Ev[] {
  const buf = new Uint8Array(1 << 20);
  const n = ino.read(buf);
  if (n === WOULD_BLOCK) return [];
  if (isError(n)) throw new Error(n.message);
  return parse(buf, n);
}

function setup() {
  const vfs = new Vfs(new Tmpfs());
  const ctx = vfs.rootContext(ROOT_CREDS);
  const at = (path: string) => vfs.lookupat(ctx, ctx.cwd, path, 0) as Location;
  const open = (path: string, flags: number) =>
    vfs.openat(ctx, ctx.cwd, path, flags, 0o644) as FileDescription;
  return { vfs, ctx, at, open };
}

describe('InotifyInstance', () => {
  it('reports directory operations with names and merges identical consecutive events', () => {
    const { vfs, ctx, at, open } = setup();
    vfs.mkdirat(ctx, ctx.cwd, '/d', 0o755);
    const ino = new InotifyInstance({ maxQueuedEvents: 100, maxWatches: 10 });
    const wd = ino.addWatch(at('/d').inode, IN_ALL_EVENTS) as number;
    expect(wd).toBe(1);
    const f = open('/d/f', O_CREAT | O_WRONLY);
    f.write(new Uint8Array([1]));
    f.write(new Uint8Array([2]));
    f.release();
    vfs.mkdirat(ctx, ctx.cwd, '/d/sub', 0o755);
    expect(ino.pendingBytes).toBe(5 * 32);
    expect(drain(ino)).toEqual([
      { wd, mask: IN_CREATE, cookie: 0, name: 'f' },
      { wd, mask: IN_OPEN, cookie: 0, name: 'f' },
      { wd, mask: IN_MODIFY, cookie: 0, name: 'f' },
      { wd, mask: IN_CLOSE_WRITE, cookie: 0, name: 'f' },
      { wd, mask: IN_CREATE | IN_ISDIR, cookie: 0, name: 'sub' },
    ]);
    expect(ino.read(new Uint8Array(64))).toBe(WOULD_BLOCK);
    expect(ino.readiness(1)).toBe(0);
    // A buffer smaller than the first event: EINVAL, and the event stays queued.
    vfs.unlinkat(ctx, ctx.cwd, '/d/f', 0);
    expect(ino.read(new Uint8Array(16))).toBe(E.EINVAL);
    expect(drain(ino)).toEqual([{ wd, mask: IN_DELETE, cookie: 0, name: 'f' }]);
  });

  it('queues one IN_Q_OVERFLOW past max_queued_events', () => {
    const { vfs, ctx, at } = setup();
    const ino = new InotifyInstance({ maxQueuedEvents: 3, maxWatches: 10 });
    ino.addWatch(at('/').inode, IN_CREATE);
    for (const n of ['a', 'b', 'c', 'd', 'e']) vfs.mkdirat(ctx, ctx.cwd, '/' + n, 0o755);
    const evs = drain(ino);
    expect(evs.map((e) => e.name)).toEqual(['a', 'b', 'c', '']);
    expect(evs[3]).toEqual({ wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: '' });
  });

  it('limits watches (ENOSPC), honours IN_ONESHOT and IN_EXCL_UNLINK', () => {
    const { vfs, ctx, at, open } = setup();
    vfs.mkdirat(ctx, ctx.cwd, '/a', 0o755);
    vfs.mkdirat(ctx, ctx.cwd, '/b', 0o755);
    const ino = new InotifyInstance({ maxQueuedEvents: 100, maxWatches: 1 });
    const wd = ino.addWatch(at('/a').inode, IN_MODIFY | IN_EXCL_UNLINK) as number;
    expect(ino.addWatch(at('/b').inode, IN_CREATE)).toBe(E.ENOSPC);
    const f = open('/a/f', O_CREAT | O_WRONLY);
    f.write(new Uint8Array([1]));
    vfs.unlinkat(ctx, ctx.cwd, '/a/f', 0);
    f.write(new Uint8Array([2]));
    expect(drain(ino)).toEqual([{ wd, mask: IN_MODIFY, cookie: 0, name: 'f' }]);
    expect(ino.removeWatch(wd)).toBeUndefined();
    expect(ino.removeWatch(wd)).toBe(E.EINVAL);
    const one = ino.addWatch(at('/b').inode, IN_ATTRIB | IN_ONESHOT) as number;
    expect(one).toBe(2);
    vfs.fchmodat(ctx, ctx.cwd, '/b', 0o700, 0);
    vfs.fchmodat(ctx, ctx.cwd, '/b', 0o755, 0);
    expect(drain(ino)).toEqual([
      { wd, mask: IN_IGNORED, cookie: 0, name: '' },
      { wd: one, mask: IN_ATTRIB | IN_ISDIR, cookie: 0, name: '' },
      { wd: one, mask: IN_IGNORED, cookie: 0, name: '' },
    ]);
  });

  it('sends IN_UNMOUNT then IN_IGNORED for watches on an unmounted filesystem', () => {
    const { vfs, ctx, at, open } = setup();
    const inner = new Tmpfs();
    vfs.mkdirat(ctx, ctx.cwd, '/m', 0o755);
    vfs.mount(ctx, ctx.cwd, '/m', inner);
    open('/m/f', O_CREAT | O_WRONLY).release();
    const ino = new InotifyInstance({ maxQueuedEvents: 100, maxWatches: 10 });
    const wd = ino.addWatch(at('/m/f').inode, IN_ALL_EVENTS) as number;
    open('/m/f', O_RDONLY).release();
    drain(ino);
    fsnotifyUnmount(inner);
    expect(drain(ino)).toEqual([
      { wd, mask: IN_UNMOUNT, cookie: 0, name: '' },
      { wd, mask: IN_IGNORED, cookie: 0, name: '' },
    ]);
  });
});
