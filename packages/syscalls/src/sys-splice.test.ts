import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const CWD = -100;
const O_RDWR = 2;
const O_CREAT = 0o100;

type H = ReturnType<typeof harness>;

async function file(h: H, path: string, content: string): Promise<number> {
  h.mem.write(BUF, enc.encode(`${path}\0`));
  const fd = (await h.call('openat', CWD, BUF, O_RDWR | O_CREAT, 0o644)) as number;
  h.mem.write(BUF + 256, enc.encode(content));
  expect(await h.call('write', fd, BUF + 256, content.length)).toBe(content.length);
  return fd;
}

async function pipe(h: H): Promise<[number, number]> {
  expect(await h.call('pipe2', BUF + 512, 0)).toBe(0);
  return [h.mem.readI32(BUF + 512) as number, h.mem.readI32(BUF + 516) as number];
}

async function contents(h: H, fd: number): Promise<string> {
  const n = (await h.call('pread64', fd, BUF + 1024, 256, 0)) as number;
  return dec.decode(h.mem.peek(BUF + 1024, n));
}

describe('copy_file_range and splice', () => {
  it('copy_file_range copies between offsets, shortens to EOF, refuses overlap and wrapping', async () => {
    const h = harness();
    const a = await file(h, '/a', '0123456789abcdefghij');
    const b = await file(h, '/b', '');
    h.mem.writeU64(BUF + 600, 5n);
    h.mem.writeU64(BUF + 608, 2n);
    expect(await h.call('copy_file_range', a, BUF + 600, b, BUF + 608, 10, 0)).toBe(10);
    expect([h.mem.readU64(BUF + 600), h.mem.readU64(BUF + 608)]).toEqual([15n, 12n]);
    expect((await contents(h, b)).slice(2)).toBe('56789abcde');
    h.mem.writeU64(BUF + 600, 0n);
    h.mem.writeU64(BUF + 608, 5n);
    expect(await h.call('copy_file_range', a, BUF + 600, a, BUF + 608, 10, 0)).toBe(E.EINVAL);
    expect(await h.call('copy_file_range', a, 0, b, 0, -1n, 0)).toBe(E.EOVERFLOW);
    expect(await h.call('copy_file_range', a, 0, b, 0, 100, 0)).toBe(0); // a's position is at EOF
    expect(await h.call('copy_file_range', a, 0, b, 0, 1, 1)).toBe(E.EINVAL);
    const [, w] = await pipe(h);
    expect(await h.call('copy_file_range', a, 0, w, 0, 1, 0)).toBe(E.EINVAL);
  });

  it('splice moves file -> pipe -> pipe -> file and waits for pipe data', async () => {
    const h = harness();
    const a = await file(h, '/a', 'hello world');
    const b = await file(h, '/b', '');
    const [r1, w1] = await pipe(h);
    const [r2, w2] = await pipe(h);
    expect(await h.call('lseek', a, 0, 0)).toBe(0);
    expect(await h.call('splice', a, 0, w1, 0, 5, 0)).toBe(5);
    expect(await h.call('lseek', a, 0, 1)).toBe(5);
    expect(await h.call('splice', r1, 0, w2, 0, 100, 0)).toBe(5);
    h.mem.writeU64(BUF + 600, 3n);
    expect(await h.call('splice', r2, 0, b, BUF + 600, 100, 0)).toBe(5);
    expect(h.mem.readU64(BUF + 600)).toBe(8n);
    expect(await contents(h, b)).toBe('\0\0\0hello');
    expect(await h.call('splice', r1, 0, b, 0, 10, 2)).toBe(E.EAGAIN);
    expect(await h.call('splice', r1, BUF + 600, b, 0, 10, 0)).toBe(E.ESPIPE);
    expect(await h.call('splice', a, 0, b, 0, 10, 0)).toBe(E.EINVAL);
    const pending = h.call('splice', r1, 0, b, 0, 10, 0);
    await Promise.resolve();
    expect(h.task.blocked).toBe(true);
    h.mem.write(BUF + 700, enc.encode('xy'));
    // Another writer fills the pipe: the blocked splice wakes and moves the two bytes.
    expect(await h.call('write', w1, BUF + 700, 2)).toBe(2);
    expect(await pending).toBe(2);
    expect(await h.call('close', w1)).toBe(0);
    expect(await h.call('splice', r1, 0, b, 0, 10, 0)).toBe(0);
  });

  it('tee duplicates the front of one pipe into another without consuming it', async () => {
    const h = harness();
    const [r1, w1] = await pipe(h);
    const [r2, w2] = await pipe(h);
    h.mem.write(BUF + 700, enc.encode('teedata'));
    expect(await h.call('write', w1, BUF + 700, 7)).toBe(7);
    expect(await h.call('tee', r1, w2, 4, 0)).toBe(4);
    expect(await h.call('read', r2, BUF + 800, 100)).toBe(4);
    expect(dec.decode(h.mem.peek(BUF + 800, 4))).toBe('teed');
    expect(await h.call('read', r1, BUF + 800, 100)).toBe(7);
    expect(await h.call('tee', r1, w2, 4, 2)).toBe(E.EAGAIN);
    expect(await h.call('tee', r1, w1, 4, 0)).toBe(E.EINVAL);
    expect(await h.call('tee', w1, w2, 4, 0)).toBe(E.EBADF);
    expect(await h.call('close', w1)).toBe(0);
    expect(await h.call('tee', r1, w2, 4, 0)).toBe(0);
  });

  it('vmsplice copies iovecs into a pipe and out of it', async () => {
    const h = harness();
    const [r, w] = await pipe(h);
    h.mem.write(BUF + 700, enc.encode('vmsplice'));
    const iov = new DataView(new ArrayBuffer(32));
    iov.setBigUint64(0, BigInt(BUF + 700), true);
    iov.setBigUint64(8, 2n, true);
    iov.setBigUint64(16, BigInt(BUF + 702), true);
    iov.setBigUint64(24, 6n, true);
    h.mem.write(BUF + 900, new Uint8Array(iov.buffer));
    expect(await h.call('vmsplice', w, BUF + 900, 2, 0)).toBe(8);
    const out = new DataView(new ArrayBuffer(16));
    out.setBigUint64(0, BigInt(BUF + 1000), true);
    out.setBigUint64(8, 5n, true);
    h.mem.write(BUF + 960, new Uint8Array(out.buffer));
    expect(await h.call('vmsplice', r, BUF + 960, 1, 0)).toBe(5);
    expect(dec.decode(h.mem.peek(BUF + 1000, 5))).toBe('vmspl');
    expect(await h.call('read', r, BUF + 1100, 10)).toBe(3);
    expect(await h.call('vmsplice', r, BUF + 960, 1, 2)).toBe(E.EAGAIN);
    expect(await h.call('vmsplice', w, BUF + 900, 2, 0x10)).toBe(E.EINVAL);
    expect(await h.call('vmsplice', w, BUF + 900, 2000, 0)).toBe(E.EINVAL);
  });
});
