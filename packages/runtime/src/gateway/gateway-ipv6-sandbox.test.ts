// Network mode `sandbox` with IPv6 end to end: sandboxed programs reach servers this test runs
// on the host's ::1 through fd00::2, ask DNS on fd00::3, and `ip` shows eth0's IPv6 side.
// Traffic never leaves the host's loopback.
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, testbed } from '../c-programs.test-util.js';
import { underIpMonitor } from '../ip-monitor.test-util.js';
import { type NameserverConfig } from './gateway.js';
import { startFakeDns, type FakeDns } from './dns-fake.test-util.js';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = join(here, '..', 'testdata');
const bed = testbed((dir) => void compile(dir, 'ipv6-dad', ['-O1']));
const volumes = [{ host: scripts, sandbox: '/scripts', readOnly: true }];

let fakeDns: FakeDns;
let nameservers: NameserverConfig;
let tcp: Server;
let udp: DgramSocket;
beforeAll(async () => {
  fakeDns = await startFakeDns();
  nameservers = { servers: [{ address: '127.0.0.1', port: fakeDns.port }], timeoutMs: 300, attempts: 1 };
  tcp = createServer({ allowHalfOpen: true }, (c) => c.pipe(c));
  await new Promise<void>((r) => tcp.listen(0, '::1', r));
  udp = createSocket('udp6');
  udp.on('message', (m, r) => udp.send(Buffer.from(m.toString().toUpperCase()), r.port, r.address));
  await new Promise<void>((r) => udp.bind(0, '::1', r));
});
afterAll(async () => {
  tcp.close();
  udp.close();
  await fakeDns.close();
});

/** A closed port of the host's ::1. */
async function closedPort6(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '::1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const resolver = (name: string, family: 4 | 6): Promise<string[] | 'nxdomain'> =>
  Promise.resolve(name === 'dual.test' ? (family === 6 ? ['2001:db8::53'] : ['192.0.2.53']) : 'nxdomain');

describe('network sandbox with IPv6', () => {
  it('TCP and UDP to the host ::1 through fd00::2, a refused port, DNS through fd00::3', async () => {
    const closed = await closedPort6();
    const r = await bed.run(
      [
        'python3.11',
        '/scripts/net-gateway-ipv6.py',
        String((tcp.address() as AddressInfo).port),
        String(udp.address().port),
        String(closed),
      ],
      { volumes, network: 'sandbox', ipv6: true, resolver, nameservers },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'tcp local fd00::100',
      'tcp echo of 256 KiB True',
      "udp reply b'UDP PING' True",
      'udp echo of 1500 bytes True',
      'udp echo of 9000 bytes True',
      'udp echo of 65507 bytes True',
      'closed port refused True',
      "dns udp 28 fd00::3 ('0x1111', 0, ['2001:db8::53'])",
      "dns udp 1 fd00::3 ('0x2222', 0, ['192.0.2.53'])",
      "dns tcp ('0x3333', 0, ['2001:db8::53'])",
      "getaddrinfo ['2001:db8::53']",
      'fd00::3:5353 udp refused True',
      '',
    ]);
    expect(r.status).toBe(0);
  });

  it('ip -6 addr and route, /proc/net/if_inet6 and ping as Linux shows them on such a veth', async () => {
    const want = await sameAsVeth(IP6_SCRIPT);
    expect(want).toContain('    inet6 fd00::100/64 scope global \n');
    expect(want).toContain('default via fd00::2 dev eth0 proto static metric 1024 pref medium\n');
    expect(want).toContain('ping rc=0\n');
  });

  it('ip -6 route get: on link, through the default router, this host, as on such a veth', async () => {
    const want = await sameAsVeth(
      'exec 2>&1; ip -6 route get fd00::2; ip -6 route get 2001:db8::1; ip -6 route get fd00::100; ' +
        'ip -6 route get fe80::42:aff:fe00:202 oif eth0; ip -6 route get fibmatch 2001:db8::1',
    );
    expect(want).toContain(
      '2001:db8::1 from :: via fd00::2 dev eth0 proto static src fd00::100 metric 1024 pref medium\n',
    );
  });

  it('ip link set eth0 down and up with IPv6, as on such a veth', async () => {
    const want = await sameAsVeth(UPDOWN6_SCRIPT);
    expect(want).toMatch(/^rc=0\nlocal ::1 dev lo table local proto kernel metric 0 pref medium\n/);
    expect(want).toContain('ping: connect: Network is unreachable\nping rc=2\nrc=0\n');
    expect(want).toContain('Deleted 2: eth0    inet6 fd00::100/64 scope global');
    expect(want).toContain('\n2: eth0    inet6 fe80::42:aff:fe00:20f/64 scope link');
    expect(want.match(/fd00::100/g)).toHaveLength(2); // deleted (address and local route), not back
  });

  it('ip addr add on eth0: tentative, announced again with its local route when DAD passed', async () => {
    const want = await sameAsVeth(ADD6_SCRIPT);
    expect(want).toContain(
      'fd01::/64 dev eth0 proto kernel metric 256 pref medium\n' +
        '2: eth0    inet6 fd01::5/64 scope global tentative \\       valid_lft forever preferred_lft forever\n' +
        '2: eth0    inet6 fd01::5/64 scope global \\       valid_lft forever preferred_lft forever\n' +
        'local fd01::5 dev eth0 table local proto kernel metric 0 pref medium\n',
    );
  });

  it('eth0 up runs DAD of the link-local address: tentative, not bindable, no source, then valid', async () => {
    const want = await sameAsVeth('exec 2>&1; "$TEST/ipv6-dad"');
    expect(want).toBe(
      'before: flags 80 bind 0\n' +
        'down: flags -1 bind Cannot assign requested address\n' +
        'up: flags c0 bind Cannot assign requested address connect Cannot assign requested address\n' +
        'DAD done after 1 to 3 s: yes\n' +
        'after: flags 80 bind 0 connect 0\n' +
        'DAD solicitation sent: yes\n',
    );
  });

  it('resolv.conf names both DNS addresses; fd00::2 is found by neighbour discovery', async () => {
    const r = await bed.run(
      ['sh', '-c', 'cat /etc/resolv.conf; ping -6 -c 1 -W 2 -q fd00::2 >/dev/null 2>&1; ip -6 neigh'],
      { network: 'sandbox', ipv6: true, resolver, nameservers },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /^nameserver 10\.0\.2\.3\nnameserver fd00::3\nfd00::2 dev eth0 lladdr 02:42:0a:00:02:02 (router )?(REACHABLE|STALE|DELAY|PROBE) ?\n$/,
    );
  });
});

const ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LC_ALL=C'];

/** eth0's IPv6 side as `ip` and procfs show it (if_inet6 sorted: Linux lists it in hash order). */
const IP6_SCRIPT = `
exec 2>&1
ip -6 addr show eth0; ip -6 route; ip -6 route show table local | grep -v multicast
sort /proc/net/if_inet6
ping -6 -c 1 -W 2 -q fd00::2 >/dev/null 2>&1; echo ping rc=$?
`;

/**
 * A script that runs `steps` with `ip -6 monitor address route` recording, then prints what it
 * recorded (multicast routes left out), `sorted` or in the order it came.
 */
function underMonitor(steps: string, sorted: boolean): string {
  return underIpMonitor('-6 monitor address route', steps, `grep -v multicast${sorted ? ' | sort' : ''}`, 6);
}

/**
 * eth0 down and up: down takes its IPv6 addresses and their routes (the default route too); up
 * brings back the link-local address and its route, not fd00::100 nor the default route. Both
 * run DAD on the link-local address first (the script waits until eth0 has its link-local address
 * again, which Linux's veth adds only once the carrier is seen, and none is tentative), and
 * announce the address with its local route when DAD passed. The announcements are compared
 * sorted; the ff00::/8 multicast route is not modelled.
 */
const UPDOWN6_SCRIPT = underMonitor(
  `
ip link set eth0 down; echo rc=$?
ip -6 addr show eth0; ip -6 route show table all | grep -v multicast
ping -6 -c 1 -W 1 fd00::2; echo ping rc=$?
ip link set eth0 up; echo rc=$?
while ! ip -6 addr show dev eth0 scope link | grep -q inet6 || ip -6 addr show tentative | grep -q .; do sleep 0.1; done
ip -6 addr show eth0; ip -6 route show table all | grep -v multicast
ping -6 -c 1 -W 1 -q fe80::42:aff:fe00:202%eth0 >/dev/null 2>&1; echo ping rc=$?
`,
  true,
);

/**
 * `ip -6 addr add` on eth0: the address is tentative (listed so, with its prefix route but no
 * local route) until DAD passes; `ip monitor` sees the prefix route and the tentative address at
 * once, the address again and its local route when DAD passed.
 */
const ADD6_SCRIPT = underMonitor(
  `
ip -6 addr add fd01::5/64 dev eth0; echo rc=$?
ip -6 addr show eth0 to fd01::/64; ip -6 route show table all | grep -v multicast
while ip -6 addr show tentative | grep -q .; do sleep 0.1; done
ip -6 addr show eth0 to fd01::/64; ip -6 route show table all | grep -v multicast
`,
  false,
);

/**
 * Runs `script` in a sandbox with IPv6 on eth0 and natively on the veth of {@link nativeEth0v6};
 * the outputs must be equal. Returns the native one. `$TEST` is the directory of the compiled
 * test programs.
 */
async function sameAsVeth(script: string): Promise<string> {
  const got = await bed.run(['/bin/sh', '-c', script], {
    env: [...ENV, 'TEST=/test'],
    volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    network: 'sandbox',
    ipv6: true,
    resolver,
    nameservers,
  });
  expect(got.stderr).toBe('');
  expect(got.status).toBe(0);
  const want = nativeEth0v6(script);
  expect(got.stdout).toBe(want);
  return want;
}

/**
 * Runs \`script\` natively in a network namespace whose eth0 is what the sandbox's looks like
 * with IPv6: a veth with the sandbox's MAC, MTU and addresses (fd00::100/64 added statically)
 * and default routes, its peer (the gateway: 10.0.2.2, fd00::2, fd00::3) in another namespace. The setup waits for DAD of eth0's addresses to end.
 */
function nativeEth0v6(script: string): string {
  const setup = `
set -e
ip link set lo up
ip link add gw0 type veth peer name eth0
ip link set gw0 address 02:42:0a:00:02:02 mtu 65520 up
ip addr add 10.0.2.2/24 dev gw0
ip addr add fd00::2/64 dev gw0 nodad
ip addr add fd00::3/128 dev gw0 nodad
unshare -n -m sh -c 'mount -t sysfs sysfs /sys; exec sleep 30' &
child=$!
sleep 0.3
ip link set eth0 netns $child
nsenter -t $child -n sh -c '
ip link set lo up
ip link set eth0 address 02:42:0a:00:02:0f mtu 65520
ip addr add 10.0.2.15/24 brd + dev eth0
ip addr add fd00::100/64 dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2 dev eth0 proto static
ip -6 route add default via fd00::2 dev eth0 proto static
while ip -6 addr show tentative | grep -q .; do sleep 0.1; done'
nsenter -t $child -n -m sh -c "$0"
kill $child
`;
  const out = execFileSync('unshare', ['-n', 'sh', '-c', setup, script], {
    encoding: 'utf8',
    env: { PATH: ENV[0]!.slice(5), LC_ALL: 'C', TEST: bed.dir },
    timeout: 20_000,
  });
  // ip names the peer namespace of the veth by an id; when namespaces of tests running at the
  // same time come and go, it may fail to and says so on a line of its own, nothing this compares.
  return out
    .replace(/@if\d+/g, '')
    .replace(/ link-netnsid \d+/g, '')
    .replace(/^Error: Peer netns reference is invalid\.\n/gm, '');
}
