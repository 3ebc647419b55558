/**
 * Waiting for file readiness: poll, ppoll, select, pselect6. Readiness comes from the VFS
 * descriptions; the task sleeps on all their wait queues at once and a signal interrupts it.
 *
 * @module
 */
import { E, SigSet, isError, timespec, timeval, type LinuxError } from '@tsvisor/abi';
import { ERESTARTNOHAND, ERESTART_RESTARTBLOCK, Waiter, type Task } from '@tsvisor/kernel';
import type { FileDescription } from '@tsvisor/vfs';
import { notePolled } from './fasync.js';
import { epollSettled } from './sys-epoll.js';
import { readStruct, writeStruct } from './user-structs.js';
import { filesOf, nofile } from './vfs-context.js';
import { FULL, int, ptr, size, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

const POLLIN = 0x1;
const POLLPRI = 0x2;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLNVAL = 0x20;
const POLLRDNORM = 0x40;
const POLLRDBAND = 0x80;
const POLLWRNORM = 0x100;
const POLLWRBAND = 0x200;
const NS = 1_000_000_000n;

interface Watch {
  readonly file: FileDescription;
  readonly mask: number;
}

/**
 * Sleeps until one of `watches` may have changed readiness, the monotonic `deadline` passes,
 * or a signal arrives.
 */
async function sleepOn(
  t: Task,
  watches: readonly Watch[],
  deadline: bigint | undefined,
): Promise<'changed' | 'timeout' | 'interrupted'> {
  const w = new Waiter(undefined);
  const subs: [NonNullable<FileDescription['waitQueue']>, { mask: number; notify(): void }][] = [];
  for (const { file, mask } of watches) {
    const q = file.waitQueue;
    if (!q) continue;
    const sub = { mask: mask | POLLERR | POLLHUP, notify: (): void => void w.wake('notified') };
    q.add(sub);
    subs.push([q, sub]);
  }
  if (deadline !== undefined) w.setDeadline(t.kernel.time, deadline);
  try {
    const why = await t.block(w);
    return why === 'notified' ? 'changed' : why;
  } finally {
    for (const [q, sub] of subs) q.remove(sub);
  }
}

interface PollFd {
  fd: number;
  events: number;
  revents: number;
}

function scanPoll(t: Task, fds: PollFd[]): number {
  const files = filesOf(t);
  let ready = 0;
  for (const p of fds) {
    p.revents = 0;
    if (p.fd < 0) continue;
    const f = files.get(p.fd);
    if (!f) p.revents = POLLNVAL;
    else {
      p.revents = f.readiness(p.events | POLLERR | POLLHUP) & (p.events | POLLERR | POLLHUP);
      // A socket found not writable remembers it for O_ASYNC (SOCKWQ_ASYNC_NOSPACE).
      if (!(p.revents & POLLOUT)) notePolled(f);
    }
    if (p.revents) ready++;
  }
  return ready;
}

/** The common loop of poll and ppoll; `deadline` undefined means forever, `now` means no wait. */
async function pollLoop(
  t: Task,
  addr: number,
  fds: PollFd[],
  deadline: bigint | undefined,
  restart: 'block' | 'nohand',
): Promise<SyscallResult> {
  for (;;) {
    const files = filesOf(t);
    const settled = epollSettled(fds.flatMap((p) => files.get(p.fd) ?? []));
    if (settled) {
      await settled;
      if (t.state !== 'alive') return ERESTARTNOHAND; // killed meanwhile: nothing to answer
      t.kernel.current = t; // others ran meanwhile
    }
    const n = scanPoll(t, fds);
    const timedOut = deadline !== undefined && t.kernel.time.monotonicNs() >= deadline;
    if (n > 0 || timedOut) {
      const out = new Uint8Array(fds.length * 8);
      const v = new DataView(out.buffer);
      fds.forEach((p, i) => {
        v.setInt32(i * 8, p.fd, true);
        v.setInt16(i * 8 + 4, p.events, true);
        v.setInt16(i * 8 + 6, p.revents, true);
      });
      return t.memory.writeExact(addr, out) ?? n;
    }
    const watches = fds.flatMap((p) => {
      const f = p.fd >= 0 ? files.get(p.fd) : undefined;
      return f ? [{ file: f, mask: p.events }] : [];
    });
    const why = await sleepOn(t, watches, deadline);
    t.kernel.current = t; // others ran meanwhile (signalfd reads the current task's signals)
    if (why === 'interrupted') {
      if (restart === 'block' && deadline !== undefined) {
        t.restartBlock = { resume: () => pollLoop(t, addr, fds, deadline, 'block') };
        return ERESTART_RESTARTBLOCK;
      }
      return ERESTARTNOHAND;
    }
  }
}

function readPollFds(t: Task, addr: number, nfds: number): PollFd[] | LinuxError {
  if (nfds < 0 || nfds > nofile(t)) return E.EINVAL;
  const raw = t.memory.read(addr, nfds * 8);
  if (isError(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const fds: PollFd[] = [];
  for (let i = 0; i < nfds; i++)
    fds.push({ fd: v.getInt32(i * 8, true), events: v.getUint16(i * 8 + 4, true), revents: 0 });
  return fds;
}

/** implements poll(2): a negative timeout waits forever; `EINVAL` when nfds exceeds RLIMIT_NOFILE. */
function poll(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> {
  const fds = readPollFds(t, ptr(a[0]), Number(a[1] > 0x7fffffffn ? 0x80000000n : a[1]));
  if (isError(fds)) return fds;
  const ms = int(a[2]);
  const deadline = ms < 0 ? undefined : t.kernel.time.monotonicNs() + BigInt(ms) * 1_000_000n;
  return pollLoop(t, ptr(a[0]), fds, deadline, 'block');
}

/** Reads a timeout timespec into a monotonic deadline; EINVAL when invalid. */
function deadlineOf(t: Task, addr: number): bigint | undefined | LinuxError {
  if (addr === 0) return undefined;
  const ts = readStruct(t, addr, timespec);
  if (isError(ts)) return ts;
  if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
  return t.kernel.time.monotonicNs() + BigInt(ts.tv_sec) * NS + BigInt(ts.tv_nsec);
}

/** Installs a temporary signal mask (ppoll/pselect6): restored after the call or the handler. */
function swapMask(t: Task, maskAddr: number, sigsetsize: number): LinuxError | undefined {
  if (maskAddr === 0) return undefined;
  if (sigsetsize !== 8) return E.EINVAL;
  const m = t.memory.readU64(maskAddr);
  if (isError(m)) return m;
  t.savedMask = t.mask.clone();
  t.mask.set(SigSet.fromBigInt(m).removeUncatchable());
  return undefined;
}

/** Writes the time left back to a timespec, as ppoll and pselect6 do. */
function writeLeft(t: Task, addr: number, deadline: bigint | undefined): void {
  if (addr === 0 || deadline === undefined) return;
  const left = deadline - t.kernel.time.monotonicNs();
  const l = left > 0n ? left : 0n;
  writeStruct(t, addr, timespec, { tv_sec: Number(l / NS), tv_nsec: Number(l % NS) });
}

/** implements ppoll(2): timespec timeout (updated with the time left), optional signal mask. */
async function ppoll(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const fds = readPollFds(t, ptr(a[0]), Number(a[1] > 0x7fffffffn ? 0x80000000n : a[1]));
  if (isError(fds)) return fds;
  const deadline = deadlineOf(t, ptr(a[2]));
  if (isError(deadline)) return deadline;
  const e = swapMask(t, a[3] === 0n ? 0 : ptr(a[3]), size(a[4]));
  if (e) return e;
  const r = await pollLoop(t, ptr(a[0]), fds, deadline, 'nohand');
  writeLeft(t, a[2] === 0n ? 0 : ptr(a[2]), deadline);
  return r;
}

/** Reads `nfds` bits of an fd_set (NULL: empty). */
function readSet(t: Task, addr: number, nfds: number): Uint8Array | LinuxError | null {
  if (addr === 0) return null;
  return t.memory.read(addr, Math.ceil(nfds / 64) * 8);
}

const bit = (s: Uint8Array, fd: number): boolean => ((s[fd >> 3] as number) & (1 << (fd & 7))) !== 0;
const setBit = (s: Uint8Array, fd: number): void => {
  s[fd >> 3] = (s[fd >> 3] as number) | (1 << (fd & 7));
};

const IN_SET = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const OUT_SET = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const EX_SET = POLLPRI;

/** The select/pselect6 loop. */
async function selectLoop(
  t: Task,
  nfdsIn: number,
  addrs: [number, number, number],
  deadline: bigint | undefined,
): Promise<SyscallResult> {
  if (nfdsIn < 0) return E.EINVAL;
  const files = filesOf(t);
  // Linux looks only at the fds its table has room for (64, doubling as fds are opened).
  const highest = files.highest() + 1;
  let capacity = 64;
  while (capacity < highest) capacity *= 2;
  const nfds = Math.min(nfdsIn, capacity);
  const sets: (Uint8Array | null)[] = [];
  for (const addr of addrs) {
    const s = readSet(t, addr, nfdsIn);
    if (isError(s)) return s;
    sets.push(s);
  }
  const watches: (Watch & { readonly fd: number })[] = [];
  for (let fd = 0; fd < nfds; fd++) {
    const want = sets.some((s) => s && bit(s, fd));
    if (!want) continue;
    const f = files.get(fd);
    if (!f) return E.EBADF;
    const mask =
      (sets[0] && bit(sets[0], fd) ? IN_SET : 0) |
      (sets[1] && bit(sets[1], fd) ? OUT_SET : 0) |
      (sets[2] && bit(sets[2], fd) ? EX_SET : 0);
    watches.push({ fd, file: f, mask });
  }
  for (;;) {
    const settled = epollSettled(watches.map((w) => w.file));
    if (settled) {
      await settled;
      if (t.state !== 'alive') return ERESTARTNOHAND; // killed meanwhile: nothing to answer
      t.kernel.current = t; // others ran meanwhile
    }
    const outs = sets.map((s) => (s ? new Uint8Array(s.length) : null));
    let count = 0;
    for (const { fd, mask } of watches) {
      const f = files.get(fd);
      if (!f) continue;
      // Only what its sets ask: a host socket's watch is armed for what it lacks of that.
      const r = f.readiness(mask);
      if (!(r & POLLOUT)) notePolled(f);
      const masks = [IN_SET, OUT_SET, EX_SET];
      outs.forEach((o, i) => {
        const s = sets[i];
        if (o && s && bit(s, fd) && r & (masks[i] as number)) {
          setBit(o, fd);
          count++;
        }
      });
    }
    const timedOut = deadline !== undefined && t.kernel.time.monotonicNs() >= deadline;
    if (count > 0 || timedOut) {
      for (let i = 0; i < 3; i++) {
        const o = outs[i];
        if (!o) continue;
        const e = t.memory.writeExact(addrs[i] as number, o);
        if (e) return e;
      }
      return count;
    }
    const why = await sleepOn(t, watches, deadline);
    t.kernel.current = t; // others ran meanwhile (signalfd reads the current task's signals)
    if (why === 'interrupted') return ERESTARTNOHAND;
  }
}

/** implements select(2): timeval timeout, updated with the time left. */
async function select(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  let deadline: bigint | undefined;
  const tvAddr = a[4] === 0n ? 0 : ptr(a[4]);
  if (tvAddr) {
    const tv = readStruct(t, tvAddr, timeval);
    if (isError(tv)) return tv;
    // Linux folds whole seconds of tv_usec into tv_sec before checking.
    const sec = tv.tv_sec + Math.trunc(tv.tv_usec / 1e6);
    const usec = tv.tv_usec % 1e6;
    if (sec < 0 || usec < 0) return E.EINVAL;
    deadline = t.kernel.time.monotonicNs() + BigInt(sec) * NS + BigInt(usec) * 1000n;
  }
  const p = (x: bigint): number => (x === 0n ? 0 : ptr(x));
  const r = await selectLoop(t, int(a[0]), [p(a[1]), p(a[2]), p(a[3])], deadline);
  if (tvAddr && deadline !== undefined) {
    const left = deadline - t.kernel.time.monotonicNs();
    const l = left > 0n ? left : 0n;
    writeStruct(t, tvAddr, timeval, { tv_sec: Number(l / NS), tv_usec: Number((l % NS) / 1000n) });
  }
  return r;
}

/** implements pselect6(2): timespec timeout and a `{ sigset *, size }` pair for the mask. */
async function pselect6(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const tsAddr = a[4] === 0n ? 0 : ptr(a[4]);
  const deadline = deadlineOf(t, tsAddr);
  if (isError(deadline)) return deadline;
  if (a[5] !== 0n) {
    const pair = t.memory.read(ptr(a[5]), 16);
    if (isError(pair)) return pair;
    const v = new DataView(pair.buffer, pair.byteOffset, 16);
    const maskPtr = v.getBigUint64(0, true);
    const e = swapMask(
      t,
      maskPtr === 0n ? 0 : ptr(maskPtr),
      Number(v.getBigUint64(8, true) > 8n ? 9n : v.getBigUint64(8, true)),
    );
    if (e) return e;
  }
  const p = (x: bigint): number => (x === 0n ? 0 : ptr(x));
  const r = await selectLoop(t, int(a[0]), [p(a[1]), p(a[2]), p(a[3])], deadline);
  writeLeft(t, tsAddr, deadline);
  return r;
}

/** Readiness syscalls. */
export const pollSyscalls: SyscallFamily = {
  poll: { handler: poll, support: FULL },
  ppoll: { handler: ppoll, support: FULL },
  select: { handler: select, support: FULL },
  pselect6: { handler: pselect6, support: FULL },
};
