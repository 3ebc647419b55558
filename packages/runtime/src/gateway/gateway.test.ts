// Network mode `sandbox` end to end: sandboxed python3.11 programs reach servers this test runs
// on the host's 127.0.0.1 through the gateway, and host clients reach sandboxed servers through
// `-p` forwards. Traffic never leaves the host's loopback.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  startEchoServers,
  tcpRoundTrip,
  udpRoundTrip,
  type EchoServers,
} from '../loopback-servers.test-util.js';
import { captureStdio, testbed } from '../c-programs.test-util.js';
import { createSandbox } from '../sandbox.js';
import { hostResolver, type NameserverConfig } from './gateway.js';
import { startFakeDns, type FakeDns } from './dns-fake.test-util.js';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = join(here, '..', 'testdata');
const bed = testbed();
const volumes = [{ host: scripts, sandbox: '/scripts', readOnly: true }];

// The gateway forwards what the resolver does not answer to this fake on 127.0.0.1, never to
// the host's nameservers.
let fakeDns: FakeDns;
let nameservers: NameserverConfig;
beforeAll(async () => {
  fakeDns = await startFakeDns();
  nameservers = { servers: [{ address: '127.0.0.1', port: fakeDns.port }], timeoutMs: 300, attempts: 1 };
});
afterAll(() => fakeDns.close());

describe('outbound: a sandboxed client reaches the host through the gateway', () => {
  let servers: EchoServers;
  beforeAll(async () => {
    servers = await startEchoServers();
  });
  afterAll(() => servers.close());

  it('TCP echo, UDP, a refused port, and DNS from the host resolver', async () => {
    const { tcpPort, udpPort } = servers;
    const closed = await freePort();
    const r = await bed.run(
      ['python3.11', '/scripts/net-gateway-client.py', String(tcpPort), String(udpPort), String(closed)],
      {
        volumes,
        network: 'sandbox',
        // The host's resolver for localhost (its /etc/hosts); other names must not leave the
        // host: the fake nameserver says they do not exist.
        resolver: (name, family) =>
          name === 'localhost' ? hostResolver(name, family) : Promise.resolve('nxdomain'),
        nameservers,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'tcp echo of 256 KiB True',
      "udp reply b'UDP PING' True",
      'udp echo of 1473 bytes True',
      'udp echo of 9000 bytes True',
      'udp echo of 65507 bytes True',
      'closed port refused True',
      "resolv.conf ['nameserver', '10.0.2.3']",
      "dns localhost A (True, 0, ['127.0.0.1'])",
      "dns over tcp [('0x4321', 0, 1, '127.0.0.1'), ('0x4322', 3, 0, None)]",
      '10.0.2.3:80 refused True',
      '10.0.2.3:5353 udp refused True',
      'dns no.such.name.invalid A (True, 3, [])',
      'getaddrinfo of a missing name True',
      '',
    ]);
    expect(r.status).toBe(0);
  });

  it('shows eth0 and the default route to `ip`, and the host name resolves to eth0', async () => {
    const sysfs = 'cd /sys/class/net/eth0 && echo sysfs $(cat address type broadcast addr_len flags)';
    // Python's uuid.getnode() takes the first MAC `ip link` (or libuuid's ioctls) shows.
    const node = `python3.11 -c 'import uuid; print("node", hex(uuid.getnode()))'`;
    // A DNS query makes the sandbox ARP for 10.0.2.3; `ip neigh` and /proc/net/arp show the entry.
    const neigh = 'getent hosts no-such-name.invalid; ip neigh; cat /proc/net/arp';
    const r = await bed.run(
      [
        'sh',
        '-c',
        `ip -o -4 addr; ip route; ip link show eth0; getent hosts "$(hostname)"; ${sysfs}; ${node}; ${neigh}`,
      ],
      { network: 'sandbox', resolver: () => Promise.resolve('nxdomain'), nameservers },
    );
    expect(r.stdout).toContain('10.0.2.15       tsvisor\n');
    // An Ethernet link as a veth shows it (ARP on, a broadcast address), with the fixed MAC.
    expect(r.stdout).toContain('eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 65520');
    expect(r.stdout).toContain('    link/ether 02:42:0a:00:02:0f brd ff:ff:ff:ff:ff:ff\n');
    // sysfs's flags are dev->flags, without the link state's RUNNING and LOWER_UP (a veth: 0x1003).
    expect(r.stdout).toContain('sysfs 02:42:0a:00:02:0f 1 ff:ff:ff:ff:ff:ff 6 0x1003\n');
    expect(r.stdout).toContain('node 0x2420a00020f\n');
    expect(r.stdout).toMatch(/^10\.0\.2\.3 dev eth0 lladdr 02:42:0a:00:02:02 REACHABLE ?$/m);
    expect(r.stdout).toContain(
      'IP address       HW type     Flags       HW address            Mask     Device\n' +
        '10.0.2.3         0x1         0x2         02:42:0a:00:02:02     *        eth0\n',
    );
    expect(r.stdout).toContain('2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global eth0');
    expect(r.stdout).toContain('default via 10.0.2.2 dev eth0 proto static');
    expect(r.stdout).toContain('10.0.2.0/24 dev eth0 proto kernel scope link src 10.0.2.15');
  });
});

describe('DNS: every type through 10.0.2.3, forwarded to the nameservers', () => {
  const resolver = (): Promise<'nxdomain'> => Promise.resolve('nxdomain');

  it('MX, TXT, SRV, PTR over UDP and TCP, truncation, SERVFAIL, malformed queries', async () => {
    const mark = fakeDns.received.length;
    const r = await bed.run(['python3.11', '/scripts/net-gateway-dns.py'], {
      volumes,
      network: 'sandbox',
      resolver,
      nameservers,
    });
    expect(r.stderr).toBe('');
    const big = new Array(10).fill(200);
    expect(r.stdout.split('\n')).toEqual([
      "MX udp (256, 0, False, [(10, 'mail.mx.test'), (20, 'backup.mx.test')])",
      "MX tcp (512, 0, False, [(10, 'mail.mx.test'), (20, 'backup.mx.test')])",
      "TXT udp (257, 0, False, ['hello world', 'v=spf1 -all'])",
      "TXT tcp (513, 0, False, ['hello world', 'v=spf1 -all'])",
      "SRV udp (258, 0, False, [(10, 60, 5060, 'sip.srv.test')])",
      "SRV tcp (514, 0, False, [(10, 60, 5060, 'sip.srv.test')])",
      "PTR udp (259, 0, False, ['host.ptr.test'])",
      "PTR tcp (515, 0, False, ['host.ptr.test'])",
      'big udp True (768, 0, True, [])',
      `big tcp (769, 0, False, [${big.join(', ')}])`,
      'silent (1024, 2, False, [])',
      'malformed None',
      'malformed None',
      'malformed None',
      'malformed None',
      "after malformed (1280, 0, False, [(10, 'mail.mx.test'), (20, 'backup.mx.test')])",
      "getaddrinfo ns-only.test ['192.0.2.7']",
      '',
    ]);
    expect(r.status).toBe(0);
    // Upstream saw UDP for all, TCP only for the big answer the sandbox asked over TCP; none
    // of the malformed ones.
    const seen = fakeDns.received.slice(mark).map((x) => `${x.transport} ${x.name}`);
    expect(seen.filter((x) => x.startsWith('tcp'))).toEqual(['tcp big.test']);
    expect(seen.filter((x) => x === 'udp mx.test')).toHaveLength(3);
  });

  it('dig @10.0.2.3 prints the fake records, following TC to TCP', async () => {
    const dig = (args: string): string => `dig @10.0.2.3 -p 53 +short +tries=1 +time=5 ${args}`;
    const r = await bed.run(
      [
        'sh',
        '-c',
        `${dig('mx.test MX')}; ${dig('+tcp _sip._tcp.srv.test SRV')}; ${dig('-x 192.0.2.7')}; ` +
          `${dig('+ignore big.test TXT')} | wc -l; ${dig('big.test TXT')} | wc -c; ${dig('+noedns big.test TXT')} | wc -c`,
      ],
      { network: 'sandbox', resolver, nameservers },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        '10 mail.mx.test.',
        '20 backup.mx.test.',
        '10 60 5060 sip.srv.test.',
        'host.ptr.test.',
        // +ignore: the truncated UDP answer as it came, no records.
        '0',
        // dig's EDNS size (1232) is too small too: it asks again over TCP and gets all ten
        // strings ("000..." 200 digits with quotes and a newline each).
        '2030',
        '2030',
        '',
      ].join('\n'),
    );
  });
});

describe('inbound: host clients reach sandboxed servers through -p', () => {
  it('TCP and UDP echo through forwarded ports', async () => {
    const [hostTcp, hostUdp] = [await freePort(), await freePort()];
    const io = captureStdio(bed.dir);
    const log: string[] = [];
    const sandbox = createSandbox({
      argv: ['python3.11', '/scripts/net-gateway-server.py', '8000', '8001'],
      volumes,
      network: 'sandbox',
      ports: [
        { host: hostTcp, sandbox: 8000, protocol: 'tcp' },
        { host: hostUdp, sandbox: 8001, protocol: 'udp' },
      ],
      stdio: io.fds,
      platform: bed.platform,
      log: (l) => log.push(l),
    });
    const running = sandbox.run();
    const stdout = (): string => readFileSync(join(bed.dir, 'stdout'), 'utf8');
    for (let i = 0; i < 400 && !stdout().includes('ready'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(stdout()).toContain('ready');

    const blob = Buffer.alloc(300_000, 7);
    expect((await tcpRoundTrip(hostTcp, blob)).equals(blob)).toBe(true);
    expect(await udpRoundTrip(hostUdp, 'udp hello')).toBe('UDP HELLO');
    expect(await running).toBe(0);
    io.close();
    expect(io.read().stdout).toBe(
      "ready\ntcp client from 10.0.2.2 sent 300000\nudp client from 10.0.2.2 b'udp hello'\n",
    );
  });

  it('-p needs network mode sandbox', () => {
    expect(() =>
      createSandbox({ argv: ['true'], network: 'none', ports: [{ host: 1, sandbox: 2, protocol: 'tcp' }] }),
    ).toThrow(/network mode sandbox/);
  });
});
