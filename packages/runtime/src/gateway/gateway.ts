/**
 * Network mode `sandbox`: the sandbox's netstack gets, besides loopback, a NIC `eth0`
 * (10.0.2.15/24, default route via 10.0.2.2) whose far side is this gateway, in the supervisor.
 * The gateway carries the sandbox's flows over ordinary host sockets, so it needs no root, no
 * TUN device and no iptables (the slirp idea, on netstack):
 *
 * - TCP out: a SYN from the sandbox to `D:P` makes the gateway connect a host socket to `D:P`
 *   (10.0.2.2 stands for the host's 127.0.0.1). Only when that connect succeeds does the
 *   gateway's own netstack (which then listens on `D:P`) answer the SYN, so a refused host
 *   connection is a refused sandbox connection (RST), not an accepted one that dies.
 * - UDP out: one host datagram socket per sandbox source port; replies come back as packets
 *   from the address they came from.
 * - DNS: queries to 10.0.2.3:53, over UDP or TCP, of every type: A and AAAA from the host's
 *   resolver (getaddrinfo, so /etc/hosts too), the rest (and names getaddrinfo does not know)
 *   forwarded as they came to the nameservers of the host's /etc/resolv.conf, SERVFAIL when
 *   none answers; UDP replies cut to the client's size with TC (`dns-forward.ts`).
 * - Inbound (`-p HOST:SANDBOX`, TCP or UDP): the gateway listens on the host's 127.0.0.1:HOST
 *   and carries each connection or datagram to 10.0.2.15:SANDBOX.
 *
 * eth0 is an Ethernet link, as in gVisor and Docker: the sandbox's side has the locally
 * administered unicast MAC {@link SANDBOX_MAC} (02:42 then 10.0.2.15's four bytes, after Docker's
 * 02:42:<ip> scheme), the gateway's side {@link GATEWAY_MAC} (likewise from 10.0.2.2), and the
 * sandbox resolves 10.0.2.2 and 10.0.2.3 by ARP, which the gateway answers. Local traffic
 * (127/8, ::1, 10.0.2.15 itself) never reaches the link: netstack delivers it directly.
 *
 * IPv6 ({@link GatewayOptions.ipv6}, off by default as slirp4netns's `--enable-ipv6`): the
 * addresses are slirp4netns's. eth0 gets {@link SANDBOX_ADDRESS6}/64 (fd00::100, slirp4netns's
 * recommended guest address, `recommended_vguest6`, where its IPv6 port forwards go), configured
 * statically rather than by SLAAC from router advertisements as libslirp's guests may, and the
 * link-local address fe80::42:aff:fe00:20f (EUI-64 of its MAC; valid from the start, and
 * tentative for duplicate address detection after `ip link set eth0 up`, as Linux's on a veth:
 * the gateway claims no address of the sandbox's, so DAD passes); the default route is via
 * {@link GATEWAY_ADDRESS6} (fd00::2), which stands for the host's ::1 as 10.0.2.2 for 127.0.0.1,
 * and {@link DNS_ADDRESS6} (fd00::3) is the same DNS server as 10.0.2.3. The sandbox finds both
 * by neighbour discovery, which the gateway's stack answers. TCP and UDP go out as for IPv4,
 * over host IPv6 sockets (a refused or failed host connect is a RST; fd00::3's ports other than
 * 53 answer RST or ICMPv6 port unreachable); UDP datagrams past the MTU travel in IPv6
 * fragments both ways. `-p` listens on the host's [::1]:HOST too, carried to the sandbox's
 * 10.0.2.15 as the IPv4 side is. No router advertisements are sent (libslirp sends them; with
 * the static address and route they would only add a SLAAC address). Without the option, eth0
 * has no IPv6 at all (no link-local address, as in a Docker container without IPv6, so there is
 * no neighbour discovery there).
 *
 * @module
 */
import { lookup } from 'node:dns';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { isError } from '@tsvisor/abi';
import {
  EtherType,
  EthernetAddress,
  EthernetFrame,
  EthernetRepr,
  ETHERNET_HEADER_LEN,
  IpCidr,
  IpProtocol,
  Ipv4Address,
  Ipv4Packet,
  Ipv4Reassembler,
  Ipv4Repr,
  IPV4_HEADER_LEN,
  Ipv6Address,
  Ipv6Packet,
  Ipv6Reassembler,
  Ipv6Repr,
  IPV6_HEADER_LEN,
  RingBuffer,
  Stack,
  TcpFlag,
  TcpPacket,
  UDP_HEADER_LEN,
  UdpPacket,
  UdpRepr,
  WOULD_BLOCK,
  cidr,
  fragmentIpv4,
  fragmentIpv6,
  isWireError,
  linkPair,
  parseIpv6Fragment,
  type Device,
  type IpAddress,
  type TcpListener,
  type TcpSocket,
} from '@tsvisor/netstack';
import {
  ARPHRD_LOOPBACK,
  interfaceAddressing,
  interfaceRouting,
  stackLinkControl,
  type LinkInfo,
} from '@tsvisor/syscalls';
import { DnsServer, readResolvConf, type NameserverConfig, type Resolver } from './dns-forward.js';

export type { Nameserver, NameserverConfig, Resolver } from './dns-forward.js';
export { parseResolvConf, readResolvConf } from './dns-forward.js';

/** The sandbox's address on eth0. */
export const SANDBOX_ADDRESS = '10.0.2.15';
/** The gateway's address: connections to it reach the host's loopback. */
export const GATEWAY_ADDRESS = '10.0.2.2';
/** The DNS server the sandbox's /etc/resolv.conf names. */
export const DNS_ADDRESS = '10.0.2.3';
/** The sandbox's IPv6 address on eth0 (with `ipv6`): slirp4netns's recommended guest address. */
export const SANDBOX_ADDRESS6 = 'fd00::100';
/** The gateway's IPv6 address (with `ipv6`): connections to it reach the host's ::1. */
export const GATEWAY_ADDRESS6 = 'fd00::2';
/** The gateway's IPv6 DNS server (with `ipv6`), serving as {@link DNS_ADDRESS} does. */
export const DNS_ADDRESS6 = 'fd00::3';
/**
 * The MAC address of the sandbox's eth0: locally administered (bit 1 of the first byte) and
 * unicast, 02:42 followed by {@link SANDBOX_ADDRESS}'s bytes as Docker forms 02:42:ac:11:00:02.
 * Fixed, so every sandbox shows the same one, as every fresh Docker container on a network does.
 */
export const SANDBOX_MAC = '02:42:0a:00:02:0f';
/** The MAC address of the gateway's end of eth0's link, formed from {@link GATEWAY_ADDRESS}. */
export const GATEWAY_MAC = '02:42:0a:00:02:02';

/** ARPHRD_ETHER (<linux/if_arp.h>): an Ethernet link, `link/ether` in `ip link`. */
const ARPHRD_ETHER = 1;
const HOST_LOOPBACK = '127.0.0.1';
const HOST_LOOPBACK6 = '::1';
/** The IPv6 Fragment extension header's number (RFC 8200 §4.5). */
const IPV6_FRAGMENT_HEADER = 44;
/** The hop limit of the packets the gateway makes itself (Linux's default, as for IPv4's TTL). */
const HOP_LIMIT = 64;
/**
 * eth0's MTU: slirp4netns's default (Podman's rootless network), not Ethernet's 1500. Both ends
 * of the link are in this process, so a frame costs the same whatever its size: 64 KiB frames
 * carry a download with a 44th of the frames (about 80 against 59 MB/s for 64 MiB through curl).
 */
const MTU = 65520;
const BUFFER = 256 * 1024;
/** A UDP mapping with no traffic for this long is closed (Linux conntrack's UDP default). */
const UDP_IDLE_MS = 30_000;

/** An inbound port forward: the host's 127.0.0.1:`host` to the sandbox's `sandbox` port. */
export interface PortForward {
  readonly host: number;
  readonly sandbox: number;
  readonly protocol: 'tcp' | 'udp';
}

/** What the gateway logs (connection failures); optional. */
export type GatewayLog = (line: string) => void;

/**
 * The host's resolver (getaddrinfo: /etc/hosts, then the host's DNS servers). A name without
 * an address of the family is no records (EAI_NODATA); a failure (EAI_AGAIN: no server
 * answered) rejects, so the gateway asks the nameservers itself and answers SERVFAIL without.
 */
export const hostResolver: Resolver = (name, family) =>
  new Promise((resolve, reject) => {
    lookup(name, { family, all: true }, (err, addrs) => {
      if (!err) resolve(addrs.map((a) => a.address));
      else if (err.code === 'ENOTFOUND') resolve('nxdomain');
      else if (err.code === 'ENODATA') resolve([]);
      else reject(err);
    });
  });

/** How a {@link Gateway} is set up. Every field has a default. */
export interface GatewayOptions {
  /** Inbound forwards (`-p`). Default none. */
  readonly forwards?: readonly PortForward[];
  /** Where connection failures are reported. Default: nowhere. */
  readonly log?: GatewayLog;
  /** What answers A and AAAA queries to 10.0.2.3 first. Default {@link hostResolver}. */
  readonly resolver?: Resolver;
  /**
   * Where queries to 10.0.2.3 are forwarded (A and AAAA the resolver lacks, every other type).
   * Default: the host's /etc/resolv.conf ({@link readResolvConf}); no servers forwards nothing.
   */
  readonly nameservers?: NameserverConfig;
  /**
   * IPv6 on eth0, as slirp4netns's `--enable-ipv6`: the sandbox gets {@link SANDBOX_ADDRESS6}/64
   * and a link-local address, the default route via {@link GATEWAY_ADDRESS6} (the host's ::1),
   * DNS on {@link DNS_ADDRESS6}, and its IPv6 flows go out over host IPv6 sockets. Default off.
   */
  readonly ipv6?: boolean;
  /**
   * How far the sandbox's CLOCK_MONOTONIC (ms) runs ahead of performance.now(), which polls its
   * stack (StackConfig.monotonicOffset: its TCP timestamps count that clock). Default 0.
   */
  readonly monotonicOffset?: number;
}

/** A frame queue in front of a device, for frames the gateway holds back or makes itself. */
class TappedDevice implements Device {
  readonly capabilities;
  private readonly injected: Uint8Array[] = [];
  /** The link's checksum offload (Device.markOffloaded), passed through. */
  readonly markOffloaded?: (frame: Uint8Array) => void;
  readonly takeOffloaded?: (frame: Uint8Array) => boolean;

  constructor(
    private readonly inner: Device,
    /** Sees every received frame first; true when it consumed the frame. */
    private readonly tap: (frame: Uint8Array) => boolean,
    private readonly sent: () => void,
  ) {
    this.capabilities = inner.capabilities;
    const mark = inner.markOffloaded?.bind(inner);
    const take = inner.takeOffloaded?.bind(inner);
    if (mark && take) {
      this.markOffloaded = mark;
      this.takeOffloaded = take;
    }
  }

  /**
   * Hands `frame` (a copy the gateway kept of one the sandbox sent) to the gateway's stack
   * later. Both stacks are in this process, so it is trusted as the original was.
   */
  inject(frame: Uint8Array): void {
    this.markOffloaded?.(frame);
    this.injected.push(frame);
  }

  receive(now: number): Uint8Array | undefined {
    const held = this.injected.shift();
    if (held) return held;
    for (let f = this.inner.receive(now); f; f = this.inner.receive(now)) if (!this.tap(f)) return f;
    return undefined;
  }

  transmit(now: number, frame: Uint8Array): boolean {
    const ok = this.inner.transmit(now, frame);
    this.sent();
    return ok;
  }
}

/**
 * One TCP connection carried between the gateway's netstack and a host socket (or another
 * stream that behaves as one: {@link dnsOverTcp}).
 */
class Splice {
  private readonly buf = new Uint8Array(64 * 1024);
  private pendingToSandbox: Uint8Array[] = [];
  private hostEnded = false;
  private sandboxEnded = false;
  private done = false;

  constructor(
    readonly tcp: TcpSocket,
    readonly host: Duplex,
    private readonly wake: () => void,
    private readonly finished: (s: Splice) => void,
  ) {
    host.on('data', (d: Buffer) => {
      this.pendingToSandbox.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      host.pause();
      this.wake();
    });
    host.on('end', () => {
      this.hostEnded = true;
      this.wake();
    });
    host.on('drain', () => this.wake());
    host.on('error', () => {
      this.tcp.abort();
      this.finish();
    });
    host.on('close', () => {
      if (!this.hostEnded) this.tcp.abort();
      this.wake();
    });
  }

  /** Moves what can move in both directions; called after every poll of the gateway stack. */
  pump(): void {
    if (this.done) return;
    // host -> sandbox
    while (this.pendingToSandbox.length > 0) {
      const chunk = this.pendingToSandbox[0]!;
      const n = this.tcp.send(chunk);
      if (n === WOULD_BLOCK) break;
      if (isError(n)) {
        this.host.destroy();
        this.finish();
        return;
      }
      if (n < chunk.length) {
        this.pendingToSandbox[0] = chunk.subarray(n);
        break;
      }
      this.pendingToSandbox.shift();
    }
    if (this.pendingToSandbox.length === 0) {
      if (this.hostEnded) this.tcp.shutdownWrite();
      else if (this.host.isPaused()) this.host.resume();
    }
    // sandbox -> host, while the host socket takes more
    while (!this.sandboxEnded && !this.host.writableNeedDrain) {
      const n = this.tcp.recv(this.buf);
      if (n === WOULD_BLOCK) break;
      if (isError(n)) {
        this.host.destroy();
        this.finish();
        return;
      }
      if (n === 0) {
        this.sandboxEnded = true;
        this.host.end();
        break;
      }
      this.host.write(this.buf.slice(0, n));
    }
    if (this.hostEnded && this.sandboxEnded && this.pendingToSandbox.length === 0) {
      this.tcp.close();
      this.finish();
    } else if (this.tcp.state === 'CLOSED') {
      this.host.destroy();
      this.finish();
    }
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.finished(this);
  }

  close(): void {
    this.tcp.abort();
    this.host.destroy();
    this.finish();
  }
}

/**
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766) for 10.0.2.3:53, as a stream a {@link Splice} carries:
 * each query comes with a two-byte length, is answered by `answer` (as the same query over
 * UDP), and the answers go back in order with their lengths. A query that gets no answer
 * (malformed) ends the connection, as a server drops a client that speaks nonsense.
 */
function dnsOverTcp(answer: (query: Uint8Array) => Promise<Uint8Array | undefined>): Duplex {
  let held = new Uint8Array(0);
  let answered: Promise<boolean> = Promise.resolve(true);
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      const more = new Uint8Array(held.length + chunk.length);
      more.set(held);
      more.set(chunk, held.length);
      held = more;
      while (held.length >= 2) {
        const len = (held[0]! << 8) | held[1]!;
        if (held.length < 2 + len) break;
        const query = held.slice(2, 2 + len);
        held = held.subarray(2 + len);
        answered = answered.then(async (ok) => {
          if (!ok) return false;
          const reply = await answer(query);
          if (!reply) {
            stream.push(null);
            return false;
          }
          const framed = new Uint8Array(2 + reply.length);
          framed[0] = reply.length >> 8;
          framed[1] = reply.length & 0xff;
          framed.set(reply, 2);
          stream.push(framed);
          return true;
        });
      }
      done();
    },
    final(done) {
      void answered.then((ok) => {
        if (ok) stream.push(null);
        done();
      });
    },
  });
  return stream;
}

function tcpBuffers(): { rx: RingBuffer; tx: RingBuffer } {
  return { rx: new RingBuffer(new Uint8Array(BUFFER)), tx: new RingBuffer(new Uint8Array(BUFFER)) };
}

/** A UDP flow from one sandbox port, over one host datagram socket. */
interface UdpFlow {
  readonly socket: DgramSocket;
  idle: ReturnType<typeof setTimeout>;
}

/**
 * The gateway and the sandbox-side stack it serves. Give {@link stack} and {@link links} to the
 * sandbox's kernel (`configureNetwork`), then {@link open} before the sandbox runs and
 * {@link close} after.
 */
export class Gateway {
  /**
   * The sandbox's stack: lo (127.0.0.1/8, ::1) and eth0 (10.0.2.15/24 via 10.0.2.2; with
   * `ipv6`, also fd00::100/64 and fe80::42:aff:fe00:20f/64 via fd00::2).
   */
  readonly stack: Stack;
  private readonly gw: Stack;
  private readonly sandboxSide: TappedDevice;
  private readonly gatewaySide: TappedDevice;
  private readonly sandboxAddr = Ipv4Address.parse(SANDBOX_ADDRESS)!;
  private readonly gatewayAddr = Ipv4Address.parse(GATEWAY_ADDRESS)!;
  private readonly dnsAddr = Ipv4Address.parse(DNS_ADDRESS)!;
  private readonly sandboxAddr6 = Ipv6Address.parse(SANDBOX_ADDRESS6)!;
  private readonly gatewayAddr6 = Ipv6Address.parse(GATEWAY_ADDRESS6)!;
  private readonly dnsAddr6 = Ipv6Address.parse(DNS_ADDRESS6)!;
  /** The listener keys of the DNS servers' TCP ports (see {@link dnsOverTcp}). */
  private readonly dnsKeys = new Set([`${DNS_ADDRESS}:53`, `${DNS_ADDRESS6}:53`]);
  /** Whether eth0 has IPv6 ({@link GatewayOptions.ipv6}). */
  private readonly ipv6: boolean;
  private readonly sandboxMac = EthernetAddress.parse(SANDBOX_MAC)!;
  private readonly gatewayMac = EthernetAddress.parse(GATEWAY_MAC)!;
  private readonly listeners = new Map<string, TcpListener>();
  private readonly connecting = new Set<string>();
  private readonly splices = new Set<Splice>();
  /** Outbound UDP flows by family and sandbox source port (`4:5353`, `6:5353`). */
  private readonly udpFlows = new Map<string, UdpFlow>();
  private readonly servers: (Server | DgramSocket)[] = [];
  /** Inbound UDP: gateway-side source port -> the host client it stands for. */
  private readonly udpClients = new Map<number, { socket: DgramSocket; address: string; port: number }>();
  private nextUdpPort = 40000;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private scheduled = false;
  private closed = false;
  /** Reassembles the sandbox's UDP datagrams that left eth0 in fragments. */
  private readonly reassembler = new Ipv4Reassembler();
  private readonly reassembler6 = new Ipv6Reassembler();
  /** The IP identification of the gateway's last fragmented datagram. */
  private ident = 0;
  /** Set by the sandbox: runs its stack after the gateway sent it packets. */
  kickSandbox: () => void = () => undefined;

  private readonly forwards: readonly PortForward[];
  private readonly log: GatewayLog;
  private readonly dns: DnsServer;

  constructor(options: GatewayOptions = {}) {
    this.forwards = options.forwards ?? [];
    this.ipv6 = options.ipv6 === true;
    this.log = options.log ?? ((): void => undefined);
    this.dns = new DnsServer({
      resolver: options.resolver ?? hostResolver,
      nameservers: options.nameservers ?? readResolvConf(),
    });
    // Both ends are in this process: TCP frames skip their checksums, as over a veth.
    const [a, b] = linkPair({ medium: 'ethernet', mtu: MTU, checksumOffload: true });
    this.sandboxSide = new TappedDevice(
      a,
      () => false,
      () => this.schedule(),
    );
    this.gatewaySide = new TappedDevice(
      b,
      (f) => this.tap(f),
      () => this.kickSandboxSoon(),
    );
    const v6 = this.ipv6;
    this.stack = new Stack({
      device: this.sandboxSide,
      addresses: [
        cidr('127.0.0.1/8'),
        cidr('::1/128'),
        cidr(`${SANDBOX_ADDRESS}/24`),
        ...(v6 ? [cidr(`${SANDBOX_ADDRESS6}/64`)] : []),
      ],
      gateways: v6 ? [this.gatewayAddr, this.gatewayAddr6] : [this.gatewayAddr],
      hardwareAddress: this.sandboxMac,
      // fe80::42:aff:fe00:20f from the MAC (EUI-64), as Linux forms it on a veth or tap.
      ...(v6 ? { ipv6LinkLocal: true } : {}),
      clock: () => performance.now(),
      monotonicOffset: options.monotonicOffset ?? 0,
    });
    // 10.0.2.3 (fd00::3) is on the sandbox's link, so the gateway answers ARP (neighbour
    // solicitations) for it too; its datagrams are taken by the tap before they reach the
    // gateway's stack.
    this.gw = new Stack({
      device: this.gatewaySide,
      addresses: [
        cidr(`${GATEWAY_ADDRESS}/24`),
        cidr(`${DNS_ADDRESS}/32`),
        ...(v6 ? [cidr(`${GATEWAY_ADDRESS6}/64`), cidr(`${DNS_ADDRESS6}/128`)] : []),
      ],
      hardwareAddress: this.gatewayMac,
      ...(v6 ? { ipv6LinkLocal: true } : {}),
    });
  }

  /** The sandbox's links for rtnetlink: lo and eth0. */
  links(): LinkInfo[] {
    const iface = this.stack.iface;
    // One route table for both links (rtnetlink lists its routes once).
    const routeControl = interfaceRouting(this.stack, 1, 2);
    const lo = stackLinkControl(this.stack, true);
    const eth0 = stackLinkControl(this.stack, false);
    return [
      {
        index: 1,
        name: 'lo',
        flags: lo.flags,
        txQueueLen: lo.txQueueLen,
        // What netstack uses for local traffic, as Linux's lo.
        mtu: this.stack.mtu(true),
        type: ARPHRD_LOOPBACK,
        address: new Uint8Array(6),
        broadcast: new Uint8Array(6),
        addresses: iface.addresses.filter((c) => iface.addressInfo(c).loopback),
        gateways: [],
        // Traffic to the sandbox's own addresses, which never reaches the NIC.
        stats: () => iface.loopCounters,
        // IPv6 flags and lifetimes on the clock the sandbox's stack is polled with.
        ipv6: () => iface.ipv6Addresses().filter((a) => iface.addressInfo(a.cidr).loopback),
        clock: () => performance.now(),
        ...interfaceAddressing(iface, true),
        linkControl: lo,
        routeControl,
      },
      {
        index: 2,
        name: 'eth0',
        // What a veth shows: <BROADCAST,MULTICAST,UP,LOWER_UP>, ARP on.
        flags: eth0.flags,
        txQueueLen: eth0.txQueueLen,
        mtu: this.stack.mtu(false),
        type: ARPHRD_ETHER,
        address: this.sandboxMac.bytes.slice(),
        broadcast: EthernetAddress.BROADCAST.bytes.slice(),
        addresses: iface.addresses.filter((c) => !iface.addressInfo(c).loopback),
        gateways: iface.gateways,
        // Frames with their Ethernet headers, as a veth counts them.
        stats: () => iface.deviceCounters,
        ipv6: () => iface.ipv6Addresses().filter((a) => !iface.addressInfo(a.cidr).loopback),
        clock: () => performance.now(),
        ...interfaceAddressing(iface, false),
        linkControl: eth0,
        routeControl,
        neighbors: () =>
          iface.neighborEntries(performance.now()).map((e) => ({ address: e.address, mac: e.mac.bytes })),
      },
    ];
  }

  /**
   * Opens the host listeners of the port forwards, on the host's 127.0.0.1 and, with `ipv6`, its
   * ::1 too (both carried to the sandbox's 10.0.2.15); rejects when one cannot listen.
   */
  async open(): Promise<void> {
    const hosts = this.ipv6 ? [HOST_LOOPBACK, HOST_LOOPBACK6] : [HOST_LOOPBACK];
    for (const f of this.forwards) {
      for (const address of hosts) {
        if (f.protocol === 'tcp') {
          // Half-open: the client's FIN must not end the sandbox's direction.
          const server = createServer({ allowHalfOpen: true }, (c) => this.inboundTcp(c, f.sandbox));
          this.servers.push(server);
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen(f.host, address, () => resolve());
          });
          server.unref();
        } else {
          const sock = createSocket(address === HOST_LOOPBACK ? 'udp4' : 'udp6');
          this.servers.push(sock);
          sock.on('message', (msg, rinfo) =>
            this.inboundUdp(sock, msg, rinfo.address, rinfo.port, f.sandbox),
          );
          await new Promise<void>((resolve, reject) => {
            sock.once('error', reject);
            sock.bind(f.host, address, () => resolve());
          });
          sock.unref();
        }
      }
    }
  }

  /** Closes every host socket and listener. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.servers) s.close();
    for (const s of [...this.splices]) s.close();
    for (const f of this.udpFlows.values()) {
      clearTimeout(f.idle);
      f.socket.close();
    }
    this.udpFlows.clear();
    for (const h of this.pendingHosts.values()) h.destroy();
    this.pendingHosts.clear();
    this.dns.close();
  }

  private sandboxKickDue = false;

  /** Runs the sandbox's stack once after the gateway's current burst of packets. */
  private kickSandboxSoon(): void {
    if (this.sandboxKickDue) return;
    this.sandboxKickDue = true;
    queueMicrotask(() => {
      this.sandboxKickDue = false;
      this.kickSandbox();
    });
  }

  /** Runs the gateway's stack soon (after the sandbox's current poll). */
  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.poll();
    });
  }

  private poll(): void {
    if (this.closed) return;
    let next: number | undefined;
    for (let i = 0; i < 64; i++) {
      const now = performance.now();
      next = this.gw.poll(now);
      this.acceptAll();
      for (const s of [...this.splices]) s.pump();
      next = this.gw.poll(performance.now());
      if (next === undefined || next > performance.now()) break;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (next === undefined) return;
    this.timer = setTimeout(() => this.poll(), Math.max(0, next - performance.now()));
    this.timer.unref();
  }

  // ---- sandbox -> outside ------------------------------------------------------------------------

  /**
   * Sees each frame the sandbox sends out; true when the gateway handled it itself. Only IPv4
   * frames to the gateway's MAC are the sandbox's traffic out; ARP and the rest go to the
   * gateway's stack.
   */
  private tap(frame: Uint8Array): boolean {
    const eth = EthernetFrame.checked(frame);
    if (!(eth instanceof EthernetFrame) || !eth.dst.equals(this.gatewayMac)) return false;
    if (eth.ethertype === EtherType.IPV6) return this.ipv6 && this.tap6(frame, eth.payload);
    if (eth.ethertype !== EtherType.IPV4) return false;
    const ip = Ipv4Packet.checked(eth.payload);
    // A damaged header (a packet socket's frame can carry one) is the gateway stack's to drop
    // and count, as Linux's ip_rcv would, before anything reaches the host.
    if (!(ip instanceof Ipv4Packet) || ip.version !== 4 || !ip.verifyChecksum()) return false;
    if (ip.protocol === IpProtocol.UDP) {
      if (ip.moreFragments || ip.fragmentOffset !== 0) {
        // A datagram larger than the MTU arrives in fragments: the host socket sends it whole.
        const now = performance.now();
        this.reassembler.expire(now);
        const whole = this.reassembler.add(now, ip);
        const packet = whole && Ipv4Packet.checked(whole);
        if (packet instanceof Ipv4Packet) return this.outboundUdp(packet.src, packet.dst, packet.payload);
        return true;
      }
      return this.outboundUdp(ip.src, ip.dst, ip.payload);
    }
    if (ip.moreFragments || ip.fragmentOffset !== 0) return false;
    if (ip.protocol !== IpProtocol.TCP) return false;
    return this.outboundSyn(frame, ip.dst, ip.payload);
  }

  /**
   * An IPv6 packet from the sandbox to the gateway's MAC: UDP (whole or in fragments) and TCP
   * SYNs as for IPv4; the rest (neighbour discovery, echo, other TCP segments) goes to the
   * gateway's stack.
   */
  private tap6(frame: Uint8Array, bytes: Uint8Array): boolean {
    const ip = Ipv6Packet.checked(bytes);
    if (!(ip instanceof Ipv6Packet) || ip.version !== 6) return false;
    if (ip.nextHeader === IPV6_FRAGMENT_HEADER) {
      const frag = parseIpv6Fragment(ip.payload);
      if (!frag) return true;
      const now = performance.now();
      this.reassembler6.expire(now);
      const whole = this.reassembler6.add(now, ip, frag);
      if (!whole) return true;
      const packet = Ipv6Packet.checked(whole);
      if (!(packet instanceof Ipv6Packet) || packet.nextHeader !== IpProtocol.UDP) return true;
      return this.outboundUdp(packet.src, packet.dst, packet.payload);
    }
    if (ip.nextHeader === IpProtocol.UDP) return this.outboundUdp(ip.src, ip.dst, ip.payload);
    if (ip.nextHeader !== IpProtocol.TCP) return false;
    return this.outboundSyn(frame, ip.dst, ip.payload);
  }

  /**
   * A TCP segment from the sandbox to `dst`: a SYN starts a host connect (held until it is
   * answered); every other segment goes to the gateway's stack (false).
   */
  private outboundSyn(frame: Uint8Array, dst: IpAddress, segment: Uint8Array): boolean {
    const tcp = TcpPacket.checked(segment);
    if (!(tcp instanceof TcpPacket)) return false;
    const syn = (tcp.flags & TcpFlag.SYN) !== 0 && (tcp.flags & TcpFlag.ACK) === 0;
    if (!syn) return false;
    // 10.0.2.3 (fd00::3) is the gateway's DNS server, not an address to reach on the host's
    // network: its port 53 is served here (DNS over TCP), and the gateway's stack refuses any
    // other (RST).
    if (dst.equals(this.dnsAddr) || dst.equals(this.dnsAddr6)) {
      if (tcp.dstPort === 53) this.ensureListener(dst, 53);
      return false;
    }
    const key = `${dst.toString()}:${tcp.dstPort}`;
    const flow = `${tcp.srcPort}>${key}`;
    if (this.listeners.has(key) && this.hostFor(flow)) return false;
    // A retransmitted SYN while the host connect is under way: the first one will be answered.
    if (this.connecting.has(flow)) return true;
    this.connecting.add(flow);
    const held = frame.slice();
    const host = connect({ host: this.toHost(dst), port: tcp.dstPort, allowHalfOpen: true });
    const release = (ok: boolean): void => {
      this.connecting.delete(flow);
      if (this.closed) {
        host.destroy();
        return;
      }
      if (ok) {
        this.ensureListener(dst, tcp.dstPort);
        this.pendingHosts.set(flow, host);
      } else this.ensureAddress(dst);
      // With a listener the gateway's stack answers SYN+ACK; without one, RST (refused).
      this.gatewaySide.inject(held);
      this.schedule();
    };
    host.once('connect', () => release(true));
    host.once('error', (e) => {
      if (this.connecting.has(flow)) {
        this.log(`gateway: connect to ${key}: ${e.message}`);
        release(false);
      }
    });
    return true;
  }

  /** Host sockets connected for a sandbox SYN, waiting for the gateway's accept. */
  private readonly pendingHosts = new Map<string, Socket>();

  private hostFor(flow: string): boolean {
    return this.pendingHosts.has(flow);
  }

  /** The host address a sandbox destination stands for: the gateway is the host's loopback. */
  private toHost(dst: IpAddress): string {
    if (dst.equals(this.gatewayAddr)) return HOST_LOOPBACK;
    if (dst.equals(this.gatewayAddr6)) return HOST_LOOPBACK6;
    return dst.toString();
  }

  /** Makes `addr` one of the gateway stack's own, so it answers (or refuses) for it. */
  private ensureAddress(addr: IpAddress): void {
    if (!this.gw.iface.hasAddress(addr))
      this.gw.iface.addresses.push(new IpCidr(addr, addr.version === 4 ? 32 : 128));
  }

  private ensureListener(addr: IpAddress, port: number): void {
    const key = `${addr.toString()}:${port}`;
    if (this.listeners.has(key)) return;
    this.ensureAddress(addr);
    const l = this.gw.tcpListener(addr.version, tcpBuffers);
    const err = l.bind({ addr, port }) ?? l.listen(128);
    if (err) {
      this.log(`gateway: cannot listen on ${key}: ${err.message}`);
      return;
    }
    this.listeners.set(key, l);
  }

  private acceptAll(): void {
    for (const [key, l] of this.listeners) {
      for (let c = l.accept(); c !== WOULD_BLOCK && !isError(c); c = l.accept()) {
        if (this.dnsKeys.has(key)) {
          this.splice(
            c,
            dnsOverTcp((q) => this.dns.answer(q, true)),
          );
          continue;
        }
        const flow = `${c.remote?.port ?? 0}>${key}`;
        const host = this.pendingHosts.get(flow);
        if (!host) {
          c.abort();
          continue;
        }
        this.pendingHosts.delete(flow);
        this.splice(c, host);
      }
    }
  }

  private splice(tcp: TcpSocket, host: Duplex): void {
    const s = new Splice(
      tcp,
      host,
      () => this.schedule(),
      (done) => {
        this.splices.delete(done);
        this.schedule();
      },
    );
    this.splices.add(s);
    s.pump();
  }

  /**
   * A datagram from the sandbox to the outside: true when taken here (sent on, answered, or
   * dropped as malformed), false for the gateway's stack to answer (the DNS address's ports
   * other than 53: ICMP port unreachable, as from a host that serves only DNS). A checksum that
   * does not verify drops it, as Linux's udp_rcv does; IPv4's 0 means none, IPv6's 0 is a
   * missing mandatory one (RFC 8200 §8.1).
   */
  private outboundUdp(src: IpAddress, dst: IpAddress, bytes: Uint8Array): boolean {
    const udpPacket = UdpPacket.checked(bytes);
    if (!(udpPacket instanceof UdpPacket)) return true;
    const udp = UdpRepr.parse(udpPacket, src, dst);
    if (isWireError(udp)) return true;
    const v4 = dst.version === 4;
    const dnsAddr = v4 ? this.dnsAddr : this.dnsAddr6;
    const gatewayAddr = v4 ? this.gatewayAddr : this.gatewayAddr6;
    if (dst.equals(dnsAddr)) {
      if (udp.dstPort !== 53) return false;
      const srcPort = udp.srcPort;
      void this.dns
        .answer(udp.payload, false)
        .then((reply) => reply && this.sendUdpToSandbox(dnsAddr, 53, srcPort, reply));
      return true;
    }
    if (v4 && dst.equals(gatewayAddr)) {
      const client = this.udpClients.get(udp.dstPort);
      if (client) {
        client.socket.send(udp.payload, client.port, client.address);
        return true;
      }
    }
    const flowKey = `${dst.version}:${udp.srcPort}`;
    let flow = this.udpFlows.get(flowKey);
    if (!flow) {
      const socket = createSocket(v4 ? 'udp4' : 'udp6');
      const srcPort = udp.srcPort;
      const loopback = v4 ? HOST_LOOPBACK : HOST_LOOPBACK6;
      socket.on('message', (msg, rinfo) => {
        const from =
          rinfo.address === loopback
            ? gatewayAddr
            : v4
              ? Ipv4Address.parse(rinfo.address)
              : Ipv6Address.parse(rinfo.address.replace(/%.*$/, ''));
        if (from) this.sendUdpToSandbox(from, rinfo.port, srcPort, msg);
      });
      socket.on('error', (e) => this.log(`gateway: udp from port ${srcPort}: ${e.message}`));
      socket.unref();
      const f: UdpFlow = { socket, idle: setTimeout(() => undefined, 0) };
      flow = f;
      this.udpFlows.set(flowKey, f);
    }
    const f = flow;
    clearTimeout(f.idle);
    f.idle = setTimeout(() => {
      f.socket.close();
      this.udpFlows.delete(flowKey);
    }, UDP_IDLE_MS);
    f.idle.unref();
    f.socket.send(udp.payload, udp.dstPort, this.toHost(dst));
    return true;
  }

  // ---- outside -> sandbox ------------------------------------------------------------------------

  /**
   * Sends a UDP datagram from `from:fromPort` to the sandbox's `port` on eth0, with its checksum
   * (a sum of 0 sent as 0xffff, as Linux's udp_csum does: in IPv6, 0 would mean none).
   */
  private sendUdpToSandbox(from: IpAddress, fromPort: number, port: number, payload: Uint8Array): void {
    if (this.closed) return;
    const udp: UdpRepr = { srcPort: fromPort, dstPort: port, payload };
    const udpLen = UDP_HEADER_LEN + payload.length;
    const v4 = from.version === 4;
    const headerLen = v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    // IPv4's total length and IPv6's payload length are 16 bits (no jumbograms on eth0).
    if ((v4 ? headerLen + udpLen : udpLen) > 0xffff) {
      this.log(`gateway: dropped a ${payload.length}-byte datagram larger than IPv${from.version} allows`);
      return;
    }
    const to = v4 ? this.sandboxAddr : this.sandboxAddr6;
    const ip = new Uint8Array(headerLen + udpLen);
    if (from.version === 4)
      Ipv4Repr.emit(
        { src: from, dst: this.sandboxAddr, protocol: IpProtocol.UDP, payloadLen: udpLen, ttl: HOP_LIMIT },
        Ipv4Packet.unchecked(ip),
      );
    else
      Ipv6Repr.emit(
        {
          src: from,
          dst: this.sandboxAddr6,
          nextHeader: IpProtocol.UDP,
          payloadLen: udpLen,
          hopLimit: HOP_LIMIT,
        },
        Ipv6Packet.unchecked(ip),
      );
    UdpRepr.emit(udp, UdpPacket.unchecked(ip.subarray(headerLen)), from, to);
    // Larger than the MTU: fragments, which the sandbox's stack puts together, as a host's stack
    // would send them.
    this.ident = (this.ident + 1) & 0xffff;
    const packets =
      ip.length <= MTU ? [ip] : v4 ? fragmentIpv4(ip, MTU, this.ident) : fragmentIpv6(ip, MTU, this.ident);
    const now = performance.now();
    for (const packet of packets) {
      const frame = new Uint8Array(ETHERNET_HEADER_LEN + packet.length);
      // The sandbox's MAC is fixed, so the gateway needs no ARP (or neighbour discovery) round
      // to reach it.
      EthernetRepr.emit(
        { src: this.gatewayMac, dst: this.sandboxMac, ethertype: v4 ? EtherType.IPV4 : EtherType.IPV6 },
        EthernetFrame.unchecked(frame),
      );
      frame.set(packet, ETHERNET_HEADER_LEN);
      this.gatewaySide.transmit(now, frame);
    }
  }

  private inboundTcp(host: Socket, port: number): void {
    if (this.closed) {
      host.destroy();
      return;
    }
    host.pause();
    const tcp = this.gw.tcpSocket(4, tcpBuffers());
    const err = tcp.connect({ addr: this.sandboxAddr, port });
    if (err) {
      host.destroy();
      return;
    }
    this.splice(tcp, host);
    this.schedule();
  }

  private inboundUdp(
    sock: DgramSocket,
    msg: Buffer,
    address: string,
    port: number,
    sandboxPort: number,
  ): void {
    let gwPort: number | undefined;
    for (const [p, c] of this.udpClients)
      if (c.socket === sock && c.address === address && c.port === port) gwPort = p;
    if (gwPort === undefined) {
      gwPort = this.nextUdpPort++;
      if (this.nextUdpPort > 60999) this.nextUdpPort = 40000;
      this.udpClients.set(gwPort, { socket: sock, address, port });
    }
    this.sendUdpToSandbox(this.gatewayAddr, gwPort, sandboxPort, new Uint8Array(msg));
  }
}
