import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const EPOLLIN = 1;
const EPOLLOUT = 4;
const EPOLLET = 0x80000000;
const EPOLLONESHOT = 0x40000000;

async function setup() {
  const h = harness();
  await h.call('pipe2', BUF, 0);
  const r = h.mem.readI32(BUF) as number;
  const w = h.mem.readI32(BUF + 4) as number;
  const ep = (await h.call('epoll_create1', 0o2000000)) as number;
  const ctl = (op: number, fd: number, events: number, data: bigint): Promise<unknown> => {
    h.mem.writeU32(BUF + 16, events >>> 0);
    h.mem.writeU64(BUF + 20, data);
    return h.call('epoll_ctl', ep, op, fd, BUF + 16);
  };
  const write = (): Promise<unknown> => {
    h.mem.write(BUF + 500, new Uint8Array([7]));
    return h.call('write', w, BUF + 500, 1);
  };
  return { h, r, w, ep, ctl, write };
}

describe('epoll', () => {
  it('reports readiness of registered files with their data', async () => {
    const { h, r, w, ep, ctl } = await setup();
    expect(h.task.files.entry(ep)?.cloexec).toBe(true);
    expect(await ctl(1, r, EPOLLIN, 0x1111n)).toBe(0);
    expect(await ctl(1, w, EPOLLOUT, 0x2222n)).toBe(0);
    expect(await ctl(1, w, EPOLLOUT, 0x2222n)).toBe(E.EEXIST);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    expect(h.mem.readU32(BUF + 100)).toBe(EPOLLOUT);
    expect(h.mem.readU64(BUF + 104)).toBe(0x2222n);
  });

  it('blocks until a watched pipe becomes readable', async () => {
    const { h, r, ep, ctl, write } = await setup();
    await ctl(1, r, EPOLLIN, 7n);
    const p = h.call('epoll_wait', ep, BUF + 100, 8, -1);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    await write();
    expect(await p).toBe(1);
    expect(h.mem.readU64(BUF + 104)).toBe(7n);
  });

  it('edge-triggered interests report once per change; one-shot until re-armed', async () => {
    const { h, r, ep, ctl, write } = await setup();
    await ctl(1, r, EPOLLIN | EPOLLET, 1n);
    await write();
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(0);
    await write();
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    await ctl(3, r, EPOLLIN | EPOLLONESHOT, 2n);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(0);
    await ctl(3, r, EPOLLIN, 3n);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(1);
    expect(await ctl(2, r, 0, 0n)).toBe(0);
    expect(await ctl(2, r, 0, 0n)).toBe(E.ENOENT);
    expect(await h.call('epoll_wait', ep, BUF + 100, 8, 0)).toBe(0);
  });

  it('answers Linux errnos', async () => {
    const { h, r, ep, ctl } = await setup();
    expect(await ctl(1, ep, EPOLLIN, 0n)).toBe(E.EINVAL);
    expect(await ctl(9, r, EPOLLIN, 0n)).toBe(E.EINVAL);
    expect(await h.call('epoll_ctl', r, 1, r, BUF + 16)).toBe(E.EINVAL);
    expect(await h.call('epoll_ctl', ep, 1, r, 1)).toBe(E.EFAULT);
    expect(await h.call('epoll_wait', r, BUF, 1, 0)).toBe(E.EINVAL);
    expect(await h.call('epoll_wait', ep, BUF, 0, 0)).toBe(E.EINVAL);
    h.mem.write(BUF + 600, new TextEncoder().encode('/reg\0'));
    const reg = (await h.call('openat', -100, BUF + 600, 0o102, 0o600)) as number;
    expect(await ctl(1, reg, EPOLLIN, 0n)).toBe(E.EPERM);
    expect(await h.call('read', ep, BUF, 8)).toBe(E.EINVAL);
  });
});
