/**
 * The socket syscalls: socket, socketpair, bind, listen, accept/accept4, connect, getsockname,
 * getpeername, sendto/recvfrom, sendmsg/recvmsg, shutdown, setsockopt/getsockopt. AF_UNIX goes to
 * netstack's UnixSocket (path names become S_IFSOCK nodes of the sandbox VFS), AF_INET/AF_INET6
 * to the sandbox's loopback netstack Stack.
 *
 * Blocking: a socket call that answers WOULD_BLOCK waits for the next readiness change of the
 * socket and retries, for at most SO_RCVTIMEO (receives, accept) or SO_SNDTIMEO (sends, connect);
 * a signal ends the wait with ERESTARTSYS, EINTR when a timeout is set (or the bytes already
 * moved). See socket-timeout.ts.
 *
 * @module
 */
import {
  Capability,
  AddressFamily,
  CmsgWriter,
  E,
  IpOption,
  IpProto,
  MsgFlag,
  SCM_MAX_FD,
  SiCode,
  Signal,
  SockType,
  SocketLevel,
  SocketOption,
  TcpOption,
  encodeSockaddr,
  isError,
  msghdr,
  parseCmsgs,
  parseScmCredentials,
  parseScmRights,
  parseSockaddr,
  ucred,
  type Cmsg,
  type LinuxError,
  type Sockaddr,
  OpenFlag,
  timespec,
} from '@tsvisor/abi';
import { MAX_RW_COUNT, Waiter, capable, isControl, type ControlResult, type Task } from '@tsvisor/kernel';
import {
  InetSocket,
  UnixSocket,
  WOULD_BLOCK as NET_WOULD_BLOCK,
  pingGroupAllowed,
  type UnixCreds,
  type UnixPathBinder,
} from '@tsvisor/netstack';
import type { FileDescription } from '@tsvisor/vfs';
import { UserIOSequence } from '@tsvisor/vfs';
import { readerAsleep, sendSigurg, socketCall } from './fasync.js';
import { SocketImpl, netOf, socketOf, type AnySocket, type InFlight } from './sys-socket-file.js';
import { NetlinkSocket, interfaceIoctl, type NetlinkSender } from './sys-netlink.js';
import { sockDiagHandler } from './sys-netlink-diag.js';
import { bindPortDenied } from './sys-caps.js';
import {
  SOCKADDR_STORAGE,
  readAddr,
  writeAddr,
  installSocketFile,
  socketFile,
  readMsghdr,
} from './socket-layer.js';
import { HostSocketImpl, hostInterfaceIoctl, hostLingerOnClose, withHostSockets } from './sys-socket-host.js';
import { SIOCETHTOOL, ethtoolIoctl, packetSocketIoctl, withPacketSockets } from './sys-socket-packet.js';
import { writeStream, writeStreamFrom, type WriteOutcome } from './stream-write.js';
import {
  getCoreOption,
  inheritCoreOptions,
  isCoreOption,
  noteBindPort,
  noteBufferSet,
  noteTosSet,
  rcvlowatOf,
  setCoreOption,
  timestampCmsg,
} from './socket-options.js';
import {
  SendTimeout,
  deadlineOf,
  encodeTimeout,
  isReceiveTimeout,
  isTimeoutOption,
  parseTimeout,
  retryOnSocket,
  sockIntrErrno,
  timeoutsOf,
  type TimeoutNs,
} from './socket-timeout.js';
import { readStruct, writeStruct } from './user-structs.js';
import {
  FULL,
  INT_MAX_N,
  int,
  partial,
  ptr,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';
import { ctxOf, fileAt, filesOf, nofile, vfsOf } from './vfs-context.js';
import { SCM_PIDFD, getUnixOption, isUnixOption, scmPidfd, setUnixOption } from './unix-socket-options.js';
import {
  getFilterOption,
  isFilterGetOption,
  isFilterSetOption,
  setFilterOption,
} from './socket-filter-options.js';

const SOCK_MAX = 11;
const AF_MAX = 46;
const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const W_OK = 2;
const INT_MAX = 0x7fffffff;
const SOCK_MIN_SNDBUF = 4608;
const SOCK_MIN_RCVBUF = 2304;
const WMEM_MAX = 212992;
const FLAG_BITS = SockType.SOCK_NONBLOCK | SockType.SOCK_CLOEXEC;

type Result = SyscallResult | Promise<SyscallResult>;

// ---- helpers ----------------------------------------------------------------------------------

/** The sending task as a netlink request sees it (see NetlinkSender). */
function netlinkSender(t: Task): NetlinkSender {
  return {
    netAdmin: capable(t.creds, Capability.CAP_NET_ADMIN),
    uid: t.creds.uid,
    taskAlive: (tid) => t.kernel.task(tid)?.state === 'alive',
    file: (fd) => fileAt(t, fd),
  };
}

function credsOf(t: Task): UnixCreds {
  return { pid: t.tgid, uid: t.creds.euid, gid: t.creds.egid, groups: t.creds.groups, process: t.group };
}

function sockAt(t: Task, fd: number): { file: FileDescription; s: SocketImpl } | LinuxError {
  const file = fileAt(t, fd);
  if (isError(file)) return file;
  if (file.isPath) return E.EBADF;
  const s = socketOf(file);
  return isError(s) ? s : { file, s };
}

/** Installs `sock`, made in network namespace `net` (by default the caller's). */
function install(t: Task, sock: AnySocket, flags: number, net = netOf(t)): number | LinuxError {
  const impl = new SocketImpl(sock, net);
  impl.uid = t.creds.fsuid;
  const file = socketFile(t, impl, impl.ownInode(), flags);
  if (sock instanceof InetSocket) {
    sock.nonBlocking = (flags & SockType.SOCK_NONBLOCK) !== 0;
    // sk_send_sigurg: urgent data announced on a TCP socket signals the file's owner.
    const kernel = t.kernel;
    sock.onUrgent = () => sendSigurg(kernel, file);
  }
  // AF_UNIX out-of-band data signals the receiving file's owner too (queue_oob's sk_send_sigurg).
  if (sock instanceof UnixSocket) {
    const kernel = t.kernel;
    sock.onUrgent = () => sendSigurg(kernel, file);
  }
  return installSocketFile(t, file, flags);
}

function nonBlocking(file: FileDescription, flags: number): boolean {
  return (file.getFlags() & OpenFlag.O_NONBLOCK) !== 0 || (flags & MsgFlag.MSG_DONTWAIT) !== 0;
}

/**
 * The timeout of one call on a netstack socket: SO_RCVTIMEO (`receive`) or SO_SNDTIMEO, or 0n
 * ("do not wait") for a non-blocking call, as sock_rcvtimeo/sock_sndtimeo answer.
 */
function timeoutFor(s: SocketImpl, nb: boolean, receive: boolean): TimeoutNs {
  if (nb) return 0n;
  const v = timeoutsOf(s.sock);
  return receive ? v.rcv : v.snd;
}

/**
 * Runs `op` once; WOULD_BLOCK becomes EAGAIN when the call may not wait (`timeoutNs` 0n), else a
 * wait of at most `timeoutNs` (then EAGAIN; a signal gives EINTR with a timeout, a restart without).
 */
function maybeWait<T>(
  t: Task,
  s: SocketImpl,
  timeoutNs: TimeoutNs,
  op: () => T | typeof NET_WOULD_BLOCK,
): T | LinuxError | ControlResult | Promise<T | LinuxError | ControlResult> {
  const r = op();
  s.settle();
  if (r !== NET_WOULD_BLOCK) return r;
  if (timeoutNs === 0n) return E.EAGAIN;
  return retryOnSocket(t, s, op, { deadline: deadlineOf(t, timeoutNs) });
}

function then<T>(r: T | Promise<T>, f: (v: T) => SyscallResult): Result {
  return r instanceof Promise ? r.then(f) : f(r);
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** Socket names in the VFS, for one call of `t` (its cwd, root, umask and credentials). */
function pathBinder(t: Task): UnixPathBinder {
  const vfs = vfsOf(t);
  const ctx = ctxOf(t);
  return {
    create(path) {
      const p = latin1(path);
      const err = vfs.mknodat(ctx, ctx.cwd, p, S_IFSOCK | 0o777, 0);
      if (err) return err === E.EEXIST ? E.EADDRINUSE : err;
      const st = vfs.statat(ctx, ctx.cwd, p, AT_SYMLINK_NOFOLLOW);
      return isError(st) ? st : `${st.dev}:${st.ino}`;
    },
    remove(path) {
      vfs.unlinkat(ctx, ctx.cwd, latin1(path), 0);
    },
    lookup(path) {
      const p = latin1(path);
      const st = vfs.statat(ctx, ctx.cwd, p, 0);
      if (isError(st)) return st;
      if ((st.mode & S_IFMT) !== S_IFSOCK) return E.ECONNREFUSED;
      const err = vfs.faccessat(ctx, ctx.cwd, p, W_OK, 0);
      return err ?? `${st.dev}:${st.ino}`;
    },
  };
}

/** An AF_UNIX address from user bytes: EINVAL unless the family is AF_UNIX (AF_UNSPEC passes through). */
function unixAddr(bytes: Uint8Array): Sockaddr | LinuxError {
  const a = parseSockaddr(bytes, 0, bytes.length);
  if (isError(a)) return a;
  if (a.kind === 'unix-path' || a.kind === 'unix-abstract' || a.kind === 'unix-unnamed') return a;
  if (a.kind === 'other' && a.family === AddressFamily.AF_UNSPEC) return a;
  return E.EINVAL;
}

/**
 * EPIPE raises SIGPIPE unless MSG_NOSIGNAL, on stream sockets only (sk_stream_error,
 * unix_stream_sendmsg); a datagram or seqpacket socket's EPIPE raises nothing.
 */
function sigpipe(
  t: Task,
  r: SyscallResult,
  flags: number,
  type: number = SockType.SOCK_STREAM,
): SyscallResult {
  if (r === E.EPIPE && (flags & MsgFlag.MSG_NOSIGNAL) === 0 && type === SockType.SOCK_STREAM)
    t.kernel.sendToTask(t, { signo: Signal.SIGPIPE, code: SiCode.SI_USER, pid: t.tgid, uid: t.creds.uid });
  return r;
}

/** SIOCOUTQ: bytes not yet acknowledged (stream) or not yet sent (datagram). */
const SIOCOUTQ = 0x5411;
/** SIOCATMARK: whether the next byte to read is urgent data. */
const SIOCATMARK = 0x8905;

/**
 * The interface ioctls every socket answers (SIOCGIFINDEX, SIOCGIFCONF, ...: see
 * interfaceIoctl), over the sandbox's links; undefined when `file` is not a socket or `cmd` is
 * not one of them; SIOCOUTQ and SIOCATMARK of any socket (netstack's or the host's), whose
 * answer it stores. ioctl(2) asks this before the file's own ioctl.
 */
export function socketIoctl(
  t: Task,
  file: FileDescription,
  cmd: number,
  arg: bigint,
): SyscallResult | undefined {
  const packet = packetSocketIoctl(t, file, cmd, arg);
  if (packet !== undefined) return packet;
  // Like FIONREAD, SIOCOUTQ (TIOCOUTQ) and SIOCATMARK store their answer through the pointer as
  // an int, whether the socket is netstack's or the host's.
  if (cmd === SIOCOUTQ || cmd === SIOCATMARK) {
    if (!(file.impl instanceof HostSocketImpl) && isError(socketOf(file))) return undefined;
    const n = file.ioctl(cmd, arg);
    return isError(n) ? n : (t.memory.writeI32(ptr(arg), n) ?? 0);
  }
  if (file.impl instanceof HostSocketImpl) return hostInterfaceIoctl(t, file.impl, cmd, arg);
  const s = socketOf(file);
  if (isError(s)) return undefined;
  // The socket's namespace (sock_net), whichever namespace the caller is in now.
  if (cmd === SIOCETHTOOL) return ethtoolIoctl(t, s.net.links(), ptr(arg));
  const inet =
    s.sock instanceof InetSocket &&
    s.sock.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_DOMAIN) === AddressFamily.AF_INET;
  const net = s.net;
  return interfaceIoctl(net.links(), t.memory, cmd, ptr(arg), inet, {
    domain: net.netlink,
    netAdmin: capable(t.creds, Capability.CAP_NET_ADMIN),
  });
}

// ---- socket, socketpair -------------------------------------------------------------------------

function create(t: Task, domain: number, type: number, protocol: number): AnySocket | LinuxError {
  if (type & ~(SockType.SOCK_TYPE_MASK | FLAG_BITS)) return E.EINVAL;
  const kind = type & SockType.SOCK_TYPE_MASK;
  if (domain < 0 || domain >= AF_MAX) return E.EAFNOSUPPORT;
  if (kind >= SOCK_MAX) return E.EINVAL;
  if (domain === AddressFamily.AF_UNIX) return UnixSocket.create(netOf(t).unix, kind, credsOf(t), protocol);
  if (domain === AddressFamily.AF_INET || domain === AddressFamily.AF_INET6) {
    const stack = netOf(t).stack;
    const s = InetSocket.create(stack, domain, kind, protocol);
    // ping_init_sock: a ping socket (a SOCK_DGRAM socket InetSocket accepted with ICMP or ICMPv6)
    // needs a gid in net.ipv4.ping_group_range, whatever the capabilities.
    if (
      kind === SockType.SOCK_DGRAM &&
      !isError(s) &&
      (protocol === IpProto.IPPROTO_ICMP || protocol === IpProto.IPPROTO_ICMPV6)
    ) {
      if (pingGroupAllowed(stack.sysctl.pingGroupRange, t.creds.egid, t.creds.groups)) return s;
      s.close();
      return E.EACCES;
    }
    // inet_create: SOCK_RAW needs CAP_NET_RAW, asked once the protocol was found acceptable.
    if (kind !== SockType.SOCK_RAW || isError(s) || capable(t.creds, Capability.CAP_NET_RAW)) return s;
    s.close();
    return E.EPERM;
  }
  if (domain === AddressFamily.AF_NETLINK) {
    const net = netOf(t);
    const nl = net.netlink;
    nl.sockDiag ??= sockDiagHandler(t.kernel, net);
    return NetlinkSocket.create(nl, kind, protocol, t.tgid, capable(t.creds, Capability.CAP_NET_ADMIN));
  }
  return E.EAFNOSUPPORT;
}

/** implements socket(2): AF_UNIX, AF_INET, AF_INET6, AF_NETLINK; `EAFNOSUPPORT` for other families. */
function socket(t: Task, a: SyscallArgs): SyscallResult {
  const type = int(a[1]);
  const s = create(t, int(a[0]), type, int(a[2]));
  if (isError(s)) return s;
  return install(t, s, type);
}

/**
 * implements socketpair(2) in __sys_socketpair's order: `EINVAL` for unknown flags, `EMFILE`,
 * then the two descriptor numbers are stored (`EFAULT`) before the sockets are made, so a later
 * `EAFNOSUPPORT`/`EOPNOTSUPP` (the inet families) leaves them written, as Linux does.
 */
function socketpair(t: Task, a: SyscallArgs): SyscallResult {
  const domain = int(a[0]);
  const type = int(a[1]);
  if (type & ~(SockType.SOCK_TYPE_MASK | FLAG_BITS)) return E.EINVAL;
  const files = filesOf(t);
  const fd0 = files.lowestFree();
  const fd1 = files.lowestFree(fd0 + 1);
  if (fd1 >= nofile(t)) return E.EMFILE;
  const sv = new Uint8Array(8);
  new DataView(sv.buffer).setInt32(0, fd0, true);
  new DataView(sv.buffer).setInt32(4, fd1, true);
  const err = t.memory.writeExact(ptr(a[3]), sv);
  if (err) return err;
  if (domain !== AddressFamily.AF_UNIX) {
    const probe = create(t, domain, type, int(a[2]));
    if (isError(probe)) return probe;
    probe.close();
    return E.EOPNOTSUPP;
  }
  if ((type & SockType.SOCK_TYPE_MASK) >= SOCK_MAX) return E.EINVAL;
  const pair = UnixSocket.pair(netOf(t).unix, type & SockType.SOCK_TYPE_MASK, credsOf(t), int(a[2]));
  if (isError(pair)) return pair;
  const got0 = install(t, pair[0], type);
  const got1 = install(t, pair[1], type);
  if (got0 !== fd0 || got1 !== fd1)
    throw new Error('socketpair: descriptors changed under a synchronous call');
  return 0;
}

// ---- bind, listen, connect, accept --------------------------------------------------------------

/** implements bind(2). */
function bind(t: Task, a: SyscallArgs): SyscallResult {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const bytes = readAddr(t, ptr(a[1]), int(a[2]));
  if (isError(bytes)) return bytes;
  const sock = f.s.sock;
  if (!(sock instanceof UnixSocket)) {
    if (sock instanceof InetSocket && bindPortDenied(t, sock, bytes)) return E.EACCES;
    const r = sock.bind(bytes);
    if (r === 0 && sock instanceof InetSocket && bytes.length >= 4)
      noteBindPort(sock, (bytes[2]! << 8) | bytes[3]!);
    f.s.settle();
    return r;
  }
  const addr = unixAddr(bytes);
  if (isError(addr)) return addr;
  if (addr.kind === 'other') return E.EINVAL;
  return sock.bind(addr, pathBinder(t));
}

/** implements listen(2). */
function listen(t: Task, a: SyscallArgs): SyscallResult {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const sock = f.s.sock;
  if (sock instanceof UnixSocket) sock.creds = credsOf(t);
  const r = sock.listen(int(a[1]));
  f.s.settle();
  return r;
}

/** implements connect(2): blocking connects wait (interruptible); EINPROGRESS when non-blocking. */
function connect(t: Task, a: SyscallArgs): Result {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const bytes = readAddr(t, ptr(a[1]), int(a[2]));
  if (isError(bytes)) return bytes;
  const s = f.s;
  const sock = s.sock;
  if (sock instanceof NetlinkSocket) return sock.connect(bytes);
  const timeoutNs = timeoutFor(s, nonBlocking(f.file, 0), false);
  if (sock instanceof InetSocket) {
    sock.nonBlocking = (f.file.getFlags() & OpenFlag.O_NONBLOCK) !== 0;
    const r = sock.connect(bytes);
    s.settle();
    if (r !== NET_WOULD_BLOCK) return r;
    // SO_SNDTIMEO bounds the wait: the attempt goes on, the call answers EINPROGRESS
    // (__inet_stream_connect), at once for a zero timeout.
    if (timeoutNs === 0n) return E.EINPROGRESS;
    return retryOnSocket(t, s, () => sock.finishConnect(), {
      deadline: deadlineOf(t, timeoutNs),
      onTimeout: () => E.EINPROGRESS,
    });
  }
  const addr = unixAddr(bytes);
  if (isError(addr)) return addr;
  sock.creds = credsOf(t);
  const fs = pathBinder(t);
  // A full backlog: EAGAIN once SO_SNDTIMEO passes (unix_stream_connect).
  return maybeWait(t, s, timeoutNs, () => sock.connect(addr, fs));
}

/** implements accept4(2): `EINVAL` for unknown flags (before the fd is looked up). */
function accept4(t: Task, a: SyscallArgs): Result {
  const flags = int(a[3]);
  if (flags & ~FLAG_BITS) return E.EINVAL;
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const sock = f.s.sock;
  const addrp = ptr(a[1]);
  const lenp = ptr(a[2]);
  const timeoutNs = timeoutFor(f.s, nonBlocking(f.file, 0), true);
  const r =
    sock instanceof UnixSocket
      ? maybeWait<AnySocket | LinuxError>(t, f.s, timeoutNs, () =>
          socketCall(f.file, 'accept', () => sock.accept()),
        )
      : maybeWait<AnySocket | LinuxError>(t, f.s, timeoutNs, () => sock.accept(flags));
  return then(r, (c) => {
    if (isError(c) || isControl(c)) return c;
    // A TCP child is a clone of its listener and keeps its timeouts and other core options
    // (sk_clone_lock); an AF_UNIX one is a new socket (unix_create1) with the defaults.
    if (c instanceof InetSocket) {
      Object.assign(timeoutsOf(c), timeoutsOf(sock));
      inheritCoreOptions(sock, c);
    }
    if (addrp !== 0) {
      const peer = c instanceof UnixSocket ? encodeSockaddr(peerOrUnnamed(c)) : c.getpeername();
      const err = writeAddr(t, addrp, lenp, isError(peer) ? new Uint8Array(0) : peer);
      if (err) {
        c.close();
        return err;
      }
    }
    // The listener's namespace, whichever one the caller is in now (sk_clone_lock, unix_create1).
    return install(t, c, flags, f.s.net);
  });
}

function peerOrUnnamed(c: UnixSocket): Sockaddr {
  const p = c.getpeername();
  return isError(p) ? { kind: 'unix-unnamed' } : p;
}

/** implements accept(2). */
function accept(t: Task, a: SyscallArgs): Result {
  return accept4(t, [a[0], a[1], a[2], 0n, 0n, 0n]);
}

/** implements getsockname(2). */
function getsockname(t: Task, a: SyscallArgs): SyscallResult {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const sock = f.s.sock;
  const bytes = sock instanceof UnixSocket ? encodeSockaddr(sock.getsockname()) : sock.getsockname();
  return writeAddr(t, ptr(a[1]), ptr(a[2]), bytes) ?? 0;
}

/** implements getpeername(2): `ENOTCONN` without a peer. */
function getpeername(t: Task, a: SyscallArgs): SyscallResult {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const sock = f.s.sock;
  const p = sock.getpeername();
  if (isError(p)) return p;
  const bytes = p instanceof Uint8Array ? p : encodeSockaddr(p);
  return writeAddr(t, ptr(a[1]), ptr(a[2]), bytes) ?? 0;
}

/** implements shutdown(2). */
function shutdown(t: Task, a: SyscallArgs): SyscallResult {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const how = int(a[1]);
  // The readiness changes of a shutdown are no data events for O_ASYNC (see fasync.ts).
  const r = socketCall(f.file, how, () => f.s.sock.shutdown(how));
  f.s.settle();
  return r;
}

// ---- send -----------------------------------------------------------------------------------------

interface Outgoing {
  data: Uint8Array;
  to: Uint8Array | undefined;
  rights: InFlight[] | undefined;
  creds: UnixCreds | undefined;
  /** Control messages of levels other than SOL_SOCKET (IP_TTL, IPV6_TCLASS, ...), for inet sockets. */
  control?: Cmsg[] | undefined;
}

/**
 * Sends `out` on the socket: streams loop until everything is sent when blocking (a signal or an
 * error after some bytes gives the count), messages go whole. EPIPE raises SIGPIPE unless
 * MSG_NOSIGNAL. Descriptors that were not sent go back.
 */
function doSend(t: Task, f: { file: FileDescription; s: SocketImpl }, out: Outgoing, flags: number): Result {
  const sock = f.s.sock;
  const nb = nonBlocking(f.file, flags);
  let to: Sockaddr | undefined;
  if (sock instanceof UnixSocket && out.to && out.to.length > 0) {
    const addr = unixAddr(out.to);
    if (isError(addr)) return dropAll(t, out, addr);
    to = addr;
  }
  const fs = sock instanceof UnixSocket ? pathBinder(t) : undefined;
  // Credentials the receiver sees unless the sender gave its own: the sending process's pid and
  // real ids (scm_send's current_uid/current_gid), not the socket owner's.
  out.creds ??= { pid: t.tgid, uid: t.creds.uid, gid: t.creds.gid, process: t.group };
  let rightsSent = false;
  const attempt = (sent: number): number | LinuxError | 'block' => {
    const chunk = out.data.subarray(sent);
    let r: number | LinuxError | typeof NET_WOULD_BLOCK;
    if (sock instanceof UnixSocket) {
      const anc = rightsSent ? {} : { rights: out.rights, creds: out.creds };
      r = sock.send(chunk, flags, to, fs, anc);
      if (typeof r === 'number') rightsSent = true;
    } else {
      const dst = out.to && out.to.length > 0 ? out.to : undefined;
      r =
        sock instanceof InetSocket
          ? sock.sendto(chunk, flags, dst, out.control)
          : sock.sendto(chunk, flags, dst, netlinkSender(t));
    }
    f.s.settle();
    return r === NET_WOULD_BLOCK ? 'block' : r;
  };
  const finish = (o: WriteOutcome): SyscallResult => {
    if (!rightsSent) dropAll(t, out, undefined);
    if (o.sent > 0) return o.sent;
    return o.stop === undefined ? 0 : isError(o.stop) ? sigpipe(t, o.stop, flags, sock.type) : o.stop;
  };
  // Sockets notify on every readiness change, so any change wakes the sender to try again.
  const timeout = sendTimeout(t, f.s, nb);
  const r = writeStream(
    t,
    { queue: f.s.queue, mask: -1 },
    out.data.length,
    timeout ? timeout.wrap(attempt) : attempt,
    { nonBlocking: nb || timeout?.timeoutNs === 0n, loop: sock.type === SockType.SOCK_STREAM },
  );
  const end = (o: WriteOutcome): SyscallResult => finish(timeout ? timeout.end(o) : o);
  return r instanceof Promise ? r.then(end) : end(r);
}

/** SO_SNDTIMEO for one blocking send on a netstack socket (see {@link SendTimeout}). */
function sendTimeout(t: Task, s: SocketImpl, nb: boolean): SendTimeout | undefined {
  const ns = timeoutFor(s, nb, false);
  return ns === undefined || nb ? undefined : new SendTimeout(t, s.queue, -1, ns);
}

function dropAll(t: Task, out: Outgoing, r: LinuxError | undefined): LinuxError {
  if (out.rights) for (const x of out.rights) netOf(t).inFlight.close(x.slot);
  out.rights = undefined;
  return r ?? E.EINVAL;
}

function readData(t: Task, addr: number, len: number): Uint8Array | LinuxError {
  return t.memory.read(addr, Math.min(len, MAX_RW_COUNT));
}

/** implements sendto(2) (and send(3)). */
function sendto(t: Task, a: SyscallArgs): Result {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  let len = Number(a[2] & 0xffff_ffffn);
  if (a[2] > INT_MAX_N) len = INT_MAX;
  // MSG_OOB (urgent data), MSG_FASTOPEN (connect to the address first) and MSG_MORE (hold a
  // partial segment) take the copying path below, whose InetSocket.sendto sees the flag and the
  // address.
  if (
    f.s.sock instanceof InetSocket &&
    f.s.sock.type === SockType.SOCK_STREAM &&
    !(int(a[3]) & (MsgFlag.MSG_OOB | MsgFlag.MSG_FASTOPEN | MsgFlag.MSG_MORE))
  ) {
    // The destination is ignored on a stream socket, but still read and checked (EINVAL, EFAULT).
    if (ptr(a[4]) !== 0) {
      const b = readAddr(t, ptr(a[4]), int(a[5]));
      if (isError(b)) return b;
    }
    return tcpSend(t, f, ptr(a[1]), Math.min(len, MAX_RW_COUNT), int(a[3]));
  }
  const data = readData(t, ptr(a[1]), len);
  if (isError(data)) return data;
  let to: Uint8Array | undefined;
  if (ptr(a[4]) !== 0) {
    const b = readAddr(t, ptr(a[4]), int(a[5]));
    if (isError(b)) return b;
    to = b;
  }
  return doSend(t, f, { data, to, rights: undefined, creds: undefined }, int(a[3]));
}

/**
 * send(2) on a TCP socket: the bytes go straight from the app's buffer into the send ring, as
 * many as fit per attempt, and a blocking send keeps going until all are queued (tcp_sendmsg).
 * A fault part way gives the count sent, EFAULT only when none was; EPIPE raises SIGPIPE unless
 * MSG_NOSIGNAL.
 */
function tcpSend(
  t: Task,
  f: { file: FileDescription; s: SocketImpl },
  addr: number,
  len: number,
  flags: number,
): Result {
  const src = new UserIOSequence(t.memory, { base: addr, len });
  const nb = nonBlocking(f.file, flags);
  const timeout = sendTimeout(t, f.s, nb);
  let first: number | LinuxError | 'block' | undefined;
  if (timeout === undefined) {
    // The common case first, with no closure: one attempt that queues all of it (or fails).
    const r = f.s.sendFromIO(src, len);
    f.s.settle();
    if (r !== NET_WOULD_BLOCK) {
      if (isError(r)) return tcpSent(t, 0, r, flags);
      if (r >= len || r === 0) return tcpSent(t, r, undefined, flags);
    }
    first = r === NET_WOULD_BLOCK ? 'block' : r;
  }
  return tcpSendOn(t, f, src, flags, nb, timeout, first);
}

/**
 * The rest of {@link tcpSend} once its first attempt did not end the call (`first`: what it
 * answered; undefined with SO_SNDTIMEO, where it is still to be made). A function of its own:
 * its closures capture the call's variables, which would make every send allocate a context.
 */
function tcpSendOn(
  t: Task,
  f: { file: FileDescription; s: SocketImpl },
  src: UserIOSequence,
  flags: number,
  nb: boolean,
  timeout: SendTimeout | undefined,
  first: number | LinuxError | 'block' | undefined,
): Result {
  const len = src.length;
  const attempt = (sent: number): number | LinuxError | 'block' => {
    const r = f.s.sendFromIO(src.dropFirst(sent), len - sent, sent);
    f.s.settle();
    return r === NET_WOULD_BLOCK ? 'block' : r;
  };
  const wait = { queue: f.s.queue, mask: -1 };
  const opts = { nonBlocking: nb || timeout?.timeoutNs === 0n, loop: true };
  const r =
    first === undefined
      ? writeStream(t, wait, len, timeout ? timeout.wrap(attempt) : attempt, opts)
      : writeStreamFrom(t, wait, len, attempt, opts, first);
  const finish = (o0: WriteOutcome): SyscallResult => {
    const o = timeout ? timeout.end(o0) : o0;
    return tcpSent(t, o.sent, o.stop, flags);
  };
  return r instanceof Promise ? r.then(finish) : finish(r);
}

/** What a TCP send that queued `sent` bytes and stopped for `stop` answers; EPIPE raises SIGPIPE. */
function tcpSent(
  t: Task,
  sent: number,
  stop: LinuxError | ControlResult | undefined,
  flags: number,
): SyscallResult {
  if (sent > 0) return sent;
  return stop === undefined ? 0 : isError(stop) ? sigpipe(t, stop, flags) : stop;
}

/** Gathers a msghdr's iovecs (EMSGSIZE above UIO_MAXIOV, EFAULT). */
function gatherIov(t: Task, iovAddr: number, iovlen: number): Uint8Array | LinuxError {
  if (iovlen > 1024) return E.EMSGSIZE;
  const iov = t.memory.readIovecs(iovAddr, iovlen);
  if (isError(iov)) return iov;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const v of iov) {
    const n = Math.min(v.len, MAX_RW_COUNT - total);
    if (n <= 0) break;
    const b = t.memory.read(v.base, n);
    if (isError(b)) return b;
    parts.push(b);
    total += n;
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** __scm_send for AF_UNIX: SCM_RIGHTS (EBADF, EINVAL past SCM_MAX_FD) and SCM_CREDENTIALS (EPERM). */
function scmSend(
  t: Task,
  control: Uint8Array,
  isUnix: boolean,
): Pick<Outgoing, 'rights' | 'creds' | 'control'> | LinuxError {
  const msgs = parseCmsgs(control, 0, control.length);
  if (isError(msgs)) return msgs;
  const net = netOf(t);
  const rights: InFlight[] = [];
  let creds: UnixCreds | undefined;
  const other: Cmsg[] = [];
  const fail = (e: LinuxError): LinuxError => {
    for (const x of rights) net.inFlight.close(x.slot);
    return e;
  };
  for (const m of msgs) {
    if (m.level !== SocketLevel.SOL_SOCKET) {
      other.push(m);
      continue;
    }
    if (!isUnix) return fail(E.EINVAL);
    if (m.type === 1) {
      const fds = parseScmRights(m.data);
      if (isError(fds)) return fail(fds);
      if (rights.length + fds.length > SCM_MAX_FD) return fail(E.EINVAL);
      for (const fd of fds) {
        const file = fileAt(t, fd);
        if (isError(file) || file.isPath) return fail(E.EBADF);
        const slot = net.inFlight.install(file, { limit: 1 << 30 });
        if (isError(slot)) return fail(slot);
        rights.push({ file, slot });
      }
    } else if (m.type === 2) {
      const c = parseScmCredentials(m.data);
      if (isError(c)) return fail(c);
      const cr = t.creds;
      const admin = capable(cr, Capability.CAP_SYS_ADMIN);
      if (c.pid !== t.tgid && !admin) return fail(E.EPERM);
      if (c.uid !== cr.uid && c.uid !== cr.euid && c.uid !== cr.suid && !capable(cr, Capability.CAP_SETUID))
        return fail(E.EPERM);
      if (c.gid !== cr.gid && c.gid !== cr.egid && c.gid !== cr.sgid && !capable(cr, Capability.CAP_SETGID))
        return fail(E.EPERM);
      // scm_send's find_get_pid: ESRCH for a pid that names no task; SCM_PIDFD then names the
      // process of the pid given.
      const process = t.kernel.threadGroup(c.pid) ?? t.kernel.task(c.pid)?.group;
      if (!process) return fail(E.ESRCH);
      creds = { pid: c.pid, uid: c.uid, gid: c.gid, process };
    } else return fail(E.EINVAL);
  }
  return { rights: rights.length > 0 ? rights : undefined, creds, control: other };
}

/** implements sendmsg(2): data from the iovecs, an optional address, SCM_RIGHTS/SCM_CREDENTIALS. */
function sendmsg(t: Task, a: SyscallArgs): Result {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  return sendOne(t, f, ptr(a[1]), int(a[2]));
}

/** ___sys_sendmsg: one message described by the msghdr at `mp`. */
function sendOne(t: Task, f: { file: FileDescription; s: SocketImpl }, mp: number, flags: number): Result {
  const raw = t.memory.read(mp, msghdr.size);
  if (isError(raw)) return raw;
  const m = msghdr.parse(raw, 0);
  if (isError(m)) return m;
  if (m.msg_namelen < 0) return E.EINVAL;
  let to: Uint8Array | undefined;
  if (m.msg_name !== 0 && m.msg_namelen > 0) {
    const b = readAddr(t, m.msg_name, Math.min(m.msg_namelen, SOCKADDR_STORAGE));
    if (isError(b)) return b;
    to = b;
  }
  const data = gatherIov(t, m.msg_iov, m.msg_iovlen);
  if (isError(data)) return data;
  let anc: Pick<Outgoing, 'rights' | 'creds' | 'control'> = { rights: undefined, creds: undefined };
  if (m.msg_controllen > 0) {
    if (m.msg_controllen > INT_MAX) return E.ENOBUFS;
    if (m.msg_controllen < 16) return E.EINVAL;
    const control = t.memory.read(m.msg_control, m.msg_controllen);
    if (isError(control)) return control;
    const r = scmSend(t, control, f.s.sock instanceof UnixSocket);
    if (isError(r)) return r;
    anc = r;
  }
  return doSend(t, f, { data, to, ...anc }, flags);
}

// ---- receive --------------------------------------------------------------------------------------

interface Received {
  n: number;
  len: number;
  truncated: boolean;
  from: Uint8Array | undefined;
  rights: readonly unknown[] | undefined;
  creds: UnixCreds | undefined;
  /** IP-level control messages of a datagram (IP_PKTINFO, IPV6_HOPLIMIT, ...). */
  control?: readonly Cmsg[] | undefined;
  /** TCP urgent data read with MSG_OOB (MSG_OOB in msg_flags). */
  oob?: boolean | undefined;
  /** AF_UNIX with SO_PASSPIDFD: the sending process, for SCM_PIDFD. */
  pidfdProcess?: unknown;
  /** An AF_UNIX stream read that stopped at the out-of-band mark: the call ends there. */
  atMark?: boolean | undefined;
  /** An inet socket's queued error, read with MSG_ERRQUEUE (MSG_ERRQUEUE in msg_flags). */
  errQueue?: boolean | undefined;
}

/**
 * Receives into `buf` with MSG_PEEK/MSG_TRUNC/MSG_DONTWAIT/MSG_WAITALL: a stream socket with
 * MSG_WAITALL keeps reading until the buffer is full, end of file, an error or a signal.
 */
function doRecv(
  t: Task,
  f: { file: FileDescription; s: SocketImpl },
  buf: Uint8Array,
  flags: number,
): Received | LinuxError | ControlResult | Promise<Received | LinuxError | ControlResult> {
  const sock = f.s.sock;
  const nb = nonBlocking(f.file, flags);
  const waitall =
    (flags & MsgFlag.MSG_WAITALL) !== 0 &&
    !nb &&
    sock.type === SockType.SOCK_STREAM &&
    !(flags & MsgFlag.MSG_PEEK);
  // A blocking stream receive waits for SO_RCVLOWAT bytes (all of them with MSG_WAITALL).
  const target = waitall
    ? buf.length
    : nb || flags & MsgFlag.MSG_PEEK || sock.type !== SockType.SOCK_STREAM || sock instanceof NetlinkSocket
      ? 1
      : Math.min(rcvlowatOf(sock), buf.length);
  let got: Received | undefined;
  const once = (): Received | LinuxError | typeof NET_WOULD_BLOCK => {
    const dst = buf.subarray(got?.n ?? 0);
    if (sock instanceof UnixSocket) {
      const r = sock.recv(dst, flags);
      if (r === NET_WOULD_BLOCK || isError(r)) return r;
      return { ...r, from: r.from ? encodeSockaddr(r.from) : undefined };
    }
    const r = sock.recvfrom(dst, flags);
    if (r === NET_WOULD_BLOCK || isError(r)) return r;
    return { ...r, rights: undefined, creds: undefined };
  };
  const step = (): Received | LinuxError | typeof NET_WOULD_BLOCK => {
    for (;;) {
      const r = once();
      f.s.settle();
      if (r === NET_WOULD_BLOCK || isError(r)) {
        if (got && (isError(r) || got.n >= target)) return got;
        return r;
      }
      if (!got) got = r;
      else {
        // TCP_INQ's count is the one after the last read (tcp_recvmsg reports it at the end).
        const control = r.control ?? got.control;
        got = { ...got, n: got.n + r.n, len: got.len + r.len, rights: got.rights ?? r.rights, control };
      }
      if (got.n >= target || r.n === 0 || got.n >= buf.length || r.rights || r.atMark) return got;
    }
  };
  const r = step();
  if (r !== NET_WOULD_BLOCK) return r;
  const timeoutNs = timeoutFor(f.s, nb, true);
  if (timeoutNs === 0n) return E.EAGAIN;
  // What MSG_WAITALL gathered is returned when a signal or SO_RCVTIMEO ends the wait.
  const deadline = deadlineOf(t, timeoutNs);
  // A sleeping reader holds back a stream socket's SIGIO (SOCKWQ_ASYNC_WAITDATA).
  return readerAsleep(
    f.file,
    retryOnSocket(t, f.s, step, {
      deadline,
      onSignal: () => got ?? sockIntrErrno(deadline),
      onTimeout: () => got ?? E.EAGAIN,
    }),
  );
}

/** Frees received descriptors that will not be installed. */
function dropReceived(t: Task, rights: readonly unknown[] | undefined): void {
  if (!rights) return;
  for (const r of rights) netOf(t).inFlight.close((r as InFlight).slot);
}

/**
 * recv(2) on a TCP socket: bytes go straight from the receive ring into the app's buffer, and
 * only what reached it is consumed (a fault after some bytes gives their count, before any
 * EFAULT). MSG_PEEK copies without consuming; MSG_WAITALL (blocking, without MSG_PEEK) keeps
 * going until the buffer is full, end of stream, an error or a signal (what arrived is then
 * returned, as tcp_recvmsg does). A TCP socket reports no source address (length 0).
 */
function tcpRecv(
  t: Task,
  f: { file: FileDescription; s: SocketImpl },
  sock: InetSocket,
  a: SyscallArgs,
  len: number,
  flags: number,
): Result {
  const dst = new UserIOSequence(t.memory, { base: ptr(a[1]), len });
  const nb = nonBlocking(f.file, flags);
  const waitall = (flags & MsgFlag.MSG_WAITALL) !== 0 && !nb && (flags & MsgFlag.MSG_PEEK) === 0;
  // How many bytes a blocking receive waits for (sock_rcvlowat): all with MSG_WAITALL, else
  // SO_RCVLOWAT, never more than asked for. A peek is not held back.
  const target = waitall ? len : nb || flags & MsgFlag.MSG_PEEK ? 1 : Math.min(rcvlowatOf(sock), len);
  // The common case first, with no closure: one receive that takes enough (or fails).
  const first = f.s.recvIntoIO(dst, len, flags);
  f.s.settle();
  if (first !== NET_WOULD_BLOCK && (isError(first) || first === 0 || first >= target || first >= len))
    return tcpReceived(t, a, first);
  return tcpRecvOn(t, f, a, dst, flags, nb, target, first);
}

/**
 * The rest of {@link tcpRecv} once its first receive (which answered `first`) did not end the
 * call: more receives up to `target` bytes, waits, SO_RCVTIMEO. A function of its own: its
 * closures capture the call's variables, which would make every receive allocate a context.
 */
function tcpRecvOn(
  t: Task,
  f: { file: FileDescription; s: SocketImpl },
  a: SyscallArgs,
  dst: UserIOSequence,
  flags: number,
  nb: boolean,
  target: number,
  first: number | typeof NET_WOULD_BLOCK,
): Result {
  const len = dst.length;
  let got = first === NET_WOULD_BLOCK ? 0 : first;
  const step = (): number | LinuxError | typeof NET_WOULD_BLOCK => {
    for (;;) {
      const r = f.s.recvIntoIO(dst.dropFirst(got), len - got, flags);
      f.s.settle();
      if (r === NET_WOULD_BLOCK || isError(r)) return got > 0 && (isError(r) || got >= target) ? got : r;
      got += r;
      if (r === 0 || got >= target || got >= len) return got;
    }
  };
  const finish = (r: SyscallResult): SyscallResult => tcpReceived(t, a, r);
  const r = first === NET_WOULD_BLOCK ? first : step();
  if (r !== NET_WOULD_BLOCK) return finish(r);
  const timeoutNs = timeoutFor(f.s, nb, true);
  if (timeoutNs === 0n) return E.EAGAIN;
  const deadline = deadlineOf(t, timeoutNs);
  return then(
    readerAsleep(
      f.file,
      retryOnSocket(t, f.s, step, {
        deadline,
        onSignal: () => (got > 0 ? got : sockIntrErrno(deadline)),
        onTimeout: () => (got > 0 ? got : E.EAGAIN),
      }),
    ),
    finish,
  );
}

/** What a TCP receive that ended with `r` answers: a TCP socket reports no source address. */
function tcpReceived(t: Task, a: SyscallArgs, r: SyscallResult): SyscallResult {
  if (isError(r) || isControl(r)) return r;
  if (ptr(a[4]) !== 0) {
    const err = writeAddr(t, ptr(a[4]), ptr(a[5]), new Uint8Array(0));
    if (err) return err;
  }
  return r;
}

/** implements recvfrom(2) (and recv(3)). */
function recvfrom(t: Task, a: SyscallArgs): Result {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const flags = int(a[3]);
  let len = Number(a[2] & 0xffff_ffffn);
  if (a[2] > INT_MAX_N) len = INT_MAX;
  if (
    f.s.sock instanceof InetSocket &&
    f.s.sock.type === SockType.SOCK_STREAM &&
    (flags & (MsgFlag.MSG_TRUNC | MsgFlag.MSG_OOB | MsgFlag.MSG_ERRQUEUE)) === 0
  )
    return tcpRecv(t, f, f.s.sock, a, Math.min(len, MAX_RW_COUNT), flags);
  return recvCopied(t, a, f, len, flags);
}

/**
 * recvfrom(2) on the other sockets: into a buffer of the supervisor, then copied to the app. A
 * function of its own: its closure captures the call's variables, which would make every
 * recvfrom on TCP allocate a context for them.
 */
function recvCopied(
  t: Task,
  a: SyscallArgs,
  f: { file: FileDescription; s: SocketImpl },
  len: number,
  flags: number,
): Result {
  const buf = new Uint8Array(Math.min(len, MAX_RW_COUNT, 1 << 24));
  return then(doRecv(t, f, buf, flags), (r) => {
    if (isError(r) || isControl(r)) return r;
    dropReceived(t, r.rights);
    // tcp_recvmsg (and tcp_recv_urg) with MSG_TRUNC count the bytes without copying them.
    const tcpTrunc =
      flags & MsgFlag.MSG_TRUNC && f.s.sock instanceof InetSocket && f.s.sock.type === SockType.SOCK_STREAM;
    if (r.n > 0 && !tcpTrunc) {
      const err = t.memory.writeExact(ptr(a[1]), buf.subarray(0, r.n));
      if (err) return err;
    }
    if (ptr(a[4]) !== 0) {
      const err = writeAddr(t, ptr(a[4]), ptr(a[5]), r.from ?? new Uint8Array(0));
      if (err) return err;
    }
    return flags & MsgFlag.MSG_TRUNC && f.s.sock.type !== SockType.SOCK_STREAM ? r.len : r.n;
  });
}

/** implements recvmsg(2): scatter to the iovecs, the sender's address, SCM_CREDENTIALS, SCM_RIGHTS. */
function recvmsg(t: Task, a: SyscallArgs): Result {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  return recvOne(t, f, ptr(a[1]), int(a[2]));
}

/** ___sys_recvmsg: one message into the msghdr at `mp`. */
function recvOne(t: Task, f: { file: FileDescription; s: SocketImpl }, mp: number, flags: number): Result {
  const hdr = readMsghdr(t, mp);
  if (isError(hdr)) return hdr;
  const { raw, m, iov } = hdr;
  let total = 0;
  for (const v of iov) total = Math.min(total + v.len, MAX_RW_COUNT, 1 << 24);
  const buf = new Uint8Array(total);
  return then(doRecv(t, f, buf, flags), (r) => {
    if (isError(r) || isControl(r)) return r;
    let done = 0;
    for (const v of iov) {
      if (done >= r.n) break;
      const n = Math.min(v.len, r.n - done);
      const err = t.memory.writeExact(v.base, buf.subarray(done, done + n));
      if (err) {
        dropReceived(t, r.rights);
        return err;
      }
      done += n;
    }
    // ____sys_recvmsg starts msg_flags from the caller's MSG_CMSG_CLOEXEC (Go's ReadMsgUnix checks).
    let msgFlags =
      (flags & MsgFlag.MSG_CMSG_CLOEXEC) |
      (r.truncated ? MsgFlag.MSG_TRUNC : 0) |
      (r.oob ? MsgFlag.MSG_OOB : 0) |
      (r.errQueue ? MsgFlag.MSG_ERRQUEUE : 0);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    // msg_namelen: the full length of the address (0 when there is none), a prefix copied.
    const from = r.from ?? new Uint8Array(0);
    if (m.msg_name !== 0 && from.length > 0) {
      const n = Math.min(Math.min(m.msg_namelen, SOCKADDR_STORAGE), from.length);
      const err = n > 0 ? t.memory.writeExact(m.msg_name, from.subarray(0, n)) : undefined;
      if (err) {
        dropReceived(t, r.rights);
        return err;
      }
    }
    dv.setInt32(8, m.msg_name !== 0 ? from.length : 0, true);
    // put_cmsg: no control buffer (or one too small for a header) only sets MSG_CTRUNC.
    const controlLen = m.msg_control === 0 ? 0 : Math.min(m.msg_controllen, 1 << 16);
    const control = new Uint8Array(controlLen);
    const w = new CmsgWriter(control, 0, controlLen);
    // SO_TIMESTAMP(NS) first, as sock_recv_cmsgs runs before the IP and SCM ones.
    const stamp = timestampCmsg(f.s.sock, t.kernel.time.realtimeNs());
    if (stamp) w.put(SocketLevel.SOL_SOCKET, stamp.type, stamp.data);
    if (r.creds) w.put(SocketLevel.SOL_SOCKET, 2, ucred.encode(r.creds));
    // put_cmsg: each message goes whole, cut (MSG_CTRUNC) or, without room for a header, dropped.
    for (const c of r.control ?? []) w.put(c.level, c.type, c.data);
    if (r.rights) {
      const room = m.msg_control === 0 ? 0 : w.maxRights();
      const fds: number[] = [];
      const cloexec = (flags & MsgFlag.MSG_CMSG_CLOEXEC) !== 0;
      for (const x of r.rights.slice(0, room) as InFlight[]) {
        const fd = filesOf(t).install(x.file, { limit: nofile(t), cloexec });
        if (isError(fd)) break;
        fds.push(fd);
      }
      dropReceived(t, r.rights);
      if (fds.length > 0 || r.rights.length > 0) w.putRights(fds, r.rights.length);
    }
    // SCM_PIDFD comes last (scm_recv_unix). Without a control buffer no pidfd is made and the
    // message is only marked cut; with one, it is installed even when it does not fit.
    if (r.pidfdProcess !== undefined) {
      const pidfd = m.msg_control === 0 ? new Uint8Array(4) : scmPidfd(t, r.pidfdProcess);
      if (pidfd) w.put(SocketLevel.SOL_SOCKET, SCM_PIDFD, pidfd);
    }
    msgFlags |= w.flags;
    if (w.written > 0) {
      const err = t.memory.writeExact(m.msg_control, control.subarray(0, w.written));
      if (err) return err;
    }
    dv.setBigUint64(40, BigInt(w.written), true);
    dv.setInt32(48, msgFlags, true);
    const err = t.memory.writeExact(mp, raw);
    if (err) return err;
    return flags & MsgFlag.MSG_TRUNC && f.s.sock.type !== SockType.SOCK_STREAM ? r.len : r.n;
  });
}

// ---- sendmmsg, recvmmsg ---------------------------------------------------------------------------

/** sizeof(struct mmsghdr): a msghdr and the `unsigned int msg_len` the kernel fills, padded. */
const MMSGHDR_SIZE = 64;
const MSG_LEN_OFFSET = 56;
const UIO_MAXIOV = 1024;
const MSG_CMSG_COMPAT = 0x80000000;

/**
 * Runs `step(0)`, `step(1)`, ... up to `n - 1` while it answers true, synchronously until a step
 * has to wait; then `done()` gives the syscall's result.
 */
function eachMessage(
  n: number,
  step: (i: number) => boolean | Promise<boolean>,
  done: () => SyscallResult,
): Result {
  const run = (from: number): Result => {
    for (let i = from; i < n; i++) {
      const go = step(i);
      if (go instanceof Promise) return go.then((more) => (more ? run(i + 1) : done()));
      if (!go) break;
    }
    return done();
  };
  return run(0);
}

function thenBool(r: Result, f: (v: SyscallResult) => boolean): boolean | Promise<boolean> {
  return r instanceof Promise ? r.then(f) : f(r);
}

/**
 * implements sendmmsg(2): sendmsg for each entry of the vector (at most UIO_MAXIOV), storing
 * each sent length in its `msg_len`. An error after the first message ends the batch and is
 * dropped: the count of messages sent is returned, as __sys_sendmmsg does.
 */
function sendmmsg(t: Task, a: SyscallArgs): Result {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const vec = ptr(a[1]);
  const vlen = Math.min(uint(a[2]), UIO_MAXIOV);
  const flags = int(a[3]);
  let sent = 0;
  let stop: SyscallResult | undefined;
  const step = (i: number): boolean | Promise<boolean> => {
    const entry = vec + i * MMSGHDR_SIZE;
    return thenBool(sendOne(t, f, entry, flags), (r) => {
      if (typeof r !== 'number') {
        stop = r;
        return false;
      }
      const err = t.memory.writeI32(entry + MSG_LEN_OFFSET, r);
      if (err) {
        stop = err;
        return false;
      }
      sent++;
      return true;
    });
  };
  return eachMessage(vlen, step, () => (sent > 0 ? sent : (stop ?? 0)));
}

/**
 * implements recvmmsg(2): recvmsg into each entry of the vector (at most UIO_MAXIOV), storing
 * each length in its `msg_len`. MSG_WAITFORONE makes every receive after the first
 * non-blocking. The timeout, as in Linux, is checked only after each message arrives (it never
 * cuts a wait short: see recvmmsg(2) BUGS); the time left is written back when messages came.
 * An error after the first message ends the batch and the count is returned.
 */
function recvmmsg(t: Task, a: SyscallArgs): Result {
  let flags = int(a[3]);
  if (flags & MSG_CMSG_COMPAT) return E.EINVAL;
  const tp = ptr(a[4]);
  let deadline: bigint | undefined;
  if (a[4] !== 0n) {
    const ts = readStruct(t, tp, timespec);
    if (isError(ts)) return ts;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
    // poll_select_set_timeout: a zero timeout is the deadline 0, already past after one message.
    deadline =
      ts.tv_sec === 0 && ts.tv_nsec === 0
        ? 0n
        : t.kernel.time.monotonicNs() + BigInt(ts.tv_sec) * 1_000_000_000n + BigInt(ts.tv_nsec);
  }
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const vec = ptr(a[1]);
  const vlen = Math.min(uint(a[2]), UIO_MAXIOV);
  let got = 0;
  let stop: SyscallResult | undefined;
  let left = 0n;
  const step = (i: number): boolean | Promise<boolean> => {
    const entry = vec + i * MMSGHDR_SIZE;
    return thenBool(recvOne(t, f, entry, flags & ~MsgFlag.MSG_WAITFORONE), (r) => {
      if (typeof r !== 'number') {
        stop = r;
        return false;
      }
      const err = t.memory.writeI32(entry + MSG_LEN_OFFSET, r);
      if (err) {
        stop = err;
        return false;
      }
      got++;
      if (flags & MsgFlag.MSG_WAITFORONE) flags |= MsgFlag.MSG_DONTWAIT;
      if (deadline !== undefined) {
        left = deadline - t.kernel.time.monotonicNs();
        if (left <= 0n) {
          left = 0n;
          return false;
        }
      }
      return true;
    });
  };
  return eachMessage(vlen, step, () => {
    if (got === 0) return stop ?? 0;
    if (deadline !== undefined) {
      const err = writeStruct(t, tp, timespec, {
        tv_sec: Number(left / 1_000_000_000n),
        tv_nsec: Number(left % 1_000_000_000n),
      });
      if (err) return err;
    }
    return got;
  });
}

// ---- options --------------------------------------------------------------------------------------

/** Boolean SOL_SOCKET options Linux keeps on any socket: SO_REUSEADDR, SO_KEEPALIVE, SO_DONTROUTE, SO_BROADCAST, SO_OOBINLINE. */
const GENERIC_FLAGS: readonly number[] = [
  SocketOption.SO_REUSEADDR,
  SocketOption.SO_KEEPALIVE,
  SocketOption.SO_DONTROUTE,
  SocketOption.SO_BROADCAST,
  SocketOption.SO_OOBINLINE,
];
const unixFlags = new WeakMap<UnixSocket, Map<number, boolean>>();
function genericFlags(s: UnixSocket): Map<number, boolean> {
  let m = unixFlags.get(s);
  if (!m) {
    m = new Map();
    unixFlags.set(s, m);
  }
  return m;
}

/**
 * implements setsockopt(2): integer options (EINVAL when optlen < 4, EFAULT), SO_LINGER,
 * SO_RCVTIMEO/SO_SNDTIMEO, SO_BINDTODEVICE and the options every socket keeps (socket-options.ts).
 */
function setsockopt(t: Task, a: SyscallArgs): SyscallResult {
  const r = setsockoptOnce(t, a);
  const name = int(a[2]);
  if (r === 0 && int(a[1]) === SocketLevel.SOL_SOCKET && isBufferSize(name)) {
    const f = sockAt(t, int(a[0]));
    if (!isError(f)) noteBufferSet(f.s.sock, name);
  }
  return r;
}

function isBufferSize(name: number): boolean {
  return (
    name === SocketOption.SO_SNDBUF ||
    name === SocketOption.SO_RCVBUF ||
    name === SocketOption.SO_SNDBUFFORCE ||
    name === SocketOption.SO_RCVBUFFORCE
  );
}

function setsockoptOnce(t: Task, a: SyscallArgs): SyscallResult {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const level = int(a[1]);
  const name = int(a[2]);
  const optlen = int(a[4]);
  const sock = f.s.sock;
  if (sock instanceof UnixSocket && level !== SocketLevel.SOL_SOCKET) return E.EOPNOTSUPP;
  if (
    isFilterSetOption(level, name) &&
    (sock instanceof InetSocket || sock instanceof UnixSocket || sock instanceof NetlinkSocket)
  )
    return setFilterOption(
      t,
      sock.filter,
      name,
      ptr(a[3]),
      optlen,
      sock instanceof InetSocket ? sock : undefined,
    );
  if (sock instanceof UnixSocket && isUnixOption(name))
    return setUnixOption(t, sock, name, ptr(a[3]), optlen);
  if (sock instanceof NetlinkSocket && level === SocketLevel.SOL_NETLINK && optlen < 4) {
    // netlink_setsockopt reads the int only when optlen allows one; a shorter value is 0.
    return sock.setsockopt(level, name, 0);
  }
  const forced =
    level === SocketLevel.SOL_SOCKET &&
    (name === SocketOption.SO_SNDBUFFORCE || name === SocketOption.SO_RCVBUFFORCE);
  if (sock instanceof InetSocket && forced && !capable(t.creds, Capability.CAP_NET_ADMIN)) return E.EPERM;
  if (level === SocketLevel.SOL_SOCKET && isTimeoutOption(name))
    return setTimeoutOption(t, sock, name, ptr(a[3]), optlen);
  if (level === SocketLevel.SOL_SOCKET && isCoreOption(name) && !(sock instanceof NetlinkSocket))
    return setCoreOption(t, sock, name, ptr(a[3]), optlen, f.s.net.links());
  if (sock instanceof InetSocket) {
    const r = setInetOption(t, sock, level, name, ptr(a[3]), optlen);
    // What an option may send (an uncorked segment, an ACK, a membership report) or re-time
    // goes out now; a closed TCP socket has nothing to send for SOL_SOCKET or SOL_TCP options.
    const quiet = sock.idleTcp && (level === SocketLevel.SOL_SOCKET || level === SocketLevel.SOL_TCP);
    if (!quiet) f.s.settle();
    return r;
  }
  if (optlen < 4) return E.EINVAL;
  const v = t.memory.readI32(ptr(a[3]));
  if (isError(v)) return v;
  if (sock instanceof NetlinkSocket) return sock.setsockopt(level, name, v);
  if (level === SocketLevel.SOL_SOCKET) {
    if (name === SocketOption.SO_SNDBUF || name === SocketOption.SO_RCVBUF) {
      // sock_setsockopt: the value is capped at wmem_max/rmem_max, then doubled for overhead.
      const val = Math.min(Math.max(v, 0), WMEM_MAX) * 2;
      if (sock instanceof UnixSocket) {
        if (name === SocketOption.SO_SNDBUF) sock.sndbuf = Math.max(val, SOCK_MIN_SNDBUF);
        else sock.rcvbuf = Math.max(val, SOCK_MIN_RCVBUF);
        return 0;
      }
      return E.ENOPROTOOPT;
    }
    if (sock instanceof UnixSocket) {
      if (name === SocketOption.SO_PASSCRED) {
        sock.passcred = v !== 0;
        return 0;
      }
      if (GENERIC_FLAGS.includes(name)) {
        // sock_setsockopt stores these for every family; AF_UNIX never looks at them.
        genericFlags(sock).set(name, v !== 0);
        return 0;
      }
      // sk_reuseport is for inet sockets only; reading it gives 0.
      if (name === SocketOption.SO_REUSEPORT) return E.EOPNOTSUPP;
      return E.ENOPROTOOPT;
    }
  }
  return E.ENOPROTOOPT;
}

/**
 * SO_RCVTIMEO/SO_SNDTIMEO (old and new forms) on a netstack socket, in sk_setsockopt's order:
 * `EINVAL` below an int, `EFAULT` for the int, then sock_set_timeout's checks (`EINVAL` below the
 * struct, `EDOM`; see {@link parseTimeout}).
 */
function setTimeoutOption(
  t: Task,
  sock: AnySocket,
  name: number,
  addr: number,
  optlen: number,
): 0 | LinuxError {
  if (optlen < 4) return E.EINVAL;
  const first = t.memory.readI32(addr);
  if (isError(first)) return first;
  const ns = parseTimeout((p, n) => t.memory.read(p, n), addr, optlen);
  if (isError(ns)) return ns;
  const v = timeoutsOf(sock);
  if (isReceiveTimeout(name)) v.rcv = ns;
  else v.snd = ns;
  return 0;
}

const TCP_CA_NAME_MAX = 16;
const LINGER_LEN = 8;

/**
 * setsockopt(2) on an AF_INET/AF_INET6 socket: reads as many bytes as the option's value has
 * (a `struct linger` for SO_LINGER, up to TCP_CA_NAME_MAX - 1 name bytes for TCP_CONGESTION, an
 * int otherwise) and hands them to netstack. As Linux, a too-short optlen is EINVAL before
 * memory is touched (TCP_CONGESTION needs one byte, everything else an int), and SO_LINGER
 * shorter than its struct is EINVAL.
 */
function setInetOption(
  t: Task,
  sock: InetSocket,
  level: number,
  name: number,
  addr: number,
  optlen: number,
): 0 | LinuxError {
  // TCP_CONGESTION and TCP_ULP take a name of at least one byte.
  const congestion =
    level === SocketLevel.SOL_TCP && (name === TcpOption.TCP_CONGESTION || name === TcpOption.TCP_ULP);
  const linger = level === SocketLevel.SOL_SOCKET && name === SocketOption.SO_LINGER;
  // SOL_IP's int options also take a byte, or nothing (see InetSocket.optionMinLength).
  if (optlen < 0 || optlen < (congestion ? 1 : InetSocket.optionMinLength(level, name))) return E.EINVAL;
  const want = congestion
    ? TCP_CA_NAME_MAX - 1
    : linger
      ? LINGER_LEN
      : InetSocket.optionValueLength(level, name);
  const raw = t.memory.read(addr, Math.min(optlen, want));
  if (isError(raw)) return raw;
  // IP_TRANSPARENT / IPV6_TRANSPARENT on: CAP_NET_RAW or CAP_NET_ADMIN (EPERM).
  if (
    InetSocket.optionNeedsNetAdmin(level, name, raw) &&
    !capable(t.creds, Capability.CAP_NET_RAW) &&
    !capable(t.creds, Capability.CAP_NET_ADMIN)
  )
    return E.EPERM;
  if (level !== SocketLevel.SOL_IP || name !== IpOption.IP_TOS) return sock.setsockoptBytes(level, name, raw);
  const before = sock.getsockopt(level, name);
  const r = sock.setsockoptBytes(level, name, raw);
  const after = sock.getsockopt(level, name);
  if (r === 0 && typeof before === 'number' && typeof after === 'number') noteTosSet(sock, before, after);
  return r;
}

/**
 * The lingering part of close(2), as Linux's inet_release with SO_LINGER on and a non-zero
 * timeout: when `file` was the last reference to a TCP socket whose sent data is not yet
 * acknowledged, the calling task waits until it is, the linger time passes, or a signal comes.
 * close returns 0 in every case, and O_NONBLOCK does not shorten the wait (both checked against
 * Linux in sys-socket-linger.test.ts). A zero timeout (abort with RST) is done by netstack's close.
 */
export function lingerOnClose(t: Task, file: FileDescription): 0 | Promise<0> {
  const impl = file.impl;
  if (impl instanceof HostSocketImpl) return hostLingerOnClose(t, impl);
  if (!(impl instanceof SocketImpl) || !impl.released) return 0;
  const sock = impl.sock;
  if (!(sock instanceof InetSocket)) return 0;
  const ms = sock.lingerTimeout;
  if (ms === undefined || sock.lingerDone()) return 0;
  const w = new Waiter(undefined);
  const stop = impl.net.stack.watch(
    w,
    () => (sock.lingerDone() ? 1 : 0),
    (done) => {
      if (done) w.wake('notified');
    },
  );
  w.setDeadline(t.kernel.time, t.kernel.time.monotonicNs() + BigInt(ms) * 1_000_000n);
  impl.net.kick();
  return t.block(w).then(() => {
    stop();
    return 0 as const;
  });
}

/**
 * implements getsockopt(2): integer options, SO_PEERCRED as a struct ucred, SO_RCVTIMEO and
 * SO_SNDTIMEO as a timeval. A value longer than `*optlen` is cut to it, as sk_getsockopt does.
 * A negative `*optlen` is EINVAL only once the level and the name are known to the socket
 * (negativeOptlenError), or asks for the whole value where Linux reads it as unsigned.
 */
function getsockopt(t: Task, a: SyscallArgs): SyscallResult {
  const f = sockAt(t, int(a[0]));
  if (isError(f)) return f;
  const level = int(a[1]);
  const name = int(a[2]);
  const lenp = ptr(a[4]);
  let len = t.memory.readI32(lenp);
  if (isError(len)) return len;
  const sock = f.s.sock;
  if (len < 0) {
    // A few options read the length as unsigned: a negative one asks for the whole value.
    if (!(sock instanceof InetSocket && sock.takesUnsignedOptlen(level, name)))
      return negativeOptlenError(sock, level, name);
    len = 0x7fffffff;
  }
  if (
    isFilterGetOption(level, name) &&
    (sock instanceof InetSocket || sock instanceof UnixSocket || sock instanceof NetlinkSocket)
  )
    return getFilterOption(t, sock.filter, name, ptr(a[3]), lenp, len);
  if (sock instanceof UnixSocket && level === SocketLevel.SOL_SOCKET && isUnixOption(name))
    return getUnixOption(t, sock, name, ptr(a[3]), lenp, len);
  let bytes: Uint8Array;
  if (level === SocketLevel.SOL_SOCKET && isTimeoutOption(name)) {
    const v = timeoutsOf(sock);
    bytes = encodeTimeout(isReceiveTimeout(name) ? v.rcv : v.snd);
  } else if (level === SocketLevel.SOL_SOCKET && isCoreOption(name) && !(sock instanceof NetlinkSocket)) {
    const peer = (): Uint8Array | LinuxError => {
      const p = sock.getpeername();
      return isError(p) || p instanceof Uint8Array ? p : encodeSockaddr(p);
    };
    const v = getCoreOption(t, sock, name, len, f.s.net.links(), peer, (n) => t.memory.writeI32(lenp, n));
    if (isError(v)) return v;
    bytes = v;
  } else if (level === SocketLevel.SOL_SOCKET && name === SocketOption.SO_PEERCRED) {
    // cred_to_ucred without a peer: pid 0 and ids -1.
    const c = sock instanceof UnixSocket ? sock.peercred() : { pid: 0, uid: 0xffffffff, gid: 0xffffffff };
    bytes = ucred.encode(c);
  } else if (sock instanceof InetSocket) {
    // Struct and string values (SO_LINGER, TCP_INFO, TCP_CONGESTION) as well as ints.
    const v = sock.getsockoptBytes(level, name, len, (n) => t.memory.writeI32(lenp, n));
    if (isError(v)) return v;
    bytes = v;
  } else {
    const v = optionValue(sock, level, name);
    if (isError(v)) return v;
    bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setInt32(0, v, true);
  }
  const n = Math.min(len, bytes.length);
  const err = t.memory.writeExact(ptr(a[3]), bytes.subarray(0, n));
  if (err) return err;
  return t.memory.writeI32(lenp, n) ?? 0;
}

/**
 * The errno of getsockopt(2) with a negative `*optlen`: Linux tests the length where the level's
 * handler reads it, after it has refused a level or a name it does not have. SOL_SOCKET
 * (sk_getsockopt) reads it first: EINVAL. An AF_UNIX socket has no other handler
 * (do_sock_getsockopt: EOPNOTSUPP); netlink_getsockopt refuses any level but SOL_NETLINK with
 * ENOPROTOOPT; inet sockets: InetSocket.negativeOptlenError.
 */
function negativeOptlenError(sock: AnySocket, level: number, name: number): LinuxError {
  if (level === SocketLevel.SOL_SOCKET) return E.EINVAL;
  if (sock instanceof InetSocket) return sock.negativeOptlenError(level, name);
  if (sock instanceof UnixSocket) return E.EOPNOTSUPP;
  return level === SocketLevel.SOL_NETLINK ? E.EINVAL : E.ENOPROTOOPT;
}

function optionValue(sock: AnySocket, level: number, name: number): number | LinuxError {
  if (!(sock instanceof UnixSocket)) return sock.getsockopt(level, name);
  if (level !== SocketLevel.SOL_SOCKET) return E.EOPNOTSUPP;
  switch (name) {
    case SocketOption.SO_TYPE:
      return sock.type;
    case SocketOption.SO_DOMAIN:
      return AddressFamily.AF_UNIX;
    case SocketOption.SO_PROTOCOL:
      return 0;
    case SocketOption.SO_ERROR:
      return sock.takeError()?.errno ?? 0;
    case SocketOption.SO_PASSCRED:
      return sock.passcred ? 1 : 0;
    case SocketOption.SO_SNDBUF:
      return sock.sndbuf;
    case SocketOption.SO_RCVBUF:
      return sock.rcvbuf;
    case SocketOption.SO_ACCEPTCONN:
      return sock.listening ? 1 : 0;
    case SocketOption.SO_REUSEPORT:
      return 0;
    default:
      if (GENERIC_FLAGS.includes(name)) return genericFlags(sock).get(name) ? 1 : 0;
      return E.ENOPROTOOPT;
  }
}

/** Socket syscalls (in network mode `host`, AF_INET/AF_INET6 ones go to sys-socket-host.ts). */
/** What recvfrom and recvmsg do of MSG_ERRQUEUE. */
const ERRQUEUE_NOTE =
  'MSG_ERRQUEUE reads what IP_RECVERR/IPV6_RECVERR queue on netstack UDP sockets (ICMP errors, the local EMSGSIZE of a send too large) and ping sockets (ICMP errors); no timestamping or zerocopy notices';

const inetUnixNetlinkSockets: SyscallFamily = withHostSockets({
  socket: {
    handler: socket,
    support: partial(
      'AF_UNIX, AF_INET and AF_INET6 (loopback only; SOCK_RAW with CAP_NET_RAW, refused in network mode host), AF_NETLINK (NETLINK_ROUTE: dumps, address and route changes, notifications; NETLINK_SOCK_DIAG: inet_diag and unix_diag with bytecode filters, SOCK_DESTROY aborting TCP connections and listeners, UDP and raw sockets (EOPNOTSUPP for UDP-Lite)); AF_PACKET (SOCK_RAW and SOCK_DGRAM on the netstack links with CAP_NET_RAW; PACKET_RX_RING and PACKET_TX_RING TPACKET_V1/V2/V3, PACKET_FANOUT (no eBPF programs); SOCK_PACKET ESOCKTNOSUPPORT); other families EAFNOSUPPORT',
    ),
  },
  socketpair: { handler: socketpair, support: FULL },
  bind: { handler: bind, support: FULL },
  listen: { handler: listen, support: FULL },
  accept: { handler: accept, support: FULL },
  accept4: { handler: accept4, support: FULL },
  connect: { handler: connect, support: FULL },
  getsockname: { handler: getsockname, support: FULL },
  getpeername: { handler: getpeername, support: FULL },
  shutdown: { handler: shutdown, support: FULL },
  sendto: {
    handler: sendto,
    support: partial('MSG_OOB is EOPNOTSUPP on AF_UNIX datagram and seqpacket sockets, as in Linux'),
  },
  recvfrom: {
    handler: recvfrom,
    support: partial(ERRQUEUE_NOTE),
  },
  sendmsg: {
    handler: sendmsg,
    support: partial('SOL_SOCKET control messages only on AF_UNIX (SCM_RIGHTS, SCM_CREDENTIALS)'),
  },
  recvmsg: {
    handler: recvmsg,
    support: partial(ERRQUEUE_NOTE),
  },
  sendmmsg: {
    handler: sendmmsg,
    support: partial('as sendmsg; an error after the first message is dropped, as in Linux'),
  },
  recvmmsg: {
    handler: recvmmsg,
    support: partial('as recvmsg; an error after the first message is not kept for the next call (SO_ERROR)'),
  },
  setsockopt: {
    handler: setsockopt,
    support: partial(
      'integer options, SO_LINGER, SO_RCVTIMEO/SO_SNDTIMEO (old and 64-bit forms, rounded to jiffies at HZ 250), SO_BINDTODEVICE and TCP_CONGESTION; SO_BINDTODEVICE/SO_BINDTOIFINDEX tie netstack TCP and UDP sockets to lo or eth0 (receive, route and port sharing as Linux); SO_PEEK_OFF moves TCP, UDP and AF_UNIX peeks; TCP_NOTSENT_LOWAT gates POLLOUT and sends; SO_PRIORITY (which IP_TOS also sets, as rt_tos2priority), SO_MARK, SO_BUSY_POLL, SO_ZEROCOPY, SO_TIMESTAMPING and the like are kept and reported without their effect on routing or the device; IP_RECVERR/IPV6_RECVERR queue the ICMP errors of netstack UDP and ping sockets (MSG_ERRQUEUE); SO_ATTACH_FILTER/SO_DETACH_FILTER/SO_LOCK_FILTER run classic BPF on UDP, raw, ping, TCP, AF_UNIX datagram and netlink sockets; SO_ATTACH_REUSEPORT_CBPF/SO_DETACH_REUSEPORT_BPF pick the member of UDP and TCP SO_REUSEPORT groups (SO_ATTACH_BPF and SO_ATTACH_REUSEPORT_EBPF EINVAL: no bpf(2))',
    ),
  },
  getsockopt: {
    handler: getsockopt,
    support: partial(
      'integer options, SO_PEERCRED, SO_PEERGROUPS, SO_PEERNAME, SO_COOKIE, SO_BINDTODEVICE, SO_LINGER, SO_RCVTIMEO/SO_SNDTIMEO, SO_GET_FILTER, TCP_INFO and TCP_CONGESTION; SO_INCOMING_CPU reads what was set (-1 before)',
    ),
  },
});

/** Socket syscalls, with AF_PACKET sockets answered by sys-socket-packet.ts. */
export const socketSyscalls: SyscallFamily = withPacketSockets(inetUnixNetlinkSockets);
