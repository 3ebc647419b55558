// Task I/O accounting (/proc/<pid>/io's rchar, wchar, syscr, syscw) kept by the read/write
// syscalls, and prctl's timer slack, through the syscall table. Which calls count is compared
// with the host kernel (testdata/io-accounting.c).
import { E, Prctl, isError } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const here = new URL('.', import.meta.url).pathname;

/** What testdata/io-accounting.c prints on the host kernel. */
function hostCounts(): string {
  const dir = mkdtempSync('/var/tmp/tsvisor-ioacct-');
  try {
    const exe = join(dir, 'io-accounting');
    execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'testdata/io-accounting.c')]);
    return execFileSync(exe, { encoding: 'utf8', timeout: 10_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The program's cases as syscalls of a tsvisor task, printed the same way. */
async function sandboxCounts(): Promise<string> {
  const h = harness();
  expect(await h.call('pipe2', PIPE_FDS, 0o4000)).toBe(0); // O_NONBLOCK
  const fds = h.mem.read(PIPE_FDS, 8);
  if (isError(fds)) throw new Error(fds.name);
  const [r, w] = [fds[0] ?? 0, fds[4] ?? 0];
  const kernel = 0xffff800000000000n;
  const iov = BUF + 0x200;
  h.mem.writeU64(iov, BigInt(BUF));
  h.mem.writeU64(iov + 8, 4n);
  h.mem.write(BUF, new TextEncoder().encode('hello world'));
  let out = '';
  const CASE = async (name: string, writes: boolean, call: () => Promise<unknown>): Promise<void> => {
    const before = writes ? h.task.ioac.syscw : h.task.ioac.syscr;
    await call();
    out += `${name} ${(writes ? h.task.ioac.syscw : h.task.ioac.syscr) - before}\n`;
  };
  await CASE('read-ebadf', false, () => h.call('read', 99, BUF, 4));
  await CASE('read-kernel-address', false, () => h.call('read', r, kernel, 4));
  await CASE('read-write-end', false, () => h.call('read', w, BUF, 4));
  await CASE('read-eagain', false, () => h.call('read', r, BUF, 4));
  await CASE('readv-ebadf', false, () => h.call('readv', 99, iov, 1));
  await CASE('readv-bad-iovec', false, () => h.call('readv', r, 1, 1));
  await CASE('pread-negative', false, () => h.call('pread64', r, BUF, 4, -1));
  await CASE('pread-espipe', false, () => h.call('pread64', r, BUF, 4, 0));
  await CASE('preadv-negative', false, () => h.call('preadv', r, iov, 1, -1));
  await CASE('write-ebadf', true, () => h.call('write', 99, BUF, 4));
  await CASE('write-kernel-address', true, () => h.call('write', w, kernel, 4));
  await CASE('write-fault', true, () => h.call('write', w, 1, 4));
  await CASE('writev-ebadf', true, () => h.call('writev', 99, iov, 1));
  await CASE('write', true, () => h.call('write', w, BUF, 11));
  await CASE('read', false, () => h.call('read', r, BUF, 4));
  await CASE('readv', false, () => h.call('readv', r, iov, 1));
  return out;
}

const PIPE_FDS = BUF + 0x1000;

describe('which calls count, as on the host kernel', () => {
  it('bad fds, ESPIPE, negative offsets and kernel addresses do not count; faults and vector calls do', async () => {
    expect(await sandboxCounts()).toBe(hostCounts());
  });
});

describe('read/write accounting', () => {
  it('counts calls and bytes of read, write and readv on the thread and its process', async () => {
    const h = harness();
    expect(await h.call('pipe2', PIPE_FDS, 0)).toBe(0);
    const fds = h.mem.read(PIPE_FDS, 8);
    if (isError(fds)) throw new Error(fds.name);
    const [r, w] = [fds[0] ?? 0, fds[4] ?? 0];
    h.mem.write(BUF, new TextEncoder().encode('hello world'));
    expect(await h.call('write', w, BUF, 11)).toBe(11);
    expect(await h.call('read', r, BUF + 0x100, 4)).toBe(4);
    // One iovec of 7 bytes for readv.
    h.mem.writeU64(BUF + 0x200, BigInt(BUF + 0x300));
    h.mem.writeU64(BUF + 0x208, 7n);
    expect(await h.call('readv', r, BUF + 0x200, 1)).toBe(7);
    expect({ ...h.task.ioac }).toEqual({ rchar: 11, wchar: 11, syscr: 2, syscw: 1 });
    expect({ ...h.task.group.ioac }).toEqual({ rchar: 11, wchar: 11, syscr: 2, syscw: 1 });
  });

  it('calls refused before any I/O (bad fd) are not counted; a copy fault and EAGAIN are, with no bytes', async () => {
    const h = harness();
    expect(await h.call('read', 99, BUF, 4)).toBe(E.EBADF);
    expect(await h.call('pipe2', PIPE_FDS, 0o4000)).toBe(0); // O_NONBLOCK
    const fds = h.mem.read(PIPE_FDS, 8);
    if (isError(fds)) throw new Error(fds.name);
    expect(await h.call('write', fds[4] ?? 0, 1, 4)).toBe(E.EFAULT);
    expect(await h.call('read', fds[0] ?? 0, BUF, 4)).toBe(E.EAGAIN);
    expect({ ...h.task.ioac }).toEqual({ rchar: 0, wchar: 0, syscr: 1, syscw: 1 });
  });
});

describe('prctl timer slack', () => {
  it('PR_SET_TIMERSLACK sets what PR_GET_TIMERSLACK returns; 0 restores the default', async () => {
    const h = harness();
    expect(await h.call('prctl', Prctl.PR_GET_TIMERSLACK)).toBe(50_000);
    expect(await h.call('prctl', Prctl.PR_SET_TIMERSLACK, 1234)).toBe(0);
    expect(await h.call('prctl', Prctl.PR_GET_TIMERSLACK)).toBe(1234);
    expect(h.task.timerSlackNs).toBe(1234);
    expect(await h.call('prctl', Prctl.PR_SET_TIMERSLACK, 0)).toBe(0);
    expect(await h.call('prctl', Prctl.PR_GET_TIMERSLACK)).toBe(50_000);
  });
});
