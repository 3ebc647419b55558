/**
 * Terminal ioctls on pty ends (`@tsvisor/kernel`'s PtyMaster/PtySlave), as Linux's tty_ioctl,
 * tty_mode_ioctl, n_tty_ioctl and pty_unix98_ioctl answer them, and the job-control checks of
 * read(2)/write(2) on a terminal. ioctl(2) in sys-file.ts asks {@link ttyIoctl} first; a file
 * that is not a pty end is left to its own ioctl.
 *
 * On a master, the settings, window size, foreground group and session are the slave's
 * (Linux's `real_tty`).
 *
 * @module
 */
import { Capability, E, OpenFlag, isError } from '@tsvisor/abi';
import {
  PTY_SLAVE_MAJOR,
  PtySlave,
  TERMIOS_SIZE,
  Termios,
  capable,
  controllingTty,
  decodeWinsize,
  encodeWinsize,
  tiocnotty,
  tiocsctty,
  ttyCheckChange,
  ttyOf,
  type Task,
  type Tty,
} from '@tsvisor/kernel';
import { makedev, type FileDescription } from '@tsvisor/vfs';
import { ctxOf, filesOf, nofile, vfsOf } from './vfs-context.js';
import { ptr, type SyscallResult } from './types.js';

const SIGTTIN = 21;
const SIGTTOU = 22;
/** `TOSTOP` in c_lflag: background writes raise SIGTTOU. */
const TOSTOP = 0o400;

/** Terminal ioctl numbers (x86-64). */
const TCGETS = 0x5401;
const TCSETS = 0x5402;
const TCSETSW = 0x5403;
const TCSETSF = 0x5404;
const TCSBRK = 0x5409;
const TCXONC = 0x540a;
const TCFLSH = 0x540b;
const TIOCEXCL = 0x540c;
const TIOCNXCL = 0x540d;
const TIOCSCTTY = 0x540e;
const TIOCGPGRP = 0x540f;
const TIOCSPGRP = 0x5410;
const TIOCOUTQ = 0x5411;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const TIOCPKT = 0x5420;
const TIOCNOTTY = 0x5422;
const TIOCSETD = 0x5423;
const TIOCGETD = 0x5424;
const TCSBRKP = 0x5425;
const TIOCGSID = 0x5429;
const TCGETS2 = 0x802c542a;
const TCSETS2 = 0x402c542b;
const TCSETSW2 = 0x402c542c;
const TCSETSF2 = 0x402c542d;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const TIOCGDEV = 0x80045432;
const TIOCGPKT = 0x80045438;
const TIOCGPTLCK = 0x80045439;
const TIOCGEXCL = 0x80045440;
const TIOCGPTPEER = 0x5441;

/** `struct termios2`: termios, then c_ispeed and c_ospeed. */
const TERMIOS2_SIZE = 44;
const BAUD_38400 = 38400;

/**
 * Answers ioctl `cmd` on `file` if it is a pty end; `undefined` for any other file (the caller
 * then asks the file). Errors as Linux: ENOTTY for a request the terminal does not know or a
 * master-only request on a slave, EFAULT for a bad pointer, EIO on a hung-up slave, job-control
 * stops (ERESTARTSYS after SIGTTOU) for a background group changing its terminal.
 */
export function ttyIoctl(
  t: Task,
  file: FileDescription,
  cmd: number,
  arg: bigint,
): SyscallResult | undefined {
  const end = ttyOf(file);
  if (!end) return undefined;
  const { tty, master } = end;
  if (!master && tty.hungUp) return cmd === TIOCSPGRP ? E.ENOTTY : E.EIO;
  const addr = ptr(arg);
  const mem = t.memory;
  // Set-requests from a background process of this terminal's session stop it first.
  const check = (): SyscallResult | undefined => (master ? undefined : ttyCheckChange(t, tty, SIGTTOU));
  switch (cmd) {
    case TCGETS:
      return mem.writeExact(addr, tty.termios.encode()) ?? 0;
    case TCGETS2: {
      const b = new Uint8Array(TERMIOS2_SIZE);
      b.set(tty.termios.encode());
      const v = new DataView(b.buffer);
      v.setUint32(36, BAUD_38400, true);
      v.setUint32(40, BAUD_38400, true);
      return mem.writeExact(addr, b) ?? 0;
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
    case TCSETS2:
    case TCSETSW2:
    case TCSETSF2: {
      const stop = check();
      if (stop !== undefined) return stop;
      const bytes = mem.read(addr, TERMIOS_SIZE);
      if (isError(bytes)) return bytes;
      if (bytes.length < TERMIOS_SIZE) return E.EFAULT;
      if (cmd === TCSETSF || cmd === TCSETSF2) tty.flushInput();
      tty.setTermios(Termios.decode(bytes));
      return 0;
    }
    case TCSBRK:
    case TCSBRKP:
      // tcdrain / tcsendbreak: the pty's output is never held anywhere to drain.
      return check() ?? 0;
    case TCXONC: {
      const stop = check();
      if (stop !== undefined) return stop;
      return arg >= 0n && arg <= 3n ? 0 : E.EINVAL;
    }
    case TCFLSH:
      return flush(t, tty, master, arg);
    case TIOCEXCL:
      tty.exclusive = true;
      return 0;
    case TIOCNXCL:
      tty.exclusive = false;
      return 0;
    case TIOCGEXCL:
      return mem.writeI32(addr, tty.exclusive ? 1 : 0) ?? 0;
    case TIOCSCTTY:
      return (
        tiocsctty(t.group, tty, arg === 1n, capable(t.creds, Capability.CAP_SYS_ADMIN), file.readable) ?? 0
      );
    case TIOCNOTTY:
      return master ? E.ENOTTY : (tiocnotty(t.kernel, t.group, tty) ?? 0);
    case TIOCGPGRP:
      if (!master && controllingTty(t.group) !== tty) return E.ENOTTY;
      return mem.writeI32(addr, tty.pgrp?.pgid ?? 0) ?? 0;
    case TIOCSPGRP:
      return setForeground(t, tty, master, addr);
    case TIOCGSID:
      if (!master && controllingTty(t.group) !== tty) return E.ENOTTY;
      if (!tty.session) return E.ENOTTY;
      return mem.writeI32(addr, tty.session.sid) ?? 0;
    case TIOCOUTQ:
      // Output goes straight to the other end's queue; none is held on this side.
      return mem.writeI32(addr, 0) ?? 0;
    case TIOCGWINSZ:
      return mem.writeExact(addr, encodeWinsize(tty.winsize)) ?? 0;
    case TIOCSWINSZ: {
      const b = mem.read(addr, 8);
      if (isError(b)) return b;
      if (b.length < 8) return E.EFAULT;
      tty.setWinsize(decodeWinsize(b));
      return 0;
    }
    case TIOCGETD:
      return mem.writeI32(addr, 0) ?? 0; // N_TTY
    case TIOCSETD: {
      const d = mem.readI32(addr);
      if (isError(d)) return d;
      // Only N_TTY exists here; other disciplines are not registered (tty_ldisc_get: EINVAL).
      return d === 0 ? 0 : E.EINVAL;
    }
    case TIOCGDEV:
      return mem.writeU32(addr, makedev(PTY_SLAVE_MAJOR, tty.index)) ?? 0;
    default:
      return master ? masterIoctl(t, tty, cmd, arg) : slaveOnly(cmd);
  }
}

/** Requests only a master answers: on a slave TIOCGPTPEER gives EIO, the rest ENOTTY. */
function slaveOnly(cmd: number): SyscallResult | undefined {
  return cmd === TIOCGPTPEER ? E.EIO : undefined;
}

/** pty_unix98_ioctl: the pair's number, lock, packet mode, and opening the peer. */
function masterIoctl(t: Task, tty: Tty, cmd: number, arg: bigint): SyscallResult | undefined {
  const addr = ptr(arg);
  const mem = t.memory;
  switch (cmd) {
    case TIOCGPTN:
      return mem.writeU32(addr, tty.index) ?? 0;
    case TIOCSPTLCK: {
      const v = mem.readI32(addr);
      if (isError(v)) return v;
      tty.locked = v !== 0;
      return 0;
    }
    case TIOCGPTLCK:
      return mem.writeI32(addr, tty.locked ? 1 : 0) ?? 0;
    case TIOCPKT: {
      const v = mem.readI32(addr);
      if (isError(v)) return v;
      tty.packet = v !== 0;
      tty.pktStatus = 0;
      return 0;
    }
    case TIOCGPKT:
      return mem.writeI32(addr, tty.packet ? 1 : 0) ?? 0;
    case TIOCGPTPEER:
      return openPeer(t, tty, Number(arg & 0xffffffffn));
    default:
      return undefined;
  }
}

/**
 * TIOCGPTPEER: opens the slave of this master (the /dev/pts/N beside the ptmx that was opened)
 * with `flags` and installs it; `EINVAL` for flags beyond O_RDWR|O_NOCTTY|O_NONBLOCK|O_CLOEXEC|...
 */
function openPeer(t: Task, tty: Tty, flags: number): SyscallResult {
  const allowed = OpenFlag.O_ACCMODE | OpenFlag.O_NOCTTY | OpenFlag.O_NONBLOCK | OpenFlag.O_CLOEXEC;
  if (flags & ~allowed) return E.EINVAL;
  const vfs = vfsOf(t);
  const ctx = ctxOf(t);
  // The sandbox's devpts is mounted at /dev/pts (one instance: no ptmx of another one exists).
  const loc = vfs.lookupat(ctx, ctx.root, `/dev/pts/${tty.index}`, 0);
  if (isError(loc)) return loc;
  const peer = vfs.openLocation(ctx, loc, (flags & ~OpenFlag.O_CLOEXEC) | OpenFlag.O_NOCTTY);
  if (isError(peer)) return peer;
  const fd = filesOf(t).install(peer, { limit: nofile(t), cloexec: (flags & OpenFlag.O_CLOEXEC) !== 0 });
  if (isError(fd)) peer.release();
  return fd;
}

/** TCFLSH: TCIFLUSH (0), TCOFLUSH (1), TCIOFLUSH (2) of this end's input and output. */
function flush(t: Task, tty: Tty, master: boolean, arg: bigint): SyscallResult {
  if (!master) {
    const stop = ttyCheckChange(t, tty, SIGTTOU);
    if (stop !== undefined) return stop;
  }
  if (arg < 0n || arg > 2n) return E.EINVAL;
  const input = arg !== 1n;
  const output = arg !== 0n;
  // The master's input is the slave's output, and the other way round.
  if (input) {
    if (master) tty.flushOutput();
    else tty.flushInput();
  }
  if (output) {
    if (master) tty.flushInput();
    else tty.flushOutput();
  }
  return 0;
}

/** TIOCSPGRP (tcsetpgrp): a process group of the caller's session becomes the foreground. */
function setForeground(t: Task, tty: Tty, master: boolean, addr: number): SyscallResult {
  const stop = master ? undefined : ttyCheckChange(t, tty, SIGTTOU);
  if (stop === E.EIO) return E.ENOTTY;
  if (stop !== undefined) return stop;
  const g = t.group;
  if (controllingTty(g) !== tty || tty.session !== g.session) return E.ENOTTY;
  const pgid = t.memory.readI32(addr);
  if (isError(pgid)) return pgid;
  if (pgid < 0) return E.EINVAL;
  const pgrp = t.kernel.processGroup(pgid);
  if (!pgrp || pgrp.members.size === 0) return E.ESRCH;
  if (pgrp.session !== g.session) return E.EPERM;
  tty.pgrp = pgrp;
  return 0;
}

/**
 * Job control before a read (SIGTTIN) or, with TOSTOP, a write (SIGTTOU) on a terminal: the
 * result to return instead of doing the I/O, or `undefined` to go on. Files that are not a
 * pty slave pass.
 */
export function ttyIoCheck(t: Task, file: FileDescription, write: boolean): SyscallResult | undefined {
  // One instanceof, not ttyOf's two: this runs before every read and write.
  const impl = file.impl;
  if (!(impl instanceof PtySlave) || impl.tty.hungUp) return undefined;
  const tty = impl.tty;
  if (!write) return ttyCheckChange(t, tty, SIGTTIN);
  if (!(tty.termios.lflag & TOSTOP)) return undefined;
  return ttyCheckChange(t, tty, SIGTTOU);
}
