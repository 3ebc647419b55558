/**
 * Capabilities and other per-process switches: capget, capset, the capability options of prctl,
 * personality, unshare.
 *
 * The capability sets live in the task's credentials (`@tsvisor/kernel`), which also holds the
 * rules (capset's subset checks, the bounding and ambient sets, securebits); this file decodes
 * the user structures and commits the new credentials.
 *
 * @module
 */
import { CapVersion, Capability, CloneFlag, E, Prctl, isError, type LinuxError } from '@tsvisor/abi';
import {
  ambient,
  boundingHas,
  capable,
  dropBounding,
  setCaps,
  setKeepCaps,
  setSecurebits,
  Securebit,
  type Credentials,
  type Task,
} from '@tsvisor/kernel';
import {
  FULL,
  int,
  partial,
  ptr,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallResult,
} from './types.js';
import { newNetNamespace } from './sys-socket-file.js';
import { newUtsNamespace } from './sys-info.js';

/** `sizeof(struct __user_cap_data_struct)`: effective, permitted, inheritable (u32 each). */
const CAP_DATA_SIZE = 12;

/** Reads and checks the header: a version Linux does not know gets EINVAL and the v3 number written back. */
function header(t: Task, addr: number): { words: number; pid: number } | LinuxError {
  const h = t.memory.read(addr, 8);
  if (isError(h)) return h;
  const v = new DataView(h.buffer, h.byteOffset, 8);
  const version = v.getUint32(0, true);
  const pid = v.getInt32(4, true);
  switch (version) {
    case CapVersion._LINUX_CAPABILITY_VERSION_1:
      return { words: 1, pid };
    case CapVersion._LINUX_CAPABILITY_VERSION_2:
    case CapVersion._LINUX_CAPABILITY_VERSION_3:
      return { words: 2, pid };
    default:
      return t.memory.writeU32(addr, CapVersion._LINUX_CAPABILITY_VERSION_3) ?? E.EINVAL;
  }
}

/**
 * implements capget(2): the effective, permitted and inheritable sets of the caller (pid 0 or
 * its own) or of any task; version 1 answers the low 32 capabilities only. `EINVAL` (and the
 * preferred version) for an unknown version, `EINVAL` for a negative pid, `ESRCH`, `EFAULT`.
 */
function capget(t: Task, a: SyscallArgs): SyscallResult {
  const h = header(t, ptr(a[0]));
  // A NULL data pointer is a version probe: it succeeds once the version was written back.
  if (a[1] === 0n) return h === E.EINVAL || !isError(h) ? 0 : h;
  if (isError(h)) return h;
  if (h.pid < 0) return E.EINVAL;
  const target = h.pid === 0 ? t : t.kernel.task(h.pid);
  if (!target) return E.ESRCH;
  const c = target.creds;
  const out = new Uint8Array(CAP_DATA_SIZE * h.words);
  const v = new DataView(out.buffer);
  for (let i = 0; i < h.words; i++) {
    const shift = BigInt(32 * i);
    const word = (set: bigint): number => Number((set >> shift) & 0xffffffffn);
    v.setUint32(i * CAP_DATA_SIZE, word(c.effective), true);
    v.setUint32(i * CAP_DATA_SIZE + 4, word(c.permitted), true);
    v.setUint32(i * CAP_DATA_SIZE + 8, word(c.inheritable), true);
  }
  return t.memory.writeExact(ptr(a[1]), out) ?? 0;
}

/**
 * implements capset(2): only the caller's own sets (pid 0 or its tid; any other is `EPERM`);
 * version 1 sets the high capabilities to zero. The rules are `setCaps`'s: `EPERM` for a set
 * that would grow.
 */
function capset(t: Task, a: SyscallArgs): SyscallResult {
  const h = header(t, ptr(a[0]));
  if (isError(h)) return h;
  if (h.pid !== 0 && h.pid !== t.tid) return E.EPERM;
  const raw = t.memory.read(ptr(a[1]), CAP_DATA_SIZE * h.words);
  if (isError(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let effective = 0n;
  let permitted = 0n;
  let inheritable = 0n;
  for (let i = 0; i < h.words; i++) {
    const shift = BigInt(32 * i);
    effective |= BigInt(v.getUint32(i * CAP_DATA_SIZE, true)) << shift;
    permitted |= BigInt(v.getUint32(i * CAP_DATA_SIZE + 4, true)) << shift;
    inheritable |= BigInt(v.getUint32(i * CAP_DATA_SIZE + 8, true)) << shift;
  }
  return commit(t, setCaps(t.creds, { effective, permitted, inheritable }));
}

function commit(t: Task, c: Credentials | LinuxError, result = 0): SyscallResult {
  if (isError(c)) return c;
  t.group.creds = c;
  return result;
}

/**
 * The capability options of prctl(2) (`cap_task_prctl`): PR_CAPBSET_READ/DROP, PR_GET/SET_KEEPCAPS,
 * PR_GET/SET_SECUREBITS and PR_CAP_AMBIENT, with Linux's errnos. `undefined` for any other
 * option, which the caller handles.
 */
export function capPrctl(t: Task, op: number, a: SyscallArgs): SyscallResult | undefined {
  const c = t.creds;
  const arg2 = BigInt.asUintN(64, a[1]);
  switch (op) {
    case Prctl.PR_CAPBSET_READ:
      return boundingHas(c, arg2);
    case Prctl.PR_CAPBSET_DROP:
      return commit(t, dropBounding(c, arg2));
    case Prctl.PR_GET_KEEPCAPS:
      return c.securebits & Securebit.SECBIT_KEEP_CAPS ? 1 : 0;
    case Prctl.PR_SET_KEEPCAPS:
      return commit(t, setKeepCaps(c, arg2));
    case Prctl.PR_GET_SECUREBITS:
      return c.securebits;
    case Prctl.PR_SET_SECUREBITS:
      return commit(t, setSecurebits(c, arg2));
    case Prctl.PR_CAP_AMBIENT: {
      const cap = BigInt.asUintN(64, a[2]);
      const rest = a[3] | a[4];
      const r = ambient(c, arg2, cap, rest);
      return isError(r) ? r : commit(t, r.creds, r.result);
    }
    default:
      return undefined;
  }
}

/** `PROT_SOCK`: ports below it need CAP_NET_BIND_SERVICE (`ip_unprivileged_port_start`'s default). */
const PROT_SOCK = 1024;
/** The protocols whose bind goes through `inet_bind_sk`'s port check: TCP, UDP, UDP-Lite. */
const PORT_PROTOCOLS: ReadonlySet<number> = new Set([6, 17, 136]);

/**
 * `inet_bind_sk`'s privilege rule for a sandbox TCP/UDP socket: binding a port from 1 to 1023
 * without CAP_NET_BIND_SERVICE is `EACCES`. Only a well-formed address of the socket's family
 * counts; a short or foreign one gets its own errno from the socket's bind.
 */
export function bindPortDenied(
  t: Task,
  sock: { readonly family: 4 | 6; readonly protocol: number },
  addr: Uint8Array,
): boolean {
  const [domain, len] = sock.family === 4 ? [2, 16] : [10, 28];
  if (!PORT_PROTOCOLS.has(sock.protocol) || addr.length < len) return false;
  if ((addr[0]! | (addr[1]! << 8)) !== domain) return false;
  const port = (addr[2]! << 8) | addr[3]!;
  return port !== 0 && port < PROT_SOCK && !capable(t.creds, Capability.CAP_NET_BIND_SERVICE);
}

/** implements personality(2): 0xffffffff queries; tsvisor keeps PER_LINUX (0) and records others. */
function personality(t: Task, a: SyscallArgs): SyscallResult {
  const p = uint(a[0]);
  const old = t.group.personality;
  if (p !== 0xffffffff) t.group.personality = p;
  return old;
}

const UNSHARE_OK = CloneFlag.CLONE_FILES | CloneFlag.CLONE_FS | CloneFlag.CLONE_SYSVSEM;
const UNSHARE_NS =
  CloneFlag.CLONE_NEWNS |
  CloneFlag.CLONE_NEWCGROUP |
  CloneFlag.CLONE_NEWUTS |
  CloneFlag.CLONE_NEWIPC |
  CloneFlag.CLONE_NEWUSER |
  CloneFlag.CLONE_NEWPID |
  CloneFlag.CLONE_NEWNET |
  CloneFlag.CLONE_NEWTIME;

/**
 * implements unshare(2): CLONE_FILES and CLONE_FS take private copies; CLONE_NEWNET puts the
 * calling thread alone in a new network namespace (lo only, down), CLONE_NEWUTS in a new UTS
 * namespace with the names it had, EPERM without CAP_SYS_ADMIN; other namespace flags are
 * refused with EPERM (the sandbox is one namespace of each other kind); other bits are EINVAL.
 */
function unshare(t: Task, a: SyscallArgs): SyscallResult {
  const flags = int(a[0]) >>> 0;
  const known =
    (UNSHARE_OK | UNSHARE_NS | CloneFlag.CLONE_THREAD | CloneFlag.CLONE_SIGHAND | CloneFlag.CLONE_VM) >>> 0;
  if ((flags & ~known) !== 0) return E.EINVAL;
  if (flags & UNSHARE_NS & ~(CloneFlag.CLONE_NEWNET | CloneFlag.CLONE_NEWUTS)) return E.EPERM;
  // CLONE_THREAD/SIGHAND/VM may be "unshared" only by a single-threaded process.
  if (
    flags & (CloneFlag.CLONE_THREAD | CloneFlag.CLONE_SIGHAND | CloneFlag.CLONE_VM) &&
    t.group.tasks.size > 1
  ) {
    return E.EINVAL;
  }
  // unshare_nsproxy_namespaces: a new namespace needs CAP_SYS_ADMIN.
  if (
    flags & (CloneFlag.CLONE_NEWNET | CloneFlag.CLONE_NEWUTS) &&
    !capable(t.creds, Capability.CAP_SYS_ADMIN)
  )
    return E.EPERM;
  if (flags & CloneFlag.CLONE_FILES) t.files = t.files.fork();
  if (flags & CloneFlag.CLONE_FS) t.fs = t.fs.fork();
  if (flags & CloneFlag.CLONE_NEWNET) t.setNetns(newNetNamespace(t.kernel));
  if (flags & CloneFlag.CLONE_NEWUTS) t.setUts(newUtsNamespace(t.uts));
  return 0;
}

/** Capability and process-switch syscalls. */
export const capsSyscalls: SyscallFamily = {
  capget: { handler: capget, support: FULL },
  capset: { handler: capset, support: FULL },
  personality: { handler: personality, support: partial('recorded and reported; no flag changes behaviour') },
  unshare: {
    handler: unshare,
    support: partial('CLONE_FILES, CLONE_FS, CLONE_NEWNET and CLONE_NEWUTS; other namespace flags are EPERM'),
  },
};
