/**
 * POSIX message queues: mq_open(2), mq_unlink(2), mq_timedsend(2), mq_timedreceive(2),
 * mq_notify(2), mq_getsetattr(2), over the kernel's {@link MqNamespace}. A queue descriptor is a
 * file description: poll/epoll see POLLIN when a message waits and POLLOUT when there is room,
 * read(2) gives Linux's status line, close, fork and O_CLOEXEC behave as for any file.
 *
 * Blocking sends and receives wait on the description's wait queue with an absolute
 * CLOCK_REALTIME deadline; a signal ends the wait with ERESTARTSYS (`wq_sleep`), so SA_RESTART
 * restarts the call and the absolute deadline stays right.
 *
 * @module
 */
import {
  Capability,
  E,
  isError,
  OpenFlag,
  PollEvent,
  Rlimit,
  SiCode,
  Sigev,
  type LinuxError,
} from '@tsvisor/abi';
import {
  ERESTARTSYS,
  MQ_PRIO_MAX,
  capable,
  Waiter,
  softLimit,
  type ControlResult,
  type MqNamespace,
  type MqQueue,
  type Task,
} from '@tsvisor/kernel';
import { FileDescription, FileDescriptionImpl, WaitQueue, anonInode } from '@tsvisor/vfs';
import { NetlinkSocket } from './sys-netlink.js';
import { socketOf } from './sys-socket-file.js';
import { HostSocketImpl } from './sys-socket-host.js';
import { readTimespecNs } from './user-structs.js';
import { fileAt, filesOf, nofile, vfsCreds } from './vfs-context.js';
import {
  FULL,
  int,
  partial,
  ptr,
  size,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

const NAME_MAX = 255;
const MQ_ATTR_SIZE = 64;
const { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } = PollEvent;

/** The description behind a queue descriptor (`mqueue_file_operations`). */
export class MqueueFileImpl extends FileDescriptionImpl {
  private readonly queue = new WaitQueue();

  constructor(
    readonly mq: MqQueue,
    private readonly ns: MqNamespace,
  ) {
    super();
    ns.opened(mq);
    mq.watchers.add(this.changed);
  }

  private readonly changed = (): void => {
    this.queue.notify(this.readiness(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM));
  };

  /** `mqueue_read_file`: the status line, read like a small file from the description's offset. */
  override read(dst: Uint8Array, offset: number): number {
    const text = new TextEncoder().encode(this.mq.statusLine());
    if (offset >= text.length) return 0;
    const part = text.subarray(offset, offset + dst.length);
    dst.set(part);
    return part.length;
  }

  override readiness(mask: number): number {
    let ev = 0;
    if (this.mq.messages.length > 0) ev |= POLLIN | POLLRDNORM;
    if (!this.mq.full) ev |= POLLOUT | POLLWRNORM;
    return ev & mask;
  }

  /** Pollers, and blocked senders and receivers, wait here for the queue to change. */
  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  override release(): void {
    this.mq.watchers.delete(this.changed);
    this.ns.closed(this.mq);
  }
}

/** The name argument: EFAULT, ENOENT when empty, ENAMETOOLONG, EACCES for '/', '.' and '..'. */
function nameArg(t: Task, addr: number): string | LinuxError {
  const b = t.memory.readCStringBytes(addr, 4096);
  if (isError(b)) return b;
  if (b.length === 0) return E.ENOENT; // getname() refuses an empty name
  if (b.includes(0x2f)) return E.EACCES;
  if (b.length > NAME_MAX) return E.ENAMETOOLONG;
  const name = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  if (name === '.' || name === '..') return E.EACCES;
  return name;
}

/** Reads `struct mq_attr`: mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs (longs). */
function readAttr(t: Task, addr: number): { flags: bigint; maxmsg: bigint; msgsize: bigint } | LinuxError {
  const raw = t.memory.read(addr, MQ_ATTR_SIZE);
  if (isError(raw)) return raw;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return {
    flags: dv.getBigInt64(0, true),
    maxmsg: dv.getBigInt64(8, true),
    msgsize: dv.getBigInt64(16, true),
  };
}

/** implements mq_open(2): the name arrives without glibc's leading '/'. */
function mqOpen(t: Task, a: SyscallArgs): SyscallResult {
  const oflag = int(a[1]);
  const mode = uint(a[2]);
  let attr: { maxmsg: number; msgsize: number } | undefined;
  if (a[3] !== 0n) {
    const r = readAttr(t, ptr(a[3]));
    if (isError(r)) return r;
    const clamp = (v: bigint): number => (v > 0x7fff_ffffn ? 0x7fff_ffff : v < 0n ? -1 : Number(v));
    attr = { maxmsg: clamp(r.maxmsg), msgsize: clamp(r.msgsize) };
  }
  const name = nameArg(t, ptr(a[0]));
  if (isError(name)) return name;
  const ns = t.kernel.ipc.mq;
  let q = ns.lookup(name);
  if (!q) {
    if (!(oflag & OpenFlag.O_CREAT)) return E.ENOENT;
    const made = ns.create(
      name,
      attr,
      mode & ~t.fs.umask,
      t.creds,
      softLimit(t.group.rlimits, Rlimit.RLIMIT_MSGQUEUE),
    );
    if (isError(made)) return made;
    q = made;
  } else {
    if ((oflag & (OpenFlag.O_CREAT | OpenFlag.O_EXCL)) === (OpenFlag.O_CREAT | OpenFlag.O_EXCL))
      return E.EEXIST;
    const acc = oflag & OpenFlag.O_ACCMODE;
    if (acc === OpenFlag.O_ACCMODE) return E.EINVAL;
    if (!q.permits(t.creds, acc === OpenFlag.O_RDONLY ? 4 : acc === OpenFlag.O_WRONLY ? 2 : 6))
      return E.EACCES;
  }
  const file = new FileDescription(
    new MqueueFileImpl(q, ns),
    anonInode(`/${name}`),
    oflag & (OpenFlag.O_ACCMODE | OpenFlag.O_NONBLOCK),
    vfsCreds(t),
  );
  // Linux sets close-on-exec on every queue descriptor (get_unused_fd_flags(O_CLOEXEC)).
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec: true });
  if (isError(fd)) file.release();
  return fd;
}

/** implements mq_unlink(2): the name goes; open descriptors keep the queue. `ENOENT`, `EACCES`. */
function mqUnlink(t: Task, a: SyscallArgs): SyscallResult {
  const name = nameArg(t, ptr(a[0]));
  if (isError(name)) return name;
  const ns = t.kernel.ipc.mq;
  const q = ns.lookup(name);
  if (!q) return E.ENOENT;
  // The mqueue root is sticky: only the queue's owner (or a privileged caller) removes it; Linux
  // answers the others EACCES.
  if (!capable(t.creds, Capability.CAP_FOWNER) && t.creds.fsuid !== q.uid) return E.EACCES;
  return ns.unlink(name) ?? 0;
}

/** The queue description at `fd`: EBADF when it is not one. */
function mqAt(t: Task, fd: number): { file: FileDescription; impl: MqueueFileImpl } | LinuxError {
  const file = fileAt(t, fd);
  if (isError(file)) return file;
  return file.impl instanceof MqueueFileImpl ? { file, impl: file.impl } : E.EBADF;
}

/** An absolute CLOCK_REALTIME timeout as a monotonic deadline: EFAULT, EINVAL when unnormalized. */
function readDeadline(t: Task, addr: number): bigint | undefined | LinuxError {
  if (addr === 0) return undefined;
  const abs = readTimespecNs(t, addr);
  if (isError(abs)) return abs;
  const time = t.kernel.time;
  return time.monotonicNs() + (abs - time.realtimeNs());
}

/** `wq_sleep`: waits for a change of the queue, the deadline or a signal. */
async function sleepOn(
  t: Task,
  impl: MqueueFileImpl,
  deadline: bigint | undefined,
): Promise<'again' | LinuxError | ControlResult> {
  const time = t.kernel.time;
  if (deadline !== undefined && time.monotonicNs() >= deadline) return E.ETIMEDOUT;
  const kw = new Waiter(undefined);
  if (deadline !== undefined) kw.setDeadline(time, deadline);
  const sub = { mask: POLLIN | POLLOUT, notify: (): void => void kw.wake('notified') };
  impl.waitQueue.add(sub);
  try {
    const why = await t.block(kw);
    if (why === 'interrupted') return ERESTARTSYS;
    if (why === 'timeout') return E.ETIMEDOUT;
    return 'again';
  } finally {
    impl.waitQueue.remove(sub);
  }
}

/**
 * implements mq_timedsend(2): `EINVAL` for a priority of MQ_PRIO_MAX or more, `EBADF` without
 * write access, `EMSGSIZE` above mq_msgsize, `EAGAIN` when full with O_NONBLOCK, else a wait
 * until room, the deadline (`ETIMEDOUT`) or a signal.
 */
async function mqTimedsend(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const deadline = readDeadline(t, ptr(a[4]));
  if (isError(deadline)) return deadline;
  if (uint(a[3]) >= MQ_PRIO_MAX) return E.EINVAL;
  const prio = uint(a[3]);
  const d = mqAt(t, int(a[0]));
  if (isError(d)) return d;
  if (!d.file.writable) return E.EBADF;
  const q = d.impl.mq;
  const len = size(a[2]);
  if (len > q.attr.msgsize) return E.EMSGSIZE;
  const data = t.memory.read(ptr(a[1]), len);
  if (isError(data)) return data;
  const msg = { prio, data: Uint8Array.from(data) };
  for (;;) {
    if (!q.full) {
      q.send(msg, t.tgid, t.creds.uid);
      return 0;
    }
    if (d.file.getFlags() & OpenFlag.O_NONBLOCK) return E.EAGAIN;
    const r = await sleepOn(t, d.impl, deadline);
    if (r !== 'again') return r;
  }
}

/**
 * implements mq_timedreceive(2): `EBADF` without read access, `EMSGSIZE` when the buffer is
 * below mq_msgsize, `EAGAIN` when empty with O_NONBLOCK, else a wait as mq_timedsend's.
 */
async function mqTimedreceive(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const deadline = readDeadline(t, ptr(a[4]));
  if (isError(deadline)) return deadline;
  const d = mqAt(t, int(a[0]));
  if (isError(d)) return d;
  if (!d.file.readable) return E.EBADF;
  const q = d.impl.mq;
  if (size(a[2]) < q.attr.msgsize) return E.EMSGSIZE;
  for (;;) {
    const m = q.receive();
    if (m) {
      const prioAddr = ptr(a[3]);
      // The message is gone even when the copy-out faults, as on Linux.
      const e = prioAddr !== 0 ? t.memory.writeU32(prioAddr, m.prio) : undefined;
      if (e) return e;
      const w = t.memory.write(ptr(a[1]), m.data);
      return isError(w) ? w : m.data.length;
    }
    if (d.file.getFlags() & OpenFlag.O_NONBLOCK) return E.EAGAIN;
    q.receiversWaiting++;
    const r = await sleepOn(t, d.impl, deadline).finally(() => q.receiversWaiting--);
    if (r !== 'again') return r;
  }
}

/** The size of the SIGEV_THREAD cookie glibc passes, whose last byte says why it came back. */
const NOTIFY_COOKIE_LEN = 32;
const NOTIFY_WOKENUP = 1;
const NOTIFY_REMOVED = 2;

/**
 * SIGEV_THREAD's netlink half (`netlink_getsockbyfilp`): the cookie at `cookieAddr` and the
 * netlink socket at descriptor `fd` that will receive it. `EFAULT`, `EBADF`, `ENOTSOCK`, and
 * `EINVAL` for a socket of another family.
 */
function threadTarget(
  t: Task,
  cookieAddr: number,
  fd: number,
): { cookie: Uint8Array; sock: NetlinkSocket } | LinuxError {
  const raw = t.memory.read(cookieAddr, NOTIFY_COOKIE_LEN);
  if (isError(raw)) return raw;
  const file = fileAt(t, fd);
  if (isError(file)) return file;
  if (file.impl instanceof HostSocketImpl) return E.EINVAL;
  const s = socketOf(file);
  if (isError(s)) return s;
  if (!(s.sock instanceof NetlinkSocket)) return E.EINVAL;
  return { cookie: Uint8Array.from(raw), sock: s.sock };
}

/**
 * implements mq_notify(2): SIGEV_SIGNAL (a signal with si_code SI_MESGQ and the sender's pid and
 * uid), SIGEV_NONE, and SIGEV_THREAD as glibc drives it (the kernel queues glibc's 32-byte cookie
 * on the netlink socket whose descriptor is in sigev_signo; glibc's helper thread then starts the
 * notification thread). Removal with NULL by the registered process; `EBUSY` when a process is
 * registered.
 */
function mqNotify(t: Task, a: SyscallArgs): SyscallResult {
  let ev: { notify: number; signo: number; value: bigint } | undefined;
  let thread: { cookie: Uint8Array; sock: NetlinkSocket } | undefined;
  if (a[1] !== 0n) {
    const raw = t.memory.read(ptr(a[1]), 64);
    if (isError(raw)) return raw;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    ev = { value: dv.getBigUint64(0, true), signo: dv.getInt32(8, true), notify: dv.getInt32(12, true) };
    const { notify, signo } = ev;
    if (notify !== Sigev.SIGEV_NONE && notify !== Sigev.SIGEV_SIGNAL && notify !== Sigev.SIGEV_THREAD)
      return E.EINVAL;
    if (notify === Sigev.SIGEV_SIGNAL && (signo < 0 || signo > 64)) return E.EINVAL;
    if (notify === Sigev.SIGEV_THREAD) {
      const r = threadTarget(t, ptr(ev.value), signo);
      if (isError(r)) return r;
      thread = r;
    }
  }
  const d = mqAt(t, int(a[0]));
  if (isError(d)) return d;
  const q = d.impl.mq;
  if (!ev) {
    const n = q.notification;
    if (n?.owner === t.tgid) {
      q.notification = undefined;
      n.cancel?.();
    }
    return 0;
  }
  // Linux drops a registration when its owner closes the descriptor (and so when it exits); an
  // owner that is gone must at least not keep everyone else out.
  const owner = q.notification && t.kernel.task(q.notification.owner);
  if (q.notification && (!owner || owner.state !== 'alive' || owner.group.exiting))
    q.notification = undefined;
  if (q.notification) return E.EBUSY;
  const group = t.group;
  const kernel = t.kernel;
  const { notify, signo, value } = ev;
  if (thread) {
    const { cookie, sock } = thread;
    const send = (why: number): void => {
      cookie[NOTIFY_COOKIE_LEN - 1] = why;
      sock.deliver({ data: cookie, from: 0 });
    };
    q.notification = {
      owner: t.tgid,
      notify,
      signo: 0,
      fire: () => send(NOTIFY_WOKENUP),
      cancel: () => send(NOTIFY_REMOVED),
    };
    return 0;
  }
  q.notification = {
    owner: t.tgid,
    notify,
    signo,
    fire(pid, uid) {
      if (notify !== Sigev.SIGEV_SIGNAL || signo === 0) return;
      if (group.state !== 'alive' || group.exiting) return;
      kernel.sendToGroup(group, { signo, code: SiCode.SI_MESGQ, pid, uid, value });
    },
  };
  return 0;
}

/**
 * implements mq_getsetattr(2): `EINVAL` for flags other than O_NONBLOCK; only O_NONBLOCK of the
 * description changes.
 */
function mqGetsetattr(t: Task, a: SyscallArgs): SyscallResult {
  let newFlags: bigint | undefined;
  if (a[1] !== 0n) {
    const r = readAttr(t, ptr(a[1]));
    if (isError(r)) return r;
    if (r.flags & ~BigInt(OpenFlag.O_NONBLOCK)) return E.EINVAL;
    newFlags = r.flags;
  }
  const d = mqAt(t, int(a[0]));
  if (isError(d)) return d;
  const q = d.impl.mq;
  const flags = d.file.getFlags();
  const old = new Uint8Array(MQ_ATTR_SIZE);
  const dv = new DataView(old.buffer);
  dv.setBigInt64(0, BigInt(flags & OpenFlag.O_NONBLOCK), true);
  dv.setBigInt64(8, BigInt(q.attr.maxmsg), true);
  dv.setBigInt64(16, BigInt(q.attr.msgsize), true);
  dv.setBigInt64(24, BigInt(q.messages.length), true);
  if (newFlags !== undefined) {
    d.file.setFlags((flags & ~OpenFlag.O_NONBLOCK) | Number(newFlags));
  }
  if (a[2] !== 0n) {
    const w = t.memory.write(ptr(a[2]), old);
    if (isError(w)) return w;
  }
  return 0;
}

/** POSIX message queue syscalls. */
export const mqueueSyscalls: SyscallFamily = {
  mq_open: {
    handler: mqOpen,
    support: partial(
      '/proc/sys/fs/mqueue is read-only (Linux defaults apply); no mqueue filesystem for /dev/mqueue',
    ),
  },
  mq_unlink: { handler: mqUnlink, support: FULL },
  mq_timedsend: { handler: mqTimedsend, support: FULL },
  mq_timedreceive: { handler: mqTimedreceive, support: FULL },
  mq_notify: {
    handler: mqNotify,
    support: partial(
      'a registration stays when its owner closes the descriptor or exits (Linux drops it); another process may register once the owner is gone',
    ),
  },
  mq_getsetattr: { handler: mqGetsetattr, support: FULL },
};
