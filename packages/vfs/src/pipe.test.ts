import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  F_GETPIPE_SZ,
  F_SETPIPE_SZ,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  Posix,
  ROOT_CREDS,
  Tmpfs,
  Vfs,
  WOULD_BLOCK,
  createPipe,
  userCreds,
  waitForEvents,
} from './index.js';
import type { FileDescription } from './index.js';
import { runHost, runVfs } from './testing/differential.test-util.js';
import type { Op } from './testing/differential.test-util.js';

function pair(flags = 0): [FileDescription, FileDescription] {
  const p = createPipe(ROOT_CREDS, flags);
  if (!Array.isArray(p)) throw new Error(String(p));
  return p;
}

describe('pipes', () => {
  it('moves bytes, reports EOF and EPIPE', () => {
    const [r, w] = pair();
    expect(w.write(new Uint8Array([1, 2, 3]))).toBe(3);
    const buf = new Uint8Array(10);
    expect(r.read(buf)).toBe(3);
    expect([...buf.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(r.read(buf)).toBe(WOULD_BLOCK);
    w.release();
    expect(r.read(buf)).toBe(0);
    expect(r.readiness(POLLIN) & POLLHUP).toBe(POLLHUP);
    const [r2, w2] = pair();
    r2.release();
    expect(w2.write(new Uint8Array(1))).toBe(E.EPIPE);
    expect(w2.readiness(POLLOUT) & POLLERR).toBe(POLLERR);
    expect(r.write(new Uint8Array(1))).toBe(E.EBADF);
    expect(w.read(buf)).toBe(E.EBADF);
    expect(r.lseek(0, 0)).toBe(E.ESPIPE);
    expect(r.pread(buf, 0)).toBe(E.ESPIPE);
  });

  it('keeps writes of PIPE_BUF bytes atomic and fills up to the capacity', () => {
    const [r, w] = pair(O_NONBLOCK);
    expect(w.write(new Uint8Array(65535))).toBe(65535);
    expect(w.write(new Uint8Array(2))).toBe(E.EAGAIN); // 2 <= PIPE_BUF and only 1 byte free
    expect(w.write(new Uint8Array(1))).toBe(1); // fits in the last page
    expect(w.write(new Uint8Array(5000))).toBe(E.EAGAIN);
    expect(r.read(new Uint8Array(4096))).toBe(4096);
    expect(w.write(new Uint8Array(5000))).toBe(4096); // larger than PIPE_BUF: partial
    expect(r.read(new Uint8Array(100000))).toBe(65536);
    expect(r.read(new Uint8Array(1))).toBe(E.EAGAIN);
  });

  it('resizes with F_SETPIPE_SZ', () => {
    const [r, w] = pair();
    expect(w.fcntl(F_GETPIPE_SZ, 0)).toBe(65536);
    expect(w.fcntl(F_SETPIPE_SZ, 5000)).toBe(8192);
    expect(r.fcntl(F_GETPIPE_SZ, 0)).toBe(8192);
    expect(w.write(new Uint8Array(8000))).toBe(8000);
    expect(w.fcntl(F_SETPIPE_SZ, 4096)).toBe(E.EBUSY);
    const p = createPipe(userCreds(1000, 1000));
    if (!Array.isArray(p)) throw new Error();
    expect(p[1].fcntl(F_SETPIPE_SZ, 2 << 20)).toBe(E.EPERM);
    expect(p[1].fcntl(F_SETPIPE_SZ, 1 << 20)).toBe(1 << 20);
    expect(w.fcntl(12345, 0)).toBe(E.EINVAL);
    const buf = new Uint8Array(8000);
    expect(r.read(buf)).toBe(8000);
  });

  it('wakes waiters when data arrives', async () => {
    const [r, w] = pair();
    const waiting = waitForEvents(r, POLLIN);
    let done = false;
    void waiting.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    w.write(new Uint8Array([7]));
    expect(await waiting).toBe(POLLIN);
    const ac = new AbortController();
    const [r2] = pair();
    const w2 = waitForEvents(r2, POLLIN, ac.signal);
    ac.abort(new Error('signal'));
    await expect(w2).rejects.toThrow('signal');
  });

  it('matches Linux for sizes and non-blocking writes', () => {
    const big = 'q'.repeat(70000);
    const ops: Op[] = [
      ['pipe', O_NONBLOCK],
      ['write', 1, big],
      ['write', 1, 'x'],
      ['read', 0, 10],
      ['write', 1, 'x'.repeat(11)],
      ['write', 1, 'x'.repeat(10)],
      ['fcntl', 1, F_GETPIPE_SZ, 0],
      ['fcntl', 1, F_SETPIPE_SZ, 0],
      ['fcntl', 1, F_SETPIPE_SZ, 100000],
      ['fcntl', 1, F_GETPIPE_SZ, 0],
      ['fcntl', 0, 3, 0],
      ['fcntl', 1, 3, 0],
      ['close', 1],
      ['read', 0, 3],
      ['close', 0],
      ['pipe', 0],
      ['close', 2],
      ['fstat', 3].slice(0, 2) as Op,
      ['fcntl', 3, F_SETPIPE_SZ, -1],
    ];
    const host = runHost(ops).map((l, i) => (ops[i]?.[0] === 'read' ? l.slice(0, 40) : l));
    const p = new Posix(new Vfs(new Tmpfs()), ROOT_CREDS);
    const mine = runVfs(p, ops).map((l, i) => (ops[i]?.[0] === 'read' ? l.slice(0, 40) : l));
    // fstat of a pipe: compare the type and permission bits only.
    const fix = (l: string[]): string[] =>
      l.map((x, i) => (ops[i]?.[0] === 'fstat' ? x.split(' ').slice(0, 2).join(' ') : x));
    expect(fix(mine)).toEqual(fix(host));
  });
});

describe('FIFOs', () => {
  it('follow the open rules', async () => {
    const vfs = new Vfs(new Tmpfs());
    const ctx = vfs.rootContext(ROOT_CREDS);
    expect(vfs.mknodat(ctx, ctx.cwd, '/fifo', 0o10666, 0)).toBeUndefined();
    expect(vfs.openat(ctx, ctx.cwd, '/fifo', O_WRONLY | O_NONBLOCK)).toBe(E.ENXIO);
    const rn = vfs.openat(ctx, ctx.cwd, '/fifo', O_RDONLY | O_NONBLOCK) as FileDescription;
    expect(rn.openWait).toBeNull();
    expect(rn.read(new Uint8Array(4))).toBe(0); // no writer yet: EOF
    const w = vfs.openat(ctx, ctx.cwd, '/fifo', O_WRONLY) as FileDescription;
    expect(w.openWait).toBeNull(); // a reader exists
    rn.release();
    w.release();
    const r = vfs.openat(ctx, ctx.cwd, '/fifo', O_RDONLY) as FileDescription;
    expect(r.openWait).not.toBeNull();
    const opened = waitForEvents(r.openWait!, POLLIN);
    const w2 = vfs.openat(ctx, ctx.cwd, '/fifo', O_WRONLY) as FileDescription;
    expect(w2.openWait).toBeNull();
    expect(await opened).toBe(POLLIN);
    expect(w2.write(new Uint8Array([9, 8]))).toBe(2);
    const buf = new Uint8Array(4);
    expect(r.read(buf)).toBe(2);
    const rw = vfs.openat(ctx, ctx.cwd, '/fifo', O_RDWR) as FileDescription;
    expect(rw.openWait).toBeNull();
    w2.release();
    rw.release();
    expect(r.read(buf)).toBe(0);
  });
});
