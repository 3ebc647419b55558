/**
 * A pseudo-terminal pair: the slave terminal with Linux's N_TTY line discipline, the master's
 * queue, and the terminal's job-control state (session, foreground process group).
 *
 * Data flow, as in Linux's pty driver: bytes the master writes are the slave's input and go
 * through the discipline (input flags, signal characters, canonical editing, echo); bytes the
 * slave writes go through output processing (OPOST) to the master; echoes go the same way.
 * TCGETS/TCSETS and the window size on either end act on the slave, as `tty_mode_ioctl` does.
 *
 * Nothing here blocks: reads and writes answer `WOULD_BLOCK` and announce readiness changes on
 * {@link Tty.slaveQueue} / {@link Tty.masterQueue}; VMIN/VTIME timers wake the slave's queue.
 *
 * @module
 */
import { E, Iflag, Lflag, Oflag, type LinuxError } from '@tsvisor/abi';
import { WOULD_BLOCK, WaitQueue, type WouldBlock } from '@tsvisor/vfs';
import type { ProcessGroup, Session } from '../task/task.js';
import {
  Termios,
  VEOF,
  VEOL,
  VEOL2,
  VERASE,
  VINTR,
  VKILL,
  VLNEXT,
  VMIN,
  VQUIT,
  VREPRINT,
  VSTART,
  VSTOP,
  VSUSP,
  VTIME,
  VWERASE,
  type Winsize,
} from './termios.js';

const POLLIN = 0x1;
const POLLPRI = 0x2;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLRDNORM = 0x40;
const POLLWRNORM = 0x100;
const SIGHUP = 1;
const SIGINT = 2;
const SIGQUIT = 3;
const SIGCONT = 18;
const SIGTSTP = 20;
const SIGWINCH = 28;

/** TIOCPKT status bits. */
export const TIOCPKT_FLUSHREAD = 1;
export const TIOCPKT_FLUSHWRITE = 2;

/**
 * How much the master may write ahead of the slave's reader, and the slave ahead of the
 * master's: Linux's flip buffers allow 64 KiB per tty; the writer then waits.
 */
const QUEUE_LIMIT = 65536;

/** Sends signals for the terminal (the kernel): to a process group, or to a session's leader. */
export interface TtySignals {
  /** `kill_pgrp(pgrp, sig, 1)`: every process of `pgrp`, from the kernel (SI_KERNEL). */
  signalGroup(pgrp: ProcessGroup, signo: number): void;
  /** SIGHUP then SIGCONT to the leader of `session`, as a hangup does. */
  signalLeader(session: Session, signo: number): void;
}

/** One line of canonical input: its bytes and whether EOF (not a newline) ended it. */
interface Line {
  bytes: number[];
  eof: boolean;
}

const isCntrl = (c: number): boolean => c < 32 || c === 127;

/** A pty pair's shared state. `index` is the N of /dev/pts/N. */
export class Tty {
  termios = Termios.ptySlave();
  winsize: Winsize = { row: 0, col: 0, xpixel: 0, ypixel: 0 };
  /** The session this is the controlling terminal of, and its foreground process group. */
  session: Session | undefined;
  pgrp: ProcessGroup | undefined;
  /** TIOCSPTLCK: a new pair's slave cannot be opened until unlockpt(3). */
  locked = true;
  /** TIOCPKT on the master, and the status byte waiting for the master's reader. */
  packet = false;
  pktStatus = 0;
  /** TIOCEXCL. */
  exclusive = false;
  /** The master is gone: the slave reads EOF, writes EIO. */
  hungUp = false;
  /** The slave was open and its last descriptor closed: the master reads EIO once drained. */
  otherClosed = false;
  /** Open slave descriptions. */
  slaveOpens = 0;
  /** Woken when the slave's readiness changes (its input, room for its output, hangup). */
  readonly slaveQueue = new WaitQueue();
  /** Woken when the master's readiness changes. */
  readonly masterQueue = new WaitQueue();

  // Input: complete lines (canonical mode) and the line being edited (or raw bytes).
  #lines: Line[] = [];
  #edit: number[] = [];
  #lnext = false;
  /** Output column at the start of the line being edited (for erasing a tab). */
  #canonColumn = 0;
  /** Output column, kept by output processing. */
  #column = 0;
  /** Output stopped by the STOP character (IXON). */
  #stopped = false;
  // Output: chunks waiting for the master's reader.
  #out: Uint8Array[] = [];
  #outBytes = 0;
  // VMIN/VTIME: the armed timer and when it last fired.
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOutAt = -Infinity;

  constructor(
    readonly index: number,
    private readonly signals: TtySignals,
  ) {}

  get canonical(): boolean {
    return (this.termios.lflag & Lflag.ICANON) !== 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Master -> slave input

  /** Bytes of input waiting (all of it, lines and the line being edited). */
  #inputBytes(): number {
    let n = this.#edit.length;
    for (const l of this.#lines) n += l.bytes.length;
    return n;
  }

  /**
   * The master writes `src`: each byte goes through the discipline. Returns the count taken,
   * or WOULD_BLOCK when the slave's input is full.
   */
  masterWrite(src: Uint8Array): number | WouldBlock {
    if (src.length === 0) return 0;
    const room = QUEUE_LIMIT - this.#inputBytes();
    if (room <= 0) return WOULD_BLOCK;
    const n = Math.min(room, src.length);
    const hadInput = this.slaveReadable();
    const hadOutput = this.#outBytes;
    for (let i = 0; i < n; i++) this.#receive(src[i] as number);
    if (this.#timer !== undefined && this.termios.cc[VMIN] !== 0) this.#armTimer(); // inter-byte
    if (this.slaveReadable() || hadInput) this.slaveQueue.notify(POLLIN | POLLRDNORM);
    if (this.#outBytes !== hadOutput) this.masterQueue.notify(POLLIN | POLLRDNORM);
    return n;
  }

  #receive(byte: number): void {
    const t = this.termios;
    let c = byte;
    if (t.iflag & Iflag.ISTRIP) c &= 0x7f;
    if (t.iflag & Iflag.IUCLC && t.lflag & Lflag.IEXTEN && c >= 0x41 && c <= 0x5a) c += 0x20;
    if (this.#lnext) {
      this.#lnext = false;
      this.#plain(c);
      return;
    }
    const cc = t.cc;
    const is = (i: number): boolean => cc[i] !== 0 && c === cc[i];
    if (t.iflag & Iflag.IXON) {
      if (is(VSTART)) {
        this.#stopped = false;
        this.slaveQueue.notify(POLLOUT | POLLWRNORM);
        return;
      }
      if (is(VSTOP)) {
        this.#stopped = true;
        return;
      }
      if (this.#stopped && t.iflag & Iflag.IXANY) {
        this.#stopped = false;
        this.slaveQueue.notify(POLLOUT | POLLWRNORM);
      }
    }
    if (t.lflag & Lflag.ISIG) {
      const sig = is(VINTR) ? SIGINT : is(VQUIT) ? SIGQUIT : is(VSUSP) ? SIGTSTP : 0;
      if (sig !== 0) {
        this.#signalChar(sig, c);
        return;
      }
    }
    if (c === 0x0d) {
      if (t.iflag & Iflag.IGNCR) return;
      if (t.iflag & Iflag.ICRNL) c = 0x0a;
    } else if (c === 0x0a && t.iflag & Iflag.INLCR) c = 0x0d;
    if (this.canonical && this.#canonSpecial(c)) return;
    if (t.lflag & Lflag.ECHO) {
      if (c === 0x0a) this.#echoRaw(0x0a);
      else {
        if (this.#edit.length === 0) this.#canonColumn = this.#column;
        this.#echoChar(c);
      }
    }
    this.#edit.push(c);
  }

  /** A byte with no special meaning (or quoted by LNEXT): echoed and queued. */
  #plain(c: number): void {
    if (this.termios.lflag & Lflag.ECHO) {
      if (this.#edit.length === 0) this.#canonColumn = this.#column;
      this.#echoChar(c);
    }
    this.#edit.push(c);
  }

  /** INTR/QUIT/SUSP: signal the foreground group, flush input unless NOFLSH, echo the char. */
  #signalChar(sig: number, c: number): void {
    const t = this.termios;
    if (this.pgrp) this.signals.signalGroup(this.pgrp, sig);
    if (!(t.lflag & Lflag.NOFLSH)) this.flushInput();
    if (this.#stopped && t.iflag & Iflag.IXON) this.#stopped = false;
    if (t.lflag & Lflag.ECHO) this.#echoChar(c);
  }

  /** Canonical-mode special characters; true when `c` was consumed. */
  #canonSpecial(c: number): boolean {
    const t = this.termios;
    const cc = t.cc;
    const is = (i: number): boolean => cc[i] !== 0 && c === cc[i];
    const iexten = (t.lflag & Lflag.IEXTEN) !== 0;
    const echo = (t.lflag & Lflag.ECHO) !== 0;
    if (is(VERASE) || is(VKILL) || (iexten && is(VWERASE))) {
      this.#eraser(is(VERASE) ? 'erase' : is(VKILL) ? 'kill' : 'werase', c);
      return true;
    }
    if (iexten && is(VLNEXT)) {
      this.#lnext = true;
      if (echo && t.lflag & Lflag.ECHOCTL) {
        this.#echoRaw(0x5e);
        this.#echoRaw(0x08);
      }
      return true;
    }
    if (iexten && echo && is(VREPRINT)) {
      this.#echoChar(c);
      this.#echoRaw(0x0a);
      for (const b of this.#edit) this.#echoChar(b);
      return true;
    }
    if (c === 0x0a) {
      if (echo || t.lflag & Lflag.ECHONL) this.#echoRaw(0x0a);
      this.#edit.push(c);
      this.#commitLine(false);
      return true;
    }
    if (is(VEOF)) {
      this.#commitLine(true);
      return true;
    }
    if (is(VEOL) || (iexten && is(VEOL2))) {
      if (echo) {
        if (this.#edit.length === 0) this.#canonColumn = this.#column;
        this.#echoChar(c);
      }
      this.#edit.push(c);
      this.#commitLine(false);
      return true;
    }
    return false;
  }

  #commitLine(eof: boolean): void {
    this.#lines.push({ bytes: this.#edit, eof });
    this.#edit = [];
  }

  /** ERASE, WERASE and KILL on the line being edited, echoed as n_tty's eraser() does. */
  #eraser(kind: 'erase' | 'werase' | 'kill', ch: number): void {
    const t = this.termios;
    const edit = this.#edit;
    if (edit.length === 0) return;
    const echo = (t.lflag & Lflag.ECHO) !== 0;
    if (kind === 'kill') {
      if (!echo) {
        edit.length = 0;
        return;
      }
      const full = Lflag.ECHOK | Lflag.ECHOKE | Lflag.ECHOE;
      if ((t.lflag & full) !== full) {
        edit.length = 0;
        this.#echoChar(ch);
        if (t.lflag & Lflag.ECHOK) this.#echoRaw(0x0a);
        return;
      }
    }
    const utf8 = (t.iflag & Iflag.IUTF8) !== 0;
    let seenAlnum = false;
    while (edit.length > 0) {
      // One character: a UTF-8 sequence counts as one under IUTF8.
      let len = 1;
      while (utf8 && len < edit.length && ((edit[edit.length - len] as number) & 0xc0) === 0x80) len++;
      const c = edit[edit.length - len] as number;
      if (kind === 'werase') {
        const word =
          (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
        if (word) seenAlnum = true;
        else if (seenAlnum) break;
      }
      edit.length -= len;
      if (echo) {
        if (kind === 'erase' && !(t.lflag & Lflag.ECHOE)) this.#echoChar(t.cc[VERASE] as number);
        else if (c === 0x09) this.#eraseTab();
        else {
          const ctl = isCntrl(c);
          const echoctl = (t.lflag & Lflag.ECHOCTL) !== 0;
          if (ctl && echoctl) this.#echoBytes([0x08, 0x20, 0x08]);
          if (!ctl || echoctl) this.#echoBytes([0x08, 0x20, 0x08]);
        }
      }
      if (kind === 'erase') break;
    }
  }

  /** Moves back over an erased tab: to the column the rest of the line ends at. */
  #eraseTab(): void {
    let col = this.#canonColumn;
    const echoctl = (this.termios.lflag & Lflag.ECHOCTL) !== 0;
    for (const c of this.#edit) {
      if (c === 0x09) col = (col | 7) + 1;
      else if (isCntrl(c)) {
        if (echoctl) col += 2;
      } else if ((c & 0xc0) !== 0x80) col++;
    }
    while (this.#column > col) this.#echoRaw(0x08);
  }

  #echoBytes(bytes: readonly number[]): void {
    for (const b of bytes) this.#echoRaw(b);
  }

  /** `echo_char`: a control character as `^X` under ECHOCTL (not tab), else the character. */
  #echoChar(c: number): void {
    if (this.termios.lflag & Lflag.ECHOCTL && isCntrl(c) && c !== 0x09) {
      this.#emit([0x5e, c ^ 0x40]);
      this.#column += 2;
    } else this.#echoRaw(c);
  }

  /** `echo_char_raw`: the byte, through output processing. */
  #echoRaw(c: number): void {
    this.#emit(this.#outputChar(c));
  }

  // ---------------------------------------------------------------------------------------------
  // Slave reads

  /** True when a read on the slave would not wait (poll's POLLIN), VMIN counted. */
  slaveReadable(): boolean {
    if (this.canonical) return this.#lines.length > 0;
    const avail = this.#inputBytes();
    const t = this.termios;
    const min = t.cc[VMIN] as number;
    const amt = t.cc[VTIME] === 0 && min > 0 ? min : 1;
    return avail >= amt;
  }

  /** FIONREAD on the slave: bytes of complete lines (canonical), or all input. */
  slaveInq(): number {
    if (!this.canonical) return this.#inputBytes();
    let n = 0;
    for (const l of this.#lines) n += l.bytes.length;
    return n;
  }

  /** The slave reads into `dst`: a line (canonical) or by VMIN/VTIME; 0 after a hangup. */
  slaveRead(dst: Uint8Array): number | WouldBlock {
    if (this.hungUp) return 0;
    if (dst.length === 0) return 0;
    if (this.canonical) {
      const line = this.#lines[0];
      if (!line) return WOULD_BLOCK;
      const n = Math.min(dst.length, line.bytes.length);
      dst.set(line.bytes.slice(0, n));
      if (n === line.bytes.length) this.#lines.shift();
      else line.bytes = line.bytes.slice(n);
      this.masterQueue.notify(POLLOUT | POLLWRNORM);
      return n;
    }
    const t = this.termios;
    const min = t.cc[VMIN] as number;
    const time = t.cc[VTIME] as number;
    const avail = this.#inputBytes();
    const want = Math.max(1, Math.min(min, dst.length));
    if (min === 0 && time === 0) return this.#takeRaw(dst);
    if (avail >= want) {
      this.#cancelTimer();
      return this.#takeRaw(dst);
    }
    if (time > 0 && (min === 0 || avail > 0)) {
      // The timer fired during this wait (its window is VTIME tenths of a second).
      if (performance.now() - this.#timedOutAt < time * 100) {
        this.#timedOutAt = -Infinity;
        return this.#takeRaw(dst);
      }
      if (this.#timer === undefined) this.#armTimer();
    }
    return WOULD_BLOCK;
  }

  #takeRaw(dst: Uint8Array): number {
    let n = 0;
    while (n < dst.length && this.#lines.length > 0) {
      const l = this.#lines[0] as Line;
      const k = Math.min(dst.length - n, l.bytes.length);
      dst.set(l.bytes.slice(0, k), n);
      n += k;
      if (k === l.bytes.length) this.#lines.shift();
      else l.bytes = l.bytes.slice(k);
    }
    const k = Math.min(dst.length - n, this.#edit.length);
    dst.set(this.#edit.slice(0, k), n);
    this.#edit = this.#edit.slice(k);
    n += k;
    if (n > 0) this.masterQueue.notify(POLLOUT | POLLWRNORM);
    return n;
  }

  #armTimer(): void {
    this.#cancelTimer();
    const ms = (this.termios.cc[VTIME] as number) * 100;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timedOutAt = performance.now();
      this.slaveQueue.notify(POLLIN | POLLRDNORM);
    }, ms);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Discards the slave's unread input (TCIFLUSH, signal characters without NOFLSH). */
  flushInput(): void {
    this.#lines = [];
    this.#edit = [];
    this.#lnext = false;
    if (this.packet) this.#packetStatus(TIOCPKT_FLUSHREAD);
    this.masterQueue.notify(POLLOUT | POLLWRNORM);
  }

  /** Discards output the master has not read (TCOFLUSH on the slave). */
  flushOutput(): void {
    this.#out = [];
    this.#outBytes = 0;
    if (this.packet) this.#packetStatus(TIOCPKT_FLUSHWRITE);
    this.slaveQueue.notify(POLLOUT | POLLWRNORM);
  }

  #packetStatus(bit: number): void {
    this.pktStatus |= bit;
    this.masterQueue.notify(POLLIN | POLLPRI | POLLRDNORM);
  }

  /**
   * New settings (TCSETS*). Leaving canonical mode makes the line being edited readable;
   * entering it with input pending makes that input one line, as n_tty_set_termios does.
   */
  setTermios(next: Termios): void {
    const wasCanon = this.canonical;
    this.termios = next;
    if (wasCanon && !this.canonical) {
      this.#lnext = false;
    } else if (!wasCanon && this.canonical && this.#edit.length > 0) {
      this.#commitLine(false);
    }
    if (!(next.iflag & Iflag.IXON) && this.#stopped) this.#stopped = false;
    this.slaveQueue.notify(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
  }

  /** TIOCSWINSZ: a different size signals SIGWINCH to the foreground group. */
  setWinsize(w: Winsize): void {
    const o = this.winsize;
    if (o.row === w.row && o.col === w.col && o.xpixel === w.xpixel && o.ypixel === w.ypixel) return;
    this.winsize = w;
    if (this.pgrp) this.signals.signalGroup(this.pgrp, SIGWINCH);
  }

  // ---------------------------------------------------------------------------------------------
  // Slave -> master output

  /** `do_output_char`: one byte's output under the output flags, moving the column. */
  #outputChar(c: number): number[] {
    const t = this.termios;
    if (!(t.oflag & Oflag.OPOST)) return [c];
    switch (c) {
      case 0x0a:
        if (t.oflag & Oflag.ONLRET) this.#column = 0;
        if (t.oflag & Oflag.ONLCR) {
          this.#column = 0;
          return [0x0d, 0x0a];
        }
        return [c];
      case 0x0d:
        if (t.oflag & Oflag.ONOCR && this.#column === 0) return [];
        if (t.oflag & Oflag.OCRNL) {
          if (t.oflag & Oflag.ONLRET) this.#column = 0;
          return [0x0a];
        }
        this.#column = 0;
        return [c];
      case 0x09: {
        const spaces = 8 - (this.#column & 7);
        this.#column += spaces;
        return (t.oflag & Oflag.TABDLY) === Oflag.XTABS ? new Array<number>(spaces).fill(0x20) : [c];
      }
      case 0x08:
        if (this.#column > 0) this.#column--;
        return [c];
      default:
        if (!isCntrl(c)) {
          if (t.oflag & Oflag.OLCUC && c >= 0x61 && c <= 0x7a) c -= 0x20;
          if ((c & 0xc0) !== 0x80 || !(t.iflag & Iflag.IUTF8)) this.#column++;
        }
        return [c];
    }
  }

  #emit(bytes: readonly number[]): void {
    if (bytes.length === 0) return;
    this.#out.push(Uint8Array.from(bytes));
    this.#outBytes += bytes.length;
  }

  /** True when the slave may write (poll's POLLOUT). */
  slaveWritable(): boolean {
    return !this.#stopped && this.#outBytes < QUEUE_LIMIT;
  }

  /** The slave writes `src`: output processing, then the master's queue. EIO after a hangup. */
  slaveWrite(src: Uint8Array): number | LinuxError | WouldBlock {
    if (this.hungUp) return E.EIO;
    if (src.length === 0) return 0;
    if (!this.slaveWritable()) return WOULD_BLOCK;
    const n = Math.min(src.length, QUEUE_LIMIT - this.#outBytes);
    if (!(this.termios.oflag & Oflag.OPOST)) {
      this.#out.push(src.slice(0, n));
      this.#outBytes += n;
    } else {
      const t = this.termios;
      // At most 2 bytes out per byte in (ONLCR), or 8 when tabs expand to spaces.
      const buf = new Uint8Array((t.oflag & Oflag.TABDLY) === Oflag.XTABS ? n * 8 : n * 2);
      const plain = !(t.oflag & Oflag.OLCUC);
      const utf8 = (t.iflag & Iflag.IUTF8) !== 0;
      let k = 0;
      for (let i = 0; i < n; i++) {
        const c = src[i] as number;
        if (plain && c >= 0x20 && c !== 0x7f) {
          // The common case, without a call: printable bytes only move the column.
          buf[k++] = c;
          if (c < 0x80 || (c & 0xc0) !== 0x80 || !utf8) this.#column++;
          continue;
        }
        for (const b of this.#outputChar(c)) buf[k++] = b;
      }
      if (k > 0) {
        this.#out.push(buf.subarray(0, k));
        this.#outBytes += k;
      }
    }
    this.masterQueue.notify(POLLIN | POLLRDNORM);
    return n;
  }

  /** FIONREAD on the master: output not yet read. */
  masterInq(): number {
    return this.#outBytes;
  }

  /**
   * The master reads: the slave's output (after a 0 status byte in packet mode, or the status
   * byte alone when one is pending); EIO once the slave has closed and all is read.
   */
  masterRead(dst: Uint8Array): number | LinuxError | WouldBlock {
    if (dst.length === 0) return 0;
    if (this.packet && this.pktStatus !== 0) {
      dst[0] = this.pktStatus;
      this.pktStatus = 0;
      return 1;
    }
    if (this.#outBytes === 0) return this.otherClosed ? E.EIO : WOULD_BLOCK;
    let n = 0;
    let room = dst.length;
    if (this.packet) {
      dst[0] = 0;
      n = 1;
      room--;
    }
    while (room > 0 && this.#out.length > 0) {
      const chunk = this.#out[0] as Uint8Array;
      const k = Math.min(room, chunk.length);
      dst.set(chunk.subarray(0, k), n);
      n += k;
      room -= k;
      this.#outBytes -= k;
      if (k === chunk.length) this.#out.shift();
      else this.#out[0] = chunk.subarray(k);
    }
    this.slaveQueue.notify(POLLOUT | POLLWRNORM);
    return n;
  }

  /** The master's poll events within `mask`. */
  masterReadiness(mask: number): number {
    let ev = 0;
    if (this.#outBytes > 0 || (this.packet && this.pktStatus !== 0)) ev |= POLLIN | POLLRDNORM;
    if (this.packet && this.pktStatus !== 0) ev |= POLLPRI;
    if (this.#inputBytes() < QUEUE_LIMIT) ev |= POLLOUT | POLLWRNORM;
    if (this.otherClosed) ev |= POLLHUP;
    return ev & (mask | POLLHUP | POLLERR);
  }

  /** The slave's poll events within `mask`; a hung-up slave is ready for everything. */
  slaveReadiness(mask: number): number {
    if (this.hungUp) return (POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM) & (mask | 0x18);
    let ev = 0;
    if (this.slaveReadable()) ev |= POLLIN | POLLRDNORM;
    if (this.slaveWritable()) ev |= POLLOUT | POLLWRNORM;
    return ev & mask;
  }

  // ---------------------------------------------------------------------------------------------
  // Opens, closes, hangup

  /** A slave description was opened (clears the master's "other end closed"). */
  slaveOpened(): void {
    this.slaveOpens++;
    this.otherClosed = false;
  }

  /** A slave description went away; the last one makes the master see the other end closed. */
  slaveClosed(): void {
    this.slaveOpens--;
    if (this.slaveOpens === 0) {
      this.otherClosed = true;
      this.masterQueue.notify(POLLIN | POLLHUP | POLLRDNORM);
    }
  }

  /**
   * The master closed: the slave hangs up (tty_vhangup). The session leader gets SIGHUP and
   * SIGCONT, the session loses its controlling terminal, slave reads give EOF and writes EIO.
   */
  hangup(): void {
    this.hungUp = true;
    this.#cancelTimer();
    const session = this.session;
    if (session) {
      this.signals.signalLeader(session, SIGHUP);
      this.signals.signalLeader(session, SIGCONT);
    }
    this.session = undefined;
    this.pgrp = undefined;
    this.slaveQueue.notify(POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM);
  }
}
