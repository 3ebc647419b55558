// An ICMPv6 error quoting a datagram with extension headers reaches the socket of the transport
// header behind them, as Linux's icmpv6_notify finds it with ipv6_skip_exthdr: past Hop-by-Hop,
// Routing, Destination Options and Authentication headers, and past a Fragment header of offset 0
// (an atomic fragment, RFC 6946, or a first fragment). A Fragment header of a later fragment ends
// the walk: the error is about protocol 44, for raw sockets of that protocol, with the quote from
// the Fragment header on. A "no next header" or a quote cut short inside the headers or the first
// 8 bytes after them reaches nobody. The runtime's icmp6-exthdr-quote.c compares the same on lo
// with Linux 6.18 (port unreachable and packet too big; UDP socket, raw UDP, raw fragment sockets).
import { E, Ipv6Option, isError, MsgFlag, SocketLevel, SocketOption, SockType } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import type { InetSocket, RecvResult } from '../socket/inet-socket.js';
import { addr, far6, icmp6, inetSocket, routerLink } from '../socket/icmp-router.test-util.js';
import { settle } from '../stack.test-util.js';
import { Icmpv6Unreachable } from '../wire/icmpv6.js';

const te = new TextEncoder();
const FRAGMENT = 44;
const DEST_OPTIONS = 60;
const NO_NEXT_HEADER = 59;

/** The headers put between the IPv6 header and the UDP header of a quoted datagram. */
type Layout = 'atomic' | 'first' | 'later' | 'dstopts' | 'dstopts+atomic' | 'hop+routing+ah';

/**
 * `datagram` (an IPv6 UDP datagram as the stack sent it) with the extension headers of `layout`
 * inserted after its IPv6 header, the Next Header fields chained through them.
 */
function withHeaders(datagram: Uint8Array, layout: Layout): Uint8Array {
  const headers: { type: number; bytes: number[] }[] = [];
  const fragment = (offset: number, more: boolean) => ({
    type: FRAGMENT,
    bytes: [0, 0, (offset >> 8) & 0xff, (offset & 0xf8) | (more ? 1 : 0), 0xde, 0xad, 0xbe, 0xef],
  });
  const dstopts = { type: DEST_OPTIONS, bytes: [0, 0, 1, 4, 0, 0, 0, 0] }; // a PadN of 4 fills it
  if (layout === 'atomic') headers.push(fragment(0, false));
  if (layout === 'first') headers.push(fragment(0, true));
  if (layout === 'later') headers.push(fragment(8, false));
  if (layout === 'dstopts') headers.push(dstopts);
  if (layout === 'dstopts+atomic') headers.push(dstopts, fragment(0, false));
  if (layout === 'hop+routing+ah') {
    headers.push({ type: 0, bytes: [0, 0, 1, 4, 0, 0, 0, 0] });
    // A type 0 routing header of 16 bytes (length 1), then AH of 16 bytes (length 2: (2 + 2) * 4).
    headers.push({ type: 43, bytes: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    headers.push({ type: 51, bytes: [0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0] });
  }
  const extra = headers.reduce((n, h) => n + h.bytes.length, 0);
  const out = new Uint8Array(datagram.length + extra);
  out.set(datagram.subarray(0, 40));
  const payloadLen = datagram.length - 40 + extra;
  out[4] = payloadLen >> 8;
  out[5] = payloadLen & 0xff;
  let next = 6; // where the Next Header naming the following header is
  let at = 40;
  for (const h of headers) {
    out[next] = h.type;
    out.set(h.bytes, at);
    next = at;
    at += h.bytes.length;
  }
  out[next] = datagram[6]!;
  out.set(datagram.subarray(40), at);
  return out;
}

/** One recvmsg(MSG_ERRQUEUE): the payload and sock_extended_err's errno, type, code, info. */
function readError(s: InetSocket): unknown {
  const buf = new Uint8Array(64);
  const r = s.recvfrom(buf, MsgFlag.MSG_ERRQUEUE);
  if (isError(r)) return r.name;
  const res = r as RecvResult;
  const c = res.control![0]!;
  const dv = new DataView(c.data.buffer, c.data.byteOffset, c.data.byteLength);
  return {
    payload: Array.from(buf.slice(0, res.n)),
    errno: dv.getUint32(0, true),
    type: c.data[5],
    code: c.data[6],
    info: dv.getUint32(8, true),
  };
}

/**
 * A stack whose UDP socket sent 'quoted' to [fd00::9]:4000, and raw IPPROTO_UDP and
 * IPPROTO_FRAGMENT sockets, all three with IPV6_RECVERR; the router then sends `error` quoting
 * that datagram as `quote` rewrites it. Returns what each socket's error queue holds.
 */
function deliver(
  error: (invoking: Uint8Array) => Parameters<typeof icmp6>[1],
  quote: (datagram: Uint8Array) => Uint8Array,
): { udp: unknown; rawUdp: unknown; rawFragment: unknown; soError: unknown } {
  const { stack, peer, sent } = routerLink(5);
  const udp = inetSocket(stack, 6, SockType.SOCK_DGRAM);
  const rawUdp = inetSocket(stack, 6, SockType.SOCK_RAW, 17);
  const rawFragment = inetSocket(stack, 6, SockType.SOCK_RAW, FRAGMENT);
  for (const s of [udp, rawUdp, rawFragment])
    expect(s.setsockopt(SocketLevel.SOL_IPV6, Ipv6Option.IPV6_RECVERR, 1)).toBe(0);
  expect(udp.sendto(te.encode('quoted'), 0, addr(far6, 4000))).toBe(6);
  const [datagram] = sent();
  if (!datagram) throw new Error('nothing sent');
  icmp6(peer, error(quote(datagram)));
  settle([stack], 0);
  return {
    udp: readError(udp),
    rawUdp: readError(rawUdp),
    rawFragment: readError(rawFragment),
    soError: udp.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR),
  };
}

const portUnreachable = (invoking: Uint8Array) =>
  ({ type: 'destUnreachable', code: Icmpv6Unreachable.PORT, invoking }) as const;
const tooBig = (invoking: Uint8Array) => ({ type: 'packetTooBig', mtu: 1400, invoking }) as const;

const QUOTED = Array.from(te.encode('quoted'));
/** The UDP header the socket sent (its source port filled in by the test) and the text. */
const udpAndText = (sport: number): number[] => [sport >> 8, sport & 0xff, 0x0f, 0xa0, 0, 14, ...QUOTED];

describe('ICMPv6 errors quoting extension headers (icmpv6_notify, ipv6_skip_exthdr)', () => {
  for (const layout of ['atomic', 'first', 'dstopts', 'dstopts+atomic', 'hop+routing+ah'] as const)
    for (const [name, error, errno, type, info] of [
      ['port unreachable', portUnreachable, E.ECONNREFUSED.errno, 1, 0],
      ['packet too big', tooBig, E.EMSGSIZE.errno, 2, 1400],
    ] as const)
      it(`${name} quoting ${layout}: the UDP socket and raw UDP sockets hear of it`, () => {
        let sport = 0;
        const got = deliver(error, (d) => {
          sport = (d[40]! << 8) | d[41]!;
          return withHeaders(d, layout);
        });
        const ee = { errno, type, code: type === 1 ? 4 : 0, info };
        // The UDP checksum the stack computed sits in the quoted header: read it back from what
        // the raw socket got rather than recompute it.
        const raw = got.rawUdp as { payload: number[] };
        expect(raw.payload.slice(0, 6)).toEqual(udpAndText(sport).slice(0, 6));
        expect(got).toEqual({
          udp: { payload: QUOTED, ...ee },
          rawUdp: {
            payload: [...udpAndText(sport).slice(0, 6), ...raw.payload.slice(6, 8), ...QUOTED],
            ...ee,
          },
          rawFragment: 'EAGAIN',
          soError: 0, // a soft error with IPV6_RECVERR set: queued, not pending (unconnected)
        });
      });

  it('a later fragment: the error is for raw sockets of protocol 44, quoted from the Fragment header', () => {
    let sport = 0;
    let checksum: number[] = [];
    const got = deliver(portUnreachable, (d) => {
      sport = (d[40]! << 8) | d[41]!;
      checksum = [d[46]!, d[47]!];
      return withHeaders(d, 'later');
    });
    const udp = udpAndText(sport);
    expect(got).toEqual({
      udp: 'EAGAIN',
      rawUdp: 'EAGAIN',
      rawFragment: {
        payload: [17, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef, ...udp.slice(0, 6), ...checksum, ...QUOTED],
        errno: E.ECONNREFUSED.errno,
        type: 1,
        code: 4,
        info: 0,
      },
      soError: 0,
    });
  });

  it('a "no next header" or a quote cut short reaches nobody', () => {
    const none = deliver(portUnreachable, (d) => {
      const q = d.slice();
      q[6] = NO_NEXT_HEADER;
      return q;
    });
    // Cut inside the Fragment header, then with the Fragment header but only 7 bytes after it.
    const cutHeader = deliver(portUnreachable, (d) => withHeaders(d, 'atomic').subarray(0, 43));
    const cutTransport = deliver(portUnreachable, (d) => withHeaders(d, 'atomic').subarray(0, 55));
    const nobody = { udp: 'EAGAIN', rawUdp: 'EAGAIN', rawFragment: 'EAGAIN', soError: 0 };
    expect({ none, cutHeader, cutTransport }).toEqual({
      none: nobody,
      cutHeader: nobody,
      cutTransport: nobody,
    });
    // Exactly the 8 bytes after the headers are enough (icmpv6_notify's pskb_may_pull).
    const eight = deliver(portUnreachable, (d) => withHeaders(d, 'atomic').subarray(0, 56));
    expect(eight).toMatchObject({ udp: { payload: [], errno: E.ECONNREFUSED.errno } });
  });
});
