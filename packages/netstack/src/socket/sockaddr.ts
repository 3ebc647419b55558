/**
 * `struct sockaddr_in` and `struct sockaddr_in6` as the socket syscalls pass them: the family
 * in host (little-endian) order, the port in network order. Parsing applies the length and
 * family checks Linux makes in inet_bind/inet_connect.
 *
 * @module
 */
import { AddressFamily, E, type LinuxError } from '@tsvisor/abi';
import type { IpEndpoint } from '../wire/ip-address.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';

/** sizeof(struct sockaddr_in). */
export const SOCKADDR_IN_LEN = 16;
/** sizeof(struct sockaddr_in6). */
export const SOCKADDR_IN6_LEN = 28;
/** Linux accepts sockaddr_in6 without sin6_scope_id (SIN6_LEN_RFC2133). */
const SOCKADDR_IN6_MIN_LEN = 24;

/** The family field of a sockaddr (AF_UNSPEC when too short to hold one). */
export function sockaddrFamily(bytes: Uint8Array): number {
  return bytes.length < 2 ? AddressFamily.AF_UNSPEC : bytes[0]! | (bytes[1]! << 8);
}

/**
 * Decodes a sockaddr for a socket of `family` (4 or 6): EINVAL when shorter than the
 * structure, EAFNOSUPPORT when its family is not the socket's.
 */
export function parseSockaddr(bytes: Uint8Array, family: 4 | 6): IpEndpoint | LinuxError {
  if (family === 4) {
    if (bytes.length < SOCKADDR_IN_LEN) return E.EINVAL;
    if (sockaddrFamily(bytes) !== AddressFamily.AF_INET) return E.EAFNOSUPPORT;
    return { port: (bytes[2]! << 8) | bytes[3]!, addr: new Ipv4Address(bytes.subarray(4, 8)) };
  }
  if (bytes.length < SOCKADDR_IN6_MIN_LEN) return E.EINVAL;
  if (sockaddrFamily(bytes) !== AddressFamily.AF_INET6) return E.EAFNOSUPPORT;
  return { port: (bytes[2]! << 8) | bytes[3]!, addr: new Ipv6Address(bytes.subarray(8, 24)) };
}

/** Encodes an endpoint as sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes, flowinfo and scope 0). */
export function emitSockaddr(ep: IpEndpoint): Uint8Array {
  const v4 = ep.addr.version === 4;
  const out = new Uint8Array(v4 ? SOCKADDR_IN_LEN : SOCKADDR_IN6_LEN);
  const fam = v4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
  out[0] = fam & 0xff;
  out[1] = fam >>> 8;
  out[2] = ep.port >>> 8;
  out[3] = ep.port & 0xff;
  out.set(ep.addr.bytes, v4 ? 4 : 8);
  return out;
}
