/**
 * The CPU-time interval timers of a process, ITIMER_VIRTUAL (user time, SIGVTALRM) and
 * ITIMER_PROF (user + system time, SIGPROF), set by setitimer(2).
 *
 * CPU time is charged by the runtime, which samples the host's counters at syscall entry, so
 * these timers are checked there too ({@link runCpuTimers}): a timer fires at the first syscall
 * after its CPU time has been used, as Linux's fire at the tick after (a program that spins
 * without making syscalls sees its signal at its next syscall).
 *
 * @module
 */
import { SiCode, Signal } from '@tsvisor/abi';
import type { Kernel } from '../kernel.js';
import type { ThreadGroup } from '../task/task.js';
import type { TimeSource } from './time-source.js';

/** Which CPU clock an interval timer runs on. */
export type CpuItimerKind = 'virtual' | 'prof';

interface CpuItimer {
  /** The group CPU time (ns) at which it fires. */
  expires: bigint;
  readonly interval: bigint;
}

type Pair = { virtual?: CpuItimer | undefined; prof?: CpuItimer | undefined };

const timers = new WeakMap<ThreadGroup, Pair>();

/** One tick of a HZ=250 kernel: what Linux reports for a timer about to fire. */
const TICK_NS = 4_000_000n;

function cpuOf(g: ThreadGroup, kind: CpuItimerKind): bigint {
  const c = g.cpuTimes();
  return kind === 'virtual' ? c.userNs : c.userNs + c.sysNs;
}

/** The time left (CPU ns) and the interval of the process's `kind` timer; zeros when disarmed. */
export function getCpuItimer(g: ThreadGroup, kind: CpuItimerKind): { value: bigint; interval: bigint } {
  const t = timers.get(g)?.[kind];
  if (!t) return { value: 0n, interval: 0n };
  const now = cpuOf(g, kind);
  return { value: t.expires > now ? t.expires - now : TICK_NS, interval: t.interval };
}

/** Arms (`value` > 0) or disarms the process's `kind` timer; returns the previous setting. */
export function setCpuItimer(
  g: ThreadGroup,
  kind: CpuItimerKind,
  value: bigint,
  interval: bigint,
): { value: bigint; interval: bigint } {
  const old = getCpuItimer(g, kind);
  let pair = timers.get(g);
  if (!pair) timers.set(g, (pair = {}));
  pair[kind] = value === 0n ? undefined : { expires: cpuOf(g, kind) + value, interval };
  return old;
}

/**
 * A CPU-time clock seen as a {@link TimeSource}, so the timers built on time sources
 * (`ExpiringTimer`, POSIX timers) and sleeps run on it: its "monotonic" time is the CPU time it
 * reads, and its timers fire from {@link runCpuTimers}, never from the host.
 */
export class CpuClock implements TimeSource {
  private readonly due = new Set<{ readonly at: bigint; readonly fire: () => void }>();

  constructor(
    private readonly group: ThreadGroup,
    /** Reads the clock (ns of CPU time). */
    private readonly read: () => bigint,
  ) {}

  realtimeNs(): bigint {
    return this.read();
  }

  monotonicNs(): bigint {
    return this.read();
  }

  setTimer(deadlineNs: bigint, fire: () => void): () => void {
    const e = { at: deadlineNs, fire };
    this.due.add(e);
    let set = clocks.get(this.group);
    if (!set) clocks.set(this.group, (set = new Set()));
    set.add(this);
    // Already due: fire soon, as a host timer with a past deadline would.
    if (deadlineNs <= this.read()) queueMicrotask(() => this.run());
    return () => {
      this.due.delete(e);
      if (this.due.size === 0) clocks.get(this.group)?.delete(this);
    };
  }

  /** Fires the timers whose CPU time has come. */
  run(): void {
    const now = this.read();
    for (const e of [...this.due]) {
      if (e.at > now) continue;
      this.due.delete(e);
      e.fire();
    }
    if (this.due.size === 0) clocks.get(this.group)?.delete(this);
  }
}

/** CPU clocks with armed timers, by the process whose syscalls check them. */
const clocks = new WeakMap<ThreadGroup, Set<CpuClock>>();

/**
 * Fires the process's CPU timers whose time has been used (the runtime's CPU sample must be
 * current): SIGVTALRM / SIGPROF to the process, then reload by one interval or disarm; and the
 * timers armed on {@link CpuClock}s of the process.
 */
export function runCpuTimers(kernel: Kernel, g: ThreadGroup): void {
  const armed = clocks.get(g);
  if (armed) for (const c of [...armed]) c.run();
  const pair = timers.get(g);
  if (!pair || g.state !== 'alive') return;
  for (const kind of ['virtual', 'prof'] as const) {
    const t = pair[kind];
    if (!t || cpuOf(g, kind) < t.expires) continue;
    if (t.interval > 0n) t.expires += t.interval;
    else pair[kind] = undefined;
    kernel.sendToGroup(g, {
      signo: kind === 'virtual' ? Signal.SIGVTALRM : Signal.SIGPROF,
      code: SiCode.SI_KERNEL,
    });
  }
}
