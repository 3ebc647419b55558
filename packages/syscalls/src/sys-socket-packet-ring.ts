/**
 * PACKET_RX_RING and PACKET_TX_RING: the memory-mapped rings of AF_PACKET sockets (TPACKET_V1,
 * V2, V3), as net/packet/af_packet.c lays them out and hands frames over (packet_set_ring,
 * tpacket_rcv and the prb_* block functions of V3; the TX ring's frames for tpacket_snd).
 *
 * The rings' memory is one memfd of the sandbox VFS (memfdFsOf), the RX ring first and the TX
 * ring after it, as packet_mmap maps them: the supervisor writes frames and headers into it with
 * positioned writes and reads the status words the app hands back, and mmap(2) of the socket
 * maps the same memory into the app (the socket's `hostFd()` is the memfd's, which moves it into
 * host memory on the first mapping). A frame's body is written before its status word (V1/V2),
 * a block's packets before its block status (V3), the order the kernel's barriers give. Rings
 * change only while unmapped, so a change moves them into fresh memory laid out anew.
 *
 * mmap(2) of the socket maps exactly its rings from offset 0 (else EINVAL, packet_mmap); while
 * any address space of the sandbox maps them, a ring can be neither set nor torn down (EBUSY,
 * Linux's po->mapped), which {@link ringMapped} finds by looking at the VMAs.
 *
 * @module
 */
import { E, SockType, isError, type LinuxError } from '@tsvisor/abi';
import type { Kernel, Task } from '@tsvisor/kernel';
import type { AddressSpace } from '@tsvisor/mm';
import { memfdFsOf, type FileDescription } from '@tsvisor/vfs';
import type { TappedFrame } from '@tsvisor/netstack';
import { VfsMapFile } from './sys-mm.js';
import type { SyscallResult } from './types.js';
import { vfsCreds, vfsOf } from './vfs-context.js';

/**
 * Whether any address space of the kernel maps the file description whose impl is `impl`
 * (Linux counts po->mapped in the VMAs' open and close operations; a partial munmap, a second
 * mmap and a fork's copy each keep the ring mapped).
 */
export function ringMapped(kernel: Kernel, impl: object): boolean {
  const seen = new Set<AddressSpace>();
  for (const task of kernel.allTasks()) {
    const model = task.mm.model as AddressSpace | undefined;
    if (!model || seen.has(model)) continue;
    seen.add(model);
    for (const vma of model.list()) {
      if (vma.file instanceof VfsMapFile && vma.file.description.impl === impl) return true;
    }
  }
  return false;
}

/** What the ring needs of the socket it belongs to (PacketSocketImpl). */
export interface RingHost {
  readonly sock: {
    readonly type: number;
    version: number;
    reserve: number;
    loss: number;
    ring: PacketRing | undefined;
    txRing: TxRing | undefined;
    /** The memory both rings live in, RX first (what mmap(2) of the socket maps). */
    ringMemory: RingMemory | undefined;
    purgeQueue(): void;
    notify(events: number): void;
    /** The socket's hook comes off and back on around the change (fanout order). */
    rehook(): void;
  };
}

const TPACKET_V1 = 0;
const TPACKET_V2 = 1;
const TPACKET_V3 = 2;
const TP_STATUS_KERNEL = 0;
const TP_STATUS_USER = 1;
const TP_STATUS_LOSING = 1 << 2;
const TP_STATUS_BLK_TMO = 1 << 5;
/** The timestamp came from the software clock when the frame was seen (skb->tstamp on lo). */
const TP_STATUS_TS_SOFTWARE = 1 << 29;
/** TPACKET_ALIGNMENT and the V3 packet alignment. */
const TPACKET_ALIGNMENT = 16;
const V3_ALIGNMENT = 8;
/** sizeof(struct sockaddr_ll). */
const SOCKADDR_LL_LEN = 20;
/** sizeof(struct tpacket_hdr), tpacket2_hdr, tpacket3_hdr. */
const HDR_SIZE = [32, 32, 48] as const;
/** TPACKET_HDRLEN, TPACKET2_HDRLEN, TPACKET3_HDRLEN: the header, aligned, and a sockaddr_ll. */
const HDRLEN = [52, 52, 68] as const;
/** BLK_HDR_LEN: struct tpacket_block_desc aligned to 8. */
const BLK_HDR_LEN = 48;
/** sizeof(struct tpacket_req) and tpacket_req3. */
const REQ_LEN = 16;
const REQ3_LEN = 28;
/** DEFAULT_PRB_RETIRE_TOV: the block timeout when none is asked for (ms). */
const DEFAULT_RETIRE_TOV_MS = 8;
const PAGE_SIZE = 4096;
/** The largest ring this supervisor allocates (alloc_pg_vec fails with ENOMEM beyond memory). */
const RING_MAX_BYTES = 1 << 30;
const POLLIN_RDNORM = 0x41;

function tpacketAlign(x: number): number {
  return (x + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1);
}

function align8(x: number): number {
  return (x + V3_ALIGNMENT - 1) & ~(V3_ALIGNMENT - 1);
}

/** The geometry packet_set_ring accepted. */
interface RingGeometry {
  readonly version: number;
  readonly blockSize: number;
  readonly blockNr: number;
  readonly frameSize: number;
  readonly frameNr: number;
  readonly retireTovMs: number;
  readonly sizeofPriv: number;
}

/**
 * The memory of a socket's rings: one memfd of the sandbox VFS, the RX ring at 0 and the TX ring
 * after it, as packet_mmap maps them. The supervisor reads and writes it with positioned I/O.
 */
export class RingMemory {
  constructor(readonly file: FileDescription) {}

  /** The memfd's host fd (moving its bytes to host memory), for mmap(2). */
  hostFd(): number | null {
    return this.file.hostFd();
  }

  write(pos: number, bytes: Uint8Array): void {
    const r = this.file.pwrite(bytes, pos);
    if (typeof r !== 'number' || r !== bytes.length) throw new Error(`packet ring: write at ${pos} failed`);
  }

  read(pos: number, len: number): Uint8Array {
    const b = new Uint8Array(len);
    const r = len > 0 ? this.file.pread(b, pos) : 0;
    if (typeof r !== 'number' || r !== len) throw new Error(`packet ring: read at ${pos} failed`);
    return b;
  }

  readU32(pos: number): number {
    const b = this.read(pos, 4);
    return new DataView(b.buffer).getUint32(0, true);
  }

  release(): void {
    this.file.release();
  }
}

/** A fresh zeroed memory of `size` bytes for the rings, undefined for none, ENOMEM on failure. */
function newMemory(t: Task, size: number): RingMemory | undefined | LinuxError {
  if (size === 0) return undefined;
  const file = memfdFsOf(vfsOf(t)).create('packet-ring', 0, vfsCreds(t));
  if (isError(file)) return E.ENOMEM;
  if (vfsOf(t).ftruncate(file, size)) {
    file.release();
    return E.ENOMEM;
  }
  return new RingMemory(file);
}

/** A ring's place in the socket's memory, which moves when the other ring comes or goes. */
interface Placed {
  readonly size: number;
  mem: RingMemory;
  base: number;
}

/** Copies a ring into `mem` at `base` and points it there. */
function move(r: Placed, mem: RingMemory, base: number): void {
  mem.write(base, r.mem.read(r.base, r.size));
  r.mem = mem;
  r.base = base;
}

/**
 * setsockopt(PACKET_RX_RING) and (`tx`) PACKET_TX_RING (packet_set_ring): reads a tpacket_req
 * (V1, V2) or tpacket_req3 (V3), EBUSY while the rings are mapped, checks the geometry in
 * Linux's order and sets the ring (a tp_block_nr of 0 removes it; EBUSY when one is set). A V3
 * TX ring is a ring of frames with V3 headers: the block options are EINVAL for it. The rings
 * move into fresh memory, RX first, so one mapping sees both.
 */
export function setRing(t: Task, host: RingHost, addr: number, optlen: number, tx: boolean): SyscallResult {
  const s = host.sock;
  const len = s.version === TPACKET_V3 ? REQ3_LEN : REQ_LEN;
  if (optlen < len) return E.EINVAL;
  const b = t.memory.read(addr, len);
  if (isError(b)) return b;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const blockSize = dv.getUint32(0, true);
  const blockNr = dv.getUint32(4, true);
  const frameSize = dv.getUint32(8, true);
  const frameNr = dv.getUint32(12, true);
  const retireTov = s.version === TPACKET_V3 ? dv.getUint32(16, true) : 0;
  const sizeofPriv = s.version === TPACKET_V3 ? dv.getUint32(20, true) : 0;
  const featureReq = s.version === TPACKET_V3 ? dv.getUint32(24, true) : 0;
  if (ringMapped(t.kernel, host)) return E.EBUSY;
  const current: Placed | undefined = tx ? s.txRing : s.ring;
  const other: Placed | undefined = tx ? s.ring : s.txRing;
  if (blockNr === 0) {
    if (frameNr !== 0) return E.EINVAL;
    s.rehook();
    if (!tx) s.purgeQueue();
    if (!current) return 0;
    const mem = newMemory(t, other?.size ?? 0);
    if (isError(mem)) return mem;
    if (other && mem) move(other, mem, 0);
    if (tx) s.txRing = undefined;
    else {
      s.ring?.release();
      s.ring = undefined;
    }
    s.ringMemory?.release();
    s.ringMemory = mem;
    return 0;
  }
  if (current) return E.EBUSY;
  const hdrlen = HDRLEN[s.version as 0 | 1 | 2];
  if ((blockSize | 0) <= 0) return E.EINVAL;
  if (blockSize % PAGE_SIZE !== 0) return E.EINVAL;
  const minFrame = hdrlen + s.reserve;
  if (s.version === TPACKET_V3 && blockSize < BLK_HDR_LEN + align8(sizeofPriv) + minFrame) return E.EINVAL;
  if (frameSize < minFrame) return E.EINVAL;
  if (frameSize & (TPACKET_ALIGNMENT - 1)) return E.EINVAL;
  const perBlock = Math.floor(blockSize / frameSize);
  if (perBlock === 0) return E.EINVAL;
  if (perBlock > Math.floor(0xffffffff / blockNr)) return E.EINVAL;
  if (perBlock * blockNr !== frameNr) return E.EINVAL;
  const size = blockSize * blockNr;
  if (size + (other?.size ?? 0) > RING_MAX_BYTES) return E.ENOMEM;
  if (tx && s.version === TPACKET_V3 && (retireTov !== 0 || sizeofPriv !== 0 || featureReq !== 0))
    return E.EINVAL;
  const rxSize = tx ? (other?.size ?? 0) : size;
  const mem = newMemory(t, rxSize + (tx ? size : (other?.size ?? 0)));
  if (isError(mem) || !mem) return E.ENOMEM;
  s.rehook();
  if (other) move(other, mem, tx ? 0 : size);
  s.ringMemory?.release();
  s.ringMemory = mem;
  const geometry = {
    version: s.version,
    blockSize,
    blockNr,
    frameSize,
    frameNr,
    retireTovMs: retireTov !== 0 ? retireTov : DEFAULT_RETIRE_TOV_MS,
    sizeofPriv,
  };
  if (tx) {
    s.txRing = new TxRing(mem, rxSize, geometry);
    return 0;
  }
  s.purgeQueue();
  s.ring = new PacketRing(mem, 0, geometry, s.type, s.reserve, t.kernel, (events) => s.notify(events));
  return 0;
}

/** Where a ring's frame `index` starts, from the ring's start. */
function frameOffsetOf(g: RingGeometry, perBlock: number, index: number): number {
  const block = Math.floor(index / perBlock);
  return block * g.blockSize + (index % perBlock) * g.frameSize;
}

const TP_STATUS_AVAILABLE = 0;
const TP_STATUS_SEND_REQUEST = 1;
const TP_STATUS_WRONG_FORMAT = 1 << 2;

/**
 * A socket's transmit ring (PACKET_TX_RING): frames the app fills and marks
 * TP_STATUS_SEND_REQUEST, which send(2) takes from the head on (tpacket_snd).
 */
export class TxRing implements Placed {
  /** The next frame send(2) looks at (tx_ring.head). */
  private head = 0;
  readonly size: number;
  private readonly perBlock: number;

  constructor(
    public mem: RingMemory,
    public base: number,
    readonly geometry: RingGeometry,
  ) {
    this.size = geometry.blockSize * geometry.blockNr;
    this.perBlock = Math.floor(geometry.blockSize / geometry.frameSize);
  }

  /** Where the head frame's status word is: at the start (V1, V2) or tp_status of tpacket3_hdr. */
  private statusAt(): number {
    const at = this.base + frameOffsetOf(this.geometry, this.perBlock, this.head);
    return this.geometry.version === TPACKET_V3 ? at + 20 : at;
  }

  /** Whether the head frame asks to be sent. */
  pending(): boolean {
    return this.mem.readU32(this.statusAt()) === TP_STATUS_SEND_REQUEST;
  }

  /** __packet_set_status on the head frame (V1's status is an unsigned long). */
  private setStatus(status: number): void {
    const b = new Uint8Array(this.geometry.version === TPACKET_V1 ? 8 : 4);
    new DataView(b.buffer).setUint32(0, status, true);
    this.mem.write(this.statusAt(), b);
  }

  /**
   * tpacket_parse_header: the head frame's data, from TPACKET_ALIGN(header) on, or (`hasOff`,
   * PACKET_TX_HAS_OFF) from its tp_net (SOCK_DGRAM) or tp_mac; EINVAL for a V3 frame with a
   * next offset or an offset outside the frame, EMSGSIZE for tp_len above `sizeMax`.
   */
  data(sizeMax: number, hasOff: boolean, dgram: boolean): Uint8Array | LinuxError {
    const g = this.geometry;
    const at = this.base + frameOffsetOf(g, this.perBlock, this.head);
    const h = this.mem.read(at, HDR_SIZE[g.version as 0 | 1 | 2]);
    const dv = new DataView(h.buffer);
    let len: number;
    let mac: number;
    let net: number;
    switch (g.version) {
      case TPACKET_V1:
        len = dv.getUint32(8, true);
        mac = dv.getUint16(16, true);
        net = dv.getUint16(18, true);
        break;
      case TPACKET_V2:
        len = dv.getUint32(4, true);
        mac = dv.getUint16(12, true);
        net = dv.getUint16(14, true);
        break;
      default:
        if (dv.getUint32(0, true) !== 0) return E.EINVAL;
        len = dv.getUint32(16, true);
        mac = dv.getUint16(24, true);
        net = dv.getUint16(26, true);
        break;
    }
    if (len > sizeMax) return E.EMSGSIZE;
    const offMin = HDRLEN[g.version as 0 | 1 | 2] - SOCKADDR_LL_LEN;
    let off = offMin;
    if (hasOff) {
      off = dgram ? net : mac;
      if (off < offMin || g.frameSize - len < off) return E.EINVAL;
    }
    return this.mem.read(at + off, len);
  }

  /** The head frame went out: AVAILABLE again, and the head moves on. */
  sent(): void {
    this.setStatus(TP_STATUS_AVAILABLE);
    this.advance();
  }

  /** A bad head frame with PACKET_LOSS: given back unsent and passed over. */
  skip(): void {
    this.sent(); // the same bookkeeping: PACKET_LOSS gives the frame back as if it had gone
  }

  /** A bad head frame without PACKET_LOSS: marked TP_STATUS_WRONG_FORMAT; the head stays. */
  refuse(): void {
    this.setStatus(TP_STATUS_WRONG_FORMAT);
  }

  private advance(): void {
    this.head = this.head + 1 === this.geometry.frameNr ? 0 : this.head + 1;
  }
}

/** A socket's receive ring: its memory (a memfd) and the kernel's cursor state. */
export class PacketRing implements Placed {
  /** V1/V2: the next frame the kernel fills (rx_ring.head). */
  private head = 0;
  /** PACKET_STATISTICS since the last read: frames put, frames dropped, queue freezes (V3). */
  private packets = 0;
  private drops = 0;
  private freezes = 0;
  /** The ring's total size, what mmap(2) of the socket maps. */
  readonly size: number;
  private readonly perBlock: number;
  // V3 block state (struct tpacket_kbdq_core).
  private active = 0;
  private lastActive = 0;
  private nxtOffset = 0;
  private prevOffset = 0;
  private blockPkts = 0;
  private blockLen = 0;
  private seq = 1;
  private frozen = false;
  private firstSec = 0;
  private firstNsec = 0;
  private lastPktSec = 0;
  private lastPktNsec = 0;
  private cancelTimer: (() => void) | undefined;
  private released = false;

  constructor(
    public mem: RingMemory,
    public base: number,
    readonly geometry: RingGeometry,
    private readonly sockType: number,
    private readonly reserve: number,
    private readonly kernel: Kernel,
    private readonly wake: (events: number) => void,
  ) {
    this.size = geometry.blockSize * geometry.blockNr;
    this.perBlock = Math.floor(geometry.blockSize / geometry.frameSize);
    if (geometry.version === TPACKET_V3) this.openBlock(0);
  }

  /** The socket closed or removed the ring: its timer stops (the socket frees the memory). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.cancelTimer?.();
  }

  /** PACKET_STATISTICS: the counts since the last read, which start again from 0. */
  takeStats(): { packets: number; drops: number; freezes: number } {
    const st = { packets: this.packets, drops: this.drops, freezes: this.freezes };
    this.packets = 0;
    this.drops = 0;
    this.freezes = 0;
    return st;
  }

  private write(pos: number, bytes: Uint8Array): void {
    this.mem.write(this.base + pos, bytes);
  }

  private readU32(pos: number): number {
    return this.mem.readU32(this.base + pos);
  }

  private frameOffset(index: number): number {
    return frameOffsetOf(this.geometry, this.perBlock, index);
  }

  /**
   * __tpacket_has_room (V1/V2) and __tpacket_v3_has_room: whether the frame (block) that lies
   * `count >> powOff` past the next one to fill is the kernel's (the next one itself for 0).
   */
  hasRoom(powOff: number): boolean {
    const g = this.geometry;
    const v3 = g.version === TPACKET_V3;
    const len = v3 ? g.blockNr : g.frameNr;
    let idx = v3 ? this.active : this.head;
    if (powOff) idx += len >> powOff;
    if (idx >= len) idx -= len;
    const at = v3 ? this.blockAt(idx) + 8 : this.frameOffset(idx);
    return this.readU32(at) === TP_STATUS_KERNEL;
  }

  /**
   * packet_poll with a ring: POLLIN when the frame (V1/V2) or block (V3) the kernel filled last
   * belongs to the app.
   */
  readable(): boolean {
    const g = this.geometry;
    if (g.version === TPACKET_V3) {
      const prev = this.active > 0 ? this.active - 1 : g.blockNr - 1;
      return this.readU32(prev * g.blockSize + 8) !== TP_STATUS_KERNEL;
    }
    const prev = this.head > 0 ? this.head - 1 : g.frameNr - 1;
    return this.readU32(this.frameOffset(prev)) !== TP_STATUS_KERNEL;
  }

  /**
   * tpacket_rcv: a frame for the socket: `f.bytes` from `dataOff` (the link header for
   * SOCK_RAW), `snap` bytes of it kept by the filter, `origLen` its whole length; `sll` the
   * address to store; `csum` TP_STATUS_CSUMNOTREADY or 0.
   */
  put(
    f: TappedFrame,
    dataOff: number,
    snap: number,
    origLen: number,
    sll: Uint8Array,
    csum: number,
    stampNs: bigint,
  ): void {
    const g = this.geometry;
    const hdrlen = HDRLEN[g.version as 0 | 1 | 2];
    let macoff: number;
    let netoff: number;
    if (this.sockType === SockType.SOCK_DGRAM) {
      macoff = netoff = tpacketAlign(hdrlen) + 16 + this.reserve;
    } else {
      const maclen = f.linkLen;
      netoff = tpacketAlign(hdrlen + (maclen < 16 ? 16 : maclen)) + this.reserve;
      macoff = netoff - maclen;
    }
    if (netoff > 0xffff) {
      this.drops++;
      return;
    }
    const maxLen = g.version === TPACKET_V3 ? g.blockSize - BLK_HDR_LEN - align8(g.sizeofPriv) : g.frameSize;
    if (macoff + snap > maxLen) {
      snap = maxLen - macoff;
      if (snap < 0) {
        snap = 0;
        if (g.version === TPACKET_V3) macoff = maxLen;
      }
    }
    let at: number;
    if (g.version === TPACKET_V3) {
      const slot = this.lookupBlockFrame(macoff + snap);
      if (slot === undefined) {
        this.drops++;
        return;
      }
      at = slot;
    } else {
      at = this.frameOffset(this.head);
      if (this.readU32(at) !== TP_STATUS_KERNEL) {
        this.drops++;
        return;
      }
      this.head = this.head + 1 === g.frameNr ? 0 : this.head + 1;
    }
    let status = TP_STATUS_USER | csum | TP_STATUS_TS_SOFTWARE;
    if (this.drops > 0) status |= TP_STATUS_LOSING;
    this.packets++;
    const sec = Number(stampNs / 1_000_000_000n);
    const nsec = Number(stampNs % 1_000_000_000n);
    // The frame from its first byte after the status word to the end of the data.
    const start = g.version === TPACKET_V1 ? 8 : g.version === TPACKET_V2 ? 4 : 0;
    const body = new Uint8Array(macoff + snap - start);
    const dv = new DataView(body.buffer);
    const o = (x: number): number => x - start;
    switch (g.version) {
      case TPACKET_V1:
        dv.setUint32(o(8), origLen, true);
        dv.setUint32(o(12), snap, true);
        dv.setUint16(o(16), macoff, true);
        dv.setUint16(o(18), netoff, true);
        dv.setUint32(o(20), sec >>> 0, true);
        dv.setUint32(o(24), Math.floor(nsec / 1000), true);
        break;
      case TPACKET_V2:
        dv.setUint32(o(4), origLen, true);
        dv.setUint32(o(8), snap, true);
        dv.setUint16(o(12), macoff, true);
        dv.setUint16(o(14), netoff, true);
        dv.setUint32(o(16), sec >>> 0, true);
        dv.setUint32(o(20), nsec, true);
        break;
      default:
        dv.setUint32(0, align8(macoff + snap), true); // tp_next_offset (0 once the block closes on it)
        dv.setUint32(4, sec >>> 0, true);
        dv.setUint32(8, nsec, true);
        dv.setUint32(12, snap, true);
        dv.setUint32(16, origLen, true);
        dv.setUint32(20, status, true);
        dv.setUint16(24, macoff, true);
        dv.setUint16(26, netoff, true);
        this.lastPktSec = sec >>> 0;
        this.lastPktNsec = nsec;
        break;
    }
    // The sockaddr_ll after the aligned header: Linux writes its fields, not the address's tail.
    const sllAt = o(tpacketAlign(HDR_SIZE[g.version as 0 | 1 | 2]));
    body.set(sll.subarray(0, Math.min(SOCKADDR_LL_LEN, sllWrittenLen(sll))), sllAt);
    body.set(f.bytes.subarray(dataOff, dataOff + snap), o(macoff));
    this.write(at + start, body);
    if (g.version !== TPACKET_V3) {
      const st = new Uint8Array(start);
      new DataView(st.buffer).setUint32(0, status, true);
      this.write(at, st);
      this.wake(POLLIN_RDNORM);
    }
  }

  // ---- TPACKET_V3 blocks ----

  private blockAt(n: number): number {
    return n * this.geometry.blockSize;
  }

  /** prb_open_block: block `n` starts empty, with the next sequence number, and the timer restarts. */
  private openBlock(n: number): void {
    const g = this.geometry;
    this.active = n;
    this.blockPkts = 0;
    this.blockLen = BLK_HDR_LEN + align8(g.sizeofPriv);
    this.nxtOffset = this.blockAt(n) + this.blockLen;
    this.prevOffset = this.nxtOffset;
    const now = this.kernel.time.realtimeNs();
    this.firstSec = Number(now / 1_000_000_000n) >>> 0;
    this.firstNsec = Number(now % 1_000_000_000n);
    this.frozen = false;
    // The descriptor up to ts_first_pkt, as prb_open_block writes it (the status is the kernel's
    // already; ts_last_pkt keeps what it had until the block closes).
    const head = new Uint8Array(40);
    const dv = new DataView(head.buffer);
    dv.setUint32(0, TPACKET_V3, true);
    dv.setUint32(4, BLK_HDR_LEN, true);
    dv.setUint32(8, TP_STATUS_KERNEL, true);
    dv.setUint32(12, 0, true);
    dv.setUint32(16, this.blockLen, true);
    dv.setUint32(20, this.blockLen, true);
    dv.setBigUint64(24, BigInt(this.seq++), true);
    dv.setUint32(32, this.firstSec, true);
    dv.setUint32(36, this.firstNsec, true);
    this.write(this.blockAt(n), head);
    this.refreshTimer();
  }

  /** The block's packet count and length as they grow (prb_fill_curr_block writes them in place). */
  private writeBlockCounts(): void {
    const b = new Uint8Array(12);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, this.blockPkts, true);
    dv.setUint32(4, BLK_HDR_LEN + align8(this.geometry.sizeofPriv), true);
    dv.setUint32(8, this.blockLen, true);
    this.write(this.blockAt(this.active) + 12, b);
  }

  /** prb_close_block: the block's header, then its status, which hands it to the app. */
  private closeBlock(stat: number): void {
    const g = this.geometry;
    let status = TP_STATUS_USER | stat;
    if (this.drops > 0) status |= TP_STATUS_LOSING;
    // The last packet ends the chain.
    this.write(this.prevOffset, new Uint8Array(4));
    let lastSec = this.lastPktSec;
    let lastNsec = this.lastPktNsec;
    if (this.blockPkts === 0) {
      const now = this.kernel.time.realtimeNs();
      lastSec = Number(now / 1_000_000_000n) >>> 0;
      lastNsec = Number(now % 1_000_000_000n);
    }
    const at = this.blockAt(this.active);
    const h = new Uint8Array(8);
    const dv = new DataView(h.buffer);
    dv.setUint32(0, lastSec, true);
    dv.setUint32(4, lastNsec, true);
    this.write(at + 40, h);
    const st = new Uint8Array(4);
    new DataView(st.buffer).setUint32(0, status, true);
    this.write(at + 8, st);
    this.wake(POLLIN_RDNORM);
    this.active = this.active + 1 === g.blockNr ? 0 : this.active + 1;
  }

  private blockInUse(n: number): boolean {
    return (this.readU32(this.blockAt(n) + 8) & TP_STATUS_USER) !== 0;
  }

  /** prb_retire_current_block: closes the active block if the kernel still owns it. */
  private retireCurrent(stat: number): void {
    if (this.readU32(this.blockAt(this.active) + 8) === TP_STATUS_KERNEL) this.closeBlock(stat);
  }

  /** prb_dispatch_next_block: opens the active block, or freezes the queue while the app holds it. */
  private dispatchNext(): number | undefined {
    if (this.blockInUse(this.active)) {
      this.frozen = true;
      this.freezes++;
      return undefined;
    }
    this.openBlock(this.active);
    return this.nxtOffset;
  }

  /** __packet_lookup_frame_in_block: where a packet of `len` bytes goes, or undefined (dropped). */
  private lookupBlockFrame(len: number): number | undefined {
    if (this.frozen) {
      if (this.blockInUse(this.active)) return undefined;
      this.openBlock(this.active);
    }
    const end = this.blockAt(this.active) + this.geometry.blockSize;
    let curr: number | undefined = this.nxtOffset;
    if (curr + align8(len) >= end) {
      this.retireCurrent(0);
      curr = this.dispatchNext();
      if (curr === undefined) return undefined;
    }
    this.prevOffset = curr;
    this.nxtOffset = curr + align8(len);
    this.blockLen += align8(len);
    this.blockPkts++;
    this.writeBlockCounts();
    return curr;
  }

  /** _prb_refresh_rx_retire_blk_timer: the timer restarts for the block active now. */
  private refreshTimer(): void {
    this.lastActive = this.active;
    this.cancelTimer?.();
    const deadline = this.kernel.time.monotonicNs() + BigInt(this.geometry.retireTovMs) * 1_000_000n;
    this.cancelTimer = this.kernel.time.setTimer(deadline, () => this.retireTimerExpired());
  }

  /** prb_retire_rx_blk_timer_expired: a block with packets is handed over (TP_STATUS_BLK_TMO). */
  private retireTimerExpired(): void {
    this.cancelTimer = undefined;
    if (this.released) return;
    // openBlock re-arms the timer itself; every other way out refreshes it.
    let opened = false;
    if (this.lastActive === this.active) {
      if (!this.frozen) {
        if (this.blockPkts > 0) {
          this.retireCurrent(TP_STATUS_BLK_TMO);
          opened = this.dispatchNext() !== undefined;
        }
      } else if (!this.blockInUse(this.active)) {
        // The app gave back the block that froze the queue while the link was idle.
        this.openBlock(this.active);
        opened = true;
      }
    }
    if (!opened) this.refreshTimer();
    this.lastActive = this.active;
  }
}

/** Where a sockaddr_ll's written part ends: the fixed fields and halen bytes of address. */
function sllWrittenLen(sll: Uint8Array): number {
  return 12 + Math.min(sll[11] ?? 0, 8);
}
