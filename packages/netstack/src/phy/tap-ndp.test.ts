// Neighbor discovery against the Linux stack over a TAP device, each case also run with Linux
// itself in netstack's place (two namespaces joined by a veth pair): all namespaces are made and
// ended by this test.
// - After netstack's link went down and up, its default route is gone; Linux solicits its
//   global address from an address of another prefix, and gets the advertisement (Linux's
//   ndisc_send_na answers on the device the solicitation came in by, with no route).
// - Enhanced DAD (RFC 7527): a peer that reflects netstack's DAD solicitation, as a bridge that
//   loops multicast does, leaves the address valid; the same solicitation with another nonce
//   makes it dadfailed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { IfaFlag } from '../iface/slaac.js';
import { Stack } from '../stack.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv6Address } from '../wire/ip-address.js';
import { createNetns, openTapNetns, sleep, type Netns, type TapNetns } from './tap-netns.test-util.js';

const IF = 'tsv2';
const MAC = '02:00:00:00:0a:02';
let net: TapNetns;
let stack: Stack;

beforeAll(async () => {
  net = await openTapNetns({
    ifname: IF,
    addresses: ['fd0a::1/64', 'fd0c::1/64'],
    tmpPrefix: 'tsvisor-tap-ndp-',
  });
  stack = new Stack({
    device: net.device,
    addresses: [cidr('fd0a::2/64')],
    hardwareAddress: EthernetAddress.parse(MAC)!,
    ipv6LinkLocal: true,
    gateways: [Ipv6Address.parse('fd0a::1')!],
    seed: 11,
  });
  net.attach(stack);
}, 30_000);

afterAll(() => net?.close());

/**
 * Linux in netstack's place: namespaces `peerNs` (as the TAP's namespace is) and the host under
 * test, joined by veth `vp` - `vh`, lo up in both; `peer` and `host` run shell commands in them.
 */
function linuxPair(): {
  peerNs: Netns;
  peer: (cmd: string) => string;
  host: (cmd: string) => string;
  close(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-tap-ndp-linux-'));
  let p: Netns | undefined;
  let h: Netns | undefined;
  const close = (): void => {
    try {
      p?.close();
    } finally {
      try {
        h?.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  };
  const sh =
    (ns: Netns) =>
    (cmd: string): string =>
      ns.run(['sh', '-c', cmd]);
  try {
    p = createNetns(join(dir, 'peer'));
    h = createNetns(join(dir, 'host'));
    execFileSync('ip', [
      'link',
      'add',
      'vp',
      'netns',
      p.file,
      'type',
      'veth',
      'peer',
      'name',
      'vh',
      'netns',
      h.file,
    ]);
    sh(p)('ip link set lo up && ip link set vp up');
    sh(h)('ip link set lo up && ip link set vh up');
  } catch (e) {
    close();
    throw e;
  }
  return { peerNs: p, peer: sh(p), host: sh(h), close };
}

/** Waits until no address of namespace `run` is tentative without having failed (DAD over). */
async function dadOver(run: (cmd: string) => string): Promise<void> {
  for (let t = 0; t < 100; t++) {
    if (!run('ip -6 addr show tentative -dadfailed')) return;
    await sleep(50);
  }
  throw new Error('DAD did not end');
}

/**
 * The peer's probe: a ping from fd0c::1 to fd0a::2 (answered or not: the peer's route back is
 * what is asked about), then what the peer's neighbor table says of fd0a::2.
 */
const PROBE = (dev: string): string =>
  `ping -6 -c 1 -W 1 -I fd0c::1 fd0a::2 >/dev/null 2>&1; ip -6 neigh show fd0a::2 dev ${dev}`;

describe('a solicitation is answered on the device it came in by', () => {
  it('Linux: after down and up, a solicitation from a prefix it has no route to is answered', async () => {
    const l = linuxPair();
    try {
      l.peer('ip -6 addr add fd0a::1/64 dev vp nodad && ip -6 addr add fd0c::1/64 dev vp nodad');
      l.host('ip -6 addr add fd0a::2/64 dev vh nodad && ip -6 route add default via fd0a::1 dev vh');
      l.host('ip link set vh down && ip link set vh up && ip -6 addr add fd0a::2/64 dev vh nodad');
      expect(l.host('ip -6 route show default')).toBe('');
      await dadOver(l.host);
      // From ip, not /sys/class/net: the namespace sees the host's sysfs.
      const mac = /link\/ether (\S+)/.exec(l.host('ip -o link show vh'))![1];
      expect(l.peer(PROBE('vp'))).toMatch(new RegExp(`lladdr ${mac} REACHABLE`));
    } finally {
      l.close();
    }
  }, 30_000);

  it('netstack: the same', async () => {
    expect(stack.setDeviceUp(false)).toBeUndefined();
    expect(stack.setDeviceUp(true)).toBeUndefined();
    expect(stack.iface.addAddress(cidr('fd0a::2/64'), { flags: IfaFlag.NODAD })).toBeUndefined();
    expect(stack.iface.lookupRoute(Ipv6Address.parse('fd0c::1')!)).toBeUndefined();
    const out = await net.inNs(['sh', '-c', PROBE(IF)]);
    expect(out).toMatch(new RegExp(`lladdr ${MAC} REACHABLE`));
  }, 30_000);
});

/**
 * A reflecting link in Python, run by the peer on `dev`: waits for a DAD solicitation (from ::)
 * for target `hex`, prints `ready` first, and sends the frame back, with its last nonce byte
 * changed (and the checksum redone) when told `other`.
 */
const REFLECT = String.raw`
import socket, struct, sys
dev, target, mode = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))
s.bind((dev, 0))
s.settimeout(10)
print('ready', flush=True)
while True:
    f = bytearray(s.recv(4096))
    if len(f) >= 86 and f[20] == 58 and f[22:38] == bytes(16) and f[54] == 135 and f[62:78] == target:
        break
assert f[78] == 14 and f[79] == 1, 'no nonce option'
if mode == 'other':
    f[85] ^= 1
    f[56:58] = b'\0\0'
    plen = struct.unpack('!H', f[18:20])[0]
    data = bytes(f[22:54]) + struct.pack('!I3xB', plen, 58) + bytes(f[54:54 + plen])
    c = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while c >> 16:
        c = (c & 0xffff) + (c >> 16)
    f[56:58] = struct.pack('!H', ~c & 0xffff)
s.send(bytes(f))
`;

/** Starts the reflector in `netns`; resolves once it listens, with its exit (wrapped: not awaited yet). */
async function reflector(
  netns: Netns,
  dev: string,
  target: string,
  mode: 'same' | 'other',
): Promise<{ exit: Promise<void> }> {
  const hex = Buffer.from(Ipv6Address.parse(target)!.bytes).toString('hex');
  const p = netns.spawn(['python3', '-c', REFLECT, dev, hex, mode]);
  let out = '';
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<void>((resolve, reject) =>
    p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`reflector exited ${c}: ${err}`)))),
  );
  exit.catch(() => {}); // awaited by the caller
  await new Promise<void>((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    exit.then(() => reject(new Error('reflector ended early')), reject);
  });
  return { exit };
}

describe('enhanced DAD (RFC 7527): a reflected solicitation', () => {
  const cases = [
    { mode: 'same', addr: 'fd0a::5', failed: false },
    { mode: 'other', addr: 'fd0a::6', failed: true },
  ] as const;

  for (const { mode, addr, failed } of cases)
    it(`Linux: with ${mode === 'same' ? 'its own' : 'another'} nonce, the address is ${failed ? 'dadfailed' : 'valid'}`, async () => {
      const l = linuxPair();
      try {
        const { exit } = await reflector(l.peerNs, 'vp', addr, mode);
        l.host(`ip -6 addr add ${addr}/64 dev vh`);
        await exit;
        await dadOver(l.host);
        const flags = l.host(`ip -6 addr show dev vh to ${addr}/128`);
        expect(flags).toContain(addr);
        expect(flags.includes('dadfailed')).toBe(failed);
      } finally {
        l.close();
      }
    }, 30_000);

  for (const { mode, addr, failed } of cases)
    it(`netstack: with ${mode === 'same' ? 'its own' : 'another'} nonce, the address is ${failed ? 'dadfailed' : 'valid'}`, async () => {
      const { exit } = await reflector(net.netns, IF, addr, mode);
      expect(stack.iface.addAddress(cidr(`${addr}/64`))).toBeUndefined();
      const flags = (): number | undefined =>
        stack.iface.ipv6Addresses().find((a) => a.cidr.address.toString() === addr)?.flags;
      let reflected = false;
      void exit.then(
        () => (reflected = true),
        () => (reflected = true), // its error comes from the await below
      );
      await net.drive(() => reflected, 5000);
      await exit;
      await net.drive(() => flags() !== (IfaFlag.PERMANENT | IfaFlag.TENTATIVE), 5000);
      expect(flags()).toBe(IfaFlag.PERMANENT | (failed ? IfaFlag.TENTATIVE | IfaFlag.DADFAILED : 0));
    }, 30_000);
});
