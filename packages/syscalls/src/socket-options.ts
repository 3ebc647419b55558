/**
 * The SOL_SOCKET options Linux's core socket layer (sk_setsockopt / sk_getsockopt in
 * net/core/sock.c) keeps for every socket, whatever its family, for the sandbox's own sockets
 * (netstack inet and AF_UNIX): SO_DEBUG, SO_DONTROUTE, SO_OOBINLINE, SO_NO_CHECK, SO_PRIORITY,
 * SO_BSDCOMPAT, SO_PASSCRED/SO_PASSSEC/SO_PASSPIDFD (AF_UNIX only: EOPNOTSUPP elsewhere), SO_RCVLOWAT, SO_SNDLOWAT,
 * SO_BINDTODEVICE/SO_BINDTOIFINDEX, SO_PEERNAME, SO_TIMESTAMP(NS) in both forms, SO_MARK,
 * SO_TIMESTAMPING, SO_RXQ_OVFL, SO_WIFI_STATUS, SO_PEEK_OFF, SO_NOFCS,
 * SO_SELECT_ERR_QUEUE, SO_BUSY_POLL, SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET,
 * SO_MAX_PACING_RATE, SO_INCOMING_CPU, SO_CNX_ADVICE, SO_INCOMING_NAPI_ID, SO_COOKIE,
 * SO_PEERGROUPS, SO_ZEROCOPY, SO_NETNS_COOKIE, SO_BUF_LOCK, SO_TXREHASH, SO_RCVMARK.
 *
 * Each is checked and stored as Linux does (capability checks against the calling task, value
 * ranges, the lengths getsockopt insists on) and reported back. Most only change what Linux's
 * lower layers would do with them (routing marks, busy polling, pacing, zero-copy sends, TX
 * timestamps, TX rehashing): those are stored and reported, nothing more. The options with an
 * effect the sandbox honours: SO_BINDTODEVICE/SO_BINDTOIFINDEX on TCP and UDP (the netstack
 * socket receives and sends on that link only and shares its port with sockets of other links:
 * see InetSocket.bindToDevice; on AF_UNIX and ping sockets it is only kept),
 * SO_RCVLOWAT (a blocking stream recv waits for that many bytes, TCP's POLLIN too: see
 * {@link rcvlowatOf} and {@link withRcvlowat}; read(2) does not wait for it yet), SO_PEEK_OFF on
 * AF_UNIX, TCP and UDP (kept by the socket, whose peeks and reads move it), SO_TIMESTAMP/SO_TIMESTAMPNS on datagram
 * sockets (see {@link timestampCmsg}), SO_PASSPIDFD on AF_UNIX (SCM_PIDFD on receive, kept by
 * the socket). SO_INCOMING_CPU reads -1 until set (Linux reports the CPU that last received).
 * The AF_UNIX-only options (SO_PEERPIDFD, SO_PASSRIGHTS, SO_MEMINFO...) are in
 * unix-socket-options.ts, the socket filter ones (SO_LOCK_FILTER...) in socket-filter-options.ts.
 * SO_PEERSEC stays ENOPROTOOPT, as on a kernel without an LSM.
 *
 * @module
 */
import { Capability, E, SockType, SocketLevel, SocketOption, isError, type LinuxError } from '@tsvisor/abi';
import { capable, type Task } from '@tsvisor/kernel';
import { InetSocket, UnixSocket } from '@tsvisor/netstack';
import type { LinkInfo } from './sys-netlink.js';

const SO = SocketOption;
const IFNAMSIZ = 16;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const INT_MAX = 0x7fffffff;
const U16_MAX = 0xffff;
const U64_MAX = (1n << 64n) - 1n;
/** TC_PRIO_INTERACTIVE: the highest SO_PRIORITY an unprivileged socket may ask for. */
const TC_PRIO_INTERACTIVE = 6;
/** TC_PRIO_BULK and TC_PRIO_INTERACTIVE_BULK (TC_PRIO_BESTEFFORT is 0). */
const TC_PRIO_BULK = 2;
const TC_PRIO_INTERACTIVE_BULK = 4;
/** SOCK_SNDBUF_LOCK | SOCK_RCVBUF_LOCK. */
const SOCK_BUF_LOCK_MASK = 3;
/** tcp_rmem[2] / 2: the most SO_RCVLOWAT a TCP socket keeps (tcp_set_rcvlowat). */
const TCP_RCVLOWAT_CAP = 6291456 >> 1;
/** SOF_TIMESTAMPING_*: the flags Linux 6.18 knows (up to SOF_TIMESTAMPING_OPT_RX_FILTER). */
const SOF_TIMESTAMPING_MASK = (1 << 18) - 1;
const SOF_TIMESTAMPING_OPT_ID = 1 << 7;
const SOF_TIMESTAMPING_OPT_ID_TCP = 1 << 16;
const SOF_TIMESTAMPING_BIND_PHC = 1 << 15;

/** What sk_setsockopt/sk_getsockopt keep for one socket. */
interface CoreOptions {
  /** Boolean flags by option number (SO_DEBUG, SO_DONTROUTE, ...). */
  readonly flags: Set<number>;
  priority: number;
  mark: number;
  rcvlowat: number;
  boundDevIf: number;
  busyPollUsec: number;
  busyPollBudget: number;
  maxPacingRate: bigint;
  incomingCpu: number;
  timestamping: number;
  userlocks: number;
  txrehash: number;
  /** Timestamp flags: SOCK_RCVTSTAMP, SOCK_RCVTSTAMPNS, SOCK_TSTAMP_NEW. */
  rcvTstamp: boolean;
  rcvTstampNs: boolean;
  tstampNew: boolean;
  cookie: bigint;
}

const store = new WeakMap<object, CoreOptions>();
let nextCookie = 1n;

function optionsOf(sock: object): CoreOptions {
  let o = store.get(sock);
  if (!o) {
    o = {
      flags: new Set(),
      priority: 0,
      mark: 0,
      rcvlowat: 1,
      boundDevIf: 0,
      busyPollUsec: 0,
      busyPollBudget: 0,
      maxPacingRate: U64_MAX,
      incomingCpu: -1,
      timestamping: 0,
      userlocks: 0,
      txrehash: 1,
      rcvTstamp: false,
      rcvTstampNs: false,
      tstampNew: false,
      cookie: 0n,
    };
    store.set(sock, o);
  }
  return o;
}

/** The options that are a stored boolean and nothing else (sock_valbool_flag). */
const PLAIN_FLAGS: ReadonlySet<number> = new Set([
  SO.SO_DONTROUTE,
  SO.SO_OOBINLINE,
  SO.SO_NO_CHECK,
  SO.SO_RXQ_OVFL,
  SO.SO_WIFI_STATUS,
  SO.SO_NOFCS,
  SO.SO_SELECT_ERR_QUEUE,
  SO.SO_RCVMARK,
  SO.SO_PREFER_BUSY_POLL,
  SO.SO_ZEROCOPY,
]);
/** SO_PASSCRED's siblings that only AF_UNIX (and netlink) sockets take (sk_may_scm_recv). */
const SCM_FLAGS: ReadonlySet<number> = new Set([SO.SO_PASSCRED, SO.SO_PASSSEC, SO.SO_PASSPIDFD]);

/** The options this module answers (see the module comment). */
const HANDLED: ReadonlySet<number> = new Set([
  ...PLAIN_FLAGS,
  ...SCM_FLAGS,
  SO.SO_DEBUG,
  SO.SO_PRIORITY,
  SO.SO_BSDCOMPAT,
  SO.SO_RCVLOWAT,
  SO.SO_SNDLOWAT,
  SO.SO_BINDTODEVICE,
  SO.SO_BINDTOIFINDEX,
  SO.SO_PEERNAME,
  SO.SO_TIMESTAMP_OLD,
  SO.SO_TIMESTAMPNS_OLD,
  SO.SO_TIMESTAMP_NEW,
  SO.SO_TIMESTAMPNS_NEW,
  SO.SO_TIMESTAMPING_OLD,
  SO.SO_TIMESTAMPING_NEW,
  SO.SO_MARK,
  SO.SO_PEEK_OFF,
  SO.SO_BUSY_POLL,
  SO.SO_BUSY_POLL_BUDGET,
  SO.SO_MAX_PACING_RATE,
  SO.SO_INCOMING_CPU,
  SO.SO_CNX_ADVICE,
  SO.SO_INCOMING_NAPI_ID,
  SO.SO_COOKIE,
  SO.SO_PEERGROUPS,
  SO.SO_NETNS_COOKIE,
  SO.SO_BUF_LOCK,
  SO.SO_TXREHASH,
]);

type CoreSocket = InetSocket | UnixSocket;

function isTcp(sock: CoreSocket): boolean {
  return (
    sock instanceof InetSocket &&
    sock.type === SockType.SOCK_STREAM &&
    sock.getsockopt(SocketLevel.SOL_SOCKET, SO.SO_PROTOCOL) === IPPROTO_TCP
  );
}

function isUdp(sock: CoreSocket): boolean {
  return (
    sock instanceof InetSocket &&
    sock.type === SockType.SOCK_DGRAM &&
    sock.getsockopt(SocketLevel.SOL_SOCKET, SO.SO_PROTOCOL) === IPPROTO_UDP
  );
}

function isPing(sock: CoreSocket): boolean {
  if (!(sock instanceof InetSocket)) return false;
  const p = sock.getsockopt(SocketLevel.SOL_SOCKET, SO.SO_PROTOCOL);
  return p === IPPROTO_ICMP || p === IPPROTO_ICMPV6;
}

/** True when `name` is one of the SOL_SOCKET options this module keeps. */
export function isCoreOption(name: number): boolean {
  return HANDLED.has(name);
}

/**
 * setsockopt(SOL_SOCKET, `name`) for an option of this module, in sk_setsockopt's order:
 * SO_BINDTODEVICE reads a name (up to IFNAMSIZ - 1 bytes); every other option needs an int
 * (`EINVAL` below 4 bytes, `EFAULT`), then its own checks. `links` are the sandbox's interfaces.
 */
export function setCoreOption(
  t: Task,
  sock: CoreSocket,
  name: number,
  addr: number,
  optlen: number,
  links: readonly LinkInfo[],
): 0 | LinuxError {
  const o = optionsOf(sock);
  const admin = capable(t.creds, Capability.CAP_NET_ADMIN) || capable(t.creds, Capability.CAP_NET_RAW);
  if (name === SO.SO_BINDTODEVICE) {
    if (optlen < 0) return E.EINVAL;
    const n = Math.min(optlen, IFNAMSIZ - 1);
    const raw = n > 0 ? t.memory.read(addr, n) : new Uint8Array(0);
    if (isError(raw)) return raw;
    const end = raw.indexOf(0);
    const dev = Buffer.from(end < 0 ? raw : raw.subarray(0, end)).toString('latin1');
    let index = 0;
    if (dev !== '') {
      const link = links.find((l) => l.name === dev);
      if (!link) return E.ENODEV;
      index = link.index;
    }
    return bindToIndex(sock, o, index, admin);
  }
  if (optlen < 4) return E.EINVAL;
  const val = t.memory.readI32(addr);
  if (isError(val)) return val;
  const on = val !== 0;
  if (PLAIN_FLAGS.has(name)) {
    if (name === SO.SO_ZEROCOPY) {
      // Only TCP and UDP take MSG_ZEROCOPY (AF_RDS aside).
      if (!(isTcp(sock) || isUdp(sock))) return E.EOPNOTSUPP;
      if (val < 0 || val > 1) return E.EINVAL;
    }
    if (name === SO.SO_PREFER_BUSY_POLL && on && !admin) return E.EPERM;
    setFlag(o, name, on);
    if (name === SO.SO_OOBINLINE && (sock instanceof InetSocket || sock instanceof UnixSocket))
      sock.oobInline = on;
    return 0;
  }
  if (SCM_FLAGS.has(name)) {
    if (!(sock instanceof UnixSocket)) return E.EOPNOTSUPP;
    if (name === SO.SO_PASSCRED) sock.passcred = on;
    else if (name === SO.SO_PASSPIDFD) sock.passpidfd = on;
    else setFlag(o, name, on);
    return 0;
  }
  switch (name) {
    case SO.SO_DEBUG:
      if (on && !admin) return E.EACCES;
      setFlag(o, name, on);
      return 0;
    case SO.SO_PRIORITY:
      // sk_set_prio_allowed: 0 to TC_PRIO_INTERACTIVE, anything with CAP_NET_RAW/CAP_NET_ADMIN.
      if ((val < 0 || val > TC_PRIO_INTERACTIVE) && !admin) return E.EPERM;
      o.priority = val;
      return 0;
    case SO.SO_BSDCOMPAT:
    case SO.SO_CNX_ADVICE:
      // Accepted and ignored (SO_CNX_ADVICE only drops a cached route).
      return 0;
    case SO.SO_RCVLOWAT: {
      let v = val < 0 ? INT_MAX : val;
      if (isTcp(sock)) v = Math.min(v, TCP_RCVLOWAT_CAP);
      o.rcvlowat = v === 0 ? 1 : v;
      return 0;
    }
    case SO.SO_BINDTOIFINDEX:
      return bindToIndex(sock, o, val, admin);
    case SO.SO_TIMESTAMP_OLD:
    case SO.SO_TIMESTAMPNS_OLD:
    case SO.SO_TIMESTAMP_NEW:
    case SO.SO_TIMESTAMPNS_NEW:
      // sock_set_timestamp: the last one set decides the format; off clears both.
      if (on) {
        o.tstampNew = name === SO.SO_TIMESTAMP_NEW || name === SO.SO_TIMESTAMPNS_NEW;
        o.rcvTstampNs = name === SO.SO_TIMESTAMPNS_OLD || name === SO.SO_TIMESTAMPNS_NEW;
        o.rcvTstamp = true;
      } else {
        o.rcvTstamp = false;
        o.rcvTstampNs = false;
      }
      return 0;
    case SO.SO_TIMESTAMPING_OLD:
    case SO.SO_TIMESTAMPING_NEW:
      // sock_set_timestamping: known flags only; OPT_ID_TCP needs OPT_ID; no PTP clock to bind.
      if (val & ~SOF_TIMESTAMPING_MASK) return E.EINVAL;
      if (val & SOF_TIMESTAMPING_OPT_ID_TCP && !(val & SOF_TIMESTAMPING_OPT_ID)) return E.EINVAL;
      if (val & SOF_TIMESTAMPING_BIND_PHC) return E.EINVAL;
      o.timestamping = val;
      o.tstampNew = name === SO.SO_TIMESTAMPING_NEW;
      return 0;
    case SO.SO_MARK:
      if (!admin) return E.EPERM;
      o.mark = val;
      return 0;
    case SO.SO_PEEK_OFF:
      // TCP, UDP(-Lite) and AF_UNIX have set_peek_off and take the offset as given (their
      // peeks and reads move it); ping sockets (inet_sockraw_ops) have none.
      if (isPing(sock)) return E.EOPNOTSUPP;
      sock.peekOff = val;
      return 0;
    case SO.SO_BUSY_POLL:
      // Linux 6.18 lets anyone raise it (no CAP_NET_ADMIN check any more).
      if (val < 0) return E.EINVAL;
      o.busyPollUsec = val;
      return 0;
    case SO.SO_BUSY_POLL_BUDGET:
      if (val > o.busyPollBudget && !admin) return E.EPERM;
      if (val < 0 || val > U16_MAX) return E.EINVAL;
      o.busyPollBudget = val;
      return 0;
    case SO.SO_MAX_PACING_RATE: {
      // An int, or an unsigned long when optlen allows one; ~0U means "no limit" (~0UL).
      let rate = val === -1 ? U64_MAX : BigInt(val >>> 0);
      if (optlen >= 8) {
        const raw = t.memory.read(addr, 8);
        if (isError(raw)) return raw;
        rate = new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0, true);
      }
      o.maxPacingRate = rate;
      return 0;
    }
    case SO.SO_INCOMING_CPU:
      o.incomingCpu = val;
      return 0;
    case SO.SO_BUF_LOCK:
      if (val & ~SOCK_BUF_LOCK_MASK) return E.EINVAL;
      o.userlocks = (o.userlocks & ~SOCK_BUF_LOCK_MASK) | val;
      return 0;
    case SO.SO_TXREHASH:
      if (!isTcp(sock)) return E.EOPNOTSUPP;
      if (val < -1 || val > 1) return E.EINVAL;
      // -1 (SOCK_TXREHASH_DEFAULT) takes net.core.txrehash, 1 by default.
      o.txrehash = val === -1 ? 1 : val;
      return 0;
    default:
      // The read-only ones: SO_SNDLOWAT, SO_PEERNAME, SO_INCOMING_NAPI_ID, SO_COOKIE,
      // SO_PEERGROUPS, SO_NETNS_COOKIE.
      return E.ENOPROTOOPT;
  }
}

function setFlag(o: CoreOptions, name: number, on: boolean): void {
  if (on) o.flags.add(name);
  else o.flags.delete(name);
}

/** sock_bindtoindex_locked: changing a binding needs CAP_NET_RAW; the index is not looked up. */
function bindToIndex(sock: CoreSocket, o: CoreOptions, index: number, admin: boolean): 0 | LinuxError {
  if (boundDevIf(sock, o) !== 0 && !admin) return E.EPERM;
  // A netstack socket is tied to the link (what it receives, where it sends, port sharing).
  if (sock instanceof InetSocket) return sock.bindToDevice(index);
  if (index < 0) return E.EINVAL;
  o.boundDevIf = index;
  return 0;
}

/** SO_BINDTODEVICE's ifindex: a netstack socket keeps it itself, an AF_UNIX one here. */
function boundDevIf(sock: CoreSocket, o: CoreOptions): number {
  return sock instanceof InetSocket ? sock.boundDevice : o.boundDevIf;
}

/** SO_SNDBUF/SO_RCVBUF(FORCE) set a lock bit that SO_BUF_LOCK reports (SOCK_SNDBUF_LOCK, SOCK_RCVBUF_LOCK). */
/**
 * IP_TOS changed a socket's TOS byte from `before` to `after`: its SO_PRIORITY becomes the
 * priority of that TOS (__ip_sock_set_tos with rt_tos2priority: the RFC 1349 bits 0x1e pick
 * best effort, bulk, interactive or interactive bulk). Nothing changes when the byte did not.
 */
export function noteTosSet(sock: object, before: number, after: number): void {
  if (before === after) return;
  const bits = after & 0x1e;
  optionsOf(sock).priority =
    bits >= 0x18
      ? TC_PRIO_INTERACTIVE_BULK
      : bits >= 0x10
        ? TC_PRIO_INTERACTIVE
        : bits >= 0x08
          ? TC_PRIO_BULK
          : 0;
}

export function noteBufferSet(sock: object, name: number): void {
  const o = optionsOf(sock);
  o.userlocks |= name === SO.SO_SNDBUF || name === SO.SO_SNDBUFFORCE ? 1 : 2;
}

function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}

/**
 * getsockopt(SOL_SOCKET, `name`) for an option of this module: the value's bytes (the caller
 * cuts them to `len`), or the errno. `peer` gives the peer's address for SO_PEERNAME.
 * SO_PEERGROUPS with too small a buffer stores the length it needs through `storeLen` and
 * answers ERANGE, as Linux does.
 */
export function getCoreOption(
  t: Task,
  sock: CoreSocket,
  name: number,
  len: number,
  links: readonly LinkInfo[],
  peer: () => Uint8Array | LinuxError,
  storeLen: (n: number) => LinuxError | undefined,
): Uint8Array | LinuxError {
  const o = optionsOf(sock);
  if (PLAIN_FLAGS.has(name) || name === SO.SO_DEBUG) return int32(o.flags.has(name) ? 1 : 0);
  if (SCM_FLAGS.has(name)) {
    if (!(sock instanceof UnixSocket)) return E.EOPNOTSUPP;
    const on =
      name === SO.SO_PASSCRED ? sock.passcred : name === SO.SO_PASSPIDFD ? sock.passpidfd : o.flags.has(name);
    return int32(on ? 1 : 0);
  }
  switch (name) {
    case SO.SO_PRIORITY:
      return int32(o.priority);
    case SO.SO_BSDCOMPAT:
      return int32(0);
    case SO.SO_RCVLOWAT:
      return int32(o.rcvlowat);
    case SO.SO_SNDLOWAT:
      return int32(1);
    case SO.SO_BINDTODEVICE: {
      // sock_getbindtodevice: unbound gives length 0; else room for any name is required.
      const bound = boundDevIf(sock, o);
      if (bound === 0) return new Uint8Array(0);
      if (len < IFNAMSIZ) return E.EINVAL;
      const link = links.find((l) => l.index === bound);
      if (!link) return E.ENODEV;
      return Uint8Array.from(Buffer.from(`${link.name}\0`, 'latin1'));
    }
    case SO.SO_BINDTOIFINDEX:
      return int32(boundDevIf(sock, o));
    case SO.SO_PEERNAME: {
      // The whole address or nothing: a buffer longer than the address is EINVAL.
      const p = peer();
      if (isError(p)) return E.ENOTCONN;
      if (p.length < len) return E.EINVAL;
      return p;
    }
    case SO.SO_TIMESTAMP_OLD:
      return int32(o.rcvTstamp && !o.tstampNew && !o.rcvTstampNs ? 1 : 0);
    case SO.SO_TIMESTAMP_NEW:
      return int32(o.rcvTstamp && o.tstampNew && !o.rcvTstampNs ? 1 : 0);
    case SO.SO_TIMESTAMPNS_OLD:
      return int32(o.rcvTstampNs && !o.tstampNew ? 1 : 0);
    case SO.SO_TIMESTAMPNS_NEW:
      return int32(o.rcvTstampNs && o.tstampNew ? 1 : 0);
    case SO.SO_TIMESTAMPING_OLD:
    case SO.SO_TIMESTAMPING_NEW: {
      // struct so_timestamping { int flags; int bind_phc; }
      const b = new Uint8Array(8);
      new DataView(b.buffer).setInt32(0, o.timestamping, true);
      return b;
    }
    case SO.SO_MARK:
      return int32(o.mark);
    case SO.SO_PEEK_OFF:
      return isPing(sock) ? E.EOPNOTSUPP : int32(sock.peekOff);
    case SO.SO_BUSY_POLL:
      return int32(o.busyPollUsec);
    case SO.SO_MAX_PACING_RATE:
      // An unsigned long when the buffer holds one, else the rate capped at ~0U.
      if (len >= 8) return u64(o.maxPacingRate);
      return int32(Number(o.maxPacingRate > 0xffffffffn ? 0xffffffffn : o.maxPacingRate) | 0);
    case SO.SO_INCOMING_CPU:
      return int32(o.incomingCpu);
    case SO.SO_INCOMING_NAPI_ID:
      return int32(0);
    case SO.SO_COOKIE:
      if (len < 8) return E.EINVAL;
      // sock_gen_cookie: a number unique to the socket, made on first use.
      if (o.cookie === 0n) o.cookie = nextCookie++;
      return u64(o.cookie);
    case SO.SO_NETNS_COOKIE:
      if (len !== 8) return E.EINVAL;
      return u64(1n); // the sandbox's one network namespace
    case SO.SO_PEERGROUPS: {
      const groups = sock instanceof UnixSocket ? sock.peerGroups() : undefined;
      if (!groups) return E.ENODATA;
      const need = groups.length * 4;
      if (len < need) return storeLen(need) ?? E.ERANGE;
      const b = new Uint8Array(need);
      const dv = new DataView(b.buffer);
      groups.forEach((g, i) => dv.setUint32(i * 4, g, true));
      return b;
    }
    case SO.SO_BUF_LOCK:
      return int32(o.userlocks & SOCK_BUF_LOCK_MASK);
    case SO.SO_TXREHASH:
      if (!isTcp(sock)) return E.EOPNOTSUPP;
      return int32(o.txrehash);
    default:
      // SO_CNX_ADVICE, SO_BUSY_POLL_BUDGET: write-only.
      return E.ENOPROTOOPT;
  }
}

/**
 * SO_RCVLOWAT of a netstack socket: how many bytes a blocking stream receive waits for before
 * it returns (sock_rcvlowat: at most the buffer's length; MSG_WAITALL waits for all of it anyway).
 */
export function rcvlowatOf(sock: object): number {
  return store.get(sock)?.rcvlowat ?? 1;
}

const POLLIN = 0x1;
const POLLRDNORM = 0x40;
const POLLHUP = 0x10;
const POLLRDHUP = 0x2000;

/**
 * A socket's poll events with SO_RCVLOWAT applied, as tcp_poll does: a TCP socket is readable
 * once that many bytes are queued (or the peer closed); other sockets are readable with any.
 */
export function withRcvlowat(sock: object, events: number): number {
  const lowat = store.get(sock)?.rcvlowat ?? 1;
  if (lowat <= 1 || !(events & POLLIN) || events & (POLLHUP | POLLRDHUP)) return events;
  if (!(sock instanceof InetSocket) || sock.type !== SockType.SOCK_STREAM) return events;
  const queued = sock.inq();
  return typeof queued === 'number' && queued < lowat ? events & ~(POLLIN | POLLRDNORM) : events;
}

/**
 * The SO_TIMESTAMP/SO_TIMESTAMPNS control message of a received datagram (UDP, AF_UNIX
 * datagram and seqpacket: __sock_recv_timestamp), in the form last asked for (SCM_TIMESTAMP's
 * timeval or SCM_TIMESTAMPNS's timespec, "OLD" or 64-bit "NEW" type numbers, one layout on
 * x86-64); undefined when off. netstack keeps no arrival time per datagram, so the stamp is the
 * realtime clock at the receive, `nowNs`: later than Linux's by how long the datagram waited.
 */
export function timestampCmsg(sock: object, nowNs: bigint): { type: number; data: Uint8Array } | undefined {
  const o = store.get(sock);
  if (!o?.rcvTstamp) return undefined;
  if (!(sock instanceof InetSocket || sock instanceof UnixSocket) || sock.type === SockType.SOCK_STREAM)
    return undefined;
  const data = new Uint8Array(16);
  const dv = new DataView(data.buffer);
  dv.setBigInt64(0, nowNs / 1_000_000_000n, true);
  const frac = nowNs % 1_000_000_000n;
  if (o.rcvTstampNs) {
    dv.setBigInt64(8, frac, true);
    return { type: o.tstampNew ? SO.SO_TIMESTAMPNS_NEW : SO.SO_TIMESTAMPNS_OLD, data };
  }
  dv.setBigInt64(8, frac / 1000n, true);
  return { type: o.tstampNew ? SO.SO_TIMESTAMP_NEW : SO.SO_TIMESTAMP_OLD, data };
}

/**
 * What sock_diag reports of a socket's core state: its cookie (made now if it has none, as
 * sock_diag_save_cookie does, and the same SO_COOKIE gives), sk_userlocks (SOCK_BINDPORT_LOCK
 * once bind(2) named a port), sk_mark and sk_priority.
 */
export function diagCoreFacts(sock: object): {
  cookie: bigint;
  userlocks: number;
  mark: number;
  priority: number;
} {
  const o = optionsOf(sock);
  if (o.cookie === 0n) o.cookie = nextCookie++;
  return { cookie: o.cookie, userlocks: o.userlocks, mark: o.mark, priority: o.priority };
}

/** SOCK_BINDPORT_LOCK: bind(2) named a port (inet_bind); sock_diag's AUTO condition. */
const SOCK_BINDPORT_LOCK = 8;

/** bind(2) of an inet socket to `port`: a nonzero port locks it (sk_userlocks), as inet_bind. */
export function noteBindPort(sock: object, port: number): void {
  if (port !== 0) optionsOf(sock).userlocks |= SOCK_BINDPORT_LOCK;
}

/**
 * A TCP socket from accept is a clone of its listener (sk_clone_lock) and starts with its core
 * options, but for its own cookie and SO_PRIORITY, which Linux 6.18 leaves at 0 on the child
 * (seen natively by testdata/sock-options.c).
 */
export function inheritCoreOptions(listener: object, child: object): void {
  const from = store.get(listener);
  if (!from) return;
  // sk_clone_lock drops SOCK_BINDPORT_LOCK: the child did not bind.
  const userlocks = from.userlocks & ~SOCK_BINDPORT_LOCK;
  store.set(child, { ...from, flags: new Set(from.flags), cookie: 0n, priority: 0, userlocks });
}
