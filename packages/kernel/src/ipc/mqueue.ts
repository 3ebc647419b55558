/**
 * POSIX message queues (`ipc/mqueue.c`): named queues of an IPC namespace whose messages leave
 * highest priority first, in arrival order within a priority. Each queue is bounded by
 * `mq_maxmsg` messages of at most `mq_msgsize` bytes. Opening, the descriptor and blocking are
 * the syscall layer's; this module holds the names, the queues, the limits of
 * `/proc/sys/fs/mqueue` and the one-shot notification registration.
 *
 * @module
 */
import { Capability, E, type LinuxError } from '@tsvisor/abi';
import { capable, inGroup, type Credentials } from '../creds/credentials.js';

/** Priorities are below this (`MQ_PRIO_MAX`). */
export const MQ_PRIO_MAX = 32768;
/** The ceilings a privileged creator may go up to (`HARD_MSGMAX`, `HARD_MSGSIZEMAX`). */
export const HARD_MSGMAX = 65536;
export const HARD_MSGSIZEMAX = 16 * 1024 * 1024;
/** Kernel bytes a queue is charged per message slot and per priority node (x86-64 sizes). */
const MSG_SLOT_BYTES = 8 + 48;
const PRIO_NODE_BYTES = 48;

/** The tunables of /proc/sys/fs/mqueue, with Linux's defaults. */
export interface MqLimits {
  /** `queues_max`: queues per namespace for the unprivileged (ENOSPC past it). */
  queuesMax: number;
  /** `msg_max` and `msgsize_max`: the largest attributes an unprivileged creator may ask. */
  msgMax: number;
  msgsizeMax: number;
  /** `msg_default` and `msgsize_default`: the attributes of a queue created without any. */
  msgDefault: number;
  msgsizeDefault: number;
}

/** `struct mq_attr` without the flags (those belong to the open description). */
export interface MqAttr {
  readonly maxmsg: number;
  readonly msgsize: number;
}

/** One message. */
export interface MqMessage {
  readonly prio: number;
  readonly data: Uint8Array;
}

/**
 * A registration made by mq_notify(2). `fire` runs once, from the send that makes the queue go
 * from empty to one message while nobody is blocked receiving; the registration is then gone.
 */
export interface MqNotify {
  /** The registering process (its tgid): the only one that may remove or replace it. */
  readonly owner: number;
  /** `sigev_notify` and `sigev_signo` as the queue's file shows them. */
  readonly notify: number;
  readonly signo: number;
  /** Sends the notification; `pid` and `uid` are the sender's. */
  fire(pid: number, uid: number): void;
  /** Called when the owner removes the registration (SIGEV_THREAD tells its helper thread). */
  cancel?(): void;
}

/** One queue: its messages in receive order, its owner and mode, its notification. */
export class MqQueue {
  /** Messages, highest priority first and FIFO within a priority. */
  readonly messages: MqMessage[] = [];
  /** Bytes of message data queued (the QSIZE of the queue's file). */
  qsize = 0;
  /** Tasks blocked in mq_timedreceive: while any wait, a send notifies nobody. */
  receiversWaiting = 0;
  notification: MqNotify | undefined;
  /** Called after every send and receive: the open descriptions wake their pollers and waiters. */
  readonly watchers = new Set<() => void>();

  constructor(
    readonly attr: MqAttr,
    readonly uid: number,
    readonly gid: number,
    readonly mode: number,
    /** The bytes charged to the creator's (real uid's) RLIMIT_MSGQUEUE budget. */
    readonly charge: number,
    readonly chargedUid: number,
  ) {}

  /** Open descriptions of the queue; with its name gone too, the queue is destroyed. */
  opens = 0;
  linked = true;

  get full(): boolean {
    return this.messages.length >= this.attr.maxmsg;
  }

  /**
   * Queues a message (the caller checked size and room) and, when it is the only one and no
   * receiver waits, sends and removes the notification (`__do_notify`).
   */
  send(m: MqMessage, senderPid: number, senderUid: number): void {
    let i = this.messages.length;
    while (i > 0 && (this.messages[i - 1]?.prio ?? 0) < m.prio) i--;
    this.messages.splice(i, 0, m);
    this.qsize += m.data.length;
    if (this.messages.length === 1 && this.receiversWaiting === 0 && this.notification) {
      const n = this.notification;
      this.notification = undefined;
      n.fire(senderPid, senderUid);
    }
    for (const w of this.watchers) w();
  }

  /** Takes the first message, or undefined when the queue is empty. */
  receive(): MqMessage | undefined {
    const m = this.messages.shift();
    if (m) {
      this.qsize -= m.data.length;
      for (const w of this.watchers) w();
    }
    return m;
  }

  /** The text read(2) of the queue's file gives. */
  statusLine(): string {
    const n = this.notification;
    const notify = n ? n.notify : 0;
    const signo = n && n.notify === 0 ? n.signo : 0;
    const pid = n ? n.owner : 0;
    return (
      `QSIZE:${String(this.qsize).padEnd(10)} NOTIFY:${String(notify).padEnd(5)} ` +
      `SIGNO:${String(signo).padEnd(5)} NOTIFY_PID:${String(pid).padEnd(6)}\n`
    );
  }

  /** `inode_permission` for an open asking `may` (4 read, 2 write). */
  permits(c: Credentials, may: number): boolean {
    if (capable(c, Capability.CAP_DAC_OVERRIDE) || (may === 4 && capable(c, Capability.CAP_DAC_READ_SEARCH)))
      return true;
    const bits = c.fsuid === this.uid ? this.mode >> 6 : inGroup(c, this.gid) ? this.mode >> 3 : this.mode;
    return (bits & may) === may;
  }
}

/** The checks of `mq_attr_ok`: EINVAL for a size out of bounds, EOVERFLOW for one too big. */
export function checkMqAttr(limits: MqLimits, attr: MqAttr, privileged: boolean): LinuxError | undefined {
  if (attr.maxmsg <= 0 || attr.msgsize <= 0) return E.EINVAL;
  const maxmsg = privileged ? HARD_MSGMAX : limits.msgMax;
  const msgsize = privileged ? HARD_MSGSIZEMAX : limits.msgsizeMax;
  if (attr.maxmsg > maxmsg || attr.msgsize > msgsize) return E.EINVAL;
  return undefined;
}

/** The queues of one IPC namespace, by name (without the leading '/'). */
export class MqNamespace {
  readonly limits: MqLimits = {
    queuesMax: 256,
    msgMax: 10,
    msgsizeMax: 8192,
    msgDefault: 10,
    msgsizeDefault: 8192,
  };
  private readonly names = new Map<string, MqQueue>();
  /** Queues alive (named or still open): what `queues_max` counts. */
  private count = 0;
  /** Bytes charged per uid against RLIMIT_MSGQUEUE. */
  private readonly charged = new Map<number, number>();

  lookup(name: string): MqQueue | undefined {
    return this.names.get(name);
  }

  /** The names, for listing. */
  list(): string[] {
    return [...this.names.keys()];
  }

  /**
   * Creates a queue under `name` (`mqueue_create_attr`): ENOSPC past `queues_max` for the
   * unprivileged, EINVAL/EOVERFLOW for bad attributes, EMFILE when the creator's
   * RLIMIT_MSGQUEUE budget (`rlimit` bytes) cannot hold it. No attributes mean the defaults.
   */
  create(
    name: string,
    attr: MqAttr | undefined,
    mode: number,
    c: Credentials,
    rlimit: number,
  ): MqQueue | LinuxError {
    if (this.count >= this.limits.queuesMax && !capable(c, Capability.CAP_SYS_RESOURCE)) return E.ENOSPC;
    const a = attr ?? {
      maxmsg: Math.min(this.limits.msgMax, this.limits.msgDefault),
      msgsize: Math.min(this.limits.msgsizeMax, this.limits.msgsizeDefault),
    };
    if (attr) {
      const bad = checkMqAttr(this.limits, attr, capable(c, Capability.CAP_SYS_RESOURCE));
      if (bad) return bad;
    }
    const charge =
      a.maxmsg * MSG_SLOT_BYTES + Math.min(a.maxmsg, MQ_PRIO_MAX) * PRIO_NODE_BYTES + a.maxmsg * a.msgsize;
    const used = this.charged.get(c.uid) ?? 0;
    if (used + charge > rlimit) return E.EMFILE;
    this.charged.set(c.uid, used + charge);
    this.count++;
    const q = new MqQueue(a, c.fsuid, c.fsgid, mode & 0o7777, charge, c.uid);
    this.names.set(name, q);
    return q;
  }

  /** Removes the name (mq_unlink): ENOENT when there is none. Open descriptions keep the queue. */
  unlink(name: string): LinuxError | undefined {
    const q = this.names.get(name);
    if (!q) return E.ENOENT;
    this.names.delete(name);
    q.linked = false;
    if (q.opens === 0) this.destroy(q);
    return undefined;
  }

  /** A description of `q` was opened. */
  opened(q: MqQueue): void {
    q.opens++;
  }

  /** A description of `q` was released; an unlinked queue with none left is destroyed. */
  closed(q: MqQueue): void {
    q.opens--;
    if (q.opens === 0 && !q.linked) this.destroy(q);
  }

  /** The queue is gone: its budget and its place in `queues_max` come back. */
  private destroy(q: MqQueue): void {
    this.count--;
    const left = (this.charged.get(q.chargedUid) ?? 0) - q.charge;
    if (left > 0) this.charged.set(q.chargedUid, left);
    else this.charged.delete(q.chargedUid);
  }
}
