/**
 * The IPC namespace as /proc/sysvipc shows it (procfs renders the lines).
 *
 * @module
 */
import type { ProcIpcPerm, ProcSysvIpc } from '@tsvisor/procfs';
import type { IpcObject } from './ipc-ids.js';
import type { IpcNamespace } from './ipc-namespace.js';

function perm(o: IpcObject): ProcIpcPerm {
  return { key: o.key, id: o.id, mode: o.mode, uid: o.uid, gid: o.gid, cuid: o.cuid, cgid: o.cgid };
}

/**
 * The rows of /proc/sysvipc/{shm,sem,msg}. Segment residency is not tracked: rss and swap are 0
 * (Linux counts the pages touched).
 */
export function procSysvIpc(ns: IpcNamespace): ProcSysvIpc {
  ns.shm.reap();
  return {
    shm: ns.shm.ids.all().map((s) => ({
      ...perm(s),
      size: s.size,
      cpid: s.cpid,
      lpid: s.lpid,
      nattch: ns.shm.nattch(s),
      atime: s.atime,
      dtime: s.dtime,
      ctime: s.ctime,
      rss: 0,
      swap: 0,
    })),
    sem: ns.sem.ids.all().map((s) => ({ ...perm(s), nsems: s.nsems, otime: s.otime, ctime: s.ctime })),
    msg: ns.msg.ids.all().map((q) => ({
      ...perm(q),
      cbytes: q.cbytes,
      qnum: q.messages.length,
      lspid: q.lspid,
      lrpid: q.lrpid,
      stime: q.stime,
      rtime: q.rtime,
      ctime: q.ctime,
    })),
  };
}
