// A fake upstream DNS server on the host's 127.0.0.1 (UDP and TCP on one port) with fixed
// records, for the gateway's forwarding tests: no query ever leaves the loopback. It follows
// what real servers do where the tests look: replies over UDP larger than 512 bytes (or the
// query's EDNS size) go back as header and question with TC set; over TCP they are whole.
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';

export const T = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41 };

/** One query the fake received. */
export interface Received {
  readonly transport: 'udp' | 'tcp';
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly qtype: number;
}

export interface FakeDns {
  readonly port: number;
  /** Every query received, in order. */
  readonly received: Received[];
  close(): Promise<void>;
}

/** A name in wire form, uncompressed. */
export function wireName(name: string): number[] {
  if (name === '') return [0];
  return [...name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]), 0];
}

const u16 = (n: number): number[] => [n >> 8, n & 0xff];
const u32 = (n: number): number[] => [...u16(n >>> 16), ...u16(n & 0xffff)];

function rr(name: string, type: number, rdata: number[]): number[] {
  return [...wireName(name), ...u16(type), ...u16(1), ...u32(300), ...u16(rdata.length), ...rdata];
}

const txt = (...strings: string[]): number[] => strings.flatMap((s) => [s.length, ...Buffer.from(s)]);

/** The fake's zone: name and type to the RDATAs of the answer. */
export const ZONE: Record<string, Record<number, number[][]>> = {
  'mx.test': {
    [T.MX]: [
      [...u16(10), ...wireName('mail.mx.test')],
      [...u16(20), ...wireName('backup.mx.test')],
    ],
  },
  'txt.test': { [T.TXT]: [txt('hello world'), txt('v=spf1', ' -all')] },
  '_sip._tcp.srv.test': { [T.SRV]: [[...u16(10), ...u16(60), ...u16(5060), ...wireName('sip.srv.test')]] },
  '7.2.0.192.in-addr.arpa': { [T.PTR]: [wireName('host.ptr.test')] },
  // Ten 200-byte strings: more than a UDP reply holds, whole over TCP.
  'big.test': { [T.TXT]: Array.from({ length: 10 }, (_, i) => txt(String(i).repeat(200))) },
  // Names the tests' resolver does not know, or knows otherwise.
  'ns-only.test': {
    [T.A]: [[192, 0, 2, 7]],
    [T.AAAA]: [[0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 7]],
  },
  'both.test': { [T.A]: [[192, 0, 2, 9]] },
  'mx-only.test': { [T.MX]: [[...u16(5), ...wireName('mail.mx-only.test')]] },
};

/** Names the fake never answers (a server that is down for them), and answers SERVFAIL for. */
export const SILENT = 'silent.test';
export const FAILING = 'servfail.test';

/** The reply to `q` (undefined for a name it stays silent for); undefined for a query it cannot read. */
function answer(
  q: Uint8Array,
  transport: 'udp' | 'tcp',
): { reply: number[] | undefined; name: string; qtype: number } | undefined {
  if (q.length < 17) return undefined;
  const labels: string[] = [];
  let off = 12;
  while (off < q.length && q[off] !== 0) {
    const len = q[off]!;
    labels.push(Buffer.from(q.subarray(off + 1, off + 1 + len)).toString('latin1'));
    off += 1 + len;
  }
  off++;
  if (off + 4 > q.length) return undefined;
  const name = labels.join('.').toLowerCase();
  const qtype = (q[off]! << 8) | q[off + 1]!;
  const qend = off + 4;
  if (name === SILENT) return { reply: undefined, name, qtype };
  // An OPT record right after the question (what resolvers send): its CLASS is the UDP size.
  const edns = q.length >= qend + 11 && q[qend] === 0 && q[qend + 1] === 0 && q[qend + 2] === T.OPT;
  const limit = transport === 'tcp' ? 0xffff : edns ? Math.max(512, (q[qend + 3]! << 8) | q[qend + 4]!) : 512;
  const known = ZONE[name];
  const rdatas = known?.[qtype] ?? [];
  const rcode = name === FAILING ? 2 : known ? 0 : 3;
  const answers = rdatas.map((d) => rr(name, qtype, d));
  // Negative answers carry the zone's SOA (RFC 2308), as real servers' do.
  const soa = rr('test', T.SOA, [
    ...wireName('ns.test'),
    ...wireName('admin.test'),
    ...u32(1),
    ...u32(60),
    ...u32(60),
    ...u32(60),
    ...u32(60),
  ]);
  const authority = answers.length === 0 && rcode !== 2 ? [soa] : [];
  const opt = edns
    ? [0, ...u16(T.OPT), ...u16(1232), ...u32(q[qend + 7]! & 0x80 ? 0x8000 : 0), ...u16(0)]
    : [];
  const header = (tc: boolean, an: number, ns: number): number[] => [
    q[0]!,
    q[1]!,
    0x80 | (q[2]! & 0x01) | (tc ? 0x02 : 0), // QR, RD copied, TC; opcode 0, not AA
    0x80 | rcode, // RA
    ...u16(1),
    ...u16(an),
    ...u16(ns),
    ...u16(edns ? 1 : 0),
  ];
  const question = [...q.subarray(12, qend)];
  const whole = [
    ...header(false, answers.length, authority.length),
    ...question,
    ...answers.flat(),
    ...authority.flat(),
    ...opt,
  ];
  if (whole.length <= limit) return { reply: whole, name, qtype };
  return { reply: [...header(true, 0, 0), ...question, ...opt], name, qtype };
}

/** Starts the fake on 127.0.0.1, UDP and TCP on the same port. */
export async function startFakeDns(): Promise<FakeDns> {
  const received: Received[] = [];
  const note = (transport: 'udp' | 'tcp', bytes: Uint8Array): ReturnType<typeof answer> => {
    const a = answer(bytes, transport);
    received.push({ transport, bytes, name: a?.name ?? '', qtype: a?.qtype ?? 0 });
    return a;
  };
  // The TCP port first: the UDP one of the same number is then bound (and retried if taken).
  for (;;) {
    const tcp: Server = createServer((c) => {
      let held = Buffer.alloc(0);
      c.on('error', () => undefined);
      c.on('data', (d) => {
        held = Buffer.concat([held, d]);
        while (held.length >= 2 && held.length >= 2 + held.readUInt16BE(0)) {
          const q = new Uint8Array(held.subarray(2, 2 + held.readUInt16BE(0)));
          held = held.subarray(2 + q.length);
          const a = note('tcp', q);
          if (a?.reply) c.write(Buffer.from([...u16(a.reply.length), ...a.reply]));
        }
      });
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as AddressInfo).port;
    const udp: DgramSocket = createSocket('udp4');
    const bound = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, '127.0.0.1', () => r(true));
    });
    if (!bound) {
      tcp.close();
      continue;
    }
    udp.on('message', (msg, rinfo) => {
      const a = note('udp', new Uint8Array(msg));
      if (a?.reply) udp.send(Buffer.from(a.reply), rinfo.port, rinfo.address);
    });
    return {
      port,
      received,
      close: () =>
        new Promise<void>((r) => {
          udp.close();
          tcp.close(() => r());
        }),
    };
  }
}

/** A port on 127.0.0.1 where nothing listens over UDP or TCP (a nameserver that is down). */
export async function deadPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A standard query: id, RD, one question; with an OPT record (udp size, DO) when `edns` is
 * given.
 */
export function makeQuery(
  name: string,
  qtype: number,
  id = 0x1234,
  edns?: { size: number; dnssecOk?: boolean },
): Uint8Array {
  const opt = edns ? [0, ...u16(T.OPT), ...u16(edns.size), 0, 0, edns.dnssecOk ? 0x80 : 0, 0, ...u16(0)] : [];
  return Uint8Array.from([
    ...u16(id),
    0x01,
    0x00,
    ...u16(1),
    ...u16(0),
    ...u16(0),
    ...u16(edns ? 1 : 0),
    ...wireName(name),
    ...u16(qtype),
    ...u16(1),
    ...opt,
  ]);
}

/** A reply's header fields and its records' types and RDATAs (names skipped, compression read). */
export interface Parsed {
  readonly id: number;
  readonly flags: number;
  readonly rcode: number;
  readonly tc: boolean;
  readonly counts: readonly number[];
  readonly answers: { type: number; rdata: Uint8Array }[];
  readonly authority: { type: number; rdata: Uint8Array }[];
  readonly additional: { type: number; class: number; ttl: number; rdata: Uint8Array }[];
}

export function parseReply(m: Uint8Array): Parsed {
  const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
  const skip = (off: number): number => {
    for (;;) {
      const l = m[off]!;
      if (l === 0) return off + 1;
      if (l >= 0xc0) return off + 2;
      off += 1 + l;
    }
  };
  const counts = [4, 6, 8, 10].map((o) => dv.getUint16(o));
  let off = 12;
  for (let i = 0; i < counts[0]!; i++) off = skip(off) + 4;
  const section = (n: number): { type: number; class: number; ttl: number; rdata: Uint8Array }[] =>
    Array.from({ length: n }, () => {
      const at = skip(off);
      const len = dv.getUint16(at + 8);
      const r = {
        type: dv.getUint16(at),
        class: dv.getUint16(at + 2),
        ttl: dv.getUint32(at + 4),
        rdata: m.slice(at + 10, at + 10 + len),
      };
      off = at + 10 + len;
      return r;
    });
  const answers = section(counts[1]!);
  const authority = section(counts[2]!);
  const additional = section(counts[3]!);
  if (off !== m.length) throw new Error(`reply has ${m.length - off} bytes past its records`);
  return {
    id: dv.getUint16(0),
    flags: dv.getUint16(2),
    rcode: dv.getUint16(2) & 0xf,
    tc: (dv.getUint16(2) & 0x200) !== 0,
    counts,
    answers,
    authority,
    additional,
  };
}
