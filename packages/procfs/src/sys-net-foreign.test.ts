// /proc/sys/net/{ipv4,core} of a network namespace the reader does not own (network mode `host`):
// what root of a user namespace that does not own the namespace sees on Linux (checked against
// the host in @tsvisor/runtime's proc-sys-net-host.test.ts): the overflow owner, Linux's modes,
// reads allowed, and every open for writing refused with EACCES, even with all capabilities.
import { describe, expect, it } from 'vitest';
import { E, isError, OpenFlag } from '@tsvisor/abi';
import { userCreds } from '@tsvisor/vfs';
import { FixtureProcSource } from './fixture.js';
import { mounted, readAll } from './mount.test-util.js';
import { DEFAULT_NET_SYSCTL } from './sys-net-ipv4.js';
import type { ProcNetSysctlWrite } from './net.js';

const FILES: readonly [string, number][] = [
  ['ipv4/ip_local_port_range', 0o644],
  ['ipv4/tcp_fin_timeout', 0o644],
  ['ipv4/tcp_congestion_control', 0o644],
  ['ipv4/tcp_allowed_congestion_control', 0o644],
  ['ipv4/tcp_available_congestion_control', 0o444],
  ['ipv4/tcp_window_scaling', 0o644],
  ['core/somaxconn', 0o644],
];

/** A fixture whose namespace is owned (or not) and counts the writes that reach it. */
function source(owned: boolean | undefined): { src: FixtureProcSource; writes: ProcNetSysctlWrite[] } {
  const src = FixtureProcSource.sample();
  const net = src.netValue;
  if (net === null) throw new Error('fixture has a network namespace');
  const writes: ProcNetSysctlWrite[] = [];
  src.netValue = {
    ...net,
    sysctl: () => ({ ...DEFAULT_NET_SYSCTL, tcpFinTimeout: 30, somaxconn: 1234 }),
    setSysctl: (w) => void writes.push(w),
    ...(owned === undefined ? {} : { sysctlOwned: owned }),
  };
  return { src, writes };
}

describe('/proc/sys/net of a namespace the reader does not own', () => {
  it('shows the overflow owner and the modes Linux declares', () => {
    const { p } = mounted(undefined, source(false).src);
    for (const [name, mode] of FILES) {
      const st = p.stat(`/proc/sys/net/${name}`);
      if (isError(st)) throw new Error(`${name}: ${st.name}`);
      expect([name, st.mode & 0o7777, st.uid, st.gid]).toEqual([name, mode, 65534, 65534]);
    }
    for (const d of ['ipv4', 'core']) {
      const st = p.stat(`/proc/sys/net/${d}`);
      if (isError(st)) throw new Error(d);
      expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o555, 65534, 65534]);
    }
    // /proc/sys/net itself is the sandbox's /proc, not the namespace's.
    const top = p.stat('/proc/sys/net');
    expect(isError(top) ? top : top.uid).toBe(0);
  });

  it('reads the values; refuses O_WRONLY, O_RDWR and O_TRUNC opens with EACCES, even for root', () => {
    const { src, writes } = source(false);
    const root = mounted(undefined, src).p;
    const user = mounted(userCreds(1000, 1000), src).p;
    expect(readAll(root, '/proc/sys/net/ipv4/tcp_fin_timeout')).toBe('30\n');
    expect(readAll(root, '/proc/sys/net/core/somaxconn')).toBe('1234\n');
    for (const p of [root, user])
      for (const [name] of FILES) {
        const path = `/proc/sys/net/${name}`;
        const fd = p.open(path, OpenFlag.O_RDONLY);
        expect(isError(fd), name).toBe(false);
        if (!isError(fd)) p.close(fd);
        expect(p.open(path, OpenFlag.O_WRONLY)).toBe(E.EACCES);
        expect(p.open(path, OpenFlag.O_RDWR)).toBe(E.EACCES);
        expect(p.open(path, OpenFlag.O_RDONLY | OpenFlag.O_TRUNC)).toBe(E.EACCES);
      }
    expect(writes).toEqual([]);
  });

  it('an owned namespace (explicitly or by default) keeps root-owned, writable sysctls', () => {
    for (const owned of [true, undefined]) {
      const { src, writes } = source(owned);
      const { p } = mounted(undefined, src);
      const st = p.stat('/proc/sys/net/ipv4/tcp_fin_timeout');
      expect(isError(st) ? st : [st.mode & 0o7777, st.uid]).toEqual([0o644, 0]);
      // What netstack cannot change stays read-only there.
      const ws = p.stat('/proc/sys/net/ipv4/tcp_window_scaling');
      expect(isError(ws) ? ws : ws.mode & 0o7777).toBe(0o444);
      expect(p.open('/proc/sys/net/core/somaxconn', OpenFlag.O_WRONLY)).toBe(E.EACCES);
      const fd = p.open('/proc/sys/net/ipv4/tcp_fin_timeout', OpenFlag.O_WRONLY);
      if (isError(fd)) throw new Error(fd.name);
      expect(p.write(fd, new TextEncoder().encode('5'))).toBe(1);
      p.close(fd);
      expect(writes).toEqual([{ key: 'tcpFinTimeout', value: 5 }]);
    }
  });

  it('somaxconn falls back to the tunable when the namespace does not give one', () => {
    const src = FixtureProcSource.sample();
    const { p } = mounted(undefined, src);
    expect(readAll(p, '/proc/sys/net/core/somaxconn')).toBe('4096\n');
  });
});
