/**
 * The little of the DNS wire format (RFC 1035) the gateway's resolver needs: read a standard
 * query with one question, and answer it with A or AAAA records (or NXDOMAIN). Untrusted bytes:
 * anything malformed gives undefined, and the query is dropped.
 *
 * @module
 */
import { isIP } from 'node:net';

/** The one question of a standard query. */
export interface DnsQuestion {
  /** The name, dot-separated, without the trailing dot. */
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
  /** Where the question ends in the query (the answer copies the header and question). */
  readonly end: number;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const TTL = 60;

/** Parses a standard query (QR=0, OPCODE=0) with exactly one question; undefined otherwise. */
export function parseDnsQuery(msg: Uint8Array): DnsQuestion | undefined {
  if (msg.length < 12) return undefined;
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const flags = dv.getUint16(2);
  if (flags & 0x8000 || (flags >> 11) & 0xf) return undefined;
  if (dv.getUint16(4) !== 1) return undefined;
  const labels: string[] = [];
  let off = 12;
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
  return { name, qtype: dv.getUint16(off), qclass: dv.getUint16(off + 2), end: off + 4 };
}

/**
 * The response to `query`: its header and question, then one record per address of the asked
 * type (addresses of the other family are left out), or NXDOMAIN.
 */
export function answerDns(
  query: Uint8Array,
  q: DnsQuestion,
  addresses: readonly string[],
  nxdomain: boolean,
): Uint8Array {
  const want = q.qtype === TYPE_AAAA ? 6 : q.qtype === TYPE_A ? 4 : 0;
  const records = q.qclass === CLASS_IN ? addresses.filter((a) => isIP(a) === want) : [];
  const rdlen = want === 6 ? 16 : 4;
  const out = new Uint8Array(q.end + records.length * (12 + rdlen));
  out.set(query.subarray(0, q.end));
  const dv = new DataView(out.buffer);
  // QR, the query's RD, RA; RCODE 3 (NXDOMAIN) or 0.
  const rd = dv.getUint16(2) & 0x0100;
  dv.setUint16(2, 0x8000 | rd | 0x0080 | (nxdomain ? 3 : 0));
  dv.setUint16(6, records.length);
  dv.setUint16(8, 0);
  dv.setUint16(10, 0);
  let off = q.end;
  for (const a of records) {
    dv.setUint16(off, 0xc00c); // the name: a pointer to the question's
    dv.setUint16(off + 2, q.qtype);
    dv.setUint16(off + 4, CLASS_IN);
    dv.setUint32(off + 6, TTL);
    dv.setUint16(off + 10, rdlen);
    out.set(addressBytes(a, want), off + 12);
    off += 12 + rdlen;
  }
  return out;
}

function addressBytes(a: string, family: 4 | 6 | 0): Uint8Array {
  if (family === 4) return Uint8Array.from(a.split('.').map(Number));
  const out = new Uint8Array(16);
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
