/**
 * A device wrapper that misbehaves on purpose, for tests: it drops, duplicates, corrupts,
 * delays and reorders the frames sent through it. Randomness comes from a seeded generator, so
 * a failing run replays exactly from its seed.
 *
 * @module
 */
import type { Device, DeviceCapabilities } from './device.js';

/** Fault probabilities (0..1) and delays (ms) applied to transmitted frames. */
export interface FaultConfig {
  /** Probability a frame is dropped. */
  readonly drop?: number;
  /** Probability a frame is sent twice. */
  readonly duplicate?: number;
  /** Probability one byte of a frame is flipped (checksums must catch it). */
  readonly corrupt?: number;
  /** Probability a frame is held back by `reorderDelay` so later frames overtake it. */
  readonly reorder?: number;
  /** Extra delay of a reordered frame (ms); default 5. */
  readonly reorderDelay?: number;
  /** Delay of every frame (ms); default 0. */
  readonly delay?: number;
}

/** A small seeded PRNG (mulberry32): deterministic, good enough for fault decisions. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Wraps a device; faults apply to frames this side transmits.
 *
 * @example
 * ```ts
 * const [a, b] = linkPair();
 * const lossy = new FaultInjector(a, { drop: 0.1, reorder: 0.1 }, 42);
 * ```
 */
export class FaultInjector implements Device {
  /** Frames held back, with their release times, in release order. */
  private held: { at: number; frame: Uint8Array }[] = [];
  private readonly random: () => number;
  /** Counts of faults applied, for test assertions. */
  readonly stats = { sent: 0, dropped: 0, duplicated: 0, corrupted: 0, reordered: 0 };

  constructor(
    readonly inner: Device,
    /** The faults to apply; replaceable, and read for each frame. */
    public config: FaultConfig,
    seed = 1,
  ) {
    this.random = seededRandom(seed);
  }

  get capabilities(): DeviceCapabilities {
    return this.inner.capabilities;
  }

  receive(now: number): Uint8Array | undefined {
    this.release(now);
    return this.inner.receive(now);
  }

  transmit(now: number, frame: Uint8Array): boolean {
    this.release(now);
    const c = this.config;
    this.stats.sent++;
    if (this.random() < (c.drop ?? 0)) {
      this.stats.dropped++;
      return true; // lost on the wire: the sender cannot tell
    }
    let f = frame;
    if (this.random() < (c.corrupt ?? 0) && f.length > 0) {
      f = f.slice();
      const i = Math.floor(this.random() * f.length);
      f[i] = f[i]! ^ (1 << Math.floor(this.random() * 8));
      this.stats.corrupted++;
    }
    let at = now + (c.delay ?? 0);
    if (this.random() < (c.reorder ?? 0)) {
      at += c.reorderDelay ?? 5;
      this.stats.reordered++;
    }
    const copies = this.random() < (c.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let k = 0; k < copies; k++) this.hold(at, k === 0 ? f : f.slice());
    this.release(now);
    return true;
  }

  pollAt(now: number): number | undefined {
    const inner = this.inner.pollAt?.(now);
    const mine = this.held[0]?.at;
    if (mine === undefined) return inner;
    return inner === undefined ? mine : Math.min(inner, mine);
  }

  private hold(at: number, frame: Uint8Array): void {
    let i = this.held.length;
    while (i > 0 && this.held[i - 1]!.at > at) i--;
    this.held.splice(i, 0, { at, frame });
  }

  private release(now: number): void {
    while (this.held.length > 0 && this.held[0]!.at <= now)
      this.inner.transmit(now, this.held.shift()!.frame);
  }
}
