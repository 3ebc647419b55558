/**
 * The SOL_SOCKET options of AF_UNIX sockets that sk_setsockopt / sk_getsockopt (net/core/sock.c)
 * answer for them and that socket-options.ts does not keep for every family: SO_LINGER,
 * SO_MEMINFO, SO_TXTIME, SO_RESERVE_MEM, SO_PEERPIDFD,
 * SO_RCVPRIORITY and SO_PASSRIGHTS.
 *
 * The ones with an effect: SO_PEERPIDFD installs a pidfd of the peer's process as captured at
 * connect(2), accept(2) or socketpair(2) (one that still refers to that process after it has
 * exited and been reaped, as Linux 6.17+ hands out with PIDFD_STALE); SO_PASSRIGHTS off makes
 * the socket refuse SCM_RIGHTS (the sender gets EPERM, see UnixSocket.passrights). SO_MEMINFO
 * reports what a unix socket is charged (its sent buffers still queued, by truesize). The
 * others are checked and kept as Linux does and change nothing for a unix socket: SO_LINGER
 * (closing a unix socket never lingers), SO_TXTIME (only qdiscs read it), SO_RCVPRIORITY (unix
 * receives add no SCM_PRIORITY). The socket filter options are socket-filter-options.ts's;
 * SO_RESERVE_MEM stays 0 (a unix socket has no memory accounting: EOPNOTSUPP).
 *
 * @module
 */
import { Capability, E, isError, SocketOption, type LinuxError } from '@tsvisor/abi';
import { capable, ThreadGroup, type Task } from '@tsvisor/kernel';
import type { UnixSocket } from '@tsvisor/netstack';
import { installPidfd } from './sys-pidfd.js';
import { filesOf } from './vfs-context.js';

const SO = SocketOption;
/** Linux 6.16 names (not yet in the ABI tables). */
const SO_RCVPRIORITY = 82;
const SO_PASSRIGHTS = 83;
/** The jiffies per second of the kernels SO_LINGER is compared with (CONFIG_HZ_250). */
const HZ = 250n;
/** MAX_SCHEDULE_TIMEOUT (LONG_MAX) in seconds: what a linger too long for jiffies becomes. */
const LINGER_MAX_SECS = ((1n << 63n) - 1n) / HZ;
/** SOF_TXTIME_DEADLINE_MODE | SOF_TXTIME_REPORT_ERRORS. */
const SOF_TXTIME_FLAGS_MASK = 3;
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const CLOCK_TAI = 11;
/** SK_MEMINFO_VARS: the u32 counters of SO_MEMINFO. */
const SK_MEMINFO_VARS = 9;

/** What sk_setsockopt keeps for these options on one unix socket. */
interface UnixOptions {
  /** SOCK_LINGER and sk_lingertime in seconds (what getsockopt divides back by HZ). */
  lingerOn: boolean;
  lingerSecs: bigint;
  txtimeClock: number;
  txtimeFlags: number;
  rcvPriority: boolean;
}

const store = new WeakMap<UnixSocket, UnixOptions>();

function optionsOf(sock: UnixSocket): UnixOptions {
  let o = store.get(sock);
  if (!o) {
    o = { lingerOn: false, lingerSecs: 0n, txtimeClock: 0, txtimeFlags: 0, rcvPriority: false };
    store.set(sock, o);
  }
  return o;
}

const HANDLED: ReadonlySet<number> = new Set([
  SO.SO_LINGER,
  SO.SO_MEMINFO,
  SO.SO_TXTIME,
  SO.SO_RESERVE_MEM,
  SO.SO_PEERPIDFD,
  SO_RCVPRIORITY,
  SO_PASSRIGHTS,
]);

/** True when `name` (at SOL_SOCKET) is one of this module's options. */
export function isUnixOption(name: number): boolean {
  return HANDLED.has(name);
}

/**
 * setsockopt(SOL_SOCKET, `name`) on a unix socket for an option of this module, in
 * sk_setsockopt's order: `EINVAL` below an int, `EFAULT` for the int, then the option's own
 * length and value checks. SO_MEMINFO and SO_PEERPIDFD cannot be set: ENOPROTOOPT.
 */
export function setUnixOption(
  t: Task,
  sock: UnixSocket,
  name: number,
  addr: number,
  optlen: number,
): 0 | LinuxError {
  if (optlen < 4) return E.EINVAL;
  const val = t.memory.readI32(addr);
  if (isError(val)) return val;
  const o = optionsOf(sock);
  switch (name) {
    case SO.SO_LINGER: {
      if (optlen < 8) return E.EINVAL;
      const raw = t.memory.read(addr, 8);
      if (isError(raw)) return raw;
      const dv = new DataView(raw.buffer, raw.byteOffset, 8);
      if (dv.getInt32(0, true) === 0) {
        // Off keeps the time that was set.
        o.lingerOn = false;
        return 0;
      }
      // l_linger is taken as an unsigned long: a negative one is "forever" (LONG_MAX jiffies).
      const secs = BigInt.asUintN(64, BigInt(dv.getInt32(4, true)));
      o.lingerOn = true;
      o.lingerSecs = secs >= LINGER_MAX_SECS ? LINGER_MAX_SECS : secs;
      return 0;
    }
    case SO.SO_TXTIME: {
      if (optlen !== 8) return E.EINVAL;
      const raw = t.memory.read(addr, 8);
      if (isError(raw)) return raw;
      const dv = new DataView(raw.buffer, raw.byteOffset, 8);
      const clock = dv.getInt32(0, true);
      const flags = dv.getUint32(4, true);
      if (flags & ~SOF_TXTIME_FLAGS_MASK) return E.EINVAL;
      // Only sch_fq reads CLOCK_MONOTONIC, and it checks CAP_NET_ADMIN itself.
      if (clock !== CLOCK_MONOTONIC && !capable(t.creds, Capability.CAP_NET_ADMIN)) return E.EPERM;
      if (clock !== CLOCK_REALTIME && clock !== CLOCK_MONOTONIC && clock !== CLOCK_TAI) return E.EINVAL;
      o.txtimeClock = clock;
      o.txtimeFlags = flags;
      return 0;
    }
    case SO.SO_RESERVE_MEM:
      // sock_reserve_memory: no memory cgroup accounting for unix sockets.
      return val < 0 ? E.EINVAL : E.EOPNOTSUPP;
    case SO_RCVPRIORITY:
      o.rcvPriority = val !== 0;
      return 0;
    case SO_PASSRIGHTS:
      sock.passrights = val !== 0;
      return 0;
    default:
      return E.ENOPROTOOPT;
  }
}

function u32s(values: readonly number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true));
  return b;
}

/**
 * getsockopt(SOL_SOCKET, `name`) on a unix socket for an option of this module: writes the
 * value (cut to `len`, which the caller checked is not negative) at `addr` and its length at
 * `lenp`, as sk_getsockopt does. SO_PEERPIDFD installs a close-on-exec pidfd of the peer's
 * process (`ENODATA` without peer credentials: an unconnected socket or a connected datagram
 * one); a fault writing it back takes the descriptor away again.
 */
export function getUnixOption(
  t: Task,
  sock: UnixSocket,
  name: number,
  addr: number,
  lenp: number,
  len: number,
): 0 | LinuxError {
  if (name === SO.SO_PEERPIDFD) return getPeerPidfd(t, sock, addr, lenp, len);
  const v = unixOptionValue(sock, name);
  const n = Math.min(len, v.length);
  const err = t.memory.writeExact(addr, v.subarray(0, n));
  if (err) return err;
  return t.memory.writeI32(lenp, n) ?? 0;
}

/** The bytes getsockopt answers for an option of this module other than SO_PEERPIDFD. */
function unixOptionValue(sock: UnixSocket, name: number): Uint8Array {
  const o = store.get(sock);
  switch (name) {
    case SO.SO_LINGER:
      // struct linger; l_linger is the time cut to an int.
      return u32s([o?.lingerOn ? 1 : 0, Number(BigInt.asUintN(32, o?.lingerSecs ?? 0n))]);
    case SO.SO_MEMINFO: {
      // sk_get_meminfo: a unix socket charges its sent buffers to itself (sk_wmem_alloc) and
      // nothing to the receiver; no forward allocation, write queue, option memory or backlog.
      const m = new Array<number>(SK_MEMINFO_VARS).fill(0);
      m[1] = sock.rcvbuf;
      m[2] = sock.outq();
      m[3] = sock.sndbuf;
      return u32s(m);
    }
    case SO.SO_TXTIME:
      return u32s([o?.txtimeClock ?? 0, o?.txtimeFlags ?? 0]);
    case SO.SO_RESERVE_MEM:
      return u32s([0]);
    case SO_RCVPRIORITY:
      return u32s([o?.rcvPriority ? 1 : 0]);
    case SO_PASSRIGHTS:
      return u32s([sock.passrights ? 1 : 0]);
    default:
      throw new Error(`unix socket option ${name} has no value`);
  }
}

/** SO_PEERPIDFD: see {@link getUnixOption}. */
function getPeerPidfd(t: Task, sock: UnixSocket, addr: number, lenp: number, len: number): 0 | LinuxError {
  const n = Math.min(len, 4);
  const process = sock.peerProcess();
  if (!(process instanceof ThreadGroup)) return E.ENODATA;
  const fd = installPidfd(t, process);
  if (isError(fd)) return fd;
  const err = t.memory.writeExact(addr, u32s([fd]).subarray(0, n)) ?? t.memory.writeI32(lenp, n);
  if (err) {
    filesOf(t).close(fd);
    return err;
  }
  return 0;
}

/** The control message type of a received pidfd (SO_PASSPIDFD). */
export const SCM_PIDFD = 4;

/**
 * The payload of an SCM_PIDFD control message for `process` (a received message's sender, see
 * UnixRecvResult.pidfdProcess): a pidfd installed close-on-exec as scm_pidfd_recv does (when no
 * descriptor is free, Linux sends the negative errno in its place), or undefined when the
 * process is not one the kernel knows.
 */
export function scmPidfd(t: Task, process: unknown): Uint8Array | undefined {
  if (!(process instanceof ThreadGroup)) return undefined;
  const fd = installPidfd(t, process);
  return u32s([isError(fd) ? -fd.errno : fd]);
}
