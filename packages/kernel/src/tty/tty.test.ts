// The line discipline and pty pair in isolation. The expected bytes are what Linux 6.18 gives
// for the same input (runtime's conformance/pty.c prints them natively and under tsvisor).
import { E } from '@tsvisor/abi';
import { WOULD_BLOCK } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { ProcessGroup, Session } from '../task/task.js';
import { Iflag, Lflag, Oflag } from '@tsvisor/abi';
import { Termios, VMIN, VTIME, decodeWinsize, encodeWinsize } from './termios.js';
import { Tty, type TtySignals } from './tty.js';

const enc = new TextEncoder();
const dec = new TextDecoder('latin1');

function pair(): { tty: Tty; sent: { to: string; signo: number }[] } {
  const sent: { to: string; signo: number }[] = [];
  const signals: TtySignals = {
    signalGroup: (pgrp, signo) => sent.push({ to: `pgrp ${pgrp.pgid}`, signo }),
    signalLeader: (session, signo) => sent.push({ to: `leader ${session.sid}`, signo }),
  };
  const tty = new Tty(0, signals);
  tty.slaveOpened();
  return { tty, sent };
}

/** Everything the master can read now. */
function masterOut(tty: Tty): string {
  let s = '';
  for (;;) {
    const buf = new Uint8Array(4096);
    const n = tty.masterRead(buf);
    if (typeof n !== 'number') return s;
    s += dec.decode(buf.subarray(0, n));
  }
}

function slaveIn(tty: Tty, max = 4096): string | typeof WOULD_BLOCK {
  const buf = new Uint8Array(max);
  const n = tty.slaveRead(buf);
  return typeof n === 'number' ? dec.decode(buf.subarray(0, n)) : n;
}

/** Writes `input` to the master; returns [what the slave reads, what the master echoes]. */
function through(tty: Tty, input: string): [string | typeof WOULD_BLOCK, string] {
  expect(tty.masterWrite(enc.encode(input))).toBe(input.length);
  return [slaveIn(tty), masterOut(tty)];
}

describe('N_TTY canonical mode', () => {
  it('returns a line with its newline and echoes it with ONLCR', () => {
    const { tty } = pair();
    expect(through(tty, 'hello\n')).toEqual(['hello\n', 'hello\r\n']);
  });

  it('edits the line: ERASE, KILL (ECHOKE), WERASE, as Linux echoes them', () => {
    const { tty } = pair();
    expect(through(tty, 'abc\x7fd\n')).toEqual(['abd\n', 'abc\b \bd\r\n']);
    expect(through(tty, 'xyz\x15ok\n')).toEqual(['ok\n', 'xyz\b \b\b \b\b \bok\r\n']);
    expect(through(tty, 'one two\x17three\n')).toEqual(['one three\n', 'one two\b \b\b \b\b \bthree\r\n']);
  });

  it('echoes control characters as ^X (ECHOCTL), raw without it; maps CR to NL (ICRNL)', () => {
    const { tty } = pair();
    expect(through(tty, '\x01\n')).toEqual(['\x01\n', '^A\r\n']);
    expect(through(tty, 'x\r')).toEqual(['x\n', 'x\r\n']);
    const t = tty.termios.clone();
    t.lflag &= ~Lflag.ECHOCTL;
    tty.setTermios(t);
    expect(through(tty, '\x02\n')).toEqual(['\x02\n', '\x02\r\n']);
  });

  it('EOF ends a line without itself; at the start of a line it reads as 0 bytes', () => {
    const { tty } = pair();
    tty.masterWrite(enc.encode('ab\x04'));
    expect(slaveIn(tty)).toBe('ab');
    tty.masterWrite(enc.encode('\x04'));
    expect(slaveIn(tty)).toBe('');
    expect(masterOut(tty)).toBe('ab');
  });

  it('waits for a whole line; FIONREAD counts complete lines only; a short read leaves the rest', () => {
    const { tty } = pair();
    tty.masterWrite(enc.encode('partial'));
    expect(tty.slaveReadable()).toBe(false);
    expect(tty.slaveInq()).toBe(0);
    expect(slaveIn(tty)).toBe(WOULD_BLOCK);
    tty.masterWrite(enc.encode('\n'));
    expect(tty.slaveInq()).toBe(8);
    expect(slaveIn(tty, 3)).toBe('par');
    expect(slaveIn(tty)).toBe('tial\n');
  });

  it('IGNCR drops CR; without ICRNL the CR is data and echoes as ^M; ECHONL echoes only newlines', () => {
    const { tty } = pair();
    const t = tty.termios.clone();
    t.iflag |= Iflag.IGNCR;
    tty.setTermios(t.clone());
    expect(through(tty, 'y\r\n')).toEqual(['y\n', 'y\r\n']);
    t.iflag &= ~(Iflag.IGNCR | Iflag.ICRNL);
    tty.setTermios(t.clone());
    expect(through(tty, 'z\r\n')).toEqual(['z\r\n', 'z^M\r\n']);
    t.iflag |= Iflag.ICRNL;
    t.lflag = (t.lflag & ~Lflag.ECHO) | Lflag.ECHONL;
    tty.setTermios(t.clone());
    expect(through(tty, 'quiet\n')).toEqual(['quiet\n', '\r\n']);
  });
});

describe('output processing', () => {
  it('ONLCR, no OPOST, OCRNL', () => {
    const { tty } = pair();
    tty.slaveWrite(enc.encode('a\nb\n'));
    expect(masterOut(tty)).toBe('a\r\nb\r\n');
    const t = tty.termios.clone();
    t.oflag &= ~Oflag.OPOST;
    tty.setTermios(t.clone());
    tty.slaveWrite(enc.encode('a\nb\n'));
    expect(masterOut(tty)).toBe('a\nb\n');
    t.oflag |= Oflag.OPOST | Oflag.OCRNL;
    tty.setTermios(t.clone());
    tty.slaveWrite(enc.encode('c\rd\n'));
    expect(masterOut(tty)).toBe('c\nd\r\n');
    expect(tty.masterInq()).toBe(0);
  });

  it('packet mode puts a status byte before data, and a flush status alone', () => {
    const { tty } = pair();
    tty.packet = true;
    tty.slaveWrite(enc.encode('hi'));
    expect(masterOut(tty)).toBe('\x00hi');
    tty.flushInput();
    expect(masterOut(tty)).toBe('\x01');
  });
});

describe('flow control (IXON)', () => {
  it('^S holds the slave output, ^Q lets it go; neither is input', () => {
    const { tty } = pair();
    tty.masterWrite(enc.encode('\x13'));
    expect(tty.slaveWritable()).toBe(false);
    expect(tty.slaveWrite(enc.encode('x'))).toBe(WOULD_BLOCK);
    tty.masterWrite(enc.encode('\x11'));
    expect(tty.slaveWrite(enc.encode('x'))).toBe(1);
    expect(masterOut(tty)).toBe('x');
    expect(tty.slaveInq()).toBe(0);
    tty.masterWrite(enc.encode('\n'));
    expect(slaveIn(tty)).toBe('\n');
  });
});

describe('non-canonical mode', () => {
  function raw(tty: Tty, min: number, time: number): void {
    const t = tty.termios.clone();
    t.lflag &= ~(Lflag.ICANON | Lflag.ECHO | Lflag.ISIG);
    t.iflag &= ~Iflag.ICRNL;
    t.cc[VMIN] = min;
    t.cc[VTIME] = time;
    tty.setTermios(t);
  }

  it('VMIN 1 returns each byte as it comes, without mapping CR', () => {
    const { tty } = pair();
    raw(tty, 1, 0);
    expect(through(tty, 'q\r')).toEqual(['q\r', '']);
  });

  it('VMIN 0 VTIME 0 never waits; VMIN 3 waits for three bytes (poll too)', () => {
    const { tty } = pair();
    raw(tty, 0, 0);
    expect(slaveIn(tty)).toBe('');
    raw(tty, 3, 0);
    tty.masterWrite(enc.encode('ab'));
    expect(tty.slaveReadable()).toBe(false);
    expect(slaveIn(tty)).toBe(WOULD_BLOCK);
    tty.masterWrite(enc.encode('c'));
    expect(tty.slaveReadable()).toBe(true);
    expect(slaveIn(tty)).toBe('abc');
  });

  it('VTIME without input times out: the slave queue is woken and the read gives 0', async () => {
    const { tty } = pair();
    raw(tty, 0, 1);
    expect(slaveIn(tty)).toBe(WOULD_BLOCK);
    const woke = await new Promise<boolean>((resolve) => {
      const w = { mask: 1, notify: () => resolve(true) };
      tty.slaveQueue.add(w);
      setTimeout(() => resolve(false), 1000);
    });
    expect(woke).toBe(true);
    expect(slaveIn(tty)).toBe('');
  });
});

describe('signals and hangups', () => {
  it('^C, ^\\ and ^Z signal the foreground group, flush the input and echo', () => {
    const { tty, sent } = pair();
    tty.pgrp = new ProcessGroup(7, new Session(7));
    tty.masterWrite(enc.encode('typed'));
    tty.masterWrite(enc.encode('\x03'));
    expect(sent).toEqual([{ to: 'pgrp 7', signo: 2 }]);
    expect(tty.slaveInq()).toBe(0);
    expect(masterOut(tty)).toBe('typed^C');
    tty.masterWrite(enc.encode('\x1c\x1a'));
    expect(sent.map((s) => s.signo)).toEqual([2, 3, 20]);
  });

  it('a new window size signals SIGWINCH once; the same size again does not', () => {
    const { tty, sent } = pair();
    tty.pgrp = new ProcessGroup(9, new Session(9));
    const ws = decodeWinsize(encodeWinsize({ row: 24, col: 80, xpixel: 0, ypixel: 0 }));
    tty.setWinsize(ws);
    tty.setWinsize({ ...ws });
    expect(sent).toEqual([{ to: 'pgrp 9', signo: 28 }]);
    expect(tty.winsize).toEqual({ row: 24, col: 80, xpixel: 0, ypixel: 0 });
  });

  it('the master closing hangs the slave up: SIGHUP and SIGCONT to the session leader, EOF, EIO', () => {
    const { tty, sent } = pair();
    const s = new Session(5);
    tty.session = s;
    tty.pgrp = new ProcessGroup(5, s);
    tty.hangup();
    expect(sent).toEqual([
      { to: 'leader 5', signo: 1 },
      { to: 'leader 5', signo: 18 },
    ]);
    expect(slaveIn(tty)).toBe('');
    expect(tty.slaveWrite(enc.encode('x'))).toBe(E.EIO);
    expect(tty.slaveReadiness(0x5) & 0x10).toBe(0x10);
    expect(tty.session).toBeUndefined();
  });

  it('the slave closing: the master drains what is left, then reads EIO and polls POLLHUP', () => {
    const { tty } = pair();
    tty.slaveWrite(enc.encode('last'));
    tty.slaveClosed();
    const buf = new Uint8Array(16);
    expect(tty.masterRead(buf)).toBe(4);
    expect(tty.masterRead(buf)).toBe(E.EIO);
    expect(tty.masterReadiness(0x1)).toBe(0x10);
  });
});

describe('Termios', () => {
  it("a pty slave starts with Linux's settings, and TCGETS bytes round-trip", () => {
    const t = Termios.ptySlave();
    expect([t.iflag, t.oflag, t.cflag, t.lflag]).toEqual([0o2400, 0o5, 0o277, 0o105073]);
    expect(Array.from(t.cc.subarray(0, 17))).toEqual([
      3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0,
    ]);
    const back = Termios.decode(t.encode());
    expect(back).toEqual(t);
  });
});
