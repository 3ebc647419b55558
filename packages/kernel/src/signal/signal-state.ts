/**
 * Signal state: the action table shared by the threads of a group (CLONE_SIGHAND), the pending
 * queues (one per thread, one per group), and the in-kernel siginfo record.
 *
 * Standard signals (1..31) are not queued: a second one while one is pending is merged away.
 * Real-time signals (32..64) queue every instance, in order.
 *
 * @module
 */
import {
  SaFlag,
  SigSet,
  Signal,
  SIGRTMIN,
  isValidSignal,
  siginfo,
  siginfoLayout,
  type Siginfo,
} from '@tsvisor/abi';

/** The kernel's record of one signal instance (the fields of `siginfo_t` it may carry). */
export interface SigInfo {
  readonly signo: number;
  readonly code: number;
  readonly errno?: number;
  /** Sender pid (kill, sigqueue, SIGCHLD) and uid. */
  readonly pid?: number;
  readonly uid?: number;
  /** SIGCHLD: exit code or signal; and the child's times in clock ticks. */
  readonly status?: number;
  readonly utime?: number;
  readonly stime?: number;
  /** Faulting address (SIGSEGV/SIGBUS/SIGILL/SIGFPE). */
  readonly addr?: bigint;
  /** sigqueue/timer value. */
  readonly value?: bigint;
  /** POSIX timer signals: the kernel's timer id (si_tid) and the overrun count (si_overrun). */
  readonly timerId?: number;
  readonly overrun?: number;
  /** Signal-driven I/O (si_code POLL_*): the poll events (si_band) and the descriptor (si_fd). */
  readonly band?: number;
  readonly fd?: number;
  /**
   * Called when the instance is dequeued; returns the record to deliver, or undefined to drop
   * it. POSIX timers use it to count the expirations that happened while their signal was
   * pending (si_overrun), and to drop the signal of a timer deleted or re-armed since.
   */
  readonly onDequeue?: (info: SigInfo) => SigInfo | undefined;
}

/** `SI_USER` info as kill(2) sends it. */
export function userInfo(signo: number, pid: number, uid: number, code = 0): SigInfo {
  return { signo, code, pid, uid };
}

/**
 * The `siginfo_t` value of a {@link SigInfo}, in the union member Linux's siginfo_layout picks
 * for its (signal, code).
 */
export function toSiginfo(info: SigInfo): Siginfo {
  const head = { si_signo: info.signo, si_errno: info.errno ?? 0, si_code: info.code };
  const pid = info.pid ?? 0;
  const uid = info.uid ?? 0;
  const addr = info.addr ?? 0n;
  switch (siginfoLayout(info.signo, info.code)) {
    case 'kill':
      return { ...head, layout: 'kill', si_pid: pid, si_uid: uid };
    case 'rt':
      return { ...head, layout: 'rt', si_pid: pid, si_uid: uid, si_value: info.value ?? 0n };
    case 'timer':
      return {
        ...head,
        layout: 'timer',
        si_tid: info.timerId ?? 0,
        si_overrun: info.overrun ?? 0,
        si_value: info.value ?? 0n,
      };
    case 'chld':
      return {
        ...head,
        layout: 'chld',
        si_pid: pid,
        si_uid: uid,
        si_status: info.status ?? 0,
        si_utime: info.utime ?? 0,
        si_stime: info.stime ?? 0,
      };
    case 'poll':
      return { ...head, layout: 'poll', si_band: info.band ?? 0, si_fd: info.fd ?? 0 };
    case 'sys':
      return { ...head, layout: 'sys', si_call_addr: addr, si_syscall: 0, si_arch: 0 };
    case 'fault-mceerr':
      return { ...head, layout: 'fault-mceerr', si_addr: addr, si_addr_lsb: 0 };
    case 'fault-bnderr':
      return { ...head, layout: 'fault-bnderr', si_addr: addr, si_lower: 0n, si_upper: 0n };
    case 'fault-pkuerr':
      return { ...head, layout: 'fault-pkuerr', si_addr: addr, si_pkey: 0 };
    case 'perf':
      return { ...head, layout: 'perf', si_addr: addr, si_perf_data: 0n, si_perf_type: 0, si_perf_flags: 0 };
    case 'fault':
      return { ...head, layout: 'fault', si_addr: addr };
  }
}

/** The 128 bytes of `siginfo_t` for a {@link SigInfo}. */
export function siginfoBytes(info: SigInfo): Uint8Array {
  const out = new Uint8Array(siginfo.size);
  siginfo.emit(toSiginfo(info), out, 0);
  return out;
}

/** One disposition (`struct k_sigaction` as the kernel keeps it). */
export interface SigAction {
  /** `sa_handler`/`sa_sigaction`: 0 SIG_DFL, 1 SIG_IGN, else the handler address. */
  readonly handler: bigint;
  readonly flags: number;
  readonly restorer: bigint;
  /** Signals blocked while the handler runs (besides the signal itself unless SA_NODEFER). */
  readonly mask: SigSet;
}

/** The default disposition. */
export const SIG_DFL_ACTION: SigAction = Object.freeze({
  handler: 0n,
  flags: 0,
  restorer: 0n,
  mask: new SigSet(),
});

/** `sa_handler` values with a special meaning. */
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

/** The flags rt_sigaction accepts and keeps (unknown bits are dropped, as Linux does). */
export const KNOWN_SA_FLAGS =
  SaFlag.SA_NOCLDSTOP |
  SaFlag.SA_NOCLDWAIT |
  SaFlag.SA_SIGINFO |
  SaFlag.SA_RESTORER |
  SaFlag.SA_ONSTACK |
  SaFlag.SA_RESTART |
  SaFlag.SA_NODEFER |
  SaFlag.SA_RESETHAND |
  SaFlag.SA_EXPOSE_TAGBITS;

/**
 * The action table of a group of tasks that share signal handlers. Fork copies it; execve resets
 * caught signals to SIG_DFL (ignored ones stay ignored).
 */
export class SignalActions {
  private readonly table: SigAction[] = Array.from({ length: 65 }, () => SIG_DFL_ACTION);

  /** The action for `sig` (1..64). */
  get(sig: number): SigAction {
    return this.table[sig] ?? SIG_DFL_ACTION;
  }

  /** Replaces the action for `sig`; the caller has validated the number and SIGKILL/SIGSTOP. */
  set(sig: number, action: SigAction): void {
    if (!isValidSignal(sig)) throw new RangeError(`bad signal ${sig}`);
    this.table[sig] = action;
  }

  /** A copy (fork without CLONE_SIGHAND). */
  fork(): SignalActions {
    const c = new SignalActions();
    for (let s = 1; s <= 64; s++) c.table[s] = this.table[s] as SigAction;
    return c;
  }

  /** execve: handlers become SIG_DFL, SIG_IGN stays. */
  resetForExec(): void {
    for (let s = 1; s <= 64; s++) {
      const a = this.table[s] as SigAction;
      if (a.handler !== SIG_IGN) this.table[s] = SIG_DFL_ACTION;
      else if (a.flags !== 0) this.table[s] = { ...a, flags: 0, restorer: 0n, mask: new SigSet() };
    }
  }
}

/** A pending-signal queue (per thread or per group). */
export class PendingSignals {
  /** The set of pending signal numbers. */
  readonly set = new SigSet();
  private readonly infos = new Map<number, SigInfo[]>();

  /** Queues `info`; a standard signal already pending is merged (returns false). */
  enqueue(info: SigInfo): boolean {
    const s = info.signo;
    if (s < SIGRTMIN && this.set.has(s)) return false;
    this.set.add(s);
    const list = this.infos.get(s);
    if (list) list.push(info);
    else this.infos.set(s, [info]);
    return true;
  }

  /** True when `sig` is pending. */
  has(sig: number): boolean {
    return this.set.has(sig);
  }

  /**
   * Removes and returns the next signal not in `blocked`: SIGKILL first, then SIGSTOP, then the
   * lowest number (Linux delivers the synchronous, low-numbered ones first).
   */
  dequeue(blocked: SigSet): SigInfo | undefined {
    for (;;) {
      const ready = this.set.clone().subtract(blocked);
      if (ready.isEmpty()) return undefined;
      const sig = ready.has(Signal.SIGKILL)
        ? Signal.SIGKILL
        : ready.has(Signal.SIGSTOP)
          ? Signal.SIGSTOP
          : ready.lowest();
      const info = this.take(sig);
      if (info) return info;
      // Every instance of `sig` was dropped (a stale timer signal): look again.
    }
  }

  /** Removes and returns the first instance of `sig`, if pending. */
  take(sig: number): SigInfo | undefined {
    for (;;) {
      const list = this.infos.get(sig);
      if (!list || list.length === 0) return undefined;
      const info = list.shift() as SigInfo;
      if (list.length === 0) {
        this.infos.delete(sig);
        this.set.delete(sig);
      }
      const out = info.onDequeue ? info.onDequeue(info) : info;
      if (out) return out;
    }
  }

  /** True when this exact instance is still queued (it was neither merged, dropped nor taken). */
  holds(info: SigInfo): boolean {
    return this.infos.get(info.signo)?.includes(info) ?? false;
  }

  /** Drops every instance of `sig` (SIGCONT drops stop signals and vice versa; SIG_IGN drops). */
  discard(sig: number): void {
    this.infos.delete(sig);
    this.set.delete(sig);
  }

  /** Drops everything. */
  clear(): void {
    this.infos.clear();
    this.set.set(new SigSet());
  }
}
