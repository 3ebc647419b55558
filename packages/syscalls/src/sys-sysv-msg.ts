/**
 * System V message queues: msgget(2), msgsnd(2), msgrcv(2), msgctl(2), over the kernel's
 * {@link MsgNamespace}. A sender waits for room and a receiver for a matching message; a signal
 * ends the wait with ERESTARTNOHAND (EINTR when a handler runs), removal with EIDRM.
 *
 * @module
 */
import { Capability, E, isError } from '@tsvisor/abi';
import {
  ERESTARTNOHAND,
  IPC_INFO,
  IPC_NOWAIT,
  IPC_RMID,
  IPC_SET,
  IPC_STAT,
  MSGMAX,
  MSGMNB,
  MSGMNI,
  MSG_COPY,
  MSG_EXCEPT,
  MSG_NOERROR,
  capable,
  ipcOwnerCheck,
  ipcPermitted,
  ipcSetPerm,
  type MsgQueue,
  type Task,
} from '@tsvisor/kernel';
import { buffer, checkPermSet, copyOut, emitPerm, ipcNow, readDs } from './sys-sysv-common.js';
import { FULL, int, long, ptr, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

/** msgctl commands beyond the common ones. */
export const MSG_STAT = 11;
export const MSG_INFO = 12;
export const MSG_STAT_ANY = 13;
const MSQID_DS_SIZE = 120;
const MSGSSZ = 16;
const MSGPOOL = (MSGMNI * MSGMNB) / 1024;
const MSGSEG = Math.min(0xffff, (MSGPOOL * 1024) / MSGSSZ);

/** implements msgget(2). */
function msgget(t: Task, a: SyscallArgs): SyscallResult {
  return t.kernel.ipc.msg.get(int(a[0]), int(a[1]), t.creds, ipcNow(t));
}

/** The size argument as Linux's `(long)` view of a size_t: negative stays negative. */
function msgSize(a: bigint): number {
  const v = long(a);
  return v < 0n ? -1 : v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/**
 * implements msgsnd(2): `EFAULT` for the type, `EINVAL` for a size above MSGMAX or a type below
 * 1, `EAGAIN` with IPC_NOWAIT when the queue is full.
 */
async function msgsnd(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const msqid = int(a[0]);
  const msgp = ptr(a[1]);
  const len = msgSize(a[2]);
  const flg = int(a[3]);
  const type = t.memory.readU64(msgp);
  if (isError(type)) return type;
  if (len > MSGMAX || len < 0 || msqid < 0) return E.EINVAL;
  const mtype = BigInt.asIntN(64, type);
  if (mtype < 1n) return E.EINVAL;
  const text = t.memory.read(msgp + 8, len);
  if (isError(text)) return text;
  const q = t.kernel.ipc.msg.ids.find(msqid);
  if (isError(q)) return q;
  if (!ipcPermitted(q, t.creds, 0o222)) return E.EACCES;
  for (;;) {
    if (!q.valid) return E.EIDRM;
    if (q.hasRoom(len)) {
      q.push({ type: mtype, text: Uint8Array.from(text) }, t.tgid, ipcNow(t));
      return 0;
    }
    if (flg & IPC_NOWAIT) return E.EAGAIN;
    const why = await t.wait([q.senders]);
    if (!q.valid) return E.EIDRM;
    if (why === 'interrupted') return ERESTARTNOHAND;
  }
}

/**
 * implements msgrcv(2): msgtyp 0 / positive / negative, MSG_EXCEPT, MSG_NOERROR (else `E2BIG`
 * and the message stays), MSG_COPY (with IPC_NOWAIT: a copy of the message at index msgtyp),
 * `ENOMSG` with IPC_NOWAIT when nothing matches.
 */
async function msgrcv(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const msqid = int(a[0]);
  const msgp = ptr(a[1]);
  const len = msgSize(a[2]);
  const msgtyp = long(a[3]);
  const flg = int(a[4]);
  if (msqid < 0 || len < 0) return E.EINVAL;
  const copy = (flg & MSG_COPY) !== 0;
  if (copy && (flg & MSG_EXCEPT || !(flg & IPC_NOWAIT))) return E.EINVAL;
  const q = t.kernel.ipc.msg.ids.find(msqid);
  if (isError(q)) return q;
  for (;;) {
    if (!ipcPermitted(q, t.creds, 0o444)) return E.EACCES;
    if (!q.valid) return E.EIDRM;
    const i = copy
      ? msgtyp >= 0n && msgtyp < BigInt(q.messages.length)
        ? Number(msgtyp)
        : -1
      : q.find(msgtyp, flg);
    const m = i >= 0 ? q.messages[i] : undefined;
    if (m) {
      if (len < m.text.length && !(flg & MSG_NOERROR)) return E.E2BIG;
      if (copy && Math.min(len, MSGMAX) < m.text.length) return E.EINVAL;
      if (!copy) q.take(i, t.tgid, ipcNow(t));
      const out = new Uint8Array(8 + Math.min(len, m.text.length));
      new DataView(out.buffer).setBigInt64(0, m.type, true);
      out.set(m.text.subarray(0, out.length - 8), 8);
      return copyOut(t, msgp, out) ?? out.length - 8;
    }
    if (flg & IPC_NOWAIT) return E.ENOMSG;
    const why = await t.wait([q.receivers]);
    if (!q.valid) return E.EIDRM;
    if (why === 'interrupted') return ERESTARTNOHAND;
  }
}

function emitMsqidDs(q: MsgQueue): Uint8Array {
  const { bytes, dv } = buffer(MSQID_DS_SIZE);
  emitPerm(dv, q);
  dv.setBigInt64(48, BigInt(q.stime), true);
  dv.setBigInt64(56, BigInt(q.rtime), true);
  dv.setBigInt64(64, BigInt(q.ctime), true);
  dv.setBigUint64(72, BigInt(q.cbytes), true);
  dv.setBigUint64(80, BigInt(q.messages.length), true);
  dv.setBigUint64(88, BigInt(q.qbytes), true);
  dv.setInt32(96, q.lspid, true);
  dv.setInt32(100, q.lrpid, true);
  return bytes;
}

/**
 * implements msgctl(2): IPC_STAT, MSG_STAT, MSG_STAT_ANY, IPC_SET (raising msg_qbytes above
 * MSGMNB needs root: `EPERM`), IPC_RMID, IPC_INFO, MSG_INFO; `EINVAL` for a negative id or
 * command or an unknown command.
 */
function msgctl(t: Task, a: SyscallArgs): SyscallResult {
  const msqid = int(a[0]);
  const cmd = int(a[1]);
  const buf = ptr(a[2]);
  const ns = t.kernel.ipc.msg;
  if (msqid < 0 || cmd < 0) return E.EINVAL;
  switch (cmd) {
    case IPC_INFO:
    case MSG_INFO: {
      const { bytes, dv } = buffer(32);
      const info = cmd === MSG_INFO;
      const totals = ns.totals();
      dv.setInt32(0, info ? ns.ids.inUse : MSGPOOL, true);
      dv.setInt32(4, info ? totals.messages : MSGMNB, true);
      dv.setInt32(8, MSGMAX, true);
      dv.setInt32(12, MSGMNB, true);
      dv.setInt32(16, MSGMNI, true);
      dv.setInt32(20, MSGSSZ, true);
      dv.setInt32(24, info ? totals.bytes : MSGMNB, true);
      dv.setUint16(28, MSGSEG, true);
      return copyOut(t, buf, bytes) ?? Math.max(0, ns.ids.maxIndex());
    }
    case IPC_STAT:
    case MSG_STAT:
    case MSG_STAT_ANY: {
      const q = cmd === IPC_STAT ? ns.ids.find(msqid) : ns.ids.atIndex(msqid);
      if (isError(q)) return q;
      if (cmd !== MSG_STAT_ANY && !ipcPermitted(q, t.creds, 0o444)) return E.EACCES;
      return copyOut(t, buf, emitMsqidDs(q)) ?? (cmd === IPC_STAT ? 0 : q.id);
    }
    case IPC_SET: {
      const ds = readDs(t, buf, MSQID_DS_SIZE);
      if (isError(ds)) return ds;
      const q = ns.ids.find(msqid);
      if (isError(q)) return q;
      const denied = ipcOwnerCheck(q, t.creds);
      if (denied) return denied;
      const qbytes = ds.dv.getBigUint64(88, true);
      if (qbytes > BigInt(MSGMNB) && !capable(t.creds, Capability.CAP_SYS_RESOURCE)) return E.EPERM;
      const bad = checkPermSet(ds.perm);
      if (bad) return bad;
      ipcSetPerm(q, ds.perm.uid, ds.perm.gid, ds.perm.mode);
      q.qbytes = Number(qbytes > 0x7fffffffn ? 0x7fffffffn : qbytes);
      q.ctime = ipcNow(t);
      q.senders.notify();
      return 0;
    }
    case IPC_RMID: {
      const q = ns.ids.find(msqid);
      if (isError(q)) return q;
      const denied = ipcOwnerCheck(q, t.creds);
      if (denied) return denied;
      ns.remove(q);
      return 0;
    }
    default:
      return E.EINVAL;
  }
}

/** System V message queue syscalls. */
export const sysvMsgSyscalls: SyscallFamily = {
  msgget: { handler: msgget, support: FULL },
  msgsnd: { handler: msgsnd, support: FULL },
  msgrcv: { handler: msgrcv, support: FULL },
  msgctl: { handler: msgctl, support: FULL },
};
