import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerDns, dnsError, fitUdp, isReplyTo, parseDnsQuery, udpLimit } from './dns.js';
import { makeQuery, parseReply } from './dns-fake.test-util.js';

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
    expect(parsed).toEqual({
      name: 'example.test',
      hostname: true,
      qtype: 1,
      qclass: 1,
      end: q.length,
      edns: undefined,
    });
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

  it('reads the OPT record: UDP size (at least 512), version, DO', () => {
    const q = parseDnsQuery(makeQuery('e.test', 15, 1, { size: 4096, dnssecOk: true }))!;
    expect(q.edns).toEqual({ udpSize: 4096, version: 0, dnssecOk: true });
    expect(udpLimit(q)).toBe(4096);
    const small = parseDnsQuery(makeQuery('e.test', 15, 1, { size: 100 }))!;
    expect(small.edns).toEqual({ udpSize: 512, version: 0, dnssecOk: false });
    expect(udpLimit(parseDnsQuery(makeQuery('e.test', 15))!)).toBe(512);
    // Two OPT records: FORMERR for a server, dropped here.
    const opt = [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0];
    const two = Uint8Array.from([...makeQuery('e.test', 15, 1, { size: 1232 }), ...opt]);
    two[11] = 2;
    expect(parseDnsQuery(two)).toBeUndefined();
  });

  it('answers an EDNS query with an OPT record, DO echoed; errors too', () => {
    const raw = makeQuery('e.test', 1, 7, { size: 4096, dnssecOk: true });
    const q = parseDnsQuery(raw)!;
    const a = parseReply(answerDns(raw, q, ['1.2.3.4'], false));
    expect(a.counts).toEqual([1, 1, 0, 1]);
    expect(a.additional).toEqual([{ type: 41, class: 1232, ttl: 0x8000, rdata: new Uint8Array(0) }]);
    const e = parseReply(dnsError(raw, q, 2));
    expect([e.id, e.flags, e.counts]).toEqual([7, 0x8182, [1, 0, 0, 1]]);
  });

  it('writes IPv4-mapped IPv6 addresses as their 16 bytes', () => {
    const raw = makeQuery('m', 28);
    const a = parseReply(answerDns(raw, parseDnsQuery(raw)!, ['::ffff:192.0.2.1'], false));
    expect([...a.answers[0]!.rdata]).toEqual([...new Array(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]);
  });

  it('cuts a reply past the limit to header, question and OPT with TC', () => {
    const raw = makeQuery('e.test', 1, 9, { size: 512 });
    const q = parseDnsQuery(raw)!;
    const addrs = Array.from({ length: 40 }, (_, i) => `10.0.0.${i}`);
    const full = answerDns(raw, q, addrs, false);
    expect(full.length).toBeGreaterThan(512);
    const cut = fitUdp(full, 512)!;
    expect(parseReply(cut)).toMatchObject({ id: 9, tc: true, counts: [1, 0, 0, 1], answers: [] });
    expect(cut.length).toBe(q.end + 11);
    expect(fitUdp(full, full.length)).toBe(full);
    expect(fitUdp(full.subarray(0, 11), 5)).toBeUndefined();
  });

  it("takes a reply only with the query's ID and question (any case), and QR", () => {
    const raw = makeQuery('Mixed.Case', 15, 0x0102);
    const q = parseDnsQuery(raw)!;
    const r = answerDns(raw, q, [], false);
    expect(isReplyTo(r, raw, q)).toBe(true);
    const lower = r.slice();
    lower.set(Buffer.from('mixed'), 13);
    expect(isReplyTo(lower, raw, q)).toBe(true);
    const otherId = r.slice();
    otherId[1] = 3;
    expect(isReplyTo(otherId, raw, q)).toBe(false);
    const otherName = r.slice();
    otherName[13] = 'X'.charCodeAt(0);
    expect(isReplyTo(otherName, raw, q)).toBe(false);
    const otherType = r.slice();
    otherType[q.end - 3] = 16;
    expect(isReplyTo(otherType, raw, q)).toBe(false);
    expect(isReplyTo(raw, raw, q)).toBe(false); // the query itself (QR clear)
  });
});
