/**
 * Storage supplied by the caller. A socket never allocates its buffers: the caller hands it a
 * {@link RingBuffer} (stream sockets) or a {@link PacketBuffer} (datagram sockets) over memory
 * it owns, so sizes are the caller's policy and the hot path copies into existing memory.
 *
 * @module
 */
import type { LinuxError } from '@tsvisor/abi';

/**
 * A byte ring over caller-owned storage. Besides FIFO enqueue/dequeue it supports reading at an
 * offset into the queued bytes (TCP retransmission) and writing past the queued bytes before
 * committing them (TCP out-of-order reassembly).
 *
 * @example
 * ```ts
 * const ring = new RingBuffer(new Uint8Array(8));
 * ring.enqueue(Uint8Array.of(1, 2, 3)); // 3
 * const out = new Uint8Array(2);
 * ring.dequeue(out); // 2, out = [1, 2]
 * ```
 */
export class RingBuffer {
  /** Where the queued bytes start in `storage`. */
  private head = 0;
  /**
   * Bytes queued. A field rather than a getter, kept by {@link setLength} (as is
   * {@link window}): a TCP connection reads both several times per segment.
   */
  readonly length: number = 0;
  /** Bytes that can still be enqueued: `capacity - length`. */
  readonly window: number;
  /** The bytes; shorter than `capacity` while a ring made from a byte count has not needed more. */
  private storage: Uint8Array;
  /**
   * Total bytes the ring can hold (a field, not a getter: TCP asks for it per segment). Changed
   * only by {@link resize}; it may then be below {@link length}, and nothing fits until the
   * queue drains below it.
   */
  readonly capacity: number;

  /**
   * A ring over `storage`, or, given a byte count, a ring of that capacity whose storage is
   * allocated as bytes arrive: nothing before the first write (a connection that never carries
   * data, a connect-and-close, costs no buffer memory), then {@link GROW_MIN} bytes, doubled
   * whenever more must be held, up to the capacity. So a socket may have a large window (Linux
   * autotunes TCP buffers up to tcp_rmem[2]/tcp_wmem[2]) and pay for it only when a bulk transfer
   * fills it; Linux too allocates socket memory per skb rather than per socket.
   */
  constructor(storage: Uint8Array | number) {
    if (typeof storage === 'number') {
      this.capacity = storage;
      this.storage = EMPTY_STORAGE;
    } else {
      this.capacity = storage.length;
      this.storage = storage;
    }
    this.window = this.capacity;
  }

  isEmpty(): boolean {
    return this.length === 0;
  }
  isFull(): boolean {
    return this.length >= this.capacity;
  }

  /**
   * Sets the capacity: a socket's SO_SNDBUF or SO_RCVBUF set after its ring was made. Queued
   * bytes stay, even beyond a smaller capacity (the window is then 0 until they drain below
   * it), and storage is neither moved nor shrunk; a larger capacity is allocated as bytes come.
   */
  resize(capacity: number): void {
    if (capacity < 0) throw new RangeError('negative ring capacity');
    (this as { capacity: number }).capacity = capacity;
    this.setLength(this.length);
  }
  /** Drops everything. */
  clear(): void {
    this.head = 0;
    this.setLength(0);
  }

  /** The only writer of {@link length} and {@link window}. */
  private setLength(n: number): void {
    const self = this as { length: number; window: number };
    self.length = n;
    self.window = n < this.capacity ? this.capacity - n : 0;
  }

  /**
   * Makes the storage hold at least `need` bytes from the head (queued bytes, plus bytes
   * written past the tail), moving everything it holds, head first, to the start of a larger
   * array. `need` never exceeds the capacity.
   */
  private reserve(need: number): void {
    const size = this.storage.length;
    if (need <= size) return;
    let grown = Math.max(size * 2, GROW_MIN);
    while (grown < need) grown *= 2;
    const next = new Uint8Array(Math.min(grown, this.capacity));
    // Everything from the head on (queued and out-of-order bytes) keeps its offset from the head.
    next.set(this.storage.subarray(this.head), 0);
    next.set(this.storage.subarray(0, this.head), size - this.head);
    this.storage = next;
    this.head = 0;
  }

  /** Copies as much of `data` as fits onto the tail; returns the count copied. */
  enqueue(data: Uint8Array): number {
    const n = this.writeUnallocated(0, data);
    this.setLength(this.length + n);
    return n;
  }

  /** Moves up to `out.length` bytes from the head into `out`; returns the count moved. */
  dequeue(out: Uint8Array): number {
    const n = this.read(0, out);
    this.discard(n);
    return n;
  }

  /** Drops up to `n` bytes from the head; returns the count dropped. */
  discard(n: number): number {
    const k = Math.min(n, this.length);
    this.head = (this.head + k) % (this.storage.length || 1);
    this.setLength(this.length - k);
    // The head is not reset when the ring empties: bytes written past the tail (out-of-order
    // TCP data) must stay where they are.
    return k;
  }

  /** Copies queued bytes starting `offset` bytes after the head into `out`, without removing them. */
  read(offset: number, out: Uint8Array): number {
    if (offset >= this.length) return 0;
    const size = this.storage.length;
    const n = Math.min(out.length, this.length - offset);
    const start = (this.head + offset) % size;
    const first = Math.min(n, size - start);
    out.set(this.storage.subarray(start, start + first), 0);
    if (n > first) out.set(this.storage.subarray(0, n - first), first);
    return n;
  }

  /**
   * Writes `data` into free space starting `offset` bytes past the tail, without queueing it;
   * returns the count written (clipped at the free space). Commit with {@link commit}.
   */
  writeUnallocated(offset: number, data: Uint8Array): number {
    const free = this.window;
    if (offset >= free) return 0;
    const n = Math.min(data.length, free - offset);
    if (n <= 0) return 0;
    const need = this.length + offset + n;
    if (need > this.storage.length) this.reserve(need);
    const size = this.storage.length;
    const start = (this.head + this.length + offset) % size;
    const first = Math.min(n, size - start);
    // All of `data` in one piece (the usual case) needs no view of it.
    this.storage.set(first === data.length ? data : data.subarray(0, first), start);
    if (n > first) this.storage.set(data.subarray(first, n), 0);
    return n;
  }

  /**
   * The queued bytes from `offset` after the head up to where they wrap (or end): the first
   * contiguous piece, as a view of the storage, empty when nothing is queued there. A reader
   * that copies straight out of the ring (into an app's memory, into a frame) takes this piece,
   * then the one at `offset + piece.length`, and {@link discard}s what it consumed. The view is
   * only good until the ring changes.
   */
  readableSpan(offset = 0): Uint8Array {
    if (offset < 0 || offset >= this.length) return EMPTY_STORAGE;
    const size = this.storage.length;
    const start = (this.head + offset) % size;
    return this.storage.subarray(start, start + Math.min(this.length - offset, size - start));
  }

  /**
   * The free space from `offset` bytes past the tail up to where it wraps (or ends), as a view
   * of the storage, which first grows to hold `want` more bytes there if it can: a writer fills
   * it in place, then the piece at `offset + piece.length`, and {@link commit}s what it wrote.
   * Empty when no space is free there.
   */
  writableSpan(offset = 0, want = Infinity): Uint8Array {
    const free = this.window;
    if (offset < 0 || offset >= free || want <= 0) return EMPTY_STORAGE;
    this.reserve(this.length + offset + Math.min(want, free - offset));
    const size = this.storage.length;
    const start = (this.head + this.length + offset) % size;
    // (Storage may be larger than the capacity after a resize: the free space bounds the piece.)
    return this.storage.subarray(
      start,
      start + Math.min(free - offset, size - this.length - offset, size - start),
    );
  }

  /**
   * Queues up to `max` bytes that `copy` writes straight into the free space (in at most two
   * pieces, where the ring wraps): no intermediate buffer. Returns the count queued: what the
   * copies moved up to the first one that stopped short, or that copy's error when nothing moved.
   */
  fillFrom(max: number, copy: SpanCopy): number | LinuxError {
    let done = 0;
    while (done < max) {
      let span = this.writableSpan(0, max - done);
      if (span.length === 0) break;
      if (span.length > max - done) span = span.subarray(0, max - done);
      const r = copy(span);
      if (typeof r !== 'number') return done > 0 ? done : r;
      this.setLength(this.length + r);
      done += r;
      if (r < span.length) break;
    }
    return done;
  }

  /**
   * Hands up to `max` queued bytes from the head to `copy` (in at most two pieces) and, when
   * `consume`, drops what it took; the rest stays queued. Returns the count taken, or the first
   * copy's error when nothing was taken (then nothing is dropped). A peek (`consume` false) may
   * start `from` bytes after the head (MSG_PEEK at SO_PEEK_OFF).
   */
  drainTo(max: number, copy: SpanCopy, consume: boolean, from = 0): number | LinuxError {
    if (consume && from !== 0) throw new RangeError('only a peek starts past the head');
    let done = 0;
    while (done < max) {
      let span = this.readableSpan(from + done);
      if (span.length === 0) break;
      if (span.length > max - done) span = span.subarray(0, max - done);
      const r = copy(span);
      if (typeof r !== 'number') {
        if (done === 0) return r;
        break;
      }
      done += r;
      if (r < span.length) break;
    }
    if (consume) this.discard(done);
    return done;
  }

  /** Queues `n` bytes already written at the tail (with {@link writeUnallocated} or into a {@link writableSpan}). */
  commit(n: number): void {
    if (n < 0 || n > this.window) throw new RangeError('commit beyond free space');
    if (n > 0 && this.length + n > this.storage.length) this.reserve(this.length + n);
    this.setLength(this.length + n);
  }
}

/** The first storage of a ring made from a byte count (or all of it, when smaller). */
const GROW_MIN = 16384;

/**
 * One piece of a copy between a ring and memory the ring does not own (an app's buffer behind
 * process_vm_readv/writev): moves bytes between `span` and that memory and returns the count
 * moved, fewer than `span.length` when it reached an unreachable address, or an error (EFAULT)
 * when it moved none.
 */
export type SpanCopy = (span: Uint8Array) => number | LinuxError;

/** Storage of a lazily allocated ring before its first write. */
const EMPTY_STORAGE = new Uint8Array(0);

/** The slots a {@link PacketBuffer} starts with (or all of them, when it may have fewer). */
const SLOTS_MIN = 64;

/** A queued datagram's metadata and its length in the payload ring. */
interface Slot<H> {
  meta: H;
  len: number;
  /** A zero-length datagram was peeked at (Linux's skb->peeked): peeks at an offset pass it. */
  peeked?: boolean;
}

/**
 * A queue of datagrams with metadata `H` (e.g. the peer's endpoint) over a caller-owned payload
 * ring and at most `slotCount` metadata slots, which {@link resize} changes (the ring then grows
 * as datagrams come): a datagram socket bounds its receive queue by the memory Linux charges,
 * not by a count, and sizes the queue to what that memory can hold.
 *
 * @example
 * ```ts
 * const q = new PacketBuffer<string>(4, new Uint8Array(1024));
 * q.enqueue('a', Uint8Array.of(1, 2)); // true
 * const out = new Uint8Array(10);
 * q.dequeue(out); // { meta: 'a', len: 2, truncated: false }
 * ```
 */
export class PacketBuffer<H> {
  /** The slots in use and free; grown (up to {@link maxSlots}) when a datagram needs one more. */
  private slots: (Slot<H> | undefined)[];
  private first = 0;
  private count = 0;
  private maxSlots: number;
  private readonly payload: RingBuffer;

  constructor(slotCount: number, payloadStorage: Uint8Array) {
    this.maxSlots = slotCount;
    this.slots = new Array<Slot<H> | undefined>(Math.min(slotCount, SLOTS_MIN));
    this.payload = new RingBuffer(payloadStorage);
  }

  /**
   * Sets the most datagrams and payload bytes the queue holds. What is queued stays, even
   * beyond smaller limits (nothing fits then until it drains below them).
   */
  resize(slotCount: number, payloadCapacity: number): void {
    this.maxSlots = slotCount;
    this.payload.resize(payloadCapacity);
  }

  /** Number of queued datagrams. */
  get length(): number {
    return this.count;
  }
  /** Payload bytes queued. */
  get bytes(): number {
    return this.payload.length;
  }
  /** Payload capacity. */
  get payloadCapacity(): number {
    return this.payload.capacity;
  }
  isEmpty(): boolean {
    return this.count === 0;
  }
  /** True when a datagram of `len` bytes can be queued now. */
  canEnqueue(len: number): boolean {
    return this.count < this.maxSlots && len <= this.payload.window;
  }

  /** Queues a datagram; false (nothing queued) when a slot or payload space is missing. */
  enqueue(meta: H, data: Uint8Array): boolean {
    if (!this.canEnqueue(data.length)) return false;
    if (this.count === this.slots.length) this.growSlots();
    this.payload.enqueue(data);
    this.slots[(this.first + this.count) % this.slots.length] = { meta, len: data.length };
    this.count++;
    return true;
  }

  /** Metadata and length of the head datagram without removing it. */
  peek(): { meta: H; len: number } | undefined {
    return this.count === 0 ? undefined : this.slots[this.first];
  }

  /**
   * Removes the head datagram, copying up to `out.length` bytes of it into `out` (the rest is
   * discarded, as recvfrom does without MSG_PEEK). `len` is the datagram's full length.
   */
  dequeue(out: Uint8Array): { meta: H; len: number; truncated: boolean } | undefined {
    const slot = this.peek();
    if (!slot) return undefined;
    this.payload.read(0, out.subarray(0, Math.min(out.length, slot.len)));
    this.payload.discard(slot.len);
    this.slots[this.first] = undefined;
    this.first = (this.first + 1) % this.slots.length;
    this.count--;
    return { meta: slot.meta, len: slot.len, truncated: slot.len > out.length };
  }

  /**
   * MSG_PEEK at a peek offset (SO_PEEK_OFF), as Linux's __skb_try_recv_from_queue walks the
   * queue: with `offset` >= 0, whole datagrams the offset covers are passed over (a zero-length
   * one only once it was peeked or while the offset is above 0), and the datagram it lands in
   * is copied into `out` from what is left of the offset (`skip`); a negative `offset` peeks
   * at the head from its start. `n` is the count copied; undefined when no datagram is there.
   */
  peekAt(offset: number, out: Uint8Array): { meta: H; len: number; skip: number; n: number } | undefined {
    let off = offset;
    let pos = 0;
    for (let i = 0; i < this.count; i++) {
      const slot = this.slots[(this.first + i) % this.slots.length]!;
      if (off >= 0 && off >= slot.len && (off > 0 || slot.peeked)) {
        off -= slot.len;
        pos += slot.len;
        continue;
      }
      if (slot.len === 0) slot.peeked = true;
      const skip = Math.max(off, 0);
      const n = this.payload.read(pos + skip, out.subarray(0, Math.min(out.length, slot.len - skip)));
      return { meta: slot.meta, len: slot.len, skip, n };
    }
    return undefined;
  }

  /** Doubles the slots (to at most maxSlots), the queued ones first, in order. */
  private growSlots(): void {
    const n = this.slots.length;
    const next = new Array<Slot<H> | undefined>(Math.min(Math.max(n * 2, SLOTS_MIN), this.maxSlots));
    for (let i = 0; i < this.count; i++) next[i] = this.slots[(this.first + i) % n];
    this.slots = next;
    this.first = 0;
  }

  /** Copies the head datagram into `out` without removing it (MSG_PEEK). */
  peekInto(out: Uint8Array): { meta: H; len: number } | undefined {
    const slot = this.peek();
    if (!slot) return undefined;
    this.payload.read(0, out.subarray(0, Math.min(out.length, slot.len)));
    return slot;
  }
}
