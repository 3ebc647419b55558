// Helpers for tests of autoconfigured IPv6 addresses: a sandbox kernel whose network is a
// netstack Stack with SLAAC on one end of an Ethernet link, driven on a virtual clock, a router
// on the other end, /proc mounted, and an RTM_GETADDR dump over an AF_NETLINK socket.
import { KernelProcSource } from '@tsvisor/kernel';
import {
  EtherType,
  EthernetAddress,
  EthernetFrame,
  EthernetRepr,
  ETHERNET_HEADER_LEN,
  IPV6_HEADER_LEN,
  Icmpv6Packet,
  Icmpv6Repr,
  IpProtocol,
  Ipv6Address,
  Ipv6Packet,
  Ipv6Repr,
  Stack,
  linkPair,
  seededRandom,
  type AddrconfOptions,
  type Device,
} from '@tsvisor/netstack';
import { createProcfs } from '@tsvisor/procfs';
import { ROOT_CREDS } from '@tsvisor/vfs';
import { expect } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import { IfFlag, ARPHRD_ETHER, type LinkInfo } from './sys-netlink.js';
import { configureNetwork } from './sys-socket-file.js';
import { procNetSource } from './sys-socket-proc.js';

const ROUTER_MAC = EthernetAddress.parse('52:54:00:00:00:01')!;
const ROUTER_LL = Ipv6Address.parse('fe80::1')!;
const ALL_NODES = Ipv6Address.parse('ff02::1')!;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const RTM_GETADDR = 22;
const NLM_F_REQUEST = 1;
const NLM_F_DUMP = 0x300;
const MSG_DONTWAIT = 0x40;
const NLMSG_DONE = 3;

/** One RTM_NEWADDR message of a dump, decoded. */
export interface DumpedAddress {
  readonly address: string;
  readonly prefixLen: number;
  /** ifaddrmsg.ifa_flags (one byte). */
  readonly flags: number;
  readonly scope: number;
  readonly index: number;
  /** Attribute types in the order sent. */
  readonly attrs: readonly number[];
  /** IFA_FLAGS. */
  readonly ifaFlags: number | undefined;
  /** IFA_CACHEINFO. */
  readonly preferred: number;
  readonly valid: number;
  readonly cstamp: number;
  readonly tstamp: number;
  /** IFA_PROTO, undefined when absent. */
  readonly proto: number | undefined;
}

export interface AddrconfBed {
  readonly h: Harness;
  readonly stack: Stack;
  /** The router's end of the link. */
  readonly peer: Device;
  /** Virtual milliseconds since the bed was made. */
  elapsed(): number;
  /** Runs the stack's timers up to `ms` virtual milliseconds since the start. */
  runTo(ms: number): void;
  /** A router advertisement for `prefix`/64 (on-link, autonomous) with these lifetimes (s). */
  advertise(prefix: string, valid: number, preferred: number): void;
  /** /proc/net/if_inet6 as a program reads it. */
  ifInet6(): Promise<string>;
  /** An RTM_GETADDR dump for AF_INET6, as a program receives it. */
  dumpAddresses(): Promise<DumpedAddress[]>;
}

/**
 * A kernel whose only link is `name` (ifindex `index`), an Ethernet NIC with MAC `mac`, SLAAC
 * and `addrconf`. The virtual clock starts at the real `performance.now()` once the network is
 * configured, so stamps of addresses formed later are later than the netlink domain's creation
 * (the permanent addresses' stamp), as on a booted host.
 */
export function addrconfBed(options: {
  readonly mac: string;
  readonly addrconf: AddrconfOptions;
  readonly name?: string;
  readonly index?: number;
}): AddrconfBed {
  const h = harness();
  const mac = EthernetAddress.parse(options.mac)!;
  const random = seededRandom(7);
  const [dev, peer] = linkPair({ medium: 'ethernet', mtu: 1500 });
  const stack = new Stack({
    device: dev,
    addresses: [],
    hardwareAddress: mac,
    ipv6LinkLocal: true,
    slaac: true,
    addrconf: {
      randomBytes: (n) => Uint8Array.from({ length: n }, () => Math.floor(random() * 256)),
      ...options.addrconf,
    },
    seed: 3,
  });
  let now = 0;
  const link: LinkInfo = {
    index: options.index ?? 2,
    name: options.name ?? 'eth0',
    flags:
      IfFlag.IFF_UP | IfFlag.IFF_BROADCAST | IfFlag.IFF_MULTICAST | IfFlag.IFF_RUNNING | IfFlag.IFF_LOWER_UP,
    mtu: 1500,
    type: ARPHRD_ETHER,
    address: mac.bytes,
    broadcast: new Uint8Array(6).fill(0xff),
    addresses: stack.iface.addresses,
    gateways: stack.iface.gateways,
    stats: () => ({ rxPackets: stack.iface.stats.rxFrames, txPackets: stack.iface.stats.txFrames }),
    ipv6: () => stack.iface.ipv6Addresses(),
    clock: () => now,
  };
  configureNetwork(h.kernel, { stack, links: () => [link] });
  // After the netlink domain was made: its creation stamp is never later than the clock.
  const base = performance.now();
  now = base;
  const vfs = h.kernel.vfs!;
  const ctx = vfs.rootContext(ROOT_CREDS);
  vfs.mkdirat(ctx, ctx.cwd, '/proc', 0o555);
  vfs.mount(
    ctx,
    ctx.cwd,
    '/proc',
    createProcfs(new KernelProcSource(h.kernel, { net: () => procNetSource(h.kernel) })),
  );

  /** Polls until nothing is due at `t`; what the router end receives is dropped. */
  const settle = (t: number): number | undefined => {
    for (let i = 0; i < 1000; i++) {
      const next = stack.poll(t);
      while (peer.receive(t)) {
        /* the router does not answer solicitations */
      }
      if (next === undefined || next > t) return next;
    }
    throw new Error('the stack never settled');
  };
  const runTo = (ms: number): void => {
    const target = base + ms;
    // Every timer fires at its own deadline, as the sandbox's timer would run it.
    for (let next = settle(now); next !== undefined && next <= target; next = settle(now))
      now = Math.max(now, next);
    now = Math.max(now, target);
    settle(now);
  };
  runTo(0);

  const advertise = (prefix: string, valid: number, preferred: number): void => {
    const icmp: Icmpv6Repr = {
      type: 'routerAdvert',
      curHopLimit: 64,
      managed: false,
      other: false,
      routerLifetime: 1800,
      reachableTime: 0,
      retransTimer: 0,
      sourceLinkAddr: ROUTER_MAC,
      prefixes: [
        {
          prefix: Ipv6Address.parse(prefix)!,
          prefixLength: 64,
          onLink: true,
          autonomous: true,
          validLifetime: valid,
          preferredLifetime: preferred,
        },
      ],
    };
    const len = Icmpv6Repr.bufferLen(icmp);
    const frame = new Uint8Array(ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + len);
    const groupMac = new EthernetAddress([0x33, 0x33, 0, 0, 0, 1]);
    EthernetRepr.emit(
      { src: ROUTER_MAC, dst: groupMac, ethertype: EtherType.IPV6 },
      EthernetFrame.unchecked(frame),
    );
    const ip = frame.subarray(ETHERNET_HEADER_LEN);
    Ipv6Repr.emit(
      { src: ROUTER_LL, dst: ALL_NODES, nextHeader: IpProtocol.ICMPV6, payloadLen: len, hopLimit: 255 },
      Ipv6Packet.unchecked(ip),
    );
    Icmpv6Repr.emit(icmp, Icmpv6Packet.unchecked(ip.subarray(IPV6_HEADER_LEN)), ROUTER_LL, ALL_NODES);
    peer.transmit(now, frame);
    settle(now);
  };

  const enc = new TextEncoder();
  const ifInet6 = async (): Promise<string> => {
    h.mem.write(BUF, enc.encode('/proc/net/if_inet6\0'));
    const fd = (await h.call('openat', -100, BUF, 0, 0)) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    let text = '';
    for (;;) {
      const n = (await h.call('read', fd, BUF + 0x100, 0x1000)) as number;
      expect(n).toBeGreaterThanOrEqual(0);
      if (n === 0) break;
      text += new TextDecoder().decode(h.mem.read(BUF + 0x100, n) as Uint8Array);
    }
    expect(await h.call('close', fd)).toBe(0);
    return text;
  };

  const dumpAddresses = async (): Promise<DumpedAddress[]> => {
    const fd = (await h.call('socket', AF_NETLINK, SOCK_RAW, 0)) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    const req = new Uint8Array(24);
    const dv = new DataView(req.buffer);
    dv.setUint32(0, req.length, true);
    dv.setUint16(4, RTM_GETADDR, true);
    dv.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
    dv.setUint32(8, 1, true);
    req[16] = AF_INET6;
    h.mem.write(BUF, req);
    expect(await h.call('sendto', fd, BUF, req.length, 0, 0, 0)).toBe(req.length);
    const out: DumpedAddress[] = [];
    for (let done = false; !done;) {
      const n = (await h.call('recvfrom', fd, BUF, 0x4000, MSG_DONTWAIT, 0, 0)) as number;
      expect(n).toBeGreaterThan(0);
      const bytes = h.mem.read(BUF, n) as Uint8Array;
      const b = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let off = 0; off + 16 <= n;) {
        const len = b.getUint32(off, true);
        const type = b.getUint16(off + 4, true);
        if (type === NLMSG_DONE) done = true;
        else out.push(decodeNewAddr(bytes.subarray(off, off + len)));
        off += (len + 3) & ~3;
      }
    }
    expect(await h.call('close', fd)).toBe(0);
    return out;
  };

  return {
    h,
    stack,
    peer,
    elapsed: () => now - base,
    runTo,
    advertise,
    ifInet6,
    dumpAddresses,
  };
}

function decodeNewAddr(msg: Uint8Array): DumpedAddress {
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const attrs: number[] = [];
  let address = '?';
  let ifaFlags: number | undefined;
  let proto: number | undefined;
  const cache = [0, 0, 0, 0];
  for (let a = 24; a + 4 <= msg.length;) {
    const alen = dv.getUint16(a, true);
    const type = dv.getUint16(a + 2, true);
    attrs.push(type);
    const v = msg.subarray(a + 4, a + alen);
    const vd = new DataView(v.buffer, v.byteOffset, v.byteLength);
    if (type === 1) address = new Ipv6Address(v.slice()).toString();
    if (type === 8) ifaFlags = vd.getUint32(0, true);
    if (type === 6) for (let i = 0; i < 4; i++) cache[i] = vd.getUint32(i * 4, true);
    if (type === 11) proto = v[0];
    a += (alen + 3) & ~3;
  }
  return {
    address,
    prefixLen: msg[17]!,
    flags: msg[18]!,
    scope: msg[19]!,
    index: dv.getUint32(20, true),
    attrs,
    ifaFlags,
    preferred: cache[0]!,
    valid: cache[1]!,
    cstamp: cache[2]!,
    tstamp: cache[3]!,
    proto,
  };
}

/** ifaddr6-dump.c's line for an address, so Linux's and the sandbox's can be compared. */
export function dumpLine(a: DumpedAddress): string {
  return (
    `${a.address} plen=${a.prefixLen} flags=${a.flags.toString(16).padStart(2, '0')} ` +
    `scope=${a.scope} attrs=${a.attrs.join(',')} IFA_FLAGS=${(a.ifaFlags ?? 0).toString(16)} ` +
    `preferred=${a.preferred} valid=${a.valid} cstamp=${a.cstamp} tstamp=${a.tstamp} ` +
    `proto=${a.proto ?? '-'}`
  );
}
