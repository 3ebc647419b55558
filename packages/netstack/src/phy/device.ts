/**
 * Devices: the bottom layer. A device moves whole frames (Ethernet frames or bare IP packets,
 * per its medium) and has no clock of its own: every call carries `now`, in milliseconds on
 * the caller's clock, so a run is deterministic.
 *
 * @module
 */

/** What a device carries: Ethernet II frames or bare IP packets (like a TUN device or `lo`). */
export type Medium = 'ethernet' | 'ip';

/** Static facts about a device. */
export interface DeviceCapabilities {
  readonly medium: Medium;
  /** Largest IP packet (for `ip`) or Ethernet payload (for `ethernet`) the device carries. */
  readonly mtu: number;
  /** True for a loopback device: packets to the stack's own addresses go through it. */
  readonly loopback?: boolean;
}

/**
 * A network device. Frames are plain byte arrays; ownership passes with the call (the device
 * keeps what `transmit` gives it, the stack may keep what `receive` returns).
 */
export interface Device {
  readonly capabilities: DeviceCapabilities;
  /** The next received frame, or undefined when none is ready at `now`. */
  receive(now: number): Uint8Array | undefined;
  /** Sends a frame; false when the device dropped it (queue full, too large). */
  transmit(now: number, frame: Uint8Array): boolean;
  /** Earliest time a frame will become receivable without new input, if the device delays frames. */
  pollAt?(now: number): number | undefined;
  /**
   * Present on a link whose two ends are in this process and trust each other's frames (a veth
   * with checksum offload, Linux's CHECKSUM_PARTIAL/UNNECESSARY): the stack leaves the TCP
   * checksum of a frame it is about to transmit unfilled and marks the frame here. Absent: every
   * checksum is filled in.
   */
  markOffloaded?(frame: Uint8Array): void;
  /**
   * True, once, for a received frame the other end marked with {@link markOffloaded}: its stack
   * skips the checksum check. A copy of a marked frame (a fault injector's) is not marked.
   */
  takeOffloaded?(frame: Uint8Array): boolean;
}

/** A bounded FIFO of frames, the queue inside the in-memory devices. */
export class FrameQueue {
  private readonly frames: Uint8Array[] = [];
  private head = 0;
  /** Frames queued (a field: a stack asks its device on every round of every poll). */
  readonly length: number = 0;
  constructor(readonly limit: number) {}
  push(frame: Uint8Array): boolean {
    if (this.length >= this.limit) return false;
    this.frames.push(frame);
    (this as { length: number }).length++;
    return true;
  }
  shift(): Uint8Array | undefined {
    if (this.head >= this.frames.length) return undefined;
    (this as { length: number }).length--;
    const f = this.frames[this.head++];
    if (this.head > 64 && this.head * 2 > this.frames.length) {
      this.frames.splice(0, this.head);
      this.head = 0;
    }
    return f;
  }
}
