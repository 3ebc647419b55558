/**
 * Network mode `host`: the sandbox's AF_INET/AF_INET6 sockets are host sockets of the supervisor
 * (see @tsvisor/syscalls' sys-socket-host.ts), and rtnetlink, getifaddrs and the interface
 * ioctls show the host's interfaces, read-only.
 *
 * The interfaces are read from the host's own descriptions rather than by running `ip -j addr`
 * (iproute2 may be missing, its JSON differs across versions, and a process per query is slow):
 * the addresses from getifaddrs (Node's `os.networkInterfaces()`), and everything else a link
 * has (ifindex, flags, MTU, type, hardware addresses, counters) from `/sys/class/net/<name>/`,
 * default gateways from `/proc/net/route` and `/proc/net/ipv6_route`. Each netlink request reads
 * them afresh, so the sandbox sees the host as it is now. Nothing the sandbox sends changes the
 * host's interfaces: netlink stays the sandbox's own (RTM_NEW* and RTM_DEL* are refused there).
 *
 * @module
 */
import type { Kernel } from '@tsvisor/kernel';
import { IpCidr, LoopbackDevice, Stack, cidr, parseIpAddress, type IpAddress } from '@tsvisor/netstack';
import type { ProcNetIpv6Conf, ProcNetIpv6Sysctl, ProcNetSysctl } from '@tsvisor/procfs';
import { IfFlag, configureHostNetwork, configureNetwork, type LinkInfo } from '@tsvisor/syscalls';
import { hostSockets } from '@tsvisor/trap-native';
import { readFileSync, readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

function sysValue(name: string, attr: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${name}/${attr}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function sysNumber(name: string, attr: string): number {
  const v = sysValue(name, attr);
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : 0;
}

function hwAddress(text: string | undefined): Uint8Array {
  if (!text) return new Uint8Array(0);
  const parts = text.split(':');
  if (!parts.every((p) => /^[0-9a-f]{2}$/i.test(p))) return new Uint8Array(0);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** Default gateways per interface name, from the host's routing tables. */
function defaultGateways(): Map<string, IpAddress[]> {
  const out = new Map<string, IpAddress[]>();
  const add = (dev: string, a: IpAddress | undefined): void => {
    if (!a) return;
    const list = out.get(dev) ?? [];
    list.push(a);
    out.set(dev, list);
  };
  try {
    // Iface Destination Gateway ...: hex, in the host's (little-endian) byte order.
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 3 || f[1] !== '00000000' || f[2] === '00000000') continue;
      const g = parseInt(f[2] ?? '', 16);
      add(f[0] ?? '', parseIpAddress([g & 255, (g >>> 8) & 255, (g >>> 16) & 255, g >>> 24].join('.')));
    }
  } catch {
    // No IPv4 routing table (no IPv4 on the host).
  }
  try {
    // dest plen src splen nexthop metric refcnt use flags dev
    for (const line of readFileSync('/proc/net/ipv6_route', 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !/^0{32}$/.test(f[0] ?? '') || f[1] !== '00' || /^0{32}$/.test(f[4] ?? ''))
        continue;
      const hex = f[4] ?? '';
      add(f[9] ?? '', parseIpAddress(hex.match(/.{4}/g)?.join(':') ?? ''));
    }
  } catch {
    // No IPv6.
  }
  return out;
}

const IFF_RUNNING_LOWER_UP = IfFlag.IFF_RUNNING | IfFlag.IFF_LOWER_UP;

/** The host's network interfaces as rtnetlink describes them, read now. */
export function hostLinks(): LinkInfo[] {
  let names: string[];
  try {
    names = readdirSync('/sys/class/net');
  } catch {
    names = [];
  }
  const addrs = networkInterfaces();
  const gateways = defaultGateways();
  const links: LinkInfo[] = [];
  for (const name of names) {
    const index = sysNumber(name, 'ifindex');
    if (index <= 0) continue;
    let flags = parseInt(sysValue(name, 'flags') ?? '0', 16) || 0;
    // sysfs shows dev->flags; the operational bits come from the carrier, as dev_get_flags adds them.
    if ((flags & IfFlag.IFF_UP) !== 0 && sysValue(name, 'carrier') === '1') flags |= IFF_RUNNING_LOWER_UP;
    const addresses: IpCidr[] = [];
    for (const a of addrs[name] ?? []) {
      const c = a.cidr ? IpCidr.parse(a.cidr) : undefined;
      if (c) addresses.push(c);
    }
    links.push({
      index,
      name,
      flags,
      mtu: sysNumber(name, 'mtu'),
      type: sysNumber(name, 'type'),
      address: hwAddress(sysValue(name, 'address')),
      broadcast: hwAddress(sysValue(name, 'broadcast')),
      addresses,
      gateways: gateways.get(name) ?? [],
      stats: () => ({
        rxPackets: sysNumber(name, 'statistics/rx_packets'),
        txPackets: sysNumber(name, 'statistics/tx_packets'),
        rxBytes: sysNumber(name, 'statistics/rx_bytes'),
        txBytes: sysNumber(name, 'statistics/tx_bytes'),
        rxErrors: sysNumber(name, 'statistics/rx_errors'),
        txErrors: sysNumber(name, 'statistics/tx_errors'),
        rxDropped: sysNumber(name, 'statistics/rx_dropped'),
        txDropped: sysNumber(name, 'statistics/tx_dropped'),
        multicast: sysNumber(name, 'statistics/multicast'),
      }),
    });
  }
  return links.sort((a, b) => a.index - b.index);
}

/** A list sysctl of /proc/sys/net/ipv4 (names separated by spaces), read now; empty if absent. */
function ipv4SysctlList(name: string): string[] {
  try {
    return readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** net.core.somaxconn of the host, read now (Linux's default, 4096, if hidden or malformed). */
function hostSomaxconn(): number {
  try {
    const v = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    return Number.isSafeInteger(v) ? v : 4096;
  } catch {
    return 4096;
  }
}

/** An int vector sysctl of /proc/sys/net/ipv4, read now; `fallback` when absent or malformed. */
function ipv4SysctlInts(name: string, fallback: readonly number[]): number[] {
  const v = ipv4SysctlList(name).map(Number);
  return v.length === fallback.length && v.every(Number.isSafeInteger) ? v : [...fallback];
}

/** The host's ip_local_reserved_ports (read back as `8080,9000-9010`), read now; none if absent. */
function hostReservedPorts(): Set<number> {
  return bitmapList(ipv4SysctlList('ip_local_reserved_ports').join(','), 65536);
}

/** A proc_do_large_bitmap list as Linux shows it (`0-1,3-127`): its numbers below `size`. */
function bitmapList(text: string, size: number): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (m === null) continue;
    for (let p = Number(m[1]); p <= Number(m[2] ?? m[1]) && p < size; p++) out.add(p);
  }
  return out;
}

/**
 * The host's net.ipv4 sysctls and net.core.somaxconn that its sockets (the sandbox's, in network
 * mode `host`) follow (listen(2) clamps its backlog to the host's somaxconn), read now, for the
 * sandbox's /proc/sys/net; Linux's defaults for any the host hides.
 */
export function hostNetSysctl(): ProcNetSysctl {
  const [pingLow = 1, pingHigh = 0] = ipv4SysctlInts('ping_group_range', [1, 0]);
  const one = (name: string, fallback: number): number => ipv4SysctlInts(name, [fallback])[0] ?? fallback;
  const [low = 32768, high = 60999] = ipv4SysctlInts('ip_local_port_range', [32768, 60999]);
  const available = ipv4SysctlList('tcp_available_congestion_control');
  const allowed = ipv4SysctlList('tcp_allowed_congestion_control');
  return {
    ipLocalPortRange: [low, high],
    ipLocalReservedPorts: hostReservedPorts(),
    ipAutobindReuse: one('ip_autobind_reuse', 0),
    icmpEchoIgnoreAll: one('icmp_echo_ignore_all', 0),
    icmpEchoIgnoreBroadcasts: one('icmp_echo_ignore_broadcasts', 1),
    icmpRatelimit: one('icmp_ratelimit', 1000),
    icmpRatemask: one('icmp_ratemask', 0x1818),
    icmpMsgsPerSec: one('icmp_msgs_per_sec', 1000),
    icmpMsgsBurst: one('icmp_msgs_burst', 50),
    ipDefaultTtl: one('ip_default_ttl', 64),
    ipNoPmtuDisc: one('ip_no_pmtu_disc', 0),
    routeMinPmtu: one('route/min_pmtu', 552),
    routeMtuExpires: one('route/mtu_expires', 600),
    tcpCongestionControl: ipv4SysctlList('tcp_congestion_control')[0] ?? 'cubic',
    tcpAvailableCongestionControl: available.length > 0 ? available : ['reno', 'cubic'],
    ...(allowed.length > 0 ? { tcpAllowedCongestionControl: allowed } : {}),
    tcpSack: one('tcp_sack', 1),
    tcpTimestamps: one('tcp_timestamps', 1),
    tcpKeepaliveTime: one('tcp_keepalive_time', 7200),
    tcpKeepaliveIntvl: one('tcp_keepalive_intvl', 75),
    tcpKeepaliveProbes: one('tcp_keepalive_probes', 9),
    tcpFinTimeout: one('tcp_fin_timeout', 60),
    tcpFrto: one('tcp_frto', 2),
    tcpSyncookies: one('tcp_syncookies', 1),
    tcpMaxSynBacklog: one('tcp_max_syn_backlog', 128),
    tcpSynackRetries: one('tcp_synack_retries', 5),
    tcpAbortOnOverflow: one('tcp_abort_on_overflow', 0),
    tcpTwReuse: one('tcp_tw_reuse', 2),
    tcpRfc1337: one('tcp_rfc1337', 0),
    tcpEarlyRetrans: one('tcp_early_retrans', 3),
    tcpSynRetries: one('tcp_syn_retries', 6),
    tcpSynLinearTimeouts: one('tcp_syn_linear_timeouts', 4),
    tcpRetries2: one('tcp_retries2', 15),
    tcpOrphanRetries: one('tcp_orphan_retries', 0),
    tcpNotsentLowat: one('tcp_notsent_lowat', 0xffffffff),
    tcpDsack: one('tcp_dsack', 1),
    tcpInvalidRatelimit: one('tcp_invalid_ratelimit', 500),
    somaxconn: hostSomaxconn(),
    pingGroupRange: [pingLow, pingHigh],
  };
}

/** An int sysctl of /proc/sys/net/ipv6, read now; `fallback` when absent or malformed. */
function ipv6SysctlInt(name: string, fallback: number): number {
  try {
    const v = Number(readFileSync(`/proc/sys/net/ipv6/${name}`, 'utf8').trim());
    return Number.isSafeInteger(v) ? v : fallback;
  } catch {
    return fallback;
  }
}

/** The host's net.ipv6.icmp.ratemask, read now; nothing (procfs shows Linux's) if hidden. */
function hostIcmp6Ratemask(): { icmpRatemask?: Set<number> } {
  try {
    return { icmpRatemask: bitmapList(readFileSync('/proc/sys/net/ipv6/icmp/ratemask', 'utf8').trim(), 256) };
  } catch {
    return {};
  }
}

/**
 * The host's net.ipv6 sysctls that its sockets (the sandbox's, in network mode `host`) follow,
 * read now, with a conf directory for `all`, `default` and each host link, for the sandbox's
 * /proc/sys/net/ipv6; Linux's defaults for any the host hides (no conf directory of a link
 * without IPv6).
 */
export function hostIpv6Sysctl(): ProcNetIpv6Sysctl {
  let names: string[];
  try {
    names = readdirSync('/proc/sys/net/ipv6/conf');
  } catch {
    names = ['all', 'default'];
  }
  const conf: Record<string, ProcNetIpv6Conf> = {};
  for (const name of names) {
    const one = (key: string, fallback: number): number => ipv6SysctlInt(`conf/${name}/${key}`, fallback);
    conf[name] = {
      dadTransmits: one('dad_transmits', 1),
      enhancedDad: one('enhanced_dad', 1),
      hopLimit: one('hop_limit', 64),
      mtu: one('mtu', 1280),
      disableIpv6: one('disable_ipv6', 0),
    };
  }
  return {
    idgenRetries: ipv6SysctlInt('idgen_retries', 3),
    idgenDelay: ipv6SysctlInt('idgen_delay', 1),
    icmpEchoIgnoreAll: ipv6SysctlInt('icmp/echo_ignore_all', 0),
    icmpEchoIgnoreMulticast: ipv6SysctlInt('icmp/echo_ignore_multicast', 0),
    icmpEchoIgnoreAnycast: ipv6SysctlInt('icmp/echo_ignore_anycast', 0),
    icmpRatelimit: ipv6SysctlInt('icmp/ratelimit', 100),
    ...hostIcmp6Ratemask(),
    routeMtuExpires: ipv6SysctlInt('route/mtu_expires', 600),
    conf,
  };
}

/**
 * The host's /proc/net/tcp (family 4) or tcp6 (6), read now; undefined if the host hides it. The
 * sandbox's /proc/net takes from it only the connections the sandbox closed (@tsvisor/syscalls'
 * `closedHostEntries`).
 */
export function hostTcpTable(family: 4 | 6): string | undefined {
  try {
    return readFileSync(family === 4 ? '/proc/net/tcp' : '/proc/net/tcp6', 'latin1');
  } catch {
    return undefined;
  }
}

/** The host's TCP congestion control algorithms, loaded and allowed to unprivileged processes. */
export function hostCongestionControl(): { available: string[]; allowed: string[] } {
  return {
    available: ipv4SysctlList('tcp_available_congestion_control'),
    allowed: ipv4SysctlList('tcp_allowed_congestion_control'),
  };
}

/**
 * Puts `kernel` in network mode `host`: AF_INET/AF_INET6 sockets become host sockets, and the
 * sandbox's rtnetlink reports {@link hostLinks}. AF_UNIX stays the sandbox's own.
 */
export function enableHostNetwork(kernel: Kernel): void {
  configureHostNetwork(kernel, { ...hostSockets, congestionControl: hostCongestionControl });
  // The netstack stack stays for what is not a host socket; inet sockets never reach it.
  const stack = new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
  });
  configureNetwork(kernel, { stack, links: hostLinks });
}
