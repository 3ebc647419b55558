/**
 * A device whose frames travel over a byte stream (a pipe, a socket, a helper process's
 * stdio), each preceded by its length as two big-endian bytes. This is how a process that
 * cannot open a TAP itself (Node has no ioctl) talks to one: a small helper owns the TAP and
 * relays frames, and the stack sees an ordinary Ethernet device.
 *
 * @example
 * ```ts
 * const relay = spawn('tap-relay', ['tap0']);
 * const dev = new StreamDevice({ medium: 'ethernet', mtu: 1500 }, (b) => relay.stdin.write(b));
 * relay.stdout.on('data', (chunk) => dev.feed(chunk));
 * ```
 *
 * @module
 */
import type { Device, DeviceCapabilities } from './device.js';
import { FrameQueue } from './device.js';

/** Largest frame the 2-byte length prefix can carry. */
export const STREAM_FRAME_MAX = 0xffff;

/** A device over a length-prefixed byte stream. */
export class StreamDevice implements Device {
  private readonly rx: FrameQueue;
  private pending = new Uint8Array(0);
  /** Counters: frames in and out, and received frames dropped because the queue was full. */
  readonly stats = { received: 0, sent: 0, dropped: 0 };

  /**
   * `write` sends bytes down the stream (it must keep their order); received bytes arrive
   * through {@link feed}. At most `queueLimit` received frames wait for `receive`.
   */
  constructor(
    readonly capabilities: DeviceCapabilities,
    private readonly write: (bytes: Uint8Array) => void,
    queueLimit = 4096,
  ) {
    this.rx = new FrameQueue(queueLimit);
  }

  /** Bytes read from the stream, in any chunking; complete frames become receivable. Zero-length frames are ignored. */
  feed(chunk: Uint8Array): void {
    let buf: Uint8Array;
    // A plain view even of a Node Buffer, whose slice() would alias instead of copy.
    if (this.pending.length === 0) buf = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
    }
    let off = 0;
    while (buf.length - off >= 2) {
      const len = (buf[off]! << 8) | buf[off + 1]!;
      if (buf.length - off < 2 + len) break;
      if (len > 0) {
        if (this.rx.push(buf.slice(off + 2, off + 2 + len))) this.stats.received++;
        else this.stats.dropped++;
      }
      off += 2 + len;
    }
    this.pending = buf.slice(off);
  }

  receive(_now: number): Uint8Array | undefined {
    return this.rx.shift();
  }

  /** Writes the frame with its length prefix; false (dropped) when longer than 65535 bytes. */
  transmit(_now: number, frame: Uint8Array): boolean {
    if (frame.length > STREAM_FRAME_MAX) return false;
    const out = new Uint8Array(2 + frame.length);
    out[0] = frame.length >>> 8;
    out[1] = frame.length & 0xff;
    out.set(frame, 2);
    this.write(out);
    this.stats.sent++;
    return true;
  }
}
