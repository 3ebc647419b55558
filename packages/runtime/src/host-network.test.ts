// Network mode `host` end to end (what `tsvisor do --network host` runs): sandboxed python3.11
// programs use host sockets to reach servers this test runs on 127.0.0.1, a host client reaches
// a sandboxed server, and a C program's socket errnos match its native run. Traffic never leaves
// the host's loopback.
import { execFileSync } from 'node:child_process';
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
} from './loopback-servers.test-util.js';
import { captureStdio, testbed } from './c-programs.test-util.js';
import { hostLinks } from './host-network.js';
import { createSandbox } from './sandbox.js';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = join(here, 'testdata');
const bed = testbed((dir) => {
  for (const name of ['host-sockets', 'ifaddrs'])
    execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', join(dir, name), join(scripts, `${name}.c`)]);
});
const volumes = [{ host: scripts, sandbox: '/scripts', readOnly: true }];

describe('outbound: a sandboxed client reaches 127.0.0.1 through host sockets', () => {
  let servers: EchoServers;
  beforeAll(async () => {
    servers = await startEchoServers();
  });
  afterAll(() => servers.close());

  it('TCP echo, UDP, a refused port', async () => {
    const { tcpPort, udpPort } = servers;
    const closed = await freePort();
    const r = await bed.run(
      ['python3.11', '/scripts/net-host-client.py', String(tcpPort), String(udpPort), String(closed)],
      { volumes, network: 'host' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'tcp peer True 127.0.0.1',
      'TCP_NODELAY True',
      'tcp echo of 256 KiB True',
      "udp reply b'UDP PING' True",
      'closed port refused True',
      'asyncio clients True',
      '',
    ]);
    expect(r.status).toBe(0);
  });
});

describe('inbound: a host client reaches a sandboxed server on 127.0.0.1', () => {
  it('TCP and UDP echo', async () => {
    const io = captureStdio(bed.dir);
    const log: string[] = [];
    const sandbox = createSandbox({
      argv: ['python3.11', '/scripts/net-host-server.py'],
      volumes,
      network: 'host',
      stdio: io.fds,
      platform: bed.platform,
      log: (l) => log.push(l),
    });
    const running = sandbox.run();
    const stdout = (): string => readFileSync(join(bed.dir, 'stdout'), 'utf8');
    for (let i = 0; i < 400 && !stdout().includes('\n'); i++) await new Promise((r) => setTimeout(r, 25));
    const m = /^ready (\d+) (\d+)\n/.exec(stdout());
    expect(m).not.toBeNull();
    const [tcpPort, udpPort] = [Number(m?.[1]), Number(m?.[2])];

    const blob = Buffer.alloc(300_000, 7);
    expect((await tcpRoundTrip(tcpPort, blob)).equals(blob)).toBe(true);
    expect(await udpRoundTrip(udpPort, 'udp hello')).toBe('UDP HELLO');
    expect(await running).toBe(0);
    io.close();
    expect(io.read().stdout).toBe(
      `ready ${tcpPort} ${udpPort}\ntcp client from 127.0.0.1 sent 300000\nudp client from 127.0.0.1 b'udp hello'\n`,
    );
    expect(log.filter((l) => !l.startsWith('unsupported syscall rseq'))).toEqual([]);
  });
});

describe('socket errnos match a native run of the same program', () => {
  it('host-sockets.c: ECONNREFUSED, EADDRINUSE, EINVAL and EAFNOSUPPORT for bad sockaddrs, EFAULT', async () => {
    const closed = String(await freePort());
    const native = execFileSync(join(bed.dir, 'host-sockets'), [closed], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(native).toContain('connect closed port: ECONNREFUSED');
    const r = await bed.run(['/test/host-sockets', closed], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      network: 'host',
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(native);
    expect(r.status).toBe(0);
  });
});

describe('rtnetlink and interface ioctls show the host interfaces', () => {
  it('getifaddrs, if_nameindex, if_nametoindex and SIOCGIF* (ifaddrs.c) print what they print natively', async () => {
    const native = execFileSync(join(bed.dir, 'ifaddrs'), { encoding: 'utf8' });
    const r = await bed.run(['/test/ifaddrs'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
      network: 'host',
    });
    expect(r.stdout).toBe(native);
    expect(r.status).toBe(0);
  });

  it('`ip -o link` and `ip -o -4 addr` in the sandbox list what they list on the host', async () => {
    const links = hostLinks();
    expect(links.find((l) => l.name === 'lo')?.index).toBe(1);
    for (const cmd of ['ip -o link', 'ip -o -4 addr']) {
      const native = execFileSync('sh', ['-c', cmd], { encoding: 'utf8' });
      const r = await bed.run(['sh', '-c', cmd], { network: 'host' });
      expect(r.status).toBe(0);
      // Indexes, names, flags, MTUs and addresses agree (qdisc, state and group are not kept).
      const summary = (s: string): string[] =>
        s
          .split('\n')
          .filter(Boolean)
          .map((l) =>
            [
              /^\d+: \S+/.exec(l)?.[0],
              /<[^>]*>/.exec(l)?.[0],
              /mtu \d+/.exec(l)?.[0],
              /inet \S+/.exec(l)?.[0],
            ]
              .filter(Boolean)
              .join(' '),
          );
      expect(summary(r.stdout), cmd).toEqual(summary(native));
      expect(summary(native).length).toBeGreaterThan(0);
    }
  });
});
