/**
 * /sys/class/net and /sys/devices/virtual/net: one directory of attributes per network device
 * of a {@link ProcNetSource} (net/core/net-sysfs.c). The sandbox's devices are all virtual, so
 * each `class/net/<if>` is a symlink to `../../devices/virtual/net/<if>`, as Linux shows lo.
 *
 * @module
 */

import { E, type LinuxError } from '@tsvisor/abi';
import { dir } from './kernfs.js';
import type { DirNode, FileNode, TreeNode } from './kernfs.js';
import type { ProcNetDevice, ProcNetDeviceStats, ProcNetSource } from './net.js';

/** ARPHRD_LOOPBACK and ARPHRD_ETHER. */
const ARPHRD_LOOPBACK = 772;
const ARPHRD_ETHER = 1;

/** Whether `d` is a loopback device (its type says so, or it is `lo` with no type given). */
function isLoopback(d: ProcNetDevice): boolean {
  return (d.type ?? (d.name === 'lo' ? ARPHRD_LOOPBACK : ARPHRD_ETHER)) === ARPHRD_LOOPBACK;
}

/** A link-layer address as sysfs prints it: lower-case hex bytes joined by colons. */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The device attributes Linux fills in when a driver leaves them unset (see {@link ProcNetDevice}). */
export function deviceDefaults(d: ProcNetDevice): Required<Omit<ProcNetDevice, 'stats'>> {
  const lo = isLoopback(d);
  return {
    name: d.name,
    index: d.index,
    type: d.type ?? (lo ? ARPHRD_LOOPBACK : ARPHRD_ETHER),
    address: d.address ?? new Uint8Array(6),
    mtu: d.mtu ?? (lo ? 65536 : 1500),
    flags: d.flags ?? (lo ? 0x9 : 0x1003),
    operstate: d.operstate ?? (lo ? 'unknown' : 'up'),
    txQueueLen: d.txQueueLen ?? 1000,
  };
}

/** statistics/<name> -> the /proc/net/dev counter it shows (rtnl_link_stats64 fields). */
const STATISTICS: readonly [string, keyof ProcNetDeviceStats | null][] = [
  ['collisions', 'txColls'],
  ['multicast', 'rxMulticast'],
  ['rx_bytes', 'rxBytes'],
  ['rx_compressed', 'rxCompressed'],
  ['rx_crc_errors', null],
  ['rx_dropped', 'rxDrop'],
  ['rx_errors', 'rxErrs'],
  ['rx_fifo_errors', 'rxFifo'],
  ['rx_frame_errors', 'rxFrame'],
  ['rx_length_errors', null],
  ['rx_missed_errors', null],
  ['rx_nohandler', null],
  ['rx_over_errors', null],
  ['rx_packets', 'rxPackets'],
  ['tx_aborted_errors', null],
  ['tx_bytes', 'txBytes'],
  ['tx_carrier_errors', 'txCarrier'],
  ['tx_compressed', 'txCompressed'],
  ['tx_dropped', 'txDrop'],
  ['tx_errors', 'txErrs'],
  ['tx_fifo_errors', 'txFifo'],
  ['tx_heartbeat_errors', null],
  ['tx_packets', 'txPackets'],
  ['tx_window_errors', null],
];

/**
 * The attribute directory of device `name` (`devices/virtual/net/<name>`), reading the device
 * afresh on every read; ENODEV once it is gone, as sysfs answers for an unregistered device.
 */
function deviceDir(net: () => ProcNetSource | null, name: string): DirNode {
  const get = (): ProcNetDevice | null =>
    net()
      ?.devices()
      .find((d) => d.name === name) ?? null;
  const attr = (show: (d: ProcNetDevice) => string | LinuxError): FileNode => ({
    kind: 'file',
    mode: 0o444,
    size: 4096,
    strictWrite: true,
    read: () => {
      const d = get();
      if (d === null) return E.ENODEV;
      const v = show(d);
      return typeof v === 'string' ? v + '\n' : v;
    },
  });
  const statistics: Record<string, TreeNode> = {};
  for (const [file, key] of STATISTICS)
    statistics[file] = attr((d) => String(key === null ? 0 : (d.stats[key] ?? 0)));
  return {
    kind: 'dir',
    mode: 0o755,
    valid: () => get() !== null,
    entries: {
      addr_assign_type: attr(() => '0'),
      addr_len: attr((d) => String(deviceDefaults(d).address.length)),
      address: attr((d) => formatMac(deviceDefaults(d).address)),
      broadcast: attr((d) => {
        const len = deviceDefaults(d).address.length;
        return formatMac(new Uint8Array(len).fill(isLoopback(d) ? 0 : 0xff));
      }),
      // carrier_show: EINVAL while the device is down; one that is up has its carrier (virtual
      // links never lose it).
      carrier: attr((d) => ((deviceDefaults(d).flags & 1) !== 0 ? '1' : E.EINVAL)),
      dev_id: attr(() => '0x0'),
      // dev->flags: the operational bits (IFF_RUNNING, IFF_LOWER_UP, IFF_DORMANT) that rtnetlink
      // and SIOCGIFFLAGS add from the link state (dev_get_flags) are not in it.
      flags: attr((d) => `0x${(deviceDefaults(d).flags & ~(0x40 | 0x10000 | 0x20000)).toString(16)}`),
      ifindex: attr((d) => String(d.index)),
      iflink: attr((d) => String(d.index)),
      mtu: attr((d) => String(deviceDefaults(d).mtu)),
      operstate: attr((d) => deviceDefaults(d).operstate),
      statistics: dir(statistics, 0o755),
      tx_queue_len: attr((d) => String(deviceDefaults(d).txQueueLen)),
      type: attr((d) => String(deviceDefaults(d).type)),
    },
  };
}

/**
 * The two views of the devices of `net()`: `class` (the `class/net/<if>` symlinks) and
 * `virtual` (the `devices/virtual/net/<if>` directories). `net()` is asked on each lookup, so
 * devices that come and go appear and disappear.
 */
export function sysNetTrees(net: () => ProcNetSource | null): { classNet: DirNode; virtualNet: DirNode } {
  const names = (): string[] =>
    net()
      ?.devices()
      .map((d) => d.name) ?? [];
  const known = (name: string): boolean => names().includes(name);
  return {
    classNet: {
      kind: 'dir',
      mode: 0o755,
      dynamic: {
        kind: 'symlink',
        list: names,
        lookup: (name) =>
          known(name)
            ? { kind: 'symlink', mode: 0o777, target: () => `../../devices/virtual/net/${name}` }
            : null,
      },
    },
    virtualNet: {
      kind: 'dir',
      mode: 0o755,
      dynamic: {
        kind: 'dir',
        list: names,
        lookup: (name) => (known(name) ? deviceDir(net, name) : null),
      },
    },
  };
}
