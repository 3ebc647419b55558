import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerDns, parseDnsQuery } from './dns.js';

/** A standard query for `name` (type `qtype`, class IN) with id 0xbeef and RD set. */
function query(name: string, qtype: number): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Uint8Array.from([
    0xbe,
    0xef,
    0x01,
    0x00,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    ...labels,
    0,
    qtype >> 8,
    qtype & 0xff,
    0,
    1,
  ]);
}

describe('the gateway DNS wire format', () => {
  it('reads a query and answers A records after the copied question', () => {
    const q = query('example.test', 1);
    const parsed = parseDnsQuery(q)!;
    expect(parsed).toEqual({ name: 'example.test', qtype: 1, qclass: 1, end: q.length });
    const a = answerDns(q, parsed, ['127.0.0.1', '::1', '10.1.2.3'], false);
    const dv = new DataView(a.buffer);
    expect(dv.getUint16(0)).toBe(0xbeef);
    expect(dv.getUint16(2)).toBe(0x8180); // QR, RD copied, RA, NOERROR
    expect(dv.getUint16(6)).toBe(2); // the IPv6 address is not an A record
    expect([...a.subarray(q.length + 12, q.length + 16)]).toEqual([127, 0, 0, 1]);
    expect([...a.subarray(q.length + 28, q.length + 32)]).toEqual([10, 1, 2, 3]);
  });

  it('answers AAAA with the 16 address bytes, and NXDOMAIN with no records', () => {
    const q = query('h', 28);
    const a = answerDns(q, parseDnsQuery(q)!, ['fe80::1:2', '1.2.3.4'], false);
    expect(new DataView(a.buffer).getUint16(6)).toBe(1);
    expect([...a.subarray(q.length + 12)]).toEqual([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
    const nx = answerDns(q, parseDnsQuery(q)!, [], true);
    expect(new DataView(nx.buffer).getUint16(2) & 0xf).toBe(3);
    expect(nx.length).toBe(q.length);
  });

  it('drops responses, other opcodes, several questions and truncated names', () => {
    const q = query('a.b', 1);
    const response = q.slice();
    response[2] = 0x81;
    expect(parseDnsQuery(response)).toBeUndefined();
    const notify = q.slice();
    notify[2] = 0x20; // OPCODE 4
    expect(parseDnsQuery(notify)).toBeUndefined();
    const two = q.slice();
    two[5] = 2;
    expect(parseDnsQuery(two)).toBeUndefined();
    expect(parseDnsQuery(q.subarray(0, q.length - 3))).toBeUndefined();
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const p = parseDnsQuery(bytes);
        if (p) expect(answerDns(bytes, p, ['127.0.0.1'], false).length).toBeGreaterThanOrEqual(p.end);
      }),
    );
  });
});
