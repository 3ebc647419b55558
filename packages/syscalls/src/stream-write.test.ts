import { E, Signal } from '@tsvisor/abi';
import { ERESTARTSYS } from '@tsvisor/kernel';
import type { FileDescription } from '@tsvisor/vfs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

type H = ReturnType<typeof harness>;

/** Where the big write buffers live: 2 MiB of extra scratch memory. */
const BIG = 0x1000_0000;
const BIG_SIZE = 2 << 20;
const O_NONBLOCK = 0o4000;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;

function setup(): H {
  const h = harness();
  h.mem.map(BIG, BIG_SIZE);
  const pattern = new Uint8Array(BIG_SIZE);
  for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7 + (i >> 12)) & 0xff;
  h.mem.write(BIG, pattern);
  return h;
}

/** Two fds: a pipe (pipe2) or a unix stream socket pair. */
async function pair(h: H, kind: 'pipe' | 'socket', nonBlocking = false): Promise<[number, number]> {
  const r =
    kind === 'pipe'
      ? await h.call('pipe2', BUF, nonBlocking ? O_NONBLOCK : 0)
      : await h.call('socketpair', AF_UNIX, SOCK_STREAM | (nonBlocking ? SOCK_NONBLOCK : 0), 0, BUF);
  expect(r).toBe(0);
  return [h.mem.readI32(BUF) as number, h.mem.readI32(BUF + 4) as number];
}

function fileOf(h: H, fd: number): FileDescription {
  const e = h.task.files.entry(fd);
  if (!e) throw new Error(`no fd ${fd}`);
  return e.file as FileDescription;
}

/** Lets the event loop run, so a blocked call reaches its wait. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Reads everything buffered on `file` (as another process would), appending to `into`. */
function drain(file: FileDescription, into: number[]): number {
  const buf = new Uint8Array(65536);
  let total = 0;
  for (;;) {
    const n = file.read(buf);
    if (typeof n !== 'number' || n === 0) return total;
    for (let i = 0; i < n; i++) into.push(buf[i]!);
    total += n;
  }
}

function onSigusr1(h: H): void {
  h.task.group.actions.set(Signal.SIGUSR1, {
    handler: 0x401000n,
    flags: 0,
    restorer: 0n,
    mask: h.task.mask.clone(),
  });
}

describe.each(['pipe', 'socket'] as const)('blocking write(2) on a %s', (kind) => {
  it('writes more than the buffer holds while a reader drains, in order', async () => {
    const h = setup();
    const [rfd, wfd] = await pair(h, kind);
    const len = 1 << 20;
    const writing = h.call('write', wfd, BIG, len);
    const got: number[] = [];
    let rounds = 0;
    for (; rounds < 1000; rounds++) {
      await settle();
      if (!h.task.blocked) break;
      expect(drain(fileOf(h, rfd), got)).toBeGreaterThan(0);
    }
    expect(rounds).toBeGreaterThan(1); // it did have to wait for the reader
    expect(await writing).toBe(len);
    drain(fileOf(h, rfd), got);
    expect(got.length).toBe(len);
    expect(Buffer.from(got).equals(Buffer.from(h.mem.peek(BIG, len)))).toBe(true);
  });

  it('writev does the same', async () => {
    const h = setup();
    const [rfd, wfd] = await pair(h, kind);
    const iov = BUF + 256;
    h.mem.writeU64(iov, BigInt(BIG));
    h.mem.writeU64(iov + 8, 300_000n);
    h.mem.writeU64(iov + 16, BigInt(BIG + 300_000));
    h.mem.writeU64(iov + 24, 300_000n);
    const writing = h.call('writev', wfd, iov, 2);
    const got: number[] = [];
    for (let i = 0; i < 1000 && (await settle(), h.task.blocked); i++) drain(fileOf(h, rfd), got);
    expect(await writing).toBe(600_000);
    drain(fileOf(h, rfd), got);
    expect(Buffer.from(got).equals(Buffer.from(h.mem.peek(BIG, 600_000)))).toBe(true);
  });

  it('a signal after some bytes gives their count; before any, ERESTARTSYS', async () => {
    const h = setup();
    const [rfd, wfd] = await pair(h, kind);
    onSigusr1(h);
    const writing = h.call('write', wfd, BIG, 1 << 20);
    await settle();
    expect(h.task.blocked).toBe(true);
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    const partial = (await writing) as number;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(1 << 20);
    const got: number[] = [];
    // Nothing was sent twice or lost: the reader finds exactly the reported prefix.
    expect(drain(fileOf(h, rfd), got)).toBe(partial);
    expect(Buffer.from(got).equals(Buffer.from(h.mem.peek(BIG, partial)))).toBe(true);
    h.task.pending.clear();

    // Fill the buffer, then a blocked write that sent nothing is restarted.
    const fill = h.call('write', wfd, BIG, 1 << 20);
    await settle();
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await fill).toBe(partial);
    h.task.pending.clear();
    const none = h.call('write', wfd, BIG, 8192);
    await settle();
    expect(h.task.blocked).toBe(true);
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await none).toBe(ERESTARTSYS);
  });

  it('O_NONBLOCK writes what fits, then EAGAIN', async () => {
    const h = setup();
    const [rfd, wfd] = await pair(h, kind, true);
    const n = (await h.call('write', wfd, BIG, 1 << 20)) as number;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(1 << 20);
    expect(await h.call('write', wfd, BIG, 8192)).toBe(E.EAGAIN);
    expect(drain(fileOf(h, rfd), [])).toBe(n);
  });

  it('a reader that goes away mid-way gives the partial count', async () => {
    const h = setup();
    const [rfd, wfd] = await pair(h, kind);
    h.task.mask.add(Signal.SIGPIPE);
    const writing = h.call('write', wfd, BIG, 1 << 20);
    await settle();
    expect(h.task.blocked).toBe(true);
    const buffered = drain(fileOf(h, rfd), []);
    await settle();
    expect(await h.call('close', rfd)).toBe(0);
    const n = (await writing) as number;
    expect(n).toBeGreaterThan(buffered);
    expect(n).toBeLessThan(1 << 20);
    // pipe_write raises SIGPIPE even after a partial write; unix_stream_sendmsg only when nothing went.
    expect(h.task.pending.has(Signal.SIGPIPE)).toBe(kind === 'pipe');
    expect(await h.call('write', wfd, BIG, 1)).toBe(E.EPIPE);
    expect(h.task.pending.has(Signal.SIGPIPE)).toBe(true);
  });
});

describe('send(2) on a unix stream socket shares the loop', () => {
  it('sendto completes a send larger than the socket buffer; MSG_DONTWAIT gives the partial count', async () => {
    const h = setup();
    const [rfd, wfd] = await pair(h, 'socket');
    const MSG_DONTWAIT = 0x40;
    const n = (await h.call('sendto', wfd, BIG, 1 << 20, MSG_DONTWAIT, 0, 0)) as number;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(1 << 20);
    const got: number[] = [];
    drain(fileOf(h, rfd), got);
    const sending = h.call('sendto', wfd, BIG, 1 << 20, 0, 0, 0);
    for (let i = 0; i < 1000 && (await settle(), h.task.blocked); i++) drain(fileOf(h, rfd), got);
    expect(await sending).toBe(1 << 20);
    drain(fileOf(h, rfd), got);
    expect(got.length).toBe(n + (1 << 20));
  });
});

describe('the host kernel agrees (testdata/stream-write.c)', () => {
  it('a reader leaving mid-write gives a partial count; SIGPIPE only from the pipe', () => {
    const dir = mkdtempSync('/var/tmp/tsvisor-stream-write-');
    try {
      const exe = join(dir, 'stream-write');
      const src = join(new URL('.', import.meta.url).pathname, 'testdata/stream-write.c');
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, src]);
      expect(execFileSync(exe, { encoding: 'utf8', timeout: 10_000 })).toBe(
        'pipe: write = partial, SIGPIPE = 1\nunix: write = partial, SIGPIPE = 0\n',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
