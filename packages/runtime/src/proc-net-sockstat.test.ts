// /proc/net/sockstat, sockstat6, ipv6_route, arp, raw, raw6, udplite, udplite6, icmp, icmp6,
// netlink, packet, anycast6 and psched in network mode `none`, compared with Linux:
// testdata/proc-net-sockstat.c opens a fixed set of loopback sockets (TCP pairs over IPv4 and
// IPv6, a connection waiting for accept, connections left in TIME_WAIT, UDP, UDP-Lite, ping and
// netlink sockets) and prints what those files show of them that is stable from run to run. It
// runs natively in a fresh network namespace (lo up, ping sockets allowed) and under tsvisor;
// both must print the same. Then the tools that read those files (`ss -s`, net-tools' `netstat
// -6 -r`, `route -6` and `arp`) run in both places and must agree, but for what Linux counts
// over the whole host or of the namespace's own sockets.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const NETNS_SETUP = 'ip link set lo up && echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range';
const TOOLS =
  'ss -s; echo "ss=$?"; netstat -6 -rn; echo "netstat=$?"; route -6 -n; echo "route=$?"; arp -an; echo "arp=$?"';

let native = '';
let nativeTools = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'proc-net-sockstat', ['-O1', '-Wall', '-Werror']);
  const netns = (script: string, ...args: string[]): string =>
    execFileSync('unshare', ['-n', 'sh', '-c', `${NETNS_SETUP} && ${script}`, ...args], {
      encoding: 'utf8',
      timeout: 20_000,
    });
  native = netns('exec "$0"', exe);
  nativeTools = netns(TOOLS);
});

/**
 * `ss -s` without its first two lines' host-wide figures: Linux's `Total` counts sockets of the
 * namespace's own, and the TCP total and `closed` come from sockstat's `alloc`, which counts the
 * whole host's TCP sockets.
 */
const hostWide = (text: string): string =>
  text
    .replace(/^Total: \d+\n/m, 'Total: N\n')
    .replace(/^TCP: +\d+ \(/m, 'TCP:   N (')
    .replace(/closed \d+/, 'closed N')
    // Linux's orphan count is the whole host's (tcp_orphan_count is global).
    .replace(/orphaned \d+/, 'orphaned N');

describe('proc-net-sockstat.c', () => {
  it('prints what Linux shows', () => {
    // The program must show Linux's figures, or the comparison below proves nothing.
    expect(native).toContain('open: TCP inuse 3 tw 0 UDP inuse 1 UDPLITE inuse 1 RAW inuse 0 FRAG inuse 0');
    expect(native).toContain(
      'open: TCP6 inuse 3 UDP6 inuse 1 UDPLITE6 inuse 1 RAW6 inuse 0 FRAG6 inuse 0 memory 0',
    );
    expect(native).toContain('used grew by 12 (sockets made 12)\n');
    expect(native).toContain('queued: TCP inuse 6 tw 0 ');
    expect(native).toContain('queued: used grew by 2 (a client and the connection it made)\n');
    expect(native).toContain('time-wait: TCP inuse 3 tw 2 ');
    expect(native).toContain('udplite header [   sl  local_address rem_address   st tx_queue');
    expect(native).toContain('psched 000003e8 00000040 000f4240 3b9aca00\n');
    // Linux lists ping sockets in icmp and icmp6.
    expect(native).toContain('icmp row 0100007F:port 00000000:0000 07 ');
    expect(native).toMatch(/^icmp6 row 0{24}01000000:port /m);
    expect(native).toContain('netlink rtnl kernel 1 mine 1 other rtnl 0\n');
    expect(native).toContain(
      'packet header [sk               RefCnt Type Proto  Iface R Rmem   User   Inode] rows 0\n',
    );
    expect(native).toMatch(/^ipv6_route 0{31}1 80 .* 80200001 lo len 149$/m);
  });

  it('prints the same under tsvisor (network none)', async () => {
    // As natively: ping sockets allowed for every group (the sandbox, like a fresh namespace,
    // allows none).
    const allowPing = 'echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range && exec "$0"';
    const r = await bed.run(['/bin/sh', '-c', allowPing, '/test/proc-net-sockstat'], {
      network: 'none',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(native);
    expect(r.status).toBe(0);
  }, 60_000);

  it('lets ss -s, netstat -6 -r, route -6 and arp read them as on Linux', async () => {
    expect(nativeTools).toContain('ss=0\n');
    expect(nativeTools).toContain(
      '::1/128                        ::                         Un   0   2      0 lo',
    );
    const r = await bed.run(['/bin/sh', '-c', TOOLS], { network: 'none' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Total: \d+\nTCP: +\d+ \(estab 0, closed 0, orphaned 0, timewait 0\)\n/);
    expect(hostWide(r.stdout)).toBe(hostWide(nativeTools));
    expect(r.status).toBe(0);
  }, 60_000);
});
