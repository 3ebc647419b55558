// rtnetlink over fake memory: the contents of the replies (the conformance program
// testdata/netlink.c checks their shape against Linux; this checks what they say about lo).
import { E } from '@tsvisor/abi';
import { Ipv4Address, LoopbackDevice, Stack, cidr } from '@tsvisor/netstack';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import { configureNetwork } from './sys-socket-file.js';
import { ARPHRD_NONE, IfFlag } from './sys-netlink.js';

const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const NLM_F_REQUEST = 1;
const NLM_F_DUMP = 0x300;
const MSG_DONTWAIT = 0x40;

interface Msg {
  type: number;
  flags: number;
  body: Uint8Array;
  attrs: Map<number, Uint8Array>;
}

function parse(bytes: Uint8Array, fixed: number): Msg[] {
  const out: Msg[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let off = 0; off + 16 <= bytes.length;) {
    const len = dv.getUint32(off, true);
    const body = bytes.subarray(off + 16, off + len);
    const attrs = new Map<number, Uint8Array>();
    for (let a = off + 16 + fixed; a + 4 <= off + len;) {
      const alen = dv.getUint16(a, true);
      attrs.set(dv.getUint16(a + 2, true), bytes.subarray(a + 4, a + alen));
      a += (alen + 3) & ~3;
    }
    out.push({ type: dv.getUint16(off + 4, true), flags: dv.getUint16(off + 6, true), body, attrs });
    off += (len + 3) & ~3;
  }
  return out;
}

/** Sends one request to the kernel and gathers every reply message up to NLMSG_DONE. */
async function dump(h: Harness, fd: number, type: number, family: number, fixed: number): Promise<Msg[]> {
  const req = new Uint8Array(16 + fixed);
  const dv = new DataView(req.buffer);
  dv.setUint32(0, req.length, true);
  dv.setUint16(4, type, true);
  dv.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  dv.setUint32(8, 5, true);
  req[16] = family;
  h.mem.write(BUF, req);
  expect(await h.call('sendto', fd, BUF, req.length, 0, 0, 0)).toBe(req.length);
  const msgs: Msg[] = [];
  for (;;) {
    const n = (await h.call('recvfrom', fd, BUF, 8192, MSG_DONTWAIT, 0, 0)) as number;
    expect(n).toBeGreaterThan(0);
    const got = parse(h.mem.read(BUF, n) as Uint8Array, fixed);
    msgs.push(...got.filter((m) => m.type !== 3));
    if (got.some((m) => m.type === 3)) return msgs;
  }
}

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b).replace(/\0$/, '');

describe('AF_NETLINK NETLINK_ROUTE', () => {
  it("reports the loopback stack's lo: link, addresses and local routes", async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_NETLINK, SOCK_RAW, 0)) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    const links = await dump(h, fd, 18, 0, 16);
    expect(links).toHaveLength(1);
    expect(text(links[0]!.attrs.get(3))).toBe('lo');
    expect(new DataView(links[0]!.body.buffer, links[0]!.body.byteOffset).getUint32(8, true)).toBe(0x10049);

    const v4 = await dump(h, fd, 22, AF_INET, 8);
    expect(v4.map((m) => [...m.body.subarray(0, 4), [...m.attrs.get(2)!]])).toEqual([
      [AF_INET, 8, 0x80, 254, [127, 0, 0, 1]],
    ]);
    expect(text(v4[0]!.attrs.get(3))).toBe('lo');
    const v6 = await dump(h, fd, 22, AF_INET6, 8);
    expect(v6.map((m) => [...m.body.subarray(0, 4)])).toEqual([[AF_INET6, 128, 0x80, 254]]);

    const routes = await dump(h, fd, 26, AF_INET, 12);
    // local 127.0.0.0/8, local 127.0.0.1, broadcast 127.255.255.255: all in table local (255).
    expect(routes.map((m) => [m.body[1], m.body[4], m.body[7], [...m.attrs.get(1)!]])).toEqual([
      [8, 255, 2, [127, 0, 0, 0]],
      [32, 255, 2, [127, 0, 0, 1]],
      [32, 255, 3, [127, 255, 255, 255]],
    ]);
  });

  it('reports a configured network: eth0 with its prefix route and default gateway', async () => {
    const h = harness();
    const stack = new Stack({
      device: new LoopbackDevice(),
      addresses: [cidr('127.0.0.1/8'), cidr('192.168.7.2/24')],
      gateways: [Ipv4Address.parse('192.168.7.1')!],
    });
    configureNetwork(h.kernel, {
      stack,
      links: () => [
        {
          index: 3,
          name: 'eth0',
          flags: IfFlag.IFF_UP | IfFlag.IFF_RUNNING,
          mtu: 1400,
          type: ARPHRD_NONE,
          address: new Uint8Array(6),
          broadcast: new Uint8Array(6),
          addresses: [cidr('192.168.7.2/24')],
          gateways: stack.iface.gateways,
          stats: () => ({ rxPackets: 4, txPackets: 5 }),
        },
      ],
    });
    const fd = (await h.call('socket', AF_NETLINK, SOCK_RAW, 0)) as number;
    const links = await dump(h, fd, 18, 0, 16);
    expect(links.map((m) => text(m.attrs.get(3)))).toEqual(['eth0']);
    const mtu = links[0]!.attrs.get(4)!;
    expect(new DataView(mtu.buffer, mtu.byteOffset).getUint32(0, true)).toBe(1400);
    const addrs = await dump(h, fd, 22, AF_INET, 8);
    expect([...addrs[0]!.attrs.get(4)!]).toEqual([192, 168, 7, 255]); // IFA_BROADCAST
    const routes = await dump(h, fd, 26, AF_INET, 12);
    const main = routes.filter((m) => m.body[4] === 254);
    // The default route via the gateway, then the prefix route (scope link, proto kernel): the
    // main table's trie order, by address.
    expect(
      main.map((m) => [m.body[1], m.body[5], m.body[6], m.attrs.get(5) ? [...m.attrs.get(5)!] : null]),
    ).toEqual([
      [0, 4, 0, [192, 168, 7, 1]],
      [24, 2, 253, null],
    ]);
    // The socket layer uses the configured stack too: 192.168.7.2 is a local address.
    const udp = (await h.call('socket', AF_INET, 2, 0)) as number;
    h.mem.write(BUF, Uint8Array.from([2, 0, 0, 0, 192, 168, 7, 2, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(await h.call('bind', udp, BUF, 16)).toBe(0);
  });

  it('refuses a network set after the first socket', async () => {
    const h = harness();
    await h.call('socket', AF_INET, 2, 0);
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')] });
    expect(() => configureNetwork(h.kernel, { stack, links: () => [] })).toThrow(/already in use/);
  });

  it('answers the interface ioctls from the same links', async () => {
    const h = harness();
    const fd = (await h.call('socket', AF_INET, 2, 0)) as number;
    const req = new Uint8Array(40);
    req.set(new TextEncoder().encode('lo'));
    h.mem.write(BUF, req);
    expect(await h.call('ioctl', fd, 0x8933, BUF)).toBe(0); // SIOCGIFINDEX
    expect(h.mem.readI32(BUF + 16)).toBe(1);
    req.set(new TextEncoder().encode('xx'));
    h.mem.write(BUF, req);
    expect(await h.call('ioctl', fd, 0x8933, BUF)).toBe(E.ENODEV);
    expect(await h.call('ioctl', fd, 0x8933, 1)).toBe(E.EFAULT);
  });
});
