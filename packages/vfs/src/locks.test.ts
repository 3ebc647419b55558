import fc from 'fast-check';
import { E, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import {
  F_RDLCK,
  F_UNLCK,
  F_WRLCK,
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  O_CREAT,
  O_RDONLY,
  O_RDWR,
  POLLIN,
  ROOT_CREDS,
  SEEK_SET,
  Tmpfs,
  Vfs,
  WOULD_BLOCK,
  cancelLockWait,
  flock,
  getRecordLock,
  lockWaitQueue,
  releasePosixLocks,
  setRecordLock,
} from './index.js';
import { Posix } from './index.js';
import type { FileDescription } from './index.js';
import { runHost, runVfs } from './testing/differential.test-util.js';
import type { Op } from './testing/differential.test-util.js';

function files(n: number, flags = O_RDWR): FileDescription[] {
  const vfs = new Vfs(new Tmpfs());
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.openat(ctx, ctx.cwd, '/f', O_CREAT | O_RDWR, 0o644);
  return Array.from({ length: n }, () => {
    const f = vfs.openat(ctx, ctx.cwd, '/f', flags);
    if (isError(f)) throw new Error();
    return f;
  });
}

const req = (type: number, start: number, len: number) => ({ type, whence: SEEK_SET, start, len, pid: 0 });

describe('flock', () => {
  it('shares, excludes, converts non-atomically and goes away on release', () => {
    const [a, b, c] = files(3) as [FileDescription, FileDescription, FileDescription];
    expect(flock(a, LOCK_SH)).toBe(0);
    expect(flock(b, LOCK_SH)).toBe(0);
    expect(flock(c, LOCK_EX | LOCK_NB)).toBe(E.EAGAIN);
    expect(flock(c, LOCK_EX)).toBe(WOULD_BLOCK);
    // A failed upgrade loses the shared lock (Linux drops it first).
    expect(flock(a, LOCK_EX | LOCK_NB)).toBe(E.EAGAIN);
    expect(flock(b, LOCK_UN)).toBe(0);
    let wakeups = 0;
    lockWaitQueue(c.location.inode).add({ mask: POLLIN, notify: () => wakeups++ });
    b.release();
    expect(flock(c, LOCK_EX | LOCK_NB)).toBe(0);
    expect(flock(a, LOCK_SH | LOCK_NB)).toBe(E.EAGAIN);
    c.release();
    expect(flock(a, LOCK_SH | LOCK_NB)).toBe(0);
    expect(flock(a, 0)).toBe(E.EINVAL);
    expect(wakeups).toBe(1); // c's release woke the lock waiters (b held nothing any more)
  });
});

describe('POSIX record locks', () => {
  const p1 = {};
  const p2 = {};

  it('conflict, report the blocker, split and merge', () => {
    const [a, b] = files(2) as [FileDescription, FileDescription];
    expect(setRecordLock(a, p1, 100, req(F_WRLCK, 0, 100), false)).toBe(0);
    expect(setRecordLock(b, p2, 200, req(F_RDLCK, 50, 11), false)).toBe(E.EAGAIN);
    expect(getRecordLock(b, p2, req(F_RDLCK, 50, 11))).toEqual({
      type: F_WRLCK,
      whence: SEEK_SET,
      start: 0,
      len: 100,
      pid: 100,
    });
    expect(getRecordLock(a, p1, req(F_WRLCK, 50, 11))).toMatchObject({ type: F_UNLCK });
    // Unlocking the middle splits the lock in two.
    expect(setRecordLock(a, p1, 100, req(F_UNLCK, 40, 20), false)).toBe(0);
    expect(setRecordLock(b, p2, 200, req(F_RDLCK, 40, 20), false)).toBe(0);
    expect(getRecordLock(b, p2, req(F_WRLCK, 0, 0))).toMatchObject({ start: 0, len: 40, pid: 100 });
    expect(getRecordLock(b, p2, req(F_WRLCK, 45, 0))).toMatchObject({ start: 60, len: 40, pid: 100 });
    // Adjacent locks of one type merge; a different type in the middle splits.
    expect(setRecordLock(a, p1, 100, req(F_WRLCK, 100, 50), false)).toBe(0);
    expect(getRecordLock(b, p2, req(F_RDLCK, 70, 1))).toMatchObject({ start: 60, len: 90 });
    expect(setRecordLock(a, p1, 100, req(F_RDLCK, 80, 10), false)).toBe(0);
    expect(getRecordLock(b, p2, req(F_WRLCK, 61, 1))).toMatchObject({ type: F_WRLCK, start: 60, len: 20 });
    expect(getRecordLock(b, p2, req(F_WRLCK, 85, 1))).toMatchObject({ type: F_RDLCK, start: 80, len: 10 });
    expect(getRecordLock(b, p2, req(F_RDLCK, 85, 1))).toMatchObject({ type: F_UNLCK });
    releasePosixLocks(a.location.inode, p1);
    expect(getRecordLock(b, p2, req(F_WRLCK, 0, 0))).toMatchObject({ type: F_UNLCK });
  });

  it('detects deadlocks and checks the access mode', () => {
    const [a, b] = files(2) as [FileDescription, FileDescription];
    expect(setRecordLock(a, p1, 1, req(F_WRLCK, 0, 1), true)).toBe(0);
    expect(setRecordLock(b, p2, 2, req(F_WRLCK, 1, 1), true)).toBe(0);
    expect(setRecordLock(a, p1, 1, req(F_WRLCK, 1, 1), true)).toBe(WOULD_BLOCK);
    expect(setRecordLock(b, p2, 2, req(F_WRLCK, 0, 1), true)).toBe(E.EDEADLK);
    cancelLockWait(p1); // p1's wait was interrupted: no cycle any more
    expect(setRecordLock(b, p2, 2, req(F_WRLCK, 0, 1), true)).toBe(WOULD_BLOCK);
    const [ro] = files(1, O_RDONLY) as [FileDescription];
    expect(setRecordLock(ro, p1, 1, req(F_WRLCK, 0, 1), false)).toBe(E.EBADF);
    expect(setRecordLock(ro, p1, 1, req(F_RDLCK, -5, 1), false)).toBe(E.EINVAL);
    expect(setRecordLock(ro, p1, 1, { ...req(F_RDLCK, 0, 1), whence: 9 }, false)).toBe(E.EINVAL);
  });

  it('treats OFD locks as owned by the description and drops them on release', () => {
    const [a, b] = files(2) as [FileDescription, FileDescription];
    expect(setRecordLock(a, a, -1, req(F_WRLCK, 0, 0), false)).toBe(0);
    expect(getRecordLock(b, b, req(F_RDLCK, 5, 1))).toMatchObject({ type: F_WRLCK, pid: -1 });
    a.release();
    expect(setRecordLock(b, b, -1, req(F_WRLCK, 0, 0), false)).toBe(0);
  });
});

describe('Posix facade locks', () => {
  it('drops POSIX locks on any close of the file by the owner', () => {
    const vfs = new Vfs(new Tmpfs());
    const p = new Posix(vfs, ROOT_CREDS);
    const q = new Posix(vfs, ROOT_CREDS);
    const a = p.open('/f', O_CREAT | O_RDWR, 0o644) as number;
    const a2 = p.open('/f', O_RDWR) as number;
    const b = q.open('/f', O_RDWR) as number;
    expect(p.lock(a, 6, req(F_WRLCK, 0, 10), 11)).toBe(0);
    const probe = req(F_WRLCK, 5, 1);
    expect(q.lock(b, 5, probe)).toBe(0);
    expect(probe).toMatchObject({ type: F_WRLCK, start: 0, len: 10, pid: 11 });
    expect(q.lock(b, 6, req(F_RDLCK, 0, 1))).toBe(E.EAGAIN);
    expect(p.close(a2)).toBe(0); // another fd of the same file: the lock goes too
    expect(q.lock(b, 6, req(F_RDLCK, 0, 1))).toBe(0);
    expect(q.lock(b, 37, { ...req(F_RDLCK, 0, 1), pid: 5 })).toBe(E.EINVAL);
    expect(p.flock(a, LOCK_EX)).toBe(0);
    expect(q.flock(b, LOCK_SH)).toBe(E.EAGAIN);
  });
});

describe('flock and OFD locks against Linux', () => {
  it('random lock sequences on three descriptions give the kernel results', () => {
    const h = fc.integer({ min: 0, max: 2 });
    const lockOp: fc.Arbitrary<Op> = fc.oneof(
      fc.tuple(fc.constant('flock' as const), h, fc.constantFrom(5, 6, 8, 12, 0, 3, 4)), // never blocking: the host would hang
      fc.tuple(
        fc.constant('ofd' as const),
        h,
        fc.constantFrom(36, 37),
        fc.constantFrom(0, 1, 2, 3),
        fc.constantFrom(0, 1, 2),
        fc.constantFrom(0, 5, 10, 20, -3),
        fc.constantFrom(0, 1, 5, 10, -2),
      ),
    );
    const setup: Op[] = [
      ['open', '/f', O_CREAT | O_RDWR, 0o644],
      ['open', '/f', O_RDWR, 0],
      ['open', '/f', O_RDONLY, 0],
      ['pwrite', 0, 'x'.repeat(30), 0],
      ['lseek', 1, 7, 0],
    ];
    fc.assert(
      fc.property(fc.array(lockOp, { minLength: 1, maxLength: 25 }), (ops) => {
        const all = [...setup, ...ops];
        const host = runHost(all);
        const mine = runVfs(new Posix(new Vfs(new Tmpfs()), ROOT_CREDS), all);
        expect(mine).toEqual(host);
      }),
      { numRuns: Number(process.env['VFS_FUZZ_RUNS'] ?? 150) },
    );
  });
});
