/**
 * /proc/net: the host's files are parsed into ProcNetSource records and rendered again; the
 * result must be the host's bytes (with kernel pointers zeroed, as procfs prints them).
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { E } from '@tsvisor/abi';
import { list, mounted, readAll } from './mount.test-util.js';
import {
  renderIfInet6,
  renderNetDev,
  renderRoute,
  renderTcp,
  renderTcp6,
  renderUdp,
  renderUdp6,
  renderUnix,
} from './net.js';
import type { ProcInetSocket, ProcNetDeviceStats } from './net.js';

const host = (path: string): string => readFileSync(path, 'latin1');
const lines = (text: string, skip: number): string[] => text.split('\n').slice(skip, -1);

/** The bytes of a __be32 that Linux printed with %08X (little-endian). */
function fromBe32(h: string): Uint8Array {
  const v = parseInt(h, 16);
  return new Uint8Array([v & 255, (v >>> 8) & 255, (v >>> 16) & 255, v >>> 24]);
}

function fromIn6(h: string): Uint8Array {
  const out = new Uint8Array(16);
  for (let w = 0; w < 4; w++) out.set(fromBe32(h.slice(w * 8, w * 8 + 8)), w * 4);
  return out;
}

/** Zero the %pK pointer column (16 hex digits between spaces). */
/** Kernel pointers (%pK) zeroed, inside a line or at its end (timewait sockets end with one). */
const zeroPtr = (text: string): string => text.replace(/ [0-9a-f]{16}(?= |$)/gm, ' 0000000000000000');

function parseInet(text: string, v6: boolean, udp: boolean): ProcInetSocket[] {
  return lines(text, 1).map((line) => {
    const f = line.trim().split(/\s+/);
    const [la, lp] = (f[1] as string).split(':') as [string, string];
    const [ra, rp] = (f[2] as string).split(':') as [string, string];
    const [tx, rx] = (f[4] as string).split(':') as [string, string];
    const [tr, when] = (f[5] as string).split(':') as [string, string];
    const addr = v6 ? fromIn6 : fromBe32;
    const common = {
      local: { address: addr(la), port: parseInt(lp, 16) },
      remote: { address: addr(ra), port: parseInt(rp, 16) },
      state: parseInt(f[3] as string, 16),
      txQueue: parseInt(tx, 16),
      rxQueue: parseInt(rx, 16),
      timerActive: parseInt(tr, 16),
      timerTicks: parseInt(when, 16),
      retransmits: parseInt(f[6] as string, 16),
      uid: Number(f[7]),
      inode: Number(f[9]),
      refCount: Number(f[10]),
    };
    if (udp) return { ...common, slot: Number((f[0] as string).replace(':', '')), drops: Number(f[12]) };
    return {
      ...common,
      rtoTicks: Number(f[12]),
      atoTicks: Number(f[13]),
      quickAck: Number(f[14]),
      cwnd: Number(f[15]),
      ssthresh: Number(f[16]),
    };
  });
}

describe('/proc/net renderers against the host', () => {
  it('dev', () => {
    const text = host('/proc/net/dev');
    const keys: (keyof ProcNetDeviceStats)[] = [
      'rxBytes',
      'rxPackets',
      'rxErrs',
      'rxDrop',
      'rxFifo',
      'rxFrame',
      'rxCompressed',
      'rxMulticast',
      'txBytes',
      'txPackets',
      'txErrs',
      'txDrop',
      'txFifo',
      'txColls',
      'txCarrier',
      'txCompressed',
    ];
    const devices = lines(text, 2).map((l, i) => {
      const [name, rest] = l.split(':') as [string, string];
      const nums = rest.trim().split(/\s+/).map(Number);
      const stats: Record<string, number> = {};
      keys.forEach((k, j) => (stats[k] = nums[j] ?? 0));
      return { name: name.trim(), index: i + 1, stats };
    });
    expect(devices.length).toBeGreaterThan(0);
    expect(renderNetDev(devices)).toBe(text);
  });

  it('tcp and tcp6', () => {
    const tcp = host('/proc/net/tcp');
    expect(renderTcp(parseInet(tcp, false, false))).toBe(zeroPtr(tcp));
    const tcp6 = host('/proc/net/tcp6');
    expect(renderTcp6(parseInet(tcp6, true, false))).toBe(zeroPtr(tcp6));
  });

  it('a TIME_WAIT socket ends at its pointer, as get_timewait4_sock prints it', () => {
    const tw: ProcInetSocket = {
      local: { address: new Uint8Array([127, 0, 0, 1]), port: 0xd6ce },
      remote: { address: new Uint8Array([127, 0, 0, 1]), port: 0x997d },
      state: 6,
      txQueue: 0,
      rxQueue: 0,
      timerActive: 3,
      timerTicks: 0xf6e,
      uid: 0,
      inode: 0,
      refCount: 3,
    };
    const line = renderTcp([tw]).split('\n')[1] ?? '';
    expect(line.trimEnd()).toBe(
      '   0: 0100007F:D6CE 0100007F:997D 06 00000000:00000000 03:00000F6E 00000000     0        0 0 3 0000000000000000',
    );
    expect(line).toHaveLength(149);
  });

  it('udp and udp6', () => {
    const udp = host('/proc/net/udp');
    expect(renderUdp(parseInet(udp, false, true))).toBe(zeroPtr(udp));
    const udp6 = host('/proc/net/udp6');
    expect(renderUdp6(parseInet(udp6, true, true))).toBe(zeroPtr(udp6));
  });

  it('unix', () => {
    const text = host('/proc/net/unix');
    const socks = lines(text, 1).map((l) => {
      const m =
        /^[0-9a-f]{16}: ([0-9A-F]{8}) [0-9A-F]{8} ([0-9A-F]{8}) ([0-9A-F]{4}) ([0-9A-F]{2}) +(\d+)(?: (.*))?$/.exec(
          l,
        );
      if (m === null) throw new Error(`unexpected /proc/net/unix line: ${l}`);
      const path = m[6];
      return {
        refCount: parseInt(m[1] as string, 16),
        flags: parseInt(m[2] as string, 16),
        type: parseInt(m[3] as string, 16),
        state: parseInt(m[4] as string, 16),
        inode: Number(m[5]),
        ...(path === undefined ? {} : { path: path.startsWith('@') ? path.replace(/@/g, '\0') : path }),
      };
    });
    const zeroed = text.replace(/^[0-9a-f]{16}:/gm, '0000000000000000:');
    expect(renderUnix(socks)).toBe(zeroed);
  });

  it('if_inet6 and route', () => {
    const inet6 = host('/proc/net/if_inet6');
    const addrs = lines(inet6, 0).map((l) => {
      const f = l.trim().split(/\s+/);
      const a = f[0] as string;
      return {
        address: new Uint8Array(
          Array.from({ length: 16 }, (_, i) => parseInt(a.slice(i * 2, i * 2 + 2), 16)),
        ),
        ifindex: parseInt(f[1] as string, 16),
        prefixLen: parseInt(f[2] as string, 16),
        scope: parseInt(f[3] as string, 16),
        flags: parseInt(f[4] as string, 16),
        device: f[5] as string,
      };
    });
    expect(renderIfInet6(addrs)).toBe(inet6);
    const route = host('/proc/net/route');
    const routes = lines(route, 1).map((l) => {
      const f = l.trim().split('\t');
      return {
        device: f[0] as string,
        destination: fromBe32(f[1] as string),
        gateway: fromBe32(f[2] as string),
        flags: parseInt(f[3] as string, 16),
        metric: Number(f[6]),
        mask: fromBe32(f[7] as string),
        mtu: Number(f[8]),
        window: Number(f[9]),
        irtt: Number(f[10]),
      };
    });
    expect(renderRoute(routes)).toBe(route);
  });
});

describe('/proc/net in the tree', () => {
  it('links /proc/net to self/net and lists the files', () => {
    const { p } = mounted();
    expect(p.readlink('/proc/net')).toBe('self/net');
    expect(list(p, '/proc/net')).toEqual([
      'anycast6',
      'arp',
      'dev',
      'icmp',
      'icmp6',
      'if_inet6',
      'ipv6_route',
      'netlink',
      'netstat',
      'packet',
      'psched',
      'raw',
      'raw6',
      'route',
      'snmp',
      'snmp6',
      'sockstat',
      'sockstat6',
      'tcp',
      'tcp6',
      'udp',
      'udp6',
      'udplite',
      'udplite6',
      'unix',
    ]);
  });

  it('shows the fixture sockets, devices and routes', () => {
    const { p } = mounted();
    const tcp = (readAll(p, '/proc/net/tcp') as string).split('\n');
    expect(tcp[1]?.trimEnd()).toBe(
      '   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0',
    );
    expect(tcp[2]?.slice(0, 42)).toBe('   1: 0F02000A:1F90 0202000A:C738 01 00000');
    expect(tcp[1]?.length).toBe(149);
    expect(readAll(p, '/proc/7/net/udp')).toMatch(
      /\n {4}0: 00000000:14E9 00000000:0000 07 .* 1000 +0 2003 2 /,
    );
    expect(readAll(p, '/proc/net/unix')).toContain(' 2006 @tsvisor@x\n');
    expect(readAll(p, '/proc/net/route')).toContain(
      '\neth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    );
    expect(readAll(p, '/proc/net/dev')).toContain('\n  eth0:  123456     100    0');
    expect(readAll(p, '/proc/net/if_inet6')).toBe('00000000000000000000000000000001 01 80 10 80       lo\n');
  });

  it('has no net/ when the task has no network namespace', () => {
    const { p, src } = mounted();
    src.netValue = null;
    expect(p.stat('/proc/net/tcp')).toBe(E.ENOENT);
    expect(list(p, '/proc/self/net')).toBe(E.ENOENT);
  });
});
