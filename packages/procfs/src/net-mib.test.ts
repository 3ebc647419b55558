/**
 * /proc/net/snmp (with its IcmpMsg lines) and /proc/net/snmp6: the renderers reproduce the host's
 * own files byte for byte from the counters read out of them, and the tree serves them from the
 * namespace's `mib()`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FixtureProcSource, fixtureNet } from './fixture.js';
import { mounted, readAll } from './mount.test-util.js';
import { renderSnmp, renderSnmp6 } from './net.js';

const host = (path: string): string => readFileSync(path, 'latin1');

/** The counters of a /proc/net/snmp-style file (pairs of `Group: names` / `Group: values` lines). */
function snmpCounters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(' ');
    const values = lines[i + 1]!.split(' ');
    const group = names[0]!.slice(0, -1);
    names.slice(1).forEach((n, j) => (out[`${group}.${n}`] = Number(values[j + 1])));
  }
  return out;
}

/** The counters of /proc/net/snmp6 (`Ip6InReceives    \t8965` lines), keyed `Ip6.InReceives`. */
function snmp6Counters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [name, value] = line.split('\t') as [string, string];
    const m = /^(Ip6|Icmp6|Udp6|UdpLite6)(\w+?)\s*$/.exec(name);
    if (!m) throw new Error(`unexpected snmp6 line ${line}`);
    out[`${m[1]}.${m[2]}`] = Number(value);
  }
  return out;
}

describe('/proc/net/snmp and snmp6', () => {
  it('renderSnmp gives the host file, IcmpMsg lines included', () => {
    const text = host('/proc/net/snmp');
    expect(renderSnmp(snmpCounters(text))).toBe(text);
  });

  it('renderSnmp6 gives the host file, Icmp6 per-type lines included', () => {
    const text = host('/proc/net/snmp6');
    expect(renderSnmp6(snmp6Counters(text))).toBe(text);
  });

  it('IcmpMsg: received types by number, then sent ones, 16 to a line pair; none without ICMP', () => {
    const counters: Record<string, number> = {
      'IcmpMsg.OutType0': 2,
      'IcmpMsg.InType8': 2,
      'IcmpMsg.InType3': 0,
    };
    for (let t = 0; t < 20; t++) counters[`IcmpMsg.OutType${t + 100}`] = t + 1;
    const lines = renderSnmp(counters).split('\n');
    const msg = lines.filter((l) => l.startsWith('IcmpMsg:'));
    expect(msg).toHaveLength(4);
    expect(msg[0]).toBe(
      'IcmpMsg: InType8 OutType0 ' + Array.from({ length: 14 }, (_, t) => `OutType${t + 100}`).join(' '),
    );
    expect(msg[1]).toBe('IcmpMsg: 2 2 ' + Array.from({ length: 14 }, (_, t) => t + 1).join(' '));
    expect(msg[2]).toBe('IcmpMsg: OutType114 OutType115 OutType116 OutType117 OutType118 OutType119');
    expect(msg[3]).toBe('IcmpMsg: 15 16 17 18 19 20');
    // Right after the Icmp value line, before Tcp.
    const icmp = lines.findIndex((l) => l.startsWith('Icmp: InMsgs'));
    expect(lines[icmp + 2]).toBe(msg[0]);
    expect(renderSnmp({}).includes('IcmpMsg')).toBe(false);
  });

  it('the tree serves snmp and snmp6 from the namespace counters', () => {
    const src = FixtureProcSource.sample();
    src.netValue = {
      ...fixtureNet(),
      mib: () => ({ 'Tcp.ActiveOpens': 3, 'IcmpMsg.InType8': 1, 'Ip6.InReceives': 7, 'Icmp6.OutType135': 2 }),
    };
    const { p } = mounted(undefined, src);
    const snmp = readAll(p, '/proc/net/snmp') as string;
    expect(snmp).toContain('\nTcp: 1 200 120000 -1 3 0 ');
    expect(snmp).toContain('\nIcmpMsg: InType8\nIcmpMsg: 1\n');
    const snmp6 = readAll(p, '/proc/net/snmp6') as string;
    expect(snmp6.startsWith('Ip6InReceives                   \t7\n')).toBe(true);
    expect(snmp6).toContain('\nIcmp6OutType135                 \t2\nUdp6InDatagrams ');
    expect(readAll(p, '/proc/self/net/snmp6')).toBe(snmp6);
  });
});
