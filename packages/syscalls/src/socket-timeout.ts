/**
 * SO_RCVTIMEO and SO_SNDTIMEO, shared by every socket of the sandbox: the ones netstack answers
 * (AF_INET/AF_INET6, AF_UNIX) and the host sockets of network mode `host`.
 *
 * - The option's value as Linux keeps it (sock_set_timeout / sock_get_timeout): a time in jiffies
 *   at {@link HZ}, "for ever" for {0, 0} or a time too large for a jiffy count, and 0 ("do not
 *   wait") for a negative tv_sec; getsockopt reports the rounded time.
 * - The bounds of one blocking call: its deadline, what a signal answers (sock_intr_errno: a
 *   restart without a timeout, EINTR with one), and {@link SendTimeout} for the stream writer.
 * - The wait-and-retry loop of the sandbox's own sockets ({@link retryOnSocket}), used by the
 *   socket syscalls and by read(2)/write(2) on a socket (see {@link socketBlockingIo}).
 *
 * @module
 */
import { E, SockType, isError, type LinuxError } from '@tsvisor/abi';
import { ERESTARTSYS, Waiter, type ControlResult, type Task } from '@tsvisor/kernel';
import { WOULD_BLOCK as NET_WOULD_BLOCK } from '@tsvisor/netstack';
import {
  WOULD_BLOCK,
  type FileDescription,
  type IOSequence,
  type WaitQueue,
  type WouldBlock,
} from '@tsvisor/vfs';
import { rcvlowatOf } from './socket-options.js';
import { SocketImpl } from './sys-socket-file.js';
import type { WriteAttempt, WriteOutcome } from './stream-write.js';
import type { SyscallResult } from './types.js';

const POLLOUT = 4;

/** SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD (struct timeval) and their 64-bit forms (__kernel_sock_timeval). */
export const SO_RCVTIMEO_OLD = 20;
export const SO_SNDTIMEO_OLD = 21;
export const SO_RCVTIMEO_NEW = 66;
export const SO_SNDTIMEO_NEW = 67;

/** True for the four SOL_SOCKET timeout option names. */
export function isTimeoutOption(name: number): boolean {
  return (
    name === SO_RCVTIMEO_OLD ||
    name === SO_SNDTIMEO_OLD ||
    name === SO_RCVTIMEO_NEW ||
    name === SO_SNDTIMEO_NEW
  );
}

/** True for SO_RCVTIMEO (either form), false for SO_SNDTIMEO. */
export function isReceiveTimeout(name: number): boolean {
  return name === SO_RCVTIMEO_OLD || name === SO_RCVTIMEO_NEW;
}

/**
 * The kernel's tick rate (CONFIG_HZ) that socket timeouts are rounded to: 250 on the Debian
 * kernels tsvisor runs on. The conformance test (sock-options.test.ts) compares the rounding
 * with the host's, so a host with another HZ shows up there.
 */
export const HZ = 250n;
const NSEC_PER_SEC = 1_000_000_000n;
const USEC_PER_SEC = 1_000_000n;
const NSEC_PER_JIFFY = NSEC_PER_SEC / HZ;
/** MAX_SCHEDULE_TIMEOUT (LONG_MAX): the jiffy count that means "for ever". */
const MAX_SCHEDULE_TIMEOUT = (1n << 63n) - 1n;
/** sizeof(struct __kernel_old_timeval) and sizeof(struct __kernel_sock_timeval) on x86-64. */
export const TIMEVAL_SIZE = 16;

/**
 * A socket timeout: undefined waits for ever, 0n does not wait, otherwise nanoseconds (a whole
 * number of jiffies).
 */
export type TimeoutNs = bigint | undefined;

/**
 * sock_set_timeout on the option's bytes (both forms are two little-endian 64-bit fields on
 * x86-64): `EINVAL` when `optlen` is shorter than the struct, `EFAULT`, `EDOM` for a tv_usec
 * outside [0, 10^6). Reads exactly 16 bytes, whatever longer `optlen` says.
 */
export function parseTimeout(
  read: (addr: number, len: number) => Uint8Array | LinuxError,
  addr: number,
  optlen: number,
): TimeoutNs | LinuxError {
  if (optlen < TIMEVAL_SIZE) return E.EINVAL;
  const v = read(addr, TIMEVAL_SIZE);
  if (isError(v)) return v;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const sec = dv.getBigInt64(0, true);
  const usec = dv.getBigInt64(8, true);
  if (usec < 0n || usec >= USEC_PER_SEC) return E.EDOM;
  if (sec < 0n) return 0n;
  if (sec === 0n && usec === 0n) return undefined;
  if (sec >= MAX_SCHEDULE_TIMEOUT / HZ - 1n) return undefined;
  // DIV_ROUND_UP(tv_usec, USEC_PER_SEC / HZ): any fraction of a tick waits a whole tick.
  const per = USEC_PER_SEC / HZ;
  const jiffies = sec * HZ + (usec + per - 1n) / per;
  return jiffies * NSEC_PER_JIFFY;
}

/** sock_get_timeout: the value getsockopt reports (for ever and "no wait" both read {0, 0}). */
export function encodeTimeout(ns: TimeoutNs): Uint8Array {
  const out = new Uint8Array(TIMEVAL_SIZE);
  if (ns === undefined || ns === 0n) return out;
  const dv = new DataView(out.buffer);
  dv.setBigInt64(0, ns / NSEC_PER_SEC, true);
  dv.setBigInt64(8, (ns % NSEC_PER_SEC) / 1000n, true);
  return out;
}

/** The two timeouts of one netstack socket (sk_rcvtimeo, sk_sndtimeo). */
export interface SocketTimeouts {
  rcv: TimeoutNs;
  snd: TimeoutNs;
}

const timeouts = new WeakMap<object, SocketTimeouts>();

/** The timeouts of a netstack socket object (an InetSocket or UnixSocket); for ever until set. */
export function timeoutsOf(sock: object): SocketTimeouts {
  let v = timeouts.get(sock);
  if (!v) {
    v = { rcv: undefined, snd: undefined };
    timeouts.set(sock, v);
  }
  return v;
}

/** When a blocking call that starts now gives up (sock_rcvtimeo/sock_sndtimeo); undefined: never. */
export function deadlineOf(t: Task, timeoutNs: TimeoutNs): bigint | undefined {
  return timeoutNs === undefined ? undefined : t.kernel.time.monotonicNs() + timeoutNs;
}

/**
 * What a signal during a blocking socket call answers (sock_intr_errno): ERESTARTSYS (restarted
 * under SA_RESTART) without a timeout, EINTR with one.
 */
export function sockIntrErrno(deadline: bigint | undefined): LinuxError | ControlResult {
  return deadline === undefined ? ERESTARTSYS : E.EINTR;
}

/**
 * SO_SNDTIMEO for one blocking send: wraps the stream writer's attempts so that, once the call
 * has blocked, an attempt after the timeout answers EAGAIN (the writer then reports the bytes sent
 * so far, or EAGAIN, as sk_stream_wait_memory and sock_alloc_send_pskb do), with a timer that
 * wakes the writer asleep on `queue` (with `events`) when the time is up.
 */
export class SendTimeout {
  #deadline: bigint | undefined;
  #cancel: (() => void) | undefined;

  constructor(
    readonly t: Task,
    readonly queue: WaitQueue,
    readonly events: number,
    readonly timeoutNs: bigint,
  ) {}

  wrap(attempt: WriteAttempt): WriteAttempt {
    return (sent) => {
      if (this.#deadline !== undefined && this.#deadline <= this.t.kernel.time.monotonicNs()) return E.EAGAIN;
      const r = attempt(sent);
      if (r === 'block' && this.#deadline === undefined) {
        const deadline = this.t.kernel.time.monotonicNs() + this.timeoutNs;
        this.#deadline = deadline;
        this.#cancel = this.t.kernel.time.setTimer(deadline, () => this.queue.notify(this.events));
      }
      return r;
    };
  }

  /** The call's outcome: the timer ends; a signal ends the wait with EINTR (sock_intr_errno). */
  end(o: WriteOutcome): WriteOutcome {
    this.#cancel?.();
    return o.stop === ERESTARTSYS && this.#deadline !== undefined ? { sent: o.sent, stop: E.EINTR } : o;
  }
}

/** How {@link retryOnSocket} ends a wait that a signal or the deadline cut short. */
export interface RetryBounds<T> {
  /** The monotonic time the call gives up at; undefined: never. */
  readonly deadline?: bigint | undefined;
  /** The answer to a signal; by default {@link sockIntrErrno}. */
  readonly onSignal?: () => T | LinuxError | ControlResult;
  /** The answer once the deadline passed; by default EAGAIN. */
  readonly onTimeout?: () => T | LinuxError | ControlResult;
}

/**
 * Retries `op` on a netstack socket until it stops answering WOULD_BLOCK, sleeping until the
 * socket's next readiness change in between, up to `bounds.deadline`.
 */
export async function retryOnSocket<T>(
  t: Task,
  s: SocketImpl,
  op: () => T | typeof NET_WOULD_BLOCK,
  bounds: RetryBounds<T> = {},
): Promise<T | LinuxError | ControlResult> {
  const deadline = bounds.deadline;
  for (;;) {
    // Subscribe before trying: running the stack inside the attempt may already change readiness.
    const w = new Waiter(undefined);
    const sub = { mask: -1, notify: (): void => void w.wake('notified') };
    s.queue.add(sub);
    try {
      const r = op();
      s.settle();
      if (r !== NET_WOULD_BLOCK) return r;
      if (w.reason !== undefined) continue;
      if (deadline !== undefined) {
        if (deadline <= t.kernel.time.monotonicNs()) return bounds.onTimeout ? bounds.onTimeout() : E.EAGAIN;
        w.setDeadline(t.kernel.time, deadline);
      }
      if ((await t.block(w)) === 'interrupted')
        return bounds.onSignal ? bounds.onSignal() : sockIntrErrno(deadline);
    } finally {
      s.queue.remove(sub);
    }
  }
}

/**
 * The wait of a blocking read(2)/readv(2) (`events` POLLIN) or write on a netstack socket that
 * has a timeout, after `op` answered WOULD_BLOCK once: EAGAIN once SO_RCVTIMEO (SO_SNDTIMEO for
 * POLLOUT) passes, EINTR for a signal. Undefined for other files and for sockets without that
 * timeout (the generic wait of sys-file.ts applies).
 */
export function socketBlockingIo(
  t: Task,
  file: FileDescription,
  events: number,
  op: () => number | LinuxError | WouldBlock,
): Promise<SyscallResult> | undefined {
  const s = file.impl;
  if (!(s instanceof SocketImpl)) return undefined;
  const v = timeouts.get(s.sock);
  const ns = (events & POLLOUT) !== 0 ? v?.snd : v?.rcv;
  if (ns === undefined) return undefined;
  return retryOnSocket<number | LinuxError>(
    t,
    s,
    () => {
      const r = op();
      return r === WOULD_BLOCK ? NET_WOULD_BLOCK : r;
    },
    { deadline: deadlineOf(t, ns) },
  );
}

/**
 * The SO_SNDTIMEO of a blocking send on a netstack socket, for the stream writer; undefined for
 * non-blocking calls, other files and sockets without one.
 */
export function socketSendTimeout(
  t: Task,
  file: FileDescription,
  nonBlocking: boolean,
): SendTimeout | undefined {
  const s = file.impl;
  if (nonBlocking || !(s instanceof SocketImpl)) return undefined;
  const ns = timeouts.get(s.sock)?.snd;
  return ns === undefined ? undefined : new SendTimeout(t, s.queue, -1, ns);
}

/**
 * read(2)/readv(2) on a netstack stream socket with SO_RCVLOWAT above 1: as sock_read_iter's
 * recvmsg, a blocking read gathers until that many bytes (at most the buffer's length) arrived,
 * end of stream, an error, a signal or SO_RCVTIMEO, and returns what it has then. Undefined for
 * other files and sockets without a low-water mark (the usual read applies).
 */
export function socketStreamRead(
  t: Task,
  file: FileDescription,
  dst: IOSequence,
): SyscallResult | Promise<SyscallResult> | undefined {
  const s = file.impl;
  if (!(s instanceof SocketImpl) || s.sock.type !== SockType.SOCK_STREAM) return undefined;
  const lowat = rcvlowatOf(s.sock);
  if (lowat <= 1 || dst.length === 0) return undefined;
  return gatherRead(t, file, s, dst, Math.min(lowat, dst.length));
}

/**
 * The gathering read of {@link socketStreamRead}, until `target` bytes. A function of its own:
 * its closures capture the call's variables, which would make every read(2) on a socket
 * allocate a context for them even without SO_RCVLOWAT.
 */
function gatherRead(
  t: Task,
  file: FileDescription,
  s: SocketImpl,
  dst: IOSequence,
  target: number,
): SyscallResult | Promise<SyscallResult> {
  let got = 0;
  const step = (): number | LinuxError | typeof NET_WOULD_BLOCK => {
    for (;;) {
      const r = file.readIO(dst.dropFirst(got));
      if (r === WOULD_BLOCK || isError(r)) {
        // O_NONBLOCK reads answer EAGAIN: what came so far is the answer.
        if (got > 0 && (isError(r) || got >= target)) return got;
        return r === WOULD_BLOCK ? NET_WOULD_BLOCK : r;
      }
      got += r;
      if (r === 0 || got >= target) return got;
    }
  };
  const r = step();
  if (r !== NET_WOULD_BLOCK) return r;
  const deadline = deadlineOf(t, timeouts.get(s.sock)?.rcv);
  return retryOnSocket(t, s, step, {
    deadline,
    onSignal: () => (got > 0 ? got : sockIntrErrno(deadline)),
    onTimeout: () => (got > 0 ? got : E.EAGAIN),
  });
}
