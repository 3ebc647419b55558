import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import { procNetSource } from './sys-socket-proc.js';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const ADDR = BUF;
const STAT = BUF + 0x200;

async function inode(h: Harness, fd: number): Promise<number> {
  expect(await h.call('fstat', fd, STAT)).toBe(0);
  const b = h.mem.read(STAT + 8, 8) as Uint8Array;
  return Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true)); // st_ino
}

async function bound(h: Harness, family: number, type: number, sa: number[]): Promise<number> {
  const fd = (await h.call('socket', family, type, 0)) as number;
  h.mem.write(ADDR, new Uint8Array(sa));
  expect(await h.call('bind', fd, ADDR, sa.length)).toBe(0);
  return fd;
}

describe('/proc/net over the sandbox sockets', () => {
  it('lists listeners, connections, UDP and AF_UNIX sockets with their own inodes', async () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    expect(net.tcp()).toEqual([]);
    const l = await bound(h, AF_INET, SOCK_STREAM, [
      AF_INET,
      0,
      0x1f,
      0xbb,
      127,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    expect(await h.call('listen', l, 7)).toBe(0);
    const v6 = [AF_INET6, 0, 0x1f, 0xbc, 0, 0, 0, 0, ...new Array<number>(16).fill(0), 0, 0, 0, 0];
    const l6 = await bound(h, AF_INET6, SOCK_STREAM, v6);
    expect(await h.call('listen', l6, 3)).toBe(0);
    // An IPv4 client of the dual-stack listener.
    const c = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    h.mem.write(ADDR, new Uint8Array([AF_INET, 0, 0x1f, 0xbc, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(await h.call('connect', c, ADDR, 16)).toBe(0);
    const a = (await h.call('accept', l6, 0, 0)) as number;
    const u = await bound(h, AF_INET, SOCK_DGRAM, [
      AF_INET,
      0,
      0x14,
      0xe9,
      127,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    const x = await bound(h, AF_UNIX, SOCK_STREAM, [AF_UNIX, 0, ...new TextEncoder().encode('/sock'), 0]);
    expect(await h.call('listen', x, 1)).toBe(0);

    const inodes: number[] = [];
    for (const fd of [l, l6, c, a, u, x]) inodes.push(await inode(h, fd));
    expect(new Set(inodes).size).toBe(6); // every socket has its own inode, as on Linux
    const [il, il6, ic, ia, iu, ix] = inodes;

    const tcp = net.tcp();
    const listener = tcp.find((s) => s.inode === il)!;
    expect(listener).toMatchObject({ state: 10, txQueue: 7, local: { port: 8123 } });
    expect([...listener.local.address]).toEqual([127, 0, 0, 1]);
    const client = tcp.find((s) => s.inode === ic)!;
    expect(client).toMatchObject({ state: 1, remote: { port: 8124 } });

    const tcp6 = net.tcp6();
    expect(tcp6.find((s) => s.inode === il6)).toMatchObject({ state: 10, local: { port: 8124 } });
    const accepted = tcp6.find((s) => s.inode === ia)!;
    expect(accepted.state).toBe(1);
    // The IPv4 connection of an AF_INET6 socket shows IPv4-mapped addresses.
    expect([...accepted.remote.address]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    expect(accepted.remote.port).toBe(client.local.port);

    expect(net.udp()).toMatchObject([{ inode: iu, state: 7, local: { port: 5353 } }]);
    expect(net.unix()).toMatchObject([{ inode: ix, flags: 0x10000, state: 1, path: '/sock' }]);
    expect(net.devices().map((d) => d.name)).toEqual(['lo']);
    expect(net.inet6Addresses()).toMatchObject([{ device: 'lo', prefixLen: 128, scope: 0x10 }]);

    // A closed listener is gone; its inode is not reused by the next socket.
    expect(await h.call('close', l)).toBe(0);
    expect(net.tcp().some((s) => s.inode === il)).toBe(false);
  });

  it('net.ipv4 keepalive and fin_timeout sysctls reach the sockets of the namespace', async () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    expect(net.sysctl?.()).toMatchObject({ tcpKeepaliveTime: 7200, tcpFinTimeout: 60 });
    const fd = (await h.call('socket', AF_INET, SOCK_STREAM, 0)) as number;
    const SOL_TCP = 6;
    const TCP_KEEPIDLE = 4;
    const TCP_LINGER2 = 8;
    const opt = async (name: number): Promise<number> => {
      h.mem.write(ADDR + 8, Uint8Array.of(4, 0, 0, 0));
      expect(await h.call('getsockopt', fd, SOL_TCP, name, ADDR, ADDR + 8)).toBe(0);
      return new DataView((h.mem.read(ADDR, 4) as Uint8Array).slice().buffer).getInt32(0, true);
    };
    expect(await opt(TCP_KEEPIDLE)).toBe(7200);
    expect(net.setSysctl?.({ key: 'tcpKeepaliveTime', value: 30 })).toBeUndefined();
    expect(net.setSysctl?.({ key: 'tcpFinTimeout', value: 5 })).toBeUndefined();
    // Linux reads them when used: an existing socket that set nothing follows.
    expect(await opt(TCP_KEEPIDLE)).toBe(30);
    expect(await opt(TCP_LINGER2)).toBe(5);
    expect(net.sysctl?.()).toMatchObject({ tcpKeepaliveTime: 30, tcpFinTimeout: 5 });
  });
});
