/**
 * /proc/net/sockstat, sockstat6, ipv6_route, arp, raw, raw6, udplite, udplite6 and psched: the
 * host's files (and those of a fresh network namespace) are parsed into records and rendered
 * again; the result must be Linux's bytes.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ROOT_CREDS } from '@tsvisor/vfs';
import { describe, expect, it } from 'vitest';
import { fixtureNet, FixtureProcSource } from './fixture.js';
import { mounted, readAll } from './mount.test-util.js';
import {
  EMPTY_SOCKSTAT,
  renderArp,
  renderIcmp,
  renderIpv6Route,
  renderNetlink,
  renderPacketHeader,
  renderPsched,
  renderRaw,
  renderRawHeader,
  renderSockstat,
  renderSockstat6,
  renderUdp,
  renderUdp6,
} from './net.js';
import type { ProcArpEntry, ProcIpv6Route, ProcNetlinkSocket, ProcSockstat } from './net.js';

const host = (path: string): string => readFileSync(path, 'latin1');
const firstLine = (text: string): string => text.slice(0, text.indexOf('\n') + 1);

/** The numbers after `key` on the line `line:` of a sockstat file. */
function num(text: string, line: string, key: string): number {
  const row = text.split('\n').find((l) => l.startsWith(`${line}:`)) ?? '';
  const m = new RegExp(` ${key} (\\d+)`).exec(row);
  if (!m) throw new Error(`no ${line} ${key} in ${text}`);
  return Number(m[1]);
}

function parseSockstat(v4: string, v6: string): ProcSockstat {
  return {
    used: num(v4, 'sockets', 'used'),
    tcpInuse: num(v4, 'TCP', 'inuse'),
    tcpOrphan: num(v4, 'TCP', 'orphan'),
    tcpTimeWait: num(v4, 'TCP', 'tw'),
    tcpAlloc: num(v4, 'TCP', 'alloc'),
    tcpMem: num(v4, 'TCP', 'mem'),
    udpInuse: num(v4, 'UDP', 'inuse'),
    udpMem: num(v4, 'UDP', 'mem'),
    udpliteInuse: num(v4, 'UDPLITE', 'inuse'),
    rawInuse: num(v4, 'RAW', 'inuse'),
    fragInuse: num(v4, 'FRAG', 'inuse'),
    fragMemory: num(v4, 'FRAG', 'memory'),
    tcp6Inuse: num(v6, 'TCP6', 'inuse'),
    udp6Inuse: num(v6, 'UDP6', 'inuse'),
    udplite6Inuse: num(v6, 'UDPLITE6', 'inuse'),
    raw6Inuse: num(v6, 'RAW6', 'inuse'),
    frag6Inuse: num(v6, 'FRAG6', 'inuse'),
    frag6Memory: num(v6, 'FRAG6', 'memory'),
  };
}

const fromHex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));

/**
 * The routes of an ipv6_route file without its null routes. The main table comes first and ends
 * with its root (a ::/0 route or the null route), so the routes after the first /0 line are the
 * local table's.
 */
function parseIpv6Route(text: string): ProcIpv6Route[] {
  let table: 'main' | 'local' = 'main';
  const out: ProcIpv6Route[] = [];
  for (const line of text.split('\n').slice(0, -1)) {
    const f = line.trim().split(/\s+/);
    const prefixLen = parseInt(f[1] ?? '', 16);
    const flags = parseInt(f[8] ?? '', 16);
    const gateway = f[4] ?? '';
    if (flags !== 0x00200200)
      out.push({
        table,
        destination: fromHex(f[0] ?? ''),
        prefixLen,
        ...(/^0+$/.test(gateway) ? {} : { gateway: fromHex(gateway) }),
        metric: parseInt(f[5] ?? '', 16),
        refCount: parseInt(f[6] ?? '', 16),
        flags,
        device: f[9] ?? '',
      });
    if (prefixLen === 0) table = 'local';
  }
  return out;
}

/** A fresh network namespace's file, lo up (its ::1 appears). */
function netnsFile(name: string): string {
  return execFileSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && cat /proc/net/${name}`], {
    encoding: 'latin1',
    timeout: 10_000,
  });
}

describe('/proc/net tables against Linux', () => {
  it('sockstat and sockstat6', () => {
    const v4 = host('/proc/net/sockstat');
    const v6 = host('/proc/net/sockstat6');
    const s = parseSockstat(v4, v6);
    expect(renderSockstat(s)).toBe(v4);
    expect(renderSockstat6(s)).toBe(v6);
  });

  it('ipv6_route of the host, in fib6 walk order whatever the order given', () => {
    const text = host('/proc/net/ipv6_route');
    const routes = parseIpv6Route(text);
    expect(renderIpv6Route(routes)).toBe(text);
    expect(renderIpv6Route([...routes].reverse())).toBe(text);
  });

  it('ipv6_route of a fresh namespace: a null route in each table around ::1', () => {
    const text = netnsFile('ipv6_route');
    expect(text.split('\n')).toHaveLength(4);
    expect(renderIpv6Route(parseIpv6Route(text))).toBe(text);
  });

  it('ipv6_route walks the tree: 0 bits first, longer prefixes before the shorter ones above them', () => {
    const route = (hex: string, prefixLen: number, metric = 256): ProcIpv6Route => ({
      table: 'main',
      destination: fromHex(hex.padEnd(32, '0')),
      prefixLen,
      metric,
      flags: 1,
      device: 'eth0',
    });
    const routes = [
      route('', 0, 1024),
      route('2001', 16),
      route('2001', 16, 1024),
      route('20010db8', 32),
      route('fe8', 10),
      route('fe80', 64),
      route('fd', 8),
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(routes, { minLength: routes.length }), (shuffled) => {
        const dst = renderIpv6Route(shuffled)
          .split('\n')
          .filter((l) => l.endsWith('eth0'))
          .map((l) => `${l.slice(0, 8)}/${parseInt(l.slice(33, 35), 16)}:${parseInt(l.slice(105, 113), 16)}`);
        expect(dst).toEqual([
          '20010db8/32:256',
          '20010000/16:256',
          '20010000/16:1024',
          'fd000000/8:256',
          'fe800000/64:256',
          'fe800000/10:256',
          '00000000/0:1024',
        ]);
      }),
    );
  });

  it('arp of the host and of a namespace without neighbours', () => {
    const text = host('/proc/net/arp');
    const entries: ProcArpEntry[] = text
      .split('\n')
      .slice(1, -1)
      .map((l) => {
        const f = l.trim().split(/\s+/);
        return {
          address: Uint8Array.from((f[0] ?? '').split('.'), Number),
          hwType: parseInt(f[1] ?? '', 16),
          flags: parseInt(f[2] ?? '', 16),
          hwAddress: fromHex((f[3] ?? '').replace(/:/g, '')),
          device: f[5] ?? '',
        };
      });
    expect(renderArp(entries)).toBe(text);
    expect(renderArp([])).toBe(netnsFile('arp'));
  });

  it('raw, raw6, udplite, udplite6, icmp and icmp6 headers, psched', () => {
    expect(renderRawHeader(4)).toBe(firstLine(host('/proc/net/raw')));
    expect(renderRawHeader(6)).toBe(firstLine(host('/proc/net/raw6')));
    expect(renderUdp([])).toBe(firstLine(host('/proc/net/udplite')));
    expect(renderUdp6([])).toBe(firstLine(host('/proc/net/udplite6')));
    expect(renderPsched()).toBe(host('/proc/net/psched'));
    expect(renderIcmp([])).toBe(firstLine(host('/proc/net/icmp')));
    expect(renderUdp6([])).toBe(firstLine(host('/proc/net/icmp6')));
  });

  it('raw and raw6 rows as raw_sock_seq_show and ip6_dgram_sock_seq_show print them', () => {
    // A raw ICMP socket bound to 127.0.0.1 and connected there; an unbound IPv6 UDP-protocol one.
    const lo = { address: Uint8Array.of(127, 0, 0, 1), port: 0 };
    const v4 = {
      local: { ...lo, port: 1 },
      remote: lo,
      state: 1,
      txQueue: 0,
      rxQueue: 768,
      uid: 0,
      inode: 4242,
      drops: 3,
    };
    expect(renderRaw(4, [v4])).toBe(
      firstLine(host('/proc/net/raw')) +
        '   0: 0100007F:0001 0100007F:0000 01 00000000:00000300 00:00000000 00000000     0        0 4242 2 0000000000000000 3\n',
    );
    const any6 = { address: new Uint8Array(16), port: 0 };
    const v6 = {
      local: { ...any6, port: 17 },
      remote: any6,
      state: 7,
      txQueue: 0,
      rxQueue: 0,
      uid: 1000,
      inode: 7,
    };
    expect(renderRaw(6, [v6])).toBe(
      firstLine(host('/proc/net/raw6')) +
        '    0: 00000000000000000000000000000000:0011 00000000000000000000000000000000:0000 07 ' +
        '00000000:00000000 00:00000000 00000000  1000        0 7 2 0000000000000000 0\n',
    );
  });
});

describe('/proc/net netlink, packet and anycast6 against Linux', () => {
  it('netlink of the host, kernel pointers zeroed', () => {
    const text = host('/proc/net/netlink');
    const sockets: ProcNetlinkSocket[] = text
      .split('\n')
      .slice(1, -1)
      .map((l) => {
        const f = l
          .trim()
          .split(/\s+/)
          .map((x, i) => (i === 3 ? parseInt(x, 16) : Number(x)));
        const [, protocol, portid, groups, rmem, wmem, dump, refCount, drops, inode] = f as number[];
        return { protocol, portid, groups, rmem, wmem, dump, refCount, drops, inode } as ProcNetlinkSocket;
      });
    expect(sockets.length).toBeGreaterThan(0);
    expect(renderNetlink(sockets)).toBe(text.replace(/^[0-9a-f]{16} /gm, '0000000000000000 '));
  });

  it('packet header, and an empty anycast6 in a fresh namespace', () => {
    expect(renderPacketHeader()).toBe(firstLine(host('/proc/net/packet')));
    expect(netnsFile('anycast6')).toBe('');
  });
});

describe('/proc/net tables in the tree', () => {
  it('reads the source, or shows an empty namespace without one', () => {
    const src = FixtureProcSource.sample();
    const { p } = mounted(ROOT_CREDS, src);
    expect(readAll(p, '/proc/net/sockstat')).toBe(renderSockstat(EMPTY_SOCKSTAT));
    expect(readAll(p, '/proc/net/ipv6_route')).toBe(renderIpv6Route([]));
    expect((readAll(p, '/proc/net/ipv6_route') as string).split('\n')).toHaveLength(3);
    const counts = {
      ...EMPTY_SOCKSTAT,
      used: 5,
      tcpInuse: 2,
      tcp6Inuse: 1,
      frag6Inuse: 1,
      frag6Memory: 1232,
    };
    const udp = fixtureNet().udp();
    src.netValue = { ...fixtureNet(), sockstat: () => counts, udplite6: () => udp };
    expect(readAll(p, '/proc/net/sockstat')).toContain('sockets: used 5\nTCP: inuse 2 orphan 0');
    expect(readAll(p, '/proc/net/sockstat6')).toBe(
      'TCP6: inuse 1\nUDP6: inuse 0\nUDPLITE6: inuse 0\nRAW6: inuse 0\nFRAG6: inuse 1 memory 1232\n',
    );
    expect(readAll(p, '/proc/net/udplite6')).toBe(renderUdp6(udp));
    expect(readAll(p, '/proc/net/udplite')).toBe(renderUdp([]));
    expect(readAll(p, '/proc/net/anycast6')).toBe('');
    expect(readAll(p, '/proc/net/netlink')).toBe(renderNetlink([]));
  });
});
