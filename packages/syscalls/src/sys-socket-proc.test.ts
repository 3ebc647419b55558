import { describe, expect, it } from 'vitest';
import { E } from '@tsvisor/abi';
import { BUF, harness, type Harness } from './harness.test-util.js';
import { EthernetAddress, Ipv6Address, Stack, cidr, defaultIcmp6Ratemask, linkPair } from '@tsvisor/netstack';
import { ARPHRD_LOOPBACK, IfFlag, type LinkInfo } from './sys-netlink.js';
import { configureNetwork } from './sys-socket-file.js';
import type { ProcNetSource } from '@tsvisor/procfs';
import { procNetSource } from './sys-socket-proc.js';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const ADDR = BUF;
const STAT = BUF + 0x200;

async function inode(h: Harness, fd: number): Promise<number> {
  expect(await h.call('fstat', fd, STAT)).toBe(0);
  const b = h.mem.read(STAT + 8, 8) as Uint8Array;
  return Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true)); // st_ino
}

async function bound(h: Harness, family: number, type: number, sa: number[], protocol = 0): Promise<number> {
  const fd = (await h.call('socket', family, type, protocol)) as number;
  h.mem.write(ADDR, new Uint8Array(sa));
  expect(await h.call('bind', fd, ADDR, sa.length)).toBe(0);
  return fd;
}

describe('/proc/net over the sandbox sockets', () => {
  it('lists listeners, connections, UDP and AF_UNIX sockets with their own inodes', async () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    expect(net.tcp()).toEqual([]);
    const l = await bound(h, AF_INET, SOCK_STREAM, [
      AF_INET,
      0,
      0x1f,
      0xbb,
      127,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    expect(await h.call('listen', l, 7)).toBe(0);
    const v6 = [AF_INET6, 0, 0x1f, 0xbc, 0, 0, 0, 0, ...new Array<number>(16).fill(0), 0, 0, 0, 0];
    const l6 = await bound(h, AF_INET6, SOCK_STREAM, v6);
    expect(await h.call('listen', l6, 3)).toBe(0);
    // An IPv4 client of the dual-stack listener.
    const c = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(ADDR, new Uint8Array([AF_INET, 0, 0x1f, 0xbc, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(await h.call('connect', c, ADDR, 16)).toBe(0);
    const a = (await h.call('accept', l6, 0, 0)) as number;
    const u = await bound(h, AF_INET, SOCK_DGRAM, [
      AF_INET,
      0,
      0x14,
      0xe9,
      127,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    const x = await bound(h, AF_UNIX, SOCK_STREAM, [AF_UNIX, 0, ...new TextEncoder().encode('/sock'), 0]);
    expect(await h.call('listen', x, 1)).toBe(0);

    const inodes: number[] = [];
    for (const fd of [l, l6, c, a, u, x]) inodes.push(await inode(h, fd));
    expect(new Set(inodes).size).toBe(6); // every socket has its own inode, as on Linux
    const [il, il6, ic, ia, iu, ix] = inodes;

    const tcp = net.tcp();
    const listener = tcp.find((s) => s.inode === il)!;
    expect(listener).toMatchObject({ state: 10, txQueue: 7, local: { port: 8123 } });
    expect([...listener.local.address]).toEqual([127, 0, 0, 1]);
    const client = tcp.find((s) => s.inode === ic)!;
    expect(client).toMatchObject({ state: 1, remote: { port: 8124 } });

    const tcp6 = net.tcp6();
    expect(tcp6.find((s) => s.inode === il6)).toMatchObject({ state: 10, local: { port: 8124 } });
    const accepted = tcp6.find((s) => s.inode === ia)!;
    expect(accepted.state).toBe(1);
    // The IPv4 connection of an AF_INET6 socket shows IPv4-mapped addresses.
    expect([...accepted.remote.address]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    expect(accepted.remote.port).toBe(client.local.port);

    expect(net.udp()).toMatchObject([{ inode: iu, state: 7, local: { port: 5353 } }]);
    expect(net.unix()).toMatchObject([{ inode: ix, flags: 0x10000, state: 1, path: '/sock' }]);
    expect(net.devices().map((d) => d.name)).toEqual(['lo']);
    expect(net.inet6Addresses()).toMatchObject([{ device: 'lo', prefixLen: 128, scope: 0x10 }]);

    // A closed listener is gone; its inode is not reused by the next socket.
    expect(await h.call('close', l)).toBe(0);
    expect(net.tcp().some((s) => s.inode === il)).toBe(false);
  });

  it('net.ipv4 keepalive and fin_timeout sysctls reach the sockets of the namespace', async () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    expect(net.sysctl?.()).toMatchObject({ tcpKeepaliveTime: 7200, tcpFinTimeout: 60 });
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    const SOL_TCP = 6;
    const TCP_KEEPIDLE = 4;
    const TCP_LINGER2 = 8;
    const opt = async (name: number): Promise<number> => {
      h.mem.write(ADDR + 8, Uint8Array.of(4, 0, 0, 0));
      expect(await h.call('getsockopt', fd, SOL_TCP, name, ADDR, ADDR + 8)).toBe(0);
      return new DataView((h.mem.read(ADDR, 4) as Uint8Array).slice().buffer).getInt32(0, true);
    };
    expect(await opt(TCP_KEEPIDLE)).toBe(7200);
    expect(net.setSysctl?.({ key: 'tcpKeepaliveTime', value: 30 })).toBeUndefined();
    expect(net.setSysctl?.({ key: 'tcpFinTimeout', value: 5 })).toBeUndefined();
    // Linux reads them when used: an existing socket that set nothing follows.
    expect(await opt(TCP_KEEPIDLE)).toBe(30);
    expect(await opt(TCP_LINGER2)).toBe(5);
    expect(net.sysctl?.()).toMatchObject({ tcpKeepaliveTime: 30, tcpFinTimeout: 5 });
  });

  it("net.ipv4's TCP retransmission limits, tcp_notsent_lowat, tcp_dsack, tcp_reflect_tos and the ICMP rate limits are the stack's", () => {
    const net = procNetSource(harness().kernel);
    const defaults = {
      tcpSynRetries: 6,
      tcpSynLinearTimeouts: 4,
      tcpRetries2: 15,
      tcpOrphanRetries: 0,
      tcpNotsentLowat: 0xffffffff,
      tcpDsack: 1,
      tcpReflectTos: 0,
      tcpInvalidRatelimit: 500,
      icmpRatelimit: 1000,
      icmpRatemask: 0x1818,
      icmpMsgsPerSec: 1000,
      icmpMsgsBurst: 50,
    } as const;
    expect(net.sysctl?.()).toMatchObject(defaults);
    const written = {
      tcpSynRetries: 2,
      tcpSynLinearTimeouts: 0,
      tcpRetries2: 3,
      tcpOrphanRetries: 1,
      tcpNotsentLowat: 16384,
      tcpDsack: 0,
      tcpReflectTos: 1,
      tcpInvalidRatelimit: 100,
      icmpRatelimit: 8,
      icmpRatemask: -1,
      icmpMsgsPerSec: 0,
      icmpMsgsBurst: 7,
    } as const;
    for (const [key, value] of Object.entries(written))
      expect(net.setSysctl?.({ key: key as keyof typeof written, value })).toBeUndefined();
    expect(net.sysctl?.()).toMatchObject(written);
  });

  it('net.ipv4 ip_local_reserved_ports and ip_autobind_reuse reach the ephemeral searches', async () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    expect(net.sysctl?.()).toMatchObject({ ipLocalReservedPorts: new Set(), ipAutobindReuse: 0 });
    expect(net.setSysctl?.({ key: 'ipLocalPortRange', value: [40000, 40001] })).toBeUndefined();
    expect(net.setSysctl?.({ key: 'ipLocalReservedPorts', value: new Set([40001]) })).toBeUndefined();
    expect(net.setSysctl?.({ key: 'ipAutobindReuse', value: 1 })).toBeUndefined();
    expect(net.sysctl?.()).toMatchObject({ ipLocalReservedPorts: new Set([40001]), ipAutobindReuse: 1 });
    // Two SO_REUSEADDR sockets bind(2) port 0 on 127.0.0.1: both get 40000, the one port left
    // (the second shares it under ip_autobind_reuse).
    const SOL_SOCKET = 1;
    const SO_REUSEADDR = 2;
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      h.mem.write(ADDR + 0x40, Uint8Array.of(1, 0, 0, 0));
      const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
      expect(await h.call('setsockopt', fd, SOL_SOCKET, SO_REUSEADDR, ADDR + 0x40, 4)).toBe(0);
      h.mem.write(ADDR, Uint8Array.of(AF_INET, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0));
      expect(await h.call('bind', fd, ADDR, 16)).toBe(0);
      h.mem.write(ADDR + 0x20, Uint8Array.of(16, 0, 0, 0));
      expect(await h.call('getsockname', fd, ADDR, ADDR + 0x20)).toBe(0);
      const b = h.mem.read(ADDR + 2, 2) as Uint8Array;
      ports.push((b[0]! << 8) | b[1]!);
    }
    expect(ports).toEqual([40000, 40000]);
  });

  it('sockstat counts the sockets of the namespace by protocol and family', async () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    expect(net.sockstat?.()).toMatchObject({ used: 0, tcpInuse: 0, tcpAlloc: 0, udpInuse: 0, fragInuse: 0 });
    const lo4 = (port: number): number[] => [
      AF_INET,
      0,
      port >> 8,
      port & 255,
      127,
      0,
      0,
      1,
      ...new Array<number>(8).fill(0),
    ];
    const l = await bound(h, AF_INET, SOCK_STREAM, lo4(8200));
    expect(await h.call('listen', l, 4)).toBe(0);
    const c = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(ADDR, new Uint8Array(lo4(8200)));
    expect(await h.call('connect', c, ADDR, 16)).toBe(0);
    // The server's side waits for accept: a socket of the namespace, not an orphan.
    expect(net.sockstat?.()).toMatchObject({ used: 3, tcpInuse: 3, tcpOrphan: 0, tcpAlloc: 3 });
    const a = (await h.call('accept', l, 0, 0)) as number;
    expect(a).toBeGreaterThanOrEqual(0);
    // Unbound: allocated, not in a hash.
    expect(await h.call('socket', AF_INET6, SOCK_STREAM, 0)).toBeGreaterThanOrEqual(0);
    await bound(h, AF_INET, SOCK_DGRAM, lo4(5400));
    const IPPROTO_UDPLITE = 136;
    const lite = (await h.call('socket', AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE)) as number;
    h.mem.write(ADDR, new Uint8Array([AF_INET6, 0, 0x15, 0x19, ...new Array<number>(24).fill(0)]));
    expect(await h.call('bind', lite, ADDR, 28)).toBe(0);
    await bound(h, AF_UNIX, SOCK_STREAM, [AF_UNIX, 0, ...new TextEncoder().encode('/s'), 0]);
    expect(net.sockstat?.()).toEqual({
      used: 7,
      tcpInuse: 3,
      tcpOrphan: 0,
      tcpTimeWait: 0,
      tcpAlloc: 4,
      tcpMem: 0,
      udpInuse: 1,
      udpMem: 0,
      udpliteInuse: 0,
      rawInuse: 0,
      fragInuse: 0,
      fragMemory: 0,
      tcp6Inuse: 0,
      udp6Inuse: 0,
      udplite6Inuse: 1,
      raw6Inuse: 0,
      frag6Inuse: 0,
      frag6Memory: 0,
    });
    expect(net.udplite6?.()).toMatchObject([{ local: { port: 5401 } }]);
    expect(net.udp6()).toEqual([]);
    // Unread bytes are charged in pages.
    h.mem.write(ADDR, new Uint8Array(5000).fill(1));
    expect(await h.call('write', c, ADDR, 5000)).toBe(5000);
    expect(net.sockstat?.().tcpMem).toBe(2);
    // Read (closing over unread bytes would reset the connection instead).
    expect(await h.call('read', a, ADDR, 5000)).toBe(5000);
    // The client closes first and then the server: the client's side stays in TIME_WAIT, no
    // longer a socket of the application.
    expect(await h.call('close', c)).toBe(0);
    expect(await h.call('close', a)).toBe(0);
    const after = net.sockstat?.();
    expect(after).toMatchObject({
      used: 5,
      tcpInuse: 1,
      tcpTimeWait: 1,
      tcpOrphan: 0,
      tcpAlloc: 2,
      tcpMem: 0,
    });
  });

  it('icmp and icmp6 list ping sockets once they have an identifier, with their inodes', async () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    // Root's group 0 in net.ipv4.ping_group_range, which lets nobody in by default.
    expect(net.setSysctl?.({ key: 'pingGroupRange', value: [0, 0] })).toBeUndefined();
    const IPPROTO_ICMP = 1;
    const IPPROTO_ICMPV6 = 58;
    const p = (await h.call('socket', AF_INET, SOCK_DGRAM, IPPROTO_ICMP)) as number;
    expect(p).toBeGreaterThanOrEqual(0);
    expect(net.icmp?.()).toEqual([]); // no identifier yet
    h.mem.write(ADDR, new Uint8Array([AF_INET, 0, 0x12, 0x34, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(await h.call('bind', p, ADDR, 16)).toBe(0);
    expect(net.icmp?.()).toMatchObject([{ state: 7, local: { port: 0x1234 }, inode: await inode(h, p) }]);
    const p6 = await bound(h, AF_INET6, SOCK_DGRAM, [
      AF_INET6,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...new Array<number>(16).fill(0),
      0,
      0,
      0,
      0,
    ]);
    expect(net.icmp6?.()).toEqual([]);
    expect(await h.call('close', p6)).toBe(0);
    const q6 = (await h.call('socket', AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6)) as number;
    h.mem.write(ADDR, new Uint8Array([AF_INET6, 0, 0, 7, ...new Array<number>(24).fill(0)]));
    expect(await h.call('bind', q6, ADDR, 28)).toBe(0);
    expect(net.icmp6?.()).toMatchObject([{ local: { port: 7 }, inode: await inode(h, q6) }]);
    expect(net.udp6()).toEqual([]);
    expect(net.sockstat?.()).toMatchObject({ used: 2, udpInuse: 0, udp6Inuse: 0, rawInuse: 0 });
    expect(await h.call('close', p)).toBe(0);
    expect(net.icmp?.()).toEqual([]);
  });

  it('netlink lists the kernel rtnetlink socket and the bound netlink sockets', async () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    const AF_NETLINK = 16;
    const SOCK_RAW = 3;
    const kernel = {
      protocol: 0,
      portid: 0,
      groups: 0,
      rmem: 0,
      wmem: 0,
      dump: 0,
      refCount: 2,
      drops: 0,
      inode: 0,
    };
    // The kernel's rtnetlink and sock_diag sockets, protocol by protocol.
    const diagKernel = { ...kernel, protocol: 4 };
    expect(net.netlink?.()).toEqual([kernel, diagKernel]);
    const unbound = (await h.call('socket', AF_NETLINK, SOCK_RAW, 0)) as number;
    expect(unbound).toBeGreaterThanOrEqual(0);
    const s = await bound(h, AF_NETLINK, SOCK_RAW, [AF_NETLINK, 0, 0, 0, 0x39, 0x30, 0, 0, 1, 0, 0, 0]);
    const d = await bound(h, AF_NETLINK, SOCK_RAW, [AF_NETLINK, 0, 0, 0, 0x3a, 0x30, 0, 0, 0, 0, 0, 0], 4);
    expect(net.netlink?.()).toEqual([
      kernel,
      { ...kernel, portid: 12345, groups: 1, inode: await inode(h, s) },
      diagKernel,
      { ...diagKernel, portid: 12346, inode: await inode(h, d) },
    ]);
    // They count as sockets of the namespace; the kernel's do not.
    expect(net.sockstat?.().used).toBe(3);
  });

  it('ipv6_route holds the local route of ::1 in the local table', () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    const routes = net.ipv6Routes?.() ?? [];
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({
      table: 'local',
      prefixLen: 128,
      metric: 0,
      flags: 0x80200001,
      device: 'lo',
    });
    expect([...routes[0]!.destination]).toEqual([...new Array<number>(15).fill(0), 1]);
  });
});

/**
 * A stack on an Ethernet link (lo and eth0, with `ipv6LinkLocal` if asked) configured as the
 * sandbox's network of `h`, and the /proc/net source procfs reads it through.
 */
function ethernetSandbox(h: Harness, ipv6LinkLocal = false): { stack: Stack; net: ProcNetSource } {
  const stack = new Stack({
    device: linkPair({ medium: 'ethernet', mtu: 1500 })[0],
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    hardwareAddress: EthernetAddress.parse('02:00:00:00:00:01')!,
    ipv6LinkLocal,
  });
  const link = (index: number, name: string, type: number): LinkInfo => ({
    index,
    name,
    flags: IfFlag.IFF_UP,
    mtu: 1500,
    type,
    address: new Uint8Array(6),
    broadcast: new Uint8Array(6),
    addresses: [],
    gateways: [],
    stats: () => ({ rxPackets: 0, txPackets: 0 }),
  });
  configureNetwork(h.kernel, {
    stack,
    links: () => [link(1, 'lo', ARPHRD_LOOPBACK), link(2, 'eth0', 1)],
  });
  return { stack, net: procNetSource(h.kernel) };
}

describe('/proc/sys/net/ipv6 over the sandbox stack', () => {
  it("shows conf/all, default and each link's, and a write reaches the stack's DAD settings", () => {
    const h = harness();
    const { stack, net } = ethernetSandbox(h);
    const sysctl = stack.iface.ipv6Sysctl;
    const fresh = { dadTransmits: 1, enhancedDad: 1, hopLimit: 64, disableIpv6: 0 };
    expect(net.ipv6Sysctl?.()).toEqual({
      idgenRetries: 3,
      idgenDelay: 1,
      icmpEchoIgnoreAll: 0,
      icmpEchoIgnoreMulticast: 0,
      icmpEchoIgnoreAnycast: 0,
      icmpRatelimit: 100,
      icmpRatemask: defaultIcmp6Ratemask(),
      routeMtuExpires: 600,
      conf: {
        all: { ...fresh, mtu: 1280 },
        default: { ...fresh, mtu: 1280 },
        lo: { ...fresh, mtu: 65536 },
        eth0: { ...fresh, mtu: 1500 },
      },
    });
    expect(net.setIpv6Sysctl?.({ key: 'dadTransmits', conf: 'eth0', value: 4 })).toBeUndefined();
    expect(net.setIpv6Sysctl?.({ key: 'enhancedDad', conf: 'all', value: 0 })).toBeUndefined();
    expect(net.setIpv6Sysctl?.({ key: 'dadTransmits', conf: 'lo', value: 9 })).toBeUndefined();
    expect(net.setIpv6Sysctl?.({ key: 'idgenRetries', value: 0 })).toBeUndefined();
    expect(sysctl.conf.device).toMatchObject({ dadTransmits: 4, enhancedDad: 1 });
    expect(sysctl.conf.all).toMatchObject({ dadTransmits: 1, enhancedDad: 0 });
    expect(sysctl.conf.lo.dadTransmits).toBe(9);
    expect(sysctl.idgenRetries).toBe(0);
    expect(net.ipv6Sysctl?.().conf['eth0']).toMatchObject({ dadTransmits: 4, enhancedDad: 1 });
  });

  it('a write reaches the hop limit, the MTU and the switch of IPv6 of the link it names', () => {
    const h = harness();
    const { stack, net } = ethernetSandbox(h, true);
    const far = Ipv6Address.parse('2001:db8::1')!;
    expect(net.setIpv6Sysctl?.({ key: 'hopLimit', conf: 'eth0', value: 9 })).toBeUndefined();
    expect([stack.ipv6HopLimit(far), stack.ipv6HopLimit(Ipv6Address.LOOPBACK)]).toEqual([9, 64]);
    expect(net.setIpv6Sysctl?.({ key: 'mtu', conf: 'eth0', value: 1501 })).toBe(E.EINVAL);
    expect(net.setIpv6Sysctl?.({ key: 'mtu', conf: 'eth0', value: 1400 })).toBeUndefined();
    expect(stack.mtuFor(far)).toBe(1400);
    expect(net.setIpv6Sysctl?.({ key: 'disableIpv6', conf: 'lo', value: 1 })).toBeUndefined();
    expect(stack.isLocalAddress(Ipv6Address.LOOPBACK)).toBe(false);
    expect(net.setIpv6Sysctl?.({ key: 'disableIpv6', conf: 'all', value: 1 })).toBeUndefined();
    expect(stack.iface.ipv6Addresses()).toEqual([]);
    expect(net.setIpv6Sysctl?.({ key: 'icmpEchoIgnoreAll', value: 1 })).toBeUndefined();
    expect(net.setIpv6Sysctl?.({ key: 'icmpEchoIgnoreMulticast', value: 1 })).toBeUndefined();
    expect(net.setIpv6Sysctl?.({ key: 'icmpEchoIgnoreAnycast', value: 7 })).toBeUndefined();
    expect(net.setIpv6Sysctl?.({ key: 'routeMtuExpires', value: -5 })).toBeUndefined();
    expect(net.setIpv6Sysctl?.({ key: 'icmpRatelimit', value: 8 })).toBeUndefined();
    expect(net.setIpv6Sysctl?.({ key: 'icmpRatemask', value: new Set([1, 129]) })).toBeUndefined();
    expect(stack.iface.ipv6Sysctl).toMatchObject({
      icmpEchoIgnoreAll: 1,
      icmpEchoIgnoreMulticast: 1,
      icmpEchoIgnoreAnycast: 7,
      mtuExpires: -5,
      icmpRatelimit: 8,
      icmpRatemask: new Set([1, 129]),
    });
    expect(net.ipv6Sysctl?.()).toMatchObject({
      icmpEchoIgnoreAll: 1,
      icmpEchoIgnoreAnycast: 7,
      routeMtuExpires: -5,
      conf: { eth0: { hopLimit: 9, mtu: 1400, disableIpv6: 1 }, default: { disableIpv6: 1 } },
    });
    expect(net.setIpv6Sysctl?.({ key: 'hopLimit', conf: 'eth9', value: 9 })).toBe(E.ENOENT);
  });
});
