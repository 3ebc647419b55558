/**
 * Packet taps: what Linux's AF_PACKET sockets see of a link (dev_queue_xmit_nit on the way out,
 * __netif_receive_skb's ptype_all on the way in). The interface hands every frame it transmits
 * or receives to one {@link InterfaceTap} while one is set, with the link header Linux shows:
 * an Ethernet device's own header, on `lo` (ARPHRD_LOOPBACK) 14 bytes of zero MAC addresses and
 * the ethertype, none on a device with the IP medium that is not a loopback (a TUN, ARPHRD_NONE).
 *
 * Cost without a tap: the interface reads one field per packet. Looped TCP segments travel in
 * parsed form (see Interface.loopSegments): their bytes are built only while a tap is set.
 *
 * @module
 */
import type { Device } from '../phy/device.js';
import { EtherType, ETHERNET_HEADER_LEN } from '../wire/ethernet.js';

/** sll_pkttype: who a frame was for (include/uapi/linux/if_packet.h). */
export const PacketType = {
  /** To this host. */
  HOST: 0,
  /** To the link's broadcast address. */
  BROADCAST: 1,
  /** To a link-layer multicast group. */
  MULTICAST: 2,
  /** To another host (seen because the device delivers everything it gets). */
  OTHERHOST: 3,
  /** Sent by this host. */
  OUTGOING: 4,
} as const;

/** ARPHRD_* link types a tap reports (include/uapi/linux/if_arp.h). */
export const ArpHardware = {
  ETHER: 1,
  LOOPBACK: 772,
  /** A device without a link header (TUN). */
  NONE: 0xfffe,
} as const;

/** One frame a link carried, as a {@link PacketTap} gets it. */
export interface TappedFrame {
  /** The link's ifindex (`lo` is 1). */
  readonly ifindex: number;
  /** One of {@link PacketType}. */
  readonly pktType: number;
  /** The link's ARPHRD_* type (see {@link ArpHardware}). */
  readonly hatype: number;
  /**
   * The frame from its link header (`linkLen` bytes, 0 or 14) to its end. Valid only during
   * the call: a tap that keeps bytes copies them.
   */
  readonly bytes: Uint8Array;
  readonly linkLen: number;
  /** The ethertype (skb->protocol) as a host number: ETH_P_IP 0x0800, ETH_P_IPV6 0x86dd, ... */
  readonly protocol: number;
  /**
   * Whoever injected the frame with Stack.injectFrame, on its outgoing copy only: Linux does
   * not hand a packet socket its own sends (skb_loop_sk), but does hand it what lo receives.
   */
  readonly origin: object | undefined;
}

/** A listener for every frame of every link of a stack (see Stack.addPacketTap). */
export type PacketTap = (frame: TappedFrame) => void;

/**
 * What an Interface calls per frame while a tap is set: `lo` true for the loopback link (the
 * loopback device, or this host's packets to itself beside another device), `bytes` with its
 * link header of `linkLen` bytes.
 */
export interface InterfaceTap {
  /**
   * `protocol`: the sender's (skb->protocol of a packet socket's frame) when the link header
   * cannot tell it, else read from the header ({@link frameProtocol}).
   */
  frame(
    lo: boolean,
    pktType: number,
    bytes: Uint8Array,
    linkLen: number,
    origin?: object,
    protocol?: number,
  ): void;
}

/** `ip` (an IPv4 or IPv6 packet) behind lo's link header: zero addresses and the ethertype. */
export function withLoopbackHeader(ip: Uint8Array): Uint8Array {
  const out = new Uint8Array(ETHERNET_HEADER_LEN + ip.length);
  const type = ip.length > 0 && ip[0]! >>> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4;
  out[12] = (type as number) >>> 8;
  out[13] = (type as number) & 0xff;
  out.set(ip, ETHERNET_HEADER_LEN);
  return out;
}

/**
 * The packet type eth_type_trans gives an Ethernet frame arriving at a device whose address is
 * `own`: HOST for it; for a group address BROADCAST when it is the device's `broadcast` address
 * (ff:ff:ff:ff:ff:ff on Ethernet; lo's is all zeros, so there every group frame is MULTICAST),
 * else MULTICAST; else OTHERHOST.
 */
export function ethernetPacketType(
  frame: Uint8Array,
  own: Uint8Array | undefined,
  broadcast: Uint8Array = ETHERNET_BROADCAST,
): number {
  if (frame.length < 6) return PacketType.OTHERHOST;
  if (own !== undefined && sameMac(frame, own)) return PacketType.HOST;
  if (frame[0]! & 1) return sameMac(frame, broadcast) ? PacketType.BROADCAST : PacketType.MULTICAST;
  return PacketType.OTHERHOST;
}

const ETHERNET_BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** Below this, an Ethernet header's type field is the length of an 802.3 frame. */
export const ETH_P_802_3_MIN = 0x600;
/** The protocols of 802.3 frames: raw (Novell IPX) and with an 802.2 LLC header. */
export const ETH_P_802_3 = 0x0001;
export const ETH_P_802_2 = 0x0004;

/** Whether the 6 bytes at the start of `frame` are `mac`. */
function sameMac(frame: Uint8Array, mac: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (frame[i] !== mac[i]) return false;
  return true;
}

/**
 * Hands `tap` a frame `device` transmits (`out`) or received: an Ethernet device's frame as it
 * is, a loopback device's IP packet behind lo's header, a TUN-like device's packet bare.
 */
export function tapDeviceFrame(
  tap: InterfaceTap,
  device: Device,
  frame: Uint8Array,
  out: boolean,
  own: Uint8Array | undefined,
): void {
  const caps = device.capabilities;
  if (caps.medium === 'ethernet') {
    tap.frame(false, out ? PacketType.OUTGOING : ethernetPacketType(frame, own), frame, ETHERNET_HEADER_LEN);
  } else if (caps.loopback === true) {
    tap.frame(
      true,
      out ? PacketType.OUTGOING : PacketType.HOST,
      withLoopbackHeader(frame),
      ETHERNET_HEADER_LEN,
    );
  } else {
    tap.frame(false, out ? PacketType.OUTGOING : PacketType.HOST, frame, 0);
  }
}

/**
 * The protocol of a frame with a `linkLen`-byte link header, as eth_type_trans reads it: the
 * ethertype, or for an 802.3 length field ETH_P_802_3 when the payload starts with 0xffff (raw
 * IPX) and ETH_P_802_2 otherwise; from the IP version without a header.
 */
export function frameProtocol(bytes: Uint8Array, linkLen: number): number {
  if (linkLen >= ETHERNET_HEADER_LEN) {
    const type = (bytes[12]! << 8) | bytes[13]!;
    if (type >= ETH_P_802_3_MIN) return type;
    return bytes[14] === 0xff && bytes[15] === 0xff ? ETH_P_802_3 : ETH_P_802_2;
  }
  if (bytes.length === 0) return 0;
  return bytes[0]! >>> 4 === 6 ? EtherType.IPV6 : EtherType.IPV4;
}
