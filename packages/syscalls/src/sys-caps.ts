/**
 * Capabilities and other per-process switches: capget, capset, personality, unshare.
 *
 * Capabilities follow the kernel's model in `@tsvisor/kernel`: a task with effective uid 0 holds
 * all of them, any other holds none; capset can only keep that state.
 *
 * @module
 */
import { CapVersion, CloneFlag, E, isError, type LinuxError } from '@tsvisor/abi';
import { capable, type Task } from '@tsvisor/kernel';
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

/** CAP_LAST_CAP is 40: the high word of a full set has bits 0..8. */
const FULL_LOW = 0xffffffff;
const FULL_HIGH = 0x1ff;

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

/** implements capget(2): `EINVAL` (and the preferred version) for an unknown version, `ESRCH`. */
function capget(t: Task, a: SyscallArgs): SyscallResult {
  const h = header(t, ptr(a[0]));
  // A NULL data pointer is a version probe: it succeeds once the version was written back.
  if (a[1] === 0n) return h === E.EINVAL || !isError(h) ? 0 : h;
  if (isError(h)) return h;
  if (h.pid < 0) return E.EINVAL;
  const target = h.pid === 0 ? t : t.kernel.task(h.pid);
  if (!target) return E.ESRCH;
  const full = capable(target.creds);
  const out = new Uint8Array(12 * h.words);
  const v = new DataView(out.buffer);
  const words = [full ? FULL_LOW : 0, full ? FULL_HIGH : 0];
  for (let i = 0; i < h.words; i++) {
    v.setUint32(i * 12, words[i] as number, true);
    v.setUint32(i * 12 + 4, words[i] as number, true);
    v.setUint32(i * 12 + 8, 0, true);
  }
  return t.memory.writeExact(ptr(a[1]), out) ?? 0;
}

/**
 * implements capset(2): only the caller's own sets; raising anything beyond what it holds is
 * EPERM. Dropping capabilities is not modelled (they follow the euid), so it is EPERM too
 * unless the sets requested equal the current ones.
 */
function capset(t: Task, a: SyscallArgs): SyscallResult {
  const h = header(t, ptr(a[0]));
  if (isError(h)) return h;
  if (h.pid !== 0 && h.pid !== t.tid) return E.EPERM;
  const raw = t.memory.read(ptr(a[1]), 12 * h.words);
  if (isError(raw)) return raw;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const full = capable(t.creds);
  for (let i = 0; i < h.words; i++) {
    const have = full ? (i === 0 ? FULL_LOW : FULL_HIGH) : 0;
    const eff = v.getUint32(i * 12, true);
    const prm = v.getUint32(i * 12 + 4, true);
    if (eff !== have || prm !== have) return E.EPERM;
  }
  return 0;
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
 * implements unshare(2): CLONE_FILES and CLONE_FS take private copies; namespace flags are
 * refused with EPERM (the sandbox is one namespace of each kind); other bits are EINVAL.
 */
function unshare(t: Task, a: SyscallArgs): SyscallResult {
  const flags = int(a[0]) >>> 0;
  const known =
    (UNSHARE_OK | UNSHARE_NS | CloneFlag.CLONE_THREAD | CloneFlag.CLONE_SIGHAND | CloneFlag.CLONE_VM) >>> 0;
  if ((flags & ~known) !== 0) return E.EINVAL;
  if (flags & UNSHARE_NS) return E.EPERM;
  // CLONE_THREAD/SIGHAND/VM may be "unshared" only by a single-threaded process.
  if (
    flags & (CloneFlag.CLONE_THREAD | CloneFlag.CLONE_SIGHAND | CloneFlag.CLONE_VM) &&
    t.group.tasks.size > 1
  ) {
    return E.EINVAL;
  }
  if (flags & CloneFlag.CLONE_FILES) t.files = t.files.fork();
  if (flags & CloneFlag.CLONE_FS) t.fs = t.fs.fork();
  return 0;
}

/** Capability and process-switch syscalls. */
export const capsSyscalls: SyscallFamily = {
  capget: { handler: capget, support: FULL },
  capset: {
    handler: capset,
    support: partial('capabilities follow the effective uid; only no-op changes succeed'),
  },
  personality: { handler: personality, support: partial('recorded and reported; no flag changes behaviour') },
  unshare: { handler: unshare, support: partial('CLONE_FILES and CLONE_FS only; namespace flags are EPERM') },
};
