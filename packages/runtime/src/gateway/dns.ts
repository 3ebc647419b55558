/**
 * The little of the DNS wire format (RFC 1035, EDNS of RFC 6891) the gateway's server needs:
 * read a standard query with one question (and its EDNS OPT record), answer it with A or AAAA
 * records or an error code, check that a forwarded query's reply belongs to it, and cut a reply
 * down to what the client can take over UDP (TC set), as servers do. Untrusted bytes: anything
 * malformed gives undefined, and the query is dropped.
 *
 * @module
 */
import { isIP } from 'node:net';

/** What a query's OPT record says (RFC 6891 §6.1.3). */
export interface Edns {
  /** The largest UDP reply the client takes (the OPT's CLASS; below 512 counts as 512). */
  readonly udpSize: number;
  readonly version: number;
  /** DNSSEC OK (RFC 3225): the client wants the RRSIGs with the records. */
  readonly dnssecOk: boolean;
}

/** The one question of a standard query. */
export interface DnsQuestion {
  /** The name, dot-separated, without the trailing dot. */
  readonly name: string;
  /**
   * True when every label is letters, digits, `-` or `_`, so `name` reads back as the same
   * labels: only such a name is handed to the host's resolver library.
   */
  readonly hostname: boolean;
  readonly qtype: number;
  readonly qclass: number;
  /** Where the question ends in the query (the answer copies the header and question). */
  readonly end: number;
  /** The query's OPT record, or undefined for a query without EDNS. */
  readonly edns: Edns | undefined;
}

/** Record types the gateway looks at. */
export const DnsType = { A: 1, AAAA: 28, OPT: 41, IXFR: 251, AXFR: 252 } as const;

/** Response codes (RFC 1035 §4.1.1). */
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const CLASS_IN = 1;
const TTL = 60;
const HEADER = 12;
/** The UDP limit of a client without EDNS (RFC 1035 §4.2.1). */
export const UDP_PLAIN_LIMIT = 512;
/** The UDP size the gateway's own answers advertise: DNS Flag Day 2020's 1232. */
const OWN_UDP_SIZE = 1232;
/** The largest message: TCP frames it with a two-byte length. */
const MAX_MESSAGE = 0xffff;
const FLAG_QR = 0x8000;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
const OPT_DO = 0x8000;
const HOSTNAME_LABEL = /^[A-Za-z0-9_-]+$/;

/** Where the domain name at `off` ends, or undefined when it runs out or is not a name. */
function skipName(msg: Uint8Array, off: number): number | undefined {
  for (let hops = 0; hops < 128; hops++) {
    if (off >= msg.length) return undefined;
    const len = msg[off] as number;
    if (len === 0) return off + 1;
    // A compression pointer ends the name where it stands.
    if ((len & 0xc0) === 0xc0) return off + 2 <= msg.length ? off + 2 : undefined;
    if (len > 63) return undefined;
    off += 1 + len;
  }
  return undefined;
}

/** A resource record's place in a message: its name's start, its type, and its end. */
interface RecordSpan {
  readonly start: number;
  readonly type: number;
  readonly end: number;
}

/** The records after the question section (answer, authority, additional), or undefined. */
function records(msg: Uint8Array, from: number, count: number): RecordSpan[] | undefined {
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const out: RecordSpan[] = [];
  let off = from;
  for (let i = 0; i < count; i++) {
    const start = off;
    const nameEnd = skipName(msg, off);
    if (nameEnd === undefined || nameEnd + 10 > msg.length) return undefined;
    const end = nameEnd + 10 + dv.getUint16(nameEnd + 8);
    if (end > msg.length) return undefined;
    out.push({ start, type: dv.getUint16(nameEnd), end });
    off = end;
  }
  return out;
}

/** Where the question section ends (all `qdcount` questions), or undefined. */
function questionsEnd(msg: Uint8Array, qdcount: number): number | undefined {
  let off: number | undefined = HEADER;
  for (let i = 0; i < qdcount && off !== undefined; i++) {
    off = skipName(msg, off);
    off = off !== undefined && off + 4 <= msg.length ? off + 4 : undefined;
  }
  return off;
}

/**
 * Parses a standard query (QR=0, OPCODE=0) with exactly one question; undefined for anything
 * else, for records that run past the end, for bytes after the last record and for more than
 * one OPT record (a server's FORMERR cases; the gateway drops them).
 */
export function parseDnsQuery(msg: Uint8Array): DnsQuestion | undefined {
  if (msg.length < HEADER) return undefined;
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const flags = dv.getUint16(2);
  if (flags & FLAG_QR || (flags >> 11) & 0xf) return undefined;
  if (dv.getUint16(4) !== 1) return undefined;
  const labels: string[] = [];
  let off = HEADER;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off] as number;
    off++;
    if (len === 0) break;
    // Compression pointers never appear in a question of a query we accept.
    if (len > 63 || off + len > msg.length) return undefined;
    labels.push(String.fromCharCode(...msg.subarray(off, off + len)));
    off += len;
  }
  if (off + 4 > msg.length) return undefined;
  const name = labels.join('.');
  if (name.length > 253) return undefined;
  const end = off + 4;
  const rest = records(msg, end, dv.getUint16(6) + dv.getUint16(8) + dv.getUint16(10));
  if (!rest || (rest.length > 0 ? rest[rest.length - 1]!.end : end) !== msg.length) return undefined;
  const opts = rest.slice(rest.length - dv.getUint16(10)).filter((r) => r.type === DnsType.OPT);
  if (opts.length > 1) return undefined;
  let edns: Edns | undefined;
  if (opts[0]) {
    const at = opts[0].start;
    // OPT's owner is the root: its CLASS and TTL fields follow one zero byte.
    if (msg[at] !== 0) return undefined;
    edns = {
      udpSize: Math.max(UDP_PLAIN_LIMIT, dv.getUint16(at + 3)),
      version: msg[at + 6] as number,
      dnssecOk: (dv.getUint16(at + 7) & OPT_DO) !== 0,
    };
  }
  return {
    name,
    hostname: labels.length > 0 && labels.every((l) => HOSTNAME_LABEL.test(l)),
    qtype: dv.getUint16(off),
    qclass: dv.getUint16(off + 2),
    end,
    edns,
  };
}

/** The largest reply `q`'s client takes over UDP: its EDNS size, or 512 without EDNS. */
export function udpLimit(q: DnsQuestion): number {
  return q.edns ? q.edns.udpSize : UDP_PLAIN_LIMIT;
}

/**
 * A reply to `query` from the gateway itself: its header (ID, RD) and question, `rcode`, then
 * `answers` (whole records, each starting with its name), then an OPT record when the query
 * had one (RFC 6891 §7: DO copied, as RFC 3225 asks). RA is set: the gateway recurses through
 * the host's resolver.
 */
function reply(query: Uint8Array, q: DnsQuestion, rcode: number, answers: readonly Uint8Array[]): Uint8Array {
  const optLen = q.edns ? 11 : 0;
  const size = q.end + answers.reduce((n, a) => n + a.length, 0) + optLen;
  const out = new Uint8Array(size);
  out.set(query.subarray(0, q.end));
  const dv = new DataView(out.buffer);
  dv.setUint16(2, FLAG_QR | (dv.getUint16(2) & FLAG_RD) | FLAG_RA | rcode);
  dv.setUint16(6, answers.length);
  dv.setUint16(8, 0);
  dv.setUint16(10, q.edns ? 1 : 0);
  let off = q.end;
  for (const a of answers) {
    out.set(a, off);
    off += a.length;
  }
  if (q.edns) {
    // Root owner (the zero byte already there), TYPE OPT, CLASS our UDP size, extended RCODE
    // and version 0, the DO bit, no options.
    dv.setUint16(off + 1, DnsType.OPT);
    dv.setUint16(off + 3, OWN_UDP_SIZE);
    dv.setUint16(off + 7, q.edns.dnssecOk ? OPT_DO : 0);
  }
  return out;
}

/**
 * The response to `query`: its header and question, then one record per address of the asked
 * type (addresses of the other family are left out), or NXDOMAIN; with an OPT record when the
 * query had one. As many records as a 64 KiB message holds (the most TCP can carry); over UDP
 * see {@link fitUdp}.
 */
export function answerDns(
  query: Uint8Array,
  q: DnsQuestion,
  addresses: readonly string[],
  nxdomain: boolean,
): Uint8Array {
  const want = q.qtype === DnsType.AAAA ? 6 : q.qtype === DnsType.A ? 4 : 0;
  const rdlen = want === 6 ? 16 : 4;
  const room = Math.floor((MAX_MESSAGE - q.end - (q.edns ? 11 : 0)) / (12 + rdlen));
  const records = q.qclass === CLASS_IN ? addresses.filter((a) => isIP(a) === want).slice(0, room) : [];
  const answers = records.map((a) => {
    const rr = new Uint8Array(12 + rdlen);
    const dv = new DataView(rr.buffer);
    dv.setUint16(0, 0xc00c); // the name: a pointer to the question's
    dv.setUint16(2, q.qtype);
    dv.setUint16(4, CLASS_IN);
    dv.setUint32(6, TTL);
    dv.setUint16(10, rdlen);
    rr.set(addressBytes(a, want), 12);
    return rr;
  });
  return reply(query, q, nxdomain ? Rcode.NXDOMAIN : Rcode.NOERROR, answers);
}

/** A reply to `query` with no records and `rcode` (SERVFAIL, REFUSED...), OPT as the query's. */
export function dnsError(query: Uint8Array, q: DnsQuestion, rcode: number): Uint8Array {
  return reply(query, q, rcode, []);
}

/** The RCODE of a reply (the header's four bits; the extended bits of OPT left out). */
export function rcodeOf(msg: Uint8Array): number {
  return (msg[3] ?? 0) & 0xf;
}

/** True when the reply has TC set: the server had more than the transport's limit. */
export function isTruncated(msg: Uint8Array): boolean {
  return msg.length >= HEADER && ((msg[2] as number) & (FLAG_TC >> 8)) !== 0;
}

/**
 * True when `msg` can be the reply to `query` (question `q`): a response (QR) with the same ID
 * and the same question, the name compared without case (RFC 4343; servers may echo another
 * case, and resolvers randomise it). A reply without a question (some FORMERR and NOTIMP
 * replies) is accepted on its ID. Anything else from the server's address is ignored, as a
 * resolver ignores stray or spoofed datagrams.
 */
export function isReplyTo(msg: Uint8Array, query: Uint8Array, q: DnsQuestion): boolean {
  if (msg.length < HEADER || msg[0] !== query[0] || msg[1] !== query[1]) return false;
  if (!((msg[2] as number) & 0x80)) return false;
  const qdcount = ((msg[4] as number) << 8) | (msg[5] as number);
  if (qdcount === 0) return true;
  if (qdcount !== 1 || msg.length < q.end) return false;
  const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  for (let i = HEADER; i < q.end; i++)
    if (lower(msg[i] as number) !== lower(query[i] as number)) return false;
  return true;
}

/**
 * `msg` as sent over UDP to a client that takes at most `limit` bytes: unchanged when it fits;
 * otherwise its header with TC set, its question and its OPT record (when those fit), and no
 * other record, as servers answer over UDP what only TCP carries (RFC 2181 §9): the client
 * then asks again over TCP. Undefined when `msg` is not a message whose sections can be read.
 */
export function fitUdp(msg: Uint8Array, limit: number): Uint8Array | undefined {
  if (msg.length <= limit) return msg;
  if (msg.length < HEADER) return undefined;
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const end = questionsEnd(msg, dv.getUint16(4));
  if (end === undefined) return undefined;
  const all = records(msg, end, dv.getUint16(6) + dv.getUint16(8) + dv.getUint16(10));
  const opt = all?.slice(all.length - dv.getUint16(10)).find((r) => r.type === DnsType.OPT);
  const optBytes = opt && end + (opt.end - opt.start) <= limit ? msg.subarray(opt.start, opt.end) : undefined;
  const out = new Uint8Array(end + (optBytes?.length ?? 0));
  out.set(msg.subarray(0, end));
  if (optBytes) out.set(optBytes, end);
  const odv = new DataView(out.buffer);
  odv.setUint16(2, odv.getUint16(2) | FLAG_TC);
  odv.setUint16(6, 0);
  odv.setUint16(8, 0);
  odv.setUint16(10, optBytes ? 1 : 0);
  return out;
}

function addressBytes(a: string, family: 4 | 6 | 0): Uint8Array {
  if (family === 4) return Uint8Array.from(a.split('.').map(Number));
  const out = new Uint8Array(16);
  // An IPv4-mapped or -compatible tail (::ffff:1.2.3.4) is the last two groups.
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (dotted) {
    const [, lead = '', b0 = '0', b1 = '0', b2 = '0', b3 = '0'] = dotted;
    const hex = (x: string, y: string): string => ((Number(x) << 8) | Number(y)).toString(16);
    a = `${lead}${hex(b0, b1)}:${hex(b2, b3)}`;
  }
  const [head = '', tail = ''] = a.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = a.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}
