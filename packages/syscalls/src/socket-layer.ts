/**
 * What the socket kinds share: the moves of socket addresses between app memory and the kernel,
 * and the layering of kinds answered in front of the netstack handlers (host sockets in network
 * mode `host`, AF_PACKET sockets): a handler of such a kind answers the calls on its own sockets
 * and returns undefined for any other, which then go on to the handler behind it.
 *
 * @module
 */
import { E, MsgFlag, OpenFlag, SockType, isError, msghdr, timespec, type LinuxError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import { FileDescription, type FileDescriptionImpl, type Location } from '@tsvisor/vfs';
import { filesOf, nofile, vfsCreds } from './vfs-context.js';
import { readStruct, writeStruct } from './user-structs.js';
import {
  int,
  ptr,
  uint,
  type SyscallArgs,
  type SyscallFamily,
  type SyscallHandler,
  type SyscallResult,
} from './types.js';

/** sizeof(struct sockaddr_storage): the longest socket address a call takes. */
export const SOCKADDR_STORAGE = 128;

/** A new socket's open file: read-write, non-blocking when socket(2)'s `flags` say SOCK_NONBLOCK. */
export function socketFile(
  t: Task,
  impl: FileDescriptionImpl,
  location: Location,
  flags: number,
): FileDescription {
  const nonBlock = flags & SockType.SOCK_NONBLOCK ? OpenFlag.O_NONBLOCK : 0;
  return new FileDescription(impl, location, OpenFlag.O_RDWR | nonBlock, vfsCreds(t));
}

/**
 * Installs a new socket's file at the lowest free fd, close-on-exec when `flags` say
 * SOCK_CLOEXEC; with no fd free (EMFILE) the file is released.
 */
export function installSocketFile(t: Task, file: FileDescription, flags: number): number | LinuxError {
  const fd = filesOf(t).install(file, { limit: nofile(t), cloexec: (flags & SockType.SOCK_CLOEXEC) !== 0 });
  if (isError(fd)) file.release();
  return fd;
}

/** move_addr_to_kernel: `EINVAL` for a length outside [0, 128], `EFAULT`. */
export function readAddr(t: Task, addr: number, len: number): Uint8Array | LinuxError {
  if (len < 0 || len > SOCKADDR_STORAGE) return E.EINVAL;
  if (len === 0) return new Uint8Array(0);
  return t.memory.read(addr, len);
}

/** move_addr_to_user: copies at most `*lenp` bytes of `bytes`, then stores the full length. */
export function writeAddr(t: Task, addr: number, lenp: number, bytes: Uint8Array): LinuxError | undefined {
  const len = t.memory.readI32(lenp);
  if (isError(len)) return len;
  if (len < 0) return E.EINVAL;
  const n = Math.min(len, bytes.length);
  if (n > 0) {
    const err = t.memory.writeExact(addr, bytes.subarray(0, n));
    if (err) return err;
  }
  return t.memory.writeI32(lenp, bytes.length);
}

/** What {@link readMsghdr} reads: the header's bytes, its fields and its iovecs. */
export interface MsghdrRead {
  readonly raw: Uint8Array;
  readonly m: Exclude<ReturnType<typeof msghdr.parse>, LinuxError>;
  readonly iov: readonly { readonly base: number; readonly len: number }[];
}

/**
 * The msghdr at `mp` and its iovecs, as recvmsg's copy_msghdr_from_user checks them: EINVAL
 * for a negative msg_namelen, EMSGSIZE past UIO_MAXIOV iovecs, EFAULT.
 */
export function readMsghdr(t: Task, mp: number): MsghdrRead | LinuxError {
  const raw = t.memory.read(mp, msghdr.size);
  if (isError(raw)) return raw;
  const m = msghdr.parse(raw, 0);
  if (isError(m)) return m;
  if (m.msg_namelen < 0) return E.EINVAL;
  if (m.msg_iovlen > MMSG_MAX) return E.EMSGSIZE;
  const iov = t.memory.readIovecs(m.msg_iov, m.msg_iovlen);
  if (isError(iov)) return iov;
  return { raw, m, iov };
}

/** A handler of one socket kind: undefined when the call is not on one of its sockets. */
export type LayerHandler = (t: Task, a: SyscallArgs) => SyscallResult | Promise<SyscallResult> | undefined;

/** struct mmsghdr: a msghdr (56 bytes) and msg_len, padded to 64. */
const MMSGHDR_SIZE = 64;
const MSG_LEN_OFFSET = 56;
/** UIO_MAXIOV: the most entries sendmmsg/recvmmsg take. */
const MMSG_MAX = 1024;

/**
 * `family` with `handlers` in front: each syscall named in both first asks its handler here,
 * and the family's own handler answers what that one leaves (undefined).
 */
export function layerFamily(
  family: SyscallFamily,
  handlers: Readonly<Record<string, LayerHandler>>,
): SyscallFamily {
  const out: Record<string, SyscallFamily[string]> = { ...family };
  for (const [name, front] of Object.entries(handlers)) {
    const def = family[name];
    if (!def) continue;
    const inner: SyscallHandler = def.handler;
    out[name] = { ...def, handler: (t, a) => front(t, a) ?? inner(t, a) };
  }
  return out;
}

/**
 * sendmmsg(2) (`recv` false) or recvmmsg(2) over a kind whose sendmsg/recvmsg is `one`: one
 * message per entry (at most UIO_MAXIOV), each count stored in its msg_len; the first failure
 * ends the vector and is the answer only when no message went. recvmmsg's MSG_WAITFORONE makes
 * the entries after the first non-blocking, and its timeout is checked after each message, as
 * Linux does (it never cuts a wait short), the time left written back. `owns` says whether the
 * fd is one of the kind's sockets (undefined otherwise, for the handler behind).
 */
export function perMessage(
  one: LayerHandler,
  recv: boolean,
  owns: (t: Task, fd: number) => boolean,
): LayerHandler {
  return (t, a) => {
    if (!owns(t, int(a[0]))) return undefined;
    const tp = recv ? ptr(a[4]) : 0;
    let deadline: bigint | undefined;
    if (tp !== 0) {
      const ts = readStruct(t, tp, timespec);
      if (isError(ts)) return ts;
      if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1e9) return E.EINVAL;
      deadline = t.kernel.time.monotonicNs() + BigInt(ts.tv_sec) * 1_000_000_000n + BigInt(ts.tv_nsec);
    }
    const vec = ptr(a[1]);
    const vlen = Math.min(uint(a[2]), MMSG_MAX);
    let flags = int(a[3]);
    let count = 0;
    const step = async (): Promise<SyscallResult> => {
      let stop: SyscallResult | undefined;
      for (let i = 0; i < vlen; i++) {
        const entry = vec + i * MMSGHDR_SIZE;
        const r = await one(t, [a[0], BigInt(entry), BigInt(flags & ~MsgFlag.MSG_WAITFORONE), 0n, 0n, 0n]);
        if (typeof r !== 'number') {
          stop = r;
          break;
        }
        const err = t.memory.writeI32(entry + MSG_LEN_OFFSET, r);
        if (err) {
          stop = err;
          break;
        }
        count++;
        if (recv && flags & MsgFlag.MSG_WAITFORONE) flags |= MsgFlag.MSG_DONTWAIT;
        if (deadline !== undefined && deadline <= t.kernel.time.monotonicNs()) break;
      }
      if (count > 0 && deadline !== undefined) {
        const left = deadline - t.kernel.time.monotonicNs();
        const rest = left > 0n ? left : 0n;
        const err = writeStruct(t, tp, timespec, {
          tv_sec: Number(rest / 1_000_000_000n),
          tv_nsec: Number(rest % 1_000_000_000n),
        });
        if (err) return err;
      }
      if (count > 0) return count;
      return stop ?? 0;
    };
    return step();
  };
}
