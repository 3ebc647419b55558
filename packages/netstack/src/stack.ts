/**
 * A stack: one interface on one device plus its sockets, driven by `poll(now)`. This is the
 * entry point for standalone use (two stacks in one process, a stack on a TAP device later);
 * the kernel's socket layer builds on the same pieces.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';
import { DOUBLE_ZERO } from './double-zero.js';
import { NEIGHBOR_RETRY, type DispatchContext } from './iface/outgoing.js';
import {
  Interface,
  type IcmpErrorReport,
  type InterfaceConfig,
  type ReceivedIp,
  type SocketTable,
} from './iface/interface.js';
import { ArpHardware, frameProtocol, type PacketTap, type TappedFrame } from './iface/packet-tap.js';
import type { Device } from './phy/device.js';
import { acceptsPmtu, PathMtuCache, reportedMtu } from './iface/pmtu.js';
import { LOOPBACK_MTU } from './phy/loopback.js';
import { seededRandom } from './phy/fault-injector.js';
import type { CongestionAlgorithm } from './socket/congestion.js';
import {
  EPHEMERAL_PORT_MAX,
  EPHEMERAL_PORT_MIN,
  LOOPBACK_IFINDEX,
  PortSpace,
  type DatagramSender,
  type SocketEnv,
} from './socket/socket-set.js';
import {
  LINUX_TCP_STATE,
  rstFor,
  TcpListener,
  TcpSocket,
  type TcpBuffers,
  type TcpConfig,
} from './socket/tcp.js';
import type { TcpTimeWait, TimeWaitHome } from './socket/tcp-time-wait.js';
import { IcmpSocket } from './socket/icmp.js';
import { RawSocket } from './socket/raw.js';
import type { DatagramIpFields } from './socket/datagram-queues.js';
import type { FilterPacket } from './socket/cbpf.js';
import { pastTransportHeader, tcpReuseportPacket, udpFilterPacket } from './socket/filter-packet.js';
import { TimerHeap } from './socket/timer-heap.js';
import { UdpSocket, udpBuffers, type UdpBuffers } from './socket/udp.js';
import type { NetMib, TcpExtMib } from './stats/mib.js';
import { IpCidr, Ipv4Address, Ipv6Address, type IpAddress, type IpEndpoint } from './wire/ip-address.js';
import { IPV4_MAX_MTU } from './wire/ipv4.js';
import { TcpFlag, type TcpRepr } from './wire/tcp.js';
import { UDP_HEADER_LEN, type UdpLiteRepr, type UdpRepr } from './wire/udp.js';

const IPPROTO_UDP = 17;
const IPPROTO_UDPLITE = 136;
/** The ECN field of a TOS byte or traffic class (INET_ECN_MASK). */
const IP_ECN_MASK = 0x03;

/** IPV6_MIN_MTU: the smallest MTU a link may have and keep IPv6 (RFC 8200). */
const IPV6_MIN_MTU = 1280;
/**
 * How often (ms of the poll clock) a poll looks at {@link RESCAN_SLICE} more TCP connections
 * and readiness watchers, in turn, besides those something happened to: the net under
 * {@link Stack.touch} for callers that change a socket's public fields directly and do not say
 * so.
 */
const QUIET_RESCAN_MS = 100;
/**
 * How many connections (and watchers) each of those polls looks at: all of them while the stack
 * holds no more, else the next ones in turn, so that the net costs a server with ten thousand
 * idle connections no more than one with a few hundred (all of them each time took about half
 * its CPU).
 */
const RESCAN_SLICE = 256;
/**
 * Up to this many TCP connections and readiness watchers a poll simply looks at all of them:
 * the bookkeeping of touches costs a few sockets more than it saves, most of all in code V8 has
 * not optimized yet (a fresh sandbox's first transfer was 7-10% slower with it).
 */
const SMALL_STACK = 16;

export { LINUX_TCP_STATE, LOOPBACK_IFINDEX };

/** One TCP or UDP socket of a {@link Stack}, as {@link Stack.sockets} lists it. */
export interface SocketEntry {
  /** `icmp`: an ICMP echo (ping) socket with an identifier, listed in /proc/net/icmp(6). */
  readonly protocol: 'tcp' | 'udp' | 'udplite' | 'icmp' | 'raw';
  /** The IP version the socket speaks (an IPv4 connection of a dual-stack AF_INET6 socket is 4). */
  readonly family: 4 | 6;
  /** Linux's TCP state number ({@link LINUX_TCP_STATE}); UDP: 1 when connected, else 7. */
  readonly state: number;
  readonly local: IpEndpoint | undefined;
  readonly remote: IpEndpoint | undefined;
  /**
   * Bytes waiting to be read (a listener: connections waiting for accept); for a UDP, ping or
   * raw socket the memory they and its queued errors are charged (sk_rmem_alloc; for UDP less
   * what reads have not given back: udp_rqueue_get).
   */
  readonly rxQueue: number;
  /** Bytes not yet acknowledged or sent (a listener: its backlog). */
  readonly txQueue: number;
  /** The socket-layer object that owns it (an InetSocket), undefined once the application closed it. */
  readonly owner: object | undefined;
  /**
   * TCP: a connection a listener holds until accept(2) takes it (no owner yet, yet not closed by
   * the application); absent otherwise.
   */
  readonly inAcceptQueue?: true;
  /** A UDP, ping or raw socket's datagrams dropped on arrival (sk_drops: /proc/net's drops). */
  readonly drops?: number;
  /**
   * TCP: the connection, for its timers and figures (pendingTimer, procFigures; a TcpSocket's
   * info) and SOCK_DESTROY; a TcpTimeWait for a TIME_WAIT connection the application closed.
   */
  readonly tcp?: TcpSocket | TcpTimeWait;
}

/** Stack settings: the interface's, plus the randomness source and TCP tunables. */
export interface StackConfig extends InterfaceConfig {
  readonly device: Device;
  /** Seed for the stack's PRNG (initial sequence numbers, ephemeral ports); default random. */
  readonly seed?: number;
  /** TCP tunables. */
  readonly tcp?: Partial<TcpConfig>;
  /**
   * Check, at the end of every poll, that every connection and readiness watcher the poll did
   * not look at would have had nothing to do (see {@link Stack.touch}); each one that would is
   * reported in {@link Stack.quietViolations} and on the console, then handled. For tests: it
   * costs what the event-driven polls save. Default: the environment variable
   * TSVISOR_NETSTACK_AUDIT=1 where there is one.
   */
  readonly auditQuiet?: boolean;
  /**
   * The poll clock's current time (ms, as `poll(now)` is given it), for what a socket call
   * decides between polls: whether connect(2) may take over a TIME_WAIT connection (its peer's
   * last timestamp must be from an earlier second). Default: the time of the last poll.
   */
  readonly clock?: () => number;
  /**
   * How far (ms) CLOCK_MONOTONIC, as the sandbox's programs read it, runs ahead of the poll
   * clock: TCP timestamps count its milliseconds (Linux's tcp_clock_ms), so with
   * net.ipv4.tcp_timestamps 2 a SYN's TSval is what clock_gettime gave. A poll clock of
   * performance.now() starts with the process: the offset is CLOCK_MONOTONIC then. Default 0.
   */
  readonly monotonicOffset?: number;
}

/**
 * The stack's net.ipv4 sysctls that /proc/sys/net/ipv4 shows and sets. They are read when a
 * socket is created or an ephemeral port is picked, so a change applies to later sockets only,
 * as on Linux.
 */
export interface StackSysctl {
  /** net.ipv4.ip_local_port_range: the ephemeral ports, inclusive (Linux: 32768 60999). */
  portRange: readonly [number, number];
  /**
   * net.ipv4.ip_local_reserved_ports (Linux: none): ports that no ephemeral search picks (TCP's
   * bind(2) of port 0 and listen(2)'s autobind, a TCP connect(2)'s, UDP's autobind), though an
   * explicit bind(2) may name them. Replace the set to change it.
   */
  reservedPorts: ReadonlySet<number>;
  /**
   * net.ipv4.ip_autobind_reuse (Linux: 0): with 1, TCP's bind(2) of port 0 that finds no free
   * port may share one whose holders all set SO_REUSEADDR and are not listening, unless both
   * sockets also set SO_REUSEPORT (inet_csk_find_open_port).
   */
  autobindReuse: number;
  /**
   * net.ipv4.ip_default_ttl (Linux: 64): the TTL of IPv4 packets from a socket whose IP_TTL is
   * unset (or set to -1), read at each send (ip_select_ttl), so a change reaches such sockets
   * at once.
   */
  defaultTtl: number;
  /**
   * net.ipv4.route.min_pmtu (Linux: 552): an ICMP fragmentation-needed report below it is raised
   * to it and locks the path MTU. Read when a report comes.
   */
  minPmtu: number;
  /**
   * net.ipv4.route.mtu_expires (s, Linux: 600): how long a learnt IPv4 path MTU lasts, fixed
   * when it is learnt.
   */
  mtuExpires: number;
  /** net.ipv4.tcp_congestion_control: the congestion control of new TCP sockets. */
  congestion: CongestionAlgorithm;
  /** net.ipv4.tcp_sack: offer SACK on new connections unless 0 (Linux: 1). */
  sack: number;
  /** net.ipv4.tcp_timestamps: offer timestamps on new connections unless 0 (Linux: 1). */
  timestamps: number;
  /**
   * net.ipv4.tcp_keepalive_time (s, Linux: 7200): the idle time before the first keepalive
   * probe. This and the three below apply, when the timer is next armed, to every socket that
   * did not set its own value (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_LINGER2), as on Linux.
   */
  keepaliveTime: number;
  /** net.ipv4.tcp_keepalive_intvl (s, Linux: 75): between unanswered keepalive probes. */
  keepaliveIntvl: number;
  /** net.ipv4.tcp_keepalive_probes (Linux: 9): unanswered probes before the connection fails. */
  keepaliveProbes: number;
  /**
   * net.ipv4.tcp_fin_timeout (s, Linux: 60): how long a connection the application closed
   * waits in FIN_WAIT_2 for the peer's FIN (not the TIME_WAIT length, which stays 60 s).
   */
  finTimeout: number;
  /**
   * net.ipv4.tcp_frto (Linux: 2): F-RTO (RFC 5682) on a timeout unless 0, read at each timeout
   * so a change reaches existing connections, as tcp_enter_loss reads it. Eifel (timestamp)
   * detection of spurious timeouts is on either way.
   */
  frto: number;
  /**
   * net.ipv4.ping_group_range (Linux in a fresh namespace: 1 0, nobody): the groups, inclusive,
   * whose members may open ping sockets (SOCK_DGRAM with IPPROTO_ICMP or IPPROTO_ICMPV6). Read
   * when such a socket is created (ping_init_sock); a reversed range lets nobody in. The socket
   * layer above the stack applies it, since the stack knows no credentials.
   */
  pingGroupRange: readonly [number, number];
  /**
   * net.ipv4.tcp_syncookies (Linux: 1): 0 never answers a SYN with a SYN cookie (a full request
   * queue drops it), 1 does when a listener's request queue is full, 2 always.
   */
  syncookies: number;
  /**
   * net.ipv4.tcp_reflect_tos (Linux: 0): 1 gives a listener's SYN-ACKs (SYN cookies' too) the
   * SYN's DSCP with the listener's ECN bits, and the connection the SYN's DSCP as its IP_TOS or
   * IPV6_TCLASS (tcp_v4_send_synack, tcp_v4_syn_recv_sock and their IPv6 twins); read as each
   * SYN-ACK leaves and as each handshake completes.
   */
  reflectTos: number;
  /**
   * net.ipv4.tcp_max_syn_backlog (Linux: 128 or more, by the memory of the host): with cookies
   * off, a SYN is dropped once a listener's request queue is within a quarter of this.
   */
  maxSynBacklog: number;
  /** net.ipv4.tcp_synack_retries (Linux: 5): SYN-ACK retransmissions before a request is dropped. */
  synackRetries: number;
  /** net.ipv4.tcp_abort_on_overflow (Linux: 0): 1 resets a handshake whose ACK finds the accept queue full. */
  abortOnOverflow: number;
  /**
   * net.ipv4.tcp_tw_reuse (Linux: 2): whether connect(2) may take over a TIME_WAIT connection of
   * the same addresses and ports whose last timestamp from the peer is from an earlier second
   * (tcp_twsk_unique): 0 never, 1 always, 2 when the connection is over loopback.
   */
  twReuse: number;
  /**
   * net.ipv4.tcp_rfc1337 (Linux: 0): a RST at RCV.NXT of a TIME_WAIT connection ends it unless
   * this is set, read for each segment (tcp_timewait_state_process).
   */
  rfc1337: number;
  /**
   * net.ipv4.tcp_early_retrans (Linux: 3): tail loss probes (RFC 8985 §7) only with 3 or 4 (0-2
   * select the early retransmit Linux no longer has, without probes), read whenever a probe
   * would be scheduled (tcp_schedule_loss_probe).
   */
  earlyRetrans: number;
  /**
   * net.ipv4.tcp_syn_retries (Linux: 6; StackConfig.tcp.synRetries): a connection's SYN
   * retransmissions, unless TCP_SYNCNT says otherwise, read at each timeout (tcp_write_timeout).
   */
  synRetries: number;
  /**
   * net.ipv4.tcp_syn_linear_timeouts (Linux 6.18: 4): a connect's first timeouts that keep the
   * initial RTO, which add as many SYN retransmissions; read at each timeout.
   */
  synLinearTimeouts: number;
  /**
   * net.ipv4.tcp_retries2 (Linux: 15; StackConfig.tcp.maxRetries): the retransmissions whose
   * time, the RTO doubling from its minimum, unacknowledged data may take before the connection
   * fails; also the cap of a zero-window probe's backoff. Read at each timeout.
   */
  retries2: number;
  /**
   * net.ipv4.tcp_orphan_retries (Linux: 0): what stands for tcp_retries2 once the application
   * closed the connection; 0 means 8 while the RTO is below its maximum (tcp_orphan_retries).
   */
  orphanRetries: number;
  /**
   * net.ipv4.tcp_notsent_lowat (Linux: UINT_MAX): the unsent bytes past which a socket without
   * TCP_NOTSENT_LOWAT takes no more and polls unwritable, read at each check.
   */
  notsentLowat: number;
  /** net.ipv4.tcp_dsack (Linux: 1): 0 sends no D-SACK blocks (tcp_dsack_set); read per segment. */
  dsack: number;
  /**
   * net.ipv4.tcp_invalid_ratelimit (ms, Linux: 500): the least time between a connection's ACKs
   * to out-of-window segments, TIME_WAIT's included (__tcp_oow_rate_limited).
   */
  invalidRatelimit: number;
}

/** A connected UDP socket (Linux's TCP_ESTABLISHED), which an SO_REUSEPORT group's hash passes over. */
const isConnected = (s: UdpSocket): boolean => s.remote !== undefined;

/**
 * A userspace TCP/IP stack on one device.
 *
 * @example
 * ```ts
 * const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8'), cidr('::1/128')] });
 * const a = stack.udpSocket(4);
 * a.bind({ addr: Ipv4Address.LOOPBACK, port: 7 });
 * const next = stack.poll(now); // time of the next timer, if any
 * ```
 */
export class Stack implements SocketTable, SocketEnv, TimeWaitHome {
  readonly iface: Interface;
  readonly device: Device;
  /**
   * The stack's SNMP counters (the interface's), what /proc/net/snmp, /proc/net/netstat and
   * /proc/net/snmp6 show for it; `mib.snapshot()` lists them by their Linux names.
   */
  readonly mib: NetMib;
  private readonly udp: UdpSocket[] = [];
  /** UDP sockets made so far (their {@link UdpSocket.order}). */
  private udpMade = 0;
  /**
   * The UDP, ICMP echo and raw sockets with datagrams queued, in the order they queued them: a
   * poll dispatches these, not every datagram socket of the stack.
   */
  private readonly sending = new Set<DatagramSender>();
  /** When {@link reap} last walked the datagram sockets (the poll clock). */
  private lastDatagramReap = -Infinity;
  private readonly tcp: TcpSocket[] = [];
  /**
   * TIME_WAIT connections the application closed, with nothing to do until their timer ends:
   * records of what TIME_WAIT needs (tcp_time_wait), kept off the per-poll loops (a rate of a
   * thousand connections a second keeps 60 000 of them for Linux's 60 s). A queue from
   * {@link parkedHead}, in the order of their ends as they were when queued: a record whose
   * timer a segment restarted is queued again (see TcpTimeWait.queued), and a slot it left
   * behind, or one of a record that closed, is skipped when it comes up.
   */
  private tcpParked: TcpTimeWait[] = [];
  private parkedHead = 0;
  /** Parked connections that owe their peer an ACK (TcpTimeWait.ackDue), sent by the next dispatch. */
  private readonly timeWaitAcks: TcpTimeWait[] = [];
  /** Those ACKs wait for the next hop's link address until then (see NEIGHBOR_RETRY). */
  private timeWaitHold = 0;
  /**
   * The connections of {@link tcp} that have both endpoints, by (local port, remote port) (see
   * {@link portsKey}): what Linux's established hash is for a segment's lookup, so that a
   * segment costs the same with ten connections or ten thousand. A bucket holds those of one
   * pair of ports (usually one; more only with several addresses).
   */
  private readonly tcpByPorts = new Map<number, TcpSocket[]>();
  /**
   * The same for the parked ones, each bucket a chain through TcpTimeWait.nextSamePorts (no
   * array per connection): a new connection's SYN, which matches none of them, costs no scan of
   * thousands of TIME_WAIT connections (the connection-rate benchmark leaves one per connection
   * for 60 s).
   */
  private readonly parkedByPorts = new Map<number, TcpTimeWait>();
  private readonly listeners: TcpListener[] = [];
  private readonly icmp: IcmpSocket[] = [];
  private readonly raw: RawSocket[] = [];
  readonly random: () => number;
  /** The secret of the flow hash that picks an SO_REUSEPORT group's member (Linux's net_secret). */
  private readonly flowSecret: number;
  private readonly udpPorts: PortSpace<UdpSocket>;
  private readonly udplitePorts: PortSpace<UdpSocket>;
  private readonly icmpIdents: PortSpace<IcmpSocket>;
  private readonly tcpPorts: PortSpace<TcpSocket | TcpListener | TcpTimeWait>;
  private readonly tcpConfig: Partial<TcpConfig>;
  /** The tunables new sockets take (see {@link StackSysctl}); set them to change later sockets. */
  readonly sysctl: StackSysctl;
  /** See {@link StackConfig.monotonicOffset}. */
  readonly monotonicOffset: number;
  /**
   * The ifindex of the stack's device as SO_BINDTODEVICE names it; `lo` is always
   * {@link LOOPBACK_IFINDEX}. By default that index for a loopback device (then local and device
   * traffic are one link), else 2, the NIC of a fresh network namespace next to `lo`.
   */
  deviceIfindex: number;
  /**
   * On a loopback device every destination has the device's MTU (see {@link mtuFor}), and the
   * device and its capabilities are fixed: sockets take it from here (SocketEnv.uniformMtu),
   * until {@link setMtu} or a path MTU learnt from an ICMP error makes them ask each time, or
   * while a route (which may carry its own MTU) exists. Read-only: the stack keeps it (a field,
   * not a getter: sockets read it at every dispatch, mostly in unoptimized code).
   */
  uniformMtu: number | undefined;
  private deviceUniformMtu: number | undefined;

  private refreshUniformMtu(): void {
    this.uniformMtu = this.iface.routes.length > 0 ? undefined : this.deviceUniformMtu;
  }

  /** The MTU now depends on more than the device, for good (setMtu, a path MTU, an IPv6 MTU). */
  private dropUniformMtu(): void {
    this.deviceUniformMtu = undefined;
    this.uniformMtu = undefined;
  }
  /** The path MTUs ICMP errors taught (see {@link updatePmtu}). */
  private readonly pmtu = new PathMtuCache(() => ({
    minPmtu: this.sysctl.minPmtu,
    mtuExpires: this.sysctl.mtuExpires,
    mtuExpires6: this.iface.ipv6Sysctl.mtuExpires,
  }));
  /** Set once a socket was bound to a device: from then on lookups work out arrival links. */
  private deviceBound = false;

  constructor(config: StackConfig) {
    this.iface = new Interface(config);
    this.mib = this.iface.mib;
    this.device = config.device;
    this.clock = config.clock;
    this.monotonicOffset = config.monotonicOffset ?? 0;
    this.audit =
      config.auditQuiet ??
      (typeof process !== 'undefined' && process.env?.['TSVISOR_NETSTACK_AUDIT'] === '1');
    this.deviceIfindex = config.device.capabilities.loopback === true ? LOOPBACK_IFINDEX : 2;
    this.deviceUniformMtu =
      config.device.capabilities.loopback === true ? config.device.capabilities.mtu : undefined;
    this.uniformMtu = this.deviceUniformMtu;
    this.iface.onRoutesChange = () => this.refreshUniformMtu();
    this.iface.deviceMtu = config.device.capabilities.mtu;
    // addrconf's ipv6_add_dev: a link's IPv6 MTU starts as its MTU.
    const conf = this.iface.ipv6Sysctl.conf;
    conf.lo.mtu = this.mtu(true);
    conf.device.mtu = this.mtu(false);
    if (config.loopbackDown === true) this.setLoopbackUp(false);
    const seed = config.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.random = seededRandom(seed);
    // Its own sequence, so that the stack's other random choices stay what a seed gave before.
    this.flowSecret = Math.floor(seededRandom(seed ^ 0x5bd1e995)() * 2 ** 32);
    this.tcpConfig = config.tcp ?? {};
    this.sysctl = watchedSysctl(this, this.iface.ipDefaultTtl, {
      portRange: [EPHEMERAL_PORT_MIN, EPHEMERAL_PORT_MAX],
      reservedPorts: new Set(),
      autobindReuse: 0,
      defaultTtl: 64,
      minPmtu: 552,
      mtuExpires: 600,
      congestion: this.tcpConfig.congestion ?? 'cubic',
      sack: this.tcpConfig.sack === false ? 0 : 1,
      timestamps: this.tcpConfig.timestamps === false ? 0 : 1,
      keepaliveTime: 7200,
      keepaliveIntvl: 75,
      keepaliveProbes: 9,
      finTimeout: 60,
      frto: this.tcpConfig.frto === false ? 0 : 2,
      pingGroupRange: [1, 0],
      syncookies: 1,
      reflectTos: 0,
      maxSynBacklog: 128,
      synackRetries: 5,
      abortOnOverflow: 0,
      twReuse: 2,
      rfc1337: 0,
      earlyRetrans: 3,
      synRetries: this.tcpConfig.synRetries ?? 6,
      synLinearTimeouts: 4,
      retries2: this.tcpConfig.maxRetries ?? 15,
      orphanRetries: 0,
      notsentLowat: 0xffffffff,
      dsack: 1,
      invalidRatelimit: 500,
    });
    const range = (): readonly [number, number] => this.sysctl.portRange;
    this.udpPorts = new PortSpace(this.random, range, this.sysctl);
    this.udplitePorts = new PortSpace(this.random, range, this.sysctl);
    // Echo identifiers are not ports: ip_local_port_range and ip_local_reserved_ports do not
    // apply to them (ping_get_port).
    this.icmpIdents = new PortSpace(this.random);
    this.tcpPorts = new PortSpace(this.random, range, this.sysctl);
  }

  /** The TcpConfig of a new TCP socket: the stack's config under the current sysctls. */
  private newTcpConfig(): Partial<TcpConfig> {
    const { congestion, sack, timestamps } = this.sysctl;
    return {
      ...this.tcpConfig,
      congestion,
      sack: sack !== 0,
      timestamps: timestamps !== 0,
      monotonicOffset: this.monotonicOffset,
    };
  }

  /** The congestion control (TCP_CONGESTION name) new TCP connections start with. */
  get defaultCongestion(): CongestionAlgorithm {
    return this.sysctl.congestion;
  }

  /**
   * Does all pending work; returns the next deadline (see {@link Interface.poll}).
   *
   * A poll looks only at the TCP connections something happened to since they were last looked
   * at (a call of one of their methods, a segment, their own deadline), and runs the readiness
   * watchers of those only (plus every watcher not tied to a connection): a server's idle
   * connections cost nothing per poll, as in Linux, where nothing is done for a socket nobody
   * touches. Sockets take care of it themselves; a caller that changes a connection's public
   * fields (options such as `noDelay` or `keepAlive`) calls {@link touch} after, or the change
   * is seen by a later poll that looks at that connection in turn ({@link QUIET_RESCAN_MS}).
   */
  poll(now: number): number | undefined {
    this.lastPollNow = now;
    const limit = this.audit ? -1 : SMALL_STACK;
    const many = this.tcp.length > limit || this.watchers.size > limit;
    if (many !== this.eventDriven) this.switchMode(many);
    if (many && (this.rescanAll || now - this.lastRescan >= QUIET_RESCAN_MS || now < this.lastRescan)) {
      this.lastRescan = now;
      this.rescan();
    }
    const next = this.iface.poll(now, this.device, this);
    this.reap();
    this.notifyWatchers();
    if (this.audit) return this.auditPoll(now, next);
    return next;
  }

  /**
   * Whether polls follow touches (more than {@link SMALL_STACK} sockets) or look at everything.
   * Touches are not kept while they look at everything, so the first poll that follows them
   * again looks at everything once more.
   */
  private eventDriven = false;

  private switchMode(eventDriven: boolean): void {
    this.eventDriven = eventDriven;
    this.rescanAll = true;
    for (const s of this.tcpDirty) s.dirty = false;
    this.tcpDirty.length = 0;
    this.tcpVisited.length = 0;
    this.touchedOwners.clear();
  }

  /**
   * Marks connection `s` for the next poll, which dispatches it and reads the readiness of its
   * owner (and of its listener's, while it waits for accept). Its methods do this themselves;
   * needed only after setting its public fields directly.
   */
  touch(s: TcpSocket): void {
    if (!this.eventDriven) return; // polls look at everything
    if (!s.dirty) {
      s.dirty = true;
      this.tcpDirty.push(s);
    }
    const owner = s.owner;
    if (owner !== undefined) this.touchedOwners.add(owner);
    const parent = s.parent;
    if (parent !== undefined && parent.owner !== undefined) this.touchedOwners.add(parent.owner);
  }

  /**
   * Makes the next poll look at every connection and watcher, as after a change that reaches
   * them all (a sysctl their timers read, the MTU).
   */
  touchAll(): void {
    this.rescanAll = true;
  }

  /**
   * Marks for this poll every connection and watcher after {@link touchAll} or a change of mode,
   * else the next {@link RESCAN_SLICE} of each in turn (see {@link QUIET_RESCAN_MS}).
   */
  private rescan(): void {
    const tcp = this.tcp;
    if (this.rescanAll || (tcp.length <= RESCAN_SLICE && this.watchers.size <= RESCAN_SLICE)) {
      this.rescanAll = false;
      for (let i = 0; i < tcp.length; i++) this.touch(tcp[i]!);
      this.rescanWatchers = true;
      return;
    }
    const n = Math.min(RESCAN_SLICE, tcp.length);
    for (let k = 0; k < n; k++) {
      if (this.rescanNext >= tcp.length) this.rescanNext = 0;
      this.touch(tcp[this.rescanNext++]!);
    }
    // A map's iterator goes on over what was added or removed since: one is kept between polls.
    for (let k = 0; k < RESCAN_SLICE; k++) {
      this.rescanWatchersAt ??= this.watchers.values();
      const r = this.rescanWatchersAt.next();
      if (r.done === true) {
        this.rescanWatchersAt = undefined;
        break;
      }
      if (r.value.owner !== undefined) this.touchedOwners.add(r.value.owner);
    }
  }

  /** Marks the readiness watchers of socket-layer object `owner` for the next notification. */
  touchOwner(owner: object | undefined): void {
    if (owner !== undefined && this.eventDriven) this.touchedOwners.add(owner);
  }

  /** Connections to dispatch in the next round (see {@link touch}). */
  private tcpDirty: TcpSocket[] = [];
  private tcpDirtySpare: TcpSocket[] = [];
  /** Connections dispatched in this poll: their deadlines and fates are looked at after it. */
  private readonly tcpVisited: TcpSocket[] = [];
  private visitEpoch = 0;
  /** Quiet connections by the time they next need a dispatch (their pollAt). */
  private readonly tcpTimers = new TimerHeap<TcpSocket>();
  /** Socket-layer objects whose readiness may have changed since the last notification. */
  private readonly touchedOwners = new Set<object>();
  /** Watchers by the socket-layer object whose readiness they follow (see {@link watch}). */
  private readonly watchersByOwner = new Map<object, Set<Watcher>>();
  /** Watchers tied to no object: run at every notification. */
  private readonly freeWatchers = new Set<Watcher>();
  private rescanWatchers = true;
  private lastRescan = -Infinity;
  /** The next poll looks at everything (see {@link rescan}). */
  private rescanAll = true;
  /** Where in {@link tcp} the next slice of {@link rescan} starts. */
  private rescanNext = 0;
  /** Where in {@link watchers} the next slice of {@link rescan} starts (undefined: the first). */
  private rescanWatchersAt: Iterator<Watcher> | undefined;
  private lastPollNow = DOUBLE_ZERO;
  private readonly clock: (() => number) | undefined;
  private visitedTimed = false;
  private readonly audit: boolean;
  /** What {@link StackConfig.auditQuiet} found (descriptions), oldest first. */
  readonly quietViolations: string[] = [];

  /** The taps {@link addPacketTap} registered (the interface's tap runs them while any are). */
  private readonly packetTaps: PacketTap[] = [];

  /**
   * Registers `tap` for every frame of every link of the stack, sent and received (AF_PACKET's
   * view: see packet-tap.ts); returns the function that removes it. While no tap is registered
   * the interface builds no frame bytes for them.
   *
   * @example
   * ```ts
   * const off = stack.addPacketTap((f) => console.log(f.ifindex, f.pktType, f.bytes.length));
   * off();
   * ```
   */
  addPacketTap(tap: PacketTap): () => void {
    const taps = this.packetTaps;
    taps.push(tap);
    if (taps.length === 1) {
      const loIndex = LOOPBACK_IFINDEX;
      this.iface.packetTap = {
        frame: (lo, pktType, bytes, linkLen, origin, protocol) => {
          const f: TappedFrame = {
            ifindex: lo ? loIndex : this.deviceIfindex,
            pktType,
            hatype: lo ? ArpHardware.LOOPBACK : this.linkHardware(),
            bytes,
            linkLen,
            protocol: protocol ?? frameProtocol(bytes, linkLen),
            origin,
          };
          // A tap may remove itself (or another) while running: iterate over a snapshot.
          for (const t of taps.length === 1 ? taps : [...taps]) t(f);
        },
      };
    }
    return () => {
      const i = taps.indexOf(tap);
      if (i < 0) return;
      taps.splice(i, 1);
      if (taps.length === 0) this.iface.packetTap = undefined;
    };
  }

  /** The ARPHRD_* type of the stack's device: LOOPBACK, ETHER, or NONE (IP medium, no header). */
  private linkHardware(): number {
    const caps = this.device.capabilities;
    if (caps.loopback === true) return ArpHardware.LOOPBACK;
    return caps.medium === 'ethernet' ? ArpHardware.ETHER : ArpHardware.NONE;
  }

  /**
   * The links a packet socket can name: `lo` ({@link LOOPBACK_IFINDEX}) and, when the device is
   * not a loopback one, the device ({@link deviceIfindex}), with their ARPHRD_* type and the
   * length of their link header.
   */
  packetLinks(): { readonly ifindex: number; readonly hatype: number; readonly linkLen: number }[] {
    const links = [{ ifindex: LOOPBACK_IFINDEX, hatype: ArpHardware.LOOPBACK as number, linkLen: 14 }];
    if (this.device.capabilities.loopback !== true) {
      const hatype = this.linkHardware();
      links.push({ ifindex: this.deviceIfindex, hatype, linkLen: hatype === ArpHardware.ETHER ? 14 : 0 });
    }
    return links;
  }

  /**
   * A packet socket's send at time `now`: `frame` (with the link's header, see {@link packetLinks}) leaves by
   * link `ifindex`; the taps see it as OUTGOING with `origin` and `protocol` (the sender's, when
   * the header does not give it: an 802.3 length field), and on lo the stack receives it (see
   * Interface.inject). Run {@link poll} after. ENXIO for an unknown link, ENOBUFS when the
   * device dropped it.
   */
  injectFrame(
    now: number,
    ifindex: number,
    frame: Uint8Array,
    origin?: object,
    protocol?: number,
  ): undefined | LinuxError {
    const link = this.packetLinks().find((l) => l.ifindex === ifindex);
    if (!link) return E.ENXIO;
    const lo = ifindex === LOOPBACK_IFINDEX;
    // packet_snd: a link that is down takes nothing.
    if (!(lo ? this.iface.loopbackUp : this.iface.deviceUp)) return E.ENETDOWN;
    const ok = this.iface.inject(now, this.device, lo, frame, link.linkLen, origin, protocol);
    return ok ? undefined : E.ENOBUFS;
  }

  private readonly watchers = new Map<object, Watcher>();

  /**
   * Readiness events for poll/epoll: after every `poll`, `wake(events)` runs for each watched
   * socket whose readiness bits changed (with the new bits). The first call reports the current
   * bits if any are set. Returns a function that stops watching.
   *
   * `owner`: the socket-layer object (the `owner` of a TCP connection or listener) whose state
   * `readiness` reads; the watcher then runs only after something happened to that object (see
   * {@link touch}). Without one it runs at every poll. {@link followWatcher} pauses and resumes it.
   */
  watch(key: object, readiness: () => number, wake: (events: number) => void, owner?: object): () => void {
    this.unwatch(key);
    const w: Watcher = { readiness, last: 0, wake, owner, on: true };
    this.watchers.set(key, w);
    if (owner === undefined) this.freeWatchers.add(w);
    else {
      let set = this.watchersByOwner.get(owner);
      if (!set) this.watchersByOwner.set(owner, (set = new Set()));
      set.add(w);
      this.touchedOwners.add(owner); // report the current bits at the next notification
    }
    return () => {
      if (this.watchers.get(key) === w) this.unwatch(key);
    };
  }

  /**
   * Pauses (`on` false) or resumes the watcher registered under `key` (see {@link watch}): a
   * paused one costs a notification nothing (its readiness is not read), and a resumed one takes
   * the bits it has then as known, so only later changes wake. For a caller whose listener
   * matters only at times (while a task waits on the socket) and who reads the readiness itself
   * when one starts.
   */
  followWatcher(key: object, on: boolean): void {
    const w = this.watchers.get(key);
    if (w === undefined || w.on === on) return;
    w.on = on;
    if (on) w.last = w.readiness();
  }

  private unwatch(key: object): void {
    const w = this.watchers.get(key);
    if (!w) return;
    this.watchers.delete(key);
    if (w.owner === undefined) this.freeWatchers.delete(w);
    else {
      const set = this.watchersByOwner.get(w.owner);
      set?.delete(w);
      if (set?.size === 0) this.watchersByOwner.delete(w.owner);
    }
  }

  /**
   * Runs the readiness callbacks of sockets whose bits changed (also useful after socket calls):
   * those of objects something happened to since the last run, and those tied to none.
   */
  notifyWatchers(): void {
    const touched = this.touchedOwners;
    if (this.watchers.size === 0) {
      touched.clear();
      return;
    }
    if (this.rescanWatchers || !this.eventDriven) {
      this.rescanWatchers = false;
      touched.clear();
      this.watchers.forEach(notifyWatcher);
      return;
    }
    if (this.freeWatchers.size > 0) this.freeWatchers.forEach(notifyWatcher);
    // A callback may touch more owners: they are visited in this same loop.
    for (const owner of touched) {
      const set = this.watchersByOwner.get(owner);
      if (set !== undefined) set.forEach(notifyWatcher);
    }
    touched.clear();
  }

  /** A new UDP socket of address family `family` (4 or 6) over the given (or fresh) queues. */
  udpSocket(family: 4 | 6, buffers: UdpBuffers = udpBuffers()): UdpSocket {
    const s = new UdpSocket(family, buffers, this, this.udpPorts);
    s.order = this.udpMade++;
    this.udp.push(s);
    return s;
  }

  /** A new UDP-Lite (RFC 3828) socket: UDP with partial checksum coverage, its own ports. */
  udpliteSocket(family: 4 | 6, buffers: UdpBuffers = udpBuffers()): UdpSocket {
    const s = new UdpSocket(family, buffers, this, this.udplitePorts, true);
    s.order = this.udpMade++;
    this.udp.push(s);
    return s;
  }

  /** @internal the poll clock's time now (SocketEnv.pollNow): StackConfig.clock, or the last poll's. */
  pollNow(): number {
    return this.clock !== undefined ? this.clock() : this.lastPollNow;
  }

  /**
   * @internal TIME_WAIT connection `s`, not parked yet, is taken over by a new one
   * (tcp_tw_reuse): it leaves the live connections and closes, letting go of its port. (A parked
   * one closes its record: see {@link timeWaitClosed}.)
   */
  reuseTimeWait(s: TcpSocket): void {
    if (s.inTable) this.retire(s, 'reap');
    s.takenOver();
  }

  /**
   * @internal an object for address `a` that parked connections share (TimeWaitHome.sharedAddress):
   * the stack's own when `a` is one of its addresses, else the last peer address asked for when
   * `a` is that one too (connections come in runs from and to the same peers).
   */
  sharedAddress(a: IpAddress): IpAddress {
    const own = this.iface.addresses;
    for (let i = 0; i < own.length; i++) if (own[i]!.address.equals(a)) return own[i]!.address;
    const last = this.lastPeerAddress;
    if (last !== undefined && last.equals(a)) return last;
    this.lastPeerAddress = a;
    return a;
  }
  private lastPeerAddress: IpAddress | undefined;

  /** @internal (TimeWaitHome) the TTL or hop limit of the stack's own packets to `dst`. */
  hopLimitFor(dst: IpAddress): number {
    return this.iface.hopLimitConf(dst, this.device).hopLimit;
  }

  /** @internal parked connection `tw` closed: it lets go of its port and leaves the lookup. */
  timeWaitClosed(tw: TcpTimeWait): void {
    this.tcpPorts.remove(tw, tw.local.port);
    const key = portPair(tw.local.port, tw.remote.port);
    let prev: TcpTimeWait | undefined;
    for (let r = this.parkedByPorts.get(key); r !== undefined; prev = r, r = r.nextSamePorts) {
      if (r !== tw) continue;
      if (prev !== undefined) prev.nextSamePorts = r.nextSamePorts;
      else if (r.nextSamePorts !== undefined) this.parkedByPorts.set(key, r.nextSamePorts);
      else this.parkedByPorts.delete(key);
      r.nextSamePorts = undefined;
      return;
    }
  }

  /** @internal UDP, ICMP echo or raw socket `s` queued a datagram (see {@link sending}). */
  queued(s: DatagramSender): void {
    this.sending.add(s);
  }

  /** A new ICMP echo (ping) socket of address family `family`. */
  icmpSocket(family: 4 | 6): IcmpSocket {
    const s = new IcmpSocket(family, this, this.icmpIdents);
    this.icmp.push(s);
    return s;
  }

  /** A new raw IP socket of address family `family` for IP protocol `protocol` (1..255). */
  rawSocket(family: 4 | 6, protocol: number): RawSocket {
    const s = new RawSocket(family, protocol, this);
    this.raw.push(s);
    return s;
  }

  /** A new TCP socket of address family `family` over caller-owned receive and send rings. */
  tcpSocket(family: 4 | 6, buffers: TcpBuffers): TcpSocket {
    const s = new TcpSocket(family, buffers, this, this.tcpPorts, this.newTcpConfig());
    this.enter(s);
    return s;
  }

  /** Puts connection `s` in {@link tcp} (new, or a listener's). */
  private enter(s: TcpSocket): void {
    s.tablePos = this.tcp.length;
    this.tcp.push(s);
    s.inTable = true;
    this.endpointsSet(s);
    this.touch(s);
  }

  /**
   * @internal Connection `s` has both endpoints now (connect, or a listener's new child): while
   * it is in {@link tcp}, segments find it by its ports. The ports never change after that.
   */
  endpointsSet(s: TcpSocket): void {
    if (!s.inTable || s.filed || s.local === undefined || s.remote === undefined) return;
    s.hopsConf = this.iface.hopLimitConf(s.remote.addr, this.device);
    s.filed = true;
    fileUnder(this.tcpByPorts, portsKey(s), s);
  }

  /**
   * A new listening TCP socket: bound to `local`, with room for `backlog` connections waiting
   * for accept. `buffers` makes the rings of each accepted connection.
   */
  tcpListener(family: 4 | 6, buffers: () => TcpBuffers): TcpListener {
    const l = new TcpListener(
      family,
      buffers,
      this,
      this.tcpPorts,
      (child) => this.enter(child),
      this.newTcpConfig(),
    );
    this.listeners.push(l);
    return l;
  }

  /** @internal a socket of this stack was bound to a device (see {@link deviceIfindex}). */
  noteDeviceBinding(): void {
    this.deviceBound = true;
  }

  // ---- SocketEnv ----

  /**
   * The route of a socket bound to device `oif`, as Linux's ip_route_output_key_hash_rcu
   * answers with an output interface: ENODEV for an index no device has; on `lo`, this host's
   * addresses are reached and any other is lost (looped back to a host that does not forward);
   * on the NIC, a loopback address is lost (sent on the wire) and a remote one has no
   * "no route" (assumed on link: lost when no route would have taken it).
   */
  routeVia(dst: IpAddress, oif: number): { readonly src: IpAddress; readonly lost: boolean } | LinuxError {
    const lo = oif === LOOPBACK_IFINDEX;
    if (!lo && oif !== this.deviceIfindex) return E.ENODEV;
    const src = this.iface.sourceAddressFor(dst);
    const local = this.iface.hasAddress(dst);
    const fallback = (): IpAddress => {
      const own = this.iface.addresses.find(
        (c) => c.address.version === dst.version && !c.address.isLoopback(),
      );
      return own?.address ?? (dst.version === 4 ? Ipv4Address.LOOPBACK : Ipv6Address.LOOPBACK);
    };
    if (lo && local) return { src: src ?? dst, lost: false };
    // An IPv4 group out of `lo` comes back in on `lo` (where this stack has only lo).
    if (lo && dst.version === 4 && dst.isMulticast() && this.device.capabilities.loopback === true)
      return { src: Ipv4Address.LOOPBACK, lost: false };
    if (lo) return { src: fallback(), lost: true };
    if (dst.isLoopback()) return { src: fallback(), lost: true };
    return src ? { src, lost: false } : { src: fallback(), lost: true };
  }

  /**
   * The ifindex a packet from `src` to `dst` arrived on, for sockets bound to a device (Linux's
   * inet_iif): the device's for one from the wire; for one this host sent itself, the link its
   * sender was bound to (`senderDev`), else the link of the destination address (`lo` for the
   * loopback ranges), as rt_iif keeps the route's device on a looped packet.
   */
  private arrivalIfindex(src: IpAddress, dst: IpAddress, senderDev: () => number): number {
    if (!this.iface.hasAddress(src)) return this.deviceIfindex;
    const oif = senderDev();
    if (oif !== 0) return oif;
    return dst.isLoopback() ? LOOPBACK_IFINDEX : this.deviceIfindex;
  }

  isLocalAddress(addr: IpAddress): boolean {
    return this.iface.hasAddress(addr);
  }
  sourceAddressFor(dst: IpAddress): IpAddress | undefined {
    return this.iface.sourceAddressFor(dst);
  }
  /**
   * The MTU to `dst`: the link's or its route's, lowered to what path MTU discovery learnt
   * unless `learnt` is false (IP_PMTUDISC_PROBE and above, ip_sk_use_pmtu false, ignore it).
   */
  mtuFor(dst: IpAddress, learnt = true): number {
    const caps = this.device.capabilities;
    // IPv6 takes the link's IPv6 MTU (ip6_mtu: net.ipv6.conf.<link>.mtu), at most the link's.
    // Own addresses on another device are reached through the interface's loop (lo's MTU).
    let mtu =
      dst.version === 6
        ? this.iface.ipv6ConfFor(dst, this.device).mtu
        : caps.loopback !== true && this.iface.hasAddress(dst)
          ? this.iface.loopbackMtu
          : (this.iface.deviceMtu ?? caps.mtu);
    // A route with an MTU metric (`ip route add ... mtu N`) gives its destinations that MTU.
    if (this.iface.routes.length > 0 && !this.iface.hasAddress(dst))
      mtu = this.iface.lookupRoute(dst)?.mtu ?? mtu;
    // ipv4_mtu: no IPv4 route has more than IP_MAX_MTU.
    if (dst.version === 4 && mtu > IPV4_MAX_MTU) mtu = IPV4_MAX_MTU;
    // A link MTU lowered below a learnt one lowers that too (fib_sync_mtu, rt6_mtu_change).
    if (learnt && this.pmtu.size > 0) {
      const p = this.pmtu.get(dst, this.pollNow());
      if (p !== undefined && p.mtu < mtu) mtu = p.mtu;
    }
    return mtu;
  }

  /** SocketEnv.mtuLocked: a route's `mtu lock`, or a path MTU learnt locked (see PathMtuCache.learn). */
  mtuLocked(dst: IpAddress): boolean {
    if (
      this.iface.routes.length > 0 &&
      !this.iface.hasAddress(dst) &&
      this.iface.lookupRoute(dst)?.mtuLocked === true
    )
      return true;
    return this.pmtu.size > 0 && this.pmtu.get(dst, this.pollNow())?.locked === true;
  }

  /**
   * The path MTU learnt for `dst` (see {@link updatePmtu}), if one holds: the MTU, whether it is
   * locked, and the milliseconds before it is forgotten, as `ip route get` shows the route's
   * exception ("expires 599sec mtu 1200").
   *
   * ```ts
   * stack.pathMtu(dst); // { mtu: 1200, locked: false, expiresIn: 599_990 }
   * ```
   */
  pathMtu(
    dst: IpAddress,
  ): { readonly mtu: number; readonly locked: boolean; readonly expiresIn: number } | undefined {
    if (this.pmtu.size === 0) return undefined;
    const now = this.pollNow();
    const p = this.pmtu.get(dst, now);
    return p && { mtu: p.mtu, locked: p.locked, expiresIn: p.expires - now };
  }

  /**
   * ipv4_sk_update_pmtu / ip6_sk_update_pmtu: an ICMP fragmentation-needed or packet-too-big
   * message reported `mtu` for the path to `dst`; later sends there use it while it lasts (see
   * PathMtuCache.learn for what is ignored or clamped).
   */
  private updatePmtu(dst: IpAddress, mtu: number): void {
    const locked =
      this.iface.routes.length > 0 &&
      !this.iface.hasAddress(dst) &&
      this.iface.lookupRoute(dst)?.mtuLocked === true;
    this.pmtu.learn(dst, mtu, this.mtuFor(dst), this.pollNow(), locked);
    // As after setMtu: connections work out their MSS at each send from now on, and so follow
    // a learnt MTU to their destination and its expiry.
    this.dropUniformMtu();
  }

  /**
   * The MTU of lo (`loopback`) or of the device, as `ip link` shows it. On a loopback device lo
   * is the device: both give the same.
   */
  mtu(loopback: boolean): number {
    const caps = this.device.capabilities;
    return loopback && caps.loopback !== true ? this.iface.loopbackMtu : (this.iface.deviceMtu ?? caps.mtu);
  }

  /**
   * The largest MTU lo (`loopback`) or the device can take: the device's own for the device (and
   * for lo when the device is a loopback device, which drops larger frames), else
   * {@link LOOPBACK_MTU} (lo's path inside the interface).
   */
  maxMtu(loopback: boolean): number {
    const caps = this.device.capabilities;
    return loopback && caps.loopback !== true ? LOOPBACK_MTU : caps.mtu;
  }

  /**
   * Sets the MTU of lo (`loopback`) or of the device, as `ip link set DEV mtu N`: datagrams are
   * fragmented to it, IP_MTU and the MSS of connections follow it. EINVAL outside
   * [{@link IPV6_MIN_MTU}, {@link maxMtu}]: below IPv6's minimum Linux takes IPv6 off the link,
   * which this stack does not model.
   *
   * ```ts
   * stack.setMtu(true, 1400); // ip link set lo mtu 1400
   * ```
   */
  setMtu(loopback: boolean, mtu: number): undefined | LinuxError {
    if (!Number.isInteger(mtu) || mtu < IPV6_MIN_MTU || mtu > this.maxMtu(loopback)) return E.EINVAL;
    if (this.device.capabilities.loopback === true) {
      this.iface.loopbackMtu = mtu;
      this.iface.deviceMtu = mtu;
    } else if (loopback) this.iface.loopbackMtu = mtu;
    else this.iface.deviceMtu = mtu;
    // NETDEV_CHANGEMTU sets the link's IPv6 MTU to the new MTU (rt6_mtu_change).
    const conf = this.iface.ipv6Sysctl.conf;
    if (loopback || this.device.capabilities.loopback === true) conf.lo.mtu = mtu;
    if (!loopback || this.device.capabilities.loopback === true) conf.device.mtu = mtu;
    // Connections now work out their MSS from the route at each send, as tcp_current_mss does
    // (a uniform MTU is cached by each connection).
    this.dropUniformMtu();
    this.touchAll();
    return undefined;
  }

  /** @internal */
  noSourceError(dst: IpAddress): LinuxError {
    // IPv6 without an address to send from (a tentative one, whose duplicate address detection
    // runs, is none yet), or with a route but no source for it (ipv6_dev_get_saddr fails).
    const v6 = (c: IpCidr): boolean => c.address.version === 6 && this.iface.hasAddress(c.address);
    if (dst.version === 6 && (!this.iface.addresses.some(v6) || this.iface.lookupRoute(dst) !== undefined))
      return E.EADDRNOTAVAIL;
    return E.ENETUNREACH;
  }

  /** @internal */
  get linkDown(): boolean {
    return !this.iface.deviceUp || !this.iface.loopbackUp;
  }

  /** The device is up (IFF_UP): see {@link setDeviceUp}. */
  get deviceUp(): boolean {
    return this.iface.deviceUp;
  }

  /**
   * Takes the device down (`up` false) or up, as `ip link set eth0 down|up` does on Linux (a
   * loopback device is lo: {@link setLoopbackUp}). Down: nothing leaves or arrives by it (what
   * sockets send is dropped: a TCP connection stalls and resends), new sends and connects to
   * destinations off this host are ENETUNREACH, and the routes through it go: the default
   * routes of the gateways and the routes added through the device for good, its prefix routes
   * until it is up again; its IPv4 addresses stay. Its IPv6 addresses go, with their prefix and
   * local routes (Linux's addrconf_ifdown without keep_addr_on_down); up, the link-local address
   * comes back (addrconf_dev_up), the others do not; it is tentative until duplicate address
   * detection passes (Interface.addAddress), as on Linux. Returns EOPNOTSUPP for a device with SLAAC, whose
   * autoconfiguration would have to start again, which is not modelled.
   *
   * ```ts
   * stack.setDeviceUp(false); // undefined: done
   * ```
   */
  setDeviceUp(up: boolean): undefined | LinuxError {
    if (this.device.capabilities.loopback === true) {
      this.setLoopbackUp(up);
      return undefined;
    }
    const iface = this.iface;
    if (iface.deviceUp === up) return undefined;
    if (this.deviceHasSlaac) return E.EOPNOTSUPP;
    iface.deviceUp = up;
    if (up) {
      if (iface.ipv6Sysctl.conf.device.disableIpv6 === 0) this.addLinkLocal();
      return undefined;
    }
    iface.gateways.length = 0;
    for (const r of iface.routes.filter((r) => !r.loopback))
      iface.removeRoute({ dst: r.dst, metric: r.metric, loopback: false });
    for (const c of iface.addresses.filter((c) => c.address.version === 6 && !iface.addressInfo(c).loopback))
      iface.removeAddress(c);
    return undefined;
  }

  /** addrconf_dev_config: the device's link-local address, unless it has it. */
  private addLinkLocal(): void {
    const ll = this.iface.linkLocal;
    if (ll && !this.iface.hasAddress(ll)) this.iface.addAddress(new IpCidr(ll, 64));
  }

  /** The device has IPv6 autoconfiguration (SLAAC): {@link setDeviceUp} answers EOPNOTSUPP. */
  get deviceHasSlaac(): boolean {
    return this.iface.slaac !== undefined;
  }

  /** lo is up (IFF_UP): see {@link setLoopbackUp}. */
  get loopbackUp(): boolean {
    return this.iface.loopbackUp;
  }

  /**
   * Takes lo down (`up` false) or up, as `ip link set lo down|up` does on Linux. Down: what the
   * stack sends to itself is dropped without an error (a TCP connection stalls and resends once
   * lo is up; a connect waits), lo's IPv6 addresses go, ::1 with them (binding, connecting or
   * sending to it is then EADDRNOTAVAIL), and so do the routes added through lo; its IPv4
   * addresses stay. Up: ::1/128 comes back, but neither the other IPv6 addresses nor the routes
   * do (addrconf's init_loopback), and 127.0.0.1/8 is assigned when 127/8 is not local
   * (inetdev_event: a new network namespace's lo gets it so, see InterfaceConfig.loopbackDown).
   * On a loopback device lo is the device: both go down. Returns the IPv6 addresses removed or
   * added.
   *
   * ```ts
   * stack.setLoopbackUp(false); // [::1/128]
   * ```
   */
  setLoopbackUp(up: boolean): IpCidr[] {
    const iface = this.iface;
    if (iface.loopbackUp === up) return [];
    const wholeDevice = this.device.capabilities.loopback === true;
    iface.loopbackUp = up;
    if (wholeDevice) iface.deviceUp = up;
    if (up) {
      if (!iface.hasAddress(Ipv4Address.LOOPBACK))
        iface.addAddress(new IpCidr(Ipv4Address.LOOPBACK, 8), { loopback: true });
      return iface.ipv6Sysctl.conf.lo.disableIpv6 === 0 ? this.loopbackIpv6Up() : [];
    }
    const gone = this.loopbackIpv6Down();
    for (const r of iface.routes.filter((r) => wholeDevice || r.loopback))
      iface.removeRoute({ dst: r.dst, metric: r.metric, loopback: r.loopback });
    return gone;
  }

  /** init_loopback: ::1 is lo's again. Returns it when it was not assigned. */
  private loopbackIpv6Up(): IpCidr[] {
    this.iface.loopback6 = true;
    const one = new IpCidr(Ipv6Address.LOOPBACK, 128);
    return this.iface.addAddress(one, { loopback: true }) === undefined ? [one] : [];
  }

  /** addrconf_ifdown of lo: its IPv6 addresses go (all of them on a loopback device). Returns them. */
  private loopbackIpv6Down(): IpCidr[] {
    const iface = this.iface;
    iface.loopback6 = false;
    const wholeDevice = this.device.capabilities.loopback === true;
    const gone = iface.addresses.filter(
      (c) => c.address.version === 6 && (wholeDevice || iface.addressInfo(c).loopback),
    );
    for (const c of gone) iface.removeAddress(c);
    return gone;
  }

  /**
   * The hop limit of IPv6 packets to `dst` from a socket that leaves IPV6_UNICAST_HOPS unset:
   * net.ipv6.conf.<link>.hop_limit of the link they leave by (ip6_dst_hoplimit), read per
   * packet; without a destination (getsockopt of a socket without a route) `all`'s.
   *
   * ```ts
   * stack.ipv6HopLimit(Ipv6Address.LOOPBACK); // 64: net.ipv6.conf.lo.hop_limit
   * ```
   */
  ipv6HopLimit(dst: IpAddress | undefined): number {
    const conf = this.iface.ipv6Sysctl.conf;
    return dst === undefined ? conf.all.hopLimit : this.iface.ipv6ConfFor(dst, this.device).hopLimit;
  }

  /**
   * A write of `mtu` to net.ipv6.conf.`which`.mtu (addrconf_sysctl_mtu): at least 1280, and for
   * a link at most its MTU (EINVAL otherwise). A link's is the MTU of its IPv6 packets from then
   * on (datagrams are fragmented to it, IPV6_MTU and the MSS of connections follow it); `all`'s
   * and `default`'s are kept and do nothing, as on Linux. On a loopback device lo is the device.
   *
   * ```ts
   * stack.setIpv6Mtu('lo', 1400); // sysctl -w net.ipv6.conf.lo.mtu=1400
   * ```
   */
  setIpv6Mtu(which: 'all' | 'default' | 'lo' | 'device', mtu: number): undefined | LinuxError {
    const link = which === 'lo' || which === 'device';
    if (!Number.isInteger(mtu) || mtu < IPV6_MIN_MTU || (link && mtu > this.mtu(which === 'lo')))
      return E.EINVAL;
    const conf = this.iface.ipv6Sysctl.conf;
    conf[which].mtu = mtu;
    if (link && this.device.capabilities.loopback === true) conf.lo.mtu = conf.device.mtu = mtu;
    if (link) {
      // As after setMtu: connections work out their MSS from the route at each send.
      this.dropUniformMtu();
      this.touchAll();
    }
    return undefined;
  }

  /**
   * A write of `value` to net.ipv6.conf.`which`.disable_ipv6 (addrconf_disable_ipv6): `default`'s
   * is only kept; `all`'s is also written to `default` and to every link. A link whose value
   * turns from 0 to another loses its IPv6 addresses (addrconf_ifdown: lo's ::1, the device's
   * link-local and other IPv6 addresses, with their routes) and gets none while it stays so
   * (a link coming up gets none); back to 0, lo gets ::1 and an up device its link-local
   * address again (addrconf_notify's NETDEV_UP). EOPNOTSUPP for a device with SLAAC, whose
   * autoconfiguration would have to start again (not modelled; see setDeviceUp).
   *
   * ```ts
   * stack.setDisableIpv6('lo', 1); // ::1 is gone: bind(2) to it is EADDRNOTAVAIL
   * ```
   */
  setDisableIpv6(which: 'all' | 'default' | 'lo' | 'device', value: number): undefined | LinuxError {
    const conf = this.iface.ipv6Sysctl.conf;
    const wholeDevice = this.device.capabilities.loopback === true;
    // On a loopback device lo is the device: one link, whose value both keep.
    const links: readonly ('lo' | 'device')[] =
      which === 'all' ? (wholeDevice ? ['lo'] : ['lo', 'device']) : which === 'default' ? [] : [which];
    const turns = (link: 'lo' | 'device'): boolean => (conf[link].disableIpv6 === 0) !== (value === 0);
    if (!wholeDevice && links.includes('device') && turns('device') && this.deviceHasSlaac)
      return E.EOPNOTSUPP;
    if (which === 'all' || which === 'default') conf.default.disableIpv6 = value;
    if (which === 'all') conf.all.disableIpv6 = value;
    for (const link of links) {
      const turned = turns(link);
      if (wholeDevice) conf.lo.disableIpv6 = conf.device.disableIpv6 = value;
      else conf[link].disableIpv6 = value;
      if (!turned) continue;
      if (link === 'lo' || wholeDevice) {
        if (value !== 0) this.loopbackIpv6Down();
        else if (this.iface.loopbackUp) this.loopbackIpv6Up();
      } else if (value !== 0) this.deviceIpv6Down();
      else if (this.iface.deviceUp) this.addLinkLocal();
    }
    return undefined;
  }

  /** addrconf_ifdown of the device: its IPv6 addresses, routes and gateways go. */
  private deviceIpv6Down(): void {
    const iface = this.iface;
    for (let i = iface.gateways.length - 1; i >= 0; i--)
      if (iface.gateways[i]!.version === 6) iface.gateways.splice(i, 1);
    for (const r of iface.routes.filter((r) => !r.loopback && r.dst.address.version === 6))
      iface.removeRoute({ dst: r.dst, metric: r.metric, loopback: false });
    for (const c of iface.addresses.filter((c) => c.address.version === 6 && !iface.addressInfo(c).loopback))
      iface.removeAddress(c);
  }

  // ---- SocketTable ----

  /** @internal */
  udpInput(src: IpAddress, dst: IpAddress, udp: UdpRepr, ip: ReceivedIp, lite?: UdpLiteRepr): boolean {
    const broadcast = dst.isBroadcast() || dst.isMulticast();
    let best: UdpSocket | undefined;
    let bestScore = -1;
    let delivered = false;
    // The arrival link: for IP_PKTINFO, and for sockets bound to a device. While no socket is
    // bound to one, no sender is either: the socket scan of udpSenderDev is skipped.
    const bound = this.deviceBound;
    const iif = this.arrivalIfindex(src, dst, bound ? () => this.udpSenderDev(src, dst, udp, lite) : () => 0);
    // A group no socket joined on the arrival link is not this host's (ip_check_mc_rcu); of
    // the sockets on the port, those that joined it or keep IP_MULTICAST_ALL get it.
    const group = dst.isMulticast();
    if (group && !this.udp.some((s) => !s.isClosed && s.memberOf(dst, iif))) return true;
    // Only the sockets bound to the port can match (udp4_lib_lookup2 looks in its hash slot).
    const onPort = (lite ? this.udplitePorts : this.udpPorts).bound(udp.dstPort);
    if (onPort === undefined) return false;
    for (const s of onPort) {
      if (s.lite !== (lite !== undefined)) continue;
      if (bound && s.boundDevIf !== 0 && s.boundDevIf !== iif) continue;
      const score = s.matchScore(dst, udp.dstPort, src, udp.srcPort);
      if (score < 0) continue;
      if (group && !s.memberOf(dst, iif) && !s.multicastAll(dst.version)) continue;
      if (broadcast) {
        s.process(src, dst, udp, ip, lite?.coverage, iif); // every matching socket gets a broadcast
        delivered = true;
      } else if (score > bestScore || (score === bestScore && s.order < best!.order)) {
        best = s;
        bestScore = score;
      }
    }
    if (broadcast) return delivered;
    if (!best) return false;
    if (best.reusePort && !best.remote) best = this.udpReuseport(best, src, dst, udp, ip, iif, lite);
    best.process(src, dst, udp, ip, lite?.coverage, iif);
    return true;
  }

  /**
   * SO_REUSEPORT for UDP (udp4_lib_lookup2's inet_lookup_reuseport): the best unconnected socket
   * stands for its group (see reuseport.ts), whose program, run on the payload, or else the
   * flow's hash picks the member that gets the datagram, so one sender keeps reaching one
   * socket. A member connected while in its group (see UdpSocket.connect) is passed over by the
   * hash; a program may pick it, and it gets the datagram even from another peer, as Linux's
   * rescoring of the pick keeps it (reuseport_has_conns: no other socket scores higher).
   */
  private udpReuseport(
    best: UdpSocket,
    src: IpAddress,
    dst: IpAddress,
    udp: UdpRepr,
    ip: ReceivedIp,
    iif: number,
    lite: UdpLiteRepr | undefined,
  ): UdpSocket {
    const group = best.reuseportGroup;
    if (!group) return best;
    const hash = flowHash(this.flowSecret, src, udp.srcPort, dst, udp.dstPort);
    const packet = (): FilterPacket => {
      const fields = {
        src,
        dst,
        protocol: lite ? IPPROTO_UDPLITE : IPPROTO_UDP,
        hopLimit: ip.hopLimit,
        trafficClass: ip.trafficClass,
        ifindex: iif,
      };
      const length = lite ? lite.coverage : UDP_HEADER_LEN + udp.payload.length;
      const p = udpFilterPacket(fields, udp.srcPort, udp.dstPort, udp.payload, length);
      return pastTransportHeader(p, UDP_HEADER_LEN);
    };
    return group.select(hash, packet, isConnected) ?? best;
  }

  /** The device binding of the local socket that sent a looped datagram (0 when unknown). */
  private udpSenderDev(src: IpAddress, dst: IpAddress, udp: UdpRepr, lite: UdpLiteRepr | undefined): number {
    let best: UdpSocket | undefined;
    let bestScore = -1;
    for (const s of this.udp) {
      if (s.lite !== (lite !== undefined)) continue;
      const score = s.matchScore(src, udp.srcPort, dst, udp.dstPort);
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best?.boundDevIf ?? 0;
  }

  /**
   * The arrival link of a TCP segment once sockets are bound to devices (a function of its own:
   * the closure here would cost every tcpInput call a context while bindings are not in use).
   */
  private tcpArrivalIfindex(src: IpAddress, dst: IpAddress, seg: TcpRepr): number {
    return this.arrivalIfindex(src, dst, () => this.tcpSenderDev(src, dst, seg));
  }

  /** The device binding of the local connection or listener child that sent a looped segment. */
  private tcpSenderDev(src: IpAddress, dst: IpAddress, seg: TcpRepr): number {
    for (const s of this.tcpByPorts.get(portPair(seg.srcPort, seg.dstPort)) ?? [])
      if (s.matches(src, seg.srcPort, dst, seg.dstPort)) return s.boundDevIf;
    return 0;
  }

  /** @internal */
  udpliteInput(src: IpAddress, dst: IpAddress, udp: UdpLiteRepr, ip: ReceivedIp): boolean {
    return this.udpInput(src, dst, udp, ip, udp);
  }

  /** @internal */
  icmpEchoReplyInput(
    src: IpAddress,
    dst: IpAddress,
    ident: number,
    message: Uint8Array,
    hopLimit: number,
    trafficClass: number,
  ): void {
    let ip: DatagramIpFields | undefined;
    for (const s of this.icmp) {
      if (!s.matches(dst, ident, src)) continue;
      ip ??= { dst, hopLimit, trafficClass, ifindex: this.arrivalIfindex(src, dst, () => 0) };
      s.process(src, message, dst, ip);
    }
  }

  /** @internal raw_v4_input / ipv6_raw_deliver: a copy for every raw socket that matches. */
  rawInput(
    src: IpAddress,
    dst: IpAddress,
    protocol: number,
    packet: Uint8Array,
    payload: Uint8Array,
  ): boolean {
    const raw = this.raw;
    if (raw.length === 0) return false;
    let taken = false;
    // The arrival link (inet_iif), for IP_PKTINFO and for sockets bound to a device (-1 while none is).
    const arrival = this.arrivalIfindex(src, dst, () => 0);
    const iif = this.deviceBound ? arrival : -1;
    for (let i = 0; i < raw.length; i++) {
      const s = raw[i]!;
      if (
        s.protocol === protocol &&
        s.family === dst.version &&
        s.input(src, dst, packet, payload, iif, arrival)
      )
        taken = true;
    }
    return taken;
  }

  /** @internal raw_icmp_error / raw6_icmp_error: every raw socket of the protocol may take the error. */
  rawError(
    local: IpAddress,
    remote: IpAddress,
    protocol: number,
    datagram: Uint8Array,
    report: IcmpErrorReport,
  ): void {
    const raw = this.raw;
    // The link the ICMP message arrived on (its skb->dev), for sockets bound to a device.
    const iif = this.deviceBound ? this.arrivalIfindex(report.offender, local, () => 0) : -1;
    // raw_err / rawv6_err: a socket that took the error updates the path MTU, an IPv4 one
    // unless it is under IP_PMTUDISC_INTERFACE or _OMIT (ipv4_sk_update_pmtu).
    let learns = false;
    for (let i = 0; i < raw.length; i++) {
      const s = raw[i]!;
      if (
        s.protocol === protocol &&
        s.family === local.version &&
        s.icmpError(local, remote, datagram, report, iif) &&
        (s.family === 6 || acceptsPmtu(s.pmtuDisc))
      )
        learns = true;
    }
    const mtu = learns ? reportedMtu(report) : undefined;
    if (mtu !== undefined) this.updatePmtu(remote, mtu);
  }

  /** @internal */
  rawWants(family: 4 | 6, protocol: number): boolean {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i++) {
      const s = raw[i]!;
      if (s.protocol === protocol && s.family === family && !s.isClosed) return true;
    }
    return false;
  }

  /**
   * @internal __udp4_lib_err / __udp6_lib_err: the socket that would receive the peer's answer
   * (the best match, as for a datagram from `remote` to `local`) takes the error.
   */
  udpError(
    local: IpAddress,
    localPort: number,
    remote: IpAddress,
    remotePort: number,
    report: IcmpErrorReport,
  ): void {
    let best: UdpSocket | undefined;
    let bestScore = -1;
    for (const s of this.udpPorts.bound(localPort) ?? []) {
      const score = s.lite ? -1 : s.matchScore(local, localPort, remote, remotePort);
      if (score > bestScore || (score >= 0 && score === bestScore && s.order < best!.order)) {
        best = s;
        bestScore = score;
      }
    }
    if (best === undefined) return;
    // Not under IP(V6)_PMTUDISC_INTERFACE or _OMIT (ipv4_sk_update_pmtu, __udp6_lib_err).
    const mtu = reportedMtu(report);
    if (mtu !== undefined && acceptsPmtu(best.pmtuDisc(remote.version))) this.updatePmtu(remote, mtu);
    best.icmpError({ addr: remote, port: remotePort }, report);
  }

  /** @internal ping_err: the ping socket of the echo request's identifier (ping_lookup) takes the error. */
  pingError(local: IpAddress, remote: IpAddress, ident: number, report: IcmpErrorReport): void {
    const mtu = reportedMtu(report);
    // icmpv6_err updates the path MTU with or without a socket; ping_err (IPv4) for its socket,
    // unless it is under IP_PMTUDISC_INTERFACE or _OMIT (ipv4_sk_update_pmtu).
    if (mtu !== undefined && remote.version === 6) this.updatePmtu(remote, mtu);
    for (const s of this.icmp)
      if (s.matches(local, ident, remote)) {
        if (mtu !== undefined && remote.version === 4 && acceptsPmtu(s.pmtuDisc))
          this.updatePmtu(remote, mtu);
        return s.icmpError(remote, report);
      }
  }

  /**
   * @internal tcp_v4_err / tcp_v6_err: an ICMP error about a segment with sequence number `seq`
   * the connection from `local`:`localPort` to `remote`:`remotePort` sent, acted on only when it
   * is about a segment in flight (TcpSocket.takesIcmpError, RFC 5927 §4.1). A
   * fragmentation-needed or packet-too-big message teaches the path MTU, and the connection's
   * MSS follows it (tcp_v4_mtu_reduced); the connection takes any other error itself.
   */
  tcpError(
    local: IpAddress,
    localPort: number,
    remote: IpAddress,
    remotePort: number,
    seq: number,
    report: IcmpErrorReport,
  ): void {
    const bucket = this.tcpByPorts.get(portPair(localPort, remotePort));
    const s = bucket?.find((c) => c.matches(local, localPort, remote, remotePort));
    if (s === undefined || !s.takesIcmpError(seq, report)) return;
    const mtu = reportedMtu(report);
    if (mtu === undefined) return s.icmpError(seq, report);
    // tcp_req_err does nothing with it; tcp_v6_err ignores an MTU below IPv6's minimum, and the
    // options that refuse PMTU.
    if (s.state === 'SYN_RECEIVED' && s.parent) return;
    if (remote.version === 6 && (mtu < IPV6_MIN_MTU || !acceptsPmtu(s.pmtuDisc(6)))) return;
    this.updatePmtu(remote, mtu);
    s.mtuReduced();
  }

  /**
   * @internal Once sockets are bound to devices, a connection or listener bound to another link
   * than the segment's arrival link does not see it (inet_sk_bound_dev_eq): the segment goes on
   * to the next candidate, or draws a RST.
   */
  tcpInput(
    now: number,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpRepr,
    hopLimit = 255,
    trafficClass = 0,
  ): TcpRepr | undefined {
    this.tcpReplyHops = -1;
    // -1: no socket is bound to a device, every socket sees the segment.
    const iif = this.deviceBound ? this.tcpArrivalIfindex(src, dst, seg) : -1;
    const key = portPair(seg.dstPort, seg.srcPort);
    const bucket = this.tcpByPorts.get(key);
    if (bucket !== undefined)
      for (let i = 0; i < bucket.length; i++) {
        const s = bucket[i]!;
        // sees(s.boundDevIf, iif), written out, and the rest of the match.
        if (
          !(iif < 0 || s.boundDevIf === 0 || s.boundDevIf === iif) ||
          !s.matches(dst, seg.dstPort, src, seg.srcPort)
        )
          continue;
        if (belowMinHops(s, dst, hopLimit, this.mib.tcpExt)) return undefined;
        // TCP_TW_SYN for a TIME_WAIT not parked yet (or still held by the application), as below.
        const isn = s.timeWaitSynIsn(now, seg);
        const listener = isn !== undefined ? this.listenerFor(src, dst, seg, iif) : undefined;
        if (listener === undefined) {
          const request = s.state === 'SYN_RECEIVED' ? s.parent : undefined;
          if (request !== undefined) {
            // tcp_check_req: an ACK of something else than the SYN-ACK goes to the listener (a
            // RST); the ACK a request owes leaves with the TOS of the segment it answers.
            if (s.acksOtherThanSynAck(seg))
              return this.listenerInput(request, now, src, dst, seg, trafficClass);
            s.requestAckTos = trafficClass & ~IP_ECN_MASK;
          }
          const reply = s.process(now, seg);
          // An ACK leaves by the socket, with its TTL and TOS (tcp_send_ack); a RST by the
          // control socket (tcp_v4_send_reset, tcp_v6_send_response), as for no socket.
          if (reply === undefined || (reply.flags & TcpFlag.RST) !== 0) return reply;
          const hops = s.hopLimit < 0 ? s.hopsConf.hopLimit : s.hopLimit;
          return this.ownTcpReply(now, src, dst, reply, hops, s.trafficClass);
        }
        this.reuseTimeWait(s);
        return belowMinHops(listener, dst, hopLimit, this.mib.tcpExt)
          ? undefined
          : this.listenerInput(listener, now, src, dst, seg, trafficClass, isn);
      }
    for (let tw = this.parkedByPorts.get(key); tw !== undefined; tw = tw.nextSamePorts) {
      if (!sees(tw.boundDevIf, iif) || !tw.matches(dst, seg.dstPort, src, seg.srcPort)) continue;
      if (belowMinHops(tw, dst, hopLimit, this.mib.tcpExt)) return undefined;
      // TCP_TW_SYN: the connection ends, its listener takes the SYN; with no listener it is answered.
      const isn = tw.synIsn(now, seg);
      const listener = isn !== undefined ? this.listenerFor(src, dst, seg, iif) : undefined;
      if (listener !== undefined) {
        tw.close();
        return belowMinHops(listener, dst, hopLimit, this.mib.tcpExt)
          ? undefined
          : this.listenerInput(listener, now, src, dst, seg, trafficClass, isn);
      }
      const end = tw.end;
      const owed = tw.ackDue;
      tw.process(now, seg);
      if (tw.state === 'CLOSED') return undefined;
      if (tw.ackDue && !owed) this.timeWaitAcks.push(tw);
      if (tw.end !== end) this.queueParked(tw);
      return undefined;
    }
    const listener = this.listenerFor(src, dst, seg, iif);
    if (listener)
      return belowMinHops(listener, dst, hopLimit, this.mib.tcpExt)
        ? undefined
        : this.listenerInput(listener, now, src, dst, seg, trafficClass);
    return rstFor(seg);
  }

  /** @internal (SocketTable) the TTL or hop limit of {@link tcpInput}'s last reply, -1: the stack's own. */
  tcpReplyHops = -1;

  /**
   * A segment for `listener` that came with TOS or traffic class `trafficClass`; its reply
   * leaves with the TTL and TOS the listener gives it.
   */
  private listenerInput(
    listener: TcpListener,
    now: number,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpRepr,
    trafficClass: number,
    twIsn?: number,
  ): TcpRepr | undefined {
    const reply = listener.process(now, src, dst, seg, twIsn, trafficClass);
    if (reply === undefined) return reply;
    return this.ownTcpReply(now, src, dst, reply, listener.replyHops, listener.replyTrafficClass);
  }

  /**
   * The reply of a socket to the segment from `src` to `dst` (an ACK, a SYN cookie's SYN-ACK),
   * leaving with TTL or hop limit `hops` (-1: the stack's own) and TOS or traffic class
   * `trafficClass`: {@link tcpInput} returns it for the interface to send when its TOS is 0 (the
   * interface's replies carry none); one with a TOS is sent here.
   */
  private ownTcpReply(
    now: number,
    src: IpAddress,
    dst: IpAddress,
    reply: TcpRepr,
    hops: number,
    trafficClass: number,
  ): TcpRepr | undefined {
    if (trafficClass === 0) {
      this.tcpReplyHops = hops;
      return reply;
    }
    const hopLimit = hops >= 0 ? hops : this.iface.hopLimitConf(src, this.device).hopLimit;
    const out = { kind: 'tcp', src: dst, dst: src, hopLimit, trafficClass, tcp: reply } as const;
    if (this.iface.emit(now, this.device, out) === 'sent') this.mib.tcp.OutSegs++;
    return undefined;
  }

  /** The listener a segment with no connection goes to (inet_lookup_listener), if any. */
  private listenerFor(src: IpAddress, dst: IpAddress, seg: TcpRepr, iif: number): TcpListener | undefined {
    let listener: TcpListener | undefined;
    for (const l of this.listeners) {
      if (!sees(l.boundDevIf, iif) || !l.matches(dst, seg.dstPort)) continue;
      // Prefer a specific address, then the packet's own family (as Linux's compute_score).
      if (!listener || listenerRank(l, dst) > listenerRank(listener, dst)) listener = l;
    }
    if (listener?.reusePort) listener = this.listenerReuseport(listener, src, dst, seg, iif);
    return listener;
  }

  /**
   * SO_REUSEPORT for TCP (inet_lhash2_lookup's inet_lookup_reuseport): the listeners on the same
   * address and port with the option share the port's connections (see reuseport.ts): the
   * group's program, run on what follows the TCP header (nothing, for a SYN), or else the hash
   * of each connection's addresses and ports picks the listener.
   */
  private listenerReuseport(
    first: TcpListener,
    src: IpAddress,
    dst: IpAddress,
    seg: TcpRepr,
    iif: number,
  ): TcpListener {
    const group = first.reuseportGroup;
    if (!group) return first;
    const hash = flowHash(this.flowSecret, src, seg.srcPort, dst, seg.dstPort);
    const packet = (): FilterPacket =>
      tcpReuseportPacket(seg, src, dst, iif >= 0 ? iif : this.tcpArrivalIfindex(src, dst, seg));
    return group.select(hash, packet) ?? first;
  }

  /** @internal */
  neighborResolved(): void {
    for (const s of this.udp) s.clearHold();
    for (const s of this.icmp) s.clearHold();
    for (const s of this.raw) s.clearHold();
    for (const s of this.tcp) s.clearHold();
    this.timeWaitHold = 0;
  }

  /** @internal */
  dispatch(ctx: DispatchContext): boolean {
    let sent = false;
    // Datagram sockets with something queued, in the order they queued it; the set is looked at
    // only when not empty (for-of makes an iterator object in code V8 has not optimized yet).
    if (this.sending.size > 0)
      for (const s of this.sending) {
        if (s.wantsDispatch() && s.dispatch(ctx)) sent = true;
        if (!s.wantsDispatch() || s.isClosed) this.sending.delete(s);
      }
    if (this.parkedHead < this.tcpParked.length) this.expireParked(ctx.now);
    if (this.timeWaitAcks.length > 0 && this.sendTimeWaitAcks(ctx)) sent = true;
    if (!this.eventDriven) {
      const tcp = this.tcp;
      for (let i = 0; i < tcp.length; i++) if (tcp[i]!.dispatch(ctx)) sent = true;
      return sent;
    }
    // The connections something happened to, and those whose time has come.
    const now = ctx.now;
    const timers = this.tcpTimers;
    for (let s = timers.popDue(now); s !== undefined; s = timers.popDue(now)) this.touch(s);
    const list = this.tcpDirty;
    if (list.length === 0) return sent;
    this.tcpDirty = this.tcpDirtySpare;
    const epoch = this.visitEpoch;
    const visited = this.tcpVisited;
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      s.dirty = false;
      if (!s.inTable) continue; // reaped or parked since it was touched
      if (s.visit !== epoch) {
        s.visit = epoch;
        visited.push(s);
      }
      // One that sent may have more to send: it stays for the next round.
      if (s.dispatch(ctx)) {
        sent = true;
        this.touch(s);
      }
    }
    list.length = 0;
    this.tcpDirtySpare = list;
    return sent;
  }

  /** Files the next deadline of each connection this poll dispatched that is now quiet. */
  private timeVisited(now: number): void {
    const visited = this.tcpVisited;
    const timers = this.tcpTimers;
    for (let i = 0; i < visited.length; i++) {
      const s = visited[i]!;
      if (!s.dirty) timers.set(s, s.pollAt(now));
    }
  }

  /**
   * {@link StackConfig.auditQuiet}: asks every connection and watcher this poll left alone
   * whether it had anything to do; reports and repairs each one that had.
   */
  private auditPoll(now: number, next: number | undefined): number | undefined {
    const report = (what: string): void => {
      this.quietViolations.push(what);
      console.error(`netstack audit: ${what}`);
    };
    const tcp = this.tcp;
    for (let i = 0; i < tcp.length; i++) {
      const s = tcp[i]!;
      if (s.dirty) continue;
      const at = s.pollAt(now);
      if (at === s.deadline) continue;
      const where = `${s.local?.port ?? '-'}->${s.remote?.port ?? '-'} ${s.state}`;
      report(
        `connection ${where}: next at ${at} (in ${at === undefined ? '-' : (at - now).toFixed(3)} ms), filed ${s.deadline}`,
      );
      this.tcpTimers.set(s, at);
      if (at !== undefined && at <= now) next = now;
    }
    this.auditLookup(report);
    this.watchers.forEach((w) => {
      if (!w.on) return;
      const m = w.readiness();
      if (m === w.last) return;
      report(
        `watcher of ${w.owner === undefined ? 'no owner' : w.owner.constructor.name}: readiness ${w.last} -> ${m}`,
      );
      w.last = m;
      w.wake(m);
    });
    return next;
  }

  /**
   * The audit of the maps by ports: every connection with both endpoints is in its bucket, live
   * ones in {@link tcpByPorts}, parked ones in {@link parkedByPorts}, and nothing else is; and
   * every live one knows its place in {@link tcp}.
   */
  private auditLookup(report: (what: string) => void): void {
    let filed = 0;
    for (let i = 0; i < this.tcp.length; i++) {
      const s = this.tcp[i]!;
      if (!s.inTable || s.tablePos !== i) report(`live connection at ${i} says it is at ${s.tablePos}`);
      if (s.local === undefined || s.remote === undefined) continue;
      filed++;
      if (!this.tcpByPorts.get(portsKey(s))?.includes(s))
        report(`live connection ${s.local.port}->${s.remote.port} ${s.state}: not in the lookup by ports`);
    }
    let held = 0;
    this.tcpByPorts.forEach((b) => (held += b.length));
    if (held !== filed) report(`live lookup by ports holds ${held} connections, not ${filed}`);
    const queued = new Set(this.tcpParked.slice(this.parkedHead).filter((tw) => tw.state !== 'CLOSED'));
    let chained = 0;
    this.parkedByPorts.forEach((first, key) => {
      for (let tw: TcpTimeWait | undefined = first; tw !== undefined; tw = tw.nextSamePorts) {
        chained++;
        if (!queued.has(tw) || portPair(tw.local.port, tw.remote.port) !== key)
          report(
            `parked connection ${tw.local.port}->${tw.remote.port} ${tw.state}: lookup and queue disagree`,
          );
      }
    });
    if (chained !== queued.size)
      report(`parked lookup by ports holds ${chained} connections, not ${queued.size}`);
  }

  /** @internal */
  pollAt(now: number): number | undefined {
    let next: number | undefined;
    if (this.sending.size > 0)
      for (const s of this.sending) if (s.wantsDispatch()) next = earlier(next, s.dispatchAt(now));
    if (!this.eventDriven) {
      const tcp = this.tcp;
      for (let i = 0; i < tcp.length; i++) {
        const at = tcp[i]!.pollAt(now); // earlier(), written out: this runs after every poll
        if (at !== undefined && (next === undefined || at < next)) next = at;
      }
    } else {
      // The connections looked at in this poll tell their next time; the others' stands.
      this.timeVisited(now);
      this.visitedTimed = true;
      if (this.tcpDirty.length > 0) next = now;
      next = earlier(next, this.tcpTimers.peek());
    }
    // (parkedNext only with something parked: its queue is emptied when the last one goes.)
    return this.tcpParked.length > 0 || this.timeWaitAcks.length > 0
      ? earlier(next, this.parkedNext(now))
      : next;
  }

  /**
   * The TCP and UDP sockets that hold an address, as /proc/net/{tcp,udp}, `ss` and `netstat`
   * list them: TCP listeners and connections (including those the application closed that are
   * still finishing, and those waiting for accept), bound UDP sockets, and ICMP echo (ping)
   * sockets that have an identifier (/proc/net/icmp: the peer's port is 0). A TCP socket in CLOSE
   * (bound only, or after a failed connect) is not listed, as Linux's tcp4_seq_show walks only
   * the listening and established hash tables.
   */
  sockets(): SocketEntry[] {
    const out: SocketEntry[] = [];
    for (const l of this.listeners) {
      if (l.isClosed || !l.isListening || !l.local) continue;
      out.push({
        protocol: 'tcp',
        family: l.family,
        state: LINUX_TCP_STATE.LISTEN,
        local: l.local,
        remote: undefined,
        // Linux shows a listener's accept queue as rx_queue and its backlog as tx_queue.
        rxQueue: l.pendingCount,
        txQueue: l.backlog,
        owner: l.owner,
      });
    }
    for (const t of this.tcp) {
      if (!t.local || t.state === 'CLOSED') continue;
      out.push({
        protocol: 'tcp',
        family: t.family,
        state: LINUX_TCP_STATE[t.state],
        local: t.local,
        remote: t.remote,
        rxQueue: t.procRecvQueue,
        txQueue: t.sendQueue,
        owner: t.owner,
        tcp: t,
        ...(t.parent ? { inAcceptQueue: true as const } : {}),
      });
    }
    this.parkedByPorts.forEach((first) => {
      for (let tw: TcpTimeWait | undefined = first; tw !== undefined; tw = tw.nextSamePorts)
        out.push({
          protocol: 'tcp',
          family: tw.family,
          state: LINUX_TCP_STATE.TIME_WAIT,
          local: tw.local,
          remote: tw.remote,
          rxQueue: 0,
          txQueue: 0,
          owner: undefined,
          tcp: tw,
        });
    });
    for (const u of this.udp) {
      if (u.isClosed || !u.local) continue;
      out.push({
        protocol: u.lite ? 'udplite' : 'udp',
        family: u.family,
        state: u.remote ? LINUX_TCP_STATE.ESTABLISHED : LINUX_TCP_STATE.CLOSED,
        local: u.local,
        remote: u.remote,
        rxQueue: u.rqueue(),
        txQueue: u.queuedBytes(),
        owner: u.owner,
        drops: u.drops,
      });
    }
    for (const p of this.icmp) {
      if (p.isClosed || !p.local) continue;
      out.push({
        protocol: 'icmp',
        family: p.family,
        state: p.remote ? LINUX_TCP_STATE.ESTABLISHED : LINUX_TCP_STATE.CLOSED,
        local: p.local,
        remote: p.remote && { addr: p.remote.addr, port: 0 },
        rxQueue: p.rmemAlloc(),
        txQueue: p.queuedBytes(),
        owner: p.owner,
        drops: p.drops,
      });
    }
    for (const r of this.raw) {
      if (r.isClosed || !r.isHashed) continue;
      out.push({
        protocol: 'raw',
        family: r.family,
        // raw_sock_seq_show: st 7 (TCP_CLOSE) unless connected; the protocol in the port's place.
        state: r.remote ? LINUX_TCP_STATE.ESTABLISHED : LINUX_TCP_STATE.CLOSED,
        local: r.name(r.family === 4 ? Ipv4Address.UNSPECIFIED : Ipv6Address.UNSPECIFIED),
        remote: r.remote && { addr: r.remote.addr, port: 0 },
        rxQueue: r.rmemAlloc(),
        txQueue: r.queuedBytes(),
        owner: r.owner,
        drops: r.drops,
      });
    }
    return out;
  }

  /** Closes the parked connections whose TIME_WAIT has ended. */
  private expireParked(now: number): void {
    for (let tw = this.parkedFirst(); tw !== undefined && tw.end <= now; tw = this.parkedFirst()) {
      this.parkedHead++;
      tw.queued--;
      tw.close();
    }
    this.trimParked();
  }

  /**
   * The parked connection whose end comes first, its slots left behind and those of closed
   * ones dropped from the queue on the way.
   */
  private parkedFirst(): TcpTimeWait | undefined {
    const q = this.tcpParked;
    while (this.parkedHead < q.length) {
      const tw = q[this.parkedHead]!;
      if (tw.queued === 1 && tw.state !== 'CLOSED') return tw;
      tw.queued--; // a slot behind a later one of the same record, or a closed record
      this.parkedHead++;
    }
    return undefined;
  }

  /** Drops the slots before {@link parkedHead} once they are half the queue. */
  private trimParked(): void {
    const head = this.parkedHead;
    if (head === 0) return;
    if (head === this.tcpParked.length) {
      this.tcpParked.length = 0;
      this.parkedHead = 0;
    } else if (head >= 1024 && head * 2 >= this.tcpParked.length) {
      this.tcpParked = this.tcpParked.slice(head);
      this.parkedHead = 0;
    }
  }

  /**
   * Queues parked connection `tw` by its end (usually the last: connections enter TIME_WAIT in
   * order, and a restart is the latest end there is); a slot it had stays, skipped when it comes
   * up (see {@link parkedFirst}).
   */
  private queueParked(tw: TcpTimeWait): void {
    const q = this.tcpParked;
    const end = tw.end;
    let j = q.length;
    while (j > this.parkedHead && q[j - 1]!.end > end) j--;
    if (j === q.length) q.push(tw);
    else q.splice(j, 0, tw);
    tw.queued++;
  }

  /** The next deadline of the parked connections: the first end, or an ACK to send. */
  private parkedNext(now: number): number | undefined {
    const first = this.parkedFirst();
    this.trimParked();
    if (this.timeWaitAcks.length === 0) return first?.end;
    return earlier(first?.end, this.timeWaitHold > now ? this.timeWaitHold : now);
  }

  /** Sends the ACKs parked connections owe; true when one left. */
  private sendTimeWaitAcks(ctx: DispatchContext): boolean {
    if (ctx.now < this.timeWaitHold) return false;
    const acks = this.timeWaitAcks;
    let kept = 0;
    let sent = false;
    for (let i = 0; i < acks.length; i++) {
      const tw = acks[i]!;
      const r = tw.sendAck(ctx);
      if (r === 'sent') sent = true;
      else if (r === 'pending') acks[kept++] = tw; // the next hop's address is not known yet
    }
    if (kept > 0) this.timeWaitHold = ctx.now + NEIGHBOR_RETRY;
    acks.length = kept;
    return sent;
  }

  /** Forgets closed sockets the application has released, and parks quiet TIME_WAIT ones. */
  private reap(): void {
    // Closed datagram sockets match nothing and are listed nowhere: with many of them, they
    // leave the lists once per QUIET_RESCAN_MS rather than costing every poll a walk.
    const datagram = this.udp.length + this.icmp.length + this.raw.length;
    if (datagram <= SMALL_STACK || this.lastPollNow - this.lastDatagramReap >= QUIET_RESCAN_MS) {
      this.lastDatagramReap = this.lastPollNow;
      for (let i = this.udp.length - 1; i >= 0; i--) if (this.udp[i]!.isClosed) this.udp.splice(i, 1);
      for (let i = this.icmp.length - 1; i >= 0; i--) if (this.icmp[i]!.isClosed) this.icmp.splice(i, 1);
      for (let i = this.raw.length - 1; i >= 0; i--) if (this.raw[i]!.isClosed) this.raw.splice(i, 1);
    }
    // One question per connection (a socket is never both: one is CLOSED, the other in
    // TIME_WAIT). While polls follow touches, only those this poll looked at can have changed;
    // otherwise all, from the end, so equal TIME_WAIT ends keep their order.
    if (!this.eventDriven) {
      const tcp = this.tcp;
      // (Retiring one moves a connection already asked into its place: see removeAt.)
      for (let i = tcp.length - 1; i >= 0; i--) {
        const s = tcp[i]!;
        const fate = s.housekeeping();
        if (fate !== undefined) this.retire(s, fate);
      }
    } else {
      const visited = this.tcpVisited;
      // A poll that ran out of rounds did not ask for the next deadlines.
      if (!this.visitedTimed) this.timeVisited(this.lastPollNow);
      this.visitEpoch++;
      for (let v = 0; v < visited.length; v++) {
        const s = visited[v]!;
        const fate = s.housekeeping();
        if (fate !== undefined && s.inTable) this.retire(s, fate);
      }
      visited.length = 0;
    }
    this.visitedTimed = false;
    for (let i = this.listeners.length - 1; i >= 0; i--)
      if (this.listeners[i]!.isClosed) this.listeners.splice(i, 1);
  }

  /**
   * Removes slot `i` of {@link tcp}: the last connection takes its place, so the list's order is
   * not kept (lookups go by {@link tcpByPorts}; the listing's order is no contract, as Linux's
   * follows its hash). The slots before {@link rescanNext} stay those the rescan has looked at
   * in its round: a hole there is filled from the last of them first.
   */
  private removeAt(i: number): void {
    const tcp = this.tcp;
    if (i < this.rescanNext) {
      const r = --this.rescanNext;
      this.moveSlot(r, i);
      i = r;
    }
    this.moveSlot(tcp.length - 1, i);
    tcp.pop();
  }

  private moveSlot(from: number, to: number): void {
    if (from === to) return;
    const s = this.tcp[from]!;
    this.tcp[to] = s;
    s.tablePos = to;
  }

  /**
   * Takes connection `s` out of the list: gone (`reap`) or to the parked TIME_WAIT ones. In
   * constant time, so that thousands closing at once cost no more each than one: see
   * {@link removeAt}; one queued for dispatch is skipped there (see {@link dispatch}).
   */
  private retire(s: TcpSocket, fate: 'reap' | 'park'): void {
    this.removeAt(s.tablePos);
    s.inTable = false;
    s.tablePos = -1;
    this.tcpTimers.remove(s);
    if (s.filed) {
      s.filed = false;
      unfile(this.tcpByPorts, portsKey(s), s);
    }
    s.dirty = false;
    if (fate === 'reap') return;
    const tw = s.toTimeWait(this);
    this.queueParked(tw);
    const key = portsKey(s);
    tw.nextSamePorts = this.parkedByPorts.get(key);
    this.parkedByPorts.set(key, tw);
  }
}

/**
 * The key of a local port and a peer's in the maps by ports: one 32-bit integer, a small
 * integer to V8 whatever the ports (a product past 2^31 would be a heap number, allocated at
 * each lookup in unoptimized code).
 */
function portPair(local: number, remote: number): number {
  return (local << 16) | remote;
}

/**
 * The key of connection `s` in the maps by ports: its local port and its peer's (0 for an end
 * it lacks; only a connection with both is filed in the map of live ones).
 */
function portsKey(s: TcpSocket): number {
  return portPair(s.local?.port ?? 0, s.remote?.port ?? 0);
}

/** Adds `s` to the bucket of `key` in `map`. */
function fileUnder(map: Map<number, TcpSocket[]>, key: number, s: TcpSocket): void {
  const bucket = map.get(key);
  if (bucket === undefined) map.set(key, [s]);
  else bucket.push(s);
}

/** Takes `s` out of the bucket of `key` in `map` (the bucket goes with its last socket). */
function unfile(map: Map<number, TcpSocket[]>, key: number, s: TcpSocket): void {
  const bucket = map.get(key);
  if (bucket === undefined) return;
  const i = bucket.indexOf(s);
  if (i >= 0) bucket.splice(i, 1);
  if (bucket.length === 0) map.delete(key);
}

/**
 * A keyed 32-bit hash of a flow's addresses and ports (what inet_ehashfn's jhash with net_secret
 * does for Linux): the same flow always gets the same value, others spread evenly.
 */
function flowHash(secret: number, a: IpAddress, aPort: number, b: IpAddress, bPort: number): number {
  let h = (secret ^ Math.imul(aPort, 0x9e3779b1) ^ bPort) | 0;
  const ab = a.bytes;
  for (let i = 0; i < ab.length; i++) h = Math.imul(h ^ ab[i]!, 0x01000193);
  const bb = b.bytes;
  for (let i = 0; i < bb.length; i++) h = Math.imul(h ^ bb[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The earlier of two deadlines, either of which may be absent. */
function earlier(a: number | undefined, b: number | undefined): number | undefined {
  return b === undefined || (a !== undefined && a <= b) ? a : b;
}

/**
 * `values` as the stack's sysctl object: each field an accessor, whose setter makes the next poll
 * look at every connection (their timers read the values when they are computed). defaultTtl
 * lives in `ttl`, where connections and the interface read it for each packet without a poll.
 */
function watchedSysctl(stack: Stack, ttl: { hopLimit: number }, values: StackSysctl): StackSysctl {
  const out = {} as StackSysctl;
  ttl.hopLimit = values.defaultTtl;
  Object.defineProperty(out, 'defaultTtl', {
    enumerable: true,
    get: () => ttl.hopLimit,
    set: (v: number) => {
      ttl.hopLimit = v;
    },
  });
  for (const key of Object.keys(values) as (keyof StackSysctl)[]) {
    if (key === 'defaultTtl') continue;
    Object.defineProperty(out, key, {
      enumerable: true,
      get: () => values[key],
      set: (v: never) => {
        values[key] = v;
        stack.touchAll();
      },
    });
  }
  return out;
}

/** A readiness watcher (see {@link Stack.watch}). */
interface Watcher {
  readonly readiness: () => number;
  last: number;
  readonly wake: (events: number) => void;
  readonly owner: object | undefined;
  /** False while paused (see Stack.followWatcher). */
  on: boolean;
}

/** Runs one watcher's callback when its socket's readiness bits changed (see {@link Stack.watch}). */
function notifyWatcher(w: Watcher): void {
  if (!w.on) return;
  const m = w.readiness();
  if (m === w.last) return;
  w.last = m;
  w.wake(m);
}

/** True when a socket bound to device `dev` (0: none) sees a segment that arrived on `iif` (-1: bindings not in use). */
function sees(dev: number, iif: number): boolean {
  return iif < 0 || dev === 0 || dev === iif;
}

/** How well a listener matching `dst` fits it: a specific address, then the same family. */
function listenerRank(l: TcpListener, dst: IpAddress): number {
  const a = l.local!.addr;
  return (a.isUnspecified() ? 0 : 2) + (a.version === dst.version ? 1 : 0);
}

/**
 * IP_MINTTL (IPv4 segments) and IPV6_MINHOPCOUNT (IPv6 ones) of the socket a segment found:
 * one that arrived with fewer hops left is dropped unanswered (tcp_v4_rcv, tcp_v6_rcv:
 * TCPMinTTLDrop), a SYN to a listener too.
 */
function belowMinHops(
  s: { readonly minTtl: number; readonly minHopCount: number },
  dst: IpAddress,
  hopLimit: number,
  mib: TcpExtMib,
): boolean {
  const min = dst.version === 4 ? s.minTtl : s.minHopCount;
  if (min === 0 || hopLimit >= min) return false;
  mib.TCPMinTTLDrop++;
  return true;
}
