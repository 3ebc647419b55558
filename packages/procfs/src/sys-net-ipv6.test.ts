import { describe, expect, it } from 'vitest';
import { E, OpenFlag, isError } from '@tsvisor/abi';
import { userCreds } from '@tsvisor/vfs';
import { FixtureProcSource } from './fixture.js';
import { list, mounted, nativeSysctlWrites, putText as put, readAll } from './mount.test-util.js';
import type { ProcNetIpv6Sysctl, ProcNetIpv6SysctlWrite } from './sys-net-ipv6.js';

const IPV6 = '/proc/sys/net/ipv6';

/** Inputs whose outcome is compared with Linux's proc_dointvec and proc_dointvec_jiffies. */
const INPUTS = [
  '7',
  '-1',
  '0',
  '2147483647',
  '2147483648',
  '-2147483648',
  '0x10',
  '010',
  '+3',
  'abc',
  ' 4',
  '5 6',
  '8589934',
  '8589935',
  '99999999999',
];

/** What Linux 6.x gives each input (`err`: EINVAL, the value unchanged from its default `d`). */
function want(d: string, jiffies: boolean, min = -0x80000000, max = 0x7fffffff): string[] {
  return [
    'ok 7',
    'ok -1',
    'ok 0',
    jiffies ? 'err' : 'ok 2147483647',
    'err',
    jiffies ? 'err' : 'ok -2147483648',
    'ok 16',
    'ok 8',
    'err',
    'err',
    'ok 4',
    'ok 5',
    'ok 8589934',
    jiffies ? 'err' : 'ok 8589935',
    'err',
  ]
    .map((w) => (w.startsWith('ok ') && (Number(w.slice(3)) < min || Number(w.slice(3)) > max) ? 'err' : w))
    .map((w) => (w === 'err' ? `err ${d}` : w));
}

/** Inputs around the bounds of conf/<dev>/mtu (IPV6_MIN_MTU, lo's MTU of 65536). */
const MTU_INPUTS = ['1279', '1280', '0x500', '65536', '65537', '-1', '1400 9', 'x'];
/** What Linux gives them on lo; on `all` only the upper bound goes. */
const MTU_WANT_LO = ['err', 'ok 1280', 'ok 1280', 'ok 65536', 'err', 'err', 'ok 1400', 'err'];

const CONF_FILES = ['dad_transmits', 'disable_ipv6', 'enhanced_dad', 'hop_limit', 'mtu'];

/** A fixture whose namespace keeps its IPv6 sysctls in `state` (written through `writes`). */
function withIpv6Sysctl(): {
  src: FixtureProcSource;
  state: () => ProcNetIpv6Sysctl;
  writes: ProcNetIpv6SysctlWrite[];
} {
  const conf = { dadTransmits: 1, enhancedDad: 1, hopLimit: 64, mtu: 1280, disableIpv6: 0 };
  let state: ProcNetIpv6Sysctl = {
    idgenRetries: 3,
    idgenDelay: 1,
    icmpEchoIgnoreAll: 0,
    icmpEchoIgnoreMulticast: 0,
    routeMtuExpires: 600,
    conf: { all: conf, default: conf, lo: { ...conf, mtu: 65536 }, eth0: { ...conf, mtu: 1500 } },
  };
  const writes: ProcNetIpv6SysctlWrite[] = [];
  const src = FixtureProcSource.sample();
  const net = src.netValue;
  if (net === null) throw new Error('fixture has a network namespace');
  src.netValue = {
    ...net,
    ipv6Sysctl: () => state,
    setIpv6Sysctl: (w) => {
      writes.push(w);
      if (!('conf' in w)) state = { ...state, [w.key]: w.value };
      else
        state = { ...state, conf: { ...state.conf, [w.conf]: { ...state.conf[w.conf]!, [w.key]: w.value } } };
      return undefined;
    },
  };
  return { src, state: () => state, writes };
}

describe('/proc/sys/net/ipv6', () => {
  it("lists idgen_*, icmp, route and a conf directory for all, default and each device, sorted as Linux's", () => {
    const { p } = mounted();
    expect(list(p, IPV6)).toEqual(['conf', 'icmp', 'idgen_delay', 'idgen_retries', 'route']);
    expect(list(p, `${IPV6}/icmp`)).toEqual([
      'echo_ignore_all',
      'echo_ignore_anycast',
      'echo_ignore_multicast',
      'ratelimit',
      'ratemask',
    ]);
    expect(readAll(p, `${IPV6}/icmp/ratelimit`)).toBe('100\n'); // Linux 6.18's HZ / 10
    expect(readAll(p, `${IPV6}/icmp/ratemask`)).toBe('0-1,3-127\n');
    expect(readAll(p, `${IPV6}/icmp/echo_ignore_multicast`)).toBe('0\n');
    expect(readAll(p, `${IPV6}/icmp/echo_ignore_anycast`)).toBe('0\n'); // Linux 6.18's default
    expect(list(p, `${IPV6}/route`)).toEqual(['mtu_expires']);
    expect(readAll(p, `${IPV6}/icmp/echo_ignore_all`)).toBe('0\n');
    expect(readAll(p, `${IPV6}/route/mtu_expires`)).toBe('600\n');
    const devices = FixtureProcSource.sample()
      .netValue!.devices()
      .map((d) => d.name);
    expect(list(p, `${IPV6}/conf`)).toEqual(['all', 'default', ...devices].sort());
    for (const c of ['all', 'default', ...devices]) {
      expect(list(p, `${IPV6}/conf/${c}`)).toEqual(CONF_FILES);
      expect(readAll(p, `${IPV6}/conf/${c}/dad_transmits`)).toBe('1\n');
      expect(readAll(p, `${IPV6}/conf/${c}/enhanced_dad`)).toBe('1\n');
      expect(readAll(p, `${IPV6}/conf/${c}/hop_limit`)).toBe('64\n');
      expect(readAll(p, `${IPV6}/conf/${c}/disable_ipv6`)).toBe('0\n');
    }
    expect(readAll(p, `${IPV6}/idgen_retries`)).toBe('3\n');
    expect(readAll(p, `${IPV6}/idgen_delay`)).toBe('1\n');
    expect(p.stat(`${IPV6}/conf/lo/dad_transmits`)).toMatchObject({ mode: 0o100644 });
    expect(readAll(p, `${IPV6}/conf/nosuch/dad_transmits`)).toBe(E.ENOENT);
  });

  it("parses writes as Linux's proc_dointvec and proc_dointvec_jiffies (compared with the host's kernel)", () => {
    const files = [
      'conf/all/dad_transmits',
      'conf/lo/enhanced_dad',
      'idgen_retries',
      'idgen_delay',
      'conf/lo/hop_limit',
      'conf/all/disable_ipv6',
      'icmp/echo_ignore_all',
      'icmp/echo_ignore_multicast',
      'icmp/echo_ignore_anycast',
      'route/mtu_expires',
    ];
    const mine = files.flatMap((f) =>
      INPUTS.map((text) => {
        const { p } = mounted();
        const r = put(p, `${IPV6}/${f}`, text);
        const now = (readAll(p, `${IPV6}/${f}`) as string).trimEnd();
        return isError(r) ? `err ${now}` : `ok ${now}`;
      }),
    );
    expect(mine).toEqual([
      ...want('1', false),
      ...want('1', false),
      ...want('3', false),
      ...want('1', true),
      ...want('64', false, 1, 255),
      ...want('0', false),
      ...want('0', false, 0, 255),
      ...want('0', false, 0, 255),
      ...want('0', false, 0, 255),
      ...want('600', true),
    ]);
    const native = nativeSysctlWrites(
      files.map((f) => `${IPV6}/${f}`),
      INPUTS,
    );
    if (native !== null) expect(mine.map((m) => m.replace(/^err .*/, 'err'))).toEqual(native);
  });

  it('takes icmp/ratelimit as milliseconds in jiffies and icmp/ratemask as a bitmap of types (compared with the host kernel)', () => {
    const outcome = (f: string, inputs: readonly string[]): string[] =>
      inputs.map((text) => {
        const { p } = mounted();
        const r = put(p, `${IPV6}/icmp/${f}`, text);
        return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV6}/icmp/${f}`) as string).trimEnd()}`;
      });
    const ms = ['0', '1', '5', '1001', '-1', ' 9 ', '0x10', 'x', '2147483648', '4294967300'];
    const msWant = 'ok 0|ok 4|ok 8|ok 1004|err|ok 12|ok 16|err|err|ok 4';
    // proc_do_large_bitmap of 256 bits: no blanks, ranges not reversed, types below 256.
    const masks = ['0', '3,1', '0-255', '256', '1-0', 'a', '1,,2', '1 2', '-1', '1-', '1,1-4', ' 1', '1\n'];
    const moreMasks = ['\n', '0x81,010', '0-1,3-127,129', '255', '129-128', '1-256'];
    const maskWant =
      'ok 0|ok 1,3|ok 0-255|err|err|err|err|err|err|err|ok 1-4|err|ok 1|ok |ok 8,129|ok 0-1,3-127,129|ok 255|err|err';
    const mine = [...outcome('ratelimit', ms), ...outcome('ratemask', [...masks, ...moreMasks])];
    expect(mine).toEqual([...msWant.split('|'), ...maskWant.split('|')]);
    const native = [
      nativeSysctlWrites([`${IPV6}/icmp/ratelimit`], ms),
      nativeSysctlWrites([`${IPV6}/icmp/ratemask`], [...masks, ...moreMasks]),
    ];
    if (native.every((n) => n !== null))
      expect(mine.map((m) => m.trimEnd())).toEqual(native.flat().map((m) => m.trimEnd()));
  });

  it("keeps conf/<dev>/mtu between 1280 and the device's MTU, `all`'s from 1280 (compared with the host's kernel)", () => {
    // Without the namespace's values: a device's mtu starts as its MTU.
    const src = FixtureProcSource.sample();
    src.netValue = { ...src.netValue!, devices: () => [{ name: 'lo', index: 1, mtu: 65536, stats: {} }] };
    const mine = ['conf/lo/mtu', 'conf/all/mtu'].flatMap((f) =>
      MTU_INPUTS.map((text) => {
        const { p } = mounted(undefined, src);
        const r = put(p, `${IPV6}/${f}`, text);
        const now = (readAll(p, `${IPV6}/${f}`) as string).trimEnd();
        return isError(r) ? `err ${now}` : `ok ${now}`;
      }),
    );
    const wantAll = MTU_WANT_LO.map((w, i) => (i === 4 ? 'ok 65537' : w));
    expect(mine).toEqual([
      ...MTU_WANT_LO.map((w) => (w === 'err' ? 'err 65536' : w)),
      ...wantAll.map((w) => (w === 'err' ? 'err 1280' : w)),
    ]);
    const native = nativeSysctlWrites([`${IPV6}/conf/lo/mtu`, `${IPV6}/conf/all/mtu`], MTU_INPUTS);
    if (native !== null) expect(mine.map((m) => m.replace(/^err .*/, 'err'))).toEqual(native);
  });

  it("reads and writes the namespace's values, each conf directory its own", () => {
    const { src, state, writes } = withIpv6Sysctl();
    const { p } = mounted(undefined, src);
    expect(list(p, `${IPV6}/conf`)).toEqual(['all', 'default', 'eth0', 'lo']);
    expect(put(p, `${IPV6}/conf/eth0/dad_transmits`, '3\n')).toBe(2);
    expect(put(p, `${IPV6}/conf/all/enhanced_dad`, '0')).toBe(1);
    expect(put(p, `${IPV6}/idgen_delay`, '5')).toBe(1);
    expect(put(p, `${IPV6}/idgen_retries`, 'x')).toBe(E.EINVAL);
    expect(put(p, `${IPV6}/conf/lo/hop_limit`, '33')).toBe(2);
    expect(put(p, `${IPV6}/conf/eth0/mtu`, '1400')).toBe(4);
    expect(put(p, `${IPV6}/conf/lo/disable_ipv6`, '1')).toBe(1);
    expect(put(p, `${IPV6}/icmp/echo_ignore_all`, '1')).toBe(1);
    expect(put(p, `${IPV6}/icmp/echo_ignore_multicast`, '1')).toBe(1);
    expect(put(p, `${IPV6}/icmp/echo_ignore_anycast`, '255')).toBe(3);
    expect(put(p, `${IPV6}/icmp/echo_ignore_anycast`, '256')).toBe(E.EINVAL);
    expect(put(p, `${IPV6}/route/mtu_expires`, '-5')).toBe(2);
    expect(put(p, `${IPV6}/icmp/ratelimit`, '1000')).toBe(4);
    expect(put(p, `${IPV6}/icmp/ratemask`, '1-4,129')).toBe(7);
    expect(readAll(p, `${IPV6}/icmp/ratemask`)).toBe('1-4,129\n');
    expect(writes.slice(-2)).toEqual([
      { key: 'icmpRatelimit', value: 1000 },
      { key: 'icmpRatemask', value: new Set([1, 2, 3, 4, 129]) },
    ]);
    writes.splice(-2);
    expect(writes).toEqual([
      { key: 'dadTransmits', conf: 'eth0', value: 3 },
      { key: 'enhancedDad', conf: 'all', value: 0 },
      { key: 'idgenDelay', value: 5 },
      { key: 'hopLimit', conf: 'lo', value: 33 },
      { key: 'mtu', conf: 'eth0', value: 1400 },
      { key: 'disableIpv6', conf: 'lo', value: 1 },
      { key: 'icmpEchoIgnoreAll', value: 1 },
      { key: 'icmpEchoIgnoreMulticast', value: 1 },
      { key: 'icmpEchoIgnoreAnycast', value: 255 },
      { key: 'routeMtuExpires', value: -5 },
    ]);
    expect(readAll(p, `${IPV6}/icmp/echo_ignore_anycast`)).toBe('255\n');
    expect(readAll(p, `${IPV6}/conf/lo/hop_limit`)).toBe('33\n');
    expect(readAll(p, `${IPV6}/conf/eth0/mtu`)).toBe('1400\n');
    expect(readAll(p, `${IPV6}/route/mtu_expires`)).toBe('-5\n');
    expect(readAll(p, `${IPV6}/conf/eth0/dad_transmits`)).toBe('3\n');
    expect(readAll(p, `${IPV6}/conf/lo/dad_transmits`)).toBe('1\n');
    expect(state().idgenDelay).toBe(5);
  });

  it('a namespace the reader does not own: overflow owner, opening for writing EACCES', () => {
    const { src } = withIpv6Sysctl();
    src.netValue = { ...src.netValue!, sysctlOwned: false };
    const { p } = mounted(undefined, src);
    expect(p.stat(`${IPV6}/conf/lo/dad_transmits`)).toMatchObject({ uid: 65534, gid: 65534 });
    expect(p.stat(`${IPV6}/conf`)).toMatchObject({ uid: 65534, gid: 65534 });
    expect(p.open(`${IPV6}/conf/lo/dad_transmits`, OpenFlag.O_WRONLY)).toBe(E.EACCES);
    expect(p.open(`${IPV6}/idgen_retries`, OpenFlag.O_WRONLY)).toBe(E.EACCES);
    expect(p.stat(`${IPV6}/icmp/echo_ignore_all`)).toMatchObject({ uid: 65534, gid: 65534 });
    expect(p.open(`${IPV6}/route/mtu_expires`, OpenFlag.O_WRONLY)).toBe(E.EACCES);
    expect(p.open(`${IPV6}/conf/lo/mtu`, OpenFlag.O_WRONLY)).toBe(E.EACCES);
  });

  it('an unprivileged reader may read but not write', () => {
    const { p } = mounted(userCreds(1000, 1000));
    expect(readAll(p, `${IPV6}/conf/all/dad_transmits`)).toBe('1\n');
    expect(p.open(`${IPV6}/conf/all/dad_transmits`, OpenFlag.O_WRONLY)).toBe(E.EACCES);
  });
});
