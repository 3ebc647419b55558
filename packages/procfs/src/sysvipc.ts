/**
 * /proc/sysvipc/{shm,sem,msg}: the System V IPC objects of the reader's IPC namespace, one line
 * each under a header, in the formats of Linux's `sysvipc_*_proc_show` (x86-64 widths).
 *
 * @module
 */

/** The `ipc_perm` columns every line has. */
export interface ProcIpcPerm {
  readonly key: number;
  readonly id: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly cuid: number;
  readonly cgid: number;
}

/** One shared memory segment. */
export interface ProcShm extends ProcIpcPerm {
  readonly size: number;
  readonly cpid: number;
  readonly lpid: number;
  readonly nattch: number;
  readonly atime: number;
  readonly dtime: number;
  readonly ctime: number;
  /** Resident and swapped bytes. */
  readonly rss: number;
  readonly swap: number;
}

/** One semaphore set. */
export interface ProcSem extends ProcIpcPerm {
  readonly nsems: number;
  readonly otime: number;
  readonly ctime: number;
}

/** One message queue. */
export interface ProcMsg extends ProcIpcPerm {
  readonly cbytes: number;
  readonly qnum: number;
  readonly lspid: number;
  readonly lrpid: number;
  readonly stime: number;
  readonly rtime: number;
  readonly ctime: number;
}

/** The objects of an IPC namespace, in index order. */
export interface ProcSysvIpc {
  readonly shm: readonly ProcShm[];
  readonly sem: readonly ProcSem[];
  readonly msg: readonly ProcMsg[];
}

const r = (v: number, w: number): string => String(v).padStart(w);
const oct = (v: number): string => (v & 0o7777).toString(8).padStart(4);
const owners = (o: ProcIpcPerm): string => `${r(o.uid, 5)} ${r(o.gid, 5)} ${r(o.cuid, 5)} ${r(o.cgid, 5)}`;

/** /proc/sysvipc/shm. */
export function renderSysvShm(rows: readonly ProcShm[]): string {
  let out =
    '       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n';
  for (const s of rows) {
    out +=
      `${r(s.key, 10)} ${r(s.id, 10)}  ${oct(s.mode)} ${r(s.size, 21)} ${r(s.cpid, 5)} ${r(s.lpid, 5)}  ` +
      `${r(s.nattch, 5)} ${owners(s)} ${r(s.atime, 10)} ${r(s.dtime, 10)} ${r(s.ctime, 10)} ` +
      `${r(s.rss, 21)} ${r(s.swap, 21)}\n`;
  }
  return out;
}

/** /proc/sysvipc/sem. */
export function renderSysvSem(rows: readonly ProcSem[]): string {
  let out = '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n';
  for (const s of rows) {
    out += `${r(s.key, 10)} ${r(s.id, 10)}  ${oct(s.mode)} ${r(s.nsems, 10)} ${owners(s)} ${r(s.otime, 10)} ${r(s.ctime, 10)}\n`;
  }
  return out;
}

/** /proc/sysvipc/msg. */
export function renderSysvMsg(rows: readonly ProcMsg[]): string {
  let out =
    '       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n';
  for (const m of rows) {
    out +=
      `${r(m.key, 10)} ${r(m.id, 10)}  ${oct(m.mode)}  ${r(m.cbytes, 10)} ${r(m.qnum, 10)} ` +
      `${r(m.lspid, 5)} ${r(m.lrpid, 5)} ${owners(m)} ${r(m.stime, 10)} ${r(m.rtime, 10)} ${r(m.ctime, 10)}\n`;
  }
  return out;
}
