/**
 * Storage supplied by the caller. A socket never allocates its buffers: the caller hands it a
 * {@link RingBuffer} (stream sockets) or a {@link PacketBuffer} (datagram sockets) over memory
 * it owns, so sizes are the caller's policy and the hot path copies into existing memory.
 *
 * @module
 */

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
  private head = 0;
  private used = 0;
  private storage: Uint8Array;
  private readonly cap: number;

  /**
   * A ring over `storage`, or, given a byte count, over storage of that size allocated on the
   * first write: a connection that never carries data (a connect-and-close) then costs no
   * buffer memory, as Linux allocates socket buffers per skb rather than per socket.
   */
  constructor(storage: Uint8Array | number) {
    if (typeof storage === 'number') {
      this.cap = storage;
      this.storage = EMPTY_STORAGE;
    } else {
      this.cap = storage.length;
      this.storage = storage;
    }
  }

  /** Total bytes the storage holds. */
  get capacity(): number {
    return this.cap;
  }
  /** Bytes queued. */
  get length(): number {
    return this.used;
  }
  /** Bytes that can still be enqueued. */
  get window(): number {
    return this.cap - this.used;
  }
  isEmpty(): boolean {
    return this.used === 0;
  }
  isFull(): boolean {
    return this.used === this.cap;
  }
  /** Drops everything. */
  clear(): void {
    this.head = 0;
    this.used = 0;
  }

  /** Copies as much of `data` as fits onto the tail; returns the count copied. */
  enqueue(data: Uint8Array): number {
    const n = this.writeUnallocated(0, data);
    this.used += n;
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
    const k = Math.min(n, this.used);
    this.head = (this.head + k) % (this.cap || 1);
    this.used -= k;
    // The head is not reset when the ring empties: bytes written past the tail (out-of-order
    // TCP data) must stay where they are.
    return k;
  }

  /** Copies queued bytes starting `offset` bytes after the head into `out`, without removing them. */
  read(offset: number, out: Uint8Array): number {
    const cap = this.cap;
    if (offset >= this.used) return 0;
    const n = Math.min(out.length, this.used - offset);
    const start = (this.head + offset) % cap;
    const first = Math.min(n, cap - start);
    out.set(this.storage.subarray(start, start + first), 0);
    if (n > first) out.set(this.storage.subarray(0, n - first), first);
    return n;
  }

  /**
   * Writes `data` into free space starting `offset` bytes past the tail, without queueing it;
   * returns the count written (clipped at the free space). Commit with {@link commit}.
   */
  writeUnallocated(offset: number, data: Uint8Array): number {
    const cap = this.cap;
    const free = cap - this.used;
    if (offset >= free) return 0;
    const n = Math.min(data.length, free - offset);
    if (n <= 0) return 0;
    if (this.storage.length !== cap) this.storage = new Uint8Array(cap);
    const start = (this.head + this.used + offset) % cap;
    const first = Math.min(n, cap - start);
    this.storage.set(data.subarray(0, first), start);
    if (n > first) this.storage.set(data.subarray(first, n), 0);
    return n;
  }

  /** Queues `n` bytes already written at the tail with {@link writeUnallocated}. */
  commit(n: number): void {
    if (n < 0 || n > this.window) throw new RangeError('commit beyond free space');
    if (n > 0 && this.storage.length !== this.cap) this.storage = new Uint8Array(this.cap);
    this.used += n;
  }
}

/** Storage of a lazily allocated ring before its first write. */
const EMPTY_STORAGE = new Uint8Array(0);

/** A queued datagram's metadata and its length in the payload ring. */
interface Slot<H> {
  meta: H;
  len: number;
}

/**
 * A queue of datagrams with metadata `H` (e.g. the peer's endpoint) over a caller-owned payload
 * ring and a fixed number of metadata slots.
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
  private readonly slots: (Slot<H> | undefined)[];
  private first = 0;
  private count = 0;
  private readonly payload: RingBuffer;

  constructor(slotCount: number, payloadStorage: Uint8Array) {
    this.slots = new Array<Slot<H> | undefined>(slotCount);
    this.payload = new RingBuffer(payloadStorage);
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
    return this.count < this.slots.length && len <= this.payload.window;
  }

  /** Queues a datagram; false (nothing queued) when a slot or payload space is missing. */
  enqueue(meta: H, data: Uint8Array): boolean {
    if (!this.canEnqueue(data.length)) return false;
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

  /** Copies the head datagram into `out` without removing it (MSG_PEEK). */
  peekInto(out: Uint8Array): { meta: H; len: number } | undefined {
    const slot = this.peek();
    if (!slot) return undefined;
    this.payload.read(0, out.subarray(0, Math.min(out.length, slot.len)));
    return slot;
  }
}
