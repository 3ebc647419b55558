/**
 * epoll: epoll_create/epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2. An epoll
 * instance is a file description (so it lives in fd tables, can be polled and nested) whose
 * implementation keeps the interest list and asks each watched description for its readiness.
 *
 * Edge-triggered interests report only after their file announced a change on its wait queue;
 * one-shot interests disarm after one report until EPOLL_CTL_MOD re-arms them.
 *
 * Host sockets (network mode `host`) hear of the host's changes later, from a readiness watch on
 * the supervisor's event loop, and the host answers the sandbox's own calls at once (a send over
 * the loopback makes the peer readable before it returns). They are kept to the ready list's
 * rules all the same, so an idle one costs nothing per wait: asking one that is not ready arms
 * its watch for what is missing (HostSocketImpl.readiness), whose report puts it back on the
 * list. An edge-triggered interest has the watch report every wakeup of the host socket by the
 * events it asks for (HostSocketImpl.wantEdges), which are its edges, as Linux queues an EPOLLET
 * item at each (a segment that arrives while others are unread is one; a read is none), and it
 * heeds nothing else. A wait over a set with host sockets, and poll or select of the epoll fd,
 * first let the event loop poll the watches when the sandbox changed host sockets since it last
 * did ({@link hostSettled}).
 *
 * @module
 */
import {
  E,
  EpollCtl,
  EpollEventFlag,
  SigSet,
  epoll_event,
  isError,
  timespec,
  type LinuxError,
  OpenFlag,
} from '@tsvisor/abi';
import { ERESTARTNOHAND, Waiter, type Task } from '@tsvisor/kernel';
import { FileDescription, FileDescriptionImpl, WaitQueue, anonInode, type WouldBlock } from '@tsvisor/vfs';
import { notePolled } from './fasync.js';
import { HOST_EDGE, HOST_WATCHED, HostSocketImpl, hostSettled } from './sys-socket-host.js';
import { readStruct } from './user-structs.js';
import { fileAt, filesOf, nofile, vfsCreds } from './vfs-context.js';
import { FULL, int, ptr, size, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const { EPOLLIN, EPOLLERR, EPOLLHUP, EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLWAKEUP } = EpollEventFlag;
const EPOLL_CLOEXEC = 0o2000000;
const NS = 1_000_000_000n;
/** Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event). */
const EP_MAX_EVENTS = Math.floor(0x7fffffff / 12);
/** Linux's EP_MAX_NESTS: the most epoll instances a chain of nested ones may link below one. */
const EP_MAX_NESTS = 4;
/** The event bits an EPOLLEXCLUSIVE interest may ask for (Linux's EPOLLEXCLUSIVE_OK_BITS). */
const EXCLUSIVE_OK =
  EPOLLIN | EpollEventFlag.EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

interface Interest {
  readonly fd: number;
  readonly file: FileDescription;
  events: number;
  data: bigint;
  /** Edge-triggered: a change was announced since the last report. */
  dirty: boolean;
  /** One-shot interests stop reporting after one event. */
  armed: boolean;
  readonly sub: { mask: number; notify(events: number): void };
  /** The host socket it is in, if it is in one. */
  readonly host: HostSocketImpl | undefined;
}

/** The bits of an interest that are poll events (the rest are EPOLLET, EPOLLONESHOT...). */
const POLL_EVENTS = 0xffff;

/** Interests past which {@link EpollImpl.collect} sweeps out those of closed files (doubling). */
const SWEEP_MIN = 64;

/** The implementation behind an epoll file description. */
export class EpollImpl extends FileDescriptionImpl {
  readonly interests = new Map<string, Interest>();
  /** The epoll instances with an interest in this one, and how many each has (nesting checks). */
  readonly watchers = new Map<EpollImpl, number>();
  /** Woken when an interest may have become ready (or the list changed). */
  readonly queue = new WaitQueue();
  /**
   * Linux's ready list (rdllist): the interests whose files announced an event they ask for
   * since they were last found not ready, in the order they did. collect() looks at these only,
   * so an epoll set of thousands of idle connections costs nothing per wait. Level-triggered
   * ones go back to the end after each report, as in ep_send_events.
   */
  private readonly ready = new Set<Interest>();
  private sweepAt = SWEEP_MIN;
  /** How many interests are in files whose readiness lags (host sockets): see waitLoop. */
  lagging = 0;
  /** How many interests are in epoll sets (which may hold such files, now or later). */
  private nested = 0;

  /**
   * Whether a wait on this set must first let the host's readiness reports in ({@link
   * hostSettled}): it holds a host socket, or an epoll set nested in it does (epoll_ctl keeps
   * nesting shallow and loop-free, so the walk ends).
   */
  get lags(): boolean {
    if (this.lagging > 0) return true;
    if (this.nested === 0) return false;
    for (const it of this.interests.values())
      if (it.file.impl instanceof EpollImpl && it.file.impl.lags) return true;
    return false;
  }

  static key(fd: number, file: FileDescription): string {
    return `${fd}:${descriptionIds.get(file) ?? assignId(file)}`;
  }

  add(fd: number, file: FileDescription, events: number, data: bigint): void {
    const host = file.impl instanceof HostSocketImpl ? file.impl : undefined;
    const it: Interest = {
      fd,
      file,
      events,
      data,
      dirty: true,
      armed: true,
      host,
      sub: {
        mask: 0xffffffff,
        notify: (ev: number) => {
          // Edge-triggered on a host socket: only the host's wakeups are edges (see wantEdges).
          if (host && it.events & EPOLLET && !(ev & HOST_EDGE)) return;
          it.dirty = true;
          // ep_poll_callback: events the interest does not ask for are ignored (0: unknown).
          if (ev !== 0 && !(ev & (it.events | EPOLLERR | EPOLLHUP))) return;
          this.ready.add(it);
          if (ev & (it.events | EPOLLERR | EPOLLHUP)) this.queue.notify(EPOLLIN);
        },
      },
    };
    file.waitQueue?.add(it.sub);
    if (host && events & EPOLLET) host.wantEdges(it, events);
    if (file.impl.readinessLags) this.lagging++;
    this.interests.set(EpollImpl.key(fd, file), it);
    this.ready.add(it);
    const inner = file.impl;
    if (inner instanceof EpollImpl) {
      inner.watchers.set(this, (inner.watchers.get(this) ?? 0) + 1);
      this.nested++;
    }
    this.queue.notify(EPOLLIN);
  }

  remove(it: Interest): void {
    it.file.waitQueue?.remove(it.sub);
    it.host?.wantEdges(it, 0);
    if (it.file.impl.readinessLags) this.lagging--;
    this.interests.delete(EpollImpl.key(it.fd, it.file));
    this.ready.delete(it);
    const inner = it.file.impl;
    if (inner instanceof EpollImpl) {
      this.nested--;
      const n = (inner.watchers.get(this) ?? 1) - 1;
      if (n > 0) inner.watchers.set(this, n);
      else inner.watchers.delete(this);
    }
  }

  /**
   * Linux's ep_loop_check: adding epoll `inner` to this one would close a loop, or make a chain of
   * nested instances longer than EP_MAX_NESTS links (counting those below `inner` and those
   * above this one).
   */
  wouldLoop(inner: EpollImpl): boolean {
    const below = inner.depthBelow(this, 0);
    return below > EP_MAX_NESTS || below + 1 + this.depthAbove(0) > EP_MAX_NESTS;
  }

  /** How many nested epoll instances lie below this one (more than EP_MAX_NESTS when `top` is). */
  private depthBelow(top: EpollImpl, depth: number): number {
    let most = 0;
    for (const it of this.interests.values()) {
      const inner = it.file.impl;
      if (!(inner instanceof EpollImpl) || it.file.isReleased) continue;
      if (inner === top || depth >= EP_MAX_NESTS) return EP_MAX_NESTS + 1;
      most = Math.max(most, inner.depthBelow(top, depth + 1) + 1);
      if (most > EP_MAX_NESTS) break;
    }
    return most;
  }

  /** How many epoll instances are stacked above this one. */
  private depthAbove(depth: number): number {
    let most = 0;
    for (const outer of this.watchers.keys()) {
      if (depth >= EP_MAX_NESTS) return EP_MAX_NESTS + 1;
      most = Math.max(most, outer.depthAbove(depth + 1) + 1);
    }
    return most;
  }

  /**
   * Collects up to `max` ready events, applying ET/ONESHOT bookkeeping when `consume`: from the
   * ready list only; an interest found not ready leaves it until its file announces an event.
   * A host socket found not ready has had its watch armed for what it lacks by the asking (an
   * edge-triggered interest hears of its events from the watch's edges instead).
   */
  collect(max: number, consume: boolean): { events: number; data: bigint }[] {
    const out: { events: number; data: bigint }[] = [];
    if (this.interests.size >= this.sweepAt) this.sweep();
    let again: Interest[] | undefined;
    for (const it of this.ready) {
      if (out.length >= max) break;
      // Closing the last descriptor of a file takes it out of every epoll set (Linux's
      // eventpoll_release), whatever fd it was added through.
      if (it.file.isReleased) {
        this.remove(it);
        continue;
      }
      // A file whose readiness lags its notifications (a host socket): see the module comment.
      const lags = it.file.impl.readinessLags;
      if (!it.armed) {
        this.ready.delete(it);
        continue;
      }
      const et = (it.events & EPOLLET) !== 0;
      if (et && !it.dirty) {
        this.ready.delete(it);
        continue;
      }
      const ready = it.file.readiness(it.events | EPOLLERR | EPOLLHUP) & (it.events | EPOLLERR | EPOLLHUP);
      // A socket found not writable remembers it for O_ASYNC (SOCKWQ_ASYNC_NOSPACE).
      if (!(ready & EpollEventFlag.EPOLLOUT)) notePolled(it.file);
      if (!ready) {
        if (et) it.dirty = false; // the wakeup left nothing it asks for
        // A host socket waited for an event its watch cannot report (POLLRDBAND...) that it
        // lacks stays on the list, asked at every wait, unless the host's wakeups are its edges.
        if (et || !lags || (it.events & POLL_EVENTS & ~HOST_WATCHED) === 0) this.ready.delete(it);
        continue;
      }
      out.push({ events: ready, data: it.data });
      if (!consume) continue;
      if (et) it.dirty = false;
      if (it.events & EPOLLONESHOT) it.armed = false;
      // Reported: a level-triggered interest goes to the end of the list, to be asked again;
      // the others leave it until their next event.
      this.ready.delete(it);
      if (it.armed && !et) (again ??= []).push(it);
    }
    if (again) for (const it of again) this.ready.add(it);
    return out;
  }

  /** Drops the interests of closed files (see collect), which no event brings to the list. */
  private sweep(): void {
    for (const it of this.interests.values()) if (it.file.isReleased) this.remove(it);
    this.sweepAt = Math.max(SWEEP_MIN, 2 * this.interests.size);
  }

  /** An interest whose settings changed (EPOLL_CTL_MOD): asked again at the next collect. */
  requeue(it: Interest): void {
    this.ready.add(it);
  }

  override readiness(mask: number): number {
    return this.collect(1, false).length > 0 ? mask & EPOLLIN : 0;
  }

  override get waitQueue(): WaitQueue {
    return this.queue;
  }

  override read(): number | LinuxError | WouldBlock {
    return E.EINVAL;
  }

  override release(): void {
    for (const it of [...this.interests.values()]) this.remove(it);
  }
}

/**
 * Before poll(2) or select(2) looks at `files`: when one is an epoll set holding host sockets
 * (itself or in a nested set),
 * what waitLoop waits for before it collects ({@link hostSettled}), so that the epoll fd is
 * readable at once after the sandbox's own send made a socket in it ready, as on Linux.
 */
export function epollSettled(files: Iterable<FileDescription>): Promise<void> | undefined {
  for (const f of files) if (f.impl instanceof EpollImpl && f.impl.lags) return hostSettled();
  return undefined;
}

const descriptionIds = new WeakMap<FileDescription, number>();
let nextDescriptionId = 1;
function assignId(f: FileDescription): number {
  const id = nextDescriptionId++;
  descriptionIds.set(f, id);
  return id;
}

function createEpoll(t: Task, cloexec: boolean): SyscallResult {
  const file = new FileDescription(new EpollImpl(), anonInode('[eventpoll]'), OpenFlag.O_RDWR, vfsCreds(t));
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec });
  if (isError(fd)) file.release();
  return fd;
}

/** implements epoll_create1(2): `EINVAL` for flags other than EPOLL_CLOEXEC. */
function epollCreate1(t: Task, a: SyscallArgs): SyscallResult {
  const flags = int(a[0]);
  if (flags & ~EPOLL_CLOEXEC) return E.EINVAL;
  return createEpoll(t, (flags & EPOLL_CLOEXEC) !== 0);
}

/** implements epoll_create(2): `EINVAL` for a size <= 0. */
function epollCreate(t: Task, a: SyscallArgs): SyscallResult {
  if (int(a[0]) <= 0) return E.EINVAL;
  return createEpoll(t, false);
}

function epollOf(t: Task, epfd: number): EpollImpl | LinuxError {
  const f = fileAt(t, epfd);
  if (isError(f)) return f;
  return f.impl instanceof EpollImpl ? f.impl : E.EINVAL;
}

/**
 * implements epoll_ctl(2): `EBADF`, `EINVAL` (not an epoll, the epoll itself, bad op,
 * EPOLLEXCLUSIVE misuse), `EPERM` (a file without readiness, e.g. a regular file), `EEXIST`,
 * `ENOENT`, `EFAULT`.
 */
function epollCtl(t: Task, a: SyscallArgs): SyscallResult {
  const epfd = int(a[0]);
  const op = int(a[1]);
  const fd = int(a[2]);
  const epFile = fileAt(t, epfd);
  if (isError(epFile)) return epFile;
  const target = fileAt(t, fd);
  let ev: { events: number; data: bigint } | undefined;
  if (op !== EpollCtl.EPOLL_CTL_DEL) {
    const e = readStruct(t, ptr(a[3]), epoll_event);
    if (isError(e)) return e;
    ev = e;
  }
  if (isError(target)) return target;
  if (!target.waitQueue) return E.EPERM;
  const ep = epFile.impl;
  if (!(ep instanceof EpollImpl) || target === epFile) return E.EINVAL;
  const inner = target.impl instanceof EpollImpl ? target.impl : undefined;
  // do_epoll_ctl's order: EPOLLEXCLUSIVE's rules, then loops, then whether the fd is there.
  if (ev && ev.events & EPOLLEXCLUSIVE) {
    if (op === EpollCtl.EPOLL_CTL_MOD) return E.EINVAL;
    if (op === EpollCtl.EPOLL_CTL_ADD && (inner || ev.events & ~EXCLUSIVE_OK)) return E.EINVAL;
  }
  if (op === EpollCtl.EPOLL_CTL_ADD && inner && ep.wouldLoop(inner)) return E.ELOOP;
  const existing = ep.interests.get(EpollImpl.key(fd, target));
  switch (op) {
    case EpollCtl.EPOLL_CTL_ADD: {
      if (existing) return E.EEXIST;
      const events = (ev as { events: number }).events & ~EPOLLWAKEUP;
      ep.add(fd, target, events, (ev as { data: bigint }).data);
      return 0;
    }
    case EpollCtl.EPOLL_CTL_MOD: {
      if (!existing) return E.ENOENT;
      const events = (ev as { events: number }).events & ~EPOLLWAKEUP;
      if (existing.events & EPOLLEXCLUSIVE) return E.EINVAL;
      existing.events = events;
      existing.data = (ev as { data: bigint }).data;
      existing.armed = true;
      existing.dirty = true;
      existing.host?.wantEdges(existing, events & EPOLLET ? events : 0);
      ep.requeue(existing);
      ep.queue.notify(EPOLLIN);
      return 0;
    }
    case EpollCtl.EPOLL_CTL_DEL:
      if (!existing) return E.ENOENT;
      ep.remove(existing);
      return 0;
    default:
      return E.EINVAL;
  }
}

async function waitLoop(
  t: Task,
  ep: EpollImpl,
  addr: number,
  max: number,
  deadline: bigint | undefined,
): Promise<SyscallResult> {
  for (;;) {
    if (ep.lags) {
      const settled = hostSettled();
      if (settled) {
        await settled;
        if (t.state !== 'alive') return ERESTARTNOHAND; // killed meanwhile: nothing to answer
        t.kernel.current = t; // others ran meanwhile
      }
    }
    const ready = ep.collect(max, true);
    if (ready.length > 0 || (deadline !== undefined && t.kernel.time.monotonicNs() >= deadline)) {
      const out = new Uint8Array(ready.length * 12);
      const dv = new DataView(out.buffer);
      ready.forEach((r, i) => epoll_event.write(dv, i * 12, r));
      return t.memory.writeExact(addr, out) ?? ready.length;
    }
    const w = new Waiter(undefined);
    const sub = { mask: EPOLLIN, notify: (): void => void w.wake('notified') };
    ep.queue.add(sub);
    if (deadline !== undefined) w.setDeadline(t.kernel.time, deadline);
    try {
      const why = await t.block(w);
      t.kernel.current = t; // others ran meanwhile (signalfd reads the current task's signals)
      if (why === 'interrupted') return ERESTARTNOHAND;
    } finally {
      ep.queue.remove(sub);
    }
  }
}

function startWait(
  t: Task,
  a: SyscallArgs,
  deadline: bigint | undefined,
): SyscallResult | Promise<SyscallResult> {
  // Linux 6.x looks the fd up before checking maxevents (the host agrees in the tests).
  const ep = epollOf(t, int(a[0]));
  if (isError(ep)) return ep;
  const max = int(a[2]);
  if (max <= 0 || max > EP_MAX_EVENTS) return E.EINVAL;
  return waitLoop(t, ep, ptr(a[1]), max, deadline);
}

function msDeadline(t: Task, ms: number): bigint | undefined {
  return ms < 0 ? undefined : t.kernel.time.monotonicNs() + BigInt(ms) * 1_000_000n;
}

/** implements epoll_wait(2). */
function epollWait(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  return startWait(t, a, msDeadline(t, int(a[3])));
}

function withMask(t: Task, maskAddr: bigint, setsize: bigint): LinuxError | undefined {
  if (maskAddr === 0n) return undefined;
  if (size(setsize) !== 8) return E.EINVAL;
  const m = t.memory.readU64(ptr(maskAddr));
  if (isError(m)) return m;
  t.savedMask = t.mask.clone();
  t.mask.set(SigSet.fromBigInt(m).removeUncatchable());
  return undefined;
}

/** implements epoll_pwait(2): epoll_wait with a temporary signal mask. */
function epollPwait(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const e = withMask(t, a[4], a[5]);
  if (e) return e;
  return startWait(t, a, msDeadline(t, int(a[3])));
}

/** implements epoll_pwait2(2): a timespec timeout (NULL: forever). */
function epollPwait2(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  let deadline: bigint | undefined;
  if (a[3] !== 0n) {
    const ts = readStruct(t, ptr(a[3]), timespec);
    if (isError(ts)) return ts;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
    deadline = t.kernel.time.monotonicNs() + BigInt(ts.tv_sec) * NS + BigInt(ts.tv_nsec);
  }
  const e = withMask(t, a[4], a[5]);
  if (e) return e;
  return startWait(t, a, deadline);
}

/** epoll syscalls. */
export const epollSyscalls: SyscallFamily = {
  epoll_create: { handler: epollCreate, support: FULL },
  epoll_create1: { handler: epollCreate1, support: FULL },
  epoll_ctl: { handler: epollCtl, support: FULL },
  epoll_wait: { handler: epollWait, support: FULL },
  epoll_pwait: { handler: epollPwait, support: FULL },
  epoll_pwait2: { handler: epollPwait2, support: FULL },
};
