// /proc/net/snmp and /proc/net/snmp6 in network mode `none` count what netstack did, as Linux
// counts: testdata/net-mib.c reads both files around a fixed loopback scenario (TCP connections,
// resets, a refused connect, UDP to closed and open ports, a ping, the same over ::1) and prints
// the deltas that scenario fixes, then the octets of one UDP datagram alone. It runs natively in
// a fresh network namespace (lo up, ping sockets allowed for every group) and under tsvisor; both
// must print the same lines.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NetMib } from '@tsvisor/netstack';
import { NETSTAT_GROUPS, SNMP6_GROUPS, SNMP_GROUPS } from '@tsvisor/procfs';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'net-mib', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(
    'unshare',
    [
      '-n',
      'sh',
      '-c',
      'ip link set lo up && echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range && exec "$0"',
      exe,
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
});

describe('net-mib.c', () => {
  it('prints what Linux counts', () => {
    // The program must show Linux's counting, or the comparison below proves nothing.
    expect(native).toContain('3 open: Tcp.ActiveOpens 3 Tcp.PassiveOpens 3 Tcp.CurrEstab 6\n');
    expect(native).toContain(
      'tcp: Tcp.ActiveOpens 6 Tcp.PassiveOpens 5 Tcp.AttemptFails 1 Tcp.EstabResets 2 Tcp.CurrEstab 0 Tcp.OutRsts 2 ',
    );
    expect(native).toContain('udp: Udp.InDatagrams 1 Udp.NoPorts 1 Udp.InErrors 0 Udp.OutDatagrams 2 ');
    expect(native).toContain(
      'icmp: Icmp.InMsgs 3 Icmp.InErrors 0 Icmp.InCsumErrors 0 Icmp.InDestUnreachs 1 Icmp.InEchos 1 Icmp.InEchoReps 1 ',
    );
    expect(native).toContain('tcpext: TcpExt.TW 4 TcpExt.TWKilled 0 TcpExt.TCPAbortOnClose 1 ');
    expect(native).toContain('udp6: snmp6.Udp6InDatagrams 1 snmp6.Udp6NoPorts 1 ');
    expect(native).toContain('tcp segments: in > 0 1, out > 0 1, in == out + retrans 1\n');
    expect(native).toContain('ip octets: in > 0 1, in == out 1, not-ECT == received 1\n');
    expect(native).toContain('ip6 octets: in > 0 1, in == out 1, not-ECT == received 1\n');
    expect(native).toContain(
      'tcpext acks: pure + fast-path > 0 1, TcpExt.TCPHPHits 0 TcpExt.TCPDelivered 22 TcpExt.TCPDeliveredCE 0\n',
    );
    // Each ACK but the client's first (its fast path waits for a window change) on the fast path.
    expect(native).toContain(
      'tcp one way: TcpExt.TCPPureAcks 1 TcpExt.TCPHPAcks 9 TcpExt.TCPHPHits 0 TcpExt.TCPDelivered 10 ',
    );
    expect(native).toContain(
      'tcp ping-pong: pure + fast-path 19, data on the fast path > 0 1, TcpExt.TCPDelivered 19 ',
    );
    // 100 bytes of UDP payload: 128 bytes of IPv4 datagram, 148 of IPv6.
    expect(native).toContain(
      'udp alone: Ip.InReceives 1 Ip.OutRequests 1 IpExt.InOctets 128 IpExt.OutOctets 128 IpExt.InNoECTPkts 1 ',
    );
    expect(native).toContain(
      'udp6 alone: snmp6.Ip6InReceives 1 snmp6.Ip6InOctets 148 snmp6.Ip6OutOctets 148 snmp6.Ip6InNoECTPkts 1 ',
    );
  });

  it('counts the same under tsvisor (network none)', async () => {
    // As natively: ping sockets allowed for every group (the sandbox, like a fresh namespace,
    // allows none).
    const allowPing = 'echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range && exec "$0"';
    const r = await bed.run(['/bin/sh', '-c', allowPing, '/test/net-mib'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(native);
    expect(r.status).toBe(0);
  }, 60_000);

  it("leaves the counters of network mode host at 0 (they are the host kernel's)", async () => {
    // A refused connect first: on a host socket, so the host kernel counts it, not the sandbox.
    const r = await bed.run(
      ['/bin/busybox', 'sh', '-c', 'wget -q -O- http://127.0.0.1:1/ 2>/dev/null; cat /proc/net/snmp'],
      { network: 'host' },
    );
    expect(r.status).toBe(0);
    const tcp = r.stdout.split('\n').filter((l) => l.startsWith('Tcp: '))[1];
    expect(tcp).toBe('Tcp: 1 200 120000 -1 0 0 0 0 0 0 0 0 0 0 0');
  }, 60_000);
});

describe('the counters netstack keeps', () => {
  it('each has its line in /proc/net/snmp, netstat or snmp6', () => {
    const lines = new Set<string>();
    for (const groups of [SNMP_GROUPS, NETSTAT_GROUPS, SNMP6_GROUPS])
      for (const [group, names] of groups) for (const n of names) lines.add(`${group}.${n}`);
    const mib = new NetMib();
    mib.icmp.inType[8] = 1; // per-type lines have no fixed name: they must merely parse
    mib.icmp6.outType[135] = 1;
    const keys = Object.keys(mib.snapshot());
    const perType = keys.filter((k) => /^(IcmpMsg|Icmp6)\.(In|Out)Type\d+$/.test(k));
    expect(perType.sort()).toEqual(['Icmp6.OutType135', 'IcmpMsg.InType8']);
    // Linux keeps UdpLite6's IgnoredMulti too but does not print it (snmp6_udplite6_list).
    const unprinted = keys.filter((k) => !lines.has(k) && !perType.includes(k));
    expect(unprinted).toEqual(['UdpLite6.IgnoredMulti']);
  });
});
