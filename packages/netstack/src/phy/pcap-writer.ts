/**
 * A device wrapper that records every frame it sends and receives in the classic libpcap file
 * format (the one tcpdump -r and tshark read): a 24-byte global header, then a 16-byte record
 * header per frame. Bytes go to a caller-supplied sink (a file stream, an array).
 *
 * @module
 */
import type { Device, DeviceCapabilities } from './device.js';

/** LINKTYPE_ETHERNET and LINKTYPE_RAW (bare IPv4/IPv6) from the tcpdump link-type registry. */
export const PcapLinkType = { ETHERNET: 1, RAW: 101 } as const;

const PCAP_MAGIC = 0xa1b2c3d4;

/** Where pcap bytes go. */
export type PcapSink = (chunk: Uint8Array) => void;

/**
 * Wraps a device and writes a pcap trace of its traffic.
 *
 * @example
 * ```ts
 * const chunks: Uint8Array[] = [];
 * const traced = new PcapWriter(new LoopbackDevice(), (c) => chunks.push(c));
 * ```
 */
export class PcapWriter implements Device {
  /** Frames recorded. */
  records = 0;

  constructor(
    readonly inner: Device,
    private readonly sink: PcapSink,
    private readonly snapLen = 65535,
  ) {
    const h = new Uint8Array(24);
    const v = new DataView(h.buffer);
    v.setUint32(0, PCAP_MAGIC, true); // little-endian file: readers detect byte order by the magic
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setInt32(8, 0, true); // thiszone
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, snapLen, true);
    v.setUint32(
      20,
      inner.capabilities.medium === 'ethernet' ? PcapLinkType.ETHERNET : PcapLinkType.RAW,
      true,
    );
    sink(h);
  }

  get capabilities(): DeviceCapabilities {
    return this.inner.capabilities;
  }

  receive(now: number): Uint8Array | undefined {
    const f = this.inner.receive(now);
    if (f) this.record(now, f);
    return f;
  }

  transmit(now: number, frame: Uint8Array): boolean {
    this.record(now, frame);
    return this.inner.transmit(now, frame);
  }

  pollAt(now: number): number | undefined {
    return this.inner.pollAt?.(now);
  }

  private record(now: number, frame: Uint8Array): void {
    const incl = Math.min(frame.length, this.snapLen);
    const rec = new Uint8Array(16 + incl);
    const v = new DataView(rec.buffer);
    const ms = Math.max(0, now);
    v.setUint32(0, Math.floor(ms / 1000), true);
    v.setUint32(4, Math.floor((ms % 1000) * 1000), true);
    v.setUint32(8, incl, true);
    v.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, incl), 16);
    this.records++;
    this.sink(rec);
  }
}
