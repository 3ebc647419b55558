/**
 * NETLINK_SOCK_DIAG: the socket monitoring interface `ss` speaks (net/core/sock_diag.c,
 * net/ipv4/inet_diag.c, tcp_diag.c, udp_diag.c, raw_diag.c, net/unix/diag.c). SOCK_DIAG_BY_FAMILY
 * requests dump (NLM_F_DUMP) or look up one socket by its address and cookie:
 *
 * - AF_INET / AF_INET6 with IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE and IPPROTO_RAW: one
 *   inet_diag_msg per socket with its state, addresses, queues as Linux computes them per state,
 *   owner, inode and cookie, and the attributes Linux 6.18 sends: always INET_DIAG_SHUTDOWN,
 *   INET_DIAG_SKV6ONLY (AF_INET6 listeners and closed sockets), INET_DIAG_MARK (with CAP_NET_ADMIN),
 *   INET_DIAG_CGROUP_ID and INET_DIAG_SOCKOPT; by idiag_ext INET_DIAG_TOS, INET_DIAG_TCLASS with
 *   INET_DIAG_CLASS_ID, INET_DIAG_MEMINFO, INET_DIAG_SKMEMINFO (SO_MEMINFO's words), and for TCP
 *   INET_DIAG_INFO (the bytes getsockopt TCP_INFO gives) and INET_DIAG_CONG. The congestion
 *   controls netstack offers (cubic, reno) have no get_info, so no VEGASINFO/BBRINFO is sent,
 *   as on Linux for them. Raw sockets add INET_DIAG_PROTOCOL. A TIME_WAIT connection is the bare
 *   message (timer 3) and INET_DIAG_MARK, as inet_twsk_diag_fill.
 * - INET_DIAG_REQ_BYTECODE filters, validated as inet_diag_bc_audit (EINVAL, EPERM for
 *   MARK_COND without CAP_NET_ADMIN) and run as inet_diag_bc_run.
 * - AF_UNIX: unix_diag_msg with UNIX_DIAG_NAME, VFS, PEER, ICONS, RQLEN, MEMINFO, SHUTDOWN and
 *   UID as udiag_show asks, filtered by udiag_states; exact lookups by inode and cookie.
 * - SOCK_DESTROY (`ss -K`, CONFIG_INET_DIAG_DESTROY) aborts the socket its protocol's lookup
 *   finds, with CAP_NET_ADMIN, reporting ECONNABORTED to the application: a TCP connection
 *   (tcp_abort: a RST for the peer), a TCP listener (it stops listening, its queued connections
 *   are reset), a UDP socket (udp_abort: disconnected, an automatic port released) and a raw
 *   socket (raw_abort: out of the raw table). UDP-Lite answers EOPNOTSUPP as on Linux; ping
 *   sockets have no inet_diag handler (ENOENT); AF_UNIX has no destroy on Linux either. Other
 *   families (AF_NETLINK, AF_PACKET: `ss` then reads /proc/net) answer ENOENT, families >=
 *   AF_MAX EINVAL, a message type other than SOCK_DIAG_BY_FAMILY, SOCK_DESTROY and the old
 *   TCPDIAG_GETSOCK (struct inet_diag_req: both families at once) EINVAL.
 *
 * The sockets are the ones /proc/net lists (sys-socket-proc.ts's enumeration). A connection no
 * file holds (waiting for accept, or closed by the application and finishing) is listed with
 * its addresses, state and queues, but netstack gives no handle on it to read TCP_INFO or its
 * options from: it has no INET_DIAG_INFO or INET_DIAG_CONG and shows default options.
 * AF_UNIX peers, pending connections, backlogs and shutdown state come from UnixSocket's
 * `peerSocket`, `pendingConnections`, `listenBacklog` and `shutdownMask`.
 *
 * In network mode `host` the inet sockets are host sockets: they are described from what the
 * host says of them (the /proc/net code's facts: addresses, TCP_INFO, queues; the host's
 * SO_COOKIE and options), listing the sandbox's own open host sockets only, as /proc/net does
 * there: connections the sandbox closed and connections waiting for accept on the host are not.
 *
 * Timers: idiag_timer, idiag_retrans and idiag_expires are the connection's pending timer as
 * netstack keeps it (TcpSocket.pendingTimer, shared with /proc/net/tcp through `tcpTimer`):
 * retransmission, zero window probe, keepalive, or the end of TIME_WAIT.
 *
 * @module
 */
import { AddressFamily, E, isError, PollEvent, SockType, type LinuxError, type Sockaddr } from '@tsvisor/abi';
import type { Kernel } from '@tsvisor/kernel';
import { InetSocket, UnixSocket, type TcpSocket, type TcpTimeWait } from '@tsvisor/netstack';
import { diagCoreFacts } from './socket-options.js';
import { inetSocketEntries, hostSocketFacts, tcpTimer, type DiagInetEntry } from './sys-socket-proc.js';
import type { NetState } from './sys-socket-file.js';
import { openHostSockets } from './sys-socket-host.js';
import { MessageWriter, netlinkAttrs, type SockDiagHandler, type SockDiagRequest } from './sys-netlink.js';

const SOCK_DIAG_BY_FAMILY = 20;
const SOCK_DESTROY = 21;
const AF_MAX = 46;
const NLM_F_MULTI = 0x2;

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_UDPLITE = 136;
const IPPROTO_RAW = 255;

const INET_DIAG_REQ_V2_LEN = 56;
const INET_DIAG_MSG_LEN = 72;
const INET_DIAG_REQ_BYTECODE = 1;
const INET_DIAG_REQ_PROTOCOL = 3;
/** INET_DIAG_NOCOOKIE: a lookup that does not check the cookie. */
const NOCOOKIE = 0xffffffff;

const INET_DIAG_MEMINFO = 1;
const INET_DIAG_INFO = 2;
const INET_DIAG_CONG = 4;
const INET_DIAG_TOS = 5;
const INET_DIAG_TCLASS = 6;
const INET_DIAG_SKMEMINFO = 7;
const INET_DIAG_SHUTDOWN = 8;
const INET_DIAG_PROTOCOL = 10;
const INET_DIAG_SKV6ONLY = 11;
const INET_DIAG_MARK = 15;
const INET_DIAG_CLASS_ID = 17;
const INET_DIAG_CGROUP_ID = 21;
const INET_DIAG_SOCKOPT = 22;

const TCP_ESTABLISHED = 1;
const TCP_SYN_RECV = 3;
const TCP_FIN_WAIT1 = 4;
const TCP_FIN_WAIT2 = 5;
const TCP_TIME_WAIT = 6;
const TCP_CLOSE = 7;
const TCP_CLOSE_WAIT = 8;
const TCP_LAST_ACK = 9;
const TCP_LISTEN = 10;
const TCP_CLOSING = 11;
const TCP_NEW_SYN_RECV = 12;
const RCV_SHUTDOWN = 1;
const SEND_SHUTDOWN = 2;
/** SOCK_BINDPORT_LOCK: bind(2) named a port (the AUTO condition is its absence). */
const SOCK_BINDPORT_LOCK = 8;
/** The cgroup id sockets are charged to: the sandbox's root cgroup (cgroup2's root id is 1). */
const ROOT_CGROUP_ID = 1n;

const SOL_IP = 0;
const SOL_IPV6 = 41;
const SOL_TCP = 6;
const SOL_SOCKET = 1;
const IP_TOS = 1;
const IP_HDRINCL = 3;
const IP_RECVERR = 11;
const IP_FREEBIND = 15;
const IP_TRANSPARENT = 19;
const IP_NODEFRAG = 22;
const IP_BIND_ADDRESS_NO_PORT = 24;
const IP_RECVERR_RFC4884 = 26;
const IP_MULTICAST_LOOP = 34;
const IP_MULTICAST_ALL = 49;
const IPV6_V6ONLY = 26;
const IPV6_TCLASS = 67;
const TCP_INFO = 11;
const TCP_CONGESTION = 13;
const TCP_FASTOPEN_CONNECT = 30;
const SO_MEMINFO = 55;
const SO_COOKIE = 57;
const SK_MEMINFO_LEN = 36;

const BC_NOP = 0;
const BC_JMP = 1;
const BC_S_GE = 2;
const BC_S_LE = 3;
const BC_D_GE = 4;
const BC_D_LE = 5;
const BC_AUTO = 6;
const BC_S_COND = 7;
const BC_D_COND = 8;
const BC_DEV_COND = 9;
const BC_MARK_COND = 10;
const BC_S_EQ = 11;
const BC_D_EQ = 12;
const BC_CGROUP_COND = 13;

const UNIX_DIAG_REQ_LEN = 24;
const UNIX_DIAG_MSG_LEN = 16;
const UDIAG_SHOW_NAME = 0x1;
const UDIAG_SHOW_VFS = 0x2;
const UDIAG_SHOW_PEER = 0x4;
const UDIAG_SHOW_ICONS = 0x8;
const UDIAG_SHOW_RQLEN = 0x10;
const UDIAG_SHOW_MEMINFO = 0x20;
const UDIAG_SHOW_UID = 0x40;
const UNIX_DIAG_NAME = 0;
const UNIX_DIAG_VFS = 1;
const UNIX_DIAG_PEER = 2;
const UNIX_DIAG_ICONS = 3;
const UNIX_DIAG_RQLEN = 4;
const UNIX_DIAG_MEMINFO = 5;
const UNIX_DIAG_SHUTDOWN = 6;
const UNIX_DIAG_UID = 7;

// ---- the inet sockets as inet_diag sees them ---------------------------------------------------

/** One inet socket as inet_diag describes it. */
interface InetDiagSocket {
  /** sk_family: AF_INET or AF_INET6. */
  readonly family: number;
  readonly protocol: number;
  readonly state: number;
  /** Addresses as the message carries them: 4 bytes for AF_INET, 16 (v4-mapped too) for AF_INET6. */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly sport: number;
  readonly dport: number;
  readonly ifindex: number;
  readonly timer: number;
  /** idiag_retrans: retransmissions under timer 1, probes under 2 and 4. */
  readonly retrans: number;
  readonly expires: number;
  readonly rqueue: number;
  readonly wqueue: number;
  readonly uid: number;
  readonly inode: number;
  readonly cookie: bigint;
  /** sk_userlocks (SOCK_BINDPORT_LOCK for the AUTO condition) and sk_mark. */
  readonly userlocks: number;
  readonly mark: number;
  /** A full socket's attributes; undefined for a TIME_WAIT connection. */
  readonly full?: FullSocket;
  /** netstack's connection, for SOCK_DESTROY (none for a listener or a host socket). */
  readonly conn?: TcpSocket | TcpTimeWait;
  /** The socket-layer object while the application holds it, for SOCK_DESTROY of the others. */
  readonly owner?: InetSocket;
}

/** What a full socket (not a TIME_WAIT minisock) adds to its message. */
interface FullSocket {
  readonly shutdown: number;
  readonly priority: number;
  /** getsockopt's bytes, or undefined when the socket cannot answer (the default is used). */
  opt(level: number, name: number, len: number): Uint8Array | undefined;
}

/** Per-sandbox memory of connections that have no socket object of their own any more. */
interface DiagMemory {
  /** Cookies by connection 4-tuple (a TIME_WAIT connection keeps its socket's cookie). */
  readonly cookies: Map<string, bigint>;
}

const memories = new WeakMap<NetState, DiagMemory>();
function memoryOf(net: NetState): DiagMemory {
  let m = memories.get(net);
  if (!m) {
    m = { cookies: new Map() };
    memories.set(net, m);
  }
  return m;
}

/**
 * sock_gen_cookie for a connection without a socket object: one per 4-tuple while it lives,
 * counted apart from socket-options' cookies (which start at 1) so that the two never meet.
 */
let nextOrphanCookie = 1n << 40n;

function tupleKey(protocol: number, family: number, e: DiagInetEntry): string {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  return `${protocol}/${family} ${hex(e.local.address)}:${e.local.port} ${hex(e.remote.address)}:${e.remote.port}`;
}

function int32(b: Uint8Array | undefined): number | undefined {
  if (!b || b.length < 4) return b && b.length === 1 ? b[0] : undefined;
  return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
}

const PROTO_NAME = {
  [IPPROTO_TCP]: 'tcp',
  [IPPROTO_UDP]: 'udp',
  [IPPROTO_UDPLITE]: 'udplite',
  [IPPROTO_RAW]: 'raw',
} as const;

/** The sandbox's inet sockets of one protocol and family, as inet_diag lists them (netstack). */
function stackSockets(net: NetState, protocol: number, family: 4 | 6): InetDiagSocket[] {
  const name = PROTO_NAME[protocol as keyof typeof PROTO_NAME];
  if (!name) return [];
  const mem = memoryOf(net);
  const now = performance.now();
  const out: InetDiagSocket[] = [];
  const seen = new Set<string>();
  for (const e of inetSocketEntries(net, name, family)) {
    const af = family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
    const key = tupleKey(protocol, af, e);
    seen.add(key);
    const owner = e.owner instanceof InetSocket ? e.owner : undefined;
    let cookie: bigint;
    let full: FullSocket | undefined;
    let userlocks = 0;
    let mark = 0;
    let ifindex = 0;
    if (owner) {
      const core = diagCoreFacts(owner);
      cookie = core.cookie;
      if (protocol === IPPROTO_TCP) mem.cookies.set(key, cookie);
      userlocks = core.userlocks;
      mark = core.mark;
      ifindex = owner.boundDevice;
      // In TIME_WAIT Linux lists the timewait sock that took the socket's place (with its
      // cookie), not the socket the file still holds.
      if (e.state !== TCP_TIME_WAIT) full = ownedSocket(owner, e, core.priority);
    } else {
      cookie = mem.cookies.get(key) ?? nextOrphanCookie++;
      mem.cookies.set(key, cookie);
      // A handshake in progress is a request sock on Linux (inet_req_diag_fill): like a
      // TIME_WAIT one, the bare message.
      if (e.state !== TCP_TIME_WAIT && e.state !== TCP_SYN_RECV) full = ownerlessSocket(e.state);
    }
    // The connection's pending timer (inet_sk_diag_fill; a timewait or request sock's own).
    const t = e.entry.tcp ? tcpTimer(e.entry.tcp, now) : { kind: 0, ms: 0, count: 0 };
    const timer = t.kind;
    const expires = Math.round(t.ms);
    const retrans = t.count;
    // A minisock (timewait or request sock) has no queues, owner or inode.
    const mini = e.state === TCP_TIME_WAIT || (!owner && e.state === TCP_SYN_RECV);
    out.push({
      family: af,
      protocol,
      state: e.state,
      src: e.local.address,
      dst: e.remote.address,
      // A raw socket's "port" is its protocol (inet_sport = htons(inet_num)); it has no peer port.
      sport: e.local.port,
      dport: protocol === IPPROTO_RAW ? 0 : e.remote.port,
      ifindex,
      timer,
      retrans,
      expires,
      rqueue: mini ? 0 : e.rxQueue,
      wqueue: mini ? 0 : e.txQueue,
      uid: mini ? 0 : e.uid,
      inode: mini ? 0 : e.inode,
      cookie,
      userlocks,
      mark,
      ...(full ? { full } : {}),
      ...(e.entry.tcp ? { conn: e.entry.tcp } : {}),
      ...(owner ? { owner } : {}),
    });
  }
  // Forget the cookies of connections that are gone.
  const prefix = `${protocol}/${family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6} `;
  for (const key of mem.cookies.keys()) if (key.startsWith(prefix) && !seen.has(key)) mem.cookies.delete(key);
  return out;
}

/** sk_shutdown of a TCP connection from its state (the FINs sent and received). */
function tcpShutdownOf(state: number): number {
  let s = 0;
  if (state === TCP_CLOSE_WAIT || state === TCP_LAST_ACK || state === TCP_CLOSING || state === TCP_TIME_WAIT)
    s |= RCV_SHUTDOWN;
  if (
    state === TCP_FIN_WAIT1 ||
    state === TCP_FIN_WAIT2 ||
    state === TCP_CLOSING ||
    state === TCP_LAST_ACK ||
    state === TCP_TIME_WAIT
  )
    s |= SEND_SHUTDOWN;
  return s;
}

function ownedSocket(s: InetSocket, e: DiagInetEntry, priority: number): FullSocket {
  let shutdown = s.type === SockType.SOCK_STREAM ? tcpShutdownOf(e.state) : 0;
  // shutdown(SHUT_RD) and a peer's FIN show as POLLRDHUP.
  if ((s.readiness() & PollEvent.POLLRDHUP) !== 0) shutdown |= RCV_SHUTDOWN;
  return {
    shutdown,
    priority,
    opt: (level, name, len) => {
      const r = s.getsockoptBytes(level, name, len);
      if (isError(r)) return undefined;
      return r;
    },
  };
}

/**
 * A connection no file holds (waiting for accept(2), or closed by the application and finishing):
 * netstack gives no handle on it beyond its /proc figures, so its options read as a fresh
 * socket's and it has no TCP_INFO or congestion control to show.
 */
function ownerlessSocket(state: number): FullSocket {
  return { shutdown: tcpShutdownOf(state), priority: 0, opt: () => undefined };
}

/** The sandbox's host sockets (network mode `host`) of one protocol and family. */
function hostSockets(kernel: Kernel, protocol: number, family: 4 | 6): InetDiagSocket[] | undefined {
  const host = openHostSockets(kernel);
  if (!host) return undefined;
  const out: InetDiagSocket[] = [];
  const af = family === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
  for (const h of host) {
    if (h.domain !== af) continue;
    const f = hostSocketFacts(h);
    if (f.protocol !== protocol || (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP)) continue;
    const local = hostSockaddr(f.local, af);
    if (!local) continue;
    const remote = hostSockaddr(f.remote, af) ?? { address: new Uint8Array(family === 4 ? 4 : 16), port: 0 };
    let state: number;
    let rqueue: number;
    let wqueue: number;
    const info = f.tcpInfo !== undefined && !isError(f.tcpInfo) ? f.tcpInfo : undefined;
    if (protocol === IPPROTO_TCP) {
      if (!info || info.length < 84) continue;
      state = info[0]!;
      if (state === TCP_CLOSE) continue;
      const listen = state === TCP_LISTEN;
      rqueue = listen ? new DataView(info.buffer, info.byteOffset).getUint32(24, true) : count(f.inq);
      wqueue = listen ? new DataView(info.buffer, info.byteOffset).getUint32(28, true) : count(f.outq);
    } else {
      if (local.port === 0) continue;
      state = remote.port !== 0 ? TCP_ESTABLISHED : TCP_CLOSE;
      // udp_diag_get_info: the memory charged to the socket (SO_MEMINFO's rmem and wmem alloc).
      const mem =
        f.memInfo !== undefined && !isError(f.memInfo) && f.memInfo.length >= 12 ? f.memInfo : undefined;
      const mv = mem && new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
      rqueue = mv ? mv.getUint32(0, true) : count(f.inq);
      wqueue = mv ? mv.getUint32(8, true) : count(f.outq);
    }
    // The host's own SO_COOKIE (stable and unique as the host keeps it), else one of ours.
    const hostOpt = (level: number, name: number, len: number): Uint8Array | undefined => {
      const buf = new Uint8Array(len);
      const n = h.calls.getsockopt(h.fd, level, name, buf);
      return isError(n) ? undefined : buf.subarray(0, Math.min(n, len));
    };
    const c = hostOpt(SOL_SOCKET, SO_COOKIE, 8);
    const cookie =
      c && c.length === 8
        ? new DataView(c.buffer, c.byteOffset).getBigUint64(0, true)
        : diagCoreFacts(h).cookie;
    out.push({
      family: af,
      protocol,
      state,
      src: local.address,
      dst: state === TCP_LISTEN ? new Uint8Array(local.address.length) : remote.address,
      sport: local.port,
      dport: state === TCP_LISTEN ? 0 : remote.port,
      ifindex: 0,
      timer: 0,
      retrans: 0,
      expires: 0,
      rqueue,
      wqueue,
      uid: f.uid,
      inode: f.inode,
      cookie,
      userlocks: 0,
      mark: 0,
      full: {
        shutdown: protocol === IPPROTO_TCP ? tcpShutdownOf(state) : 0,
        priority: 0,
        // Reading an option of the host socket changes nothing; the host answers as it would.
        opt: (level, name, len) =>
          level === SOL_TCP && name === TCP_INFO ? info : hostOpt(level, name, len),
      },
    });
  }
  return out;
}

function count(v: number | LinuxError): number {
  return typeof v === 'number' && v > 0 ? v : 0;
}

/** A host sockaddr as the message's address of a socket of family `af`, or undefined. */
function hostSockaddr(
  sa: Uint8Array | LinuxError,
  af: number,
): { address: Uint8Array; port: number } | undefined {
  if (isError(sa) || sa.length < 8) return undefined;
  const family = sa[0]! | (sa[1]! << 8);
  const port = (sa[2]! << 8) | sa[3]!;
  if (family === AddressFamily.AF_INET && af === AddressFamily.AF_INET)
    return { address: sa.slice(4, 8), port };
  if (family === AddressFamily.AF_INET6 && af === AddressFamily.AF_INET6 && sa.length >= 24)
    return { address: sa.slice(8, 24), port };
  return undefined;
}

// ---- bytecode -------------------------------------------------------------------------------------

/**
 * inet_diag_bc_audit: every op's jumps land on an op boundary or just past the end (reject),
 * conditions have their operands, and MARK_COND needs CAP_NET_ADMIN (EPERM).
 */
export function auditBytecode(bc: Uint8Array, netAdmin: boolean): 0 | LinuxError {
  if (bc.length < 4) return E.EINVAL;
  const dv = new DataView(bc.buffer, bc.byteOffset, bc.byteLength);
  /** valid_cc: a jump target `cc` bytes before the end is reached by walking the `yes` chain. */
  const validCc = (cc: number): boolean => {
    let off = 0;
    let len = bc.length;
    while (len >= 0) {
      if (cc > len) return false;
      if (cc === len) return true;
      // A chain that runs into a partial op never reaches the target (Linux reads on into the
      // message there; nothing it finds can make the bytecode valid).
      if (off + 4 > bc.length) return false;
      const yes = dv.getUint8(off + 1);
      if (yes < 4 || (yes & 3) !== 0) return false;
      len -= yes;
      off += yes;
    }
    return false;
  };
  let off = 0;
  let len = bc.length;
  while (len > 0) {
    if (len < 4) return E.EINVAL;
    const code = dv.getUint8(off);
    const yes = dv.getUint8(off + 1);
    const no = dv.getUint16(off + 2, true);
    let minLen = 4;
    switch (code) {
      case BC_S_COND:
      case BC_D_COND: {
        minLen += 8;
        if (len < minLen) return E.EINVAL;
        const family = dv.getUint8(off + 4);
        const prefix = dv.getUint8(off + 5);
        const addrLen =
          family === AddressFamily.AF_UNSPEC
            ? 0
            : family === AddressFamily.AF_INET
              ? 4
              : family === AddressFamily.AF_INET6
                ? 16
                : -1;
        if (addrLen < 0) return E.EINVAL;
        minLen += addrLen;
        if (len < minLen || prefix > 8 * addrLen) return E.EINVAL;
        break;
      }
      case BC_DEV_COND:
        minLen += 4;
        if (len < minLen) return E.EINVAL;
        break;
      case BC_S_EQ:
      case BC_S_GE:
      case BC_S_LE:
      case BC_D_EQ:
      case BC_D_GE:
      case BC_D_LE:
        minLen += 4;
        if (len < minLen) return E.EINVAL;
        break;
      case BC_MARK_COND:
        if (!netAdmin) return E.EPERM;
        minLen += 8;
        if (len < minLen) return E.EINVAL;
        break;
      case BC_CGROUP_COND:
        minLen += 8;
        if (len < minLen) return E.EINVAL;
        break;
      case BC_AUTO:
      case BC_JMP:
      case BC_NOP:
        break;
      default:
        return E.EINVAL;
    }
    if (code !== BC_NOP) {
      if (no < minLen || no > len + 4 || (no & 3) !== 0) return E.EINVAL;
      if (no < len && !validCc(len - no)) return E.EINVAL;
    }
    if (yes < minLen || yes > len + 4 || (yes & 3) !== 0) return E.EINVAL;
    off += yes;
    len -= yes;
  }
  return len === 0 ? 0 : E.EINVAL;
}

/** What inet_diag_bc_run compares (struct inet_diag_entry). */
export interface BytecodeEntry {
  readonly family: number;
  /** Addresses as the socket keeps them (16 bytes for AF_INET6, v4-mapped for IPv4 there). */
  readonly saddr: Uint8Array;
  readonly daddr: Uint8Array;
  readonly sport: number;
  readonly dport: number;
  readonly ifindex: number;
  readonly userlocks: number;
  readonly mark: number;
  readonly cgroupId: bigint;
}

/** bitstring_match: the first `bits` bits of `a` and `b` are equal. */
function bitsMatch(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return ((a[aOff + whole] ?? 0) & mask) === ((b[bOff + whole] ?? 0) & mask);
}

/** inet_diag_bc_run over audited bytecode: true when the walk falls off exactly at the end. */
export function runBytecode(bc: Uint8Array, e: BytecodeEntry): boolean {
  const dv = new DataView(bc.buffer, bc.byteOffset, bc.byteLength);
  let off = 0;
  let len = bc.length;
  while (len > 0) {
    const code = dv.getUint8(off);
    let yes = true;
    switch (code) {
      case BC_NOP:
        break;
      case BC_JMP:
        yes = false;
        break;
      case BC_S_EQ:
        yes = e.sport === dv.getUint16(off + 6, true);
        break;
      case BC_S_GE:
        yes = e.sport >= dv.getUint16(off + 6, true);
        break;
      case BC_S_LE:
        yes = e.sport <= dv.getUint16(off + 6, true);
        break;
      case BC_D_EQ:
        yes = e.dport === dv.getUint16(off + 6, true);
        break;
      case BC_D_GE:
        yes = e.dport >= dv.getUint16(off + 6, true);
        break;
      case BC_D_LE:
        yes = e.dport <= dv.getUint16(off + 6, true);
        break;
      case BC_AUTO:
        yes = (e.userlocks & SOCK_BINDPORT_LOCK) === 0;
        break;
      case BC_S_COND:
      case BC_D_COND: {
        const family = dv.getUint8(off + 4);
        const prefix = dv.getUint8(off + 5);
        const port = dv.getInt32(off + 8, true);
        const src = code === BC_S_COND;
        const addr = src ? e.saddr : e.daddr;
        const cond = bc.subarray(off + 12);
        if (port !== -1 && port !== (src ? e.sport : e.dport)) {
          yes = false;
          break;
        }
        if (family !== AddressFamily.AF_UNSPEC && family !== e.family) {
          // An IPv4 condition matches the IPv4-mapped addresses of an AF_INET6 socket.
          const mapped =
            e.family === AddressFamily.AF_INET6 &&
            family === AddressFamily.AF_INET &&
            addr.subarray(0, 10).every((b) => b === 0) &&
            addr[10] === 0xff &&
            addr[11] === 0xff;
          yes = mapped && bitsMatch(addr, 12, cond, 0, prefix);
          break;
        }
        if (prefix === 0) break;
        yes = bitsMatch(addr, 0, cond, 0, prefix);
        break;
      }
      case BC_DEV_COND:
        yes = dv.getUint32(off + 4, true) === e.ifindex;
        break;
      case BC_MARK_COND:
        yes = (e.mark & dv.getUint32(off + 8, true)) >>> 0 === dv.getUint32(off + 4, true);
        break;
      case BC_CGROUP_COND:
        yes = dv.getBigUint64(off + 4, true) === e.cgroupId;
        break;
    }
    const step = yes ? dv.getUint8(off + 1) : dv.getUint16(off + 2, true);
    off += step;
    len -= step;
  }
  return len === 0;
}

// ---- inet_diag -------------------------------------------------------------------------------------

interface InetRequest {
  readonly family: number;
  readonly protocol: number;
  readonly ext: number;
  readonly states: number;
  readonly sport: number;
  readonly dport: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly ifindex: number;
  readonly cookie: [number, number];
  /** inet_diag_req_raw's sdiag_raw_protocol (the v2 request's pad byte). */
  readonly rawProtocol: number;
  /** The answers' message type: the request's (TCPDIAG_GETSOCK for the old requests). */
  readonly msgType: number;
}

function parseInetRequest(body: Uint8Array, protocol: number, msgType: number): InetRequest {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return {
    family: body[0]!,
    protocol,
    ext: body[2]!,
    states: dv.getUint32(4, true),
    sport: dv.getUint16(8, false),
    dport: dv.getUint16(10, false),
    src: body.slice(12, 28),
    dst: body.slice(28, 44),
    ifindex: dv.getUint32(44, true),
    cookie: [dv.getUint32(48, true), dv.getUint32(52, true)],
    rawProtocol: body[3]!,
    msgType,
  };
}

/** The address as the message carries it (16 bytes, an IPv4 address in the first 4). */
function wireAddr(a: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(a.subarray(0, 16));
  return out;
}

/** inet_sk_diag_fill (or inet_twsk_diag_fill for TIME_WAIT) for `s`. */
function inetMessage(
  s: InetDiagSocket,
  r: InetRequest,
  netAdmin: boolean,
  flags: number,
  seq: number,
  pid: number,
): Uint8Array {
  const fixed = new Uint8Array(INET_DIAG_MSG_LEN);
  const dv = new DataView(fixed.buffer);
  fixed[0] = s.family;
  fixed[1] = s.state;
  fixed[2] = s.timer;
  fixed[3] = Math.min(s.retrans, 0xff);
  dv.setUint16(4, s.sport, false);
  dv.setUint16(6, s.dport, false);
  fixed.set(wireAddr(s.src), 8);
  fixed.set(wireAddr(s.dst), 24);
  dv.setUint32(40, s.ifindex, true);
  dv.setUint32(44, Number(s.cookie & 0xffffffffn), true);
  dv.setUint32(48, Number(s.cookie >> 32n), true);
  dv.setUint32(52, s.expires, true);
  dv.setUint32(56, s.rqueue, true);
  dv.setUint32(60, s.wqueue, true);
  dv.setUint32(64, s.uid, true);
  dv.setUint32(68, s.inode, true);
  const m = new MessageWriter();
  m.bytes(fixed);
  const full = s.full;
  if (!full) {
    if (netAdmin) m.u32(INET_DIAG_MARK, 0);
    return m.finish(r.msgType, flags, seq, pid);
  }
  const want = (attr: number): boolean => (r.ext & (1 << (attr - 1))) !== 0;
  const v6 = s.family === AddressFamily.AF_INET6;
  const optInt = (level: number, name: number, dflt: number): number =>
    int32(full.opt(level, name, 4)) ?? dflt;
  // inet_diag_msg_attrs_fill.
  m.u8(INET_DIAG_SHUTDOWN, full.shutdown);
  if (want(INET_DIAG_TOS)) m.u8(INET_DIAG_TOS, optInt(SOL_IP, IP_TOS, 0));
  if (v6) {
    if (want(INET_DIAG_TCLASS)) m.u8(INET_DIAG_TCLASS, optInt(SOL_IPV6, IPV6_TCLASS, 0));
    if (s.state === TCP_LISTEN || s.state === TCP_CLOSE)
      m.u8(INET_DIAG_SKV6ONLY, optInt(SOL_IPV6, IPV6_V6ONLY, 0) !== 0 ? 1 : 0);
  }
  if (netAdmin) m.u32(INET_DIAG_MARK, s.mark);
  // CLASS_ID comes with TCLASS (its own bit is past idiag_ext's 8): no net_cls, so sk_priority.
  if (want(INET_DIAG_TCLASS)) m.u32(INET_DIAG_CLASS_ID, full.priority);
  m.u64(INET_DIAG_CGROUP_ID, ROOT_CGROUP_ID);
  m.attr(INET_DIAG_SOCKOPT, sockoptBits(s, full));
  // inet_sk_diag_fill's own attributes.
  const meminfo = full.opt(SOL_SOCKET, SO_MEMINFO, SK_MEMINFO_LEN);
  const word = (i: number): number =>
    meminfo && meminfo.length >= (i + 1) * 4
      ? new DataView(meminfo.buffer, meminfo.byteOffset).getUint32(i * 4, true)
      : 0;
  if (want(INET_DIAG_MEMINFO)) {
    // idiag_rmem (sk_rmem_alloc), idiag_wmem (sk_wmem_queued), idiag_fmem, idiag_tmem (sk_wmem_alloc).
    const b = new Uint8Array(16);
    const mv = new DataView(b.buffer);
    mv.setUint32(0, word(0), true);
    mv.setUint32(4, word(5), true);
    mv.setUint32(8, word(4), true);
    mv.setUint32(12, word(2), true);
    m.attr(INET_DIAG_MEMINFO, b);
  }
  if (want(INET_DIAG_SKMEMINFO)) {
    const b = new Uint8Array(SK_MEMINFO_LEN);
    if (meminfo) b.set(meminfo.subarray(0, SK_MEMINFO_LEN));
    m.attr(INET_DIAG_SKMEMINFO, b);
  }
  // A raw socket's protocol is its own (sk_protocol), which it also shows as its port.
  if (s.protocol === IPPROTO_RAW) m.u8(INET_DIAG_PROTOCOL, s.sport);
  if (s.protocol !== IPPROTO_TCP) return m.finish(r.msgType, flags, seq, pid);
  // The connection-oriented part (icsk): TCP_INFO and the congestion control.
  if (want(INET_DIAG_INFO)) {
    const info = full.opt(SOL_TCP, TCP_INFO, 1024);
    if (info) m.attr(INET_DIAG_INFO, info);
  }
  if (want(INET_DIAG_CONG)) {
    const name = full.opt(SOL_TCP, TCP_CONGESTION, 16);
    if (name) {
      const nul = name.indexOf(0);
      const text = nul >= 0 ? name.subarray(0, nul) : name;
      const b = new Uint8Array(text.length + 1);
      b.set(text);
      m.attr(INET_DIAG_CONG, b);
    }
  }
  return m.finish(r.msgType, flags, seq, pid);
}

/** struct inet_diag_sockopt: the socket's IP-level flags as two bytes of bitfields. */
function sockoptBits(s: InetDiagSocket, full: FullSocket): Uint8Array {
  const on = (name: number, dflt: number): number =>
    (int32(full.opt(SOL_IP, name, 4)) ?? dflt) !== 0 ? 1 : 0;
  const v4 = s.family === AddressFamily.AF_INET;
  const b0 =
    on(IP_RECVERR, 0) |
    ((s.protocol === IPPROTO_TCP ? 1 : 0) << 1) |
    (on(IP_FREEBIND, 0) << 2) |
    ((s.protocol === IPPROTO_RAW ? on(IP_HDRINCL, 0) : 0) << 3) |
    (on(IP_MULTICAST_LOOP, 1) << 4) |
    (on(IP_TRANSPARENT, 0) << 5) |
    // inet_create sets mc_all; inet6_create does not.
    ((v4 ? on(IP_MULTICAST_ALL, 1) : 0) << 6) |
    (on(IP_NODEFRAG, 0) << 7);
  const defer = s.protocol === IPPROTO_TCP ? (int32(full.opt(SOL_TCP, TCP_FASTOPEN_CONNECT, 4)) ?? 0) : 0;
  const b1 = on(IP_BIND_ADDRESS_NO_PORT, 0) | (on(IP_RECVERR_RFC4884, 0) << 1) | ((defer !== 0 ? 1 : 0) << 2);
  return Uint8Array.of(b0, b1);
}

/** The bytecode entry of `s` (addresses as the socket keeps them: v4-mapped on AF_INET6). */
function bcEntry(s: InetDiagSocket): BytecodeEntry {
  return {
    family: s.family,
    saddr: s.src,
    daddr: s.dst,
    sport: s.sport,
    dport: s.dport,
    ifindex: s.ifindex,
    userlocks: s.userlocks,
    mark: s.mark,
    cgroupId: ROOT_CGROUP_ID,
  };
}

/** What a request needs of the socket that sent it. */
interface DiagContext {
  readonly kernel: Kernel;
  /** The namespace of the netlink socket the request came by (sock_net). */
  readonly net: NetState;
  /** Whether the sender's socket was opened with CAP_NET_ADMIN (netlink_net_capable). */
  readonly netAdmin: boolean;
}

function inetSockets(ctx: DiagContext, protocol: number, af: number): InetDiagSocket[] {
  // The old requests dump both families at once (sdiag_family AF_UNSPEC).
  if (af === AddressFamily.AF_UNSPEC)
    return [
      ...inetSockets(ctx, protocol, AddressFamily.AF_INET),
      ...inetSockets(ctx, protocol, AddressFamily.AF_INET6),
    ];
  const family = af === AddressFamily.AF_INET ? 4 : 6;
  // Host sockets (network mode `host`) are all in the initial namespace.
  const host = ctx.net.initial === undefined ? hostSockets(ctx.kernel, protocol, family) : undefined;
  if (host) return host;
  return stackSockets(ctx.net, protocol, family);
}

const DIAG_PROTOCOLS = new Set([IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_RAW]);

/** inet_diag_handler_cmd: a dump, an exact lookup, or SOCK_DESTROY. */
function inetDiag(
  ctx: DiagContext,
  type: number,
  flags: number,
  body: Uint8Array,
  out: SockDiagRequest,
): 'dump' | LinuxError | undefined {
  if (body.length < INET_DIAG_REQ_V2_LEN) return E.EINVAL;
  // inet_diag finds the bytecode with nlmsg_find_attr: the first of its type.
  const attrs = netlinkAttrs(body, INET_DIAG_REQ_V2_LEN, true);
  const protoAttr = attrs.get(INET_DIAG_REQ_PROTOCOL);
  const protocol =
    protoAttr && protoAttr.length >= 4
      ? new DataView(protoAttr.buffer, protoAttr.byteOffset).getUint32(0, true)
      : body[1]!;
  const r = parseInetRequest(body, protocol, type === SOCK_DESTROY ? SOCK_DIAG_BY_FAMILY : type);
  const known = DIAG_PROTOCOLS.has(protocol);
  if (type === SOCK_DESTROY) return known ? inetDestroy(ctx, r) : E.ENOENT;
  if ((flags & 0x300) !== 0) {
    const bc = attrs.get(INET_DIAG_REQ_BYTECODE);
    if (bc) {
      const audit = auditBytecode(bc, ctx.netAdmin);
      if (isError(audit)) return audit;
    }
    // An unknown protocol has no handler: the dump is empty.
    const list = known ? inetSockets(ctx, protocol, r.family) : [];
    let states = r.states;
    if ((states & (1 << TCP_SYN_RECV)) !== 0) states |= 1 << TCP_NEW_SYN_RECV;
    const msgs: Uint8Array[] = [];
    for (const s of list) {
      // raw_diag dumps every state; TCP and UDP filter on idiag_states.
      if (protocol !== IPPROTO_RAW && (states & (1 << s.state)) === 0) continue;
      if (r.sport !== 0 && r.sport !== s.sport) continue;
      if (r.dport !== 0 && r.dport !== s.dport) continue;
      if (bc && !runBytecode(bc, bcEntry(s))) continue;
      msgs.push(inetMessage(s, r, ctx.netAdmin, NLM_F_MULTI, out.seq, out.portid));
    }
    out.dump(msgs);
    return 'dump';
  }
  if (!known) return E.ENOENT;
  const found = lookupInet(ctx, r);
  if (isError(found)) return found;
  out.reply(inetMessage(found, r, ctx.netAdmin, 0, out.seq, out.portid));
  return undefined;
}

/**
 * SOCK_DESTROY (sock_diag_destroy behind tcp_diag_destroy, udp_diag_destroy and
 * raw_diag_destroy): the socket each protocol's lookup finds ({@link destroyLookup}: ENOENT for
 * none), EPERM without CAP_NET_ADMIN, EOPNOTSUPP for UDP-Lite (udplite_prot has no diag_destroy),
 * then the abort with ECONNABORTED: tcp_abort for a connection (TcpSocket.destroy) or a listener,
 * udp_abort, raw_abort (InetSocket.destroy). Host sockets in network mode `host` answer
 * EOPNOTSUPP: the host's kernel holds them.
 */
function inetDestroy(ctx: DiagContext, r: InetRequest): LinuxError | undefined {
  const found = destroyLookup(ctx, r);
  if (isError(found)) return found;
  if (!ctx.netAdmin) return E.EPERM;
  if (r.protocol === IPPROTO_UDPLITE) return E.EOPNOTSUPP;
  if (found.conn) found.conn.destroy(E.ECONNABORTED);
  else if (found.owner) {
    const err = found.owner.destroy(E.ECONNABORTED);
    if (isError(err)) return err;
  } else return E.EOPNOTSUPP;
  ctx.net.kick(); // send the RSTs and wake the socket's waiters now
  return undefined;
}

/**
 * The socket a SOCK_DESTROY request names, per protocol: TCP as an exact lookup finds it
 * (inet_diag_find_one_icsk, ENOENT for another's cookie); UDP by the request's 4-tuple with the
 * request's source as the socket's own end (__udp_diag_destroy: the reverse of udp_dump_one's
 * reading; an AF_INET6 request whose two addresses are IPv4-mapped looks among the IPv4
 * sockets), ENOENT for another's cookie; raw sockets as raw_sock_get finds them, with no
 * cookie check.
 */
function destroyLookup(ctx: DiagContext, r: InetRequest): InetDiagSocket | LinuxError {
  if (r.protocol === IPPROTO_TCP || r.protocol === IPPROTO_RAW) return lookupInet(ctx, r);
  if (r.family !== AddressFamily.AF_INET && r.family !== AddressFamily.AF_INET6) return E.EINVAL;
  const t = lookupTable(ctx, r);
  // udpLookup reads the request as udp_dump_one does (its source is the peer): swap the ends.
  const swapped = { ...t.req, src: t.req.dst, dst: t.req.src, sport: t.req.dport, dport: t.req.sport };
  const found = checkCookie(r, t.original(udpLookup(t.list, swapped)));
  return found === E.ESTALE ? E.ENOENT : found;
}

/**
 * The sockets a TCP or UDP lookup of `r` searches, and `r` as it compares with them. An AF_INET6
 * request is looked up among the AF_INET6 sockets, unless its two addresses are IPv4-mapped: then,
 * as for an AF_INET request, among the IPv4 ones (inet_diag_find_one_icsk, __udp_diag_destroy),
 * with the addresses as IPv4 ones. Linux's IPv4 tables hold AF_INET6 sockets that take IPv4
 * too: those with IPv4-mapped addresses (IPv4 connections underneath) and those bound to the
 * wildcard without IPV6_V6ONLY. They are listed after the IPv4 sockets, so they lose a tie as
 * their lower compute_score does, and `original` gives back the socket as its family lists it.
 */
function lookupTable(
  ctx: DiagContext,
  r: InetRequest,
): {
  list: InetDiagSocket[];
  req: InetRequest;
  original: (s: InetDiagSocket | undefined) => InetDiagSocket | undefined;
} {
  const same = (s: InetDiagSocket | undefined): InetDiagSocket | undefined => s;
  const mapped = r.family === AddressFamily.AF_INET6 && isV4Mapped(r.src) && isV4Mapped(r.dst);
  if (r.family === AddressFamily.AF_INET6 && !mapped)
    return { list: inetSockets(ctx, r.protocol, AddressFamily.AF_INET6), req: r, original: same };
  const req = mapped ? { ...r, src: r.src.slice(12, 16), dst: r.dst.slice(12, 16) } : r;
  const list = inetSockets(ctx, r.protocol, AddressFamily.AF_INET);
  const originals = new Map<InetDiagSocket, InetDiagSocket>();
  const as4 = (a: Uint8Array): Uint8Array | undefined =>
    a.every((b) => b === 0) ? new Uint8Array(4) : isV4Mapped(a) ? a.slice(12, 16) : undefined;
  for (const s of inetSockets(ctx, r.protocol, AddressFamily.AF_INET6)) {
    const src = as4(s.src);
    const dst = as4(s.dst);
    if (!src || !dst) continue;
    // On the wildcard address only a socket without IPV6_V6ONLY takes IPv4.
    if (isAny(s.src) && (!s.owner || s.owner.getsockopt(SOL_IPV6, IPV6_V6ONLY) !== 0)) continue;
    const v4 = { ...s, src, dst };
    originals.set(v4, s);
    list.push(v4);
  }
  return { list, req, original: (s) => (s && originals.get(s)) ?? s };
}

function isV4Mapped(a: Uint8Array): boolean {
  return a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;
}

/** An address of a request (16 bytes) compared with a socket's. */
function sameAddr(sock: Uint8Array, req: Uint8Array): boolean {
  for (let i = 0; i < sock.length; i++) if (sock[i] !== req[i]) return false;
  return true;
}

function isAny(a: Uint8Array): boolean {
  return (
    a.every((b) => b === 0) ||
    (a.length === 16 &&
      a.subarray(0, 10).every((b) => b === 0) &&
      a[10] === 0xff &&
      a[11] === 0xff &&
      a.subarray(12).every((b) => b === 0))
  );
}

/**
 * inet_diag_find_one_icsk / udp_dump_one / raw_sock_get: the socket with the request's 4-tuple
 * (TCP: a connection first, then a listener on the local address, among the sockets
 * {@link lookupTable} gives), then the cookie check: ENOENT for TCP, ESTALE for UDP when it is
 * another socket's, none for raw sockets; ENOENT when there is none.
 */
function lookupInet(ctx: DiagContext, r: InetRequest): InetDiagSocket | LinuxError {
  if (r.family !== AddressFamily.AF_INET && r.family !== AddressFamily.AF_INET6) return E.EINVAL;
  // raw_sock_get checks no cookie.
  if (r.protocol === IPPROTO_RAW) return rawLookup(inetSockets(ctx, r.protocol, r.family), r) ?? E.ENOENT;
  if (r.protocol !== IPPROTO_TCP) return checkCookie(r, udpLookup(inetSockets(ctx, r.protocol, r.family), r));
  const t = lookupTable(ctx, r);
  const q = t.req;
  const exact = t.list.find(
    (s) =>
      s.state !== TCP_LISTEN &&
      boundDevMatches(s, q) &&
      s.sport === q.sport &&
      s.dport === q.dport &&
      sameAddr(s.src, q.src) &&
      sameAddr(s.dst, q.dst),
  );
  // A listener on the request's address before one on the wildcard (compute_score).
  const listener = (wild: boolean): InetDiagSocket | undefined =>
    t.list.find(
      (s) =>
        s.state === TCP_LISTEN &&
        boundDevMatches(s, q) &&
        s.sport === q.sport &&
        (wild ? isAny(s.src) : sameAddr(s.src, q.src)),
    );
  const bound = t.original(exact ?? listener(false) ?? listener(true));
  if (!bound) return E.ENOENT;
  // inet_diag_find_one_icsk answers ENOENT for another socket's cookie.
  const checked = checkCookie(r, bound);
  return checked === E.ESTALE ? E.ENOENT : checked;
}

/**
 * udp_dump_one's lookup (__udp4_lib_lookup): the socket a datagram from the request's
 * src:sport to dst:dport would reach, a connected socket before one only bound.
 */
function udpLookup(list: readonly InetDiagSocket[], r: InetRequest): InetDiagSocket | undefined {
  let best: InetDiagSocket | undefined;
  let bestScore = -1;
  for (const s of list) {
    if (s.sport !== r.dport || !boundDevMatches(s, r)) continue;
    if (!isAny(s.src) && !sameAddr(s.src, r.dst)) continue;
    let score = isAny(s.src) ? 0 : 1;
    if (s.dport !== 0) {
      if (s.dport !== r.sport || !sameAddr(s.dst, r.src)) continue;
      score += 2;
    }
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}

/**
 * raw_diag's lookup (raw_v4_match / raw_v6_match): a raw socket of the protocol the request
 * names in its pad byte (sdiag_raw_protocol), whose bound and connected addresses, where set,
 * are the request's source and destination.
 */
function rawLookup(list: readonly InetDiagSocket[], r: InetRequest): InetDiagSocket | undefined {
  return list.find(
    (s) =>
      s.sport === r.rawProtocol &&
      boundDevMatches(s, r) &&
      (isAny(s.src) || sameAddr(s.src, r.src)) &&
      (isAny(s.dst) || sameAddr(s.dst, r.dst)),
  );
}

/**
 * inet_bound_dev_eq as the lookups call it (the request's idiag_if as the arrival link, no
 * l3mdev): a socket tied to a link (SO_BINDTODEVICE) is found only by a request naming that link.
 */
function boundDevMatches(s: InetDiagSocket, r: InetRequest): boolean {
  return s.ifindex === 0 || s.ifindex === r.ifindex;
}

/** sock_diag_check_cookie: ENOENT without a socket, ESTALE for another socket's cookie. */
function checkCookie(r: InetRequest, s: InetDiagSocket | undefined): InetDiagSocket | LinuxError {
  if (!s) return E.ENOENT;
  const [lo, hi] = r.cookie;
  if (lo === NOCOOKIE && hi === NOCOOKIE) return s;
  return BigInt(lo) + (BigInt(hi) << 32n) === s.cookie ? s : E.ESTALE;
}

// ---- unix_diag ---------------------------------------------------------------------------------------

interface UnixEntry {
  readonly sock: UnixSocket;
  readonly inode: number;
  readonly uid: number;
  /** The filesystem node a path-bound socket was bound to (stat's dev and ino). */
  readonly vfs?: { readonly dev: number; readonly ino: number };
}

/** unix_diag's sk_state: LISTEN, ESTABLISHED (connected, or a datagram socket someone connected to), CLOSE. */
function unixState(s: UnixSocket, connectedTo: ReadonlySet<UnixSocket>): number {
  if (s.listening) return TCP_LISTEN;
  if (s.peerSocket) return TCP_ESTABLISHED;
  if (s.type === SockType.SOCK_DGRAM && connectedTo.has(s)) return TCP_ESTABLISHED;
  return TCP_CLOSE;
}

function unixName(a: Sockaddr | undefined): Uint8Array | undefined {
  if (a?.kind === 'unix-path') return a.path;
  if (a?.kind === 'unix-abstract') {
    const b = new Uint8Array(a.name.length + 1);
    b.set(a.name, 1);
    return b;
  }
  return undefined;
}

function unixDiag(
  ctx: DiagContext,
  type: number,
  flags: number,
  body: Uint8Array,
  out: SockDiagRequest,
): 'dump' | LinuxError | undefined {
  if (body.length < UNIX_DIAG_REQ_LEN) return E.EINVAL;
  if (type === SOCK_DESTROY) return E.EOPNOTSUPP;
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const states = dv.getUint32(4, true);
  const ino = dv.getUint32(8, true);
  const show = dv.getUint32(12, true);
  const cookie = [dv.getUint32(16, true), dv.getUint32(20, true)] as const;
  const net = ctx.net;
  const entries: UnixEntry[] = [];
  const inodeOf = new Map<UnixSocket, number>();
  const connectedTo = new Set<UnixSocket>();
  // The sandbox's path-bound sockets by the "dev:ino" key of the node bind(2) made.
  const nodes = new Map<UnixSocket, { dev: number; ino: number }>();
  for (const [key, sock] of net.unix.paths) {
    const [dev, ino] = key.split(':').map(Number);
    if (Number.isSafeInteger(dev) && Number.isSafeInteger(ino)) nodes.set(sock, { dev: dev!, ino: ino! });
  }
  for (const f of net.open) {
    const s = f.sock;
    if (!(s instanceof UnixSocket)) continue;
    const vfs = nodes.get(s);
    entries.push({ sock: s, inode: f.inode, uid: f.uid, ...(vfs ? { vfs } : {}) });
    inodeOf.set(s, f.inode);
    const peer = s.peerSocket;
    if (peer) connectedTo.add(peer);
  }
  const message = (e: UnixEntry, msgFlags: number): Uint8Array =>
    unixMessage(e, show, inodeOf, connectedTo, msgFlags, out);
  if ((flags & 0x300) !== 0) {
    const msgs: Uint8Array[] = [];
    for (const e of entries) {
      if ((states & (1 << unixState(e.sock, connectedTo))) === 0) continue;
      msgs.push(message(e, NLM_F_MULTI));
    }
    out.dump(msgs);
    return 'dump';
  }
  const e = entries.find((x) => x.inode === ino);
  if (!e) return E.ENOENT;
  const c = diagCoreFacts(e.sock).cookie;
  if (
    !(cookie[0] === NOCOOKIE && cookie[1] === NOCOOKIE) &&
    BigInt(cookie[0]) + (BigInt(cookie[1]) << 32n) !== c
  )
    return E.ESTALE;
  out.reply(message(e, 0));
  return undefined;
}

function unixMessage(
  e: UnixEntry,
  show: number,
  inodeOf: ReadonlyMap<UnixSocket, number>,
  connectedTo: ReadonlySet<UnixSocket>,
  flags: number,
  out: SockDiagRequest,
): Uint8Array {
  const s = e.sock;
  const cookie = diagCoreFacts(s).cookie;
  const fixed = new Uint8Array(UNIX_DIAG_MSG_LEN);
  const dv = new DataView(fixed.buffer);
  fixed[0] = AddressFamily.AF_UNIX;
  fixed[1] = s.type;
  fixed[2] = unixState(s, connectedTo);
  dv.setUint32(4, e.inode, true);
  dv.setUint32(8, Number(cookie & 0xffffffffn), true);
  dv.setUint32(12, Number(cookie >> 32n), true);
  const m = new MessageWriter();
  m.bytes(fixed);
  if ((show & UDIAG_SHOW_NAME) !== 0) {
    const name = unixName(s.address);
    if (name) m.attr(UNIX_DIAG_NAME, name);
  }
  if ((show & UDIAG_SHOW_VFS) !== 0 && e.vfs) {
    // struct unix_diag_vfs: the inode of the node bind(2) made, and its filesystem's dev_t as
    // the kernel keeps it (major << 20 | minor), not as stat(2) encodes it.
    const b = new Uint8Array(8);
    const bv = new DataView(b.buffer);
    bv.setUint32(0, e.vfs.ino, true);
    const major = (e.vfs.dev >>> 8) & 0xfff;
    const minor = (e.vfs.dev & 0xff) | ((e.vfs.dev >>> 12) & 0xfff00);
    bv.setUint32(4, ((major << 20) | minor) >>> 0, true);
    m.attr(UNIX_DIAG_VFS, b);
  }
  if ((show & UDIAG_SHOW_PEER) !== 0 && s.peerSocket) m.u32(UNIX_DIAG_PEER, inodeOf.get(s.peerSocket) ?? 0);
  if ((show & UDIAG_SHOW_ICONS) !== 0 && s.listening) {
    const queue = s.pendingConnections;
    const b = new Uint8Array(queue.length * 4);
    const bv = new DataView(b.buffer);
    queue.forEach((embryo, i) => {
      const p = embryo.peerSocket;
      bv.setUint32(i * 4, p ? (inodeOf.get(p) ?? 0) : 0, true);
    });
    m.attr(UNIX_DIAG_ICONS, b);
  }
  if ((show & UDIAG_SHOW_RQLEN) !== 0) {
    const b = new Uint8Array(8);
    const bv = new DataView(b.buffer);
    if (s.listening) {
      bv.setUint32(0, s.pendingConnections.length, true);
      bv.setUint32(4, s.listenBacklog, true);
    } else {
      const inq = s.inq();
      bv.setUint32(0, isError(inq) ? 0 : inq, true);
      bv.setUint32(4, s.outq(), true);
    }
    m.attr(UNIX_DIAG_RQLEN, b);
  }
  if ((show & UDIAG_SHOW_MEMINFO) !== 0) {
    // sk_rmem_alloc stays 0 (a unix sender is charged), then rcvbuf, wmem_alloc, sndbuf.
    m.attr(
      UNIX_DIAG_MEMINFO,
      new Uint8Array(new Uint32Array([0, s.rcvbuf, s.outq(), s.sndbuf, 0, 0, 0, 0, 0]).buffer),
    );
  }
  m.u8(UNIX_DIAG_SHUTDOWN, s.shutdownMask);
  if ((show & UDIAG_SHOW_UID) !== 0) m.u32(UNIX_DIAG_UID, e.uid);
  return m.finish(SOCK_DIAG_BY_FAMILY, flags, out.seq, out.portid);
}

// ---- the request ---------------------------------------------------------------------------------

/**
 * The request before sock_diag (struct inet_diag_req), still answered by inet_diag for TCP.
 * (DCCPDIAG_GETSOCK, 19, went with DCCP in Linux 6.16: EINVAL like any unknown type.)
 */
const TCPDIAG_GETSOCK = 18;
const INET_DIAG_REQ_LEN = 60;

/**
 * inet_diag_rcv_msg_compat: a struct inet_diag_req request (family, prefix lengths, ext, id,
 * states, dbs) made into a v2 one for TCP: a dump of both families (AF_UNSPEC) or an exact
 * lookup in the request's family, answered with messages of the request's type. EINVAL when
 * shorter than the struct.
 */
function compatRequest(
  ctx: DiagContext,
  type: number,
  flags: number,
  body: Uint8Array,
  out: SockDiagRequest,
): 'dump' | LinuxError | undefined {
  if (body.length < INET_DIAG_REQ_LEN) return E.EINVAL;
  const dump = (flags & 0x300) !== 0;
  const v2 = new Uint8Array(INET_DIAG_REQ_V2_LEN + body.length - INET_DIAG_REQ_LEN);
  v2[0] = dump ? AddressFamily.AF_UNSPEC : body[0]!;
  v2[1] = IPPROTO_TCP;
  v2[2] = body[3]!;
  v2.set(body.subarray(52, 56), 4); // idiag_states
  v2.set(body.subarray(4, 52), 8); // id
  v2.set(body.subarray(INET_DIAG_REQ_LEN), INET_DIAG_REQ_V2_LEN); // the bytecode, if any
  return inetDiag(ctx, type, flags, v2, out);
}

/**
 * The NETLINK_SOCK_DIAG kernel end of network namespace `net` of sandbox `kernel`
 * (sock_diag_rcv_msg), for `NetlinkDomain.sockDiag`: SOCK_DIAG_BY_FAMILY and SOCK_DESTROY
 * requests (EINVAL for other types and for a body shorter than its family and protocol).
 *
 * @example
 * ```ts
 * const net = initialNetOf(kernel);
 * net.netlink.sockDiag ??= sockDiagHandler(kernel, net);
 * ```
 */
export function sockDiagHandler(kernel: Kernel, net: NetState): SockDiagHandler {
  return (type, flags, body, out) => {
    if (type === TCPDIAG_GETSOCK)
      return compatRequest({ kernel, net, netAdmin: out.netAdmin }, type, flags, body, out);
    if (type !== SOCK_DIAG_BY_FAMILY && type !== SOCK_DESTROY) return E.EINVAL;
    if (body.length < 2) return E.EINVAL;
    const family = body[0]!;
    if (family >= AF_MAX) return E.EINVAL;
    const ctx: DiagContext = { kernel, net, netAdmin: out.netAdmin };
    switch (family) {
      case AddressFamily.AF_INET:
      case AddressFamily.AF_INET6:
        return inetDiag(ctx, type, flags, body, out);
      case AddressFamily.AF_UNIX:
        return unixDiag(ctx, type, flags, body, out);
      default:
        return E.ENOENT;
    }
  };
}
