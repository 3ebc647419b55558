/**
 * Classic BPF socket filters (SO_ATTACH_FILTER): the checker Linux runs on a program a socket is
 * given (bpf_check_basics_ok, bpf_check_classic and check_load_and_stores in
 * net/core/filter.c) and an interpreter that runs it on a packet the way Linux's converted
 * program does. A filter's answer is how many bytes of the packet to keep: 0 drops it.
 *
 * The packet is what the receiving protocol hands sk_filter_trim_cap: `data` is where Linux's
 * skb->data points at that moment (the UDP header for UDP, the IP header for raw IPv4 sockets,
 * the payload for AF_UNIX), and absolute loads count from there. Negative offsets reach the
 * network header (SKF_NET_OFF) and the link header (SKF_LL_OFF) when the packet has them.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';

/** BPF_MAXINSNS: the longest classic program Linux takes. */
export const BPF_MAXINSNS = 4096;
/** BPF_MEMWORDS: the scratch memory cells M[0..15]. */
const BPF_MEMWORDS = 16;
/** One instruction of a struct sock_filter array: u16 code, u8 jt, u8 jf, u32 k. */
export const SOCK_FILTER_SIZE = 8;

/** Negative load offsets of include/uapi/linux/filter.h (as unsigned 32-bit k). */
export const SKF_AD_OFF = -0x1000;
/** Loads at SKF_NET_OFF + n read byte n of the network header. */
export const SKF_NET_OFF = -0x100000;
/** Loads at SKF_LL_OFF + n read byte n of the link-layer header. */
export const SKF_LL_OFF = -0x200000;

/** The ancillary loads (SKF_AD_OFF + these), include/uapi/linux/filter.h. */
export const SkfAd = {
  PROTOCOL: 0,
  PKTTYPE: 4,
  IFINDEX: 8,
  NLATTR: 12,
  NLATTR_NEST: 16,
  MARK: 20,
  QUEUE: 24,
  HATYPE: 28,
  RXHASH: 32,
  CPU: 36,
  ALU_XOR_X: 40,
  VLAN_TAG: 44,
  VLAN_TAG_PRESENT: 48,
  PAY_OFFSET: 52,
  RANDOM: 56,
  VLAN_TPID: 60,
  /** SKF_AD_MAX: what getsockopt(SO_BPF_EXTENSIONS) reports. */
  MAX: 64,
} as const;

// Instruction fields (include/uapi/linux/bpf_common.h, filter.h).
const BPF_LD = 0x00;
const BPF_LDX = 0x01;
const BPF_ST = 0x02;
const BPF_STX = 0x03;
const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
const BPF_RET = 0x06;
const BPF_MISC = 0x07;
const BPF_W = 0x00;
const BPF_H = 0x08;
const BPF_B = 0x10;
const BPF_IMM = 0x00;
const BPF_ABS = 0x20;
const BPF_IND = 0x40;
const BPF_MEM = 0x60;
const BPF_LEN = 0x80;
const BPF_MSH = 0xa0;
const BPF_K = 0x00;
const BPF_X = 0x08;
const BPF_A = 0x10;
const BPF_JA = 0x00;
const BPF_JEQ = 0x10;
const BPF_JGT = 0x20;
const BPF_JGE = 0x30;
const BPF_JSET = 0x40;
const BPF_TAX = 0x00;
const BPF_TXA = 0x80;
const ALU_OPS = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
} as const;
const BPF_NEG = 0x80;
const BPF_MOD = 0x90;
const BPF_XOR = 0xa0;

/** The opcodes chk_code_allowed lets through, exactly (anything else is EINVAL). */
const ALLOWED: ReadonlySet<number> = new Set([
  ...[...Object.values(ALU_OPS), BPF_MOD, BPF_XOR].flatMap((op) => [
    BPF_ALU | op | BPF_K,
    BPF_ALU | op | BPF_X,
  ]),
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_W | BPF_ABS,
  BPF_LD | BPF_H | BPF_ABS,
  BPF_LD | BPF_B | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LD | BPF_W | BPF_IND,
  BPF_LD | BPF_H | BPF_IND,
  BPF_LD | BPF_B | BPF_IND,
  BPF_LD | BPF_IMM,
  BPF_LD | BPF_MEM,
  BPF_LDX | BPF_W | BPF_LEN,
  BPF_LDX | BPF_B | BPF_MSH,
  BPF_LDX | BPF_IMM,
  BPF_LDX | BPF_MEM,
  BPF_ST,
  BPF_STX,
  BPF_MISC | BPF_TAX,
  BPF_MISC | BPF_TXA,
  BPF_RET | BPF_K,
  BPF_RET | BPF_A,
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

/** The ancillary offsets bpf_anc_helper knows (k - SKF_AD_OFF). */
const ANCILLARY: ReadonlySet<number> = new Set(
  Object.entries(SkfAd)
    .filter(([name]) => name !== 'MAX')
    .map(([, v]) => v),
);

const SKF_AD_OFF_U32 = SKF_AD_OFF >>> 0;

/** One classic BPF instruction (struct sock_filter). */
export interface SockFilter {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  /** The 32-bit constant, unsigned. */
  readonly k: number;
}

/** A program that passed the checker: its instructions and the bytes it was given (SO_GET_FILTER). */
export interface ClassicProgram {
  readonly insns: readonly SockFilter[];
  /** The struct sock_filter array as attached, 8 bytes per instruction. */
  readonly bytes: Uint8Array;
}

/** Decodes a struct sock_filter array (little-endian, 8 bytes each); a partial tail is ignored. */
export function decodeSockFilters(bytes: Uint8Array): SockFilter[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: SockFilter[] = [];
  for (let at = 0; at + SOCK_FILTER_SIZE <= bytes.length; at += SOCK_FILTER_SIZE)
    out.push({
      code: dv.getUint16(at, true),
      jt: dv.getUint8(at + 2),
      jf: dv.getUint8(at + 3),
      k: dv.getUint32(at + 4, true),
    });
  return out;
}

/** Encodes instructions as a struct sock_filter array (the inverse of {@link decodeSockFilters}). */
export function encodeSockFilters(insns: readonly SockFilter[]): Uint8Array {
  const bytes = new Uint8Array(insns.length * SOCK_FILTER_SIZE);
  const dv = new DataView(bytes.buffer);
  insns.forEach((i, n) => {
    dv.setUint16(n * 8, i.code & 0xffff, true);
    dv.setUint8(n * 8 + 2, i.jt & 0xff);
    dv.setUint8(n * 8 + 3, i.jf & 0xff);
    dv.setUint32(n * 8 + 4, i.k >>> 0, true);
  });
  return bytes;
}

function isCondJump(code: number): boolean {
  return (code & 0x07) === BPF_JMP && (code & 0xf0) !== BPF_JA;
}

/**
 * Checks a classic program as Linux does before attaching it: EINVAL for an empty one or one
 * longer than {@link BPF_MAXINSNS}, an opcode Linux does not take, a constant division or
 * modulo by 0, a constant shift of 32 or more, a scratch cell beyond M[15], a jump out of the
 * program, an unknown ancillary load, a last instruction other than RET K / RET A, or a read of
 * a scratch cell that some path reaches unwritten.
 *
 * ```ts
 * const p = checkClassicProgram(encodeSockFilters([{ code: 0x06, jt: 0, jf: 0, k: 0xffff }]));
 * ```
 */
export function checkClassicProgram(bytes: Uint8Array): ClassicProgram | LinuxError {
  const flen = Math.floor(bytes.length / SOCK_FILTER_SIZE);
  if (flen === 0 || flen > BPF_MAXINSNS) return E.EINVAL;
  const own = bytes.slice(0, flen * SOCK_FILTER_SIZE);
  const insns = decodeSockFilters(own);
  for (let pc = 0; pc < flen; pc++) {
    const f = insns[pc]!;
    if (!ALLOWED.has(f.code)) return E.EINVAL;
    switch (f.code) {
      case BPF_ALU | ALU_OPS.DIV | BPF_K:
      case BPF_ALU | BPF_MOD | BPF_K:
        if (f.k === 0) return E.EINVAL;
        break;
      case BPF_ALU | ALU_OPS.LSH | BPF_K:
      case BPF_ALU | ALU_OPS.RSH | BPF_K:
        if (f.k >= 32) return E.EINVAL;
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (f.k >= BPF_MEMWORDS) return E.EINVAL;
        break;
      case BPF_JMP | BPF_JA:
        // Unsigned: the last instruction cannot jump at all.
        if (f.k >= flen - pc - 1) return E.EINVAL;
        break;
      case BPF_LD | BPF_W | BPF_ABS:
      case BPF_LD | BPF_H | BPF_ABS:
      case BPF_LD | BPF_B | BPF_ABS:
        if (f.k >= SKF_AD_OFF_U32 && !ANCILLARY.has(f.k - SKF_AD_OFF_U32)) return E.EINVAL;
        break;
      default:
        if (isCondJump(f.code) && (pc + f.jt + 1 >= flen || pc + f.jf + 1 >= flen)) return E.EINVAL;
    }
  }
  const last = insns[flen - 1]!.code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) return E.EINVAL;
  return memoryReadsInitialised(insns) ? { insns, bytes: own } : E.EINVAL;
}

/** check_load_and_stores: one forward pass, each jump target keeping the cells valid on every edge. */
function memoryReadsInitialised(insns: readonly SockFilter[]): boolean {
  const masks = new Uint16Array(insns.length).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    valid &= masks[pc]!;
    const f = insns[pc]!;
    switch (f.code) {
      case BPF_ST:
      case BPF_STX:
        valid |= 1 << f.k;
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
        if (!(valid & (1 << f.k))) return false;
        break;
      case BPF_JMP | BPF_JA:
        masks[pc + 1 + f.k]! &= valid;
        valid = 0xffff;
        break;
      default:
        if (isCondJump(f.code)) {
          masks[pc + 1 + f.jt]! &= valid;
          masks[pc + 1 + f.jf]! &= valid;
          valid = 0xffff;
        }
    }
  }
  return true;
}

/**
 * A packet as a filter sees it (the parts of Linux's sk_buff a classic program can read).
 * `bytes` runs from the first byte the stack keeps (the link or network header) to the tail;
 * `data` is the offset of skb->data in it, `network` and `link` those of the headers, when
 * the packet has them (a load through a missing header fails, ending the program with 0).
 */
export interface FilterPacket {
  readonly bytes: Uint8Array;
  readonly data: number;
  readonly network?: number;
  readonly link?: number;
  /** skb->protocol as a host number (ETH_P_IP 0x0800, ETH_P_IPV6 0x86dd; 0 for AF_UNIX). */
  readonly protocol?: number;
  /** skb->pkt_type (PACKET_HOST 0, PACKET_BROADCAST 1, PACKET_MULTICAST 2, ...). */
  readonly pktType?: number;
  /** The arrival device's ifindex and ARPHRD_* type; undefined when the skb has no device. */
  readonly ifindex?: number;
  readonly hatype?: number;
  readonly mark?: number;
  readonly queue?: number;
  readonly rxhash?: number;
  readonly cpu?: number;
  readonly vlanTag?: number;
  readonly vlanPresent?: boolean;
  readonly vlanTpid?: number;
  /** skb_get_poff: the offset of the transport payload from skb->data (0 when unknown). */
  readonly payOffset?: number;
}

/** Reads `size` bytes big-endian at `at` of `p.bytes`, or -1 when they are not all there. */
function loadAt(p: FilterPacket, k: number, size: number): number {
  let at: number;
  if (k >= 0) {
    at = p.data + k;
  } else if (k >= SKF_NET_OFF) {
    if (p.network === undefined) return -1;
    at = p.network + (k - SKF_NET_OFF);
  } else if (k >= SKF_LL_OFF) {
    if (p.link === undefined) return -1;
    at = p.link + (k - SKF_LL_OFF);
  } else return -1;
  // bpf_internal_load_pointer_neg_helper: anywhere from the buffer's head to its tail.
  if (at < 0 || at + size > p.bytes.length) return -1;
  const b = p.bytes;
  if (size === 1) return b[at]!;
  if (size === 2) return (b[at]! << 8) | b[at + 1]!;
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** nla_find over `len` bytes at `at`: the offset of the first attribute of type `type`, or 0. */
function nlaFind(b: Uint8Array, at: number, len: number, type: number): number {
  while (len >= 4) {
    const nlaLen = b[at]! | (b[at + 1]! << 8);
    if (nlaLen < 4 || nlaLen > len) return 0;
    if (((b[at + 2]! | (b[at + 3]! << 8)) & 0x3fff) === (type & 0xffff)) return at;
    const step = (nlaLen + 3) & ~3;
    at += step;
    len -= step;
  }
  return 0;
}

/**
 * Runs a checked program on a packet: the number of bytes to keep (0: drop), as an unsigned
 * 32-bit number. A load outside the packet, a division or modulo by X = 0, and SKF_AD_IFINDEX /
 * SKF_AD_HATYPE on a packet without a device end the program early, as Linux's converted
 * program does (the first two with 0, the last with the current A). `random` supplies
 * SKF_AD_RANDOM.
 *
 * ```ts
 * runClassicFilter(prog, { bytes: datagram, data: 0 }); // bytes to keep
 * ```
 */
export function runClassicFilter(
  prog: ClassicProgram,
  p: FilterPacket,
  random: () => number = () => (Math.random() * 0x100000000) >>> 0,
): number {
  const insns = prog.insns;
  const mem = new Uint32Array(BPF_MEMWORDS);
  const len = p.bytes.length - p.data;
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const f = insns[pc]!;
    const k = f.k;
    switch (f.code) {
      case BPF_RET | BPF_K:
        return k >>> 0;
      case BPF_RET | BPF_A:
        return a >>> 0;
      case BPF_LD | BPF_IMM:
        a = k;
        break;
      case BPF_LDX | BPF_IMM:
        x = k;
        break;
      case BPF_LD | BPF_MEM:
        a = mem[k]!;
        break;
      case BPF_LDX | BPF_MEM:
        x = mem[k]!;
        break;
      case BPF_ST:
        mem[k] = a;
        break;
      case BPF_STX:
        mem[k] = x;
        break;
      case BPF_LD | BPF_W | BPF_LEN:
        a = len;
        break;
      case BPF_LDX | BPF_W | BPF_LEN:
        x = len;
        break;
      case BPF_MISC | BPF_TAX:
        x = a;
        break;
      case BPF_MISC | BPF_TXA:
        a = x;
        break;
      case BPF_LD | BPF_W | BPF_ABS:
      case BPF_LD | BPF_H | BPF_ABS:
      case BPF_LD | BPF_B | BPF_ABS: {
        if (k >= SKF_AD_OFF_U32) {
          const r = ancillary(k - SKF_AD_OFF_U32, a, x, p, len, random);
          if (r.exit) return r.value >>> 0;
          a = r.value;
          break;
        }
        const v = loadAt(p, k | 0, sizeOf(f.code));
        if (v < 0) return 0;
        a = v;
        break;
      }
      case BPF_LD | BPF_W | BPF_IND:
      case BPF_LD | BPF_H | BPF_IND:
      case BPF_LD | BPF_B | BPF_IND: {
        const v = loadAt(p, (x + k) | 0, sizeOf(f.code));
        if (v < 0) return 0;
        a = v;
        break;
      }
      case BPF_LDX | BPF_B | BPF_MSH: {
        const v = loadAt(p, k | 0, 1);
        if (v < 0) return 0;
        x = (v & 0xf) << 2;
        break;
      }
      case BPF_JMP | BPF_JA:
        pc += k;
        break;
      case BPF_ALU | BPF_NEG:
        a = -a >>> 0;
        break;
      default: {
        const cls = f.code & 0x07;
        const src = (f.code & BPF_X) !== 0 ? x : k;
        if (cls === BPF_ALU) {
          const op = f.code & 0xf0;
          if ((op === ALU_OPS.DIV || op === BPF_MOD) && src === 0) return 0;
          a = alu(op, a, src);
        } else if (cls === BPF_JMP) {
          pc += jump(f.code & 0xf0, a, src) ? f.jt : f.jf;
        } else {
          throw new Error(`cbpf: unchecked opcode 0x${f.code.toString(16)}`);
        }
      }
    }
  }
  // A checked program ends with RET; falling off it is a bug in the checker.
  throw new Error('cbpf: program ran past its end');
}

function sizeOf(code: number): number {
  const s = code & 0x18;
  return s === BPF_W ? 4 : s === BPF_H ? 2 : 1;
}

function alu(op: number, a: number, v: number): number {
  switch (op) {
    case ALU_OPS.ADD:
      return (a + v) >>> 0;
    case ALU_OPS.SUB:
      return (a - v) >>> 0;
    case ALU_OPS.MUL:
      return Math.imul(a, v) >>> 0;
    case ALU_OPS.DIV:
      return Math.floor(a / v) >>> 0;
    case BPF_MOD:
      return (a % v) >>> 0;
    case ALU_OPS.OR:
      return (a | v) >>> 0;
    case ALU_OPS.AND:
      return (a & v) >>> 0;
    case BPF_XOR:
      return (a ^ v) >>> 0;
    // 32-bit shifts by X take the low five bits of X (the interpreter and x86 both mask).
    case ALU_OPS.LSH:
      return (a << (v & 31)) >>> 0;
    case ALU_OPS.RSH:
      return a >>> (v & 31);
    default:
      throw new Error(`cbpf: unchecked ALU op 0x${op.toString(16)}`);
  }
}

function jump(op: number, a: number, v: number): boolean {
  switch (op) {
    case BPF_JEQ:
      return a === v;
    case BPF_JGT:
      return a > v;
    case BPF_JGE:
      return a >= v;
    case BPF_JSET:
      return (a & v) !== 0;
    default:
      throw new Error(`cbpf: unchecked jump op 0x${op.toString(16)}`);
  }
}

/** convert_bpf_extensions: the value an ancillary load puts in A, or an early exit. */
function ancillary(
  ad: number,
  a: number,
  x: number,
  p: FilterPacket,
  len: number,
  random: () => number,
): { exit: boolean; value: number } {
  const v = (value: number): { exit: boolean; value: number } => ({ exit: false, value: value >>> 0 });
  switch (ad) {
    case SkfAd.PROTOCOL:
      return v(p.protocol ?? 0);
    case SkfAd.PKTTYPE:
      return v((p.pktType ?? 0) & 7);
    case SkfAd.IFINDEX:
    case SkfAd.HATYPE:
      // No device: the converted program exits with A as it stands.
      if (p.ifindex === undefined) return { exit: true, value: a };
      return v(ad === SkfAd.IFINDEX ? p.ifindex : (p.hatype ?? 0) & 0xffff);
    case SkfAd.MARK:
      return v(p.mark ?? 0);
    case SkfAd.QUEUE:
      return v((p.queue ?? 0) & 0xffff);
    case SkfAd.RXHASH:
      return v(p.rxhash ?? 0);
    case SkfAd.CPU:
      return v(p.cpu ?? 0);
    case SkfAd.ALU_XOR_X:
      return v(a ^ x);
    case SkfAd.VLAN_TAG:
      return v((p.vlanTag ?? 0) & 0xffff);
    case SkfAd.VLAN_TAG_PRESENT:
      return v(p.vlanPresent === true ? 1 : 0);
    case SkfAd.VLAN_TPID:
      return v((p.vlanTpid ?? 0) & 0xffff);
    case SkfAd.PAY_OFFSET:
      return v(p.payOffset ?? 0);
    case SkfAd.RANDOM:
      return v(random());
    case SkfAd.NLATTR:
    case SkfAd.NLATTR_NEST: {
      // __skb_get_nlattr(_nest): A is an offset into the packet, X the attribute type.
      if (len < 4 || a > len - 4) return v(0);
      const at = p.data + a;
      if (ad === SkfAd.NLATTR) {
        const found = nlaFind(p.bytes, at, len - a, x);
        return v(found === 0 ? 0 : found - p.data);
      }
      const nlaLen = p.bytes[at]! | (p.bytes[at + 1]! << 8);
      if (nlaLen > len - a) return v(0);
      const found = nlaFind(p.bytes, at + 4, nlaLen - 4, x);
      return v(found === 0 ? 0 : found - p.data);
    }
    default:
      throw new Error(`cbpf: unchecked ancillary load ${ad}`);
  }
}

/**
 * The filter state every socket keeps (sk->sk_filter and SOCK_FILTER_LOCKED): what
 * SO_ATTACH_FILTER, SO_DETACH_FILTER, SO_LOCK_FILTER and SO_GET_FILTER act on. The receive
 * paths ask {@link SocketFilter.keep} how much of a packet to keep.
 */
export class SocketFilter {
  /** The attached program, if any. */
  program: ClassicProgram | undefined;
  /** SO_LOCK_FILTER: the filter can no longer be attached, replaced or detached. */
  locked = false;

  /** sk_attach_filter: replaces any previous program; EPERM once locked, else the checker's errno. */
  attach(bytes: Uint8Array): 0 | LinuxError {
    if (this.locked) return E.EPERM;
    const prog = checkClassicProgram(bytes);
    if (!('insns' in prog)) return prog;
    this.program = prog;
    return 0;
  }

  /** sk_detach_filter: EPERM once locked, ENOENT when no program is attached. */
  detach(): 0 | LinuxError {
    if (this.locked) return E.EPERM;
    if (!this.program) return E.ENOENT;
    this.program = undefined;
    return 0;
  }

  /** SO_LOCK_FILTER: once on, it cannot be turned off (EPERM). */
  lock(on: boolean): 0 | LinuxError {
    if (this.locked && !on) return E.EPERM;
    this.locked = on;
    return 0;
  }

  /**
   * sk_filter_trim_cap: the bytes of the packet (from skb->data) to keep, never fewer than
   * `cap` (the header the protocol needs) unless the packet is shorter; -1 when the filter
   * drops it. Without a filter, all of it.
   */
  keep(p: FilterPacket, cap: number): number {
    const len = p.bytes.length - p.data;
    if (!this.program) return len;
    const r = runClassicFilter(this.program, p);
    if (r === 0) return -1;
    return Math.min(len, Math.max(cap, r));
  }

  /** sk_clone_lock: a child socket (accept) starts with its listener's filter and lock. */
  copyFrom(other: SocketFilter): void {
    this.program = other.program;
    this.locked = other.locked;
  }
}
