// RFC 4884 extensions as IP_RECVERR_RFC4884 reports them (ip_icmp_error_rfc4884): where the
// extension starts in the payload a socket queues, which depends on how much of the quote the
// socket strips (a UDP socket its UDP header, an IP_HDRINCL raw socket nothing, so its payload
// starts at the quoted IP header), and the invalid flag. runtime's recv-err-rfc4884 test
// compares UDP sockets with Linux.
import { describe, expect, it } from 'vitest';
import type { IcmpErrorReport } from '../iface/interface.js';
import { internetChecksum } from '../wire/checksum.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { rfc4884Data } from './error-queue.js';

/** A time exceeded whose quote (from the UDP header) holds 108 bytes, then the extension `ext`. */
function report(ext: Uint8Array, extension = 108): IcmpErrorReport {
  const quoted = new Uint8Array(108 + ext.length);
  quoted.set(ext, 108);
  return {
    version: 4,
    type: 11,
    code: 0,
    info: 0,
    offender: Ipv4Address.LOOPBACK,
    hops: 64,
    quoted,
    extension,
  };
}

/** A version 2 extension header with one object of `objectLength` (8 bytes of object), summed. */
function extension(objectLength = 8, version = 2): Uint8Array {
  const e = new Uint8Array([version << 4, 0, 0, 0, 0, objectLength, 1, 1, 1, 2, 3, 4]);
  const sum = internetChecksum(e);
  e[2] = sum >>> 8;
  e[3] = sum & 0xff;
  return e;
}

const INVALID = 1 << 16;

describe('rfc4884Data', () => {
  it('is the offset in the payload the socket queues', () => {
    const r = report(extension());
    expect(rfc4884Data(r, r.quoted.subarray(8))).toBe(100); // UDP: after its header
    expect(rfc4884Data(r, r.quoted)).toBe(108); // raw: from the transport header
    const ip = new Uint8Array(20 + r.quoted.length);
    ip.set(r.quoted, 20);
    expect(rfc4884Data(r, ip)).toBe(128); // IP_HDRINCL raw: from the IP header
  });

  it('flags a version 2 extension with a bad checksum or object lengths; other versions are not looked at', () => {
    const bad = extension();
    bad[3] = bad[3]! ^ 1;
    expect(rfc4884Data(report(bad), report(bad).quoted.subarray(8))).toBe(100 | INVALID);
    const noSum = extension();
    noSum[2] = noSum[3] = 0; // a zero checksum is not checked
    expect(rfc4884Data(report(noSum), report(noSum).quoted.subarray(8))).toBe(100);
    for (const len of [2, 12]) {
      const r = report(extension(len));
      expect(rfc4884Data(r, r.quoted.subarray(8))).toBe(100 | INVALID);
    }
    const v1 = extension(2, 1);
    expect(rfc4884Data(report(v1), report(v1).quoted.subarray(8))).toBe(100);
  });

  it('is 0 without an extension, or when its header does not fit', () => {
    const r = report(extension(), -1);
    expect(rfc4884Data(r, r.quoted.subarray(8))).toBe(0);
    const short = report(new Uint8Array(3));
    expect(rfc4884Data(short, short.quoted.subarray(8))).toBe(0);
    // An extension inside the stripped headers (a datagram length smaller than them).
    const inside = report(extension(), 4);
    expect(rfc4884Data(inside, inside.quoted.subarray(8))).toBe(0);
  });
});
