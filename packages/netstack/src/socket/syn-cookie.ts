/**
 * SYN cookies (RFC 4987 §3.6) as Linux makes them (net/ipv4/syncookies.c, net/ipv6/syncookies.c):
 * a listener whose request queue is full (or net.ipv4.tcp_syncookies = 2) answers a SYN with a
 * SYN-ACK whose sequence number encodes the connection, and keeps nothing. The ACK that comes
 * back proves the peer got it, and the connection is made from what the cookie holds.
 *
 * The initial sequence number is
 * `H0(4-tuple) + peer ISN + (minute << 24) + ((H1(4-tuple, minute) + MSS index) mod 2^24)`,
 * with two keyed hashes of a per-stack secret: the top 8 bits carry the minute counter (a cookie
 * is good for 2 of them), the low 24 an index into a table of four MSS values. With timestamps the
 * low 6 bits of our TSval carry the peer's window scale and SACK (cookie_init_timestamp), which
 * the peer echoes in its ACK; the TSval offset is a keyed hash of the addresses and ports, so
 * that it too can be worked out again from the ACK.
 *
 * @module
 */
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';

/** Linux's msstab of IPv4 (the first is TCP_MSS_DEFAULT; 1440 and 1452 are PPPoE). */
export const MSSTAB_V4: readonly number[] = [536, 1300, 1440, 1460];
/** Linux's msstab of IPv6: 1280, 1480, 1500 and 9000 less 60. */
export const MSSTAB_V6: readonly number[] = [1220, 1420, 1440, 8940];

/** COOKIEBITS: the low 24 bits are hash plus data, the top 8 the minute counter. */
const COOKIEBITS = 24;
const COOKIEMASK = (1 << COOKIEBITS) - 1;
/** MAX_SYNCOOKIE_AGE: a cookie is good in the minute it was made and the next one. */
const MAX_SYNCOOKIE_AGE = 2;
/** TCP_SYNCOOKIE_PERIOD (ms). */
const SYNCOOKIE_PERIOD = 60_000;
/** TCP_SYNCOOKIE_VALID (ms): a listener checks ACKs as cookies this long after its last one. */
export const SYNCOOKIE_VALID = MAX_SYNCOOKIE_AGE * SYNCOOKIE_PERIOD;

/** seq_scale's clock: 64 ns ticks (2^32 of them last 274 s), per ms of the poll clock. */
const ISN_TICKS_PER_MS = 1e6 / 64;

/** TSBITS and the option bits of the cookie's timestamp (TS_OPT_WSCALE_MASK, _SACK, _ECN). */
const TSBITS = 6;
const TS_OPT_WSCALE_MASK = 0xf;
const TS_OPT_SACK = 1 << 4;
const TS_OPT_ECN = 1 << 5;

/** The options a cookie's timestamp carries. */
export interface CookieOptions {
  /** The peer's window scale; undefined: it sent none (no window scaling). */
  readonly windowScale: number | undefined;
  readonly sack: boolean;
  readonly ecn: boolean;
}

const rotl = (x: number, b: number): number => ((x << b) | (x >>> (32 - b))) >>> 0;

/**
 * A keyed 32-bit hash of 32-bit words in the shape of HalfSipHash-2-4 (Linux's hsiphash): a
 * secret 64-bit key makes the output unpredictable to whoever does not hold it.
 */
export function keyedHash(k0: number, k1: number, words: readonly number[]): number {
  let v0 = k0 >>> 0;
  let v1 = k1 >>> 0;
  let v2 = (0x6c796765 ^ k0) >>> 0;
  let v3 = (0x74656462 ^ k1) >>> 0;
  const round = (): void => {
    v0 = (v0 + v1) >>> 0;
    v1 = rotl(v1, 5) ^ v0;
    v0 = rotl(v0, 16);
    v2 = (v2 + v3) >>> 0;
    v3 = rotl(v3, 8) ^ v2;
    v0 = (v0 + v3) >>> 0;
    v3 = rotl(v3, 7) ^ v0;
    v2 = (v2 + v1) >>> 0;
    v1 = rotl(v1, 13) ^ v2;
    v2 = rotl(v2, 16);
  };
  const mix = (m: number): void => {
    v3 = (v3 ^ m) >>> 0;
    round();
    round();
    v0 = (v0 ^ m) >>> 0;
  };
  for (const w of words) mix(w >>> 0);
  mix(((words.length * 4) & 0xff) << 24);
  v2 = (v2 ^ 0xff) >>> 0;
  for (let i = 0; i < 4; i++) round();
  return (v1 ^ v3) >>> 0;
}

/** The address as big-endian 32-bit words (1 for IPv4, 4 for IPv6). */
export function addressWords(a: IpAddress): number[] {
  const b = a.bytes;
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 4)
    out.push(((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0);
  return out;
}

/** A SYN's 4-tuple as the peer sent it: its address and port are the source. */
export interface CookieFlow {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly srcPort: number;
  readonly dstPort: number;
}

/**
 * A stack's SYN cookie secret and codec, and the secrets of every connection's ISN and TSval
 * offset (Linux's net_secret and ts_secret). The keys come from the stack's seeded random
 * source, so a run with a fixed seed makes the same cookies.
 *
 * @example
 * ```ts
 * const cookies = new SynCookies(Math.random);
 * const flow = { src: peer, dst: us, srcPort: 40000, dstPort: 80 };
 * const { isn, mss } = cookies.make(now, flow, synSeq, 1460);
 * cookies.check(now, flow, synSeq, isn) === mss; // from the ACK: SEG.SEQ - 1 and SEG.ACK - 1
 * ```
 */
export class SynCookies {
  private readonly keys: readonly number[];

  constructor(random: () => number) {
    const word = (): number => Math.floor(random() * 2 ** 32) >>> 0;
    // Keys of H0, H1, the timestamp offset and the ISN, two words each.
    this.keys = [word(), word(), word(), word(), word(), word(), word(), word()];
  }

  private hash(which: 0 | 1, flow: CookieFlow, count: number): number {
    const words = [
      ...addressWords(flow.src),
      ...addressWords(flow.dst),
      ((flow.srcPort << 16) | flow.dstPort) >>> 0,
      count,
    ];
    return keyedHash(this.keys[which * 2]!, this.keys[which * 2 + 1]!, words);
  }

  /**
   * The cookie (our ISN) for a SYN with sequence number `seq` whose MSS is `mss` (the clamp
   * Linux works out: the peer's MSS option, else the family's default, at most TCP_MAXSEG), and
   * the MSS the cookie keeps: the largest table value not above it (__cookie_v4_init_sequence).
   */
  make(now: number, flow: CookieFlow, seq: number, mss: number): { isn: number; mss: number } {
    const table = flow.dst.version === 4 ? MSSTAB_V4 : MSSTAB_V6;
    let index = table.length - 1;
    while (index > 0 && mss < table[index]!) index--;
    const count = minute(now);
    const isn =
      (this.hash(0, flow, 0) +
        seq +
        ((count << COOKIEBITS) >>> 0) +
        ((this.hash(1, flow, count) + index) & COOKIEMASK)) >>>
      0;
    return { isn, mss: table[index]! };
  }

  /**
   * The MSS a cookie holds, or 0 when it is forged, damaged or older than 2 minutes
   * (check_tcp_syn_cookie). `seq` and `cookie` are the ACK's SEG.SEQ - 1 and SEG.ACK - 1.
   */
  check(now: number, flow: CookieFlow, seq: number, cookie: number): number {
    const count = minute(now);
    const rest = (cookie - this.hash(0, flow, 0) - seq) >>> 0;
    const age = (count - (rest >>> COOKIEBITS)) & ((1 << (32 - COOKIEBITS)) - 1);
    if (age >= MAX_SYNCOOKIE_AGE) return 0;
    const index = ((rest - this.hash(1, flow, count - age)) >>> 0) & COOKIEMASK;
    const table = flow.dst.version === 4 ? MSSTAB_V4 : MSSTAB_V6;
    return table[index] ?? 0;
  }

  /**
   * The TSval offset of a connection from `local` to `remote`: a keyed hash of the addresses
   * and ports, as Linux's secure_tcp_seq_and_ts_off takes it from the hash of the ISN (7.0, and
   * the 6.18 and 6.12 stable kernels; before, secure_tcp_ts_off hashed the addresses alone, and
   * SYN cookies leaked source ports through it). Without state, so a cookie ACK's echo can be
   * read back; the same for each connection of the same addresses and ports, whose TSvals so go
   * on increasing (which lets a peer's TIME_WAIT take a new SYN for them: see
   * TcpTimeWait.synIsn).
   */
  tsOffset(local: IpEndpoint, remote: IpEndpoint): number {
    return keyedHash(this.keys[4]!, this.keys[5]!, [
      ...addressWords(local.addr),
      ...addressWords(remote.addr),
      ((local.port << 16) | remote.port) >>> 0,
    ]);
  }

  /**
   * The ISN of a new connection from `local` to `remote` at `now` (the poll clock, ms): Linux's
   * secure_tcp_seq (RFC 6528), a keyed hash of the addresses and ports plus a clock of 64 ns
   * ticks. A later connection of the same addresses and ports starts after the sequence numbers
   * of an earlier one (unless that one sent 2^32 bytes in 274 s), so that a TIME_WAIT the peer
   * still holds takes its SYN as a new connection.
   */
  isn(now: number, local: IpEndpoint, remote: IpEndpoint): number {
    const hash = keyedHash(this.keys[6]!, this.keys[7]!, [
      ...addressWords(local.addr),
      ...addressWords(remote.addr),
      ((local.port << 16) | remote.port) >>> 0,
    ]);
    return (hash + Math.floor(now * ISN_TICKS_PER_MS)) >>> 0;
  }
}

/** tcp_cookie_time: the minute counter (8 bits of it land in the cookie). */
function minute(now: number): number {
  return Math.floor(now / SYNCOOKIE_PERIOD) >>> 0;
}

/**
 * cookie_init_timestamp: our clock `tsNow` (ms, before the offset) rounded down to 64 ms, with
 * the options in its low 6 bits, never ahead of the clock.
 */
export function cookieTimestamp(tsNow: number, options: CookieOptions): number {
  let bits = options.windowScale === undefined ? TS_OPT_WSCALE_MASK : Math.min(options.windowScale, 14);
  if (options.sack) bits |= TS_OPT_SACK;
  if (options.ecn) bits |= TS_OPT_ECN;
  const now = tsNow >>> 0;
  let ts = (((now >>> TSBITS) << TSBITS) | bits) >>> 0;
  if (ts > now) ts = (ts - (1 << TSBITS)) >>> 0;
  return ts;
}

/** The options in a cookie timestamp echoed back (our TSval less its offset). */
export function cookieTimestampOptions(tsEcr: number): CookieOptions {
  const wscale = tsEcr & TS_OPT_WSCALE_MASK;
  return {
    windowScale: wscale === TS_OPT_WSCALE_MASK ? undefined : wscale,
    sack: (tsEcr & TS_OPT_SACK) !== 0,
    ecn: (tsEcr & TS_OPT_ECN) !== 0,
  };
}

const perEnv = new WeakMap<object, SynCookies>();

/** The cookie secret of a stack (`env`), made from its random source on first use. */
export function synCookiesOf(env: { random(): number }): SynCookies {
  let c = perEnv.get(env);
  if (!c) {
    c = new SynCookies(() => env.random());
    perEnv.set(env, c);
  }
  return c;
}
