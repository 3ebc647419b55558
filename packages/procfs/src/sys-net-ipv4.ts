/**
 * /proc/sys/net/ipv4: the IPv4/TCP sysctls of the reader's network namespace. The ones the
 * namespace's stack applies (the ICMP echo switches and rate limits, the ephemeral port range
 * and reserved ports, ip_autobind_reuse, ip_default_ttl, ip_no_pmtu_disc, route/min_pmtu and
 * mtu_expires, the default congestion control, SACK, timestamps, the keepalive timers,
 * tcp_fin_timeout, tcp_frto, and the listener queues' tcp_syncookies, tcp_max_syn_backlog,
 * tcp_synack_retries, tcp_abort_on_overflow, tcp_reflect_tos) are read from and written to
 * {@link ProcNetSource.sysctl}; the others show Linux's defaults, read-only, since nothing would
 * honour a change. /proc/sys/net/core holds somaxconn. A namespace the reader does not own (the
 * host's, in network mode `host`) shows and refuses them as Linux does to a user namespace that
 * does not own it (see {@link ProcNetSource.sysctlOwned}).
 *
 * @module
 */
import { E, OpenFlag, isError, type LinuxError } from '@tsvisor/abi';
import { MAY_EXEC, capable, type Creds } from '@tsvisor/vfs';
import { byteString, dir } from './kernfs.js';
import type { DirNode, FileNode, NodeAttrs, TreeNode } from './kernfs.js';
import type { ProcNetSource, ProcNetSysctl, ProcNetSysctlWrite } from './net.js';

/** GID_T_MAX: the largest gid a ping_group_range end may name ((gid_t)-1 is no gid). */
const PING_GROUP_MAX = 0xfffffffe;
/** Linux's ping_group_range in a fresh namespace, and after a reversed write: nobody. */
const PING_NOBODY: readonly [number, number] = [1, 0];

/** Linux's defaults, shown when the namespace has no stack (and kept per mount when written). */
export const DEFAULT_NET_SYSCTL: ProcNetSysctl = {
  ipLocalPortRange: [32768, 60999],
  tcpCongestionControl: 'cubic',
  tcpAvailableCongestionControl: ['reno', 'cubic'],
  tcpSack: 1,
  tcpTimestamps: 1,
  tcpKeepaliveTime: 7200,
  tcpKeepaliveIntvl: 75,
  tcpKeepaliveProbes: 9,
  tcpFinTimeout: 60,
  tcpFrto: 2,
  tcpSyncookies: 1,
  tcpMaxSynBacklog: 128,
  tcpSynackRetries: 5,
  tcpAbortOnOverflow: 0,
  tcpTwReuse: 2,
  pingGroupRange: PING_NOBODY,
};

/** net.ipv4.ip_unprivileged_port_start: the range's low end may not go below it (EINVAL). */
const IP_PROT_SOCK = 1024;
/** IPV4_MIN_MTU: net.ipv4.route.min_pmtu may not go below it. */
const IPV4_MIN_MTU = 68;
/** TCP_CA_NAME_MAX: congestion control names are at most 15 bytes. */
const TCP_CA_NAME_MAX = 16;
/**
 * proc_dointvec_jiffies keeps seconds as jiffies in an int: |value| up to INT_MAX / HZ, with
 * Debian's HZ of 250 (what the host kernel of our differential tests accepts).
 */
export const JIFFIES_SECONDS_MAX = Math.floor(0x7fffffff / 250);

/**
 * Parse a write to a proc_dointvec vector of `n` ints: blank-separated numbers read as
 * strtoul_lenient with base 0 does (0x.. hex, 0.. octal, else decimal; a leading '-' only, '+'
 * is EINVAL), each ending at a blank or the end; fewer than `n` keep the tail of `current`, more
 * are ignored. Null: EINVAL.
 */
export function parseIntVector(text: string, current: readonly number[]): number[] | null {
  const out = [...current];
  const re = /[ \t\n]*(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?=[ \t\n]|$)/y;
  let i = 0;
  let pos = 0;
  for (; i < out.length; i++) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) break;
    const digits = m[2] as string;
    const magnitude =
      digits.length > 1 && digits[0] === '0'
        ? /^0[xX]/.test(digits)
          ? parseInt(digits.slice(2), 16)
          : parseInt(digits.slice(1), 8)
        : Number(digits);
    const v = m[1] === '-' ? -magnitude : magnitude;
    if (!Number.isSafeInteger(v) || v > 0x7fffffff || v < -0x80000000) return null;
    out[i] = v;
    pos = re.lastIndex;
  }
  // Nothing parsed, or something that is neither a number nor blanks where one was expected.
  if (i === 0) return null;
  if (i < out.length && !/^[ \t\n\0]*$/.test(text.slice(pos))) return null;
  return out;
}

/**
 * Parse a write to a proc_dointvec_ms_jiffies int (milliseconds), with Debian's HZ of 250: one
 * number as proc_get_long reads it (an optional '-', strtoul's base 0, below 2^64), cut to the
 * unsigned int msecs_to_jiffies takes; one that is negative as an int is EINVAL, else it is kept
 * as whole jiffies, rounded up, and reads back as their milliseconds. Null: EINVAL.
 */
export function parseMsJiffies(text: string): number | null {
  const m = /^[ \t\n]*(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?=[ \t\n\0]|$)/.exec(text);
  if (m === null) return null;
  const digits = m[2] as string;
  const big = BigInt(/^0[0-7]/.test(digits) ? `0o${digits.slice(1)}` : digits);
  if (big >= 1n << 64n) return null;
  const cut = Number((m[1] === '-' ? -big : big) & 0xffffffffn);
  if (cut > 0x7fffffff) return null;
  return Math.ceil(cut / 4) * 4;
}

/** Check and form a write to ip_local_port_range (ipv4_local_port_range): EINVAL or the value. */
export function parsePortRange(
  text: string,
  current: readonly [number, number],
): ProcNetSysctlWrite | LinuxError {
  const v = parseIntVector(text, current);
  if (v === null) return E.EINVAL;
  const [low = 0, high = 0] = v;
  // proc_dointvec_minmax bounds each end to 1..65535; then the range must be ordered and stay
  // clear of the privileged ports.
  if (low < 1 || low > 65535 || high < 1 || high > 65535) return E.EINVAL;
  if (high < low || low < IP_PROT_SOCK) return E.EINVAL;
  return { key: 'ipLocalPortRange', value: [low, high] };
}

/** proc_do_large_bitmap parses at most a page less one byte per write(2). */
const BITMAP_WRITE_MAX = 4095;
/** ip_local_reserved_ports is a bitmap of every port number. */
const PORTS = 65536;

/**
 * Read one number at `pos` of the `left` bytes from there as proc_get_long does for
 * proc_do_large_bitmap: an optional `-` (which the bitmap refuses later), a digit, strtoul's base
 * 0 (`0x` hex, a leading `0` octal), fewer than 21 characters in all, then either the end or one
 * of `ends`. Null: EINVAL.
 */
function bitmapNumber(
  text: string,
  pos: number,
  left: number,
  ends: string,
): { value: number; negative: boolean; len: number } | null {
  if (left <= 0) return null;
  // proc_get_long looks at no more than its 21-byte buffer.
  const view = text.slice(pos, pos + Math.min(left, 21));
  const negative = view[0] === '-' && left > 1;
  const m = /^(0[xX](?=[0-9a-fA-F])[0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)/.exec(view.slice(negative ? 1 : 0));
  if (m === null) return null;
  const digits = m[0];
  const len = digits.length + (negative ? 1 : 0);
  if (len === 21) return null;
  if (len < left && !ends.includes(view[len] ?? '')) return null;
  const value = /^0[xX]/.test(digits)
    ? parseInt(digits.slice(2), 16)
    : digits.startsWith('0')
      ? parseInt(digits, 8)
      : Number(digits);
  return { value, negative, len };
}

/**
 * Parse a write to ip_local_reserved_ports (or another bitmap of `size` bits, 65536 by default)
 * as proc_do_large_bitmap does: port numbers and inclusive ranges `low-high` (each below `size`,
 * ranges not reversed) separated by commas or newlines, with newlines allowed before and after
 * the list and nothing else (no blanks); an empty list is no port. A write longer than 4095
 * bytes is parsed up to the last item that ends within them, and only that much is consumed: the
 * caller writes the rest at a later offset. EINVAL for anything malformed.
 */
export function parseReservedPorts(
  text: string,
  size = PORTS,
): { ports: Set<number>; consumed: number } | LinuxError {
  let left = Math.min(text.length, BITMAP_WRITE_MAX);
  const skipped = text.length - left;
  let pos = 0;
  const ports = new Set<number>();
  const skipNewlines = (): void => {
    while (left > 0 && text[pos] === '\n') {
      pos++;
      left--;
    }
  };
  skipNewlines();
  while (left > 0) {
    const saved = left;
    const a = bitmapNumber(text, pos, left, '-,\n');
    // An item cut off by the 4095-byte limit waits for the next write.
    if (left - (a?.len ?? 0) <= 1 && skipped > 0) {
      left = saved;
      break;
    }
    if (a === null || a.negative || a.value >= size) return E.EINVAL;
    pos += a.len;
    left -= a.len;
    const sep = left > 0 ? text[pos] : undefined;
    if (left > 0) {
      pos++;
      left--;
    }
    let high = a.value;
    if (sep === '-') {
      const b = bitmapNumber(text, pos, left, ',\n\0');
      if (left - (b?.len ?? 0) === 0 && skipped > 0) {
        left = saved;
        break;
      }
      if (b === null || b.negative || b.value >= size || b.value < a.value) return E.EINVAL;
      pos += b.len;
      left -= b.len;
      if (left > 0) {
        pos++;
        left--;
      }
      high = b.value;
    }
    for (let port = a.value; port <= high; port++) ports.add(port);
    skipNewlines();
  }
  return { ports, consumed: text.length - left - skipped };
}

/** How proc_do_large_bitmap shows a set of ports: ascending, runs as `low-high`, comma-separated. */
export function formatReservedPorts(ports: ReadonlySet<number>): string {
  const sorted = [...ports].sort((x, y) => x - y);
  const runs: string[] = [];
  let low: number | undefined;
  for (const [i, port] of sorted.entries()) {
    low ??= port;
    if (sorted[i + 1] === port + 1) continue;
    runs.push(low === port ? `${port}` : `${low}-${port}`);
    low = undefined;
  }
  return runs.join(',') + '\n';
}

/**
 * Read one unsigned number at `pos` as proc_get_long does for proc_douintvec: a digit first
 * (a `-` is EINVAL for an unsigned vector), strtoul's base 0 (`0x` hex, a leading `0` octal),
 * at most 20 characters, and nothing but a blank or the end after it. Null: EINVAL.
 */
function procUnsigned(text: string, pos: number): { value: number; end: number } | null {
  const m = /0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*/y;
  m.lastIndex = pos;
  const got = m.exec(text);
  if (got === null) return null;
  const digits = got[0];
  const end = pos + digits.length;
  if (digits.length >= 21) return null;
  const next = text[end];
  if (next !== undefined && next !== ' ' && next !== '\t' && next !== '\n' && next !== '\0') return null;
  const value = /^0[xX]/.test(digits)
    ? parseInt(digits.slice(2), 16)
    : digits.length > 1 && digits.startsWith('0')
      ? parseInt(digits, 8)
      : Number(digits);
  return { value, end };
}

/**
 * Check and form a write to ping_group_range (ipv4_ping_group_range): up to two unsigned numbers
 * (a missing high end keeps the current one, more are ignored), each at most GID_T_MAX, else
 * EINVAL and no change. A range whose high end is below its low end is not an error: it is
 * stored as 1 0, which lets nobody in. An empty write changes nothing.
 */
export function parsePingGroupRange(
  text: string,
  current: readonly [number, number],
): ProcNetSysctlWrite | LinuxError {
  if (text.length === 0) return { key: 'pingGroupRange', value: current };
  const out: number[] = [...current];
  let pos = 0;
  let n = 0;
  for (; n < 2; n++) {
    while (pos < text.length && /[ \t\n\v\f\r]/.test(text[pos] ?? '')) pos++;
    if (pos >= text.length) break;
    const got = procUnsigned(text, pos);
    if (got === null || got.value > PING_GROUP_MAX) return E.EINVAL;
    out[n] = got.value;
    pos = got.end;
  }
  if (n === 0) return E.EINVAL;
  const [low = 1, high = 0] = out;
  return { key: 'pingGroupRange', value: high < low ? PING_NOBODY : [low, high] };
}

/** The overflow uid and gid: what a user namespace shows for an owner it does not map. */
const OVERFLOW_ID = 65534;
const OWNED: NodeAttrs = { uid: 0, gid: 0 };

/** Whether `flags` open for writing (O_TRUNC asks for write permission too, as in Linux). */
/** CAP_NET_ADMIN. */
const CAP_NET_ADMIN = 12;

/**
 * proc_sys_permission for a net sysctl of mode `mode` (access(2), and every open): no file is
 * executable, and no capability overrides the mode. In a namespace the reader's user namespace
 * owns, root and CAP_NET_ADMIN get the owner's bits (net_ctl_permissions); otherwise uid 0 gets
 * the owner's, gid 0 the group's and everyone else the others' (test_perm). The sandbox's root
 * is not the host's, so in a namespace it does not own it gets the others' bits.
 */
function sysctlPermission(creds: Creds, mask: number, mode: number, owned: boolean): LinuxError | undefined {
  if (mask & MAY_EXEC) return E.EACCES;
  let bits: number;
  if (owned && (creds.fsuid === 0 || capable(creds, CAP_NET_ADMIN))) bits = mode >> 6;
  else if (!owned) bits = mode;
  else if (creds.fsgid === 0 || creds.groups.includes(0)) bits = mode >> 3;
  else bits = mode;
  return (mask & ~bits & 7) === 0 ? undefined : E.EACCES;
}

function opensForWrite(flags: number): boolean {
  const acc = flags & OpenFlag.O_ACCMODE;
  return acc === OpenFlag.O_WRONLY || acc === OpenFlag.O_RDWR || (flags & OpenFlag.O_TRUNC) !== 0;
}

/**
 * A directory of net sysctls of the reader's namespace `net()`: when the reader does not own the
 * namespace ({@link ProcNetSource.sysctlOwned} false), the directory and its files show the
 * overflow owner and each file its `linuxMode` (the mode Linux declares, where ours differs
 * because a change would not be honoured), and no file opens for writing (EACCES). A
 * subdirectory is taken as it is: make it with this function too.
 */
export function netSysctlDir(
  net: () => ProcNetSource | null,
  files: Readonly<Record<string, (FileNode & { readonly linuxMode?: number }) | DirNode>>,
): DirNode {
  const foreign = (): boolean => net()?.sysctlOwned === false;
  const entries: Record<string, TreeNode> = {};
  for (const [name, f] of Object.entries(files)) {
    if (f.kind === 'dir') {
      entries[name] = f;
      continue;
    }
    const shown = f.linuxMode ?? f.mode;
    entries[name] = {
      ...f,
      attrs: () => (foreign() ? { uid: OVERFLOW_ID, gid: OVERFLOW_ID, mode: shown } : OWNED),
      open: (flags) => (foreign() && opensForWrite(flags) ? E.EACCES : f.open?.(flags)),
      permission: (creds, mask) => sysctlPermission(creds, mask, foreign() ? shown : f.mode, !foreign()),
    };
  }
  return {
    ...dir(entries),
    attrs: () => (foreign() ? { uid: OVERFLOW_ID, gid: OVERFLOW_ID } : OWNED),
  };
}

/**
 * The tree of /proc/sys/net/core over the reader's namespace `net()`: somaxconn is the
 * namespace's ({@link ProcNetSysctl.somaxconn}) or else `somaxconn()`, read-only (netstack's cap
 * is fixed; Linux declares it 0644).
 */
export function netCoreTree(net: () => ProcNetSource | null, somaxconn: () => number): DirNode {
  return netSysctlDir(net, {
    somaxconn: {
      kind: 'file',
      mode: 0o444,
      linuxMode: 0o644,
      strictWrite: true,
      read: () => `${net()?.sysctl?.().somaxconn ?? somaxconn()}\n`,
    },
  });
}

/** The tree of /proc/sys/net/ipv4 over the reader's namespace `net()` (null: defaults). */
export function netIpv4Tree(net: () => ProcNetSource | null): DirNode {
  /** Values written through this mount when the namespace cannot store them. */
  let local: ProcNetSysctl = DEFAULT_NET_SYSCTL;
  const get = (): ProcNetSysctl => net()?.sysctl?.() ?? local;
  const set = (w: ProcNetSysctlWrite): LinuxError | undefined => {
    const n = net();
    if (n?.setSysctl !== undefined) return n.setSysctl(w);
    local = { ...local, [w.key]: w.value };
    return undefined;
  };
  /** A file we keep read-only; Linux declares it `linuxMode`. */
  const readOnly = (read: () => string, linuxMode = 0o444): FileNode & { linuxMode: number } => ({
    kind: 'file',
    mode: 0o444,
    linuxMode,
    read,
    strictWrite: true,
  });
  /** A 0644 sysctl; writes past offset 0 are ignored (sysctl_writes_strict). */
  const writable = (
    read: () => string,
    parse: (text: string) => ProcNetSysctlWrite | LinuxError,
  ): FileNode => ({
    kind: 'file',
    mode: 0o644,
    strictWrite: true,
    read,
    write: (data, offset) => {
      if (offset !== 0) return data.length;
      const w = parse(byteString(data));
      if (isError(w)) return w;
      return set(w) ?? data.length;
    },
  });
  /**
   * A proc_dou8vec_minmax flag: one int in 0..`max` (255 without a bound of its own); one the
   * namespace does not give shows `absent`, its Linux default.
   */
  const u8 = (
    key:
      | 'icmpEchoIgnoreAll'
      | 'icmpEchoIgnoreBroadcasts'
      | 'ipAutobindReuse'
      | 'ipNoPmtuDisc'
      | 'tcpSack'
      | 'tcpTimestamps'
      | 'tcpKeepaliveProbes'
      | 'tcpFrto'
      | 'tcpSyncookies'
      | 'tcpSynackRetries'
      | 'tcpAbortOnOverflow'
      | 'tcpTwReuse'
      | 'tcpRfc1337'
      | 'tcpEarlyRetrans'
      | 'tcpSynRetries'
      | 'tcpSynLinearTimeouts'
      | 'tcpRetries2'
      | 'tcpOrphanRetries'
      | 'tcpDsack'
      | 'tcpReflectTos',
    max = 255,
    absent = 0,
    min = 0,
  ): FileNode =>
    writable(
      () => `${get()[key] ?? absent}\n`,
      (text) => {
        const v = parseIntVector(text, [0]);
        if (v === null || v[0] === undefined || v[0] < min || v[0] > max) return E.EINVAL;
        return { key, value: v[0] };
      },
    );
  /** A proc_dointvec_jiffies value in seconds: one int, negative allowed, |v| <= INT_MAX / HZ. */
  const jiffies = (key: 'tcpKeepaliveTime' | 'tcpKeepaliveIntvl' | 'tcpFinTimeout'): FileNode =>
    writable(
      () => `${get()[key]}\n`,
      (text) => {
        const v = parseIntVector(text, [get()[key]]);
        if (v === null || v[0] === undefined || Math.abs(v[0]) > JIFFIES_SECONDS_MAX) return E.EINVAL;
        return { key, value: v[0] };
      },
    );

  /** A proc_dointvec value: one int (C's range), negative allowed. */
  const int = (key: 'tcpMaxSynBacklog'): FileNode =>
    writable(
      () => `${get()[key]}\n`,
      (text) => {
        const v = parseIntVector(text, [get()[key]]);
        if (v === null || v[0] === undefined || v[0] < -0x80000000 || v[0] > 0x7fffffff) return E.EINVAL;
        return { key, value: v[0] };
      },
    );

  /**
   * A proc_dointvec value (proc_dointvec_minmax from `min`): one int, the first of several.
   * One the namespace does not give shows `absent`, its Linux default.
   */
  const icmpInt = (
    key: 'icmpRatemask' | 'icmpMsgsPerSec' | 'icmpMsgsBurst',
    absent: number,
    min = -0x80000000,
  ): FileNode =>
    writable(
      () => `${get()[key] ?? absent}\n`,
      (text) => {
        const v = parseIntVector(text, [get()[key] ?? absent]);
        if (v === null || v[0] === undefined || v[0] < min) return E.EINVAL;
        return { key, value: v[0] };
      },
    );

  return netSysctlDir(net, {
    // proc_dou8vec_minmax between SYSCTL_ZERO and SYSCTL_ONE, as ip_autobind_reuse below.
    icmp_echo_ignore_all: u8('icmpEchoIgnoreAll', 1),
    icmp_echo_ignore_broadcasts: u8('icmpEchoIgnoreBroadcasts', 1, 1),
    // ipv4_net_table: icmp_msgs_burst and icmp_msgs_per_sec are proc_dointvec_minmax from 0,
    // icmp_ratelimit proc_dointvec_ms_jiffies, icmp_ratemask plain proc_dointvec.
    icmp_msgs_burst: icmpInt('icmpMsgsBurst', 50, 0),
    icmp_msgs_per_sec: icmpInt('icmpMsgsPerSec', 1000, 0),
    icmp_ratelimit: writable(
      () => `${get().icmpRatelimit ?? 1000}\n`,
      (text) => {
        const v = parseMsJiffies(text);
        return v === null ? E.EINVAL : { key: 'icmpRatelimit', value: v };
      },
    ),
    icmp_ratemask: icmpInt('icmpRatemask', 0x1818),
    ip_autobind_reuse: u8('ipAutobindReuse', 1),
    // proc_dou8vec_minmax between ip_ttl_min and ip_ttl_max.
    ip_default_ttl: writable(
      () => `${get().ipDefaultTtl ?? 64}\n`,
      (text) => {
        const v = parseIntVector(text, [0]);
        if (v === null || v[0] === undefined || v[0] < 1 || v[0] > 255) return E.EINVAL;
        return { key: 'ipDefaultTtl', value: v[0] };
      },
    ),
    ip_local_port_range: writable(
      () => get().ipLocalPortRange.join('\t') + '\n',
      (text) => parsePortRange(text, get().ipLocalPortRange),
    ),
    // proc_do_large_bitmap: a write past offset 0 adds its ports to the list instead of
    // replacing it (no sysctl_writes_strict here).
    ip_local_reserved_ports: {
      kind: 'file',
      mode: 0o644,
      strictWrite: true,
      read: () => formatReservedPorts(get().ipLocalReservedPorts ?? new Set()),
      write: (data, offset) => {
        if (data.length === 0) return 0;
        const r = parseReservedPorts(byteString(data));
        if (isError(r)) return r;
        const ports = offset === 0 ? r.ports : new Set([...(get().ipLocalReservedPorts ?? []), ...r.ports]);
        return set({ key: 'ipLocalReservedPorts', value: ports }) ?? r.consumed;
      },
    },
    ip_no_pmtu_disc: u8('ipNoPmtuDisc'),
    ping_group_range: writable(
      () => (get().pingGroupRange ?? PING_NOBODY).join('\t') + '\n',
      (text) => parsePingGroupRange(text, get().pingGroupRange ?? PING_NOBODY),
    ),
    // ipv4_route_netns_table's entries that path MTU discovery reads.
    route: netSysctlDir(net, {
      // proc_dointvec_minmax from IPV4_MIN_MTU (68), no upper bound.
      min_pmtu: writable(
        () => `${get().routeMinPmtu ?? 552}\n`,
        (text) => {
          const v = parseIntVector(text, [get().routeMinPmtu ?? 552]);
          if (v === null || v[0] === undefined || v[0] < IPV4_MIN_MTU) return E.EINVAL;
          return { key: 'routeMinPmtu', value: v[0] };
        },
      ),
      // proc_dointvec_jiffies: seconds, negative allowed.
      mtu_expires: writable(
        () => `${get().routeMtuExpires ?? 600}\n`,
        (text) => {
          const v = parseIntVector(text, [get().routeMtuExpires ?? 600]);
          if (v === null || v[0] === undefined || Math.abs(v[0]) > JIFFIES_SECONDS_MAX) return E.EINVAL;
          return { key: 'routeMtuExpires', value: v[0] };
        },
      ),
    }),
    tcp_abort_on_overflow: u8('tcpAbortOnOverflow'),
    tcp_allowed_congestion_control: readOnly(() => {
      const s = get();
      return (s.tcpAllowedCongestionControl ?? s.tcpAvailableCongestionControl).join(' ') + '\n';
    }, 0o644),
    tcp_available_congestion_control: readOnly(() => get().tcpAvailableCongestionControl.join(' ') + '\n'),
    // proc_tcp_congestion_control: proc_dostring into a TCP_CA_NAME_MAX buffer, then a lookup
    // that gives ENOENT for an unknown name (the name keeps any blanks: `reno ` is unknown).
    tcp_congestion_control: writable(
      () => get().tcpCongestionControl + '\n',
      (text) => {
        const cut = text.search(/[\n\0]/);
        const name = (cut >= 0 ? text.slice(0, cut) : text).slice(0, TCP_CA_NAME_MAX - 1);
        if (!get().tcpAvailableCongestionControl.includes(name)) return E.ENOENT;
        return { key: 'tcpCongestionControl', value: name };
      },
    ),
    // proc_dou8vec_minmax between SYSCTL_ZERO and SYSCTL_FOUR.
    tcp_dsack: u8('tcpDsack', 255, 1),
    tcp_early_retrans: u8('tcpEarlyRetrans', 4, 3),
    tcp_fin_timeout: jiffies('tcpFinTimeout'),
    tcp_frto: u8('tcpFrto'),
    tcp_invalid_ratelimit: writable(
      () => `${get().tcpInvalidRatelimit ?? 500}\n`,
      (text) => {
        const v = parseMsJiffies(text);
        return v === null ? E.EINVAL : { key: 'tcpInvalidRatelimit', value: v };
      },
    ),
    tcp_keepalive_intvl: jiffies('tcpKeepaliveIntvl'),
    tcp_keepalive_probes: u8('tcpKeepaliveProbes'),
    tcp_keepalive_time: jiffies('tcpKeepaliveTime'),
    tcp_max_syn_backlog: int('tcpMaxSynBacklog'),
    // proc_douintvec: one unsigned int, the first of several.
    tcp_notsent_lowat: writable(
      () => `${get().tcpNotsentLowat ?? 0xffffffff}\n`,
      (text) => {
        const start = text.search(/[^ \t\n\v\f\r]/);
        const got = start < 0 ? null : procUnsigned(text, start);
        if (got === null || got.value > 0xffffffff) return E.EINVAL;
        return { key: 'tcpNotsentLowat', value: got.value };
      },
    ),
    tcp_orphan_retries: u8('tcpOrphanRetries'),
    // proc_dou8vec_minmax between SYSCTL_ZERO and SYSCTL_ONE.
    tcp_reflect_tos: u8('tcpReflectTos', 1),
    tcp_retries2: u8('tcpRetries2', 255, 15),
    tcp_rfc1337: u8('tcpRfc1337'),
    tcp_sack: u8('tcpSack'),
    // proc_dou8vec_minmax between SYSCTL_ONE and MAX_TCP_SYNCNT (127); 6.18's linear timeouts
    // share that cap from 0.
    tcp_syn_linear_timeouts: u8('tcpSynLinearTimeouts', 127, 4),
    tcp_syn_retries: u8('tcpSynRetries', 127, 6, 1),
    tcp_synack_retries: u8('tcpSynackRetries'),
    tcp_syncookies: u8('tcpSyncookies'),
    tcp_timestamps: u8('tcpTimestamps'),
    // proc_dou8vec_minmax between SYSCTL_ZERO and SYSCTL_TWO.
    tcp_tw_reuse: u8('tcpTwReuse', 2),
    tcp_window_scaling: readOnly(() => '1\n', 0o644),
  });
}
