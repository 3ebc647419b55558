// Reopening an anonymous pipe's location (what /proc/self/fd/N and open("/dev/stdin") do) follows
// fifo_open's rules for a pipefs inode: no wait for a peer, no ENXIO. runtime's pipe-reopen.c
// compares the whole path, through procfs, with Linux.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { O_NONBLOCK, O_RDONLY, O_WRONLY, ROOT_CREDS, Tmpfs, Vfs, createPipe } from './index.js';
import type { FileDescription } from './index.js';

function setup(): { vfs: Vfs; r: FileDescription; w: FileDescription } {
  const vfs = new Vfs(new Tmpfs());
  const p = createPipe(ROOT_CREDS);
  if (!Array.isArray(p)) throw new Error(String(p));
  return { vfs, r: p[0], w: p[1] };
}

describe('reopening an anonymous pipe', () => {
  it('opens the read end at once after the writer closed, and reads the data, then EOF', () => {
    const { vfs, r, w } = setup();
    expect(w.write(new Uint8Array([1, 2, 3]))).toBe(3);
    w.release();
    const again = vfs.openLocation(vfs.rootContext(ROOT_CREDS), r.location, O_RDONLY) as FileDescription;
    expect(again.openWait).toBeNull();
    const buf = new Uint8Array(8);
    expect(again.read(buf)).toBe(3);
    expect(again.read(buf)).toBe(0);
    again.release();
    r.release();
  });

  it('opens the write end after the reader closed, without ENXIO or a wait; writes get EPIPE', () => {
    const { vfs, r, w } = setup();
    r.release();
    const ctx = vfs.rootContext(ROOT_CREDS);
    const nb = vfs.openLocation(ctx, w.location, O_WRONLY | O_NONBLOCK) as FileDescription;
    expect(nb).not.toBe(E.ENXIO);
    expect(nb.openWait).toBeNull();
    expect(nb.write(new Uint8Array([7]))).toBe(E.EPIPE);
    const blocking = vfs.openLocation(ctx, w.location, O_WRONLY) as FileDescription;
    expect(blocking.openWait).toBeNull();
    nb.release();
    blocking.release();
    w.release();
  });

  it('still makes a named FIFO wait for its peer', () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    expect(vfs.mknodat(ctx, ctx.cwd, '/fifo', 0o10666, 0)).toBeUndefined();
    const r = vfs.openat(ctx, ctx.cwd, '/fifo', O_RDONLY) as FileDescription;
    expect(r.openWait).not.toBeNull();
    r.release();
  });
});
