/**
 * Controlling terminals and job control: which terminal a session controls, the checks that
 * send SIGTTIN/SIGTTOU to a background process group (`__tty_check_change`), and what happens
 * when a session leader exits or gives its terminal up (`disassociate_ctty`).
 *
 * Linux keeps the controlling terminal per process (`signal->tty`), inherited by fork; here it
 * is kept per session, which is the same for every process that has not given it up with
 * TIOCNOTTY (those are remembered apart).
 *
 * @module
 */
import { E, Signal, type LinuxError } from '@tsvisor/abi';
import { ERESTARTSYS, type ControlResult } from '../control.js';
import type { Kernel } from '../kernel.js';
import { SIG_IGN } from '../signal/signal-state.js';
import type { ProcessGroup, Session, Task, ThreadGroup } from '../task/task.js';
import type { Tty, TtySignals } from './tty.js';

/** `SI_KERNEL`: the code of signals the terminal sends. */
const SI_KERNEL = 0x80;

const cttys = new WeakMap<Session, Tty>();
/** Processes that gave up their session's terminal (TIOCNOTTY without leading the session). */
const gaveUp = new WeakSet<ThreadGroup>();

/** The controlling terminal of process `g`, if it has one. */
export function controllingTty(g: ThreadGroup): Tty | undefined {
  if (gaveUp.has(g)) return undefined;
  const tty = cttys.get(g.session);
  return tty && tty.session === g.session ? tty : undefined;
}

/** Makes `tty` the controlling terminal of `g`'s session, `g`'s group in the foreground. */
export function setControllingTty(g: ThreadGroup, tty: Tty): void {
  const old = tty.session;
  if (old && old !== g.session) cttys.delete(old);
  cttys.set(g.session, tty);
  gaveUp.delete(g);
  tty.session = g.session;
  tty.pgrp = g.pgrp;
}

/**
 * What opening a terminal does for the opener (tty_open_proc_set_tty): a session leader
 * without a controlling terminal gets this one, if it controls no session yet and the open
 * had no O_NOCTTY.
 */
export function openedTty(g: ThreadGroup | undefined, tty: Tty, noctty: boolean): void {
  if (!g || noctty || !g.isSessionLeader || controllingTty(g) || tty.session) return;
  setControllingTty(g, tty);
}

/** The session loses its terminal (session_clear_tty). */
function clearSession(tty: Tty): void {
  if (tty.session) cttys.delete(tty.session);
  tty.session = undefined;
  tty.pgrp = undefined;
}

/**
 * TIOCSCTTY: `EPERM` unless the caller leads a session without a terminal and the terminal is
 * free (or `steal` with CAP_SYS_ADMIN takes it from its session) and was opened for reading.
 */
export function tiocsctty(
  g: ThreadGroup,
  tty: Tty,
  steal: boolean,
  admin: boolean,
  readable: boolean,
): LinuxError | undefined {
  if (g.isSessionLeader && tty.session === g.session) return undefined;
  if (!g.isSessionLeader || controllingTty(g)) return E.EPERM;
  if (tty.session) {
    if (!(steal && admin)) return E.EPERM;
    clearSession(tty);
  }
  if (!readable && !admin) return E.EPERM;
  setControllingTty(g, tty);
  return undefined;
}

/**
 * TIOCNOTTY: `ENOTTY` unless `tty` is the caller's terminal. A session leader gives it up for
 * the whole session (SIGHUP and SIGCONT to the foreground group); another process only for itself.
 */
export function tiocnotty(k: Kernel, g: ThreadGroup, tty: Tty): LinuxError | undefined {
  if (controllingTty(g) !== tty) return E.ENOTTY;
  if (!g.isSessionLeader) {
    gaveUp.add(g);
    return undefined;
  }
  const fg = tty.pgrp;
  if (fg) {
    signalGroup(k, fg, Signal.SIGHUP);
    signalGroup(k, fg, Signal.SIGCONT);
  }
  clearSession(tty);
  return undefined;
}

/**
 * A session leader exited (disassociate_ctty on exit, for a pty): its foreground process group
 * gets SIGHUP and the session no longer has a terminal.
 */
export function sessionLeaderExited(k: Kernel, g: ThreadGroup): void {
  const tty = cttys.get(g.session);
  if (!tty || tty.session !== g.session) return;
  if (tty.pgrp) signalGroup(k, tty.pgrp, Signal.SIGHUP);
  clearSession(tty);
}

/** Sends `signo` from the kernel to every live process of `pgrp` (kill_pgrp with priv). */
export function signalGroup(k: Kernel, pgrp: ProcessGroup, signo: number): void {
  for (const g of [...pgrp.members])
    if (g.state === 'alive') k.sendToGroup(g, { signo, code: SI_KERNEL, pid: 0, uid: 0 });
}

/** The terminal's signals, sent through kernel `k`. */
export function kernelTtySignals(k: Kernel): TtySignals {
  return {
    signalGroup: (pgrp, signo) => signalGroup(k, pgrp, signo),
    signalLeader: (session, signo) => {
      const leader = k.threadGroup(session.sid);
      if (leader?.state === 'alive' && leader.session === session)
        k.sendToGroup(leader, { signo, code: SI_KERNEL, pid: 0, uid: 0 });
    },
  };
}

/**
 * True when no member of `pgrp` has a parent in another group of the same session (children
 * of init do not count): job-control stops would never be undone, so Linux refuses them.
 */
export function isOrphaned(pgrp: ProcessGroup): boolean {
  for (const g of pgrp.members) {
    if (g.state !== 'alive') continue;
    const p = g.parent;
    if (!p || p.tgid === 1) continue;
    if (p.pgrp !== pgrp && p.session === pgrp.session) return false;
  }
  return true;
}

/**
 * `__tty_check_change`: may `t` use `tty` (read with SIGTTIN, or write/set with SIGTTOU)? Only a
 * process whose controlling terminal it is and whose group is in the background is stopped:
 * its group gets `sig` and the call restarts after the signal (ERESTARTSYS). When `sig` is
 * ignored or blocked the call goes on, except a read (EIO); an orphaned group gets EIO.
 */
export function ttyCheckChange(t: Task, tty: Tty, sig: number): undefined | LinuxError | ControlResult {
  const g = t.group;
  if (controllingTty(g) !== tty) return undefined;
  const fg = tty.pgrp;
  if (!fg || fg === g.pgrp) return undefined;
  const ignored = t.mask.has(sig) || g.actions.get(sig).handler === SIG_IGN;
  if (ignored) return sig === Signal.SIGTTIN ? E.EIO : undefined;
  if (isOrphaned(g.pgrp)) return E.EIO;
  signalGroup(t.kernel, g.pgrp, sig);
  return ERESTARTSYS;
}

/**
 * `will_become_orphaned_pgrp`: true when no member of `pgrp` but `ignore` (live, not a child of
 * init) has its parent in another group of the same session.
 */
function willBecomeOrphaned(pgrp: ProcessGroup, ignore: ThreadGroup | undefined): boolean {
  for (const g of pgrp.members) {
    if (g === ignore || g.state !== 'alive') continue;
    const p = g.parent;
    if (!p || p.tgid === 1) continue;
    if (p.pgrp !== pgrp && p.session === g.session) return false;
  }
  return true;
}

/** SIGHUP then SIGCONT to `pgrp` if it is orphaned now and has a stopped member. */
function hangUpOrphaned(k: Kernel, pgrp: ProcessGroup, ignore: ThreadGroup | undefined): void {
  if (!willBecomeOrphaned(pgrp, ignore)) return;
  if (![...pgrp.members].some((m) => m.state === 'alive' && m.stopped)) return;
  signalGroup(k, pgrp, Signal.SIGHUP);
  signalGroup(k, pgrp, Signal.SIGCONT);
}

/**
 * `kill_orphaned_pgrp` at the exit of `g` (after its children went to their new parent): a
 * process group that loses its last link to a parent outside it in the same session, and has
 * stopped jobs, gets SIGHUP and SIGCONT so that they do not stay stopped forever. Checked for
 * `g`'s own group and for the groups of its former children.
 */
export function orphanedGroupsOnExit(
  k: Kernel,
  g: ThreadGroup,
  formerChildren: readonly ThreadGroup[],
): void {
  for (const c of formerChildren) {
    if (c.state !== 'alive' || c.pgrp === g.pgrp || c.session !== g.session) continue;
    hangUpOrphaned(k, c.pgrp, undefined);
  }
  const p = g.parent;
  if (p && p.pgrp !== g.pgrp && p.session === g.session) hangUpOrphaned(k, g.pgrp, g);
}
