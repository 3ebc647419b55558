/**
 * Signal-driven I/O: the owner of an open file description (fcntl F_SETOWN, F_SETOWN_EX), the
 * signal it gets (F_SETSIG), and the SIGIO sent when a description with O_ASYNC set (F_SETFL,
 * ioctl FIOASYNC) becomes ready, as Linux's fs/fcntl.c (f_setown, send_sigio, send_sigurg).
 *
 * The owner belongs to the open file description (Linux's `file->f_owner`), so it is shared by
 * dup'ed and inherited descriptors. While O_ASYNC is set, one waiter on the description's wait
 * queue sees its readiness events; which of them signal follows Linux's kill_fasync callers,
 * file type by file type, since a readiness change alone is not a reason (a peer reading what
 * this socket sent makes it writable, and Linux sends nothing for that):
 *
 * - AF_UNIX sockets (net/unix/af_unix.c, net/core/sock.c): POLL_IN when data or a connection
 *   arrives and when the peer of a stream or seqpacket shuts its sending side; POLL_HUP when
 *   that peer shuts both sides or closes; POLL_OUT (write space) only when a send found no room
 *   since the last such signal, or a poll found a datagram or seqpacket socket not writable
 *   (SOCKWQ_ASYNC_NOSPACE, test and clear). Own sends, reads and shutdowns, and a peer's SHUT_RD,
 *   signal nothing. A reader asleep on a stream socket holds back POLL_IN and POLL_HUP
 *   (SOCKWQ_ASYNC_WAITDATA).
 * - Inet sockets (net/ipv4/tcp_input.c, net/core/sock.c, net/core/stream.c): POLL_IN per
 *   arrival, also behind one not yet read: per TCP segment that brings data or a FIN
 *   (tcp_data_ready), per UDP, ping or raw datagram and per connection a listener completes
 *   (sock_def_readable), as netstack counts them (`InetSocket.arrivals`); a FIN signals once
 *   more before its segment's arrival (tcp_fin: POLL_HUP after this side's SHUT_WR), so data
 *   and FIN in one segment give two; POLL_OUT when a connect completes and for write space as
 *   above, never after this side's SHUT_WR; POLL_ERR when an error (a reset) is raised.
 * - Pipes and FIFOs (fs/pipe.c), per end: a write signals the read ends POLL_IN, a read the
 *   write ends POLL_OUT; so does an attempt that finds the pipe full (a write) or empty (a
 *   read); a release that leaves readers without writers, or the reverse, signals both.
 * - Files without a ->fasync (regular files, eventfd, timerfd, epoll...): O_ASYNC does not
 *   stick and FIOASYNC is ENOTTY ({@link supportsAsync}).
 * - Terminals (drivers/tty/n_tty.c): POLL_IN for input; POLL_OUT only after a write found no
 *   room, as for sockets; a hang-up signals nothing.
 * - Other files with a wait queue (inotify, ...): each event signals, with the reason its bits
 *   name.
 *
 * The syscall layer reports what a wait queue cannot tell: a write or read that found no room
 * or no data ({@link noteWriteBlocked}, {@link noteReadBlocked}), a stream read that sleeps
 * ({@link readerAsleep}), a poll that found a socket not writable ({@link notePolled}), and the
 * socket calls whose readiness changes are no data events ({@link socketCall}). Each costs a
 * WeakMap miss unless the description has O_ASYNC state.
 *
 * Not followed yet: splice(2), sendfile(2) and tee(2) on pipes do not report finding them full
 * or empty; a peer's FIN after this side's SHUT_RD gives one signal (its arrival) where Linux
 * gives two.
 *
 * @module
 */
import {
  E,
  isError,
  Mode,
  NSIG,
  PollEvent,
  Shut,
  Signal,
  SiCode,
  SocketLevel,
  SocketOption,
  SockType,
  type LinuxError,
} from '@tsvisor/abi';
import type { Credentials, Task, ThreadGroup } from '@tsvisor/kernel';
import { InetSocket, UnixSocket } from '@tsvisor/netstack';
import {
  InotifyInstance,
  major,
  minor,
  type FileDescription,
  type WaitQueue,
  type Waiter,
} from '@tsvisor/vfs';
import { SocketImpl } from './sys-socket-file.js';

/** `F_OWNER_TID`, `F_OWNER_PID`, `F_OWNER_PGRP` (struct f_owner_ex's type). */
export const F_OWNER_TID = 0;
export const F_OWNER_PID = 1;
export const F_OWNER_PGRP = 2;

/** The si_code of a SIGIO-style signal (`POLL_IN` ... `POLL_HUP`). */
const POLL_IN = 1;
const POLL_OUT = 2;
const POLL_ERR = 4;
const POLL_PRI = 5;
const POLL_HUP = 6;

/** Linux's band_table: the si_band of each POLL_* reason. */
const BAND: Readonly<Record<number, number>> = {
  [POLL_IN]: PollEvent.POLLIN | PollEvent.POLLRDNORM,
  [POLL_OUT]: PollEvent.POLLOUT | PollEvent.POLLWRNORM | PollEvent.POLLWRBAND,
  [POLL_ERR]: PollEvent.POLLERR,
  [POLL_PRI]: PollEvent.POLLPRI | PollEvent.POLLRDBAND,
  [POLL_HUP]: PollEvent.POLLHUP | PollEvent.POLLERR,
};

const IN = PollEvent.POLLIN | PollEvent.POLLRDNORM;
const OUT = PollEvent.POLLOUT | PollEvent.POLLWRNORM;

/** Who gets a description's signals, and with whose credentials they were asked for. */
interface Owner {
  readonly type: number;
  readonly id: number;
  /** The real and effective uid of the task that set the owner (sigio_perm checks them). */
  readonly uid: number;
  readonly euid: number;
}

/** Which of Linux's kill_fasync rules a description follows (see the module comment). */
type Kind = 'unix' | 'inet' | 'pipe' | 'tty' | 'other';

/** The O_ASYNC registration of a description: the queue watched and the fd named in si_fd. */
interface Watch {
  readonly file: FileDescription;
  readonly kernel: Kernel;
  readonly queue: WaitQueue;
  readonly waiter: Waiter;
  fd: number;
  readonly kind: Kind;
  /** The readiness bits at the last event (sockets). */
  ready: number;
  /** SIOCOUTQ at the last event (AF_UNIX: bytes this socket sent that are still queued). */
  outq: number;
  /**
   * The socket's arrival count at the last look (inet sockets: see {@link countsArrivals}), so
   * that each arrival signals, not only the first.
   */
  arrivals: number;
  /** The peer's FIN was signalled (tcp_fin's own signal, sent once). */
  fin: boolean;
  /** Stops the stack watch behind {@link Watch.arrivals}. */
  unwatch: (() => void) | undefined;
  /** A TCP socket that was connected (or accepted) when seen; false while it connects. */
  established: boolean;
}

interface AsyncState {
  owner: Owner | undefined;
  /** F_SETSIG's signal; 0 means plain SIGIO. */
  signal: number;
  watch: Watch | undefined;
  /** SOCKWQ_ASYNC_NOSPACE: a send found no room, or a poll found the socket not writable. */
  noSpace: boolean;
  /** SOCKWQ_ASYNC_WAITDATA: readers asleep on this stream socket. */
  sleepers: number;
  /** This side's shutdown(2) so far (SHUT_RD, SHUT_WR bits), which an inet socket must not echo. */
  shutRd: boolean;
  shutWr: boolean;
}

type Kernel = Task['kernel'];

const states = new WeakMap<FileDescription, AsyncState>();
/** The descriptions with O_ASYNC on each wait queue (both ends of a pipe share one). */
const watchers = new WeakMap<WaitQueue, AsyncState[]>();

function stateOf(file: FileDescription): AsyncState {
  let s = states.get(file);
  if (!s) {
    s = {
      owner: undefined,
      signal: 0,
      watch: undefined,
      noSpace: false,
      sleepers: 0,
      shutRd: false,
      shutWr: false,
    };
    states.set(file, s);
  }
  return s;
}

/**
 * F_SETOWN / F_SETOWN_EX: `id` 0 clears the owner; otherwise some thread, process or process
 * group must have that number (Linux's find_vpid: `ESRCH` when none has), whatever the type.
 */
export function setOwner(t: Task, file: FileDescription, type: number, id: number): 0 | LinuxError {
  if (type !== F_OWNER_TID && type !== F_OWNER_PID && type !== F_OWNER_PGRP) return E.EINVAL;
  const s = stateOf(file);
  if (id === 0) {
    s.owner = undefined;
    return 0;
  }
  const k = t.kernel;
  if (!k.task(id) && !k.threadGroup(id) && !k.processGroup(id)) return E.ESRCH;
  const c = t.group.creds;
  s.owner = { type, id, uid: c.uid, euid: c.euid };
  return 0;
}

/** F_GETOWN_EX: the owner's type and id (`F_OWNER_PID`, 0 when none was set). */
export function ownerOf(file: FileDescription): { readonly type: number; readonly id: number } {
  const o = states.get(file)?.owner;
  return o ? { type: o.type, id: o.id } : { type: F_OWNER_PID, id: 0 };
}

/** F_SETSIG: 0 (plain SIGIO) or any signal number; `EINVAL` past the last one. */
export function setAsyncSignal(file: FileDescription, sig: number): 0 | LinuxError {
  if (sig < 0 || sig > NSIG) return E.EINVAL;
  stateOf(file).signal = sig;
  return 0;
}

/** F_GETSIG. */
export function asyncSignalOf(file: FileDescription): number {
  return states.get(file)?.signal ?? 0;
}

/**
 * Whether O_ASYNC means anything on `file`, i.e. Linux's file operations have ->fasync: sockets,
 * pipes and FIFOs, terminals (majors 4, 5, 136-143), /dev/random and /dev/urandom, inotify.
 * Others (regular files, directories, /dev/null, eventfd, timerfd, signalfd, epoll, pidfd)
 * answer FIOASYNC with `ENOTTY` and drop O_ASYNC from F_SETFL.
 */
export function supportsAsync(file: FileDescription): boolean {
  const inode = file.location.inode;
  switch (inode.mode & Mode.S_IFMT) {
    case Mode.S_IFSOCK:
    case Mode.S_IFIFO:
      return true;
    case Mode.S_IFCHR: {
      const min = minor(inode.rdev);
      return isTty(file) || (major(inode.rdev) === 1 && (min === 8 || min === 9));
    }
    default:
      return file.impl instanceof InotifyInstance || file.impl instanceof SocketImpl;
  }
}

/** A terminal: majors 4 (tty, ttyS), 5 (/dev/tty, /dev/ptmx) and 136-143 (/dev/pts). */
function isTty(file: FileDescription): boolean {
  const inode = file.location.inode;
  if ((inode.mode & Mode.S_IFMT) !== Mode.S_IFCHR) return false;
  const maj = major(inode.rdev);
  return maj === 4 || maj === 5 || (maj >= 136 && maj <= 143);
}

/**
 * Follows the description's O_ASYNC flag after F_SETFL or FIOASYNC changed it (Linux's ->fasync):
 * while set, the file's events signal its owner as the module comment says, naming `fd` in si_fd.
 */
export function syncAsync(t: Task, file: FileDescription, fd: number, on: boolean): void {
  const s = stateOf(file);
  if (!on) {
    stopWatch(s);
    return;
  }
  if (s.watch) {
    s.watch.fd = fd;
    return;
  }
  const queue = file.waitQueue;
  if (!queue) return;
  const kernel = t.kernel;
  const impl = file.impl;
  const kind: Kind =
    impl instanceof SocketImpl
      ? impl.sock instanceof UnixSocket
        ? 'unix'
        : 'inet'
      : (file.location.inode.mode & Mode.S_IFMT) === Mode.S_IFIFO
        ? 'pipe'
        : isTty(file)
          ? 'tty'
          : 'other';
  const waiter: Waiter = {
    mask: -1,
    notify: (events) => {
      if (file.isReleased) stopWatch(s);
      else onEvent(kernel, file, s, events);
    },
  };
  const ready = file.readiness(-1);
  const w: Watch = {
    file,
    kernel,
    queue,
    waiter,
    fd,
    kind,
    ready,
    outq: 0,
    arrivals: 0,
    fin: false,
    unwatch: undefined,
    established: (ready & PollEvent.POLLOUT) !== 0 && (ready & PollEvent.POLLHUP) === 0,
  };
  s.watch = w;
  queue.add(waiter);
  let list = watchers.get(queue);
  if (!list) watchers.set(queue, (list = []));
  list.push(s);
  if (impl instanceof SocketImpl) {
    const sock = impl.sock;
    w.outq = count(sock.outq());
    if (countsArrivals(sock)) {
      // The readiness bits change only on the first arrival; Linux signals every one, so the
      // stack's watch on the socket's arrival count tells the others apart.
      w.arrivals = sock.arrivals;
      w.unwatch = impl.net.stack.watch(
        {},
        () => sock.arrivals,
        () => {
          if (file.isReleased) stopWatch(s);
          else onArrival(kernel, file, s);
        },
      );
    }
  }
}

function stopWatch(s: AsyncState): void {
  const w = s.watch;
  if (!w) return;
  s.watch = undefined;
  w.queue.remove(w.waiter);
  w.unwatch?.();
  const list = watchers.get(w.queue);
  const i = list ? list.indexOf(s) : -1;
  if (list && i >= 0) list.splice(i, 1);
  if (list?.length === 0) watchers.delete(w.queue);
}

/**
 * An inet socket (TCP, a listener, UDP, ping, raw): its arrivals are counted by netstack (each a
 * sk_data_ready call of Linux), so {@link onArrival} signals them, not its readiness edges.
 */
function countsArrivals(sock: unknown): sock is InetSocket {
  return sock instanceof InetSocket;
}

/** A socket's SIOCINQ / SIOCOUTQ answer as a count (0 where the socket has none). */
function count(n: number | LinuxError): number {
  return isError(n) ? 0 : n;
}

/**
 * The socket call in progress (shutdown(2), the close of the last reference, accept(2)), so
 * that the readiness changes it causes are told from data events: the calling socket's own
 * changes signal nothing; its peer sees a shutdown or a close as Linux's unix_shutdown and
 * unix_release_sock report them.
 */
let call: { readonly file: FileDescription; readonly op: 'close' | 'accept' | number } | undefined;

/**
 * Runs socket call `op` of `file`: `how` is shutdown(2)'s argument, `'close'` for the release of
 * the last reference, `'accept'` for accept(2). Returns what `op` returns.
 */
export function socketCall<T>(file: FileDescription, how: 'close' | 'accept' | number, op: () => T): T {
  const s = states.get(file);
  const shut = s ? { rd: s.shutRd, wr: s.shutWr } : undefined;
  if (s && typeof how === 'number' && how >= Shut.SHUT_RD && how <= Shut.SHUT_RDWR) {
    // This side's shutdown: an inet socket's later readiness edges must not pass for the
    // peer's. Marked before the call, whose own changes may be reported during it.
    if (how !== Shut.SHUT_WR) s.shutRd = true;
    if (how !== Shut.SHUT_RD) s.shutWr = true;
  }
  const outer = call;
  call = { file, op: how };
  let r: T | undefined;
  try {
    r = op();
    return r;
  } finally {
    call = outer;
    // A shutdown that failed (ENOTCONN) shut nothing.
    if (s && shut && (r === undefined || isError(r))) {
      s.shutRd = shut.rd;
      s.shutWr = shut.wr;
    }
    // A closed socket's watches go now: its wait queue falls silent, so no event would.
    if (how === 'close' && s) stopWatch(s);
  }
}

/** One event of the description's wait queue, sorted by the rules of its kind. */
function onEvent(kernel: Kernel, file: FileDescription, s: AsyncState, events: number): void {
  const w = s.watch as Watch;
  switch (w.kind) {
    case 'unix':
      return unixEvent(kernel, file, s, w, events);
    case 'inet':
      return inetEvent(kernel, file, s, w, events);
    case 'pipe':
      return pipeEvent(kernel, file, s, events);
    case 'tty':
      // n_tty: input signals POLL_IN (n_tty_receive_buf); write space POLL_OUT only after a
      // write found no room (TTY_DO_WRITE_WAKEUP, n_tty_write_wakeup); a hang-up nothing.
      if (events & PollEvent.POLLHUP) return;
      if (events & IN) sendSigio(kernel, s, POLL_IN);
      else if (events & OUT) writeSpace(kernel, s);
      return;
    case 'other': {
      const reason =
        events & IN
          ? POLL_IN
          : events & OUT
            ? POLL_OUT
            : events & PollEvent.POLLPRI
              ? POLL_PRI
              : events & PollEvent.POLLHUP
                ? POLL_HUP
                : events & PollEvent.POLLERR
                  ? POLL_ERR
                  : 0;
      if (reason !== 0) sendSigio(kernel, s, reason);
    }
  }
}

/**
 * AF_UNIX: the socket's listener ran with its readiness `ready`. What happened is read from its
 * send queue (it shrank: the peer read, unix_write_space; it grew: this socket sent) and the
 * socket call in progress; anything else is an arrival (sock_def_readable).
 */
function unixEvent(kernel: Kernel, file: FileDescription, s: AsyncState, w: Watch, ready: number): void {
  const sock = (file.impl as SocketImpl).sock;
  const before = w.outq;
  w.outq = count(sock.outq());
  w.ready = ready;
  const c = call;
  if (c?.file === file) return;
  if (w.outq < before) {
    if (ready & PollEvent.POLLOUT) writeSpace(kernel, s);
    return;
  }
  if (w.outq > before) return;
  if (c !== undefined && c.op !== 'accept') {
    if (sock.type === SockType.SOCK_DGRAM) return;
    // The peer's shutdown or close (unix_shutdown, unix_release_sock).
    if (c.op === 'close' || c.op === Shut.SHUT_RDWR) waitData(kernel, s, sock.type, POLL_HUP);
    else if (c.op === Shut.SHUT_WR) waitData(kernel, s, sock.type, POLL_IN);
    return;
  }
  if (ready & PollEvent.POLLIN) waitData(kernel, s, sock.type, POLL_IN);
}

/**
 * Inet (and netlink) sockets: the readiness bits changed to `ready` (the stack reports edges).
 * Arrivals of data, datagrams, connections and a FIN on inet sockets come through
 * {@link onArrival} instead.
 */
function inetEvent(kernel: Kernel, file: FileDescription, s: AsyncState, w: Watch, ready: number): void {
  const sock = (file.impl as SocketImpl).sock;
  const before = w.ready;
  w.ready = ready;
  const rose = ready & ~before;
  const stream = sock.type === SockType.SOCK_STREAM;
  const counted = w.unwatch !== undefined;
  if (rose & PollEvent.POLLERR) {
    // sock_def_error_report (a reset, an ICMP error): the error alone, not the HUP it brings.
    sendSigio(kernel, s, POLL_ERR);
    return;
  }
  if (stream && rose & PollEvent.POLLRDHUP && !s.shutRd) {
    // The peer's FIN: onArrival signals it with its segment's arrival.
    if (!counted) {
      waitData(kernel, s, sock.type, s.shutWr ? POLL_HUP : POLL_IN);
      waitData(kernel, s, sock.type, POLL_IN);
    }
    return;
  }
  if (ready & PollEvent.POLLOUT) {
    if (stream && !w.established) {
      // tcp_finish_connect: a connect completed (SOCK_WAKE_IO, whatever NOSPACE says).
      if (ready & PollEvent.POLLHUP) return;
      w.established = true;
      sendSigio(kernel, s, POLL_OUT);
      return;
    }
    if (!s.shutWr) writeSpace(kernel, s);
  }
  if (counted || !(ready & PollEvent.POLLIN) || (stream && w.established)) return;
  // A listener's queue went from empty to not: a connection. Its bits fall back to none on
  // accept, which the wait queue does not report, so each readable event of a listener is one.
  // A datagram socket's readable edge is an arrival. (A connected TCP socket's data is counted
  // by onArrival.)
  if (
    rose & PollEvent.POLLIN ||
    (sock instanceof InetSocket && sock.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ACCEPTCONN) === 1)
  )
    waitData(kernel, s, sock.type, POLL_IN);
}

/**
 * The socket's arrival count changed: each new arrival (a segment with data or a FIN, a
 * datagram, a connection) is a sk_data_ready, one POLL_IN; a FIN first signals for itself
 * (tcp_fin: POLL_HUP once this side shut its sending side too, else POLL_IN).
 */
function onArrival(kernel: Kernel, file: FileDescription, s: AsyncState): void {
  const w = s.watch;
  if (!w) return;
  const sock = (file.impl as SocketImpl).sock as InetSocket;
  const now = sock.arrivals;
  // listen(2) starts a new count.
  const n = now > w.arrivals ? now - w.arrivals : 0;
  w.arrivals = now;
  if (n === 0) return;
  const type = sock.type;
  if (type === SockType.SOCK_STREAM && !w.fin && !s.shutRd && sock.readiness() & PollEvent.POLLRDHUP) {
    w.fin = true;
    waitData(kernel, s, type, s.shutWr ? POLL_HUP : POLL_IN);
  }
  for (let i = 0; i < n; i++) waitData(kernel, s, type, POLL_IN);
}

/**
 * Pipes and FIFOs: `events` says what happened (pipe.ts notifies POLLIN for a write, POLLOUT
 * for a read, POLLHUP with both for a release, POLLIN|POLLOUT alone for an open).
 */
function pipeEvent(kernel: Kernel, file: FileDescription, s: AsyncState, events: number): void {
  if (events & PollEvent.POLLHUP) {
    // pipe_release: when exactly one side has no descriptors left, both lists are signalled.
    // This end is open, so that side is the other one.
    const ready = file.readiness(-1);
    if (file.readable && !file.writable && ready & PollEvent.POLLHUP) sendSigio(kernel, s, POLL_IN);
    if (file.writable && !file.readable && ready & PollEvent.POLLERR) sendSigio(kernel, s, POLL_OUT);
    return;
  }
  if ((events & (IN | OUT)) === IN && file.readable) sendSigio(kernel, s, POLL_IN);
  else if ((events & (IN | OUT)) === OUT && file.writable) sendSigio(kernel, s, POLL_OUT);
}

/** SOCK_WAKE_WAITD: held back while a reader sleeps on a stream socket (SOCKWQ_ASYNC_WAITDATA). */
function waitData(kernel: Kernel, s: AsyncState, type: number, reason: number): void {
  if (s.sleepers > 0 && type === SockType.SOCK_STREAM) return;
  sendSigio(kernel, s, reason);
}

/** SOCK_WAKE_SPACE: only once per time a send found no room (test_and_clear NOSPACE). */
function writeSpace(kernel: Kernel, s: AsyncState): void {
  if (!s.noSpace) return;
  s.noSpace = false;
  sendSigio(kernel, s, POLL_OUT);
}

/**
 * A write to the object behind `queue` found no room (EAGAIN, or the writer is about to sleep),
 * `sent` bytes into the call: a socket or terminal remembers it (SOCKWQ_ASYNC_NOSPACE,
 * TTY_DO_WRITE_WAKEUP); a pipe's read ends are signalled as pipe_write does before it gives up
 * or sleeps. Bytes written earlier in the call signalled already (each write of data does), and
 * pipe_write signals once per call and sleep, so only a call that has written nothing does here.
 */
export function noteWriteBlocked(queue: WaitQueue | null | undefined, sent: number): void {
  const list = queue ? watchers.get(queue) : undefined;
  if (!list) return;
  for (const s of [...list]) {
    const w = s.watch;
    if (!w) continue;
    if (w.kind === 'unix' || w.kind === 'inet' || w.kind === 'tty') s.noSpace = true;
    else if (w.kind === 'pipe' && w.file.readable && sent === 0) sendSigio(w.kernel, s, POLL_IN);
  }
}

/** A read of the object behind `queue` found nothing: pipe_read signals the write ends anyway. */
export function noteReadBlocked(queue: WaitQueue | null | undefined): void {
  const list = queue ? watchers.get(queue) : undefined;
  if (!list) return;
  for (const s of [...list]) {
    const w = s.watch;
    if (w?.kind === 'pipe' && w.file.writable) sendSigio(w.kernel, s, POLL_OUT);
  }
}

/**
 * poll(2), select(2) or epoll looked at `file` and found it not writable: unix_dgram_poll,
 * datagram_poll and tcp_poll set SOCKWQ_ASYNC_NOSPACE then (unix_poll, of unix streams, does
 * not).
 */
export function notePolled(file: FileDescription): void {
  const s = states.get(file);
  const w = s?.watch;
  if (!s || !w || (w.kind !== 'unix' && w.kind !== 'inet')) return;
  const sock = (file.impl as SocketImpl).sock;
  if (w.kind === 'unix' && sock.type === SockType.SOCK_STREAM) return;
  if (!(file.readiness(PollEvent.POLLOUT) & PollEvent.POLLOUT)) s.noSpace = true;
}

/**
 * A reader sleeps on `file` while `wait` runs: until it settles, arrivals on a stream socket do
 * not signal (unix_stream_data_wait and sk_wait_data set SOCKWQ_ASYNC_WAITDATA). Returns `wait`.
 */
export function readerAsleep<T>(file: FileDescription, wait: Promise<T>): Promise<T> {
  const s = states.get(file);
  if (!s) return wait;
  s.sleepers++;
  return wait.finally(() => {
    s.sleepers--;
  });
}

/**
 * Linux's send_sigurg: urgent data arrived on a socket; SIGURG goes to the description's owner
 * (whether or not O_ASYNC is set), if it has one.
 */
export function sendSigurg(kernel: Task['kernel'], file: FileDescription): void {
  const s = states.get(file);
  if (!s?.owner) return;
  forEachTarget(kernel, s.owner, (g, task) => {
    const info = { signo: Signal.SIGURG, code: SiCode.SI_KERNEL };
    if (task) kernel.sendToTask(task, info);
    else kernel.sendToGroup(g, info);
  });
}

function sendSigio(kernel: Kernel, s: AsyncState, reason: number): void {
  const owner = s.owner;
  if (!owner) return;
  const fd = s.watch?.fd ?? 0;
  forEachTarget(kernel, owner, (g, task) => {
    // F_SETSIG: a queued signal with the reason, band and fd; else plain SIGIO from the kernel.
    const info =
      s.signal !== 0
        ? { signo: s.signal, code: reason, band: BAND[reason] ?? 0, fd }
        : { signo: Signal.SIGIO, code: SiCode.SI_KERNEL };
    if (task) kernel.sendToTask(task, info);
    else kernel.sendToGroup(g, info);
  });
}

/** The owner's processes (or thread) that sigio_perm lets it signal. */
function forEachTarget(
  kernel: Task['kernel'],
  owner: Owner,
  send: (g: ThreadGroup, task: Task | undefined) => void,
): void {
  if (owner.type === F_OWNER_TID) {
    const task = kernel.task(owner.id);
    if (task && permitted(owner, task.group.creds)) send(task.group, task);
    return;
  }
  if (owner.type === F_OWNER_PID) {
    const g = kernel.threadGroup(owner.id);
    if (g && permitted(owner, g.creds)) send(g, undefined);
    return;
  }
  const pgrp = kernel.processGroup(owner.id);
  if (!pgrp) return;
  for (const g of [...pgrp.members]) if (permitted(owner, g.creds)) send(g, undefined);
}

/** sigio_perm: root, or the owner's uid or euid matching the target's uid or saved uid. */
function permitted(owner: Owner, target: Credentials): boolean {
  return (
    owner.euid === 0 ||
    owner.euid === target.suid ||
    owner.euid === target.uid ||
    owner.uid === target.suid ||
    owner.uid === target.uid
  );
}
