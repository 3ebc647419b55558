/**
 * System information: uname, sethostname, setdomainname, syslog, sysinfo.
 *
 * @module
 */
import { Capability, E, isError, utsname } from '@tsvisor/abi';
import { UTS_LEN, capable, type Task, type UtsNamespace } from '@tsvisor/kernel';
import { nsAllocInum, nsForget, nsLocation } from '@tsvisor/procfs';
import { writeStruct } from './user-structs.js';
import {
  FULL,
  int,
  partial,
  ptr,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';

/** UTS namespaces made inside sandboxes of this process and not yet freed, by nsfs number. */
const madeUts = new Map<number, UtsNamespace>();

/**
 * A new UTS namespace with `parent`'s names (unshare and clone's CLONE_NEWUTS): its own nsfs
 * number, and an nsfs inode that holds it while open.
 */
export function newUtsNamespace(parent: UtsNamespace): UtsNamespace {
  const inum = nsAllocInum();
  const ns = parent.copy(inum, () => {
    nsForget(inum);
    madeUts.delete(inum);
  });
  nsLocation('uts', inum, ns);
  madeUts.set(inum, ns);
  return ns;
}

/** A UTS namespace made inside a sandbox of this process, by nsfs inode number (setns). */
export function madeUtsOf(inum: number): UtsNamespace | undefined {
  return madeUts.get(inum);
}

/** implements uname(2): Linux 6.x release, a version naming tsvisor, the caller's UTS names. */
function uname(t: Task, a: SyscallArgs): SyscallResult {
  return writeStruct(t, ptr(a[0]), utsname, { ...t.uts.uname() }) ?? 0;
}

function setName(t: Task, a: SyscallArgs, which: 'host' | 'domain'): SyscallResult {
  if (!capable(t.creds, Capability.CAP_SYS_ADMIN)) return E.EPERM;
  const len = int(a[1]);
  if (len < 0 || len > UTS_LEN) return E.EINVAL;
  const name = t.memory.read(ptr(a[0]), len);
  if (isError(name)) return name;
  const uts = t.uts;
  return (which === 'host' ? uts.setHostname(name) : uts.setDomainname(name)) ?? 0;
}

/** implements sethostname(2): `EPERM` unprivileged, `EINVAL` bad length, `EFAULT`. */
function sethostname(t: Task, a: SyscallArgs): SyscallResult {
  return setName(t, a, 'host');
}

/** implements setdomainname(2). */
function setdomainname(t: Task, a: SyscallArgs): SyscallResult {
  return setName(t, a, 'domain');
}

const SYSLOG_ACTION = {
  CLOSE: 0,
  OPEN: 1,
  READ: 2,
  READ_ALL: 3,
  READ_CLEAR: 4,
  CLEAR: 5,
  CONSOLE_OFF: 6,
  CONSOLE_ON: 7,
  CONSOLE_LEVEL: 8,
  SIZE_UNREAD: 9,
  SIZE_BUFFER: 10,
} as const;

/**
 * implements syslog(2) over the sandbox's kernel log: READ_ALL/READ_CLEAR copy the newest text
 * that fits, READ consumes unread records (without blocking when none: returns 0), CLEAR, the
 * size queries, and console controls (accepted, no console). Privileged actions need root as
 * with dmesg_restrict=1.
 */
function syslog(t: Task, a: SyscallArgs): SyscallResult {
  const type = int(a[0]);
  const len = int(a[2]);
  const log = t.kernel.syslog;
  if (type === SYSLOG_ACTION.CLOSE || type === SYSLOG_ACTION.OPEN) return 0;
  if (type < 0 || type > SYSLOG_ACTION.SIZE_BUFFER) return E.EINVAL;
  if (!capable(t.creds, Capability.CAP_SYSLOG)) return E.EPERM;
  switch (type) {
    case SYSLOG_ACTION.READ:
    case SYSLOG_ACTION.READ_ALL:
    case SYSLOG_ACTION.READ_CLEAR: {
      if (a[1] === 0n || len < 0) return E.EINVAL;
      if (len === 0) return 0;
      let text: Uint8Array;
      if (type === SYSLOG_ACTION.READ) text = enc.encode(log.consume(len));
      else {
        const all = enc.encode(log.renderSyslog());
        text = all.subarray(Math.max(0, all.length - len));
        if (type === SYSLOG_ACTION.READ_CLEAR) log.clear();
      }
      const n = t.memory.write(ptr(a[1]), text);
      return n;
    }
    case SYSLOG_ACTION.CLEAR:
      log.clear();
      return 0;
    case SYSLOG_ACTION.CONSOLE_LEVEL:
      return len < 1 || len > 8 ? E.EINVAL : 0;
    case SYSLOG_ACTION.SIZE_UNREAD:
      return log.sizeUnread();
    case SYSLOG_ACTION.SIZE_BUFFER:
      return log.capacity;
    default:
      return 0;
  }
}

const enc = new TextEncoder();

/** System information syscalls. */
export const infoSyscalls: SyscallFamily = {
  uname: { handler: uname, support: FULL },
  sethostname: { handler: sethostname, support: FULL },
  setdomainname: { handler: setdomainname, support: FULL },
  syslog: { handler: syslog, support: partial('SYSLOG_ACTION_READ does not block when the log is empty') },
};
