/**
 * IPv6 interface identifiers other than modified EUI-64:
 *
 * - stable, semantically opaque identifiers (RFC 7217), computed as Linux computes them for
 *   addr_gen_mode 2 (stable_privacy) and 3 (random): one SHA-1 block over
 *   `secret (16) | prefix (8) | hardware address (32, zero-padded) | DAD counter (1) | zeros (7)`,
 *   the identifier being the first two state words as the CPU stores them (little-endian on
 *   x86-64, the only host tsvisor runs on), with reserved identifiers skipped by trying the
 *   next DAD counter (`ipv6_generate_stable_address` in net/ipv6/addrconf.c);
 * - random identifiers of temporary addresses (RFC 8981 §3.3.1), reserved ones drawn again.
 *
 * @module
 */
import type { EthernetAddress } from '../wire/ethernet.js';
import { Ipv6Address } from '../wire/ip-address.js';
import { sha1Compress } from './sha1.js';

/** net.ipv6.idgen_retries: how many further DAD counters a stable identifier may try (Linux: 3). */
export const IDGEN_RETRIES = 3;

/**
 * True when the low 64 bits of `addr` are a reserved interface identifier (RFC 5453 and the
 * IANA registry): the subnet-router anycast identifier 0, the IANA Ethernet block
 * 0200:5eff:fe00:0000-0200:5eff:feff:ffff (with Proxy Mobile IPv6's 0200:5eff:fe00:5213), and the
 * reserved subnet anycast identifiers fdff:ffff:ffff:ff80-fdff:ffff:ffff:ffff (RFC 2526).
 */
export function isReservedInterfaceId(addr: Ipv6Address): boolean {
  const b = addr.bytes;
  const hi = ((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0;
  const lo = ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0;
  if (hi === 0 && lo === 0) return true;
  if (hi === 0x02005eff && b[12] === 0xfe) return true;
  return hi === 0xfdffffff && lo >= 0xffffff80;
}

/**
 * The RFC 7217 address for `prefix` (its first 64 bits are used) with DAD counter `dadCount`,
 * as Linux forms it, reserved or not (see {@link stableAddress} for the one Linux uses).
 * `hardwareAddress` is the device's permanent address (Linux hashes `perm_addr`, which virtual
 * devices such as veth and tap leave all zeros); `secret` is net.ipv6.conf.*.stable_secret.
 */
export function stableAddressCandidate(
  prefix: Ipv6Address,
  hardwareAddress: EthernetAddress,
  dadCount: number,
  secret: Ipv6Address,
): Ipv6Address {
  const block = new Uint8Array(64);
  block.set(secret.bytes, 0);
  block.set(prefix.bytes.subarray(0, 8), 16);
  block.set(hardwareAddress.bytes, 24); // the hwaddr field is MAX_ADDR_LEN (32) bytes, zero-padded
  block[56] = dadCount & 0xff;
  const state = sha1Compress(block);
  const out = new Uint8Array(16);
  out.set(prefix.bytes.subarray(0, 8), 0);
  // Linux stores the host-order state words into the address unconverted: little-endian here.
  const dv = new DataView(out.buffer);
  dv.setUint32(8, state[0]!, true);
  dv.setUint32(12, state[1]!, true);
  return new Ipv6Address(out);
}

/** A stable address and the DAD counter that formed it. */
export interface StableAddress {
  readonly address: Ipv6Address;
  /** The DAD counter the address came from (more than asked when reserved ones were skipped). */
  readonly dadCount: number;
}

/**
 * The RFC 7217 address Linux uses for `prefix` at DAD counter `dadCount`: a reserved identifier
 * moves on to the next counter, and past `idgenRetries` there is none (undefined).
 * `candidate` is the hash (replaceable so that tests can force reserved results).
 */
export function stableAddress(
  prefix: Ipv6Address,
  hardwareAddress: EthernetAddress,
  dadCount: number,
  secret: Ipv6Address,
  idgenRetries = IDGEN_RETRIES,
  candidate: typeof stableAddressCandidate = stableAddressCandidate,
): StableAddress | undefined {
  for (let n = dadCount; n <= idgenRetries; n++) {
    const address = candidate(prefix, hardwareAddress, n, secret);
    if (!isReservedInterfaceId(address)) return { address, dadCount: n };
  }
  return undefined;
}

/**
 * `prefix` (first 64 bits) with a random interface identifier for a temporary address
 * (RFC 8981 §3.3.1, Linux's `ipv6_gen_rnd_iid`): 64 random bits, drawn again while reserved.
 */
export function randomAddress(prefix: Ipv6Address, randomBytes: (n: number) => Uint8Array): Ipv6Address {
  for (;;) {
    const out = new Uint8Array(16);
    out.set(prefix.bytes.subarray(0, 8), 0);
    out.set(randomBytes(8).subarray(0, 8), 8);
    const addr = new Ipv6Address(out);
    if (!isReservedInterfaceId(addr)) return addr;
  }
}
