// A userfs whose callbacks answer asynchronously, reached through syscalls: the dispatcher
// repeats a path operation that answered EAGAIN while a callback was in flight, so the program
// sees the callback's answer, never the EAGAIN.
import { At, E, OpenFlag, isError } from '@tsvisor/abi';
import { Userfs, type UserfsAttr } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';
import { ctxOf, vfsOf } from './vfs-context.js';

const enc = new TextEncoder();
const later = <T>(v: T): Promise<T> => new Promise((r) => setTimeout(() => r(v), 5));

function mountAsyncStore(h: ReturnType<typeof harness>, files: Map<string, string>): string[] {
  const calls: string[] = [];
  const fs = new Userfs({
    getattr: (path): Promise<UserfsAttr> => {
      calls.push(`getattr ${path}`);
      if (path === '/') return later({ mode: 0o040755 });
      const body = files.get(path);
      return body === undefined ? Promise.reject(E.ENOENT) : later({ mode: 0o100644, size: body.length });
    },
    readdir: () => later([...files.keys()].map((p) => p.slice(1))),
    read: (path, offset, length) =>
      later(enc.encode(files.get(path) ?? '').subarray(offset, offset + length)),
    mkdir: (path) => {
      calls.push(`mkdir ${path}`);
      return later(undefined);
    },
  });
  const vfs = vfsOf(h.task);
  const ctx = ctxOf(h.task);
  expect(vfs.mkdirat(ctx, ctx.cwd, '/kv', 0o755)).toBeUndefined();
  expect(isError(vfs.mount(ctx, ctx.cwd, '/kv', fs))).toBe(false);
  return calls;
}

describe('syscalls over a userfs with async callbacks', () => {
  it('openat + read get the callbacks answers, and a missing name its ENOENT', async () => {
    const h = harness();
    mountAsyncStore(h, new Map([['/greeting', 'hello from a promise']]));
    h.mem.write(BUF, enc.encode('/kv/greeting\0/kv/missing\0'));
    const fd = await h.call('openat', At.AT_FDCWD, BUF, OpenFlag.O_RDONLY);
    expect(isError(fd)).toBe(false);
    const n = await h.call('read', Number(fd), BUF + 0x1000, 100);
    expect(n).toBe(20);
    const got = h.mem.read(BUF + 0x1000, 20);
    if (isError(got)) throw got;
    expect(new TextDecoder().decode(got)).toBe('hello from a promise');
    expect(await h.call('openat', At.AT_FDCWD, BUF + 13, OpenFlag.O_RDONLY)).toBe(E.ENOENT);
  });

  it('mkdirat reaches the callback once and succeeds', async () => {
    const h = harness();
    const calls = mountAsyncStore(h, new Map());
    h.mem.write(BUF, enc.encode('/kv/dir\0'));
    expect(await h.call('mkdirat', At.AT_FDCWD, BUF, 0o755)).toBe(0);
    expect(calls.filter((c) => c === 'mkdir /dir')).toHaveLength(1);
  });
});
