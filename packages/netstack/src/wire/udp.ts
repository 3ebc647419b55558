/**
 * UDP datagrams (RFC 768), with the pseudo-header checksum for IPv4 and IPv6 (RFC 8200 §8.1:
 * mandatory over IPv6, optional over IPv4 where 0 means "none").
 *
 * @module
 */
import { get16, set16 } from './bytes.js';
import { checksumVerifies, internetChecksum, pseudoHeaderSum } from './checksum.js';
import { WireError } from './error.js';
import type { IpAddress } from './ip-address.js';
import { IpProtocol } from './ipv4.js';

const F = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6, PAYLOAD: 8 } as const;

/** Length of the UDP header. */
export const UDP_HEADER_LEN = F.PAYLOAD;

/** A zero-copy view of a UDP datagram. */
export class UdpPacket {
  private constructor(readonly buffer: Uint8Array) {}
  /** Wraps untrusted bytes: the header fits and 8 <= length field <= buffer length. */
  static checked(buffer: Uint8Array): UdpPacket | WireError {
    if (buffer.length < F.PAYLOAD) return WireError.Truncated;
    const p = new UdpPacket(buffer);
    if (p.length < F.PAYLOAD) return WireError.Malformed;
    if (p.length > buffer.length) return WireError.Truncated;
    return p;
  }
  /** Wraps a buffer the caller sized, for emitting. */
  static unchecked(buffer: Uint8Array): UdpPacket {
    return new UdpPacket(buffer);
  }
  get srcPort(): number {
    return get16(this.buffer, F.SRC_PORT);
  }
  get dstPort(): number {
    return get16(this.buffer, F.DST_PORT);
  }
  get length(): number {
    return get16(this.buffer, F.LENGTH);
  }
  get checksum(): number {
    return get16(this.buffer, F.CHECKSUM);
  }
  get payload(): Uint8Array {
    return this.buffer.subarray(F.PAYLOAD, this.length);
  }
  /** Verifies the checksum; an IPv4 datagram with checksum 0 carries none and passes. */
  verifyChecksum(src: IpAddress, dst: IpAddress): boolean {
    if (src.version === 4 && this.checksum === 0) return true;
    return checksumVerifies(
      this.buffer,
      0,
      this.length,
      pseudoHeaderSum(src, dst, IpProtocol.UDP, this.length),
    );
  }
}

/** A UDP datagram: ports and a payload view. */
export interface UdpRepr {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

/** parse / bufferLen / emit for {@link UdpRepr}. */
export const UdpRepr = {
  /**
   * Validates a checked datagram: checksum (with the pseudo-header of `src`/`dst`), IPv6
   * forbids checksum 0 (unless `zeroOk6`: RFC 6936, the receiving socket decides), destination
   * port 0 is invalid.
   */
  parse(
    p: UdpPacket,
    src: IpAddress,
    dst: IpAddress,
    verifyChecksum = true,
    zeroOk6 = false,
  ): UdpRepr | WireError {
    if (p.dstPort === 0) return WireError.Malformed;
    if (src.version === 6 && p.checksum === 0 && !zeroOk6) return WireError.Checksum;
    if (verifyChecksum && !p.verifyChecksum(src, dst)) return WireError.Checksum;
    return { srcPort: p.srcPort, dstPort: p.dstPort, payload: p.payload };
  },
  bufferLen(repr: UdpRepr): number {
    return F.PAYLOAD + repr.payload.length;
  },
  /** Writes header, payload and checksum (0 computed becomes 0xffff, RFC 768). */
  emit(repr: UdpRepr, p: UdpPacket, src: IpAddress, dst: IpAddress): void {
    const b = p.buffer;
    const len = F.PAYLOAD + repr.payload.length;
    set16(b, F.SRC_PORT, repr.srcPort);
    set16(b, F.DST_PORT, repr.dstPort);
    set16(b, F.LENGTH, len);
    set16(b, F.CHECKSUM, 0);
    b.set(repr.payload, F.PAYLOAD);
    const sum = internetChecksum(b, 0, len, pseudoHeaderSum(src, dst, IpProtocol.UDP, len));
    set16(b, F.CHECKSUM, sum === 0 ? 0xffff : sum);
  },
};

/** A UDP-Lite datagram (RFC 3828): a UDP datagram whose checksum covers its first `coverage` bytes. */
export interface UdpLiteRepr extends UdpRepr {
  /** Checksum coverage in bytes from the header's start; 0 means the whole datagram. */
  readonly coverage: number;
}

/**
 * parse / bufferLen / emit for {@link UdpLiteRepr}. The header is UDP's with the length field
 * holding the checksum coverage (the length comes from the IP layer); the checksum is mandatory
 * and its pseudo-header carries protocol 136 and the full length.
 */
export const UdpLiteRepr = {
  /** Validates a whole UDP-Lite datagram (`buffer` is the IP payload). */
  parse(buffer: Uint8Array, src: IpAddress, dst: IpAddress, verifyChecksum = true): UdpLiteRepr | WireError {
    if (buffer.length < F.PAYLOAD) return WireError.Truncated;
    const coverage = get16(buffer, F.LENGTH);
    // RFC 3828 §3.1: a coverage below the header or beyond the datagram is discarded.
    if (coverage !== 0 && (coverage < F.PAYLOAD || coverage > buffer.length)) return WireError.Malformed;
    if (get16(buffer, F.DST_PORT) === 0) return WireError.Malformed;
    if (get16(buffer, F.CHECKSUM) === 0) return WireError.Checksum;
    const covered = coverage === 0 ? buffer.length : coverage;
    const pseudo = pseudoHeaderSum(src, dst, IpProtocol.UDPLITE, buffer.length);
    if (verifyChecksum && !checksumVerifies(buffer, 0, covered, pseudo)) return WireError.Checksum;
    return {
      srcPort: get16(buffer, F.SRC_PORT),
      dstPort: get16(buffer, F.DST_PORT),
      payload: buffer.subarray(F.PAYLOAD),
      coverage,
    };
  },
  bufferLen(repr: UdpLiteRepr): number {
    return F.PAYLOAD + repr.payload.length;
  },
  /** Writes header, payload and the checksum over the covered bytes (a coverage past the end covers all). */
  emit(repr: UdpLiteRepr, b: Uint8Array, src: IpAddress, dst: IpAddress): void {
    const len = F.PAYLOAD + repr.payload.length;
    const coverage = repr.coverage === 0 || repr.coverage >= len ? 0 : repr.coverage;
    set16(b, F.SRC_PORT, repr.srcPort);
    set16(b, F.DST_PORT, repr.dstPort);
    set16(b, F.LENGTH, coverage);
    set16(b, F.CHECKSUM, 0);
    b.set(repr.payload, F.PAYLOAD);
    const sum = internetChecksum(
      b,
      0,
      coverage === 0 ? len : coverage,
      pseudoHeaderSum(src, dst, IpProtocol.UDPLITE, len),
    );
    set16(b, F.CHECKSUM, sum === 0 ? 0xffff : sum);
  },
};
