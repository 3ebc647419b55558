/**
 * In-memory devices: a loopback device (what is sent is received) and a link pair (two devices
 * joined by a cable, for two stacks in one process).
 *
 * @module
 */
import type { Device, DeviceCapabilities, Medium } from './device.js';
import { FrameQueue } from './device.js';

/** The MTU of Linux's `lo` (`ip link` shows 65536); IPv4 routes over it get 65535. */
export const LOOPBACK_MTU = 65536;

/**
 * A loopback device with the IP medium, like Linux's `lo`.
 *
 * @example
 * ```ts
 * const lo = new LoopbackDevice();
 * lo.transmit(0, packet);
 * lo.receive(0) === packet; // true
 * ```
 */
export class LoopbackDevice implements Device {
  readonly capabilities: DeviceCapabilities;
  /**
   * Packets the device holds before it drops more (Linux's netdev_max_backlog is 1000). The
   * interface applies it to the TCP segments it loops back without a frame, too.
   */
  readonly queueLimit: number;
  private readonly queue: FrameQueue;

  constructor(options: { mtu?: number; queueLimit?: number } = {}) {
    this.capabilities = { medium: 'ip', mtu: options.mtu ?? LOOPBACK_MTU, loopback: true };
    this.queueLimit = options.queueLimit ?? 1024;
    this.queue = new FrameQueue(this.queueLimit);
  }
  receive(_now: number): Uint8Array | undefined {
    return this.queue.length > 0 ? this.queue.shift() : undefined;
  }
  transmit(_now: number, frame: Uint8Array): boolean {
    return frame.length <= this.capabilities.mtu && this.queue.push(frame);
  }
  /** `now` while frames wait: whoever drives the stack must poll again. */
  pollAt(now: number): number | undefined {
    return this.queue.length > 0 ? now : undefined;
  }
}

/** One end of a {@link linkPair}. */
class LinkEnd implements Device {
  peer!: LinkEnd;
  readonly inbox: FrameQueue;
  markOffloaded?: (frame: Uint8Array) => void;
  takeOffloaded?: (frame: Uint8Array) => boolean;
  constructor(
    readonly capabilities: DeviceCapabilities,
    queueLimit: number,
  ) {
    this.inbox = new FrameQueue(queueLimit);
  }
  receive(_now: number): Uint8Array | undefined {
    return this.inbox.shift();
  }
  transmit(_now: number, frame: Uint8Array): boolean {
    const limit = this.capabilities.mtu + (this.capabilities.medium === 'ethernet' ? 14 : 0);
    return frame.length <= limit && this.peer.inbox.push(frame);
  }
  /** `now` while frames wait in this end's inbox (they may arrive while the other stack polls). */
  pollAt(now: number): number | undefined {
    return this.inbox.length > 0 ? now : undefined;
  }
}

/**
 * Two devices joined back to back: what one transmits the other receives. With
 * `checksumOffload` the two stacks trust each other's frames as a veth with offloads does: TCP
 * checksums are neither filled in nor checked (see {@link Device.markOffloaded}).
 *
 * @example
 * ```ts
 * const [a, b] = linkPair({ medium: 'ip', mtu: 1500 });
 * a.transmit(0, packet);
 * b.receive(0) === packet; // true
 * ```
 */
export function linkPair(
  options: { medium?: Medium; mtu?: number; queueLimit?: number; checksumOffload?: boolean } = {},
): [Device, Device] {
  const caps: DeviceCapabilities = { medium: options.medium ?? 'ip', mtu: options.mtu ?? 1500 };
  const a = new LinkEnd(caps, options.queueLimit ?? 1024);
  const b = new LinkEnd(caps, options.queueLimit ?? 1024);
  a.peer = b;
  b.peer = a;
  if (options.checksumOffload === true) {
    // One set for both ends: a frame either end marks is trusted by the other.
    const marked = new WeakSet<Uint8Array>();
    for (const end of [a, b]) {
      end.markOffloaded = (frame) => void marked.add(frame);
      end.takeOffloaded = (frame) => marked.delete(frame);
    }
  }
  return [a, b];
}
