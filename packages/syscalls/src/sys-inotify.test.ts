import { E } from '@tsvisor/abi';
import { IN_CREATE, IN_ISDIR, IN_MODIFY } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';
import { INOTIFY_MAX_USER_INSTANCES } from './sys-inotify.js';

const enc = new TextEncoder();
const IN_NONBLOCK = 0o4000;
const IN_CLOEXEC = 0o2000000;
const FIONREAD = 0x541b;

function path(h: Harness, s: string, slot = 0): number {
  const addr = BUF + 0x100 * slot;
  h.mem.write(addr, enc.encode(s + '\0'));
  return addr;
}

describe('inotify syscalls', () => {
  it('check flags, fds and masks in Linux order', async () => {
    const h = harness();
    expect(await h.call('inotify_init1', 1)).toBe(E.EINVAL);
    const fd = (await h.call('inotify_init1', IN_NONBLOCK | IN_CLOEXEC)) as number;
    expect(await h.call('fcntl', fd, 1)).toBe(1); // F_GETFD: FD_CLOEXEC
    expect(await h.call('inotify_add_watch', 99, path(h, '/'), 0)).toBe(E.EINVAL);
    expect(await h.call('inotify_add_watch', 99, path(h, '/'), IN_MODIFY)).toBe(E.EBADF);
    const plain = (await h.call('openat', -100, path(h, '/f'), 0o101, 0o644)) as number;
    expect(await h.call('inotify_add_watch', plain, path(h, '/'), IN_MODIFY)).toBe(E.EINVAL);
    expect(await h.call('inotify_add_watch', fd, path(h, '/'), IN_MODIFY | 0x30000000)).toBe(E.EINVAL);
    expect(await h.call('inotify_add_watch', fd, BAD, IN_MODIFY)).toBe(E.EFAULT);
    expect(await h.call('inotify_add_watch', fd, path(h, '/f'), IN_MODIFY | 0x1000000)).toBe(E.ENOTDIR);
    expect(await h.call('inotify_rm_watch', fd, 5)).toBe(E.EINVAL);
    expect(await h.call('inotify_rm_watch', plain, 5)).toBe(E.EINVAL);
    expect(await h.call('read', fd, BUF + 0x1000, 64)).toBe(E.EAGAIN);
  });

  it('reads events, answers FIONREAD and poll, and blocks until an event', async () => {
    const h = harness();
    const fd = (await h.call('inotify_init')) as number;
    const wd = (await h.call('inotify_add_watch', fd, path(h, '/'), IN_CREATE)) as number;
    expect(wd).toBe(1);
    // A blocked read completes when a directory appears.
    const pending = h.call('read', fd, BUF + 0x1000, 256);
    expect(await h.call('mkdirat', -100, path(h, '/dir', 1), 0o755)).toBe(0);
    expect(await pending).toBe(32);
    const raw = h.mem.read(BUF + 0x1000, 32) as Uint8Array;
    const v = new DataView(raw.buffer, raw.byteOffset, 32);
    expect([v.getInt32(0, true), v.getUint32(4, true), v.getUint32(12, true)]).toEqual([
      wd,
      IN_CREATE | IN_ISDIR,
      16,
    ]);
    expect(Buffer.from(h.mem.read(BUF + 0x1010, 3) as Uint8Array).toString()).toBe('dir');
    expect(await h.call('mkdirat', -100, path(h, '/longer-name-here', 1), 0o755)).toBe(0);
    expect(await h.call('ioctl', fd, FIONREAD, BUF + 0x2000)).toBe(0);
    expect(h.mem.readI32(BUF + 0x2000)).toBe(48);
    // struct pollfd { fd, events = POLLIN, revents }
    const pfd = BUF + 0x3000;
    h.mem.writeU32(pfd, fd);
    h.mem.write(pfd + 4, new Uint8Array([1, 0, 0, 0]));
    expect(await h.call('poll', pfd, 1, 0)).toBe(1);
    expect(await h.call('inotify_rm_watch', fd, wd)).toBe(0);
    expect(await h.call('inotify_rm_watch', fd, wd)).toBe(E.EINVAL);
  });

  it('limits instances per user (EMFILE)', async () => {
    const h = harness();
    const fds: number[] = [];
    for (let i = 0; i < INOTIFY_MAX_USER_INSTANCES; i++) fds.push((await h.call('inotify_init')) as number);
    expect(fds.every((fd) => fd >= 0)).toBe(true);
    expect(await h.call('inotify_init')).toBe(E.EMFILE);
    expect(await h.call('close', fds[5]!)).toBe(0);
    expect(await h.call('inotify_init')).toBe(fds[5]);
  });
});
