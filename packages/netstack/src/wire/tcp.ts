/**
 * TCP segments (RFC 9293 §3.1) with the options this stack speaks: MSS (RFC 9293), window
 * scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018). Unknown options are
 * skipped by their length; a malformed option list rejects the segment.
 *
 * Sequence numbers are u32 held in JS numbers; compare them only with {@link seqLt} and
 * friends, which wrap modulo 2^32.
 *
 * @module
 */
import { get16, get32, set16, set32 } from './bytes.js';
import { checksumVerifies, internetChecksum, pseudoHeaderSum } from './checksum.js';
import { WireError } from './error.js';
import type { IpAddress } from './ip-address.js';
import { IpProtocol } from './ipv4.js';

/** TCP header flag bits. */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** TCP option kinds. */
export const TcpOptionKind = {
  END: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const;

const F = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  OFFSET: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;

/** Length of a TCP header without options. */
export const TCP_HEADER_LEN = F.OPTIONS;
/** Largest header (data offset 15). */
export const TCP_MAX_HEADER_LEN = 60;

/** a + n modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
/** The signed distance b - a modulo 2^32 (positive when b is after a). */
export function seqDiff(b: number, a: number): number {
  return (b - a) | 0;
}
/** a is before b modulo 2^32 (seqDiff written out: these run several times per segment). */
export function seqLt(a: number, b: number): boolean {
  return ((b - a) | 0) > 0;
}
/** a is before or equal to b modulo 2^32. */
export function seqLe(a: number, b: number): boolean {
  return ((b - a) | 0) >= 0;
}

/**
 * RFC 9293 §3.10.7.4's acceptability test of a segment `segLen` long (SYN and FIN count) that
 * starts `off` after RCV.NXT, against a receive window of `wnd`.
 */
export function segmentAcceptable(off: number, segLen: number, wnd: number): boolean {
  if (segLen === 0) return wnd === 0 ? off === 0 : off >= 0 && off < wnd;
  if (wnd === 0) return false;
  const lastOff = off + segLen - 1;
  return (off >= 0 && off < wnd) || (lastOff >= 0 && lastOff < wnd);
}

/** A zero-copy view of a TCP segment. */
export class TcpPacket {
  private constructor(readonly buffer: Uint8Array) {}
  /** Wraps untrusted bytes (the whole IP payload): data offset >= 5 and the header fits. */
  static checked(buffer: Uint8Array): TcpPacket | WireError {
    if (buffer.length < F.OPTIONS) return WireError.Truncated;
    const p = new TcpPacket(buffer);
    if (p.headerLen < F.OPTIONS) return WireError.Malformed;
    if (p.headerLen > buffer.length) return WireError.Truncated;
    return p;
  }
  /** Wraps a buffer the caller sized, for emitting. */
  static unchecked(buffer: Uint8Array): TcpPacket {
    return new TcpPacket(buffer);
  }
  get srcPort(): number {
    return get16(this.buffer, F.SRC_PORT);
  }
  get dstPort(): number {
    return get16(this.buffer, F.DST_PORT);
  }
  get seqNumber(): number {
    return get32(this.buffer, F.SEQ);
  }
  get ackNumber(): number {
    return get32(this.buffer, F.ACK);
  }
  /** Header length in bytes (data offset * 4). */
  get headerLen(): number {
    return (this.buffer[F.OFFSET]! >>> 4) * 4;
  }
  get flags(): number {
    return this.buffer[F.FLAGS]!;
  }
  get windowLen(): number {
    return get16(this.buffer, F.WINDOW);
  }
  get checksum(): number {
    return get16(this.buffer, F.CHECKSUM);
  }
  get urgentPointer(): number {
    return get16(this.buffer, F.URGENT);
  }
  get options(): Uint8Array {
    return this.buffer.subarray(F.OPTIONS, this.headerLen);
  }
  get payload(): Uint8Array {
    return this.buffer.subarray(this.headerLen);
  }
  verifyChecksum(src: IpAddress, dst: IpAddress): boolean {
    const len = this.buffer.length;
    return checksumVerifies(this.buffer, 0, len, pseudoHeaderSum(src, dst, IpProtocol.TCP, len));
  }
}

/** A SACK block: [left, right) in sequence space. */
export type SackBlock = readonly [left: number, right: number];

/** A TCP segment as this stack reads and writes it. */
export interface TcpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seqNumber: number;
  /** Present exactly when the ACK flag is set. */
  readonly ackNumber: number | undefined;
  /** Flag bits other than ACK (ACK follows from `ackNumber`). */
  readonly flags: number;
  /** The window field as sent (not scaled). */
  readonly windowLen: number;
  readonly maxSegSize?: number | undefined;
  readonly windowScale?: number | undefined;
  readonly sackPermitted?: boolean | undefined;
  readonly sackBlocks?: readonly SackBlock[] | undefined;
  readonly timestamp?: { readonly tsVal: number; readonly tsEcr: number } | undefined;
  /**
   * The urgent pointer, present exactly when the URG flag is set: urgent data ends this many
   * bytes after the segment's sequence number (RFC 9293's field; Linux and BSD point one past
   * the urgent byte).
   */
  readonly urgentPointer?: number | undefined;
  readonly payload: Uint8Array;
}

/** The sequence space a segment occupies: payload plus one for SYN and one for FIN. */
export function tcpSegmentLen(repr: TcpRepr): number {
  return repr.payload.length + (repr.flags & TcpFlag.SYN ? 1 : 0) + (repr.flags & TcpFlag.FIN ? 1 : 0);
}

interface ParsedOptions {
  maxSegSize?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sackBlocks?: SackBlock[];
  timestamp?: { tsVal: number; tsEcr: number };
}

function parseOptions(o: Uint8Array): ParsedOptions | WireError {
  const out: ParsedOptions = {};
  let i = 0;
  while (i < o.length) {
    const kind = o[i]!;
    if (kind === TcpOptionKind.END) break;
    if (kind === TcpOptionKind.NOP) {
      i++;
      continue;
    }
    if (i + 1 >= o.length) return WireError.Malformed;
    const len = o[i + 1]!;
    if (len < 2 || i + len > o.length) return WireError.Malformed;
    switch (kind) {
      case TcpOptionKind.MSS:
        if (len !== 4) return WireError.Malformed;
        out.maxSegSize = get16(o, i + 2);
        break;
      case TcpOptionKind.WINDOW_SCALE:
        if (len !== 3) return WireError.Malformed;
        // RFC 7323 §2.3: a shift above 14 is treated as 14.
        out.windowScale = Math.min(o[i + 2]!, 14);
        break;
      case TcpOptionKind.SACK_PERMITTED:
        if (len !== 2) return WireError.Malformed;
        out.sackPermitted = true;
        break;
      case TcpOptionKind.SACK: {
        if ((len - 2) % 8 !== 0 || len === 2) return WireError.Malformed;
        const blocks: SackBlock[] = [];
        for (let j = i + 2; j < i + len; j += 8) blocks.push([get32(o, j), get32(o, j + 4)]);
        out.sackBlocks = blocks;
        break;
      }
      case TcpOptionKind.TIMESTAMPS:
        if (len !== 10) return WireError.Malformed;
        out.timestamp = { tsVal: get32(o, i + 2), tsEcr: get32(o, i + 6) };
        break;
      default:
        break; // unknown options are skipped by length
    }
    i += len;
  }
  return out;
}

/**
 * Bytes of the options other than SACK blocks, laid out as Linux writes them (tcp_options_write):
 * MSS; the timestamps behind SACK-permitted when both are sent (the pair fills 12 bytes, where
 * NOP NOP + 2 and NOP NOP + 10 would take 16), else behind NOP NOP, or SACK-permitted alone
 * behind NOP NOP; then NOP + window scale. A SYN with all four takes 20 bytes, as Linux's.
 */
export function fixedOptionsLen(repr: TcpRepr): number {
  let len = 0;
  if (repr.maxSegSize !== undefined) len += 4;
  if (repr.timestamp)
    len += 12; // (SACK-permitted or NOP NOP) + 10
  else if (repr.sackPermitted) len += 4; // NOP NOP + 2
  if (repr.windowScale !== undefined) len += 4; // NOP + 3
  return len;
}

/** How many of the SACK blocks fit after `fixedLen` bytes of the other options. */
function sackCountAfter(repr: TcpRepr, fixedLen: number): number {
  const blocks = repr.sackBlocks;
  if (!blocks || blocks.length === 0) return 0;
  return Math.min(blocks.length, Math.floor((40 - fixedLen - 4) / 8));
}

/** The options' length before padding (no object made: this runs for every segment sent). */
function optionsLen(repr: TcpRepr): number {
  const len = fixedOptionsLen(repr);
  const sackCount = repr.sackBlocks ? sackCountAfter(repr, len) : 0;
  return sackCount > 0 ? len + 4 + 8 * sackCount : len; // NOP NOP + 2 + 8n
}

/** parse / bufferLen / emit for {@link TcpRepr}. */
export const TcpRepr = {
  /** Validates a checked segment: ports non-zero, checksum, well-formed options. */
  parse(p: TcpPacket, src: IpAddress, dst: IpAddress, verifyChecksum = true): TcpRepr | WireError {
    if (p.srcPort === 0 || p.dstPort === 0) return WireError.Malformed;
    if (verifyChecksum && !p.verifyChecksum(src, dst)) return WireError.Checksum;
    const opts = parseOptions(p.options);
    if (opts instanceof WireError) return opts;
    const flags = p.flags;
    return {
      srcPort: p.srcPort,
      dstPort: p.dstPort,
      seqNumber: p.seqNumber,
      ackNumber: flags & TcpFlag.ACK ? p.ackNumber : undefined,
      flags: flags & ~TcpFlag.ACK & 0xff,
      windowLen: p.windowLen,
      maxSegSize: opts.maxSegSize,
      windowScale: opts.windowScale,
      sackPermitted: opts.sackPermitted,
      sackBlocks: opts.sackBlocks,
      timestamp: opts.timestamp,
      urgentPointer: flags & TcpFlag.URG ? p.urgentPointer : undefined,
      payload: p.payload,
    };
  },
  /** Header length (with padded options) of the emitted segment. */
  headerLen(repr: TcpRepr): number {
    return F.OPTIONS + ((optionsLen(repr) + 3) & ~3);
  },
  /** Header plus payload. SACK blocks that do not fit the 40 option bytes are left out. */
  bufferLen(repr: TcpRepr): number {
    return F.OPTIONS + ((optionsLen(repr) + 3) & ~3) + repr.payload.length;
  },
  /**
   * Writes the segment and its checksum into a buffer of exactly `bufferLen(repr)` bytes. With
   * `checksum` false the checksum field stays zero: for a segment that never leaves the host
   * (Linux's loopback leaves it to "hardware" and marks the packet CHECKSUM_UNNECESSARY).
   */
  emit(repr: TcpRepr, p: TcpPacket, src: IpAddress, dst: IpAddress, checksum = true): void {
    const b = p.buffer;
    const hlen = TcpRepr.headerLen(repr);
    set16(b, F.SRC_PORT, repr.srcPort);
    set16(b, F.DST_PORT, repr.dstPort);
    set32(b, F.SEQ, repr.seqNumber);
    set32(b, F.ACK, repr.ackNumber ?? 0);
    b[F.OFFSET] = (hlen / 4) << 4;
    b[F.FLAGS] = (repr.flags & ~TcpFlag.ACK & 0xff) | (repr.ackNumber !== undefined ? TcpFlag.ACK : 0);
    set16(b, F.WINDOW, repr.windowLen);
    set16(b, F.CHECKSUM, 0);
    set16(b, F.URGENT, repr.flags & TcpFlag.URG ? (repr.urgentPointer ?? 0) : 0);
    let i: number = F.OPTIONS;
    const sackCount = sackCountAfter(repr, fixedOptionsLen(repr));
    if (repr.maxSegSize !== undefined) {
      b[i++] = TcpOptionKind.MSS;
      b[i++] = 4;
      set16(b, i, repr.maxSegSize);
      i += 2;
    }
    if (repr.timestamp) {
      if (repr.sackPermitted) {
        b[i++] = TcpOptionKind.SACK_PERMITTED;
        b[i++] = 2;
      } else {
        b[i++] = TcpOptionKind.NOP;
        b[i++] = TcpOptionKind.NOP;
      }
      b[i++] = TcpOptionKind.TIMESTAMPS;
      b[i++] = 10;
      set32(b, i, repr.timestamp.tsVal);
      set32(b, i + 4, repr.timestamp.tsEcr);
      i += 8;
    } else if (repr.sackPermitted) {
      b[i++] = TcpOptionKind.NOP;
      b[i++] = TcpOptionKind.NOP;
      b[i++] = TcpOptionKind.SACK_PERMITTED;
      b[i++] = 2;
    }
    if (repr.windowScale !== undefined) {
      b[i++] = TcpOptionKind.NOP;
      b[i++] = TcpOptionKind.WINDOW_SCALE;
      b[i++] = 3;
      b[i++] = repr.windowScale;
    }
    if (sackCount > 0) {
      b[i++] = TcpOptionKind.NOP;
      b[i++] = TcpOptionKind.NOP;
      b[i++] = TcpOptionKind.SACK;
      b[i++] = 2 + 8 * sackCount;
      for (let k = 0; k < sackCount; k++) {
        const [l, r] = repr.sackBlocks![k]!;
        set32(b, i, l);
        set32(b, i + 4, r);
        i += 8;
      }
    }
    while (i < hlen) b[i++] = TcpOptionKind.END;
    b.set(repr.payload, hlen);
    if (!checksum) return;
    const len = hlen + repr.payload.length;
    set16(b, F.CHECKSUM, internetChecksum(b, 0, len, pseudoHeaderSum(src, dst, IpProtocol.TCP, len)));
  },
};
