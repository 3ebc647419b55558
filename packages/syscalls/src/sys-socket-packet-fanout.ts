/**
 * PACKET_FANOUT: groups of AF_PACKET sockets that share the frames of one hook, each frame going
 * to one member (net/packet/af_packet.c: fanout_add, packet_rcv_fanout, the fanout_demux_*
 * functions, fanout_release).
 *
 * A group is found by its id within the sandbox's network namespace; its hook is the first
 * member's (protocol and bound link), which later members must share. Its members are kept in
 * Linux's order (f->arr): a member joins at the end and one that leaves is replaced by the last,
 * so round robin (LB) and the other index-based modes pick the same socket as Linux does.
 *
 * Modes: HASH (a symmetric flow hash with a per-namespace random seed: a flow always goes to the
 * same member, which member is chance as in Linux), LB, CPU (the sandbox runs on CPU 0, as
 * getcpu(2) reports), ROLLOVER, RND, QM (the sandbox's links have one queue: 0), CBPF (the
 * program of PACKET_FANOUT_DATA, run on the frame from its network header when received, from
 * its link header when sent) and EBPF (accepted; no eBPF program can be given, so every frame
 * goes to the first member, as Linux does without one). PACKET_FANOUT_FLAG_ROLLOVER moves a
 * frame on when its member is short of room, with Linux's room levels (a quarter of the receive
 * buffer, or of the ring) and its pressure flag, cleared by recvmsg and poll.
 *
 * PACKET_FANOUT_FLAG_DEFRAG reassembles IPv4 fragments before a member is chosen
 * (ip_check_defrag): the group's own reassembler holds them (netstack's Ipv4Reassembler, 30 s)
 * and hands out the whole datagram once.
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import type { Task } from '@tsvisor/kernel';
import {
  Ipv4Packet,
  Ipv4Reassembler,
  PacketType,
  checkClassicProgram,
  runClassicFilter,
  type ClassicProgram,
  type SocketFilter,
  type TappedFrame,
} from '@tsvisor/netstack';
import { fileAt } from './vfs-context.js';

/**
 * Runs classic BPF program `prog` over tapped frame `f` as a packet socket's skb: its data from
 * byte `data` (after the link header, or from it), the network header after the link header.
 */
export function runFrameFilter(prog: ClassicProgram, f: TappedFrame, data: number): number {
  return runClassicFilter(prog, {
    bytes: f.bytes,
    data,
    network: f.linkLen,
    ...(f.linkLen > 0 ? { link: 0 } : {}),
    protocol: f.protocol,
    pktType: f.pktType,
    ifindex: f.ifindex,
    hatype: f.hatype,
  });
}

/** The fanout modes (PACKET_FANOUT_*). */
export const FanoutMode = {
  HASH: 0,
  LB: 1,
  CPU: 2,
  ROLLOVER: 3,
  RND: 4,
  QM: 5,
  CBPF: 6,
  EBPF: 7,
} as const;

/** The flags of the mode word's high byte (PACKET_FANOUT_FLAG_*). */
export const FanoutFlag = {
  ROLLOVER: 0x1000,
  UNIQUEID: 0x2000,
  IGNORE_OUTGOING: 0x4000,
  DEFRAG: 0x8000,
} as const;

/** PACKET_FANOUT_MAX: the most members a group can be given room for. */
const PACKET_FANOUT_MAX = 1 << 16;
/** The room of a group made without max_num_members (the old fixed array). */
const LEGACY_MAX_MEMBERS = 256;
/** ROLLOVER_HLEN: the flow hashes a rollover member remembers (a cache line of u32). */
const ROLLOVER_HLEN = 16;
/** ETH_P_ALL. */
const ETH_P_ALL = 0x0003;
/** sizeof(struct sock_fprog) on x86-64. */
const SOCK_FPROG_SIZE = 16;
const BPF_MAXINSNS = 4096;
const SOCK_FILTER_SIZE = 8;

/** __packet_rcv_has_room's answers. */
export const Room = { NONE: 0, LOW: 1, NORMAL: 2 } as const;
export type Room = (typeof Room)[keyof typeof Room];
/** ROOM_POW_OFF: below a quarter of the buffer or ring free, room is low. */
export const ROOM_POW_OFF = 2;

/** A socket's rollover state (struct packet_rollover). */
export interface Rollover {
  /** The member the last rollover went to, where the next search starts. */
  sock: number;
  /** PACKET_ROLLOVER_STATS: frames moved on, of which for a huge flow, and searches that failed. */
  num: number;
  numHuge: number;
  numFailed: number;
  readonly history: Uint32Array;
}

/** What a group needs of its member sockets (PacketSocket). */
export interface FanoutMember {
  fanout: FanoutGroup | undefined;
  rollover: Rollover | undefined;
  /** po->pressure: the last room check found less than normal room. */
  pressure: boolean;
  readonly filter: SocketFilter;
  /** __packet_rcv_has_room: for `f`, or for no frame at all (clearing pressure). */
  room(f: TappedFrame | undefined): Room;
  /** The member's own receive function (packet_rcv or tpacket_rcv), past the hook's checks. */
  rcv(f: TappedFrame, stampNs: bigint): void;
}

/** The groups of one network namespace (fanout_list and fanout_next_id). */
export class FanoutRegistry {
  readonly groups = new Map<number, FanoutGroup>();
  private nextId = 0;
  /** hashrnd: the seed of the flow hash. */
  readonly seed = (Math.random() * 0x100000000) >>> 0;

  /** fanout_find_new_id: the first free id from the last one handed out, or undefined. */
  newId(): number | undefined {
    let id = this.nextId;
    do {
      if (!this.groups.has(id)) {
        this.nextId = (id + 1) & 0xffff;
        return id;
      }
      id = (id + 1) & 0xffff;
    } while (id !== this.nextId);
    return undefined;
  }
}

/** A fanout group (struct packet_fanout). */
export class FanoutGroup {
  /** The running members, in Linux's order (f->arr). */
  readonly members: FanoutMember[] = [];
  /** Every socket joined (po->fanout is this group), running or not: sk_ref. */
  readonly joined = new Set<FanoutMember>();
  private rrCur = 0;
  /** PACKET_FANOUT_DATA's program (CBPF mode). */
  prog: ClassicProgram | undefined;
  /** The fragments PACKET_FANOUT_FLAG_DEFRAG holds. */
  private reassembler: Ipv4Reassembler | undefined;

  constructor(
    readonly registry: FanoutRegistry,
    readonly id: number,
    readonly type: number,
    /** The high byte of the mode word, without UNIQUEID. */
    readonly flags: number,
    /** The hook's ethertype (host order) and link (0: every link). */
    readonly protocol: number,
    readonly ifindex: number,
    readonly maxMembers: number,
  ) {}

  /** getsockopt(PACKET_FANOUT): the id, the mode and the flags in one word. */
  get word(): number {
    return (this.id | (this.type << 16) | (this.flags << 24)) >>> 0;
  }

  private has(flag: number): boolean {
    return (this.flags & (flag >>> 8)) !== 0;
  }

  /** __fanout_link: a running member takes the last place. */
  link(m: FanoutMember): void {
    this.members.push(m);
  }

  /** __fanout_unlink: the last member takes the place of one that stops running. */
  unlink(m: FanoutMember): void {
    const i = this.members.indexOf(m);
    if (i < 0) return;
    const last = this.members.pop()!;
    if (i < this.members.length) this.members[i] = last;
  }

  /** fanout_release: a member closes; the group goes away with its last one. */
  release(m: FanoutMember): void {
    this.unlink(m);
    this.joined.delete(m);
    m.fanout = undefined;
    if (this.joined.size === 0) this.registry.groups.delete(this.id);
  }

  /**
   * The group's hook: whether `f` is for it (as for a socket's own hook, except that a frame
   * any member sent is not handed back), then packet_rcv_fanout: one member gets it.
   */
  deliver(f: TappedFrame, stampNs: bigint): void {
    const num = this.members.length;
    if (num === 0) return;
    if (f.pktType === PacketType.OUTGOING) {
      if (this.protocol !== ETH_P_ALL || this.has(FanoutFlag.IGNORE_OUTGOING)) return;
      if (f.origin !== undefined && this.joined.has(f.origin as FanoutMember)) return;
    } else if (this.protocol !== ETH_P_ALL && this.protocol !== f.protocol) return;
    if (this.ifindex !== 0 && this.ifindex !== f.ifindex) return;
    if (this.has(FanoutFlag.DEFRAG)) {
      const whole = this.defrag(f);
      if (!whole) return;
      f = whole;
    }
    let idx: number;
    switch (this.type) {
      case FanoutMode.LB:
        this.rrCur = (this.rrCur + 1) >>> 0;
        idx = this.rrCur % num;
        break;
      case FanoutMode.CPU:
      case FanoutMode.QM:
        // CPU 0; queue 0.
        idx = 0;
        break;
      case FanoutMode.RND:
        idx = Math.floor(Math.random() * num);
        break;
      case FanoutMode.ROLLOVER:
        idx = this.rollover(f, 0, false, num);
        break;
      case FanoutMode.CBPF:
      case FanoutMode.EBPF:
        idx = this.bpf(f, num);
        break;
      default:
        idx = reciprocalScale(flowHash(f, this.registry.seed, true), num);
        break;
    }
    if (this.has(FanoutFlag.ROLLOVER)) idx = this.rollover(f, idx, true, num);
    this.members[idx]!.rcv(f, stampNs);
  }

  /**
   * ip_check_defrag: an IPv4 fragment (with a sound header and total length) goes to the
   * reassembler; undefined while the datagram is incomplete, the whole one behind the completing
   * fragment's link header once it is. Anything else passes as it is.
   */
  private defrag(f: TappedFrame): TappedFrame | undefined {
    if (f.protocol !== 0x0800) return f;
    const ip = f.bytes.subarray(f.linkLen);
    if (ip.length < 20 || ip[0]! >>> 4 !== 4) return f;
    const p = Ipv4Packet.checked(ip);
    if (!(p instanceof Ipv4Packet)) return f;
    if (!p.moreFragments && p.fragmentOffset === 0) return f;
    this.reassembler ??= new Ipv4Reassembler();
    const datagram = this.reassembler.add(performance.now(), p);
    if (!datagram) return undefined;
    const bytes = new Uint8Array(f.linkLen + datagram.length);
    bytes.set(f.bytes.subarray(0, f.linkLen));
    bytes.set(datagram, f.linkLen);
    return { ...f, bytes };
  }

  private bpf(f: TappedFrame, num: number): number {
    if (!this.prog) return 0;
    const data = f.pktType === PacketType.OUTGOING ? 0 : f.linkLen;
    return runFrameFilter(this.prog, f, data) % num;
  }

  /** fanout_demux_rollover: `idx` if it has room (with `trySelf`), else the next member that has. */
  private rollover(f: TappedFrame, idx: number, trySelf: boolean, num: number): number {
    const po = this.members[idx]!;
    const state = po.rollover!;
    let room: Room = Room.NONE;
    let skip: FanoutMember | undefined;
    if (trySelf) {
      room = hasRoom(po, f);
      if (room === Room.NORMAL || (room === Room.LOW && !flowIsHuge(state, f, this.registry.seed)))
        return idx;
      skip = po;
    }
    const j = Math.min(state.sock, num - 1);
    let i = j;
    do {
      const next = this.members[i]!;
      if (next !== skip && !next.pressure && hasRoom(next, f) === Room.NORMAL) {
        if (i !== j) state.sock = i;
        state.num++;
        if (room === Room.LOW) state.numHuge++;
        return i;
      }
      if (++i === num) i = 0;
    } while (i !== j);
    state.numFailed++;
    return idx;
  }
}

/** packet_rcv_has_room: the room, remembered as the member's pressure. */
function hasRoom(m: FanoutMember, f: TappedFrame): Room {
  const r = m.room(f);
  m.pressure = r !== Room.NORMAL;
  return r;
}

/** fanout_flow_is_huge: whether the frame's flow fills most of the member's recent history. */
function flowIsHuge(state: Rollover, f: TappedFrame, seed: number): boolean {
  const h = flowHash(f, seed, false);
  let count = 0;
  for (const x of state.history) if (x === h) count++;
  const victim = Math.floor(Math.random() * ROLLOVER_HLEN);
  state.history[victim] = h;
  return count > ROLLOVER_HLEN >> 1;
}

/** reciprocal_scale: a 32-bit value scaled to [0, n). */
function reciprocalScale(v: number, n: number): number {
  return Math.floor((v * n) / 0x100000000);
}

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return ((h << 13) | (h >>> 19)) >>> 0;
}

/**
 * The flow hash of a frame (skb_get_hash; `symmetric`: __skb_get_hash_symmetric, the same both
 * ways): its IP addresses, protocol and ports, seeded. Linux's values differ (jhash over the
 * flow dissector's keys); what matters is that one flow has one hash.
 */
export function flowHash(f: TappedFrame, seed: number, symmetric: boolean): number {
  const b = f.bytes;
  const n = f.linkLen;
  let proto = 0;
  let srcAt = 0;
  let addrLen = 0;
  let l4 = -1;
  if (f.protocol === 0x0800 && b.length >= n + 20) {
    proto = b[n + 9]!;
    srcAt = n + 12;
    addrLen = 4;
    const frag = ((b[n + 6]! << 8) | b[n + 7]!) & 0x1fff;
    if (frag === 0) l4 = n + (b[n]! & 0x0f) * 4;
  } else if (f.protocol === 0x86dd && b.length >= n + 40) {
    proto = b[n + 6]!;
    srcAt = n + 8;
    addrLen = 16;
    l4 = n + 40;
  } else {
    let h = seed;
    for (let i = 0; i < Math.min(b.length, 64); i++) h = mix(h, b[i]!);
    return h;
  }
  const hasPorts =
    (proto === 6 || proto === 17 || proto === 132 || proto === 136) && l4 >= 0 && b.length >= l4 + 4;
  let src = '';
  let dst = '';
  for (let i = 0; i < addrLen; i++) {
    src += String.fromCharCode(b[srcAt + i]!);
    dst += String.fromCharCode(b[srcAt + addrLen + i]!);
  }
  let sport = hasPorts ? (b[l4]! << 8) | b[l4 + 1]! : 0;
  let dport = hasPorts ? (b[l4 + 2]! << 8) | b[l4 + 3]! : 0;
  if (symmetric && (src > dst || (src === dst && sport > dport))) {
    [src, dst] = [dst, src];
    [sport, dport] = [dport, sport];
  }
  let h = mix(seed, proto);
  for (let i = 0; i < addrLen; i++) h = mix(h, src.charCodeAt(i));
  for (let i = 0; i < addrLen; i++) h = mix(h, dst.charCodeAt(i));
  h = mix(h, (sport << 16) | dport);
  // The flow dissector's hash is never 0 (0 means "not computed").
  return h === 0 ? 1 : h;
}

/** What fanout_add needs of the joining socket. */
export interface Joining {
  readonly member: FanoutMember;
  /** po->running: the socket is hooked (it has a protocol). */
  readonly running: boolean;
  readonly protocol: number;
  readonly ifindex: number;
}

/**
 * setsockopt(PACKET_FANOUT) (fanout_add): the checks in Linux's order (EINVAL for an unknown
 * mode or ROLLOVER with the rollover flag, EALREADY in a group, EINVAL for UNIQUEID with an id,
 * EINVAL for another group's flags or size, or above PACKET_FANOUT_MAX, EINVAL when the socket
 * does not run or its mode, protocol or link are not the group's, ENOSPC when it is full).
 */
export function fanoutAdd(
  reg: FanoutRegistry,
  s: Joining,
  id: number,
  typeFlags: number,
  maxMembers: number,
): 0 | LinuxError {
  const type = typeFlags & 0xff;
  let flags = typeFlags >>> 8;
  if (type === FanoutMode.ROLLOVER && typeFlags & FanoutFlag.ROLLOVER) return E.EINVAL;
  if (type > FanoutMode.EBPF) return E.EINVAL;
  const m = s.member;
  if (m.fanout) return E.EALREADY;
  const rollover: Rollover | undefined =
    type === FanoutMode.ROLLOVER || typeFlags & FanoutFlag.ROLLOVER
      ? { sock: 0, num: 0, numHuge: 0, numFailed: 0, history: new Uint32Array(ROLLOVER_HLEN) }
      : undefined;
  if (typeFlags & FanoutFlag.UNIQUEID) {
    if (id !== 0) return E.EINVAL;
    const fresh = reg.newId();
    if (fresh === undefined) return E.ENOMEM;
    id = fresh;
    flags &= ~(FanoutFlag.UNIQUEID >>> 8);
  }
  let group = reg.groups.get(id);
  if (group) {
    if (group.flags !== flags) return E.EINVAL;
    if (maxMembers !== 0 && maxMembers !== group.maxMembers) return E.EINVAL;
  } else {
    if (maxMembers > PACKET_FANOUT_MAX) return E.EINVAL;
    group = new FanoutGroup(
      reg,
      id,
      type,
      flags,
      s.protocol,
      s.ifindex,
      maxMembers !== 0 ? maxMembers : LEGACY_MAX_MEMBERS,
    );
    reg.groups.set(id, group);
  }
  let err: 0 | LinuxError = E.EINVAL;
  if (s.running && group.type === type && group.protocol === s.protocol && group.ifindex === s.ifindex) {
    err = E.ENOSPC;
    if (group.joined.size < group.maxMembers) {
      m.fanout = group;
      m.rollover = rollover;
      group.joined.add(m);
      group.link(m);
      err = 0;
    }
  }
  if (err !== 0 && group.joined.size === 0) reg.groups.delete(id);
  return err;
}

/**
 * setsockopt(PACKET_FANOUT_DATA) (fanout_set_data): EINVAL outside a group or in a mode without
 * data; CBPF: EPERM with a locked filter, EINVAL unless a struct sock_fprog, EFAULT, then the
 * program's checks; EBPF: EPERM when locked, EINVAL unless an int, EBADF for a closed fd, and
 * EINVAL for any other (no file here is an eBPF program).
 */
export function fanoutSetData(t: Task, m: FanoutMember, addr: number, optlen: number): 0 | LinuxError {
  const g = m.fanout;
  if (!g) return E.EINVAL;
  if (g.type === FanoutMode.CBPF) {
    if (m.filter.locked) return E.EPERM;
    if (optlen !== SOCK_FPROG_SIZE) return E.EINVAL;
    const fprog = t.memory.read(addr, SOCK_FPROG_SIZE);
    if (isError(fprog)) return fprog;
    const dv = new DataView(fprog.buffer, fprog.byteOffset, SOCK_FPROG_SIZE);
    const len = dv.getUint16(0, true);
    const at = dv.getBigUint64(8, true);
    if (at === 0n || len === 0 || len > BPF_MAXINSNS) return E.EINVAL;
    if (at > BigInt(Number.MAX_SAFE_INTEGER)) return E.EFAULT;
    const bytes = t.memory.read(Number(at), len * SOCK_FILTER_SIZE);
    if (isError(bytes)) return bytes;
    const prog = checkClassicProgram(bytes);
    if (isError(prog)) return prog;
    g.prog = prog;
    return 0;
  }
  if (g.type === FanoutMode.EBPF) {
    if (m.filter.locked) return E.EPERM;
    if (optlen !== 4) return E.EINVAL;
    const fd = t.memory.readI32(addr);
    if (isError(fd)) return fd;
    return isError(fileAt(t, fd)) ? E.EBADF : E.EINVAL;
  }
  return E.EINVAL;
}

/** PACKET_ROLLOVER_STATS: tp_all, tp_huge, tp_failed as three u64; EINVAL without rollover. */
export function rolloverStats(m: FanoutMember): Uint8Array | LinuxError {
  const r = m.rollover;
  if (!r) return E.EINVAL;
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(r.num), true);
  dv.setBigUint64(8, BigInt(r.numHuge), true);
  dv.setBigUint64(16, BigInt(r.numFailed), true);
  return b;
}
