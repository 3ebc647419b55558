// fast-check arbitraries for addresses and wire reprs, shared by the wire tests.
import fc from 'fast-check';
import { EthernetAddress } from './ethernet.js';
import { Ipv4Address, Ipv6Address } from './ip-address.js';

export const bytes = (max = 64): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const port = fc.integer({ min: 1, max: 0xffff });
export const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => new Ipv4Address(b));
export const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new Ipv6Address(b));
export const ipAddrPair = fc.oneof(fc.tuple(ipv4, ipv4), fc.tuple(ipv6, ipv6));
export const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => new EthernetAddress(b));
