// The same router advertisement to Linux and to netstack: in a network namespace made here, a
// veth pair whose end `vb` has addr_gen_mode=2, a stable_secret and use_tempaddr=2, and a small
// C program sending the advertisement from the other end. Linux's stable addresses (link-local
// and SLAAC), and the flags of every address during and after DAD, must be netstack's. And a
// link-local address that the other end holds already: Linux forms the next one (RFC 7217 §6).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { settle } from '../stack.test-util.js';
import { EthernetAddress } from '../wire/ethernet.js';
import { Ipv6Address } from '../wire/ip-address.js';
import { stableAddress } from './interface-id.js';
import { IfaFlag, type Ipv6AddressInfo } from './slaac.js';
import {
  allNodes,
  claim,
  dadTargets,
  prefixInfo,
  received,
  routerAddr,
  routerAdvert,
  sendIcmp,
  slaacStack,
} from './slaac.test-util.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvisor-slaac-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MAC = '02:11:22:33:44:55';
const SECRET = '2001:db8:1:2:3:4:5:6';
const PREFIX = '2001:db8:7:8::';

/** One address as Linux or netstack shows it: /proc/net/if_inet6's flag byte and ip(8)'s words. */
interface Shown {
  readonly address: string;
  readonly procFlags: string;
  readonly words: string;
}

/** A veth pair whose vb makes stable-privacy addresses (RFC 7217) from SECRET, DAD off on va. */
const VETH_STABLE = [
  'set -e',
  'ip link add name va type veth peer name vb',
  `ip link set vb address ${MAC}`,
  'sysctl -qw net.ipv6.conf.va.accept_dad=0',
  `sysctl -qw net.ipv6.conf.vb.stable_secret=${SECRET}`,
  'sysctl -qw net.ipv6.conf.vb.addr_gen_mode=2',
];

function linuxRun(): { during: Shown[]; after: Shown[] } {
  const bin = join(dir, 'router-advert');
  execFileSync('gcc', ['-O0', '-w', '-o', bin, join(import.meta.dirname, 'router-advert.test-util.c')]);
  const script = [
    ...VETH_STABLE,
    'sysctl -qw net.ipv6.conf.vb.use_tempaddr=2',
    'ip link set lo up && ip link set va up && ip link set vb up',
    'sleep 0.2',
    `${bin} va ${PREFIX} 3600 1800`,
    'sleep 0.2',
    'echo during; grep " vb$" /proc/net/if_inet6; ip -6 -o addr show dev vb',
    // DAD waits a random delay of up to 1 s (RFC 4862 §5.4.2) before RetransTimer: wait it out.
    'for i in $(seq 60); do ip -6 -o addr show dev vb | grep -q tentative || break; sleep 0.1; done',
    'echo after; grep " vb$" /proc/net/if_inet6; ip -6 -o addr show dev vb',
  ].join('\n');
  const out = execFileSync('unshare', ['--net', 'sh', '-c', script]).toString();
  const [during, after] = out.split('after\n') as [string, string];
  return { during: parseLinux(during), after: parseLinux(after) };
}

/** /proc/net/if_inet6 lines and `ip -o` lines joined by address. */
function parseLinux(text: string): Shown[] {
  const proc = new Map<string, string>();
  const words = new Map<string, string>();
  for (const line of text.split('\n')) {
    const p = /^([0-9a-f]{32}) \S+ \S+ \S+ ([0-9a-f]+)\s+vb$/.exec(line);
    if (p) proc.set(Ipv6Address.parse(p[1]!.replace(/(.{4})(?!$)/g, '$1:'))!.toString(), p[2]!);
    const w = /inet6 ([0-9a-f:]+)\/64 scope (?:global|link) ?(.*?)\\/.exec(line);
    if (w)
      words.set(
        w[1]!,
        w[2]!
          .trim()
          .split(/\s+/)
          .filter((x) => x !== '')
          .sort()
          .join(' '),
      );
  }
  return [...proc]
    .map(([address, procFlags]) => ({ address, procFlags, words: words.get(address) ?? '?' }))
    .sort(byAddress);
}

const byAddress = (a: Shown, b: Shown): number =>
  a.address < b.address ? -1 : a.address > b.address ? 1 : 0;

/** ip(8)'s words for IFA_F_* flags (iproute2 ipaddress.c), for the flags both sides set here. */
function ipWords(flags: number): string {
  const w: string[] = [];
  if (flags & IfaFlag.TEMPORARY) w.push('temporary');
  if (flags & IfaFlag.TENTATIVE) w.push('tentative');
  if (flags & IfaFlag.DADFAILED) w.push('dadfailed');
  if (flags & IfaFlag.DEPRECATED) w.push('deprecated');
  if (!(flags & IfaFlag.PERMANENT)) w.push('dynamic');
  if (flags & IfaFlag.MANAGETEMPADDR) w.push('mngtmpaddr');
  if (flags & IfaFlag.STABLE_PRIVACY) w.push('stable-privacy');
  return w.sort().join(' ');
}

function netstackShown(infos: Ipv6AddressInfo[]): Shown[] {
  return infos
    .map((a) => ({
      address: a.cidr.address.toString(),
      procFlags: (a.flags & 0xff).toString(16).padStart(2, '0'), // if6_seq_show prints (u8)flags
      words: ipWords(a.flags),
    }))
    .sort(byAddress);
}

it('forms the stable addresses Linux forms, with the same flags during and after DAD', () => {
  const linux = linuxRun();
  const mac = EthernetAddress.parse(MAC)!;
  const { stack, peer } = slaacStack({
    mac,
    // A veth has no permanent hardware address: Linux hashes zeros.
    addrconf: {
      addrGenMode: 'stable-privacy',
      stableSecret: Ipv6Address.parse(SECRET)!,
      permanentAddress: EthernetAddress.ZERO,
      useTempaddr: 2,
    },
    seed: 3,
  });
  settle([stack], 0);
  sendIcmp(
    peer,
    mac,
    routerAddr,
    allNodes,
    routerAdvert([prefixInfo(PREFIX, { validLifetime: 3600, preferredLifetime: 1800 })]),
  );
  settle([stack], 200);
  const during = netstackShown(stack.iface.ipv6Addresses());
  settle([stack], 1700);
  const after = netstackShown(stack.iface.ipv6Addresses());
  // The temporary address is random on both sides: compare it by its prefix only.
  const temp = (s: Shown[]): Shown[] =>
    s
      .map((x) =>
        x.words.includes('temporary')
          ? { ...x, address: `${x.address.split(':').slice(0, 4).join(':')}:<random>` }
          : x,
      )
      .sort(byAddress);
  expect(linux.after).toHaveLength(3); // link-local, stable, temporary
  // Linux's link-local DAD (started at link up) may still run during the first snapshot.
  const settled = (s: Shown[]): Shown[] => temp(s).filter((x) => !x.address.startsWith('fe80:'));
  expect(settled(during)).toEqual(settled(linux.during));
  expect(temp(after)).toEqual(temp(linux.after));
});

/** An address announced on vb to see that `ip monitor` listens (not a link-local one). */
const PROBE = '2001:db8:fffe::1';

/** netstack in vb's place: vb's MAC and secret, a veth's zero permanent address, no SLAAC. */
function vbWithoutSlaac(): ReturnType<typeof slaacStack> {
  return slaacStack({
    mac: EthernetAddress.parse(MAC)!,
    slaac: false,
    addrconf: {
      addrGenMode: 'stable-privacy',
      stableSecret: Ipv6Address.parse(SECRET)!,
      permanentAddress: EthernetAddress.ZERO,
    },
    seed: 3,
  });
}

/** vb's counter-0 link-local address, as netstack forms it (a veth hashes a zero perm_addr). */
function counterZeroLinkLocal(): NonNullable<ReturnType<typeof stableAddress>> {
  return stableAddress(Ipv6Address.parse('fe80::')!, EthernetAddress.ZERO, 0, Ipv6Address.parse(SECRET)!)!;
}

it('forms the next stable link-local address when the first is in use, as Linux does', () => {
  const ll0 = counterZeroLinkLocal();
  const script = [
    ...VETH_STABLE,
    `ip link set lo up && ip link set va up && ip -6 addr add ${ll0.address.toString()}/64 dev va nodad`,
    'ip link set vb up',
    // DAD of the first (random delay up to 1 s), idgen_delay (1 s), DAD of the second.
    'for i in $(seq 80); do',
    '  [ "$(ip -6 -o addr show dev vb | wc -l)" -ge 2 ] && ! ip -6 -o addr show dev vb tentative -dadfailed | grep -q . && break',
    '  sleep 0.1',
    'done',
    'echo after; grep " vb$" /proc/net/if_inet6; ip -6 -o addr show dev vb',
  ].join('\n');
  const out = execFileSync('unshare', ['--net', 'sh', '-c', script]).toString();
  const linux = parseLinux(out.split('after\n')[1]!);

  const mac = EthernetAddress.parse(MAC)!;
  const { stack, peer } = vbWithoutSlaac();
  expect(stack.iface.linkLocal).toEqual(ll0.address);
  expect(stack.setDeviceUp(false)).toBeUndefined();
  expect(stack.setDeviceUp(true)).toBeUndefined();
  for (let t = 0; t <= 5000; t += 100) {
    settle([stack], t);
    for (const target of dadTargets(received(peer)))
      if (target === ll0.address.toString()) sendIcmp(peer, mac, ll0.address, allNodes, claim(ll0.address));
  }
  expect(linux).toHaveLength(2);
  expect(netstackShown(stack.iface.ipv6Addresses())).toEqual(linux);
});

it('announces what Linux announces over rtnetlink, and when: the failed address at once, the next once valid', () => {
  const ll0 = counterZeroLinkLocal();
  // addrconf_dad_failure adds the next address with ipv6_add_addr, which announces nothing (only
  // inet6_addr_add does, for `ip addr add`): RTM_NEWADDR comes from addrconf_dad_completed.
  const script = [
    ...VETH_STABLE,
    `ip link set lo up && ip link set va up && ip -6 addr add ${ll0.address.toString()}/64 dev va nodad`,
    `ip -o monitor address dev vb > ${dir}/monitor 2>&1 & m=$!`,
    // Until the monitor listens (its start can take longer than a fixed wait on a loaded
    // machine): a probe address it announces, which the /64 link-local lines read below leave out.
    `i=0; until grep -q ${PROBE} ${dir}/monitor || [ $i -ge 100 ]; do`,
    `  ip -6 addr add ${PROBE}/128 dev vb nodad; ip -6 addr del ${PROBE}/128 dev vb; sleep 0.1; i=$((i + 1))`,
    'done',
    'ip link set vb up',
    'for i in $(seq 80); do',
    '  [ "$(ip -6 -o addr show dev vb | wc -l)" -ge 2 ] && ! ip -6 -o addr show dev vb tentative -dadfailed | grep -q . && break',
    '  sleep 0.1',
    'done',
    'sleep 0.2; kill $m; wait $m || true',
    `cat ${dir}/monitor`,
  ].join('\n');
  const out = execFileSync('unshare', ['--net', 'sh', '-c', script]).toString();
  const linux = [...out.matchAll(/inet6 ([0-9a-f:]+)\/64 scope link (.*?)\\/g)].map(
    (m) => `${m[1]} ${m[2]!.trim().split(/\s+/).sort().join(' ')}`,
  );

  const mac = EthernetAddress.parse(MAC)!;
  const { stack, peer } = vbWithoutSlaac();
  const announced: string[] = [];
  stack.iface.dadListener = (c) => {
    const info = stack.iface.ipv6Addresses().find((a) => a.cidr.address.equals(c.address))!;
    announced.push(`${c.address.toString()} ${ipWords(info.flags)}`);
  };
  expect(stack.setDeviceUp(false)).toBeUndefined();
  expect(stack.setDeviceUp(true)).toBeUndefined();
  const ll1 = stableAddress(
    Ipv6Address.parse('fe80::')!,
    EthernetAddress.ZERO,
    1,
    Ipv6Address.parse(SECRET)!,
  )!;
  let failedAt = -1;
  for (let t = 0; t <= 5000; t += 100) {
    settle([stack], t);
    for (const target of dadTargets(received(peer)))
      if (target === ll0.address.toString()) sendIcmp(peer, mac, ll0.address, allNodes, claim(ll0.address));
    if (failedAt < 0 && announced.length === 1) failedAt = t;
    // The next address stays unannounced while idgen_delay and its DAD run.
    if (failedAt >= 0 && t < failedAt + 2000) expect(announced).toHaveLength(1);
  }
  expect(linux).toEqual([
    `${ll0.address.toString()} dadfailed stable-privacy tentative`,
    `${ll1.address.toString()} stable-privacy`,
  ]);
  expect(announced).toEqual(linux);
});
