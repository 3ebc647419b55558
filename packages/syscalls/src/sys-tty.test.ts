// Terminal ioctls and reads/writes on a pty pair through the syscall table. The pair's behaviour
// is checked against Linux by runtime's conformance/pty.c; this covers the syscall layer: the
// pointers, the master/slave split of requests, and errnos for bad input.
import { E, isError } from '@tsvisor/abi';
import { Devpts, Termios } from '@tsvisor/kernel';
import { ROOT_CREDS } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { BAD, BUF, harness, type Harness } from './harness.test-util.js';

const enc = new TextEncoder();
const dec = new TextDecoder('latin1');
const O_RDWR = 2;
const O_NOCTTY = 0o400;
const TCGETS = 0x5401;
const TCSETSF = 0x5404;
const TIOCSCTTY = 0x540e;
const TIOCGPGRP = 0x540f;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const FIONREAD = 0x541b;
const TIOCGSID = 0x5429;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTPEER = 0x5441;
const TCFLSH = 0x540b;

const PATH = BUF + 0x1000;
const ARG = BUF + 0x2000;
const DATA = BUF + 0x3000;

/** A harness with devpts at /dev/pts; returns it with an open, unlocked pair (master, slave). */
async function withPair(): Promise<{ h: Harness; m: number; s: number }> {
  const h = harness();
  const vfs = h.kernel.vfs;
  if (!vfs) throw new Error('no vfs');
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/dev', 0o755);
  vfs.mkdirat(ctx, ctx.cwd, '/dev/pts', 0o755);
  const mounted = vfs.mount(ctx, ctx.cwd, '/dev/pts', new Devpts(h.kernel, vfs.devices), 0);
  if (isError(mounted)) throw new Error(mounted.message);
  h.mem.write(PATH, enc.encode('/dev/pts/ptmx\0'));
  const m = Number(await h.call('openat', -100, PATH, O_RDWR | O_NOCTTY, 0));
  h.mem.write(ARG, new Uint8Array(4));
  expect(await h.call('ioctl', m, TIOCSPTLCK, ARG)).toBe(0);
  const s = Number(await h.call('ioctl', m, TIOCGPTPEER, O_RDWR | O_NOCTTY));
  expect(s).toBeGreaterThan(m);
  return { h, m, s };
}

async function writeStr(h: Harness, fd: number, s: string): Promise<unknown> {
  h.mem.write(DATA, enc.encode(s));
  return h.call('write', fd, DATA, s.length);
}

async function readStr(h: Harness, fd: number, n = 256): Promise<string> {
  const r = await h.call('read', fd, DATA, n);
  if (typeof r !== 'number') throw new Error(`read: ${String(r)}`);
  return dec.decode(h.mem.peek(DATA, r));
}

describe('pty ioctls', () => {
  it('TIOCGPTN names the pair; TCGETS on either end gives the slave settings', async () => {
    const { h, m, s } = await withPair();
    expect(await h.call('ioctl', m, TIOCGPTN, ARG)).toBe(0);
    expect(h.mem.peek(ARG, 4)).toEqual(new Uint8Array(4));
    expect(await h.call('ioctl', s, TCGETS, ARG)).toBe(0);
    expect(h.mem.peek(ARG, 36)).toEqual(Termios.ptySlave().encode());
    expect(await h.call('ioctl', m, TCGETS, ARG + 64)).toBe(0);
    expect(h.mem.peek(ARG + 64, 36)).toEqual(Termios.ptySlave().encode());
  });

  it('master-only requests on a slave: TIOCGPTN ENOTTY, TIOCGPTPEER EIO; bad pointers EFAULT', async () => {
    const { h, m, s } = await withPair();
    expect(await h.call('ioctl', s, TIOCGPTN, ARG)).toBe(E.ENOTTY);
    expect(await h.call('ioctl', s, TIOCGPTPEER, O_RDWR)).toBe(E.EIO);
    expect(await h.call('ioctl', m, TCGETS, BAD)).toBe(E.EFAULT);
    expect(await h.call('ioctl', m, TIOCSWINSZ, BAD)).toBe(E.EFAULT);
    expect(await h.call('ioctl', s, TCFLSH, 7)).toBe(E.EINVAL);
    expect(await h.call('ioctl', m, TIOCGPTPEER, 0x40000000)).toBe(E.EINVAL);
  });

  it('a line written to the master reads on the slave; the echo reads on the master', async () => {
    const { h, m, s } = await withPair();
    expect(await writeStr(h, m, 'ab\n')).toBe(3);
    h.mem.write(ARG, new Uint8Array(4));
    expect(await h.call('ioctl', s, FIONREAD, ARG)).toBe(0);
    expect(h.mem.peek(ARG, 4)).toEqual(Uint8Array.of(3, 0, 0, 0));
    expect(await readStr(h, s)).toBe('ab\n');
    expect(await readStr(h, m)).toBe('ab\r\n');
    expect(await writeStr(h, s, 'x\n')).toBe(2);
    expect(await readStr(h, m)).toBe('x\r\n');
  });

  it('TCSETSF applies new settings and discards pending input', async () => {
    const { h, m, s } = await withPair();
    await writeStr(h, m, 'old\n');
    const raw = Termios.ptySlave();
    raw.lflag = 0;
    h.mem.write(ARG, raw.encode());
    expect(await h.call('ioctl', s, TCSETSF, ARG)).toBe(0);
    expect(await h.call('ioctl', m, TCGETS, ARG + 64)).toBe(0);
    expect(h.mem.peek(ARG + 64, 36)).toEqual(raw.encode());
    await writeStr(h, m, 'q');
    expect(await readStr(h, s)).toBe('q');
  });

  it('TIOCSWINSZ on the master is what TIOCGWINSZ on the slave reads', async () => {
    const { h, m, s } = await withPair();
    h.mem.write(ARG, Uint8Array.of(24, 0, 80, 0, 0, 0, 0, 0));
    expect(await h.call('ioctl', m, TIOCSWINSZ, ARG)).toBe(0);
    expect(await h.call('ioctl', s, TIOCGWINSZ, ARG + 16)).toBe(0);
    expect(h.mem.peek(ARG + 16, 8)).toEqual(Uint8Array.of(24, 0, 80, 0, 0, 0, 0, 0));
  });

  it('TIOCSCTTY makes the slave the session leader its controlling terminal: TIOCGPGRP, TIOCGSID', async () => {
    const { h, s } = await withPair();
    expect(await h.call('ioctl', s, TIOCGPGRP, ARG)).toBe(E.ENOTTY);
    expect(await h.call('ioctl', s, TIOCSCTTY, 0)).toBe(0);
    expect(await h.call('ioctl', s, TIOCGPGRP, ARG)).toBe(0);
    expect(h.mem.peek(ARG, 4)).toEqual(Uint8Array.of(1, 0, 0, 0));
    expect(await h.call('ioctl', s, TIOCGSID, ARG + 4)).toBe(0);
    expect(h.mem.peek(ARG + 4, 4)).toEqual(Uint8Array.of(1, 0, 0, 0));
  });

  it('terminal requests on a file that is not a terminal: ENOTTY', async () => {
    const { h } = await withPair();
    expect(await h.call('pipe2', ARG, 0)).toBe(0);
    const fd = h.mem.peek(ARG, 1)[0] ?? -1;
    expect(await h.call('ioctl', fd, TCGETS, ARG + 64)).toBe(E.ENOTTY);
  });
});
