import { E } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const P_PIDFD = 3;
const WEXITED = 4;
const WNOHANG = 1;
const POLLIN = 1;
const POLLHUP = 0x10;

type H = ReturnType<typeof harness>;

async function pollOnce(h: H, fd: number, timeoutMs = 0): Promise<[unknown, number]> {
  const v = new DataView(new ArrayBuffer(8));
  v.setInt32(0, fd, true);
  v.setInt16(4, POLLIN, true);
  h.mem.write(BUF + 64, new Uint8Array(v.buffer));
  const r = await h.call('poll', BUF + 64, 1, timeoutMs);
  return [r, h.mem.peek(BUF + 70, 2)[0] as number];
}

function child(h: H, pid: number): Task {
  const c = h.kernel.task(pid);
  if (!c) throw new Error('no child');
  return c;
}

describe('pidfds', () => {
  it('poll readable when the child exits, hang-up once reaped; waitid(P_PIDFD) reaps it', async () => {
    const h = harness();
    const pid = (await h.call('fork')) as number;
    const fd = (await h.call('pidfd_open', pid, 0)) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(await pollOnce(h, fd)).toEqual([0, 0]);
    const nb = (await h.call('pidfd_open', pid, 0o4000)) as number;
    expect(await h.call('waitid', P_PIDFD, nb, BUF + 128, WEXITED, 0)).toBe(E.EAGAIN);
    expect(await h.call('waitid', P_PIDFD, fd, BUF + 128, WEXITED | WNOHANG, 0)).toBe(0);
    const waiting = pollOnce(h, fd, 5000);
    await Promise.resolve();
    h.kernel.exitGroup(child(h, pid), 7);
    expect(await waiting).toEqual([1, POLLIN]);
    expect(await h.call('pidfd_getfd', fd, 0, 0)).toBe(E.ESRCH);
    expect(await h.call('waitid', P_PIDFD, fd, BUF + 128, WEXITED, 0)).toBe(0);
    expect(h.mem.readI32(BUF + 128 + 16)).toBe(pid);
    expect(h.mem.readI32(BUF + 128 + 24)).toBe(7);
    expect(await pollOnce(h, fd)).toEqual([1, POLLIN | POLLHUP]);
    expect(await h.call('waitid', P_PIDFD, fd, BUF + 128, WEXITED, 0)).toBe(E.ECHILD);
    expect(await h.call('pidfd_send_signal', fd, 0, 0, 0)).toBe(E.ESRCH);
  });

  it('argument errors and pidfd_getfd duplicates the target fd close-on-exec', async () => {
    const h = harness();
    expect(await h.call('pidfd_open', 0, 0)).toBe(E.EINVAL);
    expect(await h.call('pidfd_open', 1, 1)).toBe(E.EINVAL);
    expect(await h.call('pidfd_open', 4242, 0)).toBe(E.ESRCH);
    expect(await h.call('pipe2', BUF, 0)).toBe(0);
    const rd = h.mem.readI32(BUF) as number;
    const pid = (await h.call('fork')) as number;
    const fd = (await h.call('pidfd_open', pid, 0)) as number;
    expect(await h.call('fcntl', fd, 1, 0)).toBe(1); // F_GETFD: FD_CLOEXEC
    expect(await h.call('read', fd, BUF + 8, 8)).toBe(E.EINVAL);
    const got = (await h.call('pidfd_getfd', fd, rd, 0)) as number;
    expect(got).toBeGreaterThan(rd);
    expect(await h.call('fcntl', got, 1, 0)).toBe(1);
    expect(await h.call('pidfd_getfd', fd, 999, 0)).toBe(E.EBADF);
    expect(await h.call('pidfd_getfd', fd, rd, 1)).toBe(E.EINVAL);
    expect(await h.call('pidfd_getfd', rd, 0, 0)).toBe(E.EBADF);
    expect(await h.call('pidfd_send_signal', fd, 0, 0, 3)).toBe(E.EINVAL);
    expect(await h.call('pidfd_send_signal', fd, 0, 0, 0)).toBe(0);
    expect(await h.call('waitid', P_PIDFD, rd, BUF + 128, WEXITED, 0)).toBe(E.EBADF);
  });
});
