/**
 * Linux x86-64 signals: numbers and names, default actions (signal(7)), which signals cannot be
 * caught or blocked, the sigaction / sigprocmask / sigaltstack constants, the si_code values of
 * siginfo, and a 64-bit signal set.
 *
 * @module
 */
import { defineEnum, defineFlags } from './constants/flagset.js';

/** The standard signals 1..31 by name. */
export enum Signal {
  SIGHUP = 1,
  SIGINT = 2,
  SIGQUIT = 3,
  SIGILL = 4,
  SIGTRAP = 5,
  SIGABRT = 6,
  SIGBUS = 7,
  SIGFPE = 8,
  SIGKILL = 9,
  SIGUSR1 = 10,
  SIGSEGV = 11,
  SIGUSR2 = 12,
  SIGPIPE = 13,
  SIGALRM = 14,
  SIGTERM = 15,
  SIGSTKFLT = 16,
  SIGCHLD = 17,
  SIGCONT = 18,
  SIGSTOP = 19,
  SIGTSTP = 20,
  SIGTTIN = 21,
  SIGTTOU = 22,
  SIGURG = 23,
  SIGXCPU = 24,
  SIGXFSZ = 25,
  SIGVTALRM = 26,
  SIGPROF = 27,
  SIGWINCH = 28,
  SIGIO = 29,
  SIGPWR = 30,
  SIGSYS = 31,
}

/** Other names Linux gives to the same numbers. */
export const SIGNAL_ALIASES: Readonly<Record<string, Signal>> = {
  SIGIOT: Signal.SIGABRT,
  SIGPOLL: Signal.SIGIO,
  SIGCLD: Signal.SIGCHLD,
  SIGUNUSED: Signal.SIGSYS,
};

/**
 * The kernel's first real-time signal. glibc's `SIGRTMIN` is 34 because NPTL keeps 32 and 33 for
 * itself (thread cancellation and setxid broadcast); a sandbox kernel must deliver 32 and 33
 * like any other real-time signal, since the application's libc relies on them.
 */
export const SIGRTMIN = 32;
/** glibc's SIGRTMIN as a C program sees it (see {@link SIGRTMIN}). */
export const SIGRTMIN_GLIBC = 34;
/** The last real-time signal, and the highest signal number (`_NSIG` is 64, numbers 1..64). */
export const SIGRTMAX = 64;
/** The number of signals (`_NSIG`): valid numbers are 1..NSIG. */
export const NSIG = 64;

/** What a signal does when its disposition is SIG_DFL (signal(7)). */
export enum SignalDefault {
  /** Terminate the process. */
  Term = 'term',
  /** Terminate and dump core. */
  Core = 'core',
  /** Ignore the signal. */
  Ignore = 'ignore',
  /** Stop the process. */
  Stop = 'stop',
  /** Continue the process if it is stopped. */
  Continue = 'continue',
}

const defaults: readonly SignalDefault[] = (() => {
  const T = SignalDefault.Term;
  const C = SignalDefault.Core;
  const I = SignalDefault.Ignore;
  const S = SignalDefault.Stop;
  const list: SignalDefault[] = [];
  // Index = signal number; 0 is unused.
  list.push(T, T, T, C, C, C, C, C, C, T, T, C, T, T, T, T, T, I, SignalDefault.Continue, S, S, S, S, I);
  // 24 SIGXCPU .. 31 SIGSYS
  list.push(C, C, T, T, I, T, T, C);
  for (let s = 32; s <= 64; s++) list.push(T);
  return list;
})();

/**
 * The default action of a signal (signal(7)); real-time signals terminate. `undefined` for
 * numbers outside 1..64.
 *
 * @example
 * ```ts
 * signalDefault(Signal.SIGCHLD); // SignalDefault.Ignore
 * ```
 */
export function signalDefault(sig: number): SignalDefault | undefined {
  if (!Number.isInteger(sig) || sig < 1 || sig > NSIG) return undefined;
  return defaults[sig];
}

/** True for SIGKILL and SIGSTOP, which can be neither caught, blocked nor ignored. */
export function isUncatchable(sig: number): boolean {
  return sig === Signal.SIGKILL || sig === Signal.SIGSTOP;
}

/** True for the signals a handler may be installed for and that a mask may block. */
export function isCatchable(sig: number): boolean {
  return Number.isInteger(sig) && sig >= 1 && sig <= NSIG && !isUncatchable(sig);
}

/** True for a valid signal number (1..64). */
export function isValidSignal(sig: number): boolean {
  return Number.isInteger(sig) && sig >= 1 && sig <= NSIG;
}

/**
 * The name strace prints for a signal number: `SIGTERM`, `SIGRTMIN` for 32, `SIGRT_2` for 34,
 * or the plain number for anything else.
 */
export function signalName(sig: number): string {
  const name = Signal[sig];
  if (name !== undefined) return name;
  if (sig === SIGRTMIN) return 'SIGRTMIN';
  if (Number.isInteger(sig) && sig > SIGRTMIN && sig <= SIGRTMAX) return `SIGRT_${sig - SIGRTMIN}`;
  return String(sig);
}

/** The signal number for a name, canonical or alias; `SIGRTMIN+n` and `SIGRT_n` are understood. */
export function signalByName(name: string): number | undefined {
  const n = (Signal as unknown as Record<string, number | undefined>)[name];
  if (typeof n === 'number') return n;
  const alias = SIGNAL_ALIASES[name];
  if (alias !== undefined) return alias;
  if (name === 'SIGRTMIN') return SIGRTMIN;
  if (name === 'SIGRTMAX') return SIGRTMAX;
  const m = /^SIG(?:RTMIN\+|RT_)(\d+)$/.exec(name);
  if (m) {
    const s = SIGRTMIN + Number(m[1]);
    return s <= SIGRTMAX ? s : undefined;
  }
  return undefined;
}

/** Signal numbers 1..64 as an enum set, for decoding `int sig` arguments. */
export const signals = defineEnum(
  'signal',
  Array.from({ length: NSIG }, (_, i) => ({ name: signalName(i + 1), value: i + 1 })),
  { unknown: 'decimal', prefix: 'SIG' },
);

/** sigaction(2) `sa_flags` (`SA_*`). */
export const SaFlag = {
  SA_NOCLDSTOP: 0x00000001,
  SA_NOCLDWAIT: 0x00000002,
  SA_SIGINFO: 0x00000004,
  SA_UNSUPPORTED: 0x00000400,
  SA_EXPOSE_TAGBITS: 0x00000800,
  SA_RESTORER: 0x04000000,
  SA_ONSTACK: 0x08000000,
  SA_RESTART: 0x10000000,
  SA_NODEFER: 0x40000000,
  SA_RESETHAND: 0x80000000,
} as const;

/** sa_flags, for decoding. */
export const saFlags = defineFlags('sa_flags', SaFlag);

/** sigprocmask(2) `how`. */
export const SigHow = { SIG_BLOCK: 0, SIG_UNBLOCK: 1, SIG_SETMASK: 2 } as const;

/** sigprocmask how, for decoding. */
export const sigHow = defineEnum('sigprocmask', SigHow);

/** Special handler values of `sa_handler`. */
export const SigHandler = { SIG_DFL: 0, SIG_IGN: 1, SIG_ERR: -1 } as const;

/** sigaltstack(2) `ss_flags`. */
export const SsFlag = { SS_ONSTACK: 1, SS_DISABLE: 2, SS_AUTODISARM: 0x80000000 } as const;

/** ss_flags, for decoding. */
export const ssFlags = defineFlags('ss_flags', SsFlag);

/** Sizes of alternate signal stacks (the uapi values). */
export const SigStack = { MINSIGSTKSZ: 2048, SIGSTKSZ: 8192 } as const;

/** si_code values common to all signals (`SI_*`); positive kernel codes are per signal. */
export const SiCode = {
  SI_USER: 0,
  SI_KERNEL: 0x80,
  SI_QUEUE: -1,
  SI_TIMER: -2,
  SI_MESGQ: -3,
  SI_ASYNCIO: -4,
  SI_SIGIO: -5,
  SI_TKILL: -6,
  SI_DETHREAD: -7,
  SI_ASYNCNL: -60,
} as const;

/** si_codes of SIGILL. */
export const IllCode = {
  ILL_ILLOPC: 1,
  ILL_ILLOPN: 2,
  ILL_ILLADR: 3,
  ILL_ILLTRP: 4,
  ILL_PRVOPC: 5,
  ILL_PRVREG: 6,
  ILL_COPROC: 7,
  ILL_BADSTK: 8,
  ILL_BADIADDR: 9,
} as const;

/** si_codes of SIGFPE. */
export const FpeCode = {
  FPE_INTDIV: 1,
  FPE_INTOVF: 2,
  FPE_FLTDIV: 3,
  FPE_FLTOVF: 4,
  FPE_FLTUND: 5,
  FPE_FLTRES: 6,
  FPE_FLTINV: 7,
  FPE_FLTSUB: 8,
  FPE_FLTUNK: 14,
  FPE_CONDTRAP: 15,
} as const;

/** si_codes of SIGSEGV. */
export const SegvCode = {
  SEGV_MAPERR: 1,
  SEGV_ACCERR: 2,
  SEGV_BNDERR: 3,
  SEGV_PKUERR: 4,
  SEGV_ACCADI: 5,
  SEGV_ADIDERR: 6,
  SEGV_ADIPERR: 7,
  SEGV_MTEAERR: 8,
  SEGV_MTESERR: 9,
  /** Linux 6.6 (shadow stack). */
  SEGV_CPERR: 10,
} as const;

/** si_codes of SIGBUS. */
export const BusCode = {
  BUS_ADRALN: 1,
  BUS_ADRERR: 2,
  BUS_OBJERR: 3,
  BUS_MCEERR_AR: 4,
  BUS_MCEERR_AO: 5,
} as const;

/** si_codes of SIGTRAP. */
export const TrapCode = {
  TRAP_BRKPT: 1,
  TRAP_TRACE: 2,
  TRAP_BRANCH: 3,
  TRAP_HWBKPT: 4,
  TRAP_UNK: 5,
  TRAP_PERF: 6,
} as const;

/** si_codes of SIGCHLD. */
export const CldCode = {
  CLD_EXITED: 1,
  CLD_KILLED: 2,
  CLD_DUMPED: 3,
  CLD_TRAPPED: 4,
  CLD_STOPPED: 5,
  CLD_CONTINUED: 6,
} as const;

/** si_codes of SIGPOLL/SIGIO. */
export const PollCode = {
  POLL_IN: 1,
  POLL_OUT: 2,
  POLL_MSG: 3,
  POLL_ERR: 4,
  POLL_PRI: 5,
  POLL_HUP: 6,
} as const;

/** si_codes of SIGSYS. */
export const SysCode = { SYS_SECCOMP: 1, SYS_USER_DISPATCH: 2 } as const;

/** `sigev_notify` values of struct sigevent. */
export const Sigev = { SIGEV_SIGNAL: 0, SIGEV_NONE: 1, SIGEV_THREAD: 2, SIGEV_THREAD_ID: 4 } as const;

const perSignalCodes: Readonly<Record<number, Readonly<Record<string, number>>>> = {
  [Signal.SIGILL]: IllCode,
  [Signal.SIGFPE]: FpeCode,
  [Signal.SIGSEGV]: SegvCode,
  [Signal.SIGBUS]: BusCode,
  [Signal.SIGTRAP]: TrapCode,
  [Signal.SIGCHLD]: CldCode,
  [Signal.SIGIO]: PollCode,
  [Signal.SIGSYS]: SysCode,
};

/**
 * The name of a siginfo `si_code` for a signal: the per-signal code when the value is positive
 * and the signal has its own codes (SEGV_MAPERR for SIGSEGV 1), else the generic `SI_*` name,
 * else the number.
 */
export function siCodeName(sig: number, code: number): string {
  if (code > 0 && code !== SiCode.SI_KERNEL) {
    const own = perSignalCodes[sig];
    if (own) for (const [name, v] of Object.entries(own)) if (v === code) return name;
  }
  for (const [name, v] of Object.entries(SiCode)) if (v === code) return name;
  return String(code);
}

const MASK32 = 0xffffffff;

/**
 * A 64-bit signal set (`sigset_t` as the kernel sees it: bit `n-1` is signal `n`), kept as two
 * 32-bit halves so the hot operations allocate nothing. Mutating methods return `this`.
 *
 * @example
 * ```ts
 * const set = new SigSet().add(Signal.SIGINT).add(SIGRTMIN);
 * set.has(Signal.SIGINT); // true
 * set.toBigInt(); // 0x80000002n
 * ```
 */
export class SigSet {
  constructor(
    /** Signals 1..32. */
    public lo = 0,
    /** Signals 33..64. */
    public hi = 0,
  ) {
    this.lo >>>= 0;
    this.hi >>>= 0;
  }

  /** A set from a 64-bit mask as a bigint (as read from a `sigset_t`). */
  static fromBigInt(mask: bigint): SigSet {
    const v = BigInt.asUintN(64, mask);
    return new SigSet(Number(v & 0xffffffffn), Number(v >> 32n));
  }

  /** A set of every signal 1..64. */
  static full(): SigSet {
    return new SigSet(MASK32, MASK32);
  }

  /** The mask as a bigint. */
  toBigInt(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** A copy. */
  clone(): SigSet {
    return new SigSet(this.lo, this.hi);
  }

  /** Adds a signal (numbers outside 1..64 are ignored). */
  add(sig: number): this {
    if (!isValidSignal(sig)) return this;
    if (sig <= 32) this.lo = (this.lo | (1 << (sig - 1))) >>> 0;
    else this.hi = (this.hi | (1 << (sig - 33))) >>> 0;
    return this;
  }

  /** Removes a signal. */
  delete(sig: number): this {
    if (!isValidSignal(sig)) return this;
    if (sig <= 32) this.lo = (this.lo & ~(1 << (sig - 1))) >>> 0;
    else this.hi = (this.hi & ~(1 << (sig - 33))) >>> 0;
    return this;
  }

  /** True when the signal is in the set. */
  has(sig: number): boolean {
    if (!isValidSignal(sig)) return false;
    return sig <= 32 ? (this.lo & (1 << (sig - 1))) !== 0 : (this.hi & (1 << (sig - 33))) !== 0;
  }

  /** Adds every signal of `other` (SIG_BLOCK). */
  union(other: SigSet): this {
    this.lo = (this.lo | other.lo) >>> 0;
    this.hi = (this.hi | other.hi) >>> 0;
    return this;
  }

  /** Removes every signal of `other` (SIG_UNBLOCK). */
  subtract(other: SigSet): this {
    this.lo = (this.lo & ~other.lo) >>> 0;
    this.hi = (this.hi & ~other.hi) >>> 0;
    return this;
  }

  /** Keeps only the signals also in `other`. */
  intersect(other: SigSet): this {
    this.lo = (this.lo & other.lo) >>> 0;
    this.hi = (this.hi & other.hi) >>> 0;
    return this;
  }

  /** Replaces the contents (SIG_SETMASK). */
  set(other: SigSet): this {
    this.lo = other.lo;
    this.hi = other.hi;
    return this;
  }

  /** Removes SIGKILL and SIGSTOP, as the kernel does to every mask a program sets. */
  removeUncatchable(): this {
    return this.delete(Signal.SIGKILL).delete(Signal.SIGSTOP);
  }

  /** True when no signal is in the set. */
  isEmpty(): boolean {
    return this.lo === 0 && this.hi === 0;
  }

  /** True when both sets hold the same signals. */
  equals(other: SigSet): boolean {
    return this.lo === other.lo && this.hi === other.hi;
  }

  /** The lowest signal number in the set, or 0 when it is empty (delivery order of standard signals). */
  lowest(): number {
    if (this.lo !== 0) return 32 - Math.clz32(this.lo & -this.lo);
    if (this.hi !== 0) return 64 - Math.clz32(this.hi & -this.hi);
    return 0;
  }

  /** The signals in the set, ascending. */
  toArray(): number[] {
    const out: number[] = [];
    for (let s = 1; s <= NSIG; s++) if (this.has(s)) out.push(s);
    return out;
  }

  /**
   * strace's rendering: `[]`, `[INT TERM]`, or `~[KILL STOP]` when more than half the set is
   * full (strace prints the complement then).
   */
  toString(): string {
    let count = 0;
    for (let s = 1; s <= NSIG; s++) if (this.has(s)) count++;
    const invert = count > NSIG / 2;
    const names: string[] = [];
    for (let s = 1; s <= NSIG; s++) {
      if (this.has(s) !== invert) names.push(signalName(s).replace(/^SIG/, ''));
    }
    return `${invert ? '~' : ''}[${names.join(' ')}]`;
  }
}

/** The sigset size in bytes the rt_sig* calls require (`sizeof(kernel_sigset_t)`). */
export const SIGSET_SIZE = 8;
