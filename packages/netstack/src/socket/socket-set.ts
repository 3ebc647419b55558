/**
 * The set of sockets of one stack, and the port spaces they bind in. Sockets are created
 * through the set so that bind, connect and ephemeral-port choice see every other socket;
 * the interface walks the set to deliver and to dispatch packets.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import type { DispatchContext } from '../iface/outgoing.js';
import type { NetMib } from '../stats/mib.js';
import type { IpAddress, IpEndpoint } from '../wire/ip-address.js';
import { addressWords, keyedHash } from './syn-cookie.js';
import type { TcpSocket } from './tcp.js';

/** A socket that sends queued datagrams when its stack dispatches it (UDP, ICMP echo, raw). */
export interface DatagramSender {
  /** It has datagrams queued. */
  wantsDispatch(): boolean;
  /** When it next wants dispatch, given it has datagrams queued (a neighbor's answer may hold it). */
  dispatchAt(now: number): number;
  /** Sends what it can; true when any packet left. */
  dispatch(ctx: DispatchContext): boolean;
  /** True after close(). */
  readonly isClosed: boolean;
}

/** What sockets need from the stack they live in. */
export interface SocketEnv {
  /** True when `addr` is one of the stack's addresses (including the loopback ranges). */
  isLocalAddress(addr: IpAddress): boolean;
  /** The source address for packets to `dst`, or undefined when `dst` has no route. */
  sourceAddressFor(dst: IpAddress): IpAddress | undefined;
  /**
   * The errno of a send or connect to `dst` that {@link sourceAddressFor} found no source for:
   * EADDRNOTAVAIL for an IPv6 destination when the stack has no IPv6 address to pick from (a
   * down lo took ::1: ip6_dst_lookup_tail picks the source before it looks at the route), else
   * ENETUNREACH. Absent: ENETUNREACH.
   */
  noSourceError?(dst: IpAddress): LinuxError;
  /**
   * True while a link is down (Stack.setLoopbackUp, setDeviceUp): a socket with a source of its
   * own then asks {@link sourceAddressFor} whether its destination still has a route. Absent:
   * the links are always up.
   */
  readonly linkDown?: boolean;
  /**
   * The IP MTU on the way to `dst`: the path MTU, or with `learnt` false the link's (or its
   * route's) without what ICMP errors taught (IP_PMTUDISC_PROBE and above, raw IP_HDRINCL sends).
   */
  mtuFor(dst: IpAddress, learnt?: boolean): number;
  /**
   * Whether the MTU to `dst` is locked (dst_metric_locked: a route's `mtu lock`, or an IPv4 path
   * MTU raised to min_pmtu): an IPv4 datagram under IP_PMTUDISC_WANT then goes without DF
   * (ip_dont_fragment). Absent: never.
   */
  mtuLocked?(dst: IpAddress): boolean;
  /**
   * The MTU {@link mtuFor} gives for every destination, when it does not depend on the
   * destination and never changes (a stack on a loopback device): sockets then need not ask
   * for each segment. Absent: ask.
   */
  readonly uniformMtu?: number | undefined;
  /**
   * The route to `dst` of a socket bound to the device with ifindex `oif` (SO_BINDTODEVICE):
   * its source address, and whether its packets are lost on the way (Linux then sends them
   * where nothing answers: out of `lo` to an address not of this host, out of the NIC to a
   * loopback one), or ENODEV when no device has that index. Absent: only `oif` 0 exists.
   */
  routeVia?(dst: IpAddress, oif: number): { readonly src: IpAddress; readonly lost: boolean } | LinuxError;
  /**
   * Something happened to TCP connection `s` (a call of one of its methods, a segment): the
   * stack dispatches it at its next poll and reads its readiness again. Absent: the stack
   * looks at every socket at every poll.
   */
  touch?(s: TcpSocket): void;
  /** The readiness of socket-layer object `owner` (a listener's) may have changed. */
  touchOwner?(owner: object | undefined): void;
  /**
   * UDP, ICMP echo or raw socket `s` queued a datagram to send: the stack dispatches it at its
   * next poll. Absent: nothing is sent.
   */
  queued?(s: DatagramSender): void;
  /**
   * TCP connection `s` has both its endpoints now (its connect, or a listener's new child), which
   * never change after: the stack files it for finding it by a segment's ports.
   */
  endpointsSet?(s: TcpSocket): void;
  /** A random number in [0, 1) (initial sequence numbers, ephemeral ports). */
  random(): number;
  /** The stack's SNMP counters, which sockets increment; absent: the socket counts into its own. */
  readonly mib?: NetMib;
  /**
   * The net.ipv4 TCP timer sysctls (seconds; probes a count), read when a timer is armed so a
   * change reaches existing sockets as on Linux. Absent: Linux's defaults (7200, 75, 9, 60).
   */
  readonly sysctl?: {
    readonly keepaliveTime: number;
    readonly keepaliveIntvl: number;
    readonly keepaliveProbes: number;
    readonly finTimeout: number;
    /** net.ipv4.tcp_frto, read at each timeout; absent: the socket's `TcpConfig.frto`. */
    readonly frto?: number;
    /** net.ipv4.tcp_syncookies (0, 1, 2), read per SYN and per ACK to a listener; absent: 1. */
    readonly syncookies?: number;
    /** net.ipv4.tcp_reflect_tos (0, 1), read as a SYN-ACK leaves and as a handshake completes; absent: 0. */
    readonly reflectTos?: number;
    /** net.ipv4.tcp_max_syn_backlog, read per SYN; absent: 128. */
    readonly maxSynBacklog?: number;
    /** net.ipv4.tcp_synack_retries, read at each SYN-ACK timeout; absent: 5. */
    readonly synackRetries?: number;
    /** net.ipv4.tcp_abort_on_overflow, read when a handshake's ACK finds the accept queue full. */
    readonly abortOnOverflow?: number;
    /** net.ipv4.tcp_tw_reuse (0, 1, 2), read at connect; absent: 2. */
    readonly twReuse?: number;
    /**
     * net.ipv4.tcp_timestamps, read at connect and per SYN to a listener: 1 gives each pair of
     * addresses and ports its own random TSval offset, 2 (and 0) none; absent: 1.
     */
    readonly timestamps?: number;
    /** net.ipv4.tcp_rfc1337, read per segment to a TIME_WAIT connection; absent: 0. */
    readonly rfc1337?: number;
    /** net.ipv4.tcp_early_retrans, read whenever a loss probe would be scheduled; absent: 3. */
    readonly earlyRetrans?: number;
    /** net.ipv4.tcp_syn_retries, read at each timeout; absent: the socket's `TcpConfig.synRetries`. */
    readonly synRetries?: number;
    /** net.ipv4.tcp_syn_linear_timeouts, read at each timeout of a connect; absent: 4. */
    readonly synLinearTimeouts?: number;
    /** net.ipv4.tcp_retries2, read at each timeout; absent: the socket's `TcpConfig.maxRetries`. */
    readonly retries2?: number;
    /** net.ipv4.tcp_orphan_retries, read at each timeout of an orphan; absent: 0. */
    readonly orphanRetries?: number;
    /** net.ipv4.tcp_notsent_lowat, for a socket without TCP_NOTSENT_LOWAT; absent: UINT_MAX. */
    readonly notsentLowat?: number;
    /** net.ipv4.tcp_dsack, read per duplicate segment; absent: 1. */
    readonly dsack?: number;
    /** net.ipv4.tcp_invalid_ratelimit (ms), read per out-of-window segment; absent: 500. */
    readonly invalidRatelimit?: number;
  };
  /** The poll clock's latest time (ms): what a TIME_WAIT's age is measured against. Absent: 0. */
  pollNow?(): number;
  /**
   * TIME_WAIT connection `s` is taken over by a new connection of the same addresses and ports
   * (tcp_tw_reuse): the stack forgets it. Absent: no TIME_WAIT connection is ever taken over.
   */
  reuseTimeWait?(s: TcpSocket): void;
}

/** The ifindex of `lo`, the link of this host's traffic to itself (as in every Linux netns). */
export const LOOPBACK_IFINDEX = 1;

/** Linux's default ephemeral range (net.ipv4.ip_local_port_range). */
export const EPHEMERAL_PORT_MIN = 32768;
/** Upper end (inclusive) of the ephemeral range. */
export const EPHEMERAL_PORT_MAX = 60999;

/** A binding in a port space. */
export interface PortBinding {
  readonly local: IpEndpoint | undefined;
  /** SO_REUSEADDR. */
  readonly reuseAddr: boolean;
  /** A listening TCP socket: SO_REUSEADDR never lets another socket share its port. */
  readonly isListening?: boolean;
  /**
   * An AF_INET6 socket with IPV6_V6ONLY off: bound to `::` it also holds the port for IPv4, so
   * it conflicts with IPv4 bindings of that port (Linux's inet6_rcv_saddr_equal).
   */
  readonly dualStack?: boolean;
  /**
   * SO_REUSEPORT: sockets that all set it may bind the same address and port (Linux also
   * requires the same owner uid; netstack has no uids, the caller checks that if it must).
   */
  readonly reusePort?: boolean;
  /**
   * The socket's SO_REUSEPORT group, when it has one before it binds (a program attached while
   * unbound): it then shares its port with no other socket, as Linux's bind conflict rule does
   * for a socket with a sk_reuseport_cb (reuseport_cb_ok).
   */
  readonly reuseportGroup?: object | undefined;
  /**
   * SO_BINDTODEVICE's ifindex (0: none). Bindings to two different devices never conflict;
   * one without a device conflicts with every device's (Linux's inet_bind_conflict).
   */
  readonly boundDevIf?: number;
  /**
   * IP_LOCAL_PORT_RANGE: low port | high port << 16 (0: none). Each end that lies within the
   * stack's range narrows it for this socket's ephemeral port (inet_sk_get_local_port_range).
   */
  readonly localPortRange?: number;
}

/**
 * How bind(2) of port 0 looks for a free port. `inet_csk` is TCP's search (also listen(2)'s
 * autobind: inet_csk_find_open_port): from a random odd offset from the range's low end,
 * stepping by 2, then the even offsets, so that connect(2) (which starts with the even ones) finds
 * its ports free; with SO_REUSEADDR it searches the lower half of the range first, then the
 * upper. A port is free when no holder's binding overlaps the new one, SO_REUSEADDR and
 * SO_REUSEPORT aside; once none is, net.ipv4.ip_autobind_reuse lets a second search share a port
 * whose overlapping holders all set SO_REUSEADDR (and are not listening), unless both sockets
 * also set SO_REUSEPORT (inet_bind_conflict with `relax` and without `reuseport_ok`). `random` is
 * UDP's (udp_lib_get_port): from a random port of the range each time, so a program's source
 * ports cannot be guessed from the last one (DNS clients count on that); a port is free there
 * when an explicit bind(2) to it would succeed, so sockets that all set SO_REUSEADDR may get the
 * same one. Both skip net.ipv4.ip_local_reserved_ports. `rotate` starts where the last search of
 * the space ended, as ping_get_port counts on from the last echo identifier, and takes only a
 * value nobody holds. Neither of the last two prefers a parity.
 */
export type EphemeralSearch = 'inet_csk' | 'random' | 'rotate';

/** The net.ipv4 sysctls that ephemeral searches read besides the range (a stack's `sysctl` has them). */
export interface PortSysctl {
  /** ip_local_reserved_ports: ports no search picks, though an explicit bind(2) may name them. */
  readonly reservedPorts: ReadonlySet<number>;
  /** ip_autobind_reuse (0 or 1): see the `inet_csk` {@link EphemeralSearch}. */
  readonly autobindReuse: number;
}

/** The size of __inet_hash_connect's perturbation table (INET_TABLE_PERTURB_SIZE). */
const PERTURB_SIZE = 1 << 16;

/**
 * One protocol's port space (TCP and UDP each have one). Two bindings conflict when their
 * ports are equal, their families are equal and either address is unspecified or both are
 * equal, unless both set SO_REUSEADDR and the existing one is not listening (Linux
 * inet_bind_conflict). Connections accepted from a listener and connections in TIME_WAIT keep
 * their port bound, as on Linux.
 */
export class PortSpace<S extends PortBinding> {
  private readonly byPort = new Map<number, Set<S>>();
  /** Where the next `rotate` search starts. */
  private next: number | undefined;
  /** The key of connect's per-destination offset (Linux's net_secret), made on first use. */
  private connectKey: readonly [number, number] | undefined;
  /** __inet_hash_connect's table_perturb: entries are random until a connect moves them on. */
  private readonly perturb = new Map<number, number>();

  /**
   * `range` gives the ephemeral ports (inclusive) when one is picked, so a change of
   * net.ipv4.ip_local_port_range applies to the next autobind or connect; `sysctl` is read then
   * too (absent: no port reserved, ip_autobind_reuse 0).
   */
  constructor(
    private readonly random: () => number,
    private readonly range: () => readonly [number, number] = () => [EPHEMERAL_PORT_MIN, EPHEMERAL_PORT_MAX],
    private readonly sysctl?: PortSysctl,
  ) {}

  /** Sockets bound to `port`. */
  bound(port: number): ReadonlySet<S> | undefined {
    return this.byPort.get(port);
  }

  /** EADDRINUSE when `ep` conflicts with an existing binding of another socket. */
  check(socket: S, ep: IpEndpoint, reuseAddr: boolean): LinuxError | undefined {
    for (const o of this.overlapping(socket, ep)) {
      if (
        !(reuseAddr && o.reuseAddr && !o.isListening) &&
        !(socket.reusePort && o.reusePort && !socket.reuseportGroup)
      )
        return E.EADDRINUSE;
    }
    return undefined;
  }

  /**
   * The other sockets whose bindings of `ep`'s port overlap `socket`'s binding to `ep`: their
   * devices may meet (one is unbound or both are the same) and their addresses are equal or
   * either is the wildcard of the other's family (Linux's inet_rcv_saddr_equal with wildcards).
   */
  private *overlapping(socket: S, ep: IpEndpoint): Generator<S> {
    const meDev = socket.boundDevIf ?? 0;
    for (const o of this.byPort.get(ep.port) ?? []) {
      if (o === socket || !o.local) continue;
      const oDev = o.boundDevIf ?? 0;
      if (oDev !== 0 && meDev !== 0 && oDev !== meDev) continue;
      let overlap: boolean;
      if (o.local.addr.version !== ep.addr.version) {
        // Only a dual-stack `::` spans both families.
        const oWild = o.local.addr.version === 6 && o.local.addr.isUnspecified() && o.dualStack === true;
        const meWild = ep.addr.version === 6 && ep.addr.isUnspecified() && socket.dualStack === true;
        overlap = oWild || meWild;
      } else
        overlap = o.local.addr.isUnspecified() || ep.addr.isUnspecified() || o.local.addr.equals(ep.addr);
      if (overlap) yield o;
    }
  }

  /** Records that `socket` is bound to `port`. */
  add(socket: S, port: number): void {
    let set = this.byPort.get(port);
    if (!set) this.byPort.set(port, (set = new Set()));
    set.add(socket);
  }

  /**
   * The port half of bind(2), alike for every socket kind: port 0 takes a free ephemeral port,
   * any other is refused on conflict (EADDRINUSE); then the binding is recorded. Returns the
   * port bound. A full ephemeral range is EADDRINUSE too, as bind(2) and listen(2) say; an
   * implicit bind turns it into its own errno (EAGAIN for datagram sockets, EADDRNOTAVAIL for
   * a TCP connect).
   */
  claim(
    socket: S,
    addr: IpAddress,
    port: number,
    reuseAddr: boolean,
    search: EphemeralSearch = 'rotate',
  ): number | LinuxError {
    if (port === 0) {
      const p =
        search === 'inet_csk'
          ? this.findOpenPort(socket, addr, reuseAddr)
          : search === 'random'
            ? this.freeFrom(
                socket,
                undefined,
                (p) => !this.reserved(p) && !this.check(socket, { addr, port: p }, reuseAddr),
              )
            : this.freeFrom(socket, this.next, (p) => !this.byPort.has(p));
      if (p === undefined) return E.EADDRINUSE;
      port = p;
    } else {
      const err = this.check(socket, { addr, port }, reuseAddr);
      if (err) return err;
    }
    this.add(socket, port);
    return port;
  }

  /** Forgets `socket`'s binding to `port`. */
  remove(socket: S, port: number): void {
    const set = this.byPort.get(port);
    if (!set) return;
    set.delete(socket);
    if (set.size === 0) this.byPort.delete(port);
  }

  /**
   * The ephemeral port of a TCP connect(2) from an unbound socket to `dst`, from local address
   * `src` (EADDRNOTAVAIL when none is left), in __inet_hash_connect's order: from an offset that a
   * keyed hash of the addresses and `dst`'s port picks in a perturbation table, the even offsets
   * from the range's low end first, stepping by 2, then the odd ones; a per-socket
   * IP_LOCAL_PORT_RANGE drops the preference and steps by 1. Each success moves the destination's
   * entry on by one step more than the ports it tried or a random 0-7 steps, whichever is more,
   * so the next connect to it starts further on. Reserved ports (ip_local_reserved_ports) are
   * passed over but counted as tried. A port others hold is free when `share` says so of its
   * holders (ports are shared among connections to other peers); the caller then adds itself.
   */
  connectPort(
    socket: S,
    src: IpAddress,
    dst: IpEndpoint,
    share: (holders: ReadonlySet<S>) => boolean,
  ): number | LinuxError {
    const [low, high, own] = this.rangeOf(socket);
    const step = own ? 1 : 2;
    let remaining = high + 1 - low;
    if (remaining <= 0) return E.EADDRNOTAVAIL;
    if (!own && remaining > 1) remaining &= ~1;
    this.connectKey ??= [this.randomWord(), this.randomWord()];
    const hash = keyedHash(this.connectKey[0], this.connectKey[1], [
      ...addressWords(src),
      ...addressWords(dst.addr),
      dst.port,
    ]);
    const index = hash & (PERTURB_SIZE - 1);
    const perturb = this.perturb.get(index) ?? this.randomWord();
    let offset = ((perturb + (hash >>> 16)) >>> 0) % remaining;
    if (!own) offset &= ~1;
    const passes = own || remaining === 1 ? 1 : 2;
    for (let pass = 0; pass < passes; pass++, offset++) {
      let port = low + offset;
      for (let i = 0; i < remaining; i += step, port += step) {
        if (port > high) port -= remaining;
        if (this.reserved(port)) continue;
        const holders = this.byPort.get(port);
        if (holders === undefined || share(holders)) {
          const moved = Math.max(i, Math.floor(this.random() * 8) * step);
          this.perturb.set(index, (perturb + moved + step) >>> 0);
          return port;
        }
      }
    }
    return E.EADDRNOTAVAIL;
  }

  /**
   * inet_csk_find_open_port (see {@link EphemeralSearch}): a port free for `socket`'s binding to
   * `addr`, or undefined. The search covers an even count of ports (Linux's `remaining &= ~1`),
   * so in a range of an odd size one port is reached only from some starting offsets.
   */
  private findOpenPort(socket: S, addr: IpAddress, reuseAddr: boolean): number | undefined {
    const [first, last] = this.rangeOf(socket);
    const end = last + 1;
    // The halves SO_REUSEADDR searches one after the other.
    const bounds =
      reuseAddr && end - first >= 4 ? [first, first + (((end - first) >> 2) << 1), end] : [first, end];
    for (const relax of [false, true]) {
      if (relax && this.sysctl?.autobindReuse !== 1) break;
      for (let k = 1; k < bounds.length; k++) {
        const low = bounds[k - 1]!;
        const high = bounds[k]!;
        let remaining = high - low;
        if (remaining <= 0) return undefined;
        if (remaining > 1) remaining &= ~1;
        let offset = Math.floor(this.random() * remaining) | 1;
        for (let pass = 0; pass < 2; pass++, offset--) {
          let port = low + offset;
          for (let i = 0; i < remaining; i += 2, port += 2) {
            if (port >= high) port -= remaining;
            if (!this.reserved(port) && !this.autobindConflict(socket, { addr, port }, reuseAddr, relax))
              return port;
          }
        }
      }
    }
    return undefined;
  }

  /**
   * Whether a holder of `ep`'s port keeps a search from giving it to `socket`
   * (inet_csk_bind_conflict without `reuseport_ok`): any overlapping one, or with `relax` one
   * that SO_REUSEADDR does not let share it or that SO_REUSEPORT would put in a group with it.
   */
  private autobindConflict(socket: S, ep: IpEndpoint, reuseAddr: boolean, relax: boolean): boolean {
    for (const o of this.overlapping(socket, ep)) {
      if (!relax || !(reuseAddr && o.reuseAddr && !o.isListening)) return true;
      if (socket.reusePort && o.reusePort && !socket.reuseportGroup) return true;
    }
    return false;
  }

  /** Whether net.ipv4.ip_local_reserved_ports keeps searches off `port`. */
  private reserved(port: number): boolean {
    return this.sysctl?.reservedPorts.has(port) === true;
  }

  /**
   * A port `free` accepts, searched from offset `start` of the range (a random one when
   * undefined); the next `rotate` search starts after it (see {@link EphemeralSearch}).
   */
  private freeFrom(
    socket: S,
    start: number | undefined,
    free: (port: number) => boolean,
  ): number | undefined {
    const [low, high] = this.rangeOf(socket);
    const span = high - low + 1;
    if (span <= 0) return undefined;
    const first = (start ?? Math.floor(this.random() * span)) % span;
    for (let i = 0; i < span; i++) {
      const port = low + ((first + i) % span);
      if (free(port)) {
        this.next = (first + i + 1) % span;
        return port;
      }
    }
    return undefined;
  }

  /**
   * The ephemeral range (inclusive) of `socket` (inet_sk_get_local_port_range): the stack's,
   * narrowed by the socket's IP_LOCAL_PORT_RANGE; `own` says whether the socket has one.
   */
  private rangeOf(socket: S): [low: number, high: number, own: boolean] {
    let [low, high] = this.range();
    const own = socket.localPortRange ?? 0;
    if (own !== 0) {
      const ownLow = own & 0xffff;
      const ownHigh = own >>> 16;
      if (low <= ownLow && ownLow <= high) low = ownLow;
      if (low <= ownHigh && ownHigh <= high) high = ownHigh;
    }
    return [low, high, own !== 0];
  }

  private randomWord(): number {
    return Math.floor(this.random() * 2 ** 32) >>> 0;
  }
}
