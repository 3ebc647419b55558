/**
 * The memory Linux charges a socket for one queued sk_buff (its truesize), which is what
 * SO_RCVBUF bounds: a datagram socket's receive queue and error queue are charged by it, not by
 * their payload bytes (sk_rmem_alloc, which SO_MEMINFO and /proc/net's rx_queue show).
 *
 * The figures are x86-64 Linux 6.18's, measured on lo: a head of up to 576 bytes (data aligned
 * to 64 bytes, then the 320-byte skb_shared_info) comes from the small-head cache, a larger one
 * from kmalloc's power-of-two sizes, and the sk_buff itself adds 256; pages hold what does not go
 * in the head.
 *
 * @module
 */
import type { PacketBuffer } from '../storage/ring-buffer.js';
import { transportHeaderLen } from './filter-packet.js';

const SKB_STRUCT = 256;
const SKB_SHINFO = 320;
/** SKB_SMALL_HEAD_CACHE_SIZE: the least a head costs. */
const SMALL_HEAD = 576;
/** SKB_MAX_ALLOC: the most an ip_append_data head holds before the data goes in pages. */
const SKB_MAX_ALLOC = (4096 << 2) - SKB_SHINFO;
/**
 * What ip_append_data reserves in front of the IP header: lo's LL_RESERVED_SPACE (16) and 15
 * bytes of alignment slack.
 */
export const LINK_ROOM = 31;

/** The least an sk_buff is charged: a head from the small-head cache. */
const MIN_TRUESIZE = SMALL_HEAD + SKB_STRUCT;

/**
 * Sizes a datagram socket's receive queue to SO_RCVBUF `limit`, which bounds it by truesize: so
 * many datagrams of the least truesize, and one more (UDP takes one into an empty queue, the
 * others one while the charge is below the limit); their payloads, each no larger than its
 * truesize, and one datagram of IP's largest. Without a limit the queue keeps its size.
 */
export function sizeReceiveQueue(queue: PacketBuffer<unknown>, limit: number): void {
  if (Number.isFinite(limit)) queue.resize(Math.floor(limit / MIN_TRUESIZE) + 1, limit + 0x10000);
}

/** The truesize of an sk_buff whose head holds `head` bytes and whose pages `paged` bytes. */
export function skbTruesize(head: number, paged = 0): number {
  const size = Math.ceil(head / 64) * 64 + SKB_SHINFO;
  return (size <= SMALL_HEAD ? SMALL_HEAD : 2 ** Math.ceil(Math.log2(size))) + SKB_STRUCT + paged;
}

/**
 * The truesize of a datagram ip_append_data (ip6_append_data) built, as a socket on this host
 * receives it over lo: `headers` bytes of IP and transport header (the UDP or ICMP header; none
 * for a raw socket's), then `payload` bytes, all in the head unless that would reach
 * SKB_MAX_ALLOC, when the payload goes in pages. Measured: 832 bytes for a UDP datagram of up
 * to 100 bytes, 2304 for one of 1000, 16932 for 16100.
 */
export function datagramTruesize(headers: number, payload: number): number {
  const head = LINK_ROOM + headers;
  return head + payload < SKB_MAX_ALLOC ? skbTruesize(head + payload) : skbTruesize(head, payload);
}

/**
 * The truesize a packet socket is charged for a frame of `bytes` with a `linkLen`-byte link
 * header (it queues a clone of the frame's sk_buff): an IPv4 or IPv6 datagram as
 * {@link datagramTruesize} has it, with its IP and transport headers (TCP's with its options)
 * in front of the payload; anything else all in the head. (Linux's TCP builds its segments
 * otherwise: theirs are an estimate.)
 *
 * @example
 * ```ts
 * const frame = new Uint8Array(14 + 20 + 8 + 100); // lo's header, IPv4, UDP, 100 bytes
 * frame[14] = 0x45;
 * frame[14 + 9] = 17;
 * frameTruesize(frame, 14); // 832
 * ```
 */
export function frameTruesize(bytes: Uint8Array, linkLen: number): number {
  const ip = bytes.subarray(linkLen);
  const version = ip.length > 0 ? ip[0]! >>> 4 : 0;
  const ipHeader = version === 4 ? (ip[0]! & 0x0f) * 4 : version === 6 ? 40 : 0;
  if (ipHeader === 0 || ip.length < ipHeader) return skbTruesize(LINK_ROOM + ip.length);
  const transport = ip.subarray(ipHeader);
  const headers = Math.min(ip.length, ipHeader + transportHeaderLen(ip[version === 4 ? 9 : 6]!, transport));
  return datagramTruesize(headers, ip.length - headers);
}
