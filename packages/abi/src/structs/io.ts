/**
 * I/O structs on hot paths: `iovec` (and the arrays readv/writev/sendmsg take), `pollfd` and the
 * packed 12-byte x86-64 `epoll_event`. Each has a zero-copy view class beside its repr.
 *
 * @module
 */

import { E, type LinuxError } from '../errno.js';
import {
  at,
  checkRange,
  dataView,
  defineStruct,
  i32,
  structView,
  u16,
  u32,
  u64,
  u64n,
  type StructValue,
} from './layout.js';

/** `struct iovec` (16 bytes): `iov_base` (address), `iov_len` (size_t), both `number`. */
export const iovec = defineStruct('iovec', 16, {
  iov_base: at(0, u64n),
  iov_len: at(8, u64n),
});
/** A `struct iovec` value. */
export type Iovec = StructValue<typeof iovec>;
/** Zero-copy view of an iovec. */
export const IovecView = structView(iovec);

/** UIO_MAXIOV: the most iovecs one call may pass. */
export const UIO_MAXIOV = 1024;

/**
 * Reads an iovec array as import_iovec does: more than UIO_MAXIOV entries, or an `iov_len` that is
 * negative as an ssize_t (top bit set, tested on the raw bits), gives `E.EINVAL`; input that ends
 * early gives `E.EFAULT`. A count of 0 gives an empty array.
 */
export function parseIovecs(buf: Uint8Array, offset: number, count: number): Iovec[] | LinuxError {
  if (!Number.isSafeInteger(count) || count < 0 || count > UIO_MAXIOV) return E.EINVAL;
  const bad = checkRange(buf, offset, count * iovec.size);
  if (bad) return bad;
  const dv = dataView(buf);
  const out: Iovec[] = new Array<Iovec>(count);
  for (let i = 0; i < count; i++) {
    const p = offset + i * 16;
    if (dv.getInt32(p + 12, true) < 0) return E.EINVAL;
    out[i] = iovec.read(dv, p);
  }
  return out;
}

/** `struct pollfd` (8 bytes). `events`/`revents` are C shorts read as unsigned 16-bit bit sets. */
export const pollfd = defineStruct('pollfd', 8, {
  fd: at(0, i32),
  events: at(4, u16),
  revents: at(6, u16),
});
/** A `struct pollfd` value. */
export type Pollfd = StructValue<typeof pollfd>;
/** Zero-copy view of a pollfd: poll(2) sets `revents` in place. */
export const PollfdView = structView(pollfd);

/**
 * `struct epoll_event` (12 bytes: packed on x86-64, so `data` sits at offset 4). `data` is the
 * caller's 64-bit cookie, returned verbatim: `bigint`.
 */
export const epoll_event = defineStruct('epoll_event', 12, {
  events: at(0, u32),
  data: at(4, u64),
});
/** A `struct epoll_event` value. */
export type EpollEvent = StructValue<typeof epoll_event>;
/** Zero-copy view of an epoll_event. */
export const EpollEventView = structView(epoll_event);
