/**
 * kcmp(2): whether two tasks share a kernel resource (an open file description, the address
 * space, the fd table, the fs context, the signal handlers), as checkpoint/restore tools and
 * service managers ask it. Distinct resources are ordered by an id tsvisor hands out on first
 * sight, standing in for Linux's obfuscated kernel pointers: the order is stable but arbitrary.
 *
 * @module
 */
import { E, isError } from '@tsvisor/abi';
import { ptraceCredsMatch, type Task } from '@tsvisor/kernel';
import { int, partial, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';
import { filesOf } from './vfs-context.js';

const KCMP_FILE = 0;
const KCMP_VM = 1;
const KCMP_FILES = 2;
const KCMP_FS = 3;
const KCMP_SIGHAND = 4;

const ids = new WeakMap<object, number>();
let nextId = 1;

function idOf(o: object): number {
  let id = ids.get(o);
  if (id === undefined) {
    id = nextId++;
    ids.set(o, id);
  }
  return id;
}

/** kcmp_ptr: 0 when the same object, else 1 or 2 by the order of their ids. */
function order(a: object, b: object): number {
  if (a === b) return 0;
  return idOf(a) < idOf(b) ? 1 : 2;
}

/** ptrace_may_access(PTRACE_MODE_READ_REALCREDS) with tsvisor's credentials. */
function mayRead(t: Task, p: Task): boolean {
  return p.group === t.group || ptraceCredsMatch(t.creds, p.creds);
}

/**
 * implements kcmp(2): `ESRCH` for an unknown task, `EPERM` without read access to both, `EBADF`
 * for an fd either task does not have (KCMP_FILE), `EINVAL` for an unknown type.
 */
function kcmp(t: Task, a: SyscallArgs): SyscallResult {
  const t1 = t.kernel.task(int(a[0]));
  const t2 = t.kernel.task(int(a[1]));
  if (!t1 || !t2) return E.ESRCH;
  if (!mayRead(t, t1) || !mayRead(t, t2)) return E.EPERM;
  switch (int(a[2])) {
    case KCMP_FILE: {
      const f1 = filesOf(t1).file(int(a[3]));
      const f2 = filesOf(t2).file(int(a[4]));
      if (isError(f1) || isError(f2)) return E.EBADF;
      return order(f1, f2);
    }
    case KCMP_VM:
      return order(t1.mm, t2.mm);
    case KCMP_FILES:
      return order(t1.files, t2.files);
    case KCMP_FS:
      return order(t1.fs, t2.fs);
    case KCMP_SIGHAND:
      return order(t1.group.actions, t2.group.actions);
    default:
      return E.EINVAL;
  }
}

/** kcmp. */
export const kcmpSyscalls: SyscallFamily = {
  kcmp: {
    handler: kcmp,
    support: partial(
      'KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND; KCMP_IO, KCMP_SYSVSEM and KCMP_EPOLL_TFD answer EINVAL',
    ),
  },
};
