// iproute2 against Linux: the same shell script runs natively in a fresh network namespace (lo
// up) and under tsvisor --network none, and `ip` must print the same.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runNativeOnEth0, testbed } from './c-programs.test-util.js';
import { underIpMonitor } from './ip-monitor.test-util.js';

const bed = testbed();
const ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LC_ALL=C'];

function nativeSh(script: string): string {
  return execFileSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && ${script}`], {
    encoding: 'utf8',
    env: { PATH: ENV[0]!.slice(5), LC_ALL: 'C' },
    timeout: 20_000,
  });
}

/** Runs `script` (its stderr into its stdout) natively and under tsvisor; both must print the same. */
async function expectSameUnderTsvisor(script: string): Promise<string> {
  const both = `exec 2>&1\n${script}`;
  const want = nativeSh(both);
  const got = await bed.run(['/bin/sh', '-c', both], { env: ENV, network: 'none' });
  expect(got.stderr).toBe('');
  expect(got.stdout).toBe(want);
  expect(got.status).toBe(0);
  return want;
}

/**
 * `ip addr add/del` on lo and what they leave in `ip addr`, `ip route` and /proc/net/if_inet6
 * (sorted: Linux lists it in the order of a hash keyed by the namespace, random per namespace).
 * Linux finishes a new IPv6 address in a work item (lo skips DAD, but the address is tentative
 * until the item ran): the script waits before it looks.
 */
const ADDR_SCRIPT = `
ip addr add 10.9.9.9/24 dev lo; echo rc=$?
ip addr add 10.9.9.9/24 dev lo; echo rc=$?
ip addr add 10.9.9.10/24 dev lo
ip addr add 200.1.1.1/8 dev lo
ip addr add 10.9.9.0/32 dev lo
ip -6 addr add 2001:db8::1/64 dev lo
ip -6 addr add 2001:db8::1:1/112 dev lo
ip -6 addr add fe80::5/64 dev lo
ip -6 addr add 2001:db8::9/64 dev lo nodad
ip -6 addr add 2001:db8::1/64 dev lo; echo rc=$?
ip addr del 10.1.1.1/24 dev lo; echo rc=$?
ip addr add 10.5.5.5/24 dev nosuch; echo rc=$?
sleep 0.2
ip addr; ip -br addr; ip -j addr show lo; echo
ip route show table all; ip -6 route show table all; sort /proc/net/if_inet6
ip addr del 10.9.9.9/24 dev lo
ip -6 addr del 2001:db8::1/64 dev lo
sleep 0.2
ip addr show lo; ip route show table all
`;

/** `ip route add/del/replace` in the main table, their errors, and what `ip route` shows. */
const ROUTE_SCRIPT = `
ip route add 10.8.0.0/16 dev lo; echo rc=$?
ip route add 10.8.0.0/16 dev lo; echo rc=$?
ip route add 10.8.0.0/16 dev lo metric 5; echo rc=$?
ip route add 10.7.0.0/16 via 10.9.9.1; echo rc=$?
ip addr add 10.9.9.9/24 dev lo
ip route add 10.7.0.0/16 via 10.9.9.1; echo rc=$?
ip route add 10.6.0.0/16 via 127.0.0.2; echo rc=$?
ip route add 10.6.1.0/24 dev lo src 10.9.9.9 mtu 1400; echo rc=$?
ip route add 10.0.0.0/8; echo rc=$?
ip -6 route add 2001:db8:1::/48 dev lo; echo rc=$?
ip -6 route add 2001:db8:1::/48 dev lo; echo rc=$?
ip -6 route add 2001:db8:1::/48 dev lo metric 7; echo rc=$?
ip -6 route add 2001:db8:2::/48 via fe80::1 dev lo; echo rc=$?
ip -6 route add 2001:db8:3::/48 via 2001:db8:9::1; echo rc=$?
ip route; ip -6 route; ip route show table all; ip -6 route show table all; ip -j route; echo
ip route del 10.3.0.0/16; echo rc=$?
ip route del 10.8.0.0/16 dev lo metric 5; echo rc=$?
ip route del 10.8.0.0/16; echo rc=$?
ip -6 route del 2001:db8:7::/48; echo rc=$?
ip -6 route del 2001:db8:1::/48 metric 7; echo rc=$?
ip route replace 10.6.0.0/16 via 10.9.9.2; echo rc=$?
ip route; ip -6 route
`;

/**
 * `ip monitor` (one line per message) while addresses and routes change: the RTM_NEW and RTM_DEL
 * announcements to the members of RTNLGRP_IPV4_IFADDR, IPV6_IFADDR, IPV4_ROUTE and IPV6_ROUTE, in
 * Linux's order. Linux also announces a new IPv6 address while it is tentative (a moment, even on
 * lo, where its DAD is skipped); tsvisor's addresses are never tentative, so that line is left out.
 */
const MONITOR_SCRIPT = underIpMonitor(
  'monitor',
  `
ip addr add 10.9.9.9/24 dev lo; ip addr add 10.9.9.10/24 dev lo; ip -6 addr add 2001:db8::1/64 dev lo
# Linux announces a new IPv6 address from a work item, not within the request: give it time, or
# the next command's announcement sometimes comes first (tsvisor announces at once).
sleep 0.2
ip route add 10.8.0.0/16 dev lo; ip route del 10.8.0.0/16
ip addr del 10.9.9.9/24 dev lo; ip -6 addr del 2001:db8::1/64 dev lo
sleep 0.5
`,
  'grep -v tentative',
);

/**
 * `ip link set lo mtu N` and what `ip link` shows after it, with the no-op requests (the same MTU,
 * `up` on a link that is up) and a missing device.
 */
const LINK_SCRIPT = `
ip link set lo mtu 1400; echo rc=$?
ip link set lo mtu 1400; echo rc=$?
ip link set lo up; echo rc=$?
ip link set dev lo mtu 1280 up; echo rc=$?
ip link set nosuch mtu 1400; echo rc=$?
ip link; ip link show lo; ip -j link show lo; echo; ip -br link
ip link set lo mtu 65536; echo rc=$?
ip link show lo
`;

/** \`ip monitor\` while lo's MTU changes: one RTM_NEWLINK per change, none for the same MTU. */
const LINK_MONITOR_SCRIPT = underIpMonitor(
  'monitor',
  `
ip link set lo mtu 1400; ip link set lo mtu 1400; ip link set lo up; ip link set lo mtu 65536
sleep 0.5
`,
);
/**
 * \`ip link set lo down\` and \`up\`: lo keeps its IPv4 addresses and local routes, loses ::1,
 * the addresses added to it and the routes through it; up gives back ::1 alone. Its other flags
 * and its queue length change too, also through busybox ifconfig (SIOCSIFFLAGS, SIOCSIFTXQLEN).
 */
const LINK_UPDOWN_SCRIPT = `
ip addr add 10.9.9.9/24 dev lo
ip -6 addr add 2001:db8::2/64 dev lo
ip route add 10.7.0.0/16 dev lo
ip route add 10.8.0.0/16 via 10.9.9.1
ip -6 route add 2001:db8:1::/64 dev lo
sleep 0.2
ip link set lo down; echo rc=$?
ip link set lo down; echo rc=$?
ip link show lo; ip -br link; ip addr; ip route show table all; ip -6 route show table all
ping -c 1 -W 1 127.0.0.1 >/dev/null; echo ping rc=$?
ip link set lo promisc on allmulticast on arp off; echo rc=$?
ip link set lo txqueuelen 5; echo rc=$?
ip link show lo; ip -j link show lo; echo
ip link set lo txqueuelen -1; echo rc=$?
ip link show lo
ip link set lo promisc off allmulticast off arp on txqueuelen 1000 up; echo rc=$?
sleep 0.2
ip link show lo; ip addr; ip route show table all; ip -6 route show table all
ping -c 1 -W 1 127.0.0.1 >/dev/null; echo ping rc=$?
busybox ifconfig lo down; echo rc=$?
ip -o link show lo
busybox ifconfig lo txqueuelen 5 promisc; echo rc=$?
ip -o link show lo
busybox ifconfig lo up -promisc txqueuelen 1000; echo rc=$?
ip -o link show lo; ip -o addr
`;

/** \`ip monitor\` while lo goes down and up: the link, then ::1 and its route, in Linux's order. */
const LINK_UPDOWN_MONITOR_SCRIPT = underIpMonitor(
  'monitor',
  `
ip link set lo down; ip link set lo txqueuelen 7; ip link set lo promisc on
ip link set lo promisc off txqueuelen 1000; ip link set lo up
sleep 0.5
`,
);
/**
 * eth0 down and up in network mode \`sandbox\`: its IPv4 address and local route stay, the prefix,
 * broadcast and default routes go (silently), pings are ENETUNREACH; up brings back the prefix and
 * broadcast routes (announced), not the default route. Neighbour announcements are left out
 * (the sandbox sends none).
 */
const ETH0_UPDOWN_SCRIPT = underIpMonitor(
  '-4 monitor all',
  `
ip link set eth0 down; echo rc=$?
ip link show eth0; ip -4 addr show eth0; ip -4 route show table all
cat /sys/class/net/eth0/operstate /sys/class/net/eth0/flags /proc/net/route
ping -c 1 -W 1 10.0.2.2; echo ping rc=$?
ip link set eth0 up; echo rc=$?
sleep 0.5
ip link show eth0; ip -4 route show table all; cat /sys/class/net/eth0/operstate
ping -c 1 -W 1 -q 10.0.2.2 >/dev/null; echo ping rc=$?
ip route add default via 10.0.2.2; echo rc=$?
ip -4 route; cat /proc/net/route
ip -s -s link show eth0 | grep -A1 transns
`,
  'grep -v NEIGH',
);
/** runNativeOnEth0 with `ip`'s environment, the peer's ifindex and namespace id taken out. */
function nativeEth0(script: string): string {
  return runNativeOnEth0(script, { PATH: ENV[0]!.slice(5), LC_ALL: 'C' })
    .replace(/@if\d+/g, '')
    .replace(/ link-netnsid \d+/g, '');
}

describe('ip under tsvisor prints what it prints on Linux', () => {
  it('ip link set lo down and up: addresses, routes, flags and queue length', async () => {
    const out = await expectSameUnderTsvisor(LINK_UPDOWN_SCRIPT);
    expect(out).toMatch(/^rc=0\nrc=0\n1: lo: <LOOPBACK> mtu 65536 qdisc noqueue state DOWN /);
    expect(out).toContain('ping rc=1\n');
    expect(out).toContain(
      '<LOOPBACK,NOARP,ALLMULTI,PROMISC> mtu 65536 qdisc noqueue state DOWN mode DEFAULT group default qlen 5',
    );
    expect(out).toContain('ping rc=0\n');
    // busybox ifconfig: SIOCSIFFLAGS and SIOCSIFTXQLEN.
    expect(out).toContain(
      'rc=0\n1: lo: <LOOPBACK,PROMISC> mtu 65536 qdisc noqueue state DOWN mode DEFAULT group default qlen 5\\',
    );
  });

  it('ip monitor: lo down and up', async () => {
    const out = await expectSameUnderTsvisor(LINK_UPDOWN_MONITOR_SCRIPT);
    expect(out).toMatch(
      /^1: lo: <LOOPBACK> mtu 65536 qdisc noqueue state DOWN .*\nDeleted local ::1 dev lo /,
    );
    // promisc off and txqueuelen 1000 in one request: two announcements, as two events.
    expect(out.match(/^1: lo: /gm)).toHaveLength(6);
    expect(out).toContain('Deleted 1: lo    inet6 ::1/128 scope host');
  });

  it('ip -s link and /proc/net/dev: lo counts two pings by IP length', async () => {
    const out = await expectSameUnderTsvisor(
      'ping -c 2 -i 0.2 -q 127.0.0.1 >/dev/null 2>&1; echo ping $?; ip -s link show lo; ip -s -s link show lo; ' +
        'ip -j -s link show lo; echo; grep lo: /proc/net/dev',
    );
    // Two requests and two replies of 84 bytes each, in both columns.
    expect(out).toMatch(/^ping 0\n/);
    expect(out).toContain('"stats64":{"rx":{"bytes":336,"packets":4,');
  });

  it('ip rule: the default rules of both families', async () => {
    const out = await expectSameUnderTsvisor(
      'ip rule; ip -6 rule; ip -j -d rule; ip rule show table main; ip rule list pref 32767',
    );
    expect(out).toMatch(
      /^0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n/,
    );
  });

  it('ip addr add/del on lo, and the addresses and routes they leave', async () => {
    const out = await expectSameUnderTsvisor(ADDR_SCRIPT);
    expect(out).toContain('Error: ipv4: Address already assigned.\nrc=2\n');
    expect(out).toContain('    inet 10.9.9.10/24 scope global secondary lo\n');
    expect(out).toContain('local 10.9.9.0/24 dev lo table local proto kernel scope host src 10.9.9.9 \n');
    expect(out).toContain('2001:db8::1:0/112 dev lo proto kernel metric 256 pref medium\n');
  });

  it('ip route add/del/replace in the main table', async () => {
    const out = await expectSameUnderTsvisor(ROUTE_SCRIPT);
    expect(out).toContain('Error: Nexthop has invalid gateway.\nrc=2\n');
    expect(out).toContain('10.6.1.0/24 dev lo scope link src 10.9.9.9 mtu 1400 \n');
    expect(out).toContain('10.8.0.0/16 dev lo scope link metric 5 \n');
  });

  it('ip monitor: the announcements of address and route changes', async () => {
    const out = await expectSameUnderTsvisor(MONITOR_SCRIPT);
    expect(out).toMatch(/^1: lo {4}inet 10\.9\.9\.9\/24 scope global lo\\/);
    expect(out).toContain('Deleted 2001:db8::/64 dev lo proto kernel metric 256 pref medium');
  });

  it('ip link set lo mtu, and what ip link shows', async () => {
    const out = await expectSameUnderTsvisor(LINK_SCRIPT);
    expect(out).toMatch(/^rc=0\nrc=0\nrc=0\nrc=0\n/);
    expect(out).toContain('1: lo: <LOOPBACK,UP,LOWER_UP> mtu 1280 qdisc noqueue state UNKNOWN');
  });

  it('ip monitor: the announcements of MTU changes', async () => {
    const out = await expectSameUnderTsvisor(LINK_MONITOR_SCRIPT);
    expect(out.match(/^1: lo: /gm)).toHaveLength(2);
    expect(out).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP> mtu 1400 /);
  });

  // eth0's largest MTU is its device's, 65520 (as a slirp4netns or passt tap).
  it('network sandbox: ip link set eth0 mtu, its limits, and /sys', async () => {
    const got = await bed.run(
      [
        '/bin/sh',
        '-c',
        'exec 2>&1; ip link set eth0 mtu 1400; echo rc=$?; ip link set eth0 mtu 65521; echo rc=$?; ' +
          'ip link set eth0 mtu 67; echo rc=$?; ip link set eth0 mtu 1000; echo rc=$?; ' +
          'ip link set lo mtu 9000; echo rc=$?; ' +
          'ip -o link; cat /sys/class/net/eth0/mtu /sys/class/net/lo/mtu',
      ],
      { env: ENV, network: 'sandbox' },
    );
    expect(got.stderr).toBe('');
    expect(got.status).toBe(0);
    const out = got.stdout;
    expect(out).toMatch(
      /^rc=0\nError: mtu greater than device maximum\.\nrc=2\nError: mtu less than device minimum\.\nrc=2\n/,
    );
    // Below IPv6's minimum Linux takes IPv6 off the link: not modelled.
    expect(out).toContain('RTNETLINK answers: Operation not supported\nrc=2\nrc=0\n');
    expect(out).toContain('1: lo: <LOOPBACK,UP,LOWER_UP> mtu 9000 ');
    expect(out).toContain('2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1400 ');
    expect(out).toMatch(/\n1400\n9000\n$/);
  });

  it('network sandbox: ip link set eth0 down and up, as a veth in a namespace of its own', async () => {
    const got = await bed.run(['/bin/sh', '-c', ETH0_UPDOWN_SCRIPT], { env: ENV, network: 'sandbox' });
    expect(got.stderr).toBe('');
    expect(got.status).toBe(0);
    const want = nativeEth0(ETH0_UPDOWN_SCRIPT);
    expect(got.stdout).toBe(want);
    expect(want).toContain('ping: connect: Network is unreachable\nping rc=2\n');
    // Up: the prefix and broadcast routes come back, the default route does not.
    expect(want).toContain(
      '[ROUTE]broadcast 10.0.2.255 dev eth0 table local proto kernel scope link src 10.0.2.15 \n' +
        '[ROUTE]10.0.2.0/24 dev eth0 proto kernel scope link src 10.0.2.15 \n' +
        '[LINK]2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 65520 qdisc noqueue state UP ',
    );
  });

  it('network sandbox: ip link set lo down and up leaves eth0 alone', async () => {
    const script = `
exec 2>&1
ip link set lo down; echo rc=$?
ip -o link; ip -o addr; ip route show table all; ip -6 route show table all
ping -c 1 -W 1 127.0.0.1 >/dev/null; echo ping rc=$?
ping -c 1 -W 1 -q 10.0.2.2 >/dev/null; echo ping rc=$?
ip link set lo up; echo rc=$?
sleep 0.2
ip -o link; ip -o addr; ip route show table all; ip -6 route show table all
`;
    const got = await bed.run(['/bin/sh', '-c', script], { env: ENV, network: 'sandbox' });
    expect(got.stderr).toBe('');
    expect(got.status).toBe(0);
    const want = nativeEth0(script);
    expect(got.stdout).toBe(want);
    expect(want).toContain('ping rc=1\nping rc=0\n');
  });

  it('network sandbox: ip route get, as a veth in a namespace of its own', async () => {
    const script = `
exec 2>&1
ip route get 10.0.2.2; ip route get 8.8.8.8; ip -j route get 8.8.8.8; echo
ip route get 10.0.2.15; ip route get 10.0.2.255; ip route get 255.255.255.255
ip route get 10.0.2.2 from 10.0.2.15; ip route get 10.0.2.2 from 127.0.0.1; ip route get 10.0.2.7 oif eth0
ip route get 224.0.0.1; ip route get 239.1.2.3; ip route get fibmatch 8.8.8.8
`;
    const got = await bed.run(['/bin/sh', '-c', script], { env: ENV, network: 'sandbox' });
    expect(got.stderr).toBe('');
    expect(got.status).toBe(0);
    const want = nativeEth0(script);
    expect(got.stdout).toBe(want);
    expect(want).toMatch(
      /^10\.0\.2\.2 dev eth0 src 10\.0\.2\.15 uid 0 \n {4}cache \n8\.8\.8\.8 via 10\.0\.2\.2 dev eth0 /,
    );
    // The limited broadcast leaves by the default route's link, without its gateway.
    expect(want).toContain(
      'broadcast 255.255.255.255 dev eth0 src 10.0.2.15 uid 0 \n    cache <local,brd> \n',
    );
  });

  it('network sandbox: addresses added to eth0 and lo land on their link, and go as on Linux', async () => {
    const got = await bed.run(
      [
        '/bin/sh',
        '-c',
        'ip addr add 10.0.2.99/24 dev eth0 && ip addr add 10.9.9.9/24 dev lo && ' +
          'ip -6 addr add fd00::5/64 dev eth0 && ip -o addr && ip route show table all && ' +
          'ip -6 route show table main && ip route add 192.0.2.0/24 via 10.0.2.2 metric 10 && ' +
          'ip route add 198.51.100.0/24 dev lo && ip route && ' +
          'ip addr del 10.0.2.15/24 dev eth0 && echo deleted && ip -o -4 addr',
      ],
      { env: ENV, network: 'sandbox' },
    );
    expect(got.stderr).toBe('');
    expect(got.status).toBe(0);
    const out = got.stdout;
    expect(out).toContain('1: lo    inet 10.9.9.9/24 scope global lo\\       valid_lft forever');
    expect(out).toContain('2: eth0    inet 10.0.2.99/24 scope global secondary eth0\\');
    // Tentative while duplicate address detection runs, as on Linux (its local route comes after).
    expect(out).toContain('2: eth0    inet6 fd00::5/64 scope global tentative \\');
    // A secondary address's local route prefers its primary as source; lo's prefix is local.
    expect(out).toContain('local 10.0.2.99 dev eth0 table local proto kernel scope host src 10.0.2.15 \n');
    expect(out).toContain('local 10.9.9.0/24 dev lo table local proto kernel scope host src 10.9.9.9 \n');
    expect(out).toContain('fd00::/64 dev eth0 proto kernel metric 256 pref medium\n');
    // A route via the gateway leaves by eth0, one on lo by lo; the main table in trie order.
    expect(out).toContain(
      'default via 10.0.2.2 dev eth0 proto static \n10.0.2.0/24 dev eth0 proto kernel scope link src 10.0.2.15 \n' +
        '192.0.2.0/24 via 10.0.2.2 dev eth0 metric 10 \n198.51.100.0/24 dev lo scope link \n',
    );
    // Removing the primary took its secondary along (promote_secondaries is off by default).
    const after = out.slice(out.indexOf('deleted\n'));
    expect(after).not.toContain('10.0.2.');
    expect(after).toContain('1: lo    inet 10.9.9.9/24 scope global lo');
  });
});
