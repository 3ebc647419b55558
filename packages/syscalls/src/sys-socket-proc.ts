/**
 * /proc/net of a sandbox: a procfs `ProcNetSource` over the sandbox's network state, so
 * `cat /proc/net/tcp`, `ss`, `netstat` and /sys/class/net see the sandbox's sockets and
 * interfaces. Inet sockets come from netstack's `Stack.sockets()`, each matched to its open file
 * for the inode and owner uid (0 for a connection the application already closed, as Linux);
 * AF_UNIX sockets from the open socket files.
 *
 * @module
 */
import { isError } from '@tsvisor/abi';
import type { Kernel } from '@tsvisor/kernel';
import {
  CONGESTION_ALGORITHMS,
  Ipv6Address,
  UnixSocket,
  type CongestionAlgorithm,
  type IpEndpoint,
  type SocketEntry,
  type Stack,
} from '@tsvisor/netstack';
import type {
  ProcInet6Address,
  ProcInetSocket,
  ProcNetDevice,
  ProcNetSource,
  ProcNetSysctl,
  ProcNetSysctlWrite,
  ProcRoute,
  ProcSockAddr,
  ProcUnixSocket,
} from '@tsvisor/procfs';
import { netOf, type NetState } from './sys-socket-file.js';

const ANY4 = new Uint8Array(4);
const ANY6 = new Uint8Array(16);
/** __SO_ACCEPTCON: the flag /proc/net/unix shows on a listening socket. */
const SO_ACCEPTCON = 0x10000;
const SS_UNCONNECTED = 1;
const SS_CONNECTED = 3;
/** IPV6_ADDR_* scopes as /proc/net/if_inet6 prints them, and IFA_F_PERMANENT. */
const SCOPE_GLOBAL = 0x00;
const SCOPE_HOST = 0x10;
const SCOPE_LINK = 0x20;
const IFA_F_PERMANENT = 0x80;

/** The sandbox's /proc/net (pass as `KernelProcSourceOptions.net`). */
export function procNetSource(kernel: Kernel): ProcNetSource {
  const net = netOf(kernel);
  const inet = (protocol: 'tcp' | 'udp', family: 4 | 6): ProcInetSocket[] =>
    inetSockets(net, protocol, family);
  return {
    devices: () => devices(net),
    inet6Addresses: () => inet6Addresses(net),
    tcp: () => inet('tcp', 4),
    tcp6: () => inet('tcp', 6),
    udp: () => inet('udp', 4),
    udp6: () => inet('udp', 6),
    unix: () => unixSockets(net),
    routes: () => routes(net),
    sysctl: () => netSysctl(net.stack),
    setSysctl: (w) => setNetSysctl(net.stack, w),
  };
}

/** /proc/sys/net/ipv4 from the stack's settings for new sockets. */
function netSysctl(stack: Stack): ProcNetSysctl {
  const s = stack.sysctl;
  return {
    ipLocalPortRange: s.portRange,
    tcpCongestionControl: s.congestion,
    tcpAvailableCongestionControl: CONGESTION_ALGORITHMS,
    tcpSack: s.sack,
    tcpTimestamps: s.timestamps,
  };
}

/** A /proc/sys/net/ipv4 write (procfs checked it) applied to the stack's later sockets. */
function setNetSysctl(stack: Stack, w: ProcNetSysctlWrite): undefined {
  const s = stack.sysctl;
  switch (w.key) {
    case 'ipLocalPortRange':
      s.portRange = [w.value[0], w.value[1]];
      break;
    case 'tcpCongestionControl':
      // procfs accepted only names of tcpAvailableCongestionControl, CONGESTION_ALGORITHMS.
      s.congestion = w.value as CongestionAlgorithm;
      break;
    case 'tcpSack':
      s.sack = w.value;
      break;
    case 'tcpTimestamps':
      s.timestamps = w.value;
      break;
  }
  return undefined;
}

function devices(net: NetState): ProcNetDevice[] {
  return net.links().map((l) => {
    const st = l.stats();
    return {
      name: l.name,
      index: l.index,
      type: l.type,
      address: l.address,
      mtu: l.mtu,
      flags: l.flags,
      stats: { rxPackets: st.rxPackets, txPackets: st.txPackets },
    };
  });
}

function inet6Addresses(net: NetState): ProcInet6Address[] {
  const out: ProcInet6Address[] = [];
  for (const l of net.links())
    for (const c of l.addresses) {
      if (c.address.version !== 6) continue;
      const a = c.address;
      out.push({
        address: a.bytes,
        device: l.name,
        ifindex: l.index,
        prefixLen: c.prefixLen,
        scope: a.isLoopback() ? SCOPE_HOST : a.isLinkLocal() ? SCOPE_LINK : SCOPE_GLOBAL,
        flags: IFA_F_PERMANENT,
      });
    }
  return out;
}

/** IPv4 routes: one per IPv4 subnet of a non-loopback link, and a default route per gateway. */
function routes(net: NetState): ProcRoute[] {
  const out: ProcRoute[] = [];
  for (const l of net.links()) {
    if (l.name === 'lo') continue;
    for (const g of l.gateways)
      if (g.version === 4)
        out.push({ device: l.name, destination: ANY4, gateway: g.bytes, flags: 0x3, metric: 0, mask: ANY4 });
    for (const c of l.addresses) {
      if (c.address.version !== 4) continue;
      const mask = c.prefixLen === 0 ? 0 : (0xffffffff << (32 - c.prefixLen)) >>> 0;
      const m = new Uint8Array([mask >>> 24, (mask >>> 16) & 0xff, (mask >>> 8) & 0xff, mask & 0xff]);
      const dst = c.address.bytes.map((b, i) => b & m[i]!);
      out.push({ device: l.name, destination: dst, gateway: ANY4, flags: 0x1, metric: 0, mask: m });
    }
  }
  return out;
}

/**
 * The stack's sockets of one protocol and family. An IPv4 connection of a dual-stack AF_INET6
 * socket is listed in tcp6 with IPv4-mapped addresses, as Linux lists it.
 */
function inetSockets(net: NetState, protocol: 'tcp' | 'udp', family: 4 | 6): ProcInetSocket[] {
  if (!net.hasStack) return [];
  const out: ProcInetSocket[] = [];
  for (const e of net.stack.sockets()) {
    if (e.protocol !== protocol) continue;
    const file = e.owner ? net.fileOf.get(e.owner) : undefined;
    const ownerFamily = file && ownerIs6(file.sock) ? 6 : e.family;
    if (ownerFamily !== family) continue;
    out.push(entry(e, family, file?.inode ?? 0, file?.uid ?? 0));
  }
  return out;
}

function ownerIs6(sock: unknown): boolean {
  return (sock as { family?: unknown }).family === 6;
}

function entry(e: SocketEntry, family: 4 | 6, inode: number, uid: number): ProcInetSocket {
  return {
    local: addr(e.local, family),
    remote: addr(e.remote, family),
    state: e.state,
    txQueue: e.txQueue,
    rxQueue: e.rxQueue,
    uid,
    inode,
  };
}

function addr(ep: IpEndpoint | undefined, family: 4 | 6): ProcSockAddr {
  if (!ep) return { address: family === 4 ? ANY4 : ANY6, port: 0 };
  if (family === 6 && ep.addr.version === 4)
    return { address: Ipv6Address.mapped(ep.addr).bytes, port: ep.port };
  return { address: ep.addr.bytes, port: ep.port };
}

function unixSockets(net: NetState): ProcUnixSocket[] {
  const out: ProcUnixSocket[] = [];
  for (const f of net.open) {
    const s = f.sock;
    if (!(s instanceof UnixSocket)) continue;
    const a = s.address;
    const path =
      a?.kind === 'unix-path'
        ? Buffer.from(a.path).toString('latin1')
        : a?.kind === 'unix-abstract'
          ? `\0${Buffer.from(a.name).toString('latin1')}`
          : undefined;
    const connected = !s.listening && !isError(s.getpeername());
    out.push({
      refCount: 2,
      flags: s.listening ? SO_ACCEPTCON : 0,
      type: s.type,
      state: connected ? SS_CONNECTED : SS_UNCONNECTED,
      inode: f.inode,
      ...(path !== undefined ? { path } : {}),
    });
  }
  return out;
}
