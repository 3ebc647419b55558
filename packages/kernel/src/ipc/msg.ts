/**
 * System V message queues (`ipc/msg.c`): typed messages in arrival order, bounded by a byte
 * budget (`msg_qbytes`). Senders wait for room and receivers for a matching message on the
 * queue's wait queues; a woken task tries again (wake-ups are hints).
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { Credentials } from '../creds/credentials.js';
import { WaitQueue } from '../wait-queue.js';
import { IpcIds, IpcObject, ipcGet } from './ipc-ids.js';

/** Linux's defaults (/proc/sys/kernel/msgmax, msgmnb, msgmni). */
export const MSGMAX = 8192;
export const MSGMNB = 16384;
export const MSGMNI = 32000;
/** msgrcv flags. */
export const MSG_NOERROR = 0o10000;
export const MSG_EXCEPT = 0o20000;
export const MSG_COPY = 0o40000;

/** One message. */
export interface Message {
  /** `mtype`, a positive long. */
  readonly type: bigint;
  readonly text: Uint8Array;
}

/** One message queue. */
export class MsgQueue extends IpcObject {
  readonly messages: Message[] = [];
  /** Bytes of text queued (`msg_cbytes`). */
  cbytes = 0;
  qbytes = MSGMNB;
  stime = 0;
  rtime = 0;
  ctime: number;
  lspid = 0;
  lrpid = 0;
  /** Senders waiting for room, receivers waiting for a message. */
  readonly senders = new WaitQueue();
  readonly receivers = new WaitQueue();

  constructor(key: number, creds: Credentials, flags: number, now: number) {
    super(key, creds, flags);
    this.ctime = now;
  }

  /** True when a message of `len` bytes fits (bytes and, as Linux counts, one message per byte). */
  hasRoom(len: number): boolean {
    return len + this.cbytes <= this.qbytes && 1 + this.messages.length <= this.qbytes;
  }

  /**
   * The index of the message `msgrcv` takes for `msgtyp` (`find_msg`): 0 the first; positive the
   * first of that type (with MSG_EXCEPT, of any other type); negative the first of the lowest type
   * not above `-msgtyp`. -1 if none.
   */
  find(msgtyp: bigint, flags: number): number {
    if (msgtyp === 0n) return this.messages.length > 0 ? 0 : -1;
    if (msgtyp > 0n) {
      const except = (flags & MSG_EXCEPT) !== 0;
      return this.messages.findIndex((m) => (m.type === msgtyp) !== except);
    }
    let best = -1;
    let bestType = -msgtyp;
    this.messages.forEach((m, i) => {
      if (m.type <= bestType && (best < 0 || m.type < bestType)) {
        best = i;
        bestType = m.type;
      }
    });
    return best;
  }

  /** Queues a message; the caller checked {@link hasRoom}. */
  push(m: Message, pid: number, now: number): void {
    this.messages.push(m);
    this.cbytes += m.text.length;
    this.lspid = pid;
    this.stime = now;
    this.receivers.notify();
  }

  /** Takes the message at `i` out of the queue. */
  take(i: number, pid: number, now: number): Message {
    const [m] = this.messages.splice(i, 1);
    if (!m) throw new Error('MsgQueue.take: no message at that index');
    this.cbytes -= m.text.length;
    this.lrpid = pid;
    this.rtime = now;
    this.senders.notify();
    return m;
  }
}

/** The message queues of one IPC namespace. */
export class MsgNamespace {
  readonly ids = new IpcIds<MsgQueue>(MSGMNI);

  /** `msgget()`. */
  get(key: number, flags: number, creds: Credentials, now: number): number | LinuxError {
    return ipcGet(
      this.ids,
      key,
      flags,
      creds,
      () => this.ids.add(new MsgQueue(key, creds, flags, now)),
      () => undefined,
    );
  }

  /** IPC_RMID: the queue goes; its waiters wake and find it invalid (EIDRM). */
  remove(q: MsgQueue): void {
    this.ids.remove(q);
    q.senders.notify();
    q.receivers.notify();
  }

  /** Messages and bytes queued in all queues (MSG_INFO's msgmap and msgtql). */
  totals(): { messages: number; bytes: number } {
    let messages = 0;
    let bytes = 0;
    for (const q of this.ids.all()) {
      messages += q.messages.length;
      bytes += q.cbytes;
    }
    return { messages, bytes };
  }
}

/** The EINVAL of msgsnd / msgrcv for a size that is negative or (msgsnd) above MSGMAX. */
export function badMsgSize(len: number, send: boolean): LinuxError | undefined {
  if (len < 0 || (send && len > MSGMAX)) return E.EINVAL;
  return undefined;
}
