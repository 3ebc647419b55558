/**
 * ARP (RFC 826) for IPv4 over Ethernet, the only combination in use; other hardware or
 * protocol types parse as Unsupported.
 *
 * @module
 */
import { get16, set16 } from './bytes.js';
import { EthernetAddress } from './ethernet.js';
import { WireError } from './error.js';
import { Ipv4Address } from './ip-address.js';

/** ARP operations. */
export const ArpOperation = { REQUEST: 1, REPLY: 2 } as const;

const F = {
  HTYPE: 0,
  PTYPE: 2,
  HLEN: 4,
  PLEN: 5,
  OPER: 6,
  SHA: 8,
  SPA: 14,
  THA: 18,
  TPA: 24,
  END: 28,
} as const;

/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_PACKET_LEN = F.END;

/** A zero-copy view of an ARP packet. */
export class ArpPacket {
  private constructor(readonly buffer: Uint8Array) {}

  /** Wraps untrusted bytes: checks the fixed header and the declared address lengths. */
  static checked(buffer: Uint8Array): ArpPacket | WireError {
    if (buffer.length < 8) return WireError.Truncated;
    const p = new ArpPacket(buffer);
    if (buffer.length < 8 + 2 * (p.hardwareLen + p.protocolLen)) return WireError.Truncated;
    return p;
  }
  /** Wraps a buffer of at least {@link ARP_PACKET_LEN} bytes, for emitting. */
  static unchecked(buffer: Uint8Array): ArpPacket {
    return new ArpPacket(buffer);
  }

  get hardwareType(): number {
    return get16(this.buffer, F.HTYPE);
  }
  get protocolType(): number {
    return get16(this.buffer, F.PTYPE);
  }
  get hardwareLen(): number {
    return this.buffer[F.HLEN]!;
  }
  get protocolLen(): number {
    return this.buffer[F.PLEN]!;
  }
  get operation(): number {
    return get16(this.buffer, F.OPER);
  }
  /** Sets the fixed Ethernet/IPv4 header fields and the operation. */
  setHeader(operation: number): void {
    set16(this.buffer, F.HTYPE, 1);
    set16(this.buffer, F.PTYPE, 0x0800);
    this.buffer[F.HLEN] = 6;
    this.buffer[F.PLEN] = 4;
    set16(this.buffer, F.OPER, operation);
  }
  get senderHardwareAddr(): EthernetAddress {
    return new EthernetAddress(this.buffer.subarray(F.SHA, F.SHA + 6));
  }
  get senderProtocolAddr(): Ipv4Address {
    return new Ipv4Address(this.buffer.subarray(F.SPA, F.SPA + 4));
  }
  get targetHardwareAddr(): EthernetAddress {
    return new EthernetAddress(this.buffer.subarray(F.THA, F.THA + 6));
  }
  get targetProtocolAddr(): Ipv4Address {
    return new Ipv4Address(this.buffer.subarray(F.TPA, F.TPA + 4));
  }
  /** Writes the four addresses. */
  setAddresses(sha: EthernetAddress, spa: Ipv4Address, tha: EthernetAddress, tpa: Ipv4Address): void {
    this.buffer.set(sha.bytes, F.SHA);
    this.buffer.set(spa.bytes, F.SPA);
    this.buffer.set(tha.bytes, F.THA);
    this.buffer.set(tpa.bytes, F.TPA);
  }
}

/** An Ethernet/IPv4 ARP request or reply. */
export interface ArpRepr {
  readonly operation: (typeof ArpOperation)[keyof typeof ArpOperation];
  readonly sourceHardwareAddr: EthernetAddress;
  readonly sourceProtocolAddr: Ipv4Address;
  readonly targetHardwareAddr: EthernetAddress;
  readonly targetProtocolAddr: Ipv4Address;
}

/** parse / bufferLen / emit for {@link ArpRepr}. */
export const ArpRepr = {
  /** Validates a checked packet; only Ethernet/IPv4 requests and replies are accepted. */
  parse(p: ArpPacket): ArpRepr | WireError {
    if (p.hardwareType !== 1 || p.protocolType !== 0x0800 || p.hardwareLen !== 6 || p.protocolLen !== 4)
      return WireError.Unsupported;
    const op = p.operation;
    if (op !== ArpOperation.REQUEST && op !== ArpOperation.REPLY) return WireError.Unsupported;
    return {
      operation: op,
      sourceHardwareAddr: p.senderHardwareAddr,
      sourceProtocolAddr: p.senderProtocolAddr,
      targetHardwareAddr: p.targetHardwareAddr,
      targetProtocolAddr: p.targetProtocolAddr,
    };
  },
  bufferLen(_repr: ArpRepr): number {
    return ARP_PACKET_LEN;
  },
  emit(repr: ArpRepr, p: ArpPacket): void {
    p.setHeader(repr.operation);
    p.setAddresses(
      repr.sourceHardwareAddr,
      repr.sourceProtocolAddr,
      repr.targetHardwareAddr,
      repr.targetProtocolAddr,
    );
  },
};
