/**
 * System V semaphore sets (`ipc/sem.c`): arrays of counters changed by atomic groups of
 * operations. A group that cannot complete sleeps on its set's pending list; whoever changes the
 * set afterwards retries the pending groups in arrival order and completes them on their
 * sleepers' behalf (Linux's `update_queue`), so a woken semop has already happened. SEM_UNDO
 * adjustments are kept per process and applied when it exits.
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import type { Credentials } from '../creds/credentials.js';
import { Waiter } from '../wait-queue.js';
import { IPC_NOWAIT, IpcIds, IpcObject, ipcGet } from './ipc-ids.js';

/** `struct seminfo` limits: Linux's defaults (/proc/sys/kernel/sem is "32000 1024000000 500 32000"). */
export const SEMMSL = 32000;
export const SEMMNS = 1024000000;
export const SEMOPM = 500;
export const SEMMNI = 32000;
/** The largest semaphore value, and the largest SEM_UNDO adjustment. */
export const SEMVMX = 32767;
export const SEMAEM = SEMVMX;
/** sem_flg bit: undo this operation when the process exits. */
export const SEM_UNDO = 0x1000;

/** One `struct sembuf`. */
export interface Sembuf {
  readonly num: number;
  readonly op: number;
  readonly flg: number;
}

/** A semop waiting for its set to change. */
interface PendingOp {
  readonly sops: readonly Sembuf[];
  readonly pid: number;
  readonly undoOwner: object;
  /** The operation that could not proceed (GETNCNT / GETZCNT count it). */
  blocking: Sembuf;
  readonly waiter: Waiter;
  /** Set when a changer completed (0) or failed (ERANGE...) the group for its sleeper. */
  result: 0 | LinuxError | undefined;
}

/** One semaphore set. */
export class SemSet extends IpcObject {
  readonly values: Int32Array;
  readonly pids: Int32Array;
  /** Last semop (seconds since the epoch), 0 if none. */
  otime = 0;
  ctime: number;
  /** @internal sleeping semops, in arrival order */
  readonly pending: PendingOp[] = [];
  /** @internal the SEM_UNDO adjustments processes hold on this set */
  readonly undoLists = new Set<Int32Array>();

  constructor(key: number, creds: Credentials, flags: number, nsems: number, now: number) {
    super(key, creds, flags);
    this.values = new Int32Array(nsems);
    this.pids = new Int32Array(nsems);
    this.ctime = now;
  }

  get nsems(): number {
    return this.values.length;
  }

  /** Sleepers whose blocking operation on `num` waits for the value to grow (GETNCNT). */
  ncnt(num: number): number {
    return this.pending.filter(
      (p) => p.waiter.reason === undefined && p.blocking.num === num && p.blocking.op < 0,
    ).length;
  }

  /** Sleepers whose blocking operation on `num` waits for zero (GETZCNT). */
  zcnt(num: number): number {
    return this.pending.filter(
      (p) => p.waiter.reason === undefined && p.blocking.num === num && p.blocking.op === 0,
    ).length;
  }
}

/** What {@link SemNamespace.semop} decides: done, an errno, or a sleeper to await. */
export type SemopOutcome = 0 | LinuxError | SemSleeper;

/** A semop that sleeps: await `waiter.promise` (through `Task.block`), then {@link SemSleeper.finish}. */
export interface SemSleeper {
  readonly waiter: Waiter;
  /** After the wait: 0 (done by a changer), EIDRM, ERANGE, or `undefined` if still not done. */
  finish(): 0 | LinuxError | undefined;
}

/** The semaphore sets of one IPC namespace. */
export class SemNamespace {
  readonly ids = new IpcIds<SemSet>(SEMMNI);
  /** Semaphores in all sets (SEM_INFO's semaem). */
  usedSems = 0;
  private readonly undo = new WeakMap<object, Map<SemSet, Int32Array>>();

  /** `semget()` after nsems was read: EINVAL for nsems outside 0..SEMMSL (0 only for lookups), ENOSPC. */
  get(key: number, nsems: number, flags: number, creds: Credentials, now: number): number | LinuxError {
    if (nsems < 0 || nsems > SEMMSL) return E.EINVAL;
    return ipcGet(
      this.ids,
      key,
      flags,
      creds,
      () => {
        if (nsems === 0) return E.EINVAL;
        if (this.usedSems + nsems > SEMMNS) return E.ENOSPC;
        const set = new SemSet(key, creds, flags, nsems, now);
        const id = this.ids.add(set);
        if (typeof id === 'number') this.usedSems += nsems;
        return id;
      },
      (set) => (nsems > set.nsems ? E.EINVAL : undefined),
    );
  }

  /**
   * Runs a group of operations atomically for process `pid` (`undoOwner` is its thread group).
   * Gives 0, ERANGE (a value or an undo adjustment out of range), EAGAIN (would sleep with
   * IPC_NOWAIT), or a sleeper. The caller has checked sizes, numbers and permissions.
   */
  semop(set: SemSet, sops: readonly Sembuf[], pid: number, undoOwner: object, now: number): SemopOutcome {
    const r = this.tryOps(set, sops, pid, undoOwner, now);
    if (r === 0) {
      this.updateQueue(set, now);
      return 0;
    }
    if (isError(r)) return r;
    if (r.flg & IPC_NOWAIT) return E.EAGAIN;
    const p: PendingOp = {
      sops,
      pid,
      undoOwner,
      blocking: r,
      waiter: new Waiter(undefined),
      result: undefined,
    };
    set.pending.push(p);
    return {
      waiter: p.waiter,
      finish: () => {
        const i = set.pending.indexOf(p);
        if (i >= 0) set.pending.splice(i, 1);
        if (p.result !== undefined) return p.result;
        return set.valid ? undefined : E.EIDRM;
      },
    };
  }

  /** SETVAL: EINVAL for a number out of range, ERANGE for a value outside 0..SEMVMX. */
  setVal(set: SemSet, num: number, val: number, pid: number, now: number): 0 | LinuxError {
    if (num < 0 || num >= set.nsems) return E.EINVAL;
    if (val < 0 || val > SEMVMX) return E.ERANGE;
    this.clearUndo(set, num);
    set.values[num] = val;
    set.pids[num] = pid;
    set.ctime = now;
    this.updateQueue(set, now);
    return 0;
  }

  /** SETALL: ERANGE if any value is above SEMVMX. */
  setAll(set: SemSet, vals: readonly number[], pid: number, now: number): 0 | LinuxError {
    if (vals.some((v) => v < 0 || v > SEMVMX)) return E.ERANGE;
    this.clearUndo(set, undefined);
    vals.forEach((v, i) => {
      set.values[i] = v;
      set.pids[i] = pid;
    });
    set.ctime = now;
    this.updateQueue(set, now);
    return 0;
  }

  /** IPC_RMID: the set goes, its sleepers get EIDRM. */
  remove(set: SemSet): void {
    this.ids.remove(set);
    this.usedSems -= set.nsems;
    for (const p of set.pending) p.waiter.wake('notified');
  }

  /** A process exits: its SEM_UNDO adjustments are applied (clamped to 0..SEMVMX). */
  exitUndo(undoOwner: object, pid: number, now: number): void {
    const list = this.undo.get(undoOwner);
    if (!list) return;
    this.undo.delete(undoOwner);
    for (const [set, adj] of list) {
      set.undoLists.delete(adj);
      if (!set.valid) continue;
      adj.forEach((a, i) => {
        if (a === 0) return;
        set.values[i] = Math.min(SEMVMX, Math.max(0, (set.values[i] ?? 0) + a));
        set.pids[i] = pid;
      });
      this.updateQueue(set, now);
    }
  }

  /** The adjustments of `owner` on `set` (a fork child starts with none: no CLONE_SYSVSEM). */
  private adjOf(set: SemSet, owner: object, make: boolean): Int32Array | undefined {
    let list = this.undo.get(owner);
    if (!list) {
      if (!make) return undefined;
      list = new Map();
      this.undo.set(owner, list);
    }
    let adj = list.get(set);
    if (!adj && make) {
      adj = new Int32Array(set.nsems);
      list.set(set, adj);
      set.undoLists.add(adj);
    }
    return adj;
  }

  /** SETVAL and SETALL reset the adjustments of every process for the values they set. */
  private clearUndo(set: SemSet, num: number | undefined): void {
    for (const adj of set.undoLists) {
      if (num === undefined) adj.fill(0);
      else adj[num] = 0;
    }
  }

  /**
   * `perform_atomic_semop()`: applies every operation or none. Returns 0, ERANGE, or the
   * operation that must wait.
   */
  private tryOps(
    set: SemSet,
    sops: readonly Sembuf[],
    pid: number,
    owner: object,
    now: number,
  ): 0 | LinuxError | Sembuf {
    const vals = set.values;
    const saved = Int32Array.from(vals);
    const undo = sops.some((s) => s.flg & SEM_UNDO) ? this.adjOf(set, owner, true) : undefined;
    const savedUndo = undo ? Int32Array.from(undo) : undefined;
    const restore = (): void => {
      vals.set(saved);
      if (undo && savedUndo) undo.set(savedUndo);
    };
    for (const s of sops) {
      const cur = vals[s.num] ?? 0;
      if (s.op === 0) {
        if (cur !== 0) {
          restore();
          return s;
        }
        continue;
      }
      const next = cur + s.op;
      if (next < 0) {
        restore();
        return s;
      }
      if (next > SEMVMX) {
        restore();
        return E.ERANGE;
      }
      if (s.flg & SEM_UNDO && undo) {
        const u = (undo[s.num] ?? 0) - s.op;
        if (u < -SEMAEM - 1 || u > SEMAEM) {
          restore();
          return E.ERANGE;
        }
        undo[s.num] = u;
      }
      vals[s.num] = next;
    }
    for (const s of sops) set.pids[s.num] = pid;
    set.otime = now;
    return 0;
  }

  /** `update_queue()`: completes sleeping groups that can now proceed, oldest first, until none can. */
  private updateQueue(set: SemSet, now: number): void {
    for (let progress = true; progress;) {
      progress = false;
      for (const p of set.pending) {
        if (p.waiter.reason !== undefined || p.result !== undefined) continue;
        const r = this.tryOps(set, p.sops, p.pid, p.undoOwner, now);
        if (r !== 0 && !isError(r)) {
          p.blocking = r;
          continue;
        }
        p.result = r;
        p.waiter.wake('notified');
        if (r === 0) {
          progress = true;
          break;
        }
      }
    }
  }
}
