/**
 * What the message-at-a-time sockets of the stack share beside their protocol: the hold on
 * dispatch while the next hop's link address is being resolved ({@link NeighborHold}), and for
 * raw and ICMP echo sockets the two queues of whole datagrams with their reads, readiness and
 * sizes ({@link DatagramQueues}).
 *
 * @module
 */
import { E, PollEvent, type LinuxError } from '@tsvisor/abi';
import { NEIGHBOR_RETRY, type DispatchContext, type EmitResult } from '../iface/outgoing.js';
import { PacketBuffer } from '../storage/ring-buffer.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';
import { SocketErrors } from './error-queue.js';
import { sizeReceiveQueue } from './skb-truesize.js';

/**
 * A socket whose queued packets wait when the interface answers 'pending' (no link address for
 * the next hop yet): it is not dispatched again before NEIGHBOR_RETRY, or before the neighbor
 * answers.
 */
export abstract class NeighborHold {
  /** Packets wait for the next hop's link address until then (ms). */
  private holdUntil = 0;

  /** @internal the neighbor answered: try again at once. */
  clearHold(): void {
    this.holdUntil = 0;
  }

  /** @internal when this socket next wants dispatch, given it has packets queued. */
  dispatchAt(now: number): number {
    return Math.max(now, this.holdUntil);
  }

  /** Holds dispatch from `now` for NEIGHBOR_RETRY: the interface answered 'pending'. */
  protected holdForNeighbor(now: number): void {
    this.holdUntil = now + NEIGHBOR_RETRY;
  }
}

/**
 * A queued datagram's addresses, the MTU it is fragmented to where below the link's (Outgoing's
 * pathMtu) and, for a ping socket's IPv4 request, whether DF is set when it is not fragmented.
 */
export interface DatagramTxMeta {
  readonly src: IpAddress;
  readonly dst: IpAddress;
  readonly pathMtu?: number;
  readonly dontFragment?: boolean;
  /** A raw socket's IP_HDRINCL (IPV6_HDRINCL) datagram: the caller wrote its IP header. */
  readonly headerIncluded?: boolean;
}

/** A queued received datagram's sender (port 0) and the truesize it is charged (see skb-truesize.ts). */
export interface DatagramRxMeta {
  readonly from: IpEndpoint;
  readonly truesize: number;
  /** The IP header fields recvmsg's control messages report (see ip-cmsg.ts). */
  readonly ip?: DatagramIpFields;
}

/** What a received datagram keeps of its IP header for IP_PKTINFO, IP_RECVTTL, IP_RECVTOS and their IPv6 kin. */
export interface DatagramIpFields {
  readonly dst: IpAddress;
  readonly hopLimit: number;
  readonly trafficClass: number;
  readonly ifindex: number;
}

/** A received datagram: its length, sender (port 0) and whether it was cut to the buffer. */
export interface DatagramReceived {
  readonly len: number;
  readonly from: IpEndpoint;
  readonly truncated: boolean;
  /** Absent for a datagram the subclass queued without them. */
  readonly ip?: DatagramIpFields;
}

/**
 * A socket that receives whole datagrams into one queue and sends from another (raw and ICMP
 * echo sockets); the subclass fills the receive queue and says how a queued datagram leaves.
 */
export abstract class DatagramQueues extends NeighborHold {
  protected closed = false;
  protected readonly rx: PacketBuffer<DatagramRxMeta>;
  protected readonly tx: PacketBuffer<DatagramTxMeta>;
  /** The pending error and the error queue, which shares SO_RCVBUF with the receive queue. */
  readonly errors = new SocketErrors(() => this.rxTruesize);
  private rcvLimitValue = Infinity;
  /** Datagrams dropped on a full receive queue (sk_drops: SO_MEMINFO's and /proc/net's drops). */
  drops = 0;
  /**
   * Datagrams queued so far (each one a sk_data_ready call in Linux, which wakes the waiters
   * though the readiness bits stay the same).
   */
  arrivals = 0;
  /** The truesize of the queued datagrams. */
  private rxTruesize = 0;

  /**
   * `rxSlots` datagrams at most wait to be read, 64 to be sent, each queue in `bytes`, until
   * SO_RCVBUF sizes the receive queue ({@link rcvLimit}); the socket is writable while a
   * datagram of `minSend` bytes fits.
   */
  constructor(
    rxSlots: number,
    bytes: number,
    private readonly minSend: number,
  ) {
    super();
    this.rx = new PacketBuffer(rxSlots, new Uint8Array(bytes));
    this.tx = new PacketBuffer(64, new Uint8Array(bytes));
  }

  /** SO_RCVBUF (Linux's doubled sk_rcvbuf): no datagram is queued while the receive memory has reached it. */
  get rcvLimit(): number {
    return this.rcvLimitValue;
  }
  set rcvLimit(limit: number) {
    this.rcvLimitValue = limit;
    sizeReceiveQueue(this.rx, limit);
  }

  /**
   * Implements recvfrom(2): a pending error first (skb_recv_datagram), else the next datagram,
   * whole or cut to `out`; `peek` leaves it queued.
   */
  recvfrom(out: Uint8Array, peek = false): DatagramReceived | LinuxError | WouldBlock {
    if (this.closed) return E.EBADF;
    const err = this.errors.take();
    if (err) return err;
    if (peek) {
      const p = this.rx.peekInto(out);
      return p
        ? { len: p.len, from: p.meta.from, truncated: p.len > out.length, ...ipOf(p.meta) }
        : WOULD_BLOCK;
    }
    const d = this.rx.dequeue(out);
    if (!d) return WOULD_BLOCK;
    this.rxTruesize -= d.meta.truesize;
    return { len: d.len, from: d.meta.from, truncated: d.truncated, ...ipOf(d.meta) };
  }

  /**
   * sock_queue_rcv_skb: queues a datagram from `from` charged `truesize`, unless the receive
   * memory (queued datagrams and errors) has reached SO_RCVBUF or the queue is full (then it is
   * a drop). True when queued.
   */
  protected queueReceived(
    from: IpEndpoint,
    data: Uint8Array,
    truesize: number,
    ip?: DatagramIpFields,
  ): boolean {
    if (
      this.rmemAlloc() >= this.rcvLimit ||
      !this.rx.enqueue({ from, truesize, ...(ip ? { ip } : {}) }, data)
    ) {
      this.drops++;
      return false;
    }
    this.rxTruesize += truesize;
    this.arrivals++;
    return true;
  }

  /** Readiness for poll/epoll (datagram_poll). */
  readiness(): number {
    let ev = this.errors.pollErr ? PollEvent.POLLERR : 0;
    if (!this.rx.isEmpty()) ev |= PollEvent.POLLIN | PollEvent.POLLRDNORM;
    if (this.tx.canEnqueue(this.minSend))
      ev |= PollEvent.POLLOUT | PollEvent.POLLWRNORM | PollEvent.POLLWRBAND;
    return ev;
  }

  /** SO_ERROR: returns and clears the pending error. */
  takeError(): LinuxError | undefined {
    return this.errors.take();
  }

  /** FIONREAD: length of the next datagram. */
  nextDatagramLength(): number {
    return this.rx.peek()?.len ?? 0;
  }

  /**
   * The receive memory: the truesize of the queued datagrams and errors (sk_rmem_alloc:
   * SO_MEMINFO, /proc/net's rx_queue).
   */
  rmemAlloc(): number {
    return this.rxTruesize + this.errors.charged;
  }

  /** SIOCOUTQ: bytes waiting to be sent. */
  queuedBytes(): number {
    return this.tx.bytes;
  }

  /** Marks the socket closed: reads and sends answer EBADF from now on. */
  close(): void {
    this.closed = true;
  }
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal the socket has datagrams to send. */
  wantsDispatch(): boolean {
    return !this.tx.isEmpty();
  }

  /**
   * Sends the queued datagrams in order, each read into `buffer(len)` and handed to `send`,
   * until the queue is empty or the interface waits for a link address (then holds). True when
   * any left.
   */
  protected dispatchQueued(
    ctx: DispatchContext,
    buffer: (len: number) => Uint8Array,
    send: (meta: DatagramTxMeta, bytes: Uint8Array) => EmitResult,
  ): boolean {
    let sent = false;
    for (let head = this.tx.peek(); head; head = this.tx.peek()) {
      const bytes = buffer(head.len);
      this.tx.peekInto(bytes);
      if (send(head.meta, bytes) === 'pending') {
        this.holdForNeighbor(ctx.now);
        break;
      }
      this.tx.dequeue(bytes);
      sent = true;
    }
    return sent;
  }
}

function ipOf(meta: DatagramRxMeta): { ip?: DatagramIpFields } {
  return meta.ip ? { ip: meta.ip } : {};
}
