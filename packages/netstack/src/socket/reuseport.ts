/**
 * SO_REUSEPORT groups as Linux keeps them (struct sock_reuseport, net/core/sock_reuseport.c):
 * the sockets that share one address and port, in an array that a classic BPF program
 * (SO_ATTACH_REUSEPORT_CBPF) indexes to pick the socket of each incoming datagram or connection.
 *
 * A UDP socket joins its group when it binds, a TCP socket when it listens; a socket joins at
 * the end of the array, and one that leaves (close, a listener disconnected by shutdown(2) for
 * reading or connect(AF_UNSPEC), a UDP socket that connects) has its slot taken by the last one
 * (reuseport_detach_sock), so indexes move as Linux's do; a listener that listens again joins at
 * the end (reuseport_add_sock). A program attached by any member belongs to the group: it stays
 * after that member closes, and a later attach replaces it. A socket that attaches a program
 * before it is bound gets a group of its own (reuseport_alloc from the setsockopt): bound first
 * on its port it keeps that group and program; it can never share a port another socket holds
 * (EADDRINUSE, as Linux's bind conflict rule for a socket that has a group already).
 *
 * @module
 */
import { runClassicFilter, type ClassicProgram, type FilterPacket } from './cbpf.js';
import type { IpEndpoint } from '../wire/ip-address.js';

/** What a socket needs to be a member of a group of sockets of its own kind `S`. */
export interface ReuseportSocket<S> {
  readonly family: 4 | 6;
  readonly local: IpEndpoint | undefined;
  /** SO_REUSEPORT. */
  readonly reusePort: boolean;
  readonly boundDevIf: number;
  readonly v6only: boolean;
  /** The group this socket is in or will take its program from (Linux's sk_reuseport_cb). */
  reuseportGroup: ReuseportGroup<S> | undefined;
}

/**
 * One group: its members in Linux's array order and its program. `S` is the kind of socket
 * (UDP sockets, TCP listeners).
 *
 * ```ts
 * const g = new ReuseportGroup<string>();
 * g.add('a'); g.add('b'); g.add('c');
 * g.remove('a'); // g.socks is now ['c', 'b']
 * ```
 */
export class ReuseportGroup<S> {
  /** The members: index i is what a program's return value i picks. */
  readonly socks: S[] = [];
  /** SO_ATTACH_REUSEPORT_CBPF's program, if one is attached. */
  program: ClassicProgram | undefined;

  /** __reuseport_add_sock: `s` takes the next index. */
  add(s: S): void {
    this.socks.push(s);
  }

  /** __reuseport_detach_sock: the last member moves into `s`'s slot. False when `s` is not a member. */
  remove(s: S): boolean {
    const i = this.socks.indexOf(s);
    if (i < 0) return false;
    const last = this.socks.pop()!;
    if (i < this.socks.length) this.socks[i] = last;
    return true;
  }

  /**
   * reuseport_select_sock: the member the program returns the index of, run on `packet()` (built
   * only when there is a program); without a program, or for an index out of range, the member
   * `hash` (32 bits, the flow's) picks (reciprocal_scale), or the first after it that is not
   * `connected`: reuseport_select_sock_by_hash passes over TCP_ESTABLISHED members (a UDP-Lite
   * socket that connected while bound to an address stays in its group), which a program may
   * still pick. Undefined for an empty group, or one whose members are all connected.
   */
  select(hash: number, packet: () => FilterPacket, connected?: (s: S) => boolean): S | undefined {
    const n = this.socks.length;
    if (n === 0) return undefined;
    if (this.program) {
      const i = runClassicFilter(this.program, packet());
      if (i < n) return this.socks[i];
    }
    const first = Math.floor((hash / 2 ** 32) * n);
    for (let k = 0; k < n; k++) {
      const s = this.socks[(first + k) % n]!;
      if (!connected?.(s)) return s;
    }
    return undefined;
  }
}

/**
 * udp_reuseport_add_sock / inet_reuseport_add_sock: `s`, just bound (UDP) or listening (TCP) with
 * SO_REUSEPORT, joins the group of the first of `hashed` (the other bound UDP sockets or
 * listeners of its port) with the same family, IPV6_V6ONLY, device and address and the option
 * (one without a group yet gets one first). Its own group from an earlier attach is dropped then;
 * with no such socket, `s` starts a group, or keeps the one it has. Nothing happens when `s` is
 * a member already (a listener's listen(2) again).
 */
export function joinReuseport<S extends ReuseportSocket<S>>(s: S, hashed: Iterable<S>): void {
  const at = s.local;
  if (!s.reusePort || !at || s.reuseportGroup?.socks.includes(s)) return;
  for (const o of hashed) {
    if (o === s || !o.reusePort || o.family !== s.family || o.boundDevIf !== s.boundDevIf) continue;
    if (s.family === 6 && o.v6only !== s.v6only) continue;
    if (o.local?.port !== at.port || !o.local.addr.equals(at.addr)) continue;
    let g = o.reuseportGroup;
    if (!g) {
      g = new ReuseportGroup<S>();
      g.add(o);
      o.reuseportGroup = g;
    }
    g.add(s);
    s.reuseportGroup = g;
    return;
  }
  const own = s.reuseportGroup ?? new ReuseportGroup<S>();
  if (!own.socks.includes(s)) own.add(s);
  s.reuseportGroup = own;
}

/**
 * reuseport_detach_sock: `s` leaves its group (closed, a listener that stopped listening, a UDP
 * socket that connected).
 */
export function leaveReuseport<S extends ReuseportSocket<S>>(s: S): void {
  s.reuseportGroup?.remove(s);
  s.reuseportGroup = undefined;
}
