// RFC 7217 stable interface identifiers as Linux computes them, reserved identifiers (RFC
// 5453), random identifiers of temporary addresses (RFC 8981), and the SHA-1 block beneath.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv6Address } from '../wire/ip-address.js';
import {
  isReservedInterfaceId,
  randomAddress,
  stableAddress,
  stableAddressCandidate,
} from './interface-id.js';
import { sha1Compress } from './sha1.js';
import { scriptedBytes } from './slaac.test-util.js';

const a6 = (s: string): Ipv6Address => Ipv6Address.parse(s)!;
const secret = a6('2001:db8:1:2:3:4:5:6');
const zeroMac = EthernetAddress.ZERO;
const arbAddr = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new Ipv6Address(b));
const arbMac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => new EthernetAddress(b));

describe('SHA-1 compression', () => {
  it('of a padded one-block message is that message’s SHA-1 digest (node:crypto)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 55 }), (msg) => {
        // FIPS 180-4 §5.1.1: 0x80, zeros, the bit length in the last 8 bytes (big-endian).
        const block = new Uint8Array(64);
        block.set(msg);
        block[msg.length] = 0x80;
        new DataView(block.buffer).setUint32(60, msg.length * 8, false);
        const words = sha1Compress(block);
        const digest = new Uint8Array(20);
        for (let i = 0; i < 5; i++) new DataView(digest.buffer).setUint32(4 * i, words[i]!, false);
        expect(Buffer.from(digest).toString('hex')).toBe(createHash('sha1').update(msg).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('RFC 7217 stable addresses (Linux ipv6_generate_stable_address)', () => {
  it('hash Linux’s block layout: secret, prefix, 32-byte hardware address, DAD counter', () => {
    fc.assert(
      fc.property(arbAddr, arbAddr, arbMac, fc.integer({ min: 0, max: 255 }), (prefix, key, mac, n) => {
        // The layout of addrconf.c's packed union, written out here on its own.
        const block = new Uint8Array(64);
        for (let i = 0; i < 16; i++) block[i] = key.bytes[i]!;
        for (let i = 0; i < 8; i++) block[16 + i] = prefix.bytes[i]!;
        for (let i = 0; i < 6; i++) block[24 + i] = mac.bytes[i]!;
        block[24 + 32] = n;
        const [h0, h1] = sha1Compress(block);
        const iid = [h0!, h1!].flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24]);
        const want = new Ipv6Address([...prefix.bytes.subarray(0, 8), ...iid]);
        expect(stableAddressCandidate(prefix, mac, n, key).equals(want)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('match addresses Linux 6.18 formed (veth: no permanent address; stable_secret 2001:db8:1:2:3:4:5:6)', () => {
    // Read from /proc/net/if_inet6 of a veth with addr_gen_mode=2 after a router advertisement
    // for 2001:db8:7:8::/64 (stable-privacy-linux.test.ts repeats this live).
    expect(stableAddress(a6('2001:db8:7:8::'), zeroMac, 0, secret)?.address.toString()).toBe(
      '2001:db8:7:8:af7f:2878:b8b5:f952',
    );
    expect(stableAddress(a6('fe80::'), zeroMac, 0, secret)?.address.toString()).toBe(
      'fe80::ff05:eb87:4e94:b3ad',
    );
  });

  it('are the same for the same inputs, and differ across prefixes, secrets, MACs and DAD counters', () => {
    fc.assert(
      fc.property(arbAddr, arbAddr, arbMac, fc.integer({ min: 0, max: 3 }), (prefix, key, mac, n) => {
        const addr = stableAddressCandidate(prefix, mac, n, key);
        expect(stableAddressCandidate(prefix, mac, n, key).equals(addr)).toBe(true);
        // Only the first 64 bits of the prefix count.
        const sameNet = new Ipv6Address([...prefix.bytes.subarray(0, 8), 1, 2, 3, 4, 5, 6, 7, 8]);
        expect(stableAddressCandidate(sameNet, mac, n, key).equals(addr)).toBe(true);
        const other = Uint8Array.from(prefix.bytes);
        other[7] = other[7]! ^ 1;
        const iid = (x: Ipv6Address): string => Buffer.from(x.bytes.subarray(8)).toString('hex');
        expect(iid(stableAddressCandidate(new Ipv6Address(other), mac, n, key))).not.toBe(iid(addr));
        const key2 = Uint8Array.from(key.bytes);
        key2[15] = key2[15]! ^ 0x80;
        expect(iid(stableAddressCandidate(prefix, mac, n, new Ipv6Address(key2)))).not.toBe(iid(addr));
        const mac2 = Uint8Array.from(mac.bytes);
        mac2[0] = mac2[0]! ^ 4;
        expect(iid(stableAddressCandidate(prefix, new EthernetAddress(mac2), n, key))).not.toBe(iid(addr));
        expect(iid(stableAddressCandidate(prefix, mac, n + 1, key))).not.toBe(iid(addr));
      }),
      { numRuns: 100 },
    );
  });

  it('skip reserved identifiers by moving to the next DAD counter, and end after idgen_retries', () => {
    const prefix = a6('2001:db8::');
    const reserved = [
      a6('2001:db8::'),
      a6('2001:db8::200:5eff:fe00:5213'),
      a6('2001:db8::fdff:ffff:ffff:ff80'),
    ];
    const tried: number[] = [];
    // A hash that gives reserved identifiers for the first three counters.
    const forced = (p: Ipv6Address, m: EthernetAddress, n: number, k: Ipv6Address): Ipv6Address => {
      tried.push(n);
      return reserved[n] ?? stableAddressCandidate(p, m, n, k);
    };
    const got = stableAddress(prefix, zeroMac, 0, secret, 3, forced);
    expect(tried).toEqual([0, 1, 2, 3]);
    expect(got?.dadCount).toBe(3);
    expect(got?.address.equals(stableAddressCandidate(prefix, zeroMac, 3, secret))).toBe(true);
    tried.length = 0;
    expect(stableAddress(prefix, zeroMac, 1, secret, 2, forced)).toBeUndefined();
    expect(tried).toEqual([1, 2]);
  });
});

describe('reserved interface identifiers (RFC 5453)', () => {
  it('are the subnet-router anycast, the IANA Ethernet block and the subnet anycast range', () => {
    const cases: [string, boolean][] = [
      ['2001:db8::', true],
      ['2001:db8::1', false],
      ['2001:db8::200:5eff:fe00:0', true],
      ['2001:db8::200:5eff:fe00:5212', true],
      ['2001:db8::200:5eff:fe00:5213', true], // Proxy Mobile IPv6
      ['2001:db8::200:5eff:feff:ffff', true],
      ['2001:db8::200:5eff:fdff:ffff', false],
      ['2001:db8::200:5eff:ff00:0', false],
      ['2001:db8::300:5eff:fe00:0', false],
      ['2001:db8::fdff:ffff:ffff:ff7f', false],
      ['2001:db8::fdff:ffff:ffff:ff80', true],
      ['2001:db8::fdff:ffff:ffff:ffff', true],
      ['2001:db8::fdff:ffff:fffe:ffff', false],
    ];
    for (const [addr, reserved] of cases)
      expect([addr, isReservedInterfaceId(a6(addr))]).toEqual([addr, reserved]);
  });

  it('are drawn again for temporary addresses', () => {
    const bytes = scriptedBytes([
      Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]),
      Uint8Array.from([0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x90]),
      Uint8Array.from([0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x52, 0x13]),
      Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]),
    ]);
    expect(randomAddress(a6('2001:db8:5::77'), bytes).toString()).toBe('2001:db8:5:0:1234:5678:9abc:def0');
  });
});
