/**
 * Socket structs: the sockaddr family (`sockaddr`, `sockaddr_in`, `sockaddr_in6`, `sockaddr_un`,
 * `sockaddr_nl`, `sockaddr_storage`) with the kernel's address-length rules, `msghdr`, `cmsghdr`
 * with the CMSG_* arithmetic and the SCM_RIGHTS / SCM_CREDENTIALS payloads, `linger`, `ucred`.
 *
 * Socket addresses are parsed as a tagged union by family, from the bytes and the `addrlen` the
 * caller passed, so one call does what move_addr_to_kernel and the family's bind/connect checks do.
 *
 * @module
 */

import { E, type LinuxError } from '../errno.js';
import {
  alignUp,
  at,
  be16,
  be32,
  bytes,
  checkRange,
  dataView,
  defineStruct,
  i32,
  u16,
  u32,
  u64n,
  type StructValue,
} from './layout.js';

/** The address families the sockaddr codecs know by layout. */
export const SockaddrFamily = Object.freeze({
  AF_UNSPEC: 0,
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  AF_NETLINK: 16,
} as const);

/** `struct sockaddr` (16 bytes): family and 14 bytes of address data. */
export const sockaddr = defineStruct('sockaddr', 16, {
  sa_family: at(0, u16),
  sa_data: at(2, bytes(14)),
});

/** `struct sockaddr_in` (16 bytes). The port is in network byte order on the wire, host order here. */
export const sockaddr_in = defineStruct('sockaddr_in', 16, {
  sin_family: at(0, u16),
  sin_port: at(2, be16),
  sin_addr: at(4, bytes(4)),
  sin_zero: at(8, bytes(8)),
});

/** `struct sockaddr_in6` (28 bytes); port and flow info network order, scope id host order. */
export const sockaddr_in6 = defineStruct('sockaddr_in6', 28, {
  sin6_family: at(0, u16),
  sin6_port: at(2, be16),
  sin6_flowinfo: at(4, be32),
  sin6_addr: at(8, bytes(16)),
  sin6_scope_id: at(24, u32),
});

/** `struct sockaddr_un` (110 bytes): family and a 108-byte `sun_path`. */
export const sockaddr_un = defineStruct('sockaddr_un', 110, {
  sun_family: at(0, u16),
  sun_path: at(2, bytes(108)),
});

/** `struct sockaddr_nl` (12 bytes). */
export const sockaddr_nl = defineStruct('sockaddr_nl', 12, {
  nl_family: at(0, u16),
  nl_pad: at(2, u16),
  nl_pid: at(4, u32),
  nl_groups: at(8, u32),
});

/** `struct sockaddr_storage` (128 bytes): the largest address any family uses. */
export const sockaddr_storage = defineStruct('sockaddr_storage', 128, {
  ss_family: at(0, u16),
  __data: at(2, bytes(126)),
});

/** Offset of `sun_path`, also the addrlen of an unnamed AF_UNIX address. */
const SUN_PATH_OFFSET = 2;
/** SIN6_LEN_RFC2133: the shortest sockaddr_in6 the kernel accepts (no scope id). */
export const SIN6_LEN_RFC2133 = 24;

/** An IPv4 address and port. */
export interface SockaddrIn {
  kind: 'in';
  port: number;
  /** 4 bytes, network order. */
  addr: Uint8Array;
}
/** An IPv6 address. */
export interface SockaddrIn6 {
  kind: 'in6';
  port: number;
  flowinfo: number;
  /** 16 bytes, network order. */
  addr: Uint8Array;
  scope_id: number;
}
/** An AF_UNIX filesystem name: the bytes of `sun_path` before the first NUL. */
export interface SockaddrUnixPath {
  kind: 'unix-path';
  path: Uint8Array;
}
/** An AF_UNIX abstract name: `sun_path[0]` is NUL and the name is every byte after it (NULs too). */
export interface SockaddrUnixAbstract {
  kind: 'unix-abstract';
  name: Uint8Array;
}
/**
 * An AF_UNIX address of length 2 (family only): what getsockname reports for an unbound socket,
 * and what asks bind(2) to autobind. connect/sendto reject it (unix_validate_addr: EINVAL).
 */
export interface SockaddrUnixUnnamed {
  kind: 'unix-unnamed';
}
/** An AF_NETLINK address. */
export interface SockaddrNl {
  kind: 'nl';
  pid: number;
  groups: number;
}
/** Any other family: the bytes after `sa_family`, `addrlen - 2` of them. */
export interface SockaddrOther {
  kind: 'other';
  family: number;
  data: Uint8Array;
}
/** A socket address, by family. */
export type Sockaddr =
  | SockaddrIn
  | SockaddrIn6
  | SockaddrUnixPath
  | SockaddrUnixAbstract
  | SockaddrUnixUnnamed
  | SockaddrNl
  | SockaddrOther;

/** The `sa_family` value of an address. */
export function sockaddrFamily(addr: Sockaddr): number {
  switch (addr.kind) {
    case 'in':
      return SockaddrFamily.AF_INET;
    case 'in6':
      return SockaddrFamily.AF_INET6;
    case 'unix-path':
    case 'unix-abstract':
    case 'unix-unnamed':
      return SockaddrFamily.AF_UNIX;
    case 'nl':
      return SockaddrFamily.AF_NETLINK;
    case 'other':
      return addr.family;
  }
}

/**
 * The addrlen the kernel reports for an address (getsockname, accept, recvfrom): the full struct
 * for inet/netlink; for AF_UNIX 2 when unnamed, `2 + strlen + 1` for a path (as unix_mkname_bsd
 * normalises it), `2 + 1 + name length` for an abstract name.
 */
export function sockaddrLen(addr: Sockaddr): number {
  switch (addr.kind) {
    case 'in':
      return sockaddr_in.size;
    case 'in6':
      return sockaddr_in6.size;
    case 'unix-path':
      return SUN_PATH_OFFSET + addr.path.length + 1;
    case 'unix-abstract':
      return SUN_PATH_OFFSET + 1 + addr.name.length;
    case 'unix-unnamed':
      return SUN_PATH_OFFSET;
    case 'nl':
      return sockaddr_nl.size;
    case 'other':
      return SUN_PATH_OFFSET + addr.data.length;
  }
}

/**
 * Parses a socket address from `addrlen` bytes at `offset`, applying the kernel's length rules:
 * `addrlen` outside `[0, sizeof(sockaddr_storage)]` or too short to hold `sa_family` gives
 * `E.EINVAL` (move_addr_to_kernel); AF_INET needs 16 bytes, AF_INET6 24 (the scope id is read only
 * when 28 are given), AF_NETLINK 12, AF_UNIX at most 110, else `E.EINVAL`. Bytes that end before
 * `addrlen` give `E.EFAULT`. Whether the family suits the socket is the caller's check.
 */
export function parseSockaddr(buf: Uint8Array, offset: number, addrlen: number): Sockaddr | LinuxError {
  if (!Number.isSafeInteger(addrlen) || addrlen < 0 || addrlen > sockaddr_storage.size) return E.EINVAL;
  const bad = checkRange(buf, offset, addrlen);
  if (bad) return bad;
  if (addrlen < SUN_PATH_OFFSET) return E.EINVAL;
  const dv = dataView(buf);
  const family = dv.getUint16(offset, true);
  switch (family) {
    case SockaddrFamily.AF_INET:
      if (addrlen < sockaddr_in.size) return E.EINVAL;
      return { kind: 'in', port: dv.getUint16(offset + 2, false), addr: buf.slice(offset + 4, offset + 8) };
    case SockaddrFamily.AF_INET6:
      if (addrlen < SIN6_LEN_RFC2133) return E.EINVAL;
      return {
        kind: 'in6',
        port: dv.getUint16(offset + 2, false),
        flowinfo: dv.getUint32(offset + 4, false),
        addr: buf.slice(offset + 8, offset + 24),
        scope_id: addrlen >= sockaddr_in6.size ? dv.getUint32(offset + 24, true) : 0,
      };
    case SockaddrFamily.AF_NETLINK:
      if (addrlen < sockaddr_nl.size) return E.EINVAL;
      return { kind: 'nl', pid: dv.getUint32(offset + 4, true), groups: dv.getUint32(offset + 8, true) };
    case SockaddrFamily.AF_UNIX: {
      if (addrlen > sockaddr_un.size) return E.EINVAL;
      if (addrlen === SUN_PATH_OFFSET) return { kind: 'unix-unnamed' };
      const path = buf.subarray(offset + SUN_PATH_OFFSET, offset + addrlen);
      if (path[0] === 0) return { kind: 'unix-abstract', name: path.slice(1) };
      const nul = path.indexOf(0);
      return { kind: 'unix-path', path: path.slice(0, nul < 0 ? path.length : nul) };
    }
    default:
      return { kind: 'other', family, data: buf.slice(offset + SUN_PATH_OFFSET, offset + addrlen) };
  }
}

/**
 * Emits an address, writing exactly `sockaddrLen(addr)` bytes (padding such as `sin_zero` zeroed);
 * returns that length or `E.EFAULT` when it does not fit. To report an address into a smaller user
 * buffer, copy a prefix of {@link encodeSockaddr} and return the full length, as the kernel does.
 */
export function emitSockaddr(addr: Sockaddr, buf: Uint8Array, offset = 0): number | LinuxError {
  const len = sockaddrLen(addr);
  const bad = checkRange(buf, offset, len);
  if (bad) return bad;
  buf.fill(0, offset, offset + len);
  const dv = dataView(buf);
  dv.setUint16(offset, sockaddrFamily(addr), true);
  switch (addr.kind) {
    case 'in':
      dv.setUint16(offset + 2, addr.port, false);
      buf.set(addr.addr.subarray(0, 4), offset + 4);
      break;
    case 'in6':
      dv.setUint16(offset + 2, addr.port, false);
      dv.setUint32(offset + 4, addr.flowinfo, false);
      buf.set(addr.addr.subarray(0, 16), offset + 8);
      dv.setUint32(offset + 24, addr.scope_id, true);
      break;
    case 'unix-path':
      buf.set(addr.path, offset + SUN_PATH_OFFSET);
      break;
    case 'unix-abstract':
      buf.set(addr.name, offset + SUN_PATH_OFFSET + 1);
      break;
    case 'unix-unnamed':
      break;
    case 'nl':
      dv.setUint32(offset + 4, addr.pid, true);
      dv.setUint32(offset + 8, addr.groups, true);
      break;
    case 'other':
      buf.set(addr.data, offset + SUN_PATH_OFFSET);
      break;
  }
  return len;
}

/** The bytes of an address (`sockaddrLen(addr)` of them). */
export function encodeSockaddr(addr: Sockaddr): Uint8Array {
  const buf = new Uint8Array(sockaddrLen(addr));
  emitSockaddr(addr, buf, 0);
  return buf;
}

/** `struct linger` (8 bytes), for SO_LINGER. */
export const linger = defineStruct('linger', 8, {
  l_onoff: at(0, i32),
  l_linger: at(4, i32),
});
/** A `struct linger` value. */
export type Linger = StructValue<typeof linger>;

/** `struct ucred` (12 bytes), for SO_PEERCRED and the SCM_CREDENTIALS payload. */
export const ucred = defineStruct('ucred', 12, {
  pid: at(0, i32),
  uid: at(4, u32),
  gid: at(8, u32),
});
/** A `struct ucred` value. */
export type Ucred = StructValue<typeof ucred>;

/**
 * `struct msghdr` as sendmsg/recvmsg take it from user space (56 bytes; the kernel's
 * `user_msghdr`). Pointers and lengths are `number` (see the layout module note).
 */
export const msghdr = defineStruct('msghdr', 56, {
  msg_name: at(0, u64n),
  msg_namelen: at(8, i32),
  msg_iov: at(16, u64n),
  msg_iovlen: at(24, u64n),
  msg_control: at(32, u64n),
  msg_controllen: at(40, u64n),
  msg_flags: at(48, i32),
});
/** A `struct msghdr` value. */
export type Msghdr = StructValue<typeof msghdr>;

/**
 * `struct cmsghdr` (16 bytes): `cmsg_len` (size_t, header included; a `number`, which only needs
 * comparing against the control length), level, type.
 */
export const cmsghdr = defineStruct('cmsghdr', 16, {
  cmsg_len: at(0, u64n),
  cmsg_level: at(8, i32),
  cmsg_type: at(12, i32),
});
/** A `struct cmsghdr` value. */
export type Cmsghdr = StructValue<typeof cmsghdr>;

/** Rounds a control-message length up to the 8-byte alignment of `cmsghdr`. */
export function CMSG_ALIGN(len: number): number {
  return alignUp(len, 8);
}
/** `cmsg_len` for a payload of `len` bytes: header plus payload, unpadded. */
export function CMSG_LEN(len: number): number {
  return cmsghdr.size + len;
}
/** Bytes a control message with a `len`-byte payload occupies, padding included. */
export function CMSG_SPACE(len: number): number {
  return cmsghdr.size + CMSG_ALIGN(len);
}

/** SOL_SOCKET, the level of SCM_* messages. */
export const SOL_SOCKET = 1;
/** SCM_RIGHTS: the payload is an array of file descriptors (int). */
export const SCM_RIGHTS = 1;
/** SCM_CREDENTIALS: the payload is a `struct ucred`. */
export const SCM_CREDENTIALS = 2;
/** SCM_MAX_FD: the most descriptors one SCM_RIGHTS message may carry. */
export const SCM_MAX_FD = 253;
/** MSG_CTRUNC: control data was cut short on receive. */
export const MSG_CTRUNC = 0x8;

/** One control message. */
export interface Cmsg {
  level: number;
  type: number;
  /** The payload: `cmsg_len - sizeof(cmsghdr)` bytes. */
  data: Uint8Array;
}

/**
 * Walks a sendmsg control buffer the way __scm_send does: a header whose `cmsg_len` is below 16
 * or runs past `controllen` gives `E.EINVAL`; a tail shorter than a header ends the walk;
 * `controllen` above INT_MAX gives `E.ENOBUFS` (____sys_sendmsg). Bytes shorter than `controllen`
 * give `E.EFAULT`.
 */
export function parseCmsgs(buf: Uint8Array, offset: number, controllen: number): Cmsg[] | LinuxError {
  if (!Number.isSafeInteger(controllen) || controllen < 0) return E.EINVAL;
  if (controllen > 0x7fffffff) return E.ENOBUFS;
  const bad = checkRange(buf, offset, controllen);
  if (bad) return bad;
  const dv = dataView(buf);
  const out: Cmsg[] = [];
  let p = 0;
  while (p + cmsghdr.size <= controllen) {
    const len = u64n.read(dv, offset + p);
    if (len < cmsghdr.size || len > controllen - p) return E.EINVAL;
    out.push({
      level: dv.getInt32(offset + p + 8, true),
      type: dv.getInt32(offset + p + 12, true),
      data: buf.slice(offset + p + cmsghdr.size, offset + p + len),
    });
    p += CMSG_ALIGN(len);
  }
  return out;
}

/**
 * Bytes a list of control messages takes when packed with CMSG_SPACE each; the last message's
 * padding counts too, as CMSG_SPACE sums do in user space.
 */
export function cmsgsBufferLen(msgs: readonly Cmsg[]): number {
  let n = 0;
  for (const m of msgs) n += CMSG_SPACE(m.data.length);
  return n;
}

/**
 * Packs control messages into a recvmsg control buffer as put_cmsg and scm_detach_fds do: a message
 * that does not fit is cut to the space left (or dropped when not even a header fits) and sets
 * MSG_CTRUNC; `written` is what the kernel stores back into `msg_controllen`. Like the kernel it
 * leaves the alignment padding between messages untouched.
 *
 * @example
 * ```ts
 * const w = new CmsgWriter(control);
 * const n = Math.min(w.maxRights(), passed.length); // install n descriptors, then:
 * w.putRights(installed, passed.length);
 * w.flags; // MSG_CTRUNC if some did not fit
 * ```
 */
export class CmsgWriter {
  private readonly dv: DataView;
  private pos: number;
  private truncated = false;

  /** Writes into `buf[offset, offset + controllen)`. */
  constructor(
    private readonly buf: Uint8Array,
    private readonly offset = 0,
    private readonly controllen = buf.length - offset,
  ) {
    this.dv = dataView(buf);
    this.pos = offset;
  }

  /** Bytes used so far (the new `msg_controllen`). */
  get written(): number {
    return this.pos - this.offset;
  }

  /** MSG_CTRUNC when something was cut, else 0. */
  get flags(): number {
    return this.truncated ? MSG_CTRUNC : 0;
  }

  private get room(): number {
    return Math.min(this.controllen - this.written, this.buf.length - this.pos);
  }

  /** Appends one message (put_cmsg); returns false if it was truncated or dropped. */
  put(level: number, type: number, data: Uint8Array): boolean {
    const room = this.room;
    if (room < cmsghdr.size) {
      this.truncated = true;
      return false;
    }
    let cmlen = CMSG_LEN(data.length);
    let whole = true;
    if (room < cmlen) {
      this.truncated = true;
      whole = false;
      cmlen = room;
    }
    u64n.write(this.dv, this.pos, cmlen);
    this.dv.setInt32(this.pos + 8, level, true);
    this.dv.setInt32(this.pos + 12, type, true);
    this.buf.set(data.subarray(0, cmlen - cmsghdr.size), this.pos + cmsghdr.size);
    this.pos += Math.min(CMSG_SPACE(data.length), room);
    return whole;
  }

  /** How many descriptors an SCM_RIGHTS message could still carry (scm_max_fds). */
  maxRights(): number {
    const room = this.room;
    return room > cmsghdr.size ? Math.floor((room - cmsghdr.size) / 4) : 0;
  }

  /**
   * Appends SCM_RIGHTS for the descriptors installed (at most {@link maxRights}) out of `total`
   * passed; sets MSG_CTRUNC when fewer than `total` were delivered. Returns how many were written.
   */
  putRights(fds: readonly number[], total = fds.length): number {
    const n = Math.min(fds.length, this.maxRights());
    if (n > 0) {
      const payload = encodeScmRights(fds.slice(0, n));
      const room = this.room;
      u64n.write(this.dv, this.pos, CMSG_LEN(payload.length));
      this.dv.setInt32(this.pos + 8, SOL_SOCKET, true);
      this.dv.setInt32(this.pos + 12, SCM_RIGHTS, true);
      this.buf.set(payload, this.pos + cmsghdr.size);
      this.pos += Math.min(CMSG_SPACE(payload.length), room);
    }
    if (n < total) this.truncated = true;
    return n;
  }
}

/**
 * Reads an SCM_RIGHTS payload as scm_fp_copy does: `floor(len / 4)` descriptors (a partial
 * trailing int is ignored); more than SCM_MAX_FD gives `E.EINVAL`.
 */
export function parseScmRights(data: Uint8Array): number[] | LinuxError {
  const n = Math.floor(data.length / 4);
  if (n > SCM_MAX_FD) return E.EINVAL;
  const dv = dataView(data);
  const fds: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) fds[i] = dv.getInt32(i * 4, true);
  return fds;
}

/** The payload bytes of an SCM_RIGHTS message. */
export function encodeScmRights(fds: readonly number[]): Uint8Array {
  const out = new Uint8Array(fds.length * 4);
  const dv = dataView(out);
  fds.forEach((fd, i) => dv.setInt32(i * 4, fd, true));
  return out;
}

/**
 * Reads an SCM_CREDENTIALS payload: the message must be exactly CMSG_LEN(sizeof(struct ucred)),
 * i.e. a 12-byte payload, else `E.EINVAL` (__scm_send).
 */
export function parseScmCredentials(data: Uint8Array): Ucred | LinuxError {
  if (data.length !== ucred.size) return E.EINVAL;
  return ucred.parse(data, 0);
}
