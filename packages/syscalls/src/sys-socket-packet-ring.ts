/**
 * PACKET_RX_RING: the memory-mapped receive ring of AF_PACKET sockets (TPACKET_V1, V2, V3), as
 * net/packet/af_packet.c lays it out and hands frames over (packet_set_ring, tpacket_rcv and the
 * prb_* block functions of V3).
 *
 * The ring's memory is a memfd of the sandbox VFS (memfdFsOf): the supervisor writes frames and
 * headers into it with positioned writes and reads the status words the app hands back, and
 * mmap(2) of the socket maps the same memory into the app (the socket's `hostFd()` is the
 * memfd's, which moves it into host memory on the first mapping). A frame's body is written
 * before its status word (V1/V2), a block's packets before its block status (V3), the order the
 * kernel's barriers give.
 *
 * Differences from Linux: a mapping of another size than the ring's is not refused, and a ring
 * can be replaced while mapped (Linux: EBUSY until munmap).
 *
 * @module
 */
import { E, SockType, isError } from '@tsvisor/abi';
import type { Kernel, Task } from '@tsvisor/kernel';
import { memfdFsOf, type FileDescription } from '@tsvisor/vfs';
import type { TappedFrame } from '@tsvisor/netstack';
import type { SyscallResult } from './types.js';
import { vfsCreds, vfsOf } from './vfs-context.js';

/** What the ring needs of the socket it belongs to (PacketSocketImpl). */
export interface RingHost {
  readonly sock: {
    readonly type: number;
    version: number;
    reserve: number;
    ring: PacketRing | undefined;
    purgeQueue(): void;
    notify(events: number): void;
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
 * setsockopt(PACKET_RX_RING) (packet_set_ring): reads a tpacket_req (V1, V2) or tpacket_req3
 * (V3), checks its geometry in Linux's order and replaces the socket's ring (a tp_block_nr of 0
 * removes it).
 */
export function setRing(t: Task, host: RingHost, addr: number, optlen: number): SyscallResult {
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
  if (blockNr === 0) {
    if (frameNr !== 0) return E.EINVAL;
    s.ring?.release();
    s.ring = undefined;
    return 0;
  }
  if (s.ring) return E.EBUSY;
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
  if (blockSize * blockNr > RING_MAX_BYTES) return E.ENOMEM;
  const file = memfdFsOf(vfsOf(t)).create('packet-ring', 0, vfsCreds(t));
  if (isError(file)) return E.ENOMEM;
  const err = vfsOf(t).ftruncate(file, blockSize * blockNr);
  if (err) {
    file.release();
    return E.ENOMEM;
  }
  s.purgeQueue();
  s.ring = new PacketRing(
    file,
    {
      version: s.version,
      blockSize,
      blockNr,
      frameSize,
      frameNr,
      retireTovMs: retireTov !== 0 ? retireTov : DEFAULT_RETIRE_TOV_MS,
      sizeofPriv,
    },
    s.type,
    s.reserve,
    t.kernel,
    (events) => s.notify(events),
  );
  return 0;
}

/** A socket's receive ring: its memory (a memfd) and the kernel's cursor state. */
export class PacketRing {
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
    readonly file: FileDescription,
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

  /** The memfd's host fd (moving its bytes to host memory), for mmap(2). */
  hostFd(): number | null {
    return this.file.hostFd();
  }

  /** The socket closed or replaced the ring. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.cancelTimer?.();
    this.file.release();
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
    const r = this.file.pwrite(bytes, pos);
    if (typeof r !== 'number' || r !== bytes.length) throw new Error(`packet ring: write at ${pos} failed`);
  }

  private readU32(pos: number): number {
    const b = new Uint8Array(4);
    const r = this.file.pread(b, pos);
    if (typeof r !== 'number' || r !== 4) throw new Error(`packet ring: read at ${pos} failed`);
    return new DataView(b.buffer).getUint32(0, true);
  }

  private frameOffset(index: number): number {
    const block = Math.floor(index / this.perBlock);
    return block * this.geometry.blockSize + (index % this.perBlock) * this.geometry.frameSize;
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
