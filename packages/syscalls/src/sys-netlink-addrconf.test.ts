// Autoconfigured IPv6 addresses as programs see them: /proc/net/if_inet6 and RTM_GETADDR dumps
// of a sandbox whose NIC runs SLAAC (stable-privacy and temporary addresses) on a virtual clock.
// sys-netlink-addrconf-linux.test.ts checks the same fields against Linux.
import { EthernetAddress, Ipv6Address } from '@tsvisor/netstack';
import { describe, expect, it } from 'vitest';
import { addrconfBed, type AddrconfBed, type DumpedAddress } from './addrconf.test-util.js';
import { remainingLifetime } from './sys-netlink.js';

const MAC = '02:11:22:33:44:55';
const PREFIX = '2001:db8:7:8::';
/** What Linux forms from this secret and a veth's all-zero permanent address (see netstack). */
const LINK_LOCAL = 'fe80::ff05:eb87:4e94:b3ad';
const STABLE = '2001:db8:7:8:af7f:2878:b8b5:f952';
const FOREVER = 0xffffffff;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;

function bed(tempPreferredLft?: number): AddrconfBed {
  return addrconfBed({
    mac: MAC,
    name: 'vb',
    index: 2,
    addrconf: {
      addrGenMode: 'stable-privacy',
      stableSecret: Ipv6Address.parse('2001:db8:1:2:3:4:5:6')!,
      permanentAddress: EthernetAddress.ZERO,
      useTempaddr: 2,
      ...(tempPreferredLft !== undefined ? { tempPreferredLft } : {}),
    },
  });
}

/** The 32 hex digits /proc/net/if_inet6 starts a line with. */
function hex(a: string): string {
  return Array.from(Ipv6Address.parse(a)!.bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The address that is neither the link-local nor the stable one: the temporary address. */
function temporaryOf(dump: readonly DumpedAddress[]): DumpedAddress {
  const t = dump.filter((a) => a.address !== LINK_LOCAL && a.address !== STABLE);
  expect(t).toHaveLength(1);
  return t[0]!;
}

const summary = (d: readonly DumpedAddress[]): unknown[] =>
  d.map((a) => [a.flags, a.ifaFlags, a.scope, a.prefixLen, a.index, a.attrs.join(','), a.proto]);
const lifetimes = (d: readonly DumpedAddress[]): number[][] => d.map((a) => [a.preferred, a.valid]);

describe('SLAAC addresses in /proc/net/if_inet6 and RTM_GETADDR', () => {
  it('are tentative during DAD, then formed, with lifetimes counting down', async () => {
    const b = bed();
    // Before any advertisement: the stable link-local address, permanent.
    expect(await b.ifInet6()).toBe(`${hex(LINK_LOCAL)} 02 40 20 80       vb\n`);
    b.advertise(PREFIX, 3600, 1800);
    b.runTo(200);
    const during = await b.dumpAddresses();
    const temp = temporaryOf(during).address;
    expect(temp.startsWith('2001:db8:7:8:')).toBe(true);
    // Linux's order: global before link-local, the newest first (the temporary address).
    expect(during.map((a) => a.address)).toEqual([temp, STABLE, LINK_LOCAL]);
    // ifaddrmsg has the low byte of the flags, IFA_FLAGS all of them (0x100 mngtmpaddr, 0x800
    // stable-privacy); tentative 0x40 until DAD ends. IFA_PROTO: RA (2) and link-local (3).
    expect(summary(during)).toEqual([
      [0x41, 0x41, RT_SCOPE_UNIVERSE, 64, 2, '1,6,8', undefined],
      [0x40, 0x940, RT_SCOPE_UNIVERSE, 64, 2, '1,6,8,11', 2],
      [0x80, 0x880, RT_SCOPE_LINK, 64, 2, '1,6,8,11', 3],
    ]);
    expect(lifetimes(during)).toEqual([
      [1800, 3600],
      [1800, 3600],
      [FOREVER, FOREVER],
    ]);
    expect(await b.ifInet6()).toBe(
      `${hex(temp)} 02 40 00 41       vb\n` +
        `${hex(STABLE)} 02 40 00 40       vb\n` +
        `${hex(LINK_LOCAL)} 02 40 20 80       vb\n`,
    );

    // DAD (RetransTimer, 1 s) is over: no longer tentative.
    b.runTo(1200);
    const after = await b.dumpAddresses();
    expect(summary(after).map((s) => (s as number[]).slice(0, 2))).toEqual([
      [0x01, 0x01],
      [0x00, 0x900],
      [0x80, 0x880],
    ]);
    // Linux takes the whole seconds elapsed since the lifetimes were set off them.
    expect(lifetimes(after)).toEqual([
      [1799, 3599],
      [1799, 3599],
      [FOREVER, FOREVER],
    ]);
    expect(await b.ifInet6()).toBe(
      `${hex(temp)} 02 40 00 01       vb\n` +
        `${hex(STABLE)} 02 40 00 00       vb\n` +
        `${hex(LINK_LOCAL)} 02 40 20 80       vb\n`,
    );
    b.runTo(3500);
    const later = await b.dumpAddresses();
    expect(lifetimes(later).slice(0, 2)).toEqual([
      [1797, 3597],
      [1797, 3597],
    ]);

    // Stamps in hundredths of a second: the autoconfigured addresses share theirs, later than
    // the permanent link-local address's; nothing was refreshed, so tstamp is cstamp.
    const [t, s, ll] = later;
    expect(t!.cstamp).toBe(s!.cstamp);
    expect(s!.cstamp).toBeGreaterThanOrEqual(ll!.cstamp);
    expect(later.map((a) => a.tstamp)).toEqual(later.map((a) => a.cstamp));
    expect(later.map((a) => a.cstamp)).toEqual(during.map((a) => a.cstamp));
  });

  it('a preferred lifetime of 0 deprecates the public and the temporary address, and updates tstamp', async () => {
    const b = bed();
    b.advertise(PREFIX, 3600, 1800);
    b.runTo(1500);
    const before = await b.dumpAddresses();
    b.runTo(5000);
    b.advertise(PREFIX, 3600, 0);
    const dep = await b.dumpAddresses();
    expect(dep.map((a) => a.address)).toEqual(before.map((a) => a.address));
    expect(summary(dep).map((s) => (s as number[]).slice(0, 2))).toEqual([
      [0x21, 0x21],
      [0x20, 0x920],
      [0x80, 0x880],
    ]);
    // The valid lifetimes were set again now; the temporary one follows its public address.
    expect(lifetimes(dep)).toEqual([
      [0, 3600],
      [0, 3600],
      [FOREVER, FOREVER],
    ]);
    expect(dep.map((a) => a.cstamp)).toEqual(before.map((a) => a.cstamp));
    expect(dep[0]!.tstamp).toBeGreaterThan(dep[0]!.cstamp);
    expect(dep[1]!.tstamp).toBeGreaterThan(dep[1]!.cstamp);
    expect(dep[2]!.tstamp).toBe(dep[2]!.cstamp);
    const proc = await b.ifInet6();
    expect(proc.split('\n').map((l) => l.split(' ').filter((f) => f !== '')[4])).toEqual([
      '21',
      '20',
      '80',
      undefined,
    ]);
  });

  it('time deprecates a temporary address after its successor is made, and the lifetimes end', async () => {
    // temp_prefered_lft 600 s: the temporary address is replaced long before its prefix ages.
    const b = bed(600);
    b.advertise(PREFIX, 3600, 1800);
    b.runTo(1500);
    const first = temporaryOf(await b.dumpAddresses());
    // Preferred for 600 s less a random DESYNC_FACTOR: its successor comes REGEN_ADVANCE (5 s)
    // before that ends, and it is deprecated when it ends.
    expect(first.preferred).toBeLessThanOrEqual(600);
    const end = (first.preferred + 1) * 1000;
    b.runTo(end - 4000);
    const rotated = await b.dumpAddresses();
    expect(rotated).toHaveLength(4);
    expect(rotated[1]!.address).toBe(first.address);
    expect(summary(rotated).map((s) => (s as number[]).slice(0, 2))).toEqual([
      [0x01, 0x01],
      [0x01, 0x01],
      [0x00, 0x900],
      [0x80, 0x880],
    ]);
    b.runTo(end + 1000);
    const aged = await b.dumpAddresses();
    expect(aged.map((a) => a.address)).toEqual(rotated.map((a) => a.address));
    expect(aged.map((a) => a.flags)).toEqual([0x01, 0x21, 0x00, 0x80]);
    expect(aged[1]!.preferred).toBe(0);
    expect(aged[1]!.valid).toBeGreaterThan(0);
    const procFlags = (await b.ifInet6()).split('\n').map((l) => l.split(' ').filter((f) => f !== '')[4]);
    expect(procFlags).toEqual(['01', '21', '00', '80', undefined]);

    // The public address is deprecated at 1800 s, its temporary addresses no later.
    b.runTo(1_800_000);
    const old = await b.dumpAddresses();
    expect(old.every((a) => a.address === LINK_LOCAL || (a.flags & 0x20) !== 0)).toBe(true);
    expect(old.find((a) => a.address === STABLE)).toMatchObject({ preferred: 0, valid: 1800 });
    // At 3600 s the valid lifetime ends: only the link-local address is left.
    b.runTo(3_600_000);
    expect((await b.dumpAddresses()).map((a) => a.address)).toEqual([LINK_LOCAL]);
    expect(await b.ifInet6()).toBe(`${hex(LINK_LOCAL)} 02 40 20 80       vb\n`);
  });
});

describe('remainingLifetime', () => {
  it("is Linux's lft - elapsed whole seconds, never below 0, INFINITY_LIFE_TIME for none", () => {
    // Set at 0 for 100 s: 100 until a full second passed, then 99, ..., then 0.
    expect(remainingLifetime(100_000, 0)).toBe(100);
    expect(remainingLifetime(100_000, 999)).toBe(100);
    expect(remainingLifetime(100_000, 1000)).toBe(99);
    expect(remainingLifetime(100_000, 99_999)).toBe(1);
    expect(remainingLifetime(100_000, 100_000)).toBe(0);
    expect(remainingLifetime(100_000, 500_000)).toBe(0);
    expect(remainingLifetime(Infinity, 5)).toBe(0xffffffff);
    // Deadlines on a fractional clock: base + 3600 s at base + 1800 s is 1800 s left.
    for (const base of [0.1, 19059.348421162304, 74672.94244106745, 23021.10215886659])
      expect(remainingLifetime(base + 3_600_000, base + 1_800_000)).toBe(1800);
  });
});
