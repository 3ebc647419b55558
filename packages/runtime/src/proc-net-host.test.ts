// /proc/net and /proc/sys/net in network mode `host`: a sandboxed python3.11 program
// (testdata/proc-net-host.py) opens a TCP listener, a connected pair and two UDP sockets, all
// host sockets of the supervisor, and reads /proc/net/{tcp,udp,tcp6,udp6} and busybox
// `netstat -tuln` inside the sandbox. Exactly its own sockets must appear, with the inodes its
// /proc/self/fd links show, and each line must say what the host's own /proc/net says of the
// same socket (read here while the program holds its sockets open); a host socket this test
// opens outside the sandbox must not appear; sysctl writes are refused.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureStdio, testbed } from './c-programs.test-util.js';
import { hostLinks, hostNetSysctl } from './host-network.js';
import { createSandbox } from './sandbox.js';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = join(here, 'testdata');
const bed = testbed(() => undefined);

interface Row {
  local: string;
  remote: string;
  state: string;
  queues: string;
  uid: number;
  inode: number;
  width: number;
  fields: string[];
}

interface Report {
  listener: [number, number];
  client: [number, number];
  server: [number, number];
  client6: [number, number];
  server6: [number, number];
  udp: [number, number];
  sender: [number, number];
  uid: number;
  tcp: Row[];
  udp_table: Row[];
  tcp6: Row[];
  udp6: Row[];
  netstat: string;
  netstat_status: number;
  sysctl_write: string;
  port_range: string;
  dev: string[];
  route: string[][];
  if_inet6: string[][];
}

/** What the sandbox printed, the host's /proc/net/{tcp,udp} meanwhile, and the exit status. */
interface Run {
  out: Report;
  stderr: string;
  status: number;
  hostTcp: string;
  hostUdp: string;
  hostTcp6: string;
}

/** Runs the program in mode `host`, reading the host's tables while it holds its sockets. */
async function runHeld(): Promise<Run> {
  const io = captureStdio(bed.dir);
  const sandbox = createSandbox({
    argv: ['python3.11', '/scripts/proc-net-host.py', '/work'],
    volumes: [
      { host: scripts, sandbox: '/scripts', readOnly: true },
      { host: bed.dir, sandbox: '/work' },
    ],
    network: 'host',
    stdio: io.fds,
    platform: bed.platform,
  });
  const running = sandbox.run();
  let hostTcp = '';
  let hostUdp = '';
  let hostTcp6 = '';
  try {
    for (let i = 0; i < 800 && !io.read().stdout.includes('\n'); i++)
      await new Promise((r) => setTimeout(r, 25));
    hostTcp = readFileSync('/proc/net/tcp', 'utf8');
    hostUdp = readFileSync('/proc/net/udp', 'utf8');
    hostTcp6 = readFileSync('/proc/net/tcp6', 'utf8');
  } finally {
    writeFileSync(join(bed.dir, 'done'), '');
  }
  const status = await running;
  io.close();
  const { stdout, stderr } = io.read();
  return { out: JSON.parse(stdout) as Report, stderr, status, hostTcp, hostUdp, hostTcp6 };
}

/** 127.0.0.1:port as /proc/net/tcp prints it on x86-64. */
function lo(port: number): string {
  return `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The fields of a /proc/net line by its local and remote address, from a whole table. */
function hostRow(table: string, local: string, remote: string): string[] | undefined {
  return table
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1] === local && f[2] === remote);
}

/**
 * The columns a sandbox line must share with the host's line of the same socket: all but the
 * slot, uid, inode, reference count and pointer (the sandbox's own, or hidden), and for TCP the
 * quick-ack column (not in TCP_INFO).
 */
const TCP_COMPARED = [1, 2, 3, 4, 5, 6, 8, 12, 13, 15, 16];
const UDP_COMPARED = [1, 2, 3, 4, 5, 6, 8, 12];

describe('/proc/net in network mode host', () => {
  let outsider: Server;
  let outsiderPort = 0;
  let run: Run;
  beforeAll(async () => {
    // A host socket of this process (the supervisor's own), which the sandbox must not see.
    outsider = createServer();
    await new Promise<void>((resolve) => outsider.listen(0, '127.0.0.1', resolve));
    const a = outsider.address();
    outsiderPort = typeof a === 'object' && a ? a.port : 0;
    run = await runHeld();
  });
  afterAll(() => new Promise<void>((resolve) => outsider.close(() => resolve())));

  it('lists exactly the sandbox sockets, with their inodes, as the host lists them', () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const { out } = run;
    const [lport, linode] = out.listener;
    const [cport, cinode] = out.client;
    const [sport, sinode] = out.server;
    const [uport, uinode] = out.udp;
    const [dport, dinode] = out.sender;
    const [c6port, c6inode] = out.client6;
    const [s6peer, s6inode] = out.server6;
    expect(sport).toBe(lport);
    expect(s6peer).toBe(c6port);
    expect(new Set([linode, cinode, sinode, c6inode, s6inode, uinode, dinode]).size).toBe(7);

    const byInode = new Map(out.tcp.map((row) => [row.inode, row]));
    expect(out.tcp).toHaveLength(4);
    expect(byInode.get(linode)).toMatchObject({
      local: lo(lport),
      remote: '00000000:0000',
      state: '0A',
      queues: '00000000:00000000',
      uid: out.uid,
    });
    expect(byInode.get(cinode)).toMatchObject({
      local: lo(cport),
      remote: lo(lport),
      state: '01',
      uid: out.uid,
    });
    expect(byInode.get(s6inode)).toMatchObject({ local: lo(lport), remote: lo(c6port), state: '01' });
    // The accepted side holds the 6 bytes the client sent and nobody read yet.
    expect(byInode.get(sinode)).toMatchObject({
      local: lo(lport),
      remote: lo(cport),
      state: '01',
      queues: '00000000:00000006',
    });
    const udpByInode = new Map(out.udp_table.map((row) => [row.inode, row]));
    expect(out.udp_table).toHaveLength(2);
    expect(udpByInode.get(uinode)).toMatchObject({ local: lo(uport), remote: '00000000:0000', state: '07' });
    // The unread datagram is charged to the receiver's buffer.
    expect(udpByInode.get(uinode)?.queues).not.toBe('00000000:00000000');
    expect(udpByInode.get(dinode)).toMatchObject({
      local: `00000000:${dport.toString(16).toUpperCase().padStart(4, '0')}`,
    });
    // The AF_INET6 client is in tcp6 with IPv4-mapped addresses (four native-endian words).
    const mapped = (port: number): string =>
      `0000000000000000FFFF00000100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    expect(out.tcp6).toHaveLength(1);
    expect(out.tcp6[0]).toMatchObject({
      local: mapped(c6port),
      remote: mapped(lport),
      state: '01',
      inode: c6inode,
    });
    expect(out.udp6).toEqual([]);
    // Lines padded as Linux pads them: the host's own /proc/net/tcp has the same width.
    const hostWidth = run.hostTcp.split('\n')[0]?.length;
    for (const row of out.tcp) expect(row.width).toBe(hostWidth);
    const hex = outsiderPort.toString(16).toUpperCase().padStart(4, '0');
    expect(outsiderPort).toBeGreaterThan(0);
    expect(run.hostTcp).toContain(`0100007F:${hex} 00000000:0000 0A`);
    expect(JSON.stringify(out.tcp)).not.toContain(`:${hex}"`);
  });

  it('each line says what the host says of the same socket', () => {
    const pick = (f: string[] | undefined, cols: number[]): (string | undefined)[] => cols.map((c) => f?.[c]);
    expect(run.out.tcp.length + run.out.tcp6.length + run.out.udp_table.length).toBe(7);
    for (const [rows, table] of [
      [run.out.tcp, run.hostTcp],
      [run.out.tcp6, run.hostTcp6],
    ] as const) {
      for (const row of rows) {
        const host = hostRow(table, row.local, row.remote);
        expect(host, `${row.local} ${row.remote}`).toBeDefined();
        expect(pick(row.fields, TCP_COMPARED)).toEqual(pick(host, TCP_COMPARED));
      }
    }
    for (const row of run.out.udp_table) {
      const host = hostRow(run.hostUdp, row.local, row.remote);
      expect(host, `${row.local} ${row.remote}`).toBeDefined();
      expect(pick(row.fields, UDP_COMPARED)).toEqual(pick(host, UDP_COMPARED));
    }
  });

  it('busybox netstat -tuln shows the listener and the UDP sockets, nothing else', () => {
    const { out } = run;
    expect(out.netstat_status).toBe(0);
    const listenLine = out.netstat.split('\n').find((l) => l.includes(`127.0.0.1:${out.listener[0]} `));
    expect(listenLine).toMatch(/^tcp\s+0\s+0\s+127\.0\.0\.1:\d+\s+0\.0\.0\.0:\*\s+LISTEN/);
    expect(out.netstat).toContain(`127.0.0.1:${out.udp[0]} `);
    expect(out.netstat).not.toContain(`:${outsiderPort} `);
    // -l lists listeners only: the established pair is not shown.
    expect(out.netstat).not.toContain(`127.0.0.1:${out.client[0]} `);
  });

  it('/proc/sys/net/ipv4 shows the host values and refuses writes with EACCES', () => {
    expect(run.out.sysctl_write).toBe('Permission denied');
    const host = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    expect(run.out.port_range).toBe(host);
    expect(hostNetSysctl().ipLocalPortRange.join('\t') + '\n').toBe(host);
  });

  it('/proc/net/dev, route and if_inet6 show the host interfaces that rtnetlink shows', () => {
    const links = hostLinks();
    expect(run.out.dev).toEqual(links.map((l) => l.name));
    expect(run.out.dev).toEqual(expect.arrayContaining(['lo']));
    // Every route shown is one of the host's own (interface, destination, gateway, mask).
    const hostRoutes = readFileSync('/proc/net/route', 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.trim())
      .map((l) => {
        const f = l.split('\t');
        return [f[0], f[1], f[2], f[7]].join(' ');
      });
    for (const r of run.out.route) expect(hostRoutes).toContain(r.join(' '));
    // And the host's default routes are all there (netlink reports them as the links' gateways).
    const shown = run.out.route.map((r) => r.join(' '));
    for (const r of hostRoutes.filter((r) => r.split(' ')[1] === '00000000')) expect(shown).toContain(r);
    // if_inet6: the host's IPv6 addresses (by device), as getifaddrs gives them.
    const v6 = links.flatMap((l) => l.addresses.filter((c) => c.address.version === 6).map(() => l.name));
    expect(run.out.if_inet6.map((f) => f[5]).sort()).toEqual(v6.sort());
  });
});
