import { E, SiCode } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';
import { signalfdSiginfo } from './sys-signalfd.js';

const SIGUSR1 = 10;
const SIGUSR2 = 12;
const SIGRTMIN = 34;
const SFD_NONBLOCK = 0o4000;
const MASK = BUF + 0x100;
const OUT = BUF + 0x400;

const bit = (s: number): bigint => 1n << BigInt(s - 1);

async function block(h: Harness, mask: bigint): Promise<void> {
  h.mem.writeU64(MASK, mask);
  expect(await h.call('rt_sigprocmask', 0, MASK, 0, 8)).toBe(0);
}

describe('signalfd', () => {
  it('reads blocked signals as signalfd_siginfo records, thread queue first', async () => {
    const h = harness();
    await block(h, bit(SIGUSR1) | bit(SIGUSR2) | bit(SIGRTMIN));
    h.mem.writeU64(MASK, bit(SIGUSR1) | bit(SIGRTMIN));
    const fd = (await h.call('signalfd4', -1, MASK, 8, SFD_NONBLOCK)) as number;
    expect(await h.call('read', fd, OUT, 128)).toBe(E.EAGAIN);
    expect(await h.call('kill', 1, SIGUSR2)).toBe(0); // not in the fd's mask
    expect(await h.call('read', fd, OUT, 128)).toBe(E.EAGAIN);
    expect(await h.call('kill', 1, SIGRTMIN)).toBe(0); // process queue
    expect(await h.call('tgkill', 1, 1, SIGUSR1)).toBe(0); // thread queue
    expect(await h.call('read', fd, OUT, 127)).toBe(E.EINVAL);
    expect(await h.call('read', fd, OUT, 3 * 128)).toBe(256);
    const v = new DataView((h.mem.read(OUT, 256) as Uint8Array).slice().buffer);
    expect(v.getUint32(0, true)).toBe(SIGUSR1);
    expect(v.getInt32(8, true)).toBe(SiCode.SI_TKILL);
    expect(v.getUint32(12, true)).toBe(1); // ssi_pid
    expect(v.getUint32(128, true)).toBe(SIGRTMIN);
    expect(v.getInt32(136, true)).toBe(SiCode.SI_USER);
    // SIGUSR2 is still pending for the process.
    h.mem.writeU64(MASK, 0n);
    await h.call('rt_sigpending', MASK, 8);
    expect(h.mem.readU64(MASK)).toBe(bit(SIGUSR2));
  });

  it('a blocking read wakes when a blocked signal arrives; poll sees it', async () => {
    const h = harness();
    await block(h, bit(SIGUSR1));
    h.mem.writeU64(MASK, bit(SIGUSR1));
    const fd = (await h.call('signalfd', -1, MASK, 8)) as number;
    h.mem.writeI32(BUF, fd);
    h.mem.writeU32(BUF + 4, 1);
    expect(await h.call('poll', BUF, 1, 0)).toBe(0);
    const p = h.call('read', fd, OUT, 128);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.kernel.sendToGroup(h.task.group, {
      signo: SIGUSR1,
      code: SiCode.SI_QUEUE,
      pid: 7,
      uid: 3,
      value: 0x1_0000_0005n,
    });
    expect(await p).toBe(128);
    const v = new DataView((h.mem.read(OUT, 128) as Uint8Array).slice().buffer);
    expect([v.getUint32(12, true), v.getUint32(16, true)]).toEqual([7, 3]);
    expect(v.getInt32(44, true)).toBe(5); // ssi_int
    expect(v.getBigUint64(48, true)).toBe(0x1_0000_0005n); // ssi_ptr
  });

  it('updates the mask of an existing fd and checks its arguments', async () => {
    const h = harness();
    await block(h, bit(SIGUSR1) | bit(SIGUSR2));
    h.mem.writeU64(MASK, bit(SIGUSR1));
    const fd = (await h.call('signalfd4', -1, MASK, 8, SFD_NONBLOCK | 0o2000000)) as number;
    expect(await h.call('fcntl', fd, 1)).toBe(1); // FD_CLOEXEC
    await h.call('kill', 1, SIGUSR2);
    expect(await h.call('read', fd, OUT, 128)).toBe(E.EAGAIN);
    h.mem.writeU64(MASK, bit(SIGUSR2));
    expect(await h.call('signalfd4', fd, MASK, 8, 0)).toBe(fd);
    expect(await h.call('read', fd, OUT, 128)).toBe(128);
    expect(h.mem.readU32(OUT)).toBe(SIGUSR2);
    expect(await h.call('signalfd4', -1, MASK, 4, 0)).toBe(E.EINVAL);
    expect(await h.call('signalfd4', -1, BAD, 8, 0)).toBe(E.EFAULT);
    expect(await h.call('signalfd4', -1, MASK, 8, 1)).toBe(E.EINVAL);
    expect(await h.call('signalfd4', 77, MASK, 8, 0)).toBe(E.EBADF);
    const efd = (await h.call('eventfd2', 0, 0)) as number;
    expect(await h.call('signalfd4', efd, MASK, 8, 0)).toBe(E.EINVAL);
  });

  it('fills the timer fields of a POSIX timer signal', () => {
    const b = signalfdSiginfo({ signo: 14, code: SiCode.SI_TIMER, timerId: 3, overrun: 2, value: 9n });
    const v = new DataView(b.buffer);
    expect([v.getUint32(24, true), v.getUint32(32, true), v.getInt32(44, true)]).toEqual([3, 2, 9]);
    expect(v.getUint32(12, true)).toBe(0); // no pid in the timer layout
  });
});
