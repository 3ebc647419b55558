/**
 * Ethernet II frames (IEEE 802.3 with an EtherType; no VLAN tags, no 802.2 LLC).
 *
 * @module
 */
import { bytesEqual, get16, set16 } from './bytes.js';
import { WireError } from './error.js';

/** A 48-bit MAC address. */
export class EthernetAddress {
  /** The six bytes (treat as read-only). */
  readonly bytes: Uint8Array;
  /** @param bytes exactly 6 bytes; copied. */
  constructor(bytes: ArrayLike<number>) {
    if (bytes.length !== 6) throw new RangeError('EthernetAddress needs 6 bytes');
    this.bytes = Uint8Array.from(bytes);
  }
  /** ff:ff:ff:ff:ff:ff */
  static readonly BROADCAST = new EthernetAddress([255, 255, 255, 255, 255, 255]);
  /** 00:00:00:00:00:00 (the "unknown" target of an ARP request). */
  static readonly ZERO = new EthernetAddress([0, 0, 0, 0, 0, 0]);

  /** Parses `aa:bb:cc:dd:ee:ff`; undefined when invalid. */
  static parse(text: string): EthernetAddress | undefined {
    const parts = text.split(':');
    if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return undefined;
    return new EthernetAddress(parts.map((p) => parseInt(p, 16)));
  }
  equals(other: EthernetAddress): boolean {
    return bytesEqual(this.bytes, other.bytes);
  }
  isBroadcast(): boolean {
    return this.equals(EthernetAddress.BROADCAST);
  }
  /** Group bit set (includes broadcast). */
  isMulticast(): boolean {
    return (this.bytes[0]! & 1) !== 0;
  }
  /** A unicast address (not the zero address). */
  isUnicast(): boolean {
    return !this.isMulticast() && !this.equals(EthernetAddress.ZERO);
  }
  toString(): string {
    return Array.from(this.bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
  }
  /** The group address an IPv6 multicast address maps to: 33:33 + its low 32 bits (RFC 2464 §7). */
  static ipv6Multicast(group: { readonly bytes: Uint8Array }): EthernetAddress {
    const b = group.bytes;
    return new EthernetAddress([0x33, 0x33, b[12]!, b[13]!, b[14]!, b[15]!]);
  }
}

/** EtherType values this stack knows. */
export const EtherType = { IPV4: 0x0800, ARP: 0x0806, IPV6: 0x86dd } as const;

const F = { DST: 0, SRC: 6, ETHERTYPE: 12, PAYLOAD: 14 } as const;

/** Length of the Ethernet II header. */
export const ETHERNET_HEADER_LEN = F.PAYLOAD;

/** A zero-copy view of an Ethernet II frame. */
export class EthernetFrame {
  private constructor(readonly buffer: Uint8Array) {}

  /** Wraps untrusted bytes: checks that the header fits. */
  static checked(buffer: Uint8Array): EthernetFrame | WireError {
    return buffer.length < F.PAYLOAD ? WireError.Truncated : new EthernetFrame(buffer);
  }
  /** Wraps a buffer the caller sized (at least the header), for emitting. */
  static unchecked(buffer: Uint8Array): EthernetFrame {
    return new EthernetFrame(buffer);
  }

  get dst(): EthernetAddress {
    return new EthernetAddress(this.buffer.subarray(F.DST, F.DST + 6));
  }
  set dst(a: EthernetAddress) {
    this.buffer.set(a.bytes, F.DST);
  }
  get src(): EthernetAddress {
    return new EthernetAddress(this.buffer.subarray(F.SRC, F.SRC + 6));
  }
  set src(a: EthernetAddress) {
    this.buffer.set(a.bytes, F.SRC);
  }
  get ethertype(): number {
    return get16(this.buffer, F.ETHERTYPE);
  }
  set ethertype(v: number) {
    set16(this.buffer, F.ETHERTYPE, v);
  }
  /** The bytes after the header. */
  get payload(): Uint8Array {
    return this.buffer.subarray(F.PAYLOAD);
  }
}

/** The fields of an Ethernet II header. */
export interface EthernetRepr {
  readonly src: EthernetAddress;
  readonly dst: EthernetAddress;
  readonly ethertype: number;
}

/** parse / bufferLen / emit for {@link EthernetRepr}. */
export const EthernetRepr = {
  /** Reads the header of a checked frame. */
  parse(frame: EthernetFrame): EthernetRepr {
    return { src: frame.src, dst: frame.dst, ethertype: frame.ethertype };
  },
  /** The header length (the payload follows it). */
  bufferLen(_repr: EthernetRepr): number {
    return ETHERNET_HEADER_LEN;
  },
  /** Writes the header. */
  emit(repr: EthernetRepr, frame: EthernetFrame): void {
    frame.dst = repr.dst;
    frame.src = repr.src;
    frame.ethertype = repr.ethertype;
  },
};
