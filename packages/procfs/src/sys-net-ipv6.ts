/**
 * /proc/sys/net/ipv6: the IPv6 sysctls of the reader's network namespace that its stack applies
 * to address configuration (net/ipv6/sysctl_net_ipv6.c and addrconf.c's per-device table):
 * idgen_retries and idgen_delay, and in conf/{all,default,<dev>} dad_transmits and enhanced_dad.
 * They are read from and written to {@link ProcNetSource.ipv6Sysctl}; without one, Linux's
 * defaults, and writes are kept by the mount. Like /proc/sys/net/ipv4, a namespace the reader
 * does not own shows the overflow owner and refuses writes (see sys-net-ipv4.ts).
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import { byteString, dir } from './kernfs.js';
import type { DirNode, FileNode } from './kernfs.js';
import type { ProcNetSource } from './net.js';
import { JIFFIES_SECONDS_MAX, netSysctlDir, parseIntVector } from './sys-net-ipv4.js';

/** The net.ipv6.conf.<name> values of one `conf` directory. */
export interface ProcNetIpv6Conf {
  /** dad_transmits: DAD's neighbor solicitations per address (Linux: 1). */
  readonly dadTransmits: number;
  /** enhanced_dad: DAD solicitations carry a nonce, RFC 7527 (Linux: 1). */
  readonly enhancedDad: number;
}

/** The net.ipv6 sysctls a network namespace applies to address configuration. */
export interface ProcNetIpv6Sysctl {
  /** idgen_retries: stable addresses formed again after DAD conflicts (Linux: 3). */
  readonly idgenRetries: number;
  /** idgen_delay in seconds: from a conflict to the next stable address's DAD (Linux: 1). */
  readonly idgenDelay: number;
  /** conf/<name>: `all`, `default`, and one per device of the namespace, by its name. */
  readonly conf: Readonly<Record<string, ProcNetIpv6Conf>>;
}

/** A write to a net.ipv6 sysctl, parsed and checked by procfs. */
export type ProcNetIpv6SysctlWrite =
  | { readonly key: 'idgenRetries' | 'idgenDelay'; readonly value: number }
  | { readonly key: 'dadTransmits' | 'enhancedDad'; readonly conf: string; readonly value: number };

/** Linux's values in a fresh namespace (every conf directory alike). */
const DEFAULT_CONF: ProcNetIpv6Conf = { dadTransmits: 1, enhancedDad: 1 };
const DEFAULT_IDGEN = { idgenRetries: 3, idgenDelay: 1 };

/**
 * A proc_dointvec value (or proc_dointvec_jiffies in seconds when `jiffies`): one int, negative
 * allowed; a jiffies one at most INT_MAX / HZ either way. Null: EINVAL.
 */
function parseInt32(text: string, current: number, jiffies: boolean): number | null {
  const v = parseIntVector(text, [current]);
  if (v === null || v[0] === undefined) return null;
  return jiffies && Math.abs(v[0]) > JIFFIES_SECONDS_MAX ? null : v[0];
}

/** The tree of /proc/sys/net/ipv6 over the reader's namespace `net()` (null: defaults). */
export function netIpv6Tree(net: () => ProcNetSource | null): DirNode {
  /** Values written through this mount when the namespace cannot store them. */
  let local: { idgenRetries: number; idgenDelay: number; conf: Record<string, ProcNetIpv6Conf> } = {
    ...DEFAULT_IDGEN,
    conf: {},
  };
  const get = (): ProcNetIpv6Sysctl => net()?.ipv6Sysctl?.() ?? local;
  const set = (w: ProcNetIpv6SysctlWrite): LinuxError | undefined => {
    const n = net();
    if (n?.setIpv6Sysctl !== undefined) return n.setIpv6Sysctl(w);
    if (!('conf' in w)) local = { ...local, [w.key]: w.value };
    else {
      const was = local.conf[w.conf] ?? DEFAULT_CONF;
      local = { ...local, conf: { ...local.conf, [w.conf]: { ...was, [w.key]: w.value } } };
    }
    return undefined;
  };
  /** A 0644 int sysctl; writes past offset 0 are ignored (sysctl_writes_strict). */
  const int = (
    read: () => number,
    write: (value: number) => ProcNetIpv6SysctlWrite,
    jiffies = false,
  ): FileNode => ({
    kind: 'file',
    mode: 0o644,
    strictWrite: true,
    read: () => `${read()}\n`,
    write: (data, offset) => {
      if (offset !== 0) return data.length;
      const v = parseInt32(byteString(data), read(), jiffies);
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
  const confOf = (name: string): ProcNetIpv6Conf => get().conf[name] ?? DEFAULT_CONF;
  const confDir = (name: string): DirNode => ({
    ...netSysctlDir(net, {
      dad_transmits: int(
        () => confOf(name).dadTransmits,
        (value) => ({ key: 'dadTransmits', conf: name, value }),
      ),
      enhanced_dad: int(
        () => confOf(name).enhancedDad,
        (value) => ({ key: 'enhancedDad', conf: name, value }),
      ),
    }),
    valid: () => confNames().includes(name),
  });
  const top = netSysctlDir(net, {
    idgen_delay: int(
      () => get().idgenDelay,
      (value) => ({ key: 'idgenDelay', value }),
      true,
    ),
    idgen_retries: int(
      () => get().idgenRetries,
      (value) => ({ key: 'idgenRetries', value }),
    ),
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
