/**
 * The socket filter options of Linux's core socket layer (sk_setsockopt / sk_getsockopt in
 * net/core/sock.c, sk_attach_filter / sk_detach_filter / sk_get_filter in net/core/filter.c)
 * for the sandbox's own sockets (netstack inet and AF_UNIX): SO_ATTACH_FILTER (replaces the
 * previous program), SO_DETACH_FILTER (= SO_DETACH_BPF), SO_LOCK_FILTER, SO_GET_FILTER,
 * SO_BPF_EXTENSIONS, and SO_ATTACH_BPF, which needs a bpf(2) program fd that tsvisor never hands
 * out (no bpf(2)): EBADF for a closed fd, EINVAL for any open one, as Linux answers for a fd
 * that is not a BPF program. The programs run in netstack's receive paths (see its cbpf module).
 *
 * Netlink sockets run theirs on every message delivered to them (netlink_unicast, netlink_dump
 * and broadcasts all call sk_filter): see {@link netlinkFilter}.
 *
 * SO_ATTACH_REUSEPORT_CBPF gives a program to an inet socket's SO_REUSEPORT group (netstack picks
 * the member of each datagram or connection with it), SO_DETACH_REUSEPORT_BPF takes it away, and
 * SO_ATTACH_REUSEPORT_EBPF, like SO_ATTACH_BPF, finds no bpf(2) program behind any fd. Sockets
 * without groups (AF_UNIX, netlink, packet) answer what Linux does for a socket without
 * SO_REUSEPORT: EINVAL.
 *
 * @module
 */
import { E, SocketLevel, SocketOption, isError, type LinuxError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import {
  SOCK_FILTER_SIZE,
  SkfAd,
  SocketFilter,
  checkClassicProgram,
  type ClassicProgram,
} from '@tsvisor/netstack';
import { fileAt } from './vfs-context.js';

const SO = SocketOption;
/** sizeof(struct sock_fprog) on x86-64: u16 len, padding, the program's address. */
const SOCK_FPROG_SIZE = 16;

const SET: ReadonlySet<number> = new Set([
  SO.SO_ATTACH_FILTER,
  SO.SO_DETACH_FILTER,
  SO.SO_LOCK_FILTER,
  SO.SO_ATTACH_BPF,
  SO.SO_ATTACH_REUSEPORT_CBPF,
  SO.SO_ATTACH_REUSEPORT_EBPF,
  SO.SO_DETACH_REUSEPORT_BPF,
]);

/**
 * A socket's SO_REUSEPORT group, as SO_ATTACH_REUSEPORT_CBPF and SO_DETACH_REUSEPORT_BPF reach
 * it (netstack's InetSocket implements it).
 */
export interface ReuseportPrograms {
  /** reuseport_attach_prog: the checked program becomes the group's; EINVAL without a group. */
  attachReuseportProgram(prog: ClassicProgram): 0 | LinuxError;
  /** reuseport_detach_prog: ENOENT without a program, EINVAL without SO_REUSEPORT. */
  detachReuseportProgram(): 0 | LinuxError;
}
const GET: ReadonlySet<number> = new Set([SO.SO_GET_FILTER, SO.SO_LOCK_FILTER, SO.SO_BPF_EXTENSIONS]);

/** True when setsockopt(`level`, `name`) is one of this module's. */
export function isFilterSetOption(level: number, name: number): boolean {
  return level === SocketLevel.SOL_SOCKET && SET.has(name);
}

/** True when getsockopt(`level`, `name`) is one of this module's. */
export function isFilterGetOption(level: number, name: number): boolean {
  return level === SocketLevel.SOL_SOCKET && GET.has(name);
}

/**
 * setsockopt(SOL_SOCKET, `name`) on a socket whose filter state is `filter` and whose
 * SO_REUSEPORT group `reuseport` reaches (none: AF_UNIX, netlink, packet sockets), in Linux's
 * order: EINVAL below an int, EFAULT for the int, then SO_ATTACH_FILTER and
 * SO_ATTACH_REUSEPORT_CBPF want exactly a struct sock_fprog (EINVAL, EFAULT), EPERM once
 * locked, EINVAL for a NULL program or a length of 0 or over BPF_MAXINSNS, EFAULT for
 * unreadable instructions, then the checker's EINVAL; the reuseport one then the group's errno.
 * SO_DETACH_REUSEPORT_BPF ignores the lock (reuseport_detach_prog does not look at it).
 */
export function setFilterOption(
  t: Task,
  filter: SocketFilter,
  name: number,
  addr: number,
  optlen: number,
  reuseport?: ReuseportPrograms,
): 0 | LinuxError {
  if (optlen < 4) return E.EINVAL;
  const val = t.memory.readI32(addr);
  if (isError(val)) return val;
  switch (name) {
    case SO.SO_ATTACH_FILTER: {
      const bytes = readProgram(t, filter, addr, optlen);
      return isError(bytes) ? bytes : filter.attach(bytes);
    }
    case SO.SO_ATTACH_REUSEPORT_CBPF: {
      const bytes = readProgram(t, filter, addr, optlen);
      if (isError(bytes)) return bytes;
      const prog = checkClassicProgram(bytes);
      if (isError(prog)) return prog;
      return reuseport ? reuseport.attachReuseportProgram(prog) : E.EINVAL;
    }
    case SO.SO_DETACH_REUSEPORT_BPF:
      return reuseport ? reuseport.detachReuseportProgram() : E.EINVAL;
    case SO.SO_DETACH_FILTER:
      return filter.detach();
    case SO.SO_LOCK_FILTER:
      return filter.lock(val !== 0);
    case SO.SO_ATTACH_BPF:
    case SO.SO_ATTACH_REUSEPORT_EBPF: {
      if (optlen !== 4) return E.EINVAL;
      if (filter.locked) return E.EPERM;
      // bpf_prog_get_type: a closed fd is EBADF, any open one is not a BPF program here.
      const f = fileAt(t, val);
      return isError(f) ? E.EBADF : E.EINVAL;
    }
    default:
      return E.ENOPROTOOPT;
  }
}

/**
 * The instructions of the struct sock_fprog at `addr` (copy_bpf_fprog_from_user, then
 * __get_filter up to the copy): EINVAL unless `optlen` is its size, EFAULT, EPERM on a locked
 * filter, EINVAL for a NULL program or a length of 0 or over BPF_MAXINSNS (bpf_check_basics_ok
 * comes before the copy), EFAULT for unreadable instructions.
 */
function readProgram(t: Task, filter: SocketFilter, addr: number, optlen: number): Uint8Array | LinuxError {
  if (optlen !== SOCK_FPROG_SIZE) return E.EINVAL;
  const fprog = t.memory.read(addr, SOCK_FPROG_SIZE);
  if (isError(fprog)) return fprog;
  const dv = new DataView(fprog.buffer, fprog.byteOffset, SOCK_FPROG_SIZE);
  const len = dv.getUint16(0, true);
  const prog = dv.getBigUint64(8, true);
  if (filter.locked) return E.EPERM;
  if (prog === 0n || len === 0 || len > 4096) return E.EINVAL;
  if (prog > BigInt(Number.MAX_SAFE_INTEGER)) return E.EFAULT;
  return t.memory.read(Number(prog), len * SOCK_FILTER_SIZE);
}

/**
 * getsockopt(SOL_SOCKET, `name`) for this module's options; writes the value at `addr` and its
 * length at `lenp` itself. SO_GET_FILTER counts in instructions, not bytes (sk_get_filter):
 * `len` 0 asks for the count, a smaller nonzero one than the program is EINVAL, otherwise the
 * program is copied; the count (0 without a program) is stored as the length.
 */
export function getFilterOption(
  t: Task,
  filter: SocketFilter,
  name: number,
  addr: number,
  lenp: number,
  len: number,
): 0 | LinuxError {
  if (name === SO.SO_GET_FILTER) {
    const prog = filter.program;
    const count = prog ? prog.insns.length : 0;
    if (prog && len !== 0) {
      if (len < count) return E.EINVAL;
      const err = t.memory.writeExact(addr, prog.bytes);
      if (err) return err;
    }
    const err = t.memory.writeI32(lenp, count);
    return isError(err) ? err : 0;
  }
  // SO_LOCK_FILTER and SO_BPF_EXTENSIONS: an int, cut to the caller's length.
  const value = name === SO.SO_LOCK_FILTER ? (filter.locked ? 1 : 0) : SkfAd.MAX;
  const n = Math.min(len, 4);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  if (n > 0) {
    const err = t.memory.writeExact(addr, b.subarray(0, n));
    if (err) return err;
  }
  const err = t.memory.writeI32(lenp, n);
  return isError(err) ? err : 0;
}

/** A netlink socket's filter state (sk->sk_filter), empty. */
export function netlinkFilter(): SocketFilter {
  return new SocketFilter();
}

/**
 * sk_filter on a netlink message about to be queued to a socket with `filter`: the bytes it
 * keeps (cap 1), or undefined when it drops the message. The skb is the message alone, with no
 * device, so SKF_AD_NLATTR and SKF_AD_NLATTR_NEST find attributes from offsets in it.
 */
export function netlinkFiltered(filter: SocketFilter, data: Uint8Array): Uint8Array | undefined {
  if (!filter.program) return data;
  const keep = filter.keep({ bytes: data, data: 0 }, 1);
  return keep < 0 ? undefined : data.subarray(0, keep);
}
