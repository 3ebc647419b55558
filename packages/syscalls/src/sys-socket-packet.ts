/**
 * AF_PACKET sockets (Linux's net/packet/af_packet.c) over the sandbox's netstack: a packet
 * socket sees the frames of the sandbox's links through netstack's packet taps
 * (Stack.addPacketTap), with the link header Linux shows (lo's 14 bytes of zero addresses), and
 * sends frames with Stack.injectFrame (on lo the stack receives them).
 *
 * Covered: SOCK_RAW and SOCK_DGRAM (link header stripped on receive, built on send), the
 * protocol of socket(2) and bind(2) (ETH_P_ALL sees every frame both ways; another ethertype
 * only the received ones, as ptype_base hooks do), CAP_NET_RAW, bind/getsockname with
 * sockaddr_ll, recvfrom/recvmsg with sockaddr_ll, MSG_TRUNC/MSG_PEEK/MSG_DONTWAIT, SO_RCVTIMEO,
 * sendto/sendmsg, SO_RCVBUF with drops counted in PACKET_STATISTICS, memberships,
 * PACKET_AUXDATA, PACKET_IGNORE_OUTGOING, PACKET_VERSION/HDRLEN/RESERVE, classic BPF filters,
 * SO_BINDTODEVICE (kept, as Linux's packet sockets do not use it to receive), poll/epoll,
 * FIONREAD, SIOCGSTAMP(NS) and the interface ioctls, PACKET_RX_RING and PACKET_TX_RING (see
 * sys-socket-packet-ring.ts; send(2) with a TX ring sends its frames, tpacket_snd) and
 * PACKET_FANOUT (sys-socket-packet-fanout.ts). Not covered: SOCK_PACKET (ESOCKTNOSUPPORT),
 * PACKET_VNET_HDR (ENOPROTOOPT).
 *
 * @module
 */
import type { ProcPacketSocket } from '@tsvisor/procfs';
import {
  AddressFamily,
  Capability,
  CmsgWriter,
  E,
  MsgFlag,
  SockType,
  SocketLevel,
  SocketOption,
  isError,
  msghdr,
  type LinuxError,
  OpenFlag,
} from '@tsvisor/abi';
import {
  MAX_RW_COUNT,
  Waiter,
  capable,
  isControl,
  type ControlResult,
  type Kernel,
  type Task,
} from '@tsvisor/kernel';
import {
  ArpHardware,
  ETH_P_802_2,
  ETH_P_802_3,
  frameTruesize,
  PacketType,
  SocketFilter,
  type Stack,
  type TappedFrame,
} from '@tsvisor/netstack';
import type { FileDescription } from '@tsvisor/vfs';
import { FileDescriptionImpl, WOULD_BLOCK, WaitQueue, type WouldBlock } from '@tsvisor/vfs';
import {
  getFilterOption,
  isFilterGetOption,
  isFilterSetOption,
  setFilterOption,
} from './socket-filter-options.js';
import {
  deadlineOf,
  encodeTimeout,
  isTimeoutOption,
  isReceiveTimeout,
  parseTimeout,
  sockIntrErrno,
  timeoutsOf,
  type TimeoutNs,
} from './socket-timeout.js';
import type { SizedMmapSource } from './sys-mm.js';
import { interfaceIoctl, type LinkInfo } from './sys-netlink.js';
import { netOf, newSocketInode, type NetState } from './sys-socket-file.js';
import {
  FanoutRegistry,
  ROOM_POW_OFF,
  Room,
  fanoutAdd,
  fanoutSetData,
  rolloverStats,
  runFrameFilter,
  type FanoutGroup,
  type FanoutMember,
  type Rollover,
} from './sys-socket-packet-fanout.js';
import {
  setRing,
  type PacketRing,
  type RingHost,
  type RingMemory,
  type TxRing,
} from './sys-socket-packet-ring.js';
import { int, ptr, size, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';
import { fileAt } from './vfs-context.js';
import {
  layerFamily,
  perMessage,
  readAddr,
  writeAddr,
  type LayerHandler,
  installSocketFile,
  socketFile,
  readMsghdr,
} from './socket-layer.js';

/** Ethertypes (include/uapi/linux/if_ether.h). */
export const ETH_P_ALL = 0x0003;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const SOCK_MAX = 11;
const FLAG_BITS = SockType.SOCK_NONBLOCK | SockType.SOCK_CLOEXEC;
/** sizeof(struct sockaddr_ll) and offsetof(struct sockaddr_ll, sll_addr). */
export const SOCKADDR_LL_LEN = 20;
const SLL_ADDR_OFF = 12;
/** VLAN_HLEN: packet_snd lets a frame exceed the MTU by a VLAN tag. */
const VLAN_HLEN = 4;
/** TPACKET_ALIGN(sizeof the V1, V2, V3 frame header): where a TX frame's data starts. */
const TPACKET_HDR_ALIGNED = [32, 32, 48] as const;

/** SOL_PACKET option names (include/uapi/linux/if_packet.h). */
export const PacketOption = {
  PACKET_ADD_MEMBERSHIP: 1,
  PACKET_DROP_MEMBERSHIP: 2,
  PACKET_RX_RING: 5,
  PACKET_STATISTICS: 6,
  PACKET_COPY_THRESH: 7,
  PACKET_AUXDATA: 8,
  PACKET_ORIGDEV: 9,
  PACKET_VERSION: 10,
  PACKET_HDRLEN: 11,
  PACKET_RESERVE: 12,
  PACKET_TX_RING: 13,
  PACKET_LOSS: 14,
  PACKET_VNET_HDR: 15,
  PACKET_TIMESTAMP: 17,
  PACKET_FANOUT: 18,
  PACKET_TX_HAS_OFF: 19,
  PACKET_QDISC_BYPASS: 20,
  PACKET_ROLLOVER_STATS: 21,
  PACKET_FANOUT_DATA: 22,
  PACKET_IGNORE_OUTGOING: 23,
} as const;
const PO = PacketOption;

/** tpacket_versions. */
export const TPACKET_V1 = 0;
export const TPACKET_V2 = 1;
export const TPACKET_V3 = 2;

/** tp_status bits of rings and auxdata. */
export const TpStatus = {
  KERNEL: 0,
  USER: 1 << 0,
  COPY: 1 << 1,
  LOSING: 1 << 2,
  CSUMNOTREADY: 1 << 3,
  VLAN_VALID: 1 << 4,
  BLK_TMO: 1 << 5,
  CSUM_VALID: 1 << 7,
} as const;

/** sizeof(struct packet_mreq) and of the kernel's packet_mreq_max (an 8-byte address then). */
const PACKET_MREQ_LEN = 16;
const PACKET_MREQ_MAX_LEN = 24;
/** sysctl net.core.rmem_default/wmem_default and rmem_max/wmem_max (all 212992). */
const SK_MEM_DEFAULT = 212992;
const SK_MEM_MAX = 212992;
const SOCK_MIN_RCVBUF = 2304;
const SOCK_MIN_SNDBUF = 4608;

const SIOCOUTQ = 0x5411;
const FIONREAD = 0x541b;
const SIOCGSTAMP = 0x8906;
const SIOCGSTAMPNS = 0x8907;
/** SIOCETHTOOL: the ethtool requests, on any socket. */
export const SIOCETHTOOL = 0x8946;
/** ETHTOOL_GET_TS_INFO and sizeof(struct ethtool_ts_info). */
const ETHTOOL_GET_TS_INFO = 0x41;
const ETHTOOL_TS_INFO_LEN = 44;
/** SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE: what a device without clocks offers. */
const SOFTWARE_TIMESTAMPING = 0x08 | 0x10;
const IFNAMSIZ = 16;

/** A frame waiting in a socket's receive queue (an skb with its sockaddr_ll in the cb). */
interface QueuedFrame {
  /** From skb->data (the link header for SOCK_RAW, the network header for SOCK_DGRAM), cut to the snap length. */
  readonly data: Uint8Array;
  /** Its length before the filter cut it (tp_len). */
  readonly origLen: number;
  /** The sockaddr_ll recvfrom reports. */
  readonly sll: Uint8Array;
  /** tpacket_auxdata's tp_status and tp_net. */
  readonly status: number;
  readonly net: number;
  readonly truesize: number;
  /** When it arrived (CLOCK_REALTIME, ns). */
  readonly stampNs: bigint;
}

/** A link as a packet socket names it: its ifindex, ARPHRD type, address, header length, MTU. */
interface PacketLink {
  readonly ifindex: number;
  readonly hatype: number;
  readonly linkLen: number;
  readonly address: Uint8Array;
  readonly mtu: number;
}

/** A PACKET_ADD_MEMBERSHIP entry (packet_mclist). */
interface Membership {
  readonly ifindex: number;
  readonly type: number;
  readonly alen: number;
  readonly addr: string;
  count: number;
}

/** The packet sockets of one sandbox and the one stack tap they share. */
class PacketDomain {
  /** The sockets that receive (their protocol is not 0). */
  readonly sockets = new Set<PacketSocket>();
  /** Every open socket, oldest first (/proc/net/packet). */
  readonly all = new Set<PacketSocket>();
  /** The PACKET_FANOUT groups. */
  readonly fanout = new FanoutRegistry();
  private off: (() => void) | undefined;
  constructor(
    readonly net: NetState,
    readonly kernel: Kernel,
  ) {}

  get stack(): Stack {
    return this.net.stack;
  }

  /** The links a packet socket can use: the stack's, with the names and MTUs rtnetlink shows. */
  links(): PacketLink[] {
    const infos = this.net.links();
    const out: PacketLink[] = [];
    for (const l of this.stack.packetLinks()) {
      const info = infos.find((i) => i.index === l.ifindex);
      if (!info) continue;
      out.push({
        ifindex: l.ifindex,
        hatype: l.hatype,
        linkLen: l.linkLen,
        address: info.address,
        mtu: info.mtu,
      });
    }
    return out;
  }

  link(ifindex: number): PacketLink | undefined {
    return this.links().find((l) => l.ifindex === ifindex);
  }

  /**
   * A socket starts (`on`) or stops receiving (register_prot_hook, unregister_prot_hook): the
   * stack is tapped while any socket receives; a fanout member joins or leaves its group's
   * running members.
   */
  hook(s: PacketSocket, on: boolean): void {
    const was = this.sockets.has(s);
    if (on) this.sockets.add(s);
    else this.sockets.delete(s);
    if (s.fanout && was !== on) {
      if (on) s.fanout.link(s);
      else s.fanout.unlink(s);
    }
    if (this.sockets.size > 0 && !this.off) this.off = this.stack.addPacketTap((f) => this.deliver(f));
    else if (this.sockets.size === 0 && this.off) {
      this.off();
      this.off = undefined;
    }
  }

  private deliver(f: TappedFrame): void {
    const stamp = this.kernel.time.realtimeNs();
    for (const s of this.sockets) if (!s.fanout) s.receive(f, stamp);
    for (const g of this.fanout.groups.values()) g.deliver(f, stamp);
  }
}

const domains = new WeakMap<NetState, PacketDomain>();

/** The sandbox's packet sockets as /proc/net/packet lists them, oldest first. */
export function packetSockets(net: NetState): ProcPacketSocket[] {
  const d = domains.get(net);
  return d ? [...d.all].map((s) => s.procEntry()) : [];
}

function domainOf(t: Task): PacketDomain {
  const net = netOf(t);
  let d = domains.get(net);
  if (!d) {
    d = new PacketDomain(net, t.kernel);
    domains.set(net, d);
  }
  return d;
}

/** A sockaddr_ll: family, protocol (big-endian), ifindex, hatype, pkttype, halen, address. */
function sockaddrLl(
  protocol: number,
  ifindex: number,
  hatype: number,
  pktType: number,
  addr: Uint8Array,
): Uint8Array {
  const b = new Uint8Array(SOCKADDR_LL_LEN);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AddressFamily.AF_PACKET, true);
  dv.setUint16(2, protocol, false);
  dv.setInt32(4, ifindex, true);
  dv.setUint16(8, hatype, true);
  b[10] = pktType;
  b[11] = Math.min(addr.length, 8);
  b.set(addr.subarray(0, 8), SLL_ADDR_OFF);
  return b;
}

/**
 * dev_hard_header for SOCK_DGRAM (eth_header): the first 14 bytes of `frame` get the destination
 * `dst` (the first 6 bytes of sll_addr, on lo as elsewhere), the link's own address and the
 * protocol, or for ETH_P_802_3 and ETH_P_802_2 the payload's length (an 802.3 frame). Without a
 * destination lo gets a zero one; another link cannot resolve one (EINVAL).
 */
function linkHeader(
  frame: Uint8Array,
  link: PacketLink,
  protocol: number,
  dst: Uint8Array | undefined,
): LinuxError | undefined {
  if (dst) frame.set(dst.subarray(0, 6), 0);
  else if (link.hatype !== ArpHardware.LOOPBACK) return E.EINVAL;
  frame.set(link.address.subarray(0, 6), 6);
  const type = protocol === ETH_P_802_3 || protocol === ETH_P_802_2 ? frame.length - link.linkLen : protocol;
  frame[12] = type >>> 8;
  frame[13] = type & 0xff;
  return undefined;
}

/** Whether Linux's lo leaves the transport checksum of this IP packet to be filled (CHECKSUM_PARTIAL). */
function checksumPartial(f: TappedFrame): boolean {
  const ip = f.bytes.subarray(f.linkLen);
  let proto: number | undefined;
  if (f.protocol === ETH_P_IP && ip.length >= 20) proto = ip[9];
  else if (f.protocol === ETH_P_IPV6 && ip.length >= 40) proto = ip[6];
  return proto === 6 || proto === 17;
}

/**
 * An AF_PACKET socket (struct packet_sock): its binding, receive queue, options and ring.
 */
export class PacketSocket implements FanoutMember {
  /** The ethertype it receives (po->num, as a host number); 0 receives nothing. */
  protocol: number;
  /** The link it is bound to; 0: every link. */
  ifindex = 0;
  rcvbuf = SK_MEM_DEFAULT;
  sndbuf = SK_MEM_DEFAULT;
  /** The truesize of the queued frames (sk_rmem_alloc). */
  private rmem = 0;
  private readonly queue: QueuedFrame[] = [];
  /** The socket file's inode number and its creator's fsuid (/proc/net/packet). */
  inode = 0;
  uid = 0;
  /** PACKET_STATISTICS: frames queued and frames dropped since the last read. */
  packets = 0;
  drops = 0;
  /** Frames dropped on a full receive queue since the socket was made (sk_drops). */
  private skDrops = 0;
  auxdata = false;
  origdev = false;
  ignoreOutgoing = false;
  version = TPACKET_V1;
  reserve = 0;
  loss = 0;
  copyThresh = 0;
  timestamp = 0;
  txHasOff = 0;
  qdiscBypass = 0;
  /** SO_BINDTODEVICE's ifindex (kept; a packet socket receives by its bind). */
  boundDevIf = 0;
  /** Other SOL_SOCKET integer options, kept and reported (SO_PRIORITY, SO_MARK, SO_REUSEADDR, ...). */
  readonly coreInts = new Map<number, number>();
  readonly memberships: Membership[] = [];
  readonly filter = new SocketFilter();
  /** The PACKET_RX_RING and PACKET_TX_RING, when set, and the memory they share. */
  ring: PacketRing | undefined;
  txRing: TxRing | undefined;
  ringMemory: RingMemory | undefined;
  /** When the last frame read was received (SIOCGSTAMP). */
  lastStampNs: bigint | undefined;
  /** The PACKET_FANOUT group it joined, its rollover state, and po->pressure. */
  fanout: FanoutGroup | undefined;
  rollover: Rollover | undefined;
  pressure = false;
  readonly waiters = new WaitQueue();
  private closed = false;

  constructor(
    readonly domain: PacketDomain,
    readonly type: number,
    protocol: number,
  ) {
    this.protocol = protocol;
    domain.all.add(this);
    if (protocol !== 0) domain.hook(this, true);
  }

  /** Its line of /proc/net/packet (packet_seq_show). */
  procEntry(): ProcPacketSocket {
    const running = this.domain.sockets.has(this);
    return {
      // Linux holds one more reference while the socket is hooked to the device taps.
      refCount: running ? 3 : 2,
      type: this.type,
      protocol: this.protocol,
      ifindex: this.ifindex,
      running,
      rmem: this.rmem,
      uid: this.uid,
      inode: this.inode,
    };
  }

  /** POLLIN while a frame (or a ring frame or block) waits; POLLOUT always (sock_writeable). */
  readiness(): number {
    this.clearPressure();
    const readable = this.ring ? this.ring.readable() : this.queue.length > 0;
    return (readable ? 0x41 : 0) | 0x304;
  }

  /** SO_MEMINFO (sk_get_meminfo): the receive memory and the drops; packet sends are not held. */
  memInfo(): Uint8Array {
    // rmem_alloc, rcvbuf, wmem_alloc, sndbuf, fwd_alloc, wmem_queued, optmem, backlog, drops
    const mem = [this.rmem, this.rcvbuf, 0, this.sndbuf, 0, 0, 0, 0, this.skDrops];
    return new Uint8Array(new Uint32Array(mem).buffer);
  }

  /** FIONREAD: the length of the next frame (0 without one). */
  inq(): number {
    return this.queue[0]?.data.length ?? 0;
  }

  /** The socket's own hook: one tapped frame, kept if it is for this socket. */
  receive(f: TappedFrame, stampNs: bigint): void {
    if (this.protocol === 0 || this.closed) return;
    const out = f.pktType === PacketType.OUTGOING;
    if (out) {
      // dev_queue_xmit_nit: only ETH_P_ALL hooks, not the sender itself, not when ignored.
      if (this.protocol !== ETH_P_ALL || f.origin === this || this.ignoreOutgoing) return;
    } else if (this.protocol !== ETH_P_ALL && this.protocol !== f.protocol) return;
    if (this.ifindex !== 0 && this.ifindex !== f.ifindex) return;
    this.rcv(f, stampNs);
  }

  /**
   * __packet_rcv_has_room: NORMAL with more than a quarter of the receive buffer (or of the
   * ring) free after `f`, LOW with some, else NONE.
   */
  room(f: TappedFrame | undefined): Room {
    if (this.ring) {
      if (this.ring.hasRoom(ROOM_POW_OFF)) return Room.NORMAL;
      return this.ring.hasRoom(0) ? Room.LOW : Room.NONE;
    }
    const avail = this.rcvbuf - this.rmem - (f ? frameTruesize(f.bytes, f.linkLen) : 0);
    if (avail > this.rcvbuf >> ROOM_POW_OFF) return Room.NORMAL;
    return avail > 0 ? Room.LOW : Room.NONE;
  }

  /** packet_rcv_try_clear_pressure: reading or polling ends the pressure once room is back. */
  private clearPressure(): void {
    if (this.pressure && this.room(undefined) === Room.NORMAL) this.pressure = false;
  }

  /** packet_rcv / tpacket_rcv: a frame the hook (the socket's or its fanout group's) passed on. */
  rcv(f: TappedFrame, stampNs: bigint): void {
    if (this.closed) return;
    const dataOff = this.type === SockType.SOCK_DGRAM ? f.linkLen : 0;
    const origLen = f.bytes.length - dataOff;
    let snap = origLen;
    const prog = this.filter.program;
    if (prog) {
      const res = runFrameFilter(prog, f, dataOff);
      if (res === 0) return;
      snap = Math.min(snap, res);
    } else if (snap === 0) {
      // run_filter answers the length without a filter: an empty frame reads as a drop.
      return;
    }
    const partial = f.hatype === ArpHardware.LOOPBACK && checksumPartial(f);
    const status = TpStatus.USER | (partial ? TpStatus.CSUMNOTREADY : 0);
    const srcAddr = f.linkLen >= 14 ? f.bytes.subarray(6, 12) : new Uint8Array(0);
    const sll = sockaddrLl(f.protocol, f.ifindex, f.hatype, f.pktType, srcAddr);
    if (this.ring) {
      // The ring wakes readers itself, once a frame or block is the app's.
      this.ring.put(f, dataOff, snap, origLen, sll, partial ? TpStatus.CSUMNOTREADY : 0, stampNs);
      return;
    }
    if (this.rmem >= this.rcvbuf) {
      this.drops++;
      this.skDrops++;
      return;
    }
    const data = f.bytes.slice(dataOff, dataOff + snap);
    // The clone keeps the frame's truesize, however little of it the filter lets through.
    const truesize = frameTruesize(f.bytes, f.linkLen);
    this.rmem += truesize;
    this.packets++;
    this.queue.push({ data, origLen, sll, status, net: f.linkLen - dataOff, truesize, stampNs });
    // sk_data_ready on every frame: edge-triggered epoll wakes for each.
    this.waiters.notify(0x41);
  }

  /** The next frame, taken unless `peek`; WOULD_BLOCK when there is none. */
  take(peek: boolean): QueuedFrame | WouldBlock {
    const f = this.queue[0];
    if (!f) return WOULD_BLOCK;
    if (!peek) {
      this.queue.shift();
      this.rmem -= f.truesize;
    }
    this.clearPressure();
    this.lastStampNs = f.stampNs;
    return f;
  }

  /** Drops the queue (a ring replaces it). */
  purgeQueue(): void {
    this.queue.length = 0;
    this.rmem = 0;
  }

  /**
   * packet_do_bind: EINVAL in a fanout group; `ifindex` 0 binds to every link; ENODEV for an
   * unknown one.
   */
  bind(ifindex: number, protocol: number): 0 | LinuxError {
    if (this.fanout) return E.EINVAL;
    if (ifindex !== 0 && !this.domain.link(ifindex)) return E.ENODEV;
    this.ifindex = ifindex;
    this.protocol = protocol;
    this.domain.hook(this, protocol !== 0);
    return 0;
  }

  /** packet_getname: the family, the bound link (its type and address when there is one), the protocol. */
  name(): Uint8Array {
    const link = this.ifindex !== 0 ? this.domain.link(this.ifindex) : undefined;
    const sll = sockaddrLl(
      this.protocol,
      this.ifindex,
      link?.hatype ?? 0,
      0,
      link ? link.address.subarray(0, 6) : new Uint8Array(0),
    );
    return sll.subarray(0, SLL_ADDR_OFF + sll[11]!);
  }

  /**
   * Where a send goes (packet_snd, tpacket_snd): the link, protocol and, for SOCK_DGRAM, the
   * destination address of `to`, else the socket's binding and no address. EINVAL for an
   * address shorter than a sockaddr_ll or than its sll_halen says; sll_halen is not otherwise
   * looked at: the header takes the link's address length from sll_addr whatever it says.
   */
  private target(
    to: Uint8Array | undefined,
  ): { ifindex: number; protocol: number; dst: Uint8Array | undefined } | LinuxError {
    if (to === undefined) return { ifindex: this.ifindex, protocol: this.protocol, dst: undefined };
    if (to.length < SOCKADDR_LL_LEN || to.length < to[11]! + SLL_ADDR_OFF) return E.EINVAL;
    const dv = new DataView(to.buffer, to.byteOffset, to.byteLength);
    return {
      ifindex: dv.getInt32(4, true),
      protocol: dv.getUint16(2, false),
      dst: this.type === SockType.SOCK_DGRAM ? to.subarray(SLL_ADDR_OFF, SOCKADDR_LL_LEN) : undefined,
    };
  }

  /**
   * packet_snd: `data` leaves by the link `to` names (else the bound one), behind the header
   * SOCK_DGRAM builds from sll_protocol and sll_addr; the size the call reports, or the errno.
   */
  send(
    len: number,
    read: (into: Uint8Array) => LinuxError | undefined,
    to: Uint8Array | undefined,
  ): number | LinuxError {
    if (this.txRing) return this.sendRing(this.txRing, to);
    const target = this.target(to);
    if (isError(target)) return target;
    const { ifindex, protocol, dst } = target;
    const link = this.domain.link(ifindex);
    if (!link) return E.ENXIO;
    const reserve = this.type === SockType.SOCK_RAW ? link.linkLen : 0;
    // The size is checked before anything is copied from the app.
    if (len > link.mtu + reserve + VLAN_HLEN) return E.EMSGSIZE;
    let frame: Uint8Array;
    if (this.type === SockType.SOCK_DGRAM && link.linkLen > 0) {
      frame = new Uint8Array(link.linkLen + len);
      const err = linkHeader(frame, link, protocol, dst) ?? read(frame.subarray(link.linkLen));
      if (err) return err;
    } else {
      frame = new Uint8Array(len);
      const err = read(frame);
      if (err) return err;
      // dev_validate_header: shorter than the link header is EINVAL.
      if (len < reserve) return E.EINVAL;
    }
    const r = this.domain.stack.injectFrame(
      performance.now(),
      ifindex,
      frame,
      this,
      this.skbProtocol(protocol),
    );
    this.domain.net.kick();
    return isError(r) ? r : len;
  }

  /**
   * skb->protocol of a frame this socket sends with `protocol` (sll_protocol, or the socket's):
   * that protocol (packet_snd), except that a SOCK_RAW frame sent with 0 or ETH_P_ALL tells its
   * own from its header (packet_parse_headers); undefined then.
   */
  private skbProtocol(protocol: number): number | undefined {
    if (this.type === SockType.SOCK_RAW && (protocol === 0 || protocol === ETH_P_ALL)) return undefined;
    return protocol;
  }

  /**
   * packet_set_ring's detach and attach around a new ring: a fanout member takes the last place
   * of its group's running members.
   */
  rehook(): void {
    if (this.fanout && this.domain.sockets.has(this)) {
      this.fanout.unlink(this);
      this.fanout.link(this);
    }
  }

  /**
   * tpacket_snd: every frame of the TX ring from its head that asks to be sent goes out by the
   * link `to` names (else the bound one), each given back TP_STATUS_AVAILABLE; the bytes sent.
   * A bad frame is skipped with PACKET_LOSS, else marked TP_STATUS_WRONG_FORMAT and its errno
   * ends the call (what went before it is sent all the same).
   */
  private sendRing(tx: TxRing, to: Uint8Array | undefined): number | LinuxError {
    const target = this.target(to);
    if (isError(target)) return target;
    const { ifindex, protocol, dst } = target;
    const link = ifindex !== 0 ? this.domain.link(ifindex) : undefined;
    if (!link) return E.ENXIO;
    const reserve = this.type === SockType.SOCK_RAW ? link.linkLen : 0;
    const hdr = TPACKET_HDR_ALIGNED[this.version as 0 | 1 | 2];
    const sizeMax = Math.min(tx.geometry.frameSize - hdr, link.mtu + reserve + VLAN_HLEN);
    let sum = 0;
    while (tx.pending()) {
      const frame = this.ringFrame(tx, link, sizeMax, reserve, protocol, dst);
      if (isError(frame)) {
        if (this.loss) {
          tx.skip();
          continue;
        }
        tx.refuse();
        return frame;
      }
      this.domain.stack.injectFrame(
        performance.now(),
        ifindex,
        frame.bytes,
        this,
        this.skbProtocol(protocol),
      );
      this.domain.net.kick();
      tx.sent();
      sum += frame.len;
    }
    return sum;
  }

  /**
   * tpacket_fill_skb for the TX ring's head frame: its data behind the header SOCK_DGRAM builds
   * (see {@link linkHeader}), or as it is
   * for SOCK_RAW (EINVAL when shorter than the link header); EMSGSIZE above the MTU unless it
   * carries a VLAN tag.
   */
  private ringFrame(
    tx: TxRing,
    link: PacketLink,
    sizeMax: number,
    reserve: number,
    protocol: number,
    dst: Uint8Array | undefined,
  ): { bytes: Uint8Array; len: number } | LinuxError {
    const data = tx.data(sizeMax, this.txHasOff !== 0, this.type === SockType.SOCK_DGRAM);
    if (isError(data)) return data;
    let bytes = data;
    if (this.type === SockType.SOCK_DGRAM && link.linkLen > 0) {
      bytes = new Uint8Array(link.linkLen + data.length);
      const err = linkHeader(bytes, link, protocol, dst);
      if (err) return err;
      bytes.set(data, link.linkLen);
    } else if (this.type === SockType.SOCK_RAW && data.length < link.linkLen) return E.EINVAL;
    if (data.length > link.mtu + reserve) {
      const vlan =
        link.hatype === ArpHardware.ETHER && bytes.length >= 14 && bytes[12] === 0x81 && bytes[13] === 0;
      if (!vlan) return E.EMSGSIZE;
    }
    return { bytes, len: data.length };
  }

  /**
   * The socket goes away: it stops receiving, leaves its fanout group, and its rings are
   * unmapped from the supervisor.
   */
  close(): void {
    this.closed = true;
    this.domain.all.delete(this);
    this.domain.hook(this, false);
    this.fanout?.release(this);
    this.queue.length = 0;
    this.ring?.release();
    this.ring = undefined;
    this.txRing = undefined;
    this.ringMemory?.release();
    this.ringMemory = undefined;
  }

  /** PACKET_ADD_MEMBERSHIP (packet_mc_add): a new entry or one more reference to an equal one. */
  addMembership(ifindex: number, type: number, alen: number, addr: Uint8Array): 0 | LinuxError {
    const link = this.domain.link(ifindex);
    if (!link) return E.ENODEV;
    if (alen > (link.linkLen > 0 ? 6 : 0)) return E.EINVAL;
    const key = Buffer.from(addr.subarray(0, alen)).toString('hex');
    const m = this.memberships.find(
      (x) => x.ifindex === ifindex && x.type === type && x.alen === alen && x.addr === key,
    );
    if (m) m.count++;
    else this.memberships.push({ ifindex, type, alen, addr: key, count: 1 });
    return 0;
  }

  /** PACKET_DROP_MEMBERSHIP (packet_mc_drop): one reference less; 0 even without an entry. */
  dropMembership(ifindex: number, type: number, alen: number, addr: Uint8Array): 0 {
    const key = Buffer.from(addr.subarray(0, alen)).toString('hex');
    const i = this.memberships.findIndex(
      (x) => x.ifindex === ifindex && x.type === type && x.alen === alen && x.addr === key,
    );
    if (i >= 0 && --this.memberships[i]!.count === 0) this.memberships.splice(i, 1);
    return 0;
  }

  /** Wakes the socket's waiters with `events` (the ring hands a frame or a block over). */
  notify(events: number): void {
    this.waiters.notify(events);
  }
}

/** The file side of a packet socket. */
export class PacketSocketImpl extends FileDescriptionImpl implements RingHost, SizedMmapSource {
  constructor(readonly sock: PacketSocket) {
    super();
    // A socket holds its network namespace (sk_net) until it closes.
    sock.domain.net.get();
  }
  override get stream(): boolean {
    return true;
  }
  override read(dst: Uint8Array): number | LinuxError | WouldBlock {
    if (this.sock.ring) return WOULD_BLOCK;
    const f = this.sock.take(false);
    if (f === WOULD_BLOCK) return f;
    const n = Math.min(dst.length, f.data.length);
    dst.set(f.data.subarray(0, n));
    return n;
  }
  override write(src: Uint8Array): number | LinuxError | WouldBlock {
    return this.sock.send(src.length, (into) => void into.set(src), undefined);
  }
  override readiness(mask: number): number {
    return this.sock.readiness() & mask;
  }
  override get waitQueue(): WaitQueue {
    return this.sock.waiters;
  }
  override ioctl(cmd: number): number | LinuxError {
    if (cmd === FIONREAD) return this.sock.inq();
    if (cmd === SIOCOUTQ) return 0;
    return E.ENOTTY;
  }
  /** The rings' memfd, so mmap(2) of the socket maps the rings (see sys-socket-packet-ring.ts). */
  override hostFd(): number | null {
    return this.sock.ringMemory?.hostFd() ?? null;
  }
  /** packet_mmap: EINVAL while the socket has no ring to map. */
  override mmapRefusal(): LinuxError {
    return E.EINVAL;
  }
  /** packet_mmap: only both rings whole (RX then TX), from offset 0 (EINVAL otherwise). */
  mmapRegionRefusal(len: number, pgoff: number): LinuxError | undefined {
    const size = (this.sock.ring?.size ?? 0) + (this.sock.txRing?.size ?? 0);
    return pgoff !== 0 || size === 0 || len !== size ? E.EINVAL : undefined;
  }
  override release(): void {
    this.sock.close();
    this.sock.domain.net.put();
  }
}

// ---- the syscalls ----------------------------------------------------------------------------

/** A packet socket behind `fd`, undefined when `fd` is another file (the other handlers answer). */
function packetAt(t: Task, fd: number): PacketSocketImpl | undefined {
  const f = fileAt(t, fd);
  if (isError(f) || f.isPath) return undefined;
  return f.impl instanceof PacketSocketImpl ? f.impl : undefined;
}

function fileOfFd(t: Task, fd: number): FileDescription | undefined {
  const f = fileAt(t, fd);
  return isError(f) ? undefined : f;
}

/** socket(2) for AF_PACKET (packet_create): EPERM without CAP_NET_RAW, then the type. */
function socketPacket(t: Task, a: SyscallArgs): SyscallResult | undefined {
  if (int(a[0]) !== AddressFamily.AF_PACKET) return undefined;
  const type = int(a[1]);
  if (type & ~(SockType.SOCK_TYPE_MASK | FLAG_BITS)) return E.EINVAL;
  const kind = type & SockType.SOCK_TYPE_MASK;
  if (kind >= SOCK_MAX) return E.EINVAL;
  if (!capable(t.creds, Capability.CAP_NET_RAW)) return E.EPERM;
  // SOCK_PACKET (the obsolete interface) is not offered.
  if (kind !== SockType.SOCK_RAW && kind !== SockType.SOCK_DGRAM) return E.ESOCKTNOSUPPORT;
  // The protocol is a __be16 in an int: its low 16 bits in memory (network) order.
  const raw = int(a[2]) & 0xffff;
  const protocol = ((raw & 0xff) << 8) | (raw >>> 8);
  const d = domainOf(t);
  const sock = new PacketSocket(d, kind, protocol);
  const impl = new PacketSocketImpl(sock);
  const { location } = newSocketInode();
  sock.inode = location.inode.ino;
  sock.uid = t.creds.fsuid;
  const file = socketFile(t, impl, location, type);
  return installSocketFile(t, file, type);
}

/** bind(2) (packet_bind): EINVAL below a sockaddr_ll or for another family. */
function bindPacket(t: Task, a: SyscallArgs): SyscallResult | undefined {
  const p = packetAt(t, int(a[0]));
  if (!p) return undefined;
  const bytes = readAddr(t, ptr(a[1]), int(a[2]));
  if (isError(bytes)) return bytes;
  if (bytes.length < SOCKADDR_LL_LEN) return E.EINVAL;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint16(0, true) !== AddressFamily.AF_PACKET) return E.EINVAL;
  const proto = dv.getUint16(2, false);
  return p.sock.bind(dv.getInt32(4, true), proto !== 0 ? proto : p.sock.protocol);
}

function getsocknamePacket(t: Task, a: SyscallArgs): SyscallResult | undefined {
  const p = packetAt(t, int(a[0]));
  if (!p) return undefined;
  return writeAddr(t, ptr(a[1]), ptr(a[2]), p.sock.name()) ?? 0;
}

/** connect, listen, accept, shutdown, getpeername: sock_no_* (EOPNOTSUPP). */
function unsupported(t: Task, a: SyscallArgs): SyscallResult | undefined {
  return packetAt(t, int(a[0])) ? E.EOPNOTSUPP : undefined;
}

/**
 * Waits for a frame (unless non-blocking) and takes it: EAGAIN when none comes in time, a
 * restart or EINTR for a signal (sock_intr_errno).
 */
function receiveFrame(
  t: Task,
  file: FileDescription,
  p: PacketSocketImpl,
  flags: number,
): QueuedFrame | LinuxError | ControlResult | Promise<QueuedFrame | LinuxError | ControlResult> {
  const peek = (flags & MsgFlag.MSG_PEEK) !== 0;
  const first = p.sock.take(peek);
  if (first !== WOULD_BLOCK) return first;
  const nb = (file.getFlags() & OpenFlag.O_NONBLOCK) !== 0 || (flags & MsgFlag.MSG_DONTWAIT) !== 0;
  const timeout: TimeoutNs = nb ? 0n : timeoutsOf(p.sock).rcv;
  if (timeout === 0n) return E.EAGAIN;
  const deadline = deadlineOf(t, timeout);
  return (async () => {
    for (;;) {
      const w = new Waiter(undefined);
      const sub = { mask: 0x41, notify: (): void => void w.wake('notified') };
      p.sock.waiters.add(sub);
      try {
        const f = p.sock.take(peek);
        if (f !== WOULD_BLOCK) return f;
        if (deadline !== undefined) {
          if (deadline <= t.kernel.time.monotonicNs()) return E.EAGAIN;
          w.setDeadline(t.kernel.time, deadline);
        }
        if ((await t.block(w)) === 'interrupted') return sockIntrErrno(deadline);
      } finally {
        p.sock.waiters.remove(sub);
      }
    }
  })();
}

function then<T>(r: T | Promise<T>, f: (v: T) => SyscallResult): SyscallResult | Promise<SyscallResult> {
  return r instanceof Promise ? r.then(f) : f(r);
}

/** The sockaddr_ll as packet_recvmsg reports it: at least sizeof(struct sockaddr_ll). */
function fromAddr(f: QueuedFrame): Uint8Array {
  return f.sll.subarray(0, Math.max(SOCKADDR_LL_LEN, SLL_ADDR_OFF + f.sll[11]!));
}

/** recvfrom(2). */
function recvfromPacket(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> | undefined {
  const fd = int(a[0]);
  const p = packetAt(t, fd);
  if (!p) return undefined;
  const file = fileOfFd(t, fd)!;
  const buf = ptr(a[1]);
  const len = Math.min(size(a[2]), MAX_RW_COUNT);
  const flags = int(a[3]);
  const addr = ptr(a[4]);
  const lenp = ptr(a[5]);
  return then(receiveFrame(t, file, p, flags), (f) => {
    if (isError(f) || isControl(f)) return f;
    const n = Math.min(len, f.data.length);
    if (n > 0) {
      const err = t.memory.writeExact(buf, f.data.subarray(0, n));
      if (err) return err;
    }
    if (addr !== 0) {
      const err = writeAddr(t, addr, lenp, fromAddr(f));
      if (err) return err;
    }
    return flags & MsgFlag.MSG_TRUNC ? f.data.length : n;
  });
}

/** tpacket_auxdata: status, len, snaplen, mac, net, vlan_tci, vlan_tpid, padding. */
function auxdata(f: QueuedFrame): Uint8Array {
  const b = new Uint8Array(20);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, f.status, true);
  dv.setUint32(4, f.origLen, true);
  dv.setUint32(8, f.data.length, true);
  dv.setUint16(12, 0, true);
  dv.setUint16(14, f.net, true);
  return b;
}

/** recvmsg(2): the frame into the iovecs, the address, PACKET_AUXDATA and SO_TIMESTAMP control messages. */
function recvmsgPacket(t: Task, a: SyscallArgs): SyscallResult | Promise<SyscallResult> | undefined {
  const fd = int(a[0]);
  const p = packetAt(t, fd);
  if (!p) return undefined;
  const file = fileOfFd(t, fd)!;
  const mp = ptr(a[1]);
  const flags = int(a[2]);
  const hdr = readMsghdr(t, mp);
  if (isError(hdr)) return hdr;
  const { raw, m, iov } = hdr;
  return then(receiveFrame(t, file, p, flags), (f) => {
    if (isError(f) || isControl(f)) return f;
    let done = 0;
    for (const v of iov) {
      if (done >= f.data.length) break;
      const n = Math.min(v.len, f.data.length - done);
      const err = t.memory.writeExact(v.base, f.data.subarray(done, done + n));
      if (err) return err;
      done += n;
    }
    const truncated = done < f.data.length;
    let msgFlags = (flags & MsgFlag.MSG_CMSG_CLOEXEC) | (truncated ? MsgFlag.MSG_TRUNC : 0);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const from = fromAddr(f);
    if (m.msg_name !== 0) {
      const n = Math.min(m.msg_namelen, from.length);
      const err = n > 0 ? t.memory.writeExact(m.msg_name, from.subarray(0, n)) : undefined;
      if (err) return err;
    }
    dv.setInt32(8, m.msg_name !== 0 ? from.length : 0, true);
    const controlLen = m.msg_control === 0 ? 0 : Math.min(m.msg_controllen, 1 << 16);
    const control = new Uint8Array(controlLen);
    const w = new CmsgWriter(control, 0, controlLen);
    if (p.sock.auxdata) w.put(SocketLevel.SOL_PACKET, PO.PACKET_AUXDATA, auxdata(f));
    if (m.msg_control !== 0 && w.written > 0) {
      const err = t.memory.writeExact(m.msg_control, control.subarray(0, w.written));
      if (err) return err;
    }
    msgFlags |= w.flags;
    dv.setBigUint64(40, BigInt(w.written), true);
    dv.setInt32(48, msgFlags, true);
    const err = t.memory.writeExact(mp, raw);
    if (err) return err;
    return flags & MsgFlag.MSG_TRUNC ? f.data.length : done;
  });
}

/** sendto(2). */
function sendtoPacket(t: Task, a: SyscallArgs): SyscallResult | undefined {
  const p = packetAt(t, int(a[0]));
  if (!p) return undefined;
  const len = Math.min(size(a[2]), MAX_RW_COUNT);
  let to: Uint8Array | undefined;
  if (ptr(a[4]) !== 0) {
    const bytes = readAddr(t, ptr(a[4]), int(a[5]));
    if (isError(bytes)) return bytes;
    to = bytes;
  }
  const buf = ptr(a[1]);
  return p.sock.send(len, (into) => (into.length > 0 ? t.memory.readExact(buf, into) : undefined), to);
}

/** sendmsg(2): the iovecs gathered into one frame; control messages are ignored, as packet_snd does. */
function sendmsgPacket(t: Task, a: SyscallArgs): SyscallResult | undefined {
  const p = packetAt(t, int(a[0]));
  if (!p) return undefined;
  const raw = t.memory.read(ptr(a[1]), msghdr.size);
  if (isError(raw)) return raw;
  const m = msghdr.parse(raw, 0);
  if (isError(m)) return m;
  if (m.msg_iovlen > 1024) return E.EMSGSIZE;
  let to: Uint8Array | undefined;
  if (m.msg_name !== 0) {
    const bytes = readAddr(t, m.msg_name, m.msg_namelen);
    if (isError(bytes)) return bytes;
    to = bytes;
  }
  const iov = t.memory.readIovecs(m.msg_iov, m.msg_iovlen);
  if (isError(iov)) return iov;
  let total = 0;
  for (const v of iov) total = Math.min(total + v.len, MAX_RW_COUNT);
  const gather = (into: Uint8Array): LinuxError | undefined => {
    let at = 0;
    for (const v of iov) {
      if (at >= into.length) break;
      const n = Math.min(v.len, into.length - at);
      const err = t.memory.readExact(v.base, into.subarray(at, at + n));
      if (err) return err;
      at += n;
    }
    return undefined;
  };
  return p.sock.send(total, gather, to);
}

function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/** SOL_SOCKET options Linux's sk_setsockopt keeps for any socket, kept here and reported. */
const KEPT_CORE = new Set<number>([
  SocketOption.SO_REUSEADDR,
  SocketOption.SO_KEEPALIVE,
  SocketOption.SO_BROADCAST,
  SocketOption.SO_PRIORITY,
  SocketOption.SO_DONTROUTE,
  SocketOption.SO_TIMESTAMP_OLD,
  SocketOption.SO_TIMESTAMPNS_OLD,
  SocketOption.SO_MARK,
  SocketOption.SO_RCVLOWAT,
  SocketOption.SO_BUSY_POLL,
]);

/** setsockopt(2) on a packet socket: SOL_PACKET here, SOL_SOCKET's core options. */
function setsockoptPacket(t: Task, a: SyscallArgs): SyscallResult | undefined {
  const p = packetAt(t, int(a[0]));
  if (!p) return undefined;
  const s = p.sock;
  const level = int(a[1]);
  const name = int(a[2]);
  const addr = ptr(a[3]);
  const optlen = int(a[4]);
  if (level === SocketLevel.SOL_SOCKET) {
    if (isFilterSetOption(level, name)) return setFilterOption(t, s.filter, name, addr, optlen);
    if (isTimeoutOption(name)) {
      const v = parseTimeout((x, n) => t.memory.read(x, n), addr, optlen);
      if (isError(v)) return v;
      if (isReceiveTimeout(name)) timeoutsOf(s).rcv = v;
      else timeoutsOf(s).snd = v;
      return 0;
    }
    if (name === SocketOption.SO_BINDTODEVICE) {
      if (optlen < 0) return E.EINVAL;
      const n = Math.min(optlen, 15);
      const rawName = n > 0 ? t.memory.read(addr, n) : new Uint8Array(0);
      if (isError(rawName)) return rawName;
      const end = rawName.indexOf(0);
      const dev = Buffer.from(end < 0 ? rawName : rawName.subarray(0, end)).toString('latin1');
      if (dev === '') {
        s.boundDevIf = 0;
        return 0;
      }
      const link = s.domain.net.links().find((l) => l.name === dev);
      if (!link) return E.ENODEV;
      s.boundDevIf = link.index;
      return 0;
    }
    if (optlen < 4) return E.EINVAL;
    const val = t.memory.readI32(addr);
    if (isError(val)) return val;
    switch (name) {
      case SocketOption.SO_RCVBUF:
      case SocketOption.SO_RCVBUFFORCE: {
        const cap = name === SocketOption.SO_RCVBUF || !capable(t.creds, Capability.CAP_NET_ADMIN);
        const v = cap ? Math.min(val >>> 0, SK_MEM_MAX) : Math.max(val, 0);
        s.rcvbuf = Math.max(Math.min(v * 2, 0x7fffffff), SOCK_MIN_RCVBUF);
        return 0;
      }
      case SocketOption.SO_SNDBUF:
      case SocketOption.SO_SNDBUFFORCE: {
        const cap = name === SocketOption.SO_SNDBUF || !capable(t.creds, Capability.CAP_NET_ADMIN);
        const v = cap ? Math.min(val >>> 0, SK_MEM_MAX) : Math.max(val, 0);
        s.sndbuf = Math.max(Math.min(v * 2, 0x7fffffff), SOCK_MIN_SNDBUF);
        return 0;
      }
      case SocketOption.SO_BINDTOIFINDEX:
        if (val !== 0 && !s.domain.net.links().some((l) => l.index === val)) return E.ENODEV;
        s.boundDevIf = val;
        return 0;
      default:
        if (KEPT_CORE.has(name)) {
          s.coreInts.set(
            name,
            name === SocketOption.SO_PRIORITY || name === SocketOption.SO_MARK ? val : val !== 0 ? 1 : 0,
          );
          return 0;
        }
        return E.ENOPROTOOPT;
    }
  }
  if (level !== SocketLevel.SOL_PACKET) return E.ENOPROTOOPT;
  return setPacketOption(t, p, name, addr, optlen);
}

/** packet_setsockopt. */
function setPacketOption(
  t: Task,
  p: PacketSocketImpl,
  name: number,
  addr: number,
  optlen: number,
): SyscallResult {
  const s = p.sock;
  switch (name) {
    case PO.PACKET_ADD_MEMBERSHIP:
    case PO.PACKET_DROP_MEMBERSHIP: {
      if (optlen < PACKET_MREQ_LEN) return E.EINVAL;
      const len = Math.min(optlen, PACKET_MREQ_MAX_LEN);
      const b = t.memory.read(addr, len);
      if (isError(b)) return b;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const alen = dv.getUint16(6, true);
      if (len < alen + 8) return E.EINVAL;
      const maddr = b.subarray(8, 8 + Math.min(alen, 16));
      const ifindex = dv.getInt32(0, true);
      const type = dv.getUint16(4, true);
      return name === PO.PACKET_ADD_MEMBERSHIP
        ? s.addMembership(ifindex, type, alen, maddr)
        : s.dropMembership(ifindex, type, alen, maddr);
    }
    case PO.PACKET_RX_RING:
    case PO.PACKET_TX_RING:
      return setRing(t, p, addr, optlen, name === PO.PACKET_TX_RING);
    case PO.PACKET_FANOUT: {
      if (optlen !== 4 && optlen !== 8) return E.EINVAL;
      const b = t.memory.read(addr, optlen);
      if (isError(b)) return b;
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const running = s.domain.sockets.has(s);
      return fanoutAdd(
        s.domain.fanout,
        { member: s, running, protocol: s.protocol, ifindex: s.ifindex },
        dv.getUint16(0, true),
        dv.getUint16(2, true),
        optlen === 8 ? dv.getUint32(4, true) : 0,
      );
    }
    case PO.PACKET_FANOUT_DATA:
      return fanoutSetData(t, s, addr, optlen);
    case PO.PACKET_VNET_HDR:
      return E.ENOPROTOOPT;
  }
  // The rest take an int.
  const intOnly =
    name === PO.PACKET_VERSION ||
    name === PO.PACKET_RESERVE ||
    name === PO.PACKET_LOSS ||
    name === PO.PACKET_TX_HAS_OFF;
  if (intOnly ? optlen !== 4 : optlen < 4) return E.EINVAL;
  const val = t.memory.readI32(addr);
  if (isError(val)) return val;
  switch (name) {
    case PO.PACKET_COPY_THRESH:
      s.copyThresh = val;
      return 0;
    case PO.PACKET_VERSION:
      if (s.ring || s.txRing) return E.EBUSY;
      if (val !== TPACKET_V1 && val !== TPACKET_V2 && val !== TPACKET_V3) return E.EINVAL;
      s.version = val;
      return 0;
    case PO.PACKET_RESERVE:
      if (s.ring || s.txRing) return E.EBUSY;
      if (val < 0 || val > 0x7fffffff / 2) return E.EINVAL;
      s.reserve = val;
      return 0;
    case PO.PACKET_LOSS:
      if (s.ring || s.txRing) return E.EBUSY;
      s.loss = val !== 0 ? 1 : 0;
      return 0;
    case PO.PACKET_AUXDATA:
      s.auxdata = val !== 0;
      return 0;
    case PO.PACKET_ORIGDEV:
      s.origdev = val !== 0;
      return 0;
    case PO.PACKET_TIMESTAMP:
      s.timestamp = val;
      return 0;
    case PO.PACKET_TX_HAS_OFF:
      // Kept only while no ring is set; 0 either way.
      if (!s.ring && !s.txRing) s.txHasOff = val !== 0 ? 1 : 0;
      return 0;
    case PO.PACKET_QDISC_BYPASS:
      s.qdiscBypass = val !== 0 ? 1 : 0;
      return 0;
    case PO.PACKET_IGNORE_OUTGOING:
      if (val < 0 || val > 1) return E.EINVAL;
      s.ignoreOutgoing = val === 1;
      return 0;
    default:
      return E.ENOPROTOOPT;
  }
}

/** getsockopt(2) on a packet socket. */
function getsockoptPacket(t: Task, a: SyscallArgs): SyscallResult | undefined {
  const p = packetAt(t, int(a[0]));
  if (!p) return undefined;
  const s = p.sock;
  const level = int(a[1]);
  const name = int(a[2]);
  const addr = ptr(a[3]);
  const lenp = ptr(a[4]);
  const len = t.memory.readI32(lenp);
  if (isError(len)) return len;
  if (len < 0) return E.EINVAL;
  let value: Uint8Array | LinuxError;
  if (level === SocketLevel.SOL_SOCKET) {
    if (isFilterGetOption(level, name)) return getFilterOption(t, s.filter, name, addr, lenp, len);
    value = getCoreOption(t, s, name, len);
  } else if (level === SocketLevel.SOL_PACKET) {
    value = getPacketOption(t, s, name, addr, len);
  } else value = E.ENOPROTOOPT;
  if (isError(value)) return value;
  const n = Math.min(len, value.length);
  if (n > 0) {
    const err = t.memory.writeExact(addr, value.subarray(0, n));
    if (err) return err;
  }
  return t.memory.writeI32(lenp, n) ?? 0;
}

function getCoreOption(t: Task, s: PacketSocket, name: number, len: number): Uint8Array | LinuxError {
  switch (name) {
    case SocketOption.SO_TYPE:
      return int32(s.type);
    case SocketOption.SO_DOMAIN:
      return int32(AddressFamily.AF_PACKET);
    case SocketOption.SO_PROTOCOL:
      return int32(0); // packet_create leaves sk_protocol 0
    case SocketOption.SO_ERROR:
    case SocketOption.SO_ACCEPTCONN:
      return int32(0);
    case SocketOption.SO_RCVBUF:
      return int32(s.rcvbuf);
    case SocketOption.SO_SNDBUF:
      return int32(s.sndbuf);
    case SocketOption.SO_MEMINFO:
      return s.memInfo();
    case SocketOption.SO_BINDTOIFINDEX:
      return int32(s.boundDevIf);
    case SocketOption.SO_BINDTODEVICE: {
      if (s.boundDevIf === 0) return new Uint8Array(0);
      if (len < 16) return E.EINVAL;
      const link = s.domain.net.links().find((l) => l.index === s.boundDevIf);
      if (!link) return E.ENODEV;
      return Uint8Array.from(Buffer.from(`${link.name}\0`, 'latin1'));
    }
    default:
      if (isTimeoutOption(name)) {
        const v = isReceiveTimeout(name) ? timeoutsOf(s).rcv : timeoutsOf(s).snd;
        return encodeTimeout(v);
      }
      if (KEPT_CORE.has(name))
        return int32(s.coreInts.get(name) ?? (name === SocketOption.SO_RCVLOWAT ? 1 : 0));
      return E.ENOPROTOOPT;
  }
}

/** packet_getsockopt: the value (cut to the caller's length by the caller). */
function getPacketOption(
  t: Task,
  s: PacketSocket,
  name: number,
  addr: number,
  len: number,
): Uint8Array | LinuxError {
  switch (name) {
    case PO.PACKET_STATISTICS: {
      const v3 = s.version === TPACKET_V3;
      const st = s.ring ? s.ring.takeStats() : { packets: s.packets, drops: s.drops, freezes: 0 };
      if (!s.ring) {
        s.packets = 0;
        s.drops = 0;
      }
      const b = new Uint8Array(v3 ? 12 : 8);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, (st.packets + st.drops) >>> 0, true);
      dv.setUint32(4, st.drops >>> 0, true);
      if (v3) dv.setUint32(8, st.freezes >>> 0, true);
      return b;
    }
    case PO.PACKET_AUXDATA:
      return int32(s.auxdata ? 1 : 0);
    case PO.PACKET_ORIGDEV:
      return int32(s.origdev ? 1 : 0);
    case PO.PACKET_VNET_HDR:
      return int32(0);
    case PO.PACKET_VERSION:
      return int32(s.version);
    case PO.PACKET_HDRLEN: {
      if (len < 4) return E.EINVAL;
      const v = t.memory.readI32(addr);
      if (isError(v)) return v;
      if (v === TPACKET_V1 || v === TPACKET_V2) return int32(32);
      if (v === TPACKET_V3) return int32(48);
      return E.EINVAL;
    }
    case PO.PACKET_RESERVE:
      return int32(s.reserve);
    case PO.PACKET_LOSS:
      return int32(s.loss);
    case PO.PACKET_TIMESTAMP:
      return int32(s.timestamp);
    case PO.PACKET_FANOUT:
      return int32(s.fanout ? s.fanout.word | 0 : 0);
    case PO.PACKET_IGNORE_OUTGOING:
      return int32(s.ignoreOutgoing ? 1 : 0);
    case PO.PACKET_ROLLOVER_STATS:
      return rolloverStats(s);
    case PO.PACKET_TX_HAS_OFF:
      return int32(s.txHasOff);
    case PO.PACKET_QDISC_BYPASS:
      return int32(s.qdiscBypass);
    default:
      return E.ENOPROTOOPT;
  }
}

/**
 * ioctl(2) on a packet socket: FIONREAD and SIOCOUTQ stored as an int, SIOCGSTAMP(NS) of the
 * last frame read (ENOENT before one), and the interface ioctls; undefined for other files.
 */
export function packetSocketIoctl(
  t: Task,
  file: FileDescription,
  cmd: number,
  arg: bigint,
): SyscallResult | undefined {
  if (!(file.impl instanceof PacketSocketImpl)) return undefined;
  const s = file.impl.sock;
  switch (cmd) {
    case FIONREAD:
      return t.memory.writeI32(ptr(arg), s.inq()) ?? 0;
    case SIOCOUTQ:
      return t.memory.writeI32(ptr(arg), 0) ?? 0;
    case SIOCGSTAMP:
    case SIOCGSTAMPNS: {
      const ns = s.lastStampNs;
      if (ns === undefined) return E.ENOENT;
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      dv.setBigInt64(0, ns / 1_000_000_000n, true);
      const frac = ns % 1_000_000_000n;
      dv.setBigInt64(8, cmd === SIOCGSTAMP ? frac / 1000n : frac, true);
      return t.memory.writeExact(ptr(arg), b) ?? 0;
    }
  }
  const links: readonly LinkInfo[] = s.domain.net.links();
  if (cmd === SIOCETHTOOL) return ethtoolIoctl(t, links, ptr(arg));
  return interfaceIoctl(links, t.memory, cmd, ptr(arg), false) ?? file.ioctl(cmd, arg);
}

/**
 * SIOCETHTOOL (on any socket) on the sandbox's links: ETHTOOL_GET_TS_INFO answers what Linux's
 * generic ethtool_op_get_ts_info does for a device without a hardware clock (software receive
 * timestamps, no PHC); other commands are EOPNOTSUPP (no driver behind the links); ENODEV for
 * an unknown name. libpcap asks when it opens a device.
 */
export function ethtoolIoctl(t: Task, links: readonly LinkInfo[], ifr: number): SyscallResult {
  const req = t.memory.read(ifr, IFNAMSIZ + 8);
  if (isError(req)) return req;
  const end = req.subarray(0, IFNAMSIZ).indexOf(0);
  const name = Buffer.from(req.subarray(0, end < 0 ? IFNAMSIZ : end)).toString('latin1');
  if (!links.some((l) => l.name === name)) return E.ENODEV;
  const data = new DataView(req.buffer, req.byteOffset + IFNAMSIZ, 8).getBigUint64(0, true);
  const at = ptr(data);
  const cmd = t.memory.readU32(at);
  if (isError(cmd)) return cmd;
  if (cmd !== ETHTOOL_GET_TS_INFO) return E.EOPNOTSUPP;
  const info = new Uint8Array(ETHTOOL_TS_INFO_LEN);
  const dv = new DataView(info.buffer);
  dv.setUint32(0, cmd, true);
  dv.setUint32(4, SOFTWARE_TIMESTAMPING, true);
  dv.setInt32(8, -1, true);
  return t.memory.writeExact(at, info) ?? 0;
}

type PacketHandler = LayerHandler;

/** recvmmsg/sendmmsg: one message at a time through `one`, counts stored in msg_len. */
const mmsg = (one: PacketHandler, recv: boolean): PacketHandler =>
  perMessage(one, recv, (t, fd) => packetAt(t, fd) !== undefined);

const handlers: Readonly<Record<string, PacketHandler>> = {
  socket: socketPacket,
  bind: bindPacket,
  getsockname: getsocknamePacket,
  connect: unsupported,
  listen: unsupported,
  accept: unsupported,
  accept4: unsupported,
  shutdown: unsupported,
  getpeername: unsupported,
  sendto: sendtoPacket,
  recvfrom: recvfromPacket,
  sendmsg: sendmsgPacket,
  recvmsg: recvmsgPacket,
  setsockopt: setsockoptPacket,
  getsockopt: getsockoptPacket,
  sendmmsg: mmsg(sendmsgPacket, false),
  recvmmsg: mmsg(recvmsgPacket, true),
};

/**
 * The socket family with AF_PACKET in front: socket(2) for AF_PACKET and every socket call on
 * a packet socket's fd are answered here; anything else goes to the inner handler.
 */
export function withPacketSockets(family: SyscallFamily): SyscallFamily {
  return layerFamily(family, handlers);
}
