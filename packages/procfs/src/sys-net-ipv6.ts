/**
 * /proc/sys/net/ipv6: the IPv6 sysctls of the reader's network namespace that its stack applies
 * (net/ipv6/sysctl_net_ipv6.c, route.c's ipv6_route_table_template, icmp.c's
 * ipv6_icmp_table_template and addrconf.c's per-device table): idgen_retries and idgen_delay,
 * icmp/echo_ignore_all, echo_ignore_anycast, echo_ignore_multicast, ratelimit and ratemask,
 * route/mtu_expires, and in conf/{all,default,<dev>} dad_transmits, disable_ipv6, enhanced_dad,
 * hop_limit and mtu. They are
 * read from and written to {@link ProcNetSource.ipv6Sysctl}; without one, Linux's defaults, and
 * writes are kept by the mount. Like /proc/sys/net/ipv4, a namespace the reader does not own
 * (the host's, in network mode `host`) shows the overflow owner and refuses writes (see
 * sys-net-ipv4.ts).
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import { byteString, dir } from './kernfs.js';
import type { DirNode, FileNode } from './kernfs.js';
import type { ProcNetSource } from './net.js';
import {
  formatReservedPorts,
  JIFFIES_SECONDS_MAX,
  netSysctlDir,
  parseIntVector,
  parseMsJiffies,
  parseReservedPorts,
} from './sys-net-ipv4.js';

/** The net.ipv6.conf.<name> values of one `conf` directory. */
export interface ProcNetIpv6Conf {
  /** dad_transmits: DAD's neighbor solicitations per address (Linux: 1). */
  readonly dadTransmits: number;
  /** enhanced_dad: DAD solicitations carry a nonce, RFC 7527 (Linux: 1). */
  readonly enhancedDad: number;
  /** hop_limit: of packets from sockets without IPV6_UNICAST_HOPS (Linux: 64, 1..255). */
  readonly hopLimit: number;
  /** mtu: the link's IPv6 MTU (Linux: the link's MTU; `all` and `default` 1280). */
  readonly mtu: number;
  /** disable_ipv6: not 0 takes IPv6 off the link (Linux: 0). */
  readonly disableIpv6: number;
}

/** The net.ipv6 sysctls a network namespace applies to address configuration. */
export interface ProcNetIpv6Sysctl {
  /** idgen_retries: stable addresses formed again after DAD conflicts (Linux: 3). */
  readonly idgenRetries: number;
  /** idgen_delay in seconds: from a conflict to the next stable address's DAD (Linux: 1). */
  readonly idgenDelay: number;
  /** icmp/echo_ignore_all: no ICMPv6 echo request is answered (Linux: 0). */
  readonly icmpEchoIgnoreAll: number;
  /** icmp/echo_ignore_multicast: no echo request to a multicast group is answered (Linux: 0). */
  readonly icmpEchoIgnoreMulticast: number;
  /**
   * icmp/echo_ignore_anycast: no echo request to an anycast address of the host is answered.
   * Absent: 0, Linux's default.
   */
  readonly icmpEchoIgnoreAnycast?: number;
  /**
   * icmp/ratelimit (ms, whole jiffies): the interval of the per-destination ICMPv6 limit, 0
   * none. Absent: 100, Linux 6.18's default.
   */
  readonly icmpRatelimit?: number;
  /** icmp/ratemask: the ICMPv6 types (0-255) rate limited. Absent: 0-1,3-127, Linux's default. */
  readonly icmpRatemask?: ReadonlySet<number>;
  /** route/mtu_expires in seconds: how long a learnt path MTU lasts (Linux: 600). */
  readonly routeMtuExpires: number;
  /** conf/<name>: `all`, `default`, and one per device of the namespace, by its name. */
  readonly conf: Readonly<Record<string, ProcNetIpv6Conf>>;
}

/** A write to a net.ipv6 sysctl, parsed and checked by procfs. */
export type ProcNetIpv6SysctlWrite =
  | {
      readonly key:
        | 'idgenRetries'
        | 'idgenDelay'
        | 'icmpEchoIgnoreAll'
        | 'icmpEchoIgnoreMulticast'
        | 'icmpEchoIgnoreAnycast'
        | 'icmpRatelimit'
        | 'routeMtuExpires';
      readonly value: number;
    }
  | { readonly key: 'icmpRatemask'; readonly value: ReadonlySet<number> }
  | {
      readonly key: 'dadTransmits' | 'enhancedDad' | 'hopLimit' | 'mtu' | 'disableIpv6';
      readonly conf: string;
      readonly value: number;
    };

/** ICMPv6 types run from 0 to ICMPV6_MSG_MAX (255): the ratemask's bits. */
const ICMPV6_TYPES = 256;
/** Linux's net.ipv6.icmp.ratemask: every type up to 127 but packet too big (2). */
const DEFAULT_RATEMASK: ReadonlySet<number> = new Set(
  Array.from({ length: 128 }, (_, t) => t).filter((t) => t !== 2),
);

/** IPV6_MIN_MTU: no conf directory's mtu may go below it. */
const IPV6_MIN_MTU = 1280;
/** Linux's values in a fresh namespace (every conf directory alike but for a link's mtu). */
const DEFAULT_CONF: ProcNetIpv6Conf = {
  dadTransmits: 1,
  enhancedDad: 1,
  hopLimit: 64,
  mtu: IPV6_MIN_MTU,
  disableIpv6: 0,
};
const DEFAULT_TOP = {
  idgenRetries: 3,
  idgenDelay: 1,
  icmpEchoIgnoreAll: 0,
  icmpEchoIgnoreMulticast: 0,
  routeMtuExpires: 600,
};

/** How a file's writes are checked beyond being one int. */
interface IntRange {
  /** proc_dointvec_jiffies in seconds: |value| at most INT_MAX / HZ. */
  readonly jiffies?: boolean;
  /** proc_dointvec_minmax's (or proc_dou8vec_minmax's) bounds, inclusive; absent: none. */
  readonly min?: number;
  readonly max?: () => number | undefined;
}

/**
 * A proc_dointvec value (or proc_dointvec_jiffies, proc_dointvec_minmax as `range` says): one
 * int, negative allowed. Null: EINVAL.
 */
function parseInt32(text: string, current: number, range: IntRange): number | null {
  const v = parseIntVector(text, [current])?.[0];
  if (v === undefined) return null;
  if (range.jiffies === true && Math.abs(v) > JIFFIES_SECONDS_MAX) return null;
  const max = range.max?.();
  if ((range.min !== undefined && v < range.min) || (max !== undefined && v > max)) return null;
  return v;
}

/** The tree of /proc/sys/net/ipv6 over the reader's namespace `net()` (null: defaults). */
export function netIpv6Tree(net: () => ProcNetSource | null): DirNode {
  /** Values written through this mount when the namespace cannot store them. */
  let local: ProcNetIpv6Sysctl = { ...DEFAULT_TOP, conf: {} };
  const get = (): ProcNetIpv6Sysctl => net()?.ipv6Sysctl?.() ?? local;
  const set = (w: ProcNetIpv6SysctlWrite): LinuxError | undefined => {
    const n = net();
    if (n?.setIpv6Sysctl !== undefined) return n.setIpv6Sysctl(w);
    if (!('conf' in w)) local = { ...local, [w.key]: w.value } as ProcNetIpv6Sysctl;
    else {
      const was = local.conf[w.conf] ?? defaultConf(w.conf);
      local = { ...local, conf: { ...local.conf, [w.conf]: { ...was, [w.key]: w.value } } };
    }
    return undefined;
  };
  /** A 0644 int sysctl; writes past offset 0 are ignored (sysctl_writes_strict). */
  const int = (
    read: () => number,
    write: (value: number) => ProcNetIpv6SysctlWrite,
    range: IntRange = {},
  ): FileNode => ({
    kind: 'file',
    mode: 0o644,
    strictWrite: true,
    read: () => `${read()}\n`,
    write: (data, offset) => {
      if (offset !== 0) return data.length;
      const v = parseInt32(byteString(data), read(), range);
      if (v === null) return E.EINVAL;
      const r = set(write(v));
      return isError(r) ? r : data.length;
    },
  });
  /** The conf directories: `all`, `default` and the namespace's devices, sorted as Linux's rbtree lists them. */
  const confNames = (): string[] => {
    const devices =
      net()
        ?.devices()
        .map((d) => d.name) ?? [];
    return [...new Set(['all', 'default', ...devices])].sort();
  };
  /** A device's MTU (undefined for `all`, `default`, or a device that went away). */
  const linkMtu = (name: string): number | undefined =>
    net()
      ?.devices()
      .find((d) => d.name === name)?.mtu;
  /** What a conf directory holds before any write: a link's mtu is its MTU (ipv6_add_dev). */
  const defaultConf = (name: string): ProcNetIpv6Conf => ({
    ...DEFAULT_CONF,
    mtu: linkMtu(name) ?? IPV6_MIN_MTU,
  });
  const confOf = (name: string): ProcNetIpv6Conf => get().conf[name] ?? defaultConf(name);
  const confInt = (
    name: string,
    key: 'dadTransmits' | 'enhancedDad' | 'hopLimit' | 'mtu' | 'disableIpv6',
    range?: IntRange,
  ): FileNode =>
    int(
      () => confOf(name)[key],
      (value) => ({ key, conf: name, value }),
      range,
    );
  const confDir = (name: string): DirNode => ({
    ...netSysctlDir(net, {
      dad_transmits: confInt(name, 'dadTransmits'),
      // addrconf_sysctl_disable: proc_dointvec, any int; what is not 0 disables.
      disable_ipv6: confInt(name, 'disableIpv6'),
      enhanced_dad: confInt(name, 'enhancedDad'),
      hop_limit: confInt(name, 'hopLimit', { min: 1, max: () => 255 }),
      // addrconf_sysctl_mtu: from IPV6_MIN_MTU to the device's MTU (`all` and `default` unbounded).
      mtu: confInt(name, 'mtu', { min: IPV6_MIN_MTU, max: () => linkMtu(name) }),
    }),
    valid: () => confNames().includes(name),
  });
  const top = netSysctlDir(net, {
    // ipv6_icmp_table_template: proc_dou8vec_minmax without bounds of its own.
    icmp: netSysctlDir(net, {
      echo_ignore_all: int(
        () => get().icmpEchoIgnoreAll,
        (value) => ({ key: 'icmpEchoIgnoreAll', value }),
        { min: 0, max: () => 255 },
      ),
      echo_ignore_anycast: int(
        () => get().icmpEchoIgnoreAnycast ?? 0,
        (value) => ({ key: 'icmpEchoIgnoreAnycast', value }),
        { min: 0, max: () => 255 },
      ),
      echo_ignore_multicast: int(
        () => get().icmpEchoIgnoreMulticast,
        (value) => ({ key: 'icmpEchoIgnoreMulticast', value }),
        { min: 0, max: () => 255 },
      ),
      // proc_dointvec_ms_jiffies, as net.ipv4.icmp_ratelimit.
      ratelimit: {
        kind: 'file',
        mode: 0o644,
        strictWrite: true,
        read: () => `${get().icmpRatelimit ?? 100}\n`,
        write: (data, offset) => {
          if (offset !== 0) return data.length;
          const v = parseMsJiffies(byteString(data));
          if (v === null) return E.EINVAL;
          const r = set({ key: 'icmpRatelimit', value: v });
          return isError(r) ? r : data.length;
        },
      },
      // proc_do_large_bitmap over the 256 types, as ip_local_reserved_ports over the ports: a
      // write past offset 0 adds to the set.
      ratemask: {
        kind: 'file',
        mode: 0o644,
        strictWrite: true,
        read: () => formatReservedPorts(get().icmpRatemask ?? DEFAULT_RATEMASK),
        write: (data, offset) => {
          if (data.length === 0) return 0;
          const got = parseReservedPorts(byteString(data), ICMPV6_TYPES);
          if (isError(got)) return got;
          const types =
            offset === 0 ? got.ports : new Set([...(get().icmpRatemask ?? DEFAULT_RATEMASK), ...got.ports]);
          const r = set({ key: 'icmpRatemask', value: types });
          return isError(r) ? r : got.consumed;
        },
      },
    }),
    idgen_delay: int(
      () => get().idgenDelay,
      (value) => ({ key: 'idgenDelay', value }),
      { jiffies: true },
    ),
    idgen_retries: int(
      () => get().idgenRetries,
      (value) => ({ key: 'idgenRetries', value }),
    ),
    // ipv6_route_table_template's entry that path MTU discovery reads.
    route: netSysctlDir(net, {
      mtu_expires: int(
        () => get().routeMtuExpires,
        (value) => ({ key: 'routeMtuExpires', value }),
        { jiffies: true },
      ),
    }),
  });
  const conf: DirNode = {
    ...dir({}),
    ...(top.attrs ? { attrs: top.attrs } : {}),
    dynamic: {
      kind: 'dir',
      list: confNames,
      lookup: (name) => (confNames().includes(name) ? confDir(name) : null),
    },
  };
  return { ...top, entries: { conf, ...top.entries } };
}
