import { describe, expect, it } from 'vitest';
import { E, OpenFlag, isError } from '@tsvisor/abi';
import { userCreds } from '@tsvisor/vfs';
import { FixtureProcSource } from './fixture.js';
import { list, mounted, nativeSysctlWrites, putText as put, readAll } from './mount.test-util.js';
import type { ProcNetSysctl, ProcNetSysctlWrite } from './net.js';
import { DEFAULT_NET_SYSCTL, parseReservedPorts } from './sys-net-ipv4.js';

const IPV4 = '/proc/sys/net/ipv4';

/** Inputs whose outcome on ip_local_port_range is compared with Linux's. */
const RANGE_INPUTS = [
  '40000 40000',
  '40001 40000',
  '1000 2000',
  '1024 2000',
  '0 100',
  '3000 70000',
  '5000',
  'abc',
  '5000 6000 7000',
  ' 7000  8000 ',
  '5000x 6000',
  '7000\t8000\n',
  '-5 100',
];

/**
 * Inputs whose outcome on ip_local_reserved_ports (each written after `1000`) is compared with
 * Linux's, and what Linux 6.x gives: a list of ports or `err` (EINVAL, the list unchanged).
 */
const RESERVED_CASES: readonly (readonly [string, string])[] = [
  ['9000-9010,8080', '8080,9000-9010'],
  ['5,4,3,2,1,7', '1-5,7'],
  ['3-5,4-8,10,11,12', '3-8,10-12'],
  ['0,65535', '0,65535'],
  ['0x1f90,010,0X10', '8,16,8080'],
  ['8080\n9000\n', '8080,9000'],
  ['\n\n100,\n\n', '100'],
  ['\n', ''],
  ['7-7', '7'],
  ['00000000000000000007', '7'],
  ['000000000000000000007', 'err'],
  ['65536', 'err'],
  ['10-5', 'err'],
  ['1-', 'err'],
  ['1-2-3', 'err'],
  ['8080,,9000', 'err'],
  [',8080', 'err'],
  [' 8080', 'err'],
  ['8080 ', 'err'],
  ['8080\t', 'err'],
  ['-5', 'err'],
  ['1--5', 'err'],
  ['08', 'err'],
  ['0x', 'err'],
  ['+8', 'err'],
  ['abc', 'err'],
  ['1-65536', 'err'],
];

/** Inputs whose outcome on the keepalive and fin_timeout sysctls is compared with Linux's. */
const TIMER_INPUTS = ['5', '0', '-5', ' 30 ', '8589934', '8589935', '2147484', '12abc', '7 8', '256x'];

describe('/proc/sys/net/ipv4', () => {
  it('lists the tunables with Linux defaults, writable ones 0644', () => {
    const { p } = mounted();
    expect(list(p, IPV4)).toEqual([
      'icmp_echo_ignore_all',
      'icmp_echo_ignore_broadcasts',
      'icmp_msgs_burst',
      'icmp_msgs_per_sec',
      'icmp_ratelimit',
      'icmp_ratemask',
      'ip_autobind_reuse',
      'ip_default_ttl',
      'ip_local_port_range',
      'ip_local_reserved_ports',
      'ip_no_pmtu_disc',
      'ping_group_range',
      'route',
      'tcp_abort_on_overflow',
      'tcp_allowed_congestion_control',
      'tcp_available_congestion_control',
      'tcp_congestion_control',
      'tcp_dsack',
      'tcp_early_retrans',
      'tcp_fin_timeout',
      'tcp_frto',
      'tcp_invalid_ratelimit',
      'tcp_keepalive_intvl',
      'tcp_keepalive_probes',
      'tcp_keepalive_time',
      'tcp_max_syn_backlog',
      'tcp_notsent_lowat',
      'tcp_orphan_retries',
      'tcp_reflect_tos',
      'tcp_retries2',
      'tcp_rfc1337',
      'tcp_sack',
      'tcp_syn_linear_timeouts',
      'tcp_syn_retries',
      'tcp_synack_retries',
      'tcp_syncookies',
      'tcp_timestamps',
      'tcp_tw_reuse',
      'tcp_window_scaling',
    ]);
    expect(readAll(p, `${IPV4}/tcp_tw_reuse`)).toBe('2\n');
    expect(readAll(p, `${IPV4}/tcp_rfc1337`)).toBe('0\n');
    expect(readAll(p, `${IPV4}/tcp_reflect_tos`)).toBe('0\n');
    expect(readAll(p, `${IPV4}/tcp_early_retrans`)).toBe('3\n');
    expect(readAll(p, `${IPV4}/tcp_syncookies`)).toBe('1\n');
    expect(readAll(p, `${IPV4}/tcp_synack_retries`)).toBe('5\n');
    expect(readAll(p, `${IPV4}/tcp_syn_retries`)).toBe('6\n');
    expect(readAll(p, `${IPV4}/tcp_syn_linear_timeouts`)).toBe('4\n');
    expect(readAll(p, `${IPV4}/tcp_retries2`)).toBe('15\n');
    expect(readAll(p, `${IPV4}/tcp_orphan_retries`)).toBe('0\n');
    expect(readAll(p, `${IPV4}/tcp_notsent_lowat`)).toBe('4294967295\n');
    expect(readAll(p, `${IPV4}/tcp_dsack`)).toBe('1\n');
    expect(readAll(p, `${IPV4}/tcp_invalid_ratelimit`)).toBe('500\n');
    expect(readAll(p, `${IPV4}/tcp_abort_on_overflow`)).toBe('0\n');
    expect(readAll(p, `${IPV4}/tcp_max_syn_backlog`)).toBe('128\n');
    expect(readAll(p, `${IPV4}/ip_local_port_range`)).toBe('32768\t60999\n');
    expect(readAll(p, `${IPV4}/tcp_congestion_control`)).toBe('cubic\n');
    expect(readAll(p, `${IPV4}/tcp_available_congestion_control`)).toBe('reno cubic\n');
    expect(readAll(p, `${IPV4}/tcp_keepalive_time`)).toBe('7200\n');
    expect(readAll(p, `${IPV4}/tcp_fin_timeout`)).toBe('60\n');
    expect(readAll(p, `${IPV4}/tcp_frto`)).toBe('2\n');
    const mode = (n: string): number => {
      const st = p.stat(`${IPV4}/${n}`);
      if (isError(st)) throw new Error(n);
      return st.mode & 0o777;
    };
    expect(mode('ip_local_port_range')).toBe(0o644);
    expect(mode('tcp_sack')).toBe(0o644);
    expect(mode('tcp_available_congestion_control')).toBe(0o444);
    expect(put(p, `${IPV4}/tcp_window_scaling`, '0')).toBe(E.EACCES);
  });

  it("parses ip_local_port_range writes as Linux does (compared with the host's kernel)", () => {
    const mine = RANGE_INPUTS.map((text) => {
      const { p } = mounted();
      const r = put(p, `${IPV4}/ip_local_port_range`, text);
      return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/ip_local_port_range`) as string).trimEnd()}`;
    });
    // What Linux 6.x gives (the expectations when the host cannot run `unshare -n`).
    expect(mine).toEqual([
      'ok 40000\t40000',
      'err',
      'err',
      'ok 1024\t2000',
      'err',
      'err',
      'ok 5000\t60999',
      'err',
      'ok 5000\t6000',
      'ok 7000\t8000',
      'err',
      'ok 7000\t8000',
      'err',
    ]);
    const native = nativeSysctlWrites([`${IPV4}/ip_local_port_range`], RANGE_INPUTS);
    if (native !== null) expect(mine).toEqual(native);
  });

  it("parses ip_local_reserved_ports writes as Linux does (compared with the host's kernel)", () => {
    const file = `${IPV4}/ip_local_reserved_ports`;
    const mine = RESERVED_CASES.map(([text]) => {
      const { p } = mounted();
      expect(put(p, file, '1000')).toBe(4);
      const r = put(p, file, text);
      if (isError(r)) return r === E.EINVAL && readAll(p, file) === '1000\n' ? 'err' : `unexpected ${r.name}`;
      expect(r).toBe(text.length);
      return `ok ${(readAll(p, file) as string).trimEnd()}`;
    });
    expect(mine).toEqual(RESERVED_CASES.map(([, want]) => (want === 'err' ? want : `ok ${want}`)));
    const native = nativeSysctlWrites(
      [file],
      RESERVED_CASES.map(([text]) => text),
      '1000',
    );
    if (native !== null) expect(mine).toEqual(native);
    // A NUL (which no shell argument holds) may end a range's high end, not a lone port.
    const { p } = mounted();
    expect(put(p, file, '1-2\u00003')).toBe(5);
    expect(readAll(p, file)).toBe('1-3\n');
    expect(put(p, file, '5\u0000')).toBe(E.EINVAL);
    expect(put(p, file, '')).toBe(0);
    expect(readAll(p, file)).toBe('1-3\n');
  });

  it('ip_local_reserved_ports: a write past offset 0 adds to the list; a long one is consumed in parts', () => {
    let state: ProcNetSysctl = { ...DEFAULT_NET_SYSCTL };
    const src = FixtureProcSource.sample();
    const net = src.netValue;
    if (net === null) throw new Error('fixture has a network namespace');
    src.netValue = {
      ...net,
      sysctl: () => state,
      setSysctl: (w) => {
        state = { ...state, [w.key]: w.value };
        return undefined;
      },
    };
    const { p } = mounted(undefined, src);
    const file = `${IPV4}/ip_local_reserved_ports`;
    expect(readAll(p, file)).toBe('\n');
    const fd = p.open(file, OpenFlag.O_WRONLY);
    if (isError(fd)) throw new Error('open');
    expect(p.write(fd, new TextEncoder().encode('7000'))).toBe(4);
    expect(p.write(fd, new TextEncoder().encode('7002-7003\n'))).toBe(10);
    p.close(fd);
    expect(readAll(p, file)).toBe('7000,7002-7003\n');
    expect(state.ipLocalReservedPorts).toEqual(new Set([7000, 7002, 7003]));
    // As Linux does (checked with a C program): of 1000 ports of 5 digits and a comma, the first
    // 4095 bytes end inside the 683rd, which waits for the next write(2), at the offset where
    // it starts; that one then adds the rest.
    const long = new TextEncoder().encode(Array.from({ length: 1000 }, (_, i) => 10000 + i).join(','));
    const again = p.open(file, OpenFlag.O_WRONLY);
    if (isError(again)) throw new Error('open');
    expect(p.write(again, long)).toBe(682 * 6);
    expect(p.write(again, long.subarray(682 * 6))).toBe(long.length - 682 * 6);
    p.close(again);
    expect(readAll(p, file)).toBe('10000-10999\n');
    // A range whose high end the limit cuts waits too, though its low end came whole.
    const cut = parseReservedPorts('\n'.repeat(4090) + '12-345' + '\n'.repeat(100));
    expect(cut).toEqual({ ports: new Set(), consumed: 4090 });
  });

  it('ip_autobind_reuse is 0 or 1', () => {
    const { p } = mounted();
    const file = `${IPV4}/ip_autobind_reuse`;
    expect(readAll(p, file)).toBe('0\n');
    expect(put(p, file, '2')).toBe(E.EINVAL);
    expect(put(p, file, '-1')).toBe(E.EINVAL);
    expect(put(p, file, '1')).toBe(1);
    expect(readAll(p, file)).toBe('1\n');
  });

  it('takes the ICMP echo switches as 0 or 1 as Linux does (compared with the host kernel)', () => {
    const files = ['icmp_echo_ignore_all', 'icmp_echo_ignore_broadcasts'];
    const { p } = mounted();
    expect(files.map((f) => readAll(p, `${IPV4}/${f}`))).toEqual(['0\n', '1\n']);
    const inputs = ['0', '1', '2', '255', '256', '-1', ' 1 ', 'x'];
    const mine = files.flatMap((f) =>
      inputs.map((text) => {
        const { p } = mounted();
        const r = put(p, `${IPV4}/${f}`, text);
        return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/${f}`) as string).trimEnd()}`;
      }),
    );
    const flag = ['ok 0', 'ok 1', 'err', 'err', 'err', 'err', 'ok 1', 'err'];
    expect(mine).toEqual([...flag, ...flag]);
    const native = nativeSysctlWrites(
      files.map((f) => `${IPV4}/${f}`),
      inputs,
    );
    if (native !== null) expect(mine).toEqual(native);
  });

  it("parses route/min_pmtu and route/mtu_expires writes as Linux does (compared with the host's kernel)", () => {
    const files = ['route/min_pmtu', 'route/mtu_expires'];
    const { p } = mounted();
    expect(list(p, `${IPV4}/route`)).toEqual(['min_pmtu', 'mtu_expires']);
    expect(files.map((f) => readAll(p, `${IPV4}/${f}`))).toEqual(['552\n', '600\n']);
    const inputs = ['552', '68', '67', '0', '-1', '2147483647', ' 600 ', '8589934', '8589935', 'x', '3 4'];
    const mine = files.flatMap((f) =>
      inputs.map((text) => {
        const { p } = mounted();
        const r = put(p, `${IPV4}/${f}`, text);
        return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/${f}`) as string).trimEnd()}`;
      }),
    );
    // What Linux 6.x gives (the expectations when the host cannot run `unshare -n`).
    expect(mine).toEqual([
      ...'ok 552|ok 68|err|err|err|ok 2147483647|ok 600|ok 8589934|ok 8589935|err|err'.split('|'),
      ...'ok 552|ok 68|ok 67|ok 0|ok -1|err|ok 600|ok 8589934|err|err|ok 3'.split('|'),
    ]);
    const native = nativeSysctlWrites(
      files.map((f) => `${IPV4}/${f}`),
      inputs,
    );
    if (native !== null) expect(mine).toEqual(native);
  });

  it('takes ip_no_pmtu_disc as a u8 as Linux does (compared with the host kernel)', () => {
    const inputs = ['0', '1', '3', '4', '255', '256', '-1', ' 2 ', 'x'];
    const mine = inputs.map((text) => {
      const { p } = mounted();
      const r = put(p, `${IPV4}/ip_no_pmtu_disc`, text);
      return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/ip_no_pmtu_disc`) as string).trimEnd()}`;
    });
    expect(mine).toEqual(['ok 0', 'ok 1', 'ok 3', 'ok 4', 'ok 255', 'err', 'err', 'ok 2', 'err']);
    const native = nativeSysctlWrites([`${IPV4}/ip_no_pmtu_disc`], inputs);
    if (native !== null) expect(mine).toEqual(native);
  });

  it('takes ip_default_ttl between 1 and 255 as Linux does (compared with the host kernel)', () => {
    const inputs = ['64', '1', '0', '255', '256', '-1', ' 17 ', '0x20', '010', '3 4', 'x'];
    const mine = inputs.map((text) => {
      const { p } = mounted();
      const r = put(p, `${IPV4}/ip_default_ttl`, text);
      return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/ip_default_ttl`) as string).trimEnd()}`;
    });
    expect(mine).toEqual('ok 64|ok 1|err|ok 255|err|err|ok 17|ok 32|ok 8|ok 3|err'.split('|'));
    const native = nativeSysctlWrites([`${IPV4}/ip_default_ttl`], inputs);
    if (native !== null) expect(mine).toEqual(native);
  });

  it("parses keepalive and fin_timeout writes as Linux does (compared with the host's kernel)", () => {
    const files = ['tcp_keepalive_time', 'tcp_keepalive_intvl', 'tcp_keepalive_probes', 'tcp_fin_timeout'];
    const mine = files.flatMap((f) =>
      TIMER_INPUTS.map((text) => {
        const { p } = mounted();
        const r = put(p, `${IPV4}/${f}`, text);
        return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/${f}`) as string).trimEnd()}`;
      }),
    );
    const jiffies = [
      'ok 5',
      'ok 0',
      'ok -5',
      'ok 30',
      'ok 8589934',
      'err',
      'ok 2147484',
      'err',
      'ok 7',
      'err',
    ];
    const u8 = ['ok 5', 'ok 0', 'err', 'ok 30', 'err', 'err', 'err', 'err', 'ok 7', 'err'];
    // What Linux 6.x with HZ=250 gives (the expectations when the host cannot run `unshare -n`).
    expect(mine).toEqual([...jiffies, ...jiffies, ...u8, ...jiffies]);
    const native = nativeSysctlWrites(
      files.map((f) => `${IPV4}/${f}`),
      TIMER_INPUTS,
    );
    if (native !== null) expect(mine).toEqual(native);
  });

  it("parses the listener queue sysctls' writes as Linux does (compared with the host's kernel)", () => {
    // tcp_syncookies, tcp_synack_retries and tcp_abort_on_overflow are proc_dou8vec_minmax;
    // tcp_max_syn_backlog is a plain proc_dointvec (any int, negative too).
    const files = ['tcp_syncookies', 'tcp_synack_retries', 'tcp_abort_on_overflow', 'tcp_max_syn_backlog'];
    const inputs = [
      '2',
      '0',
      '-1',
      ' 7 ',
      '255',
      '256',
      '0x10',
      '012',
      '2147483647',
      '2147483648',
      '3 4',
      'x',
    ];
    const mine = files.flatMap((f) =>
      inputs.map((text) => {
        const { p } = mounted();
        const r = put(p, `${IPV4}/${f}`, text);
        return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/${f}`) as string).trimEnd()}`;
      }),
    );
    const u8 = 'ok 2|ok 0|err|ok 7|ok 255|err|ok 16|ok 10|err|err|ok 3|err'.split('|');
    const int = 'ok 2|ok 0|ok -1|ok 7|ok 255|ok 256|ok 16|ok 10|ok 2147483647|err|ok 3|err'.split('|');
    // What Linux 6.x gives (the expectations when the host cannot run `unshare -n`).
    expect(mine).toEqual([...u8, ...u8, ...u8, ...int]);
    const native = nativeSysctlWrites(
      files.map((f) => `${IPV4}/${f}`),
      inputs,
    );
    if (native !== null) expect(mine).toEqual(native);
  });

  it('takes tcp_tw_reuse between 0 and 2 as Linux does (compared with the host kernel)', () => {
    const inputs = ['0', '1', '2', '3', '-1', ' 1 ', '255', 'x'];
    const mine = inputs.map((text) => {
      const { p } = mounted();
      const r = put(p, `${IPV4}/tcp_tw_reuse`, text);
      return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/tcp_tw_reuse`) as string).trimEnd()}`;
    });
    expect(mine).toEqual(['ok 0', 'ok 1', 'ok 2', 'err', 'err', 'ok 1', 'err', 'err']);
    const native = nativeSysctlWrites([`${IPV4}/tcp_tw_reuse`], inputs);
    if (native !== null) expect(mine).toEqual(native);
  });

  it('takes tcp_early_retrans between 0 and 4 as Linux does (compared with the host kernel)', () => {
    const inputs = ['0', '4', '5', '255', '256', '-1', ' 2 ', 'x'];
    const mine = inputs.map((text) => {
      const { p } = mounted();
      const r = put(p, `${IPV4}/tcp_early_retrans`, text);
      return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/tcp_early_retrans`) as string).trimEnd()}`;
    });
    expect(mine).toEqual(['ok 0', 'ok 4', 'err', 'err', 'err', 'err', 'ok 2', 'err']);
    const native = nativeSysctlWrites([`${IPV4}/tcp_early_retrans`], inputs);
    if (native !== null) expect(mine).toEqual(native);
  });

  it('takes the retransmission limits as Linux does (compared with the host kernel)', () => {
    // tcp_syn_retries is 1..127 and tcp_syn_linear_timeouts 0..127 (MAX_TCP_SYNCNT); the
    // retries2 and orphan_retries u8s have no bounds of their own.
    const files = ['tcp_syn_retries', 'tcp_syn_linear_timeouts', 'tcp_retries2', 'tcp_orphan_retries'];
    const inputs = ['0', '1', '127', '128', '255', '256', '-1', ' 9 ', '0x10', 'x'];
    const mine = files.flatMap((f) =>
      inputs.map((text) => {
        const { p } = mounted();
        const r = put(p, `${IPV4}/${f}`, text);
        return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/${f}`) as string).trimEnd()}`;
      }),
    );
    const capped = ['ok 0', 'ok 1', 'ok 127', 'err', 'err', 'err', 'err', 'ok 9', 'ok 16', 'err'];
    const u8 = ['ok 0', 'ok 1', 'ok 127', 'ok 128', 'ok 255', 'err', 'err', 'ok 9', 'ok 16', 'err'];
    expect(mine).toEqual([['err', ...capped.slice(1)], capped, u8, u8].flat());
    const native = nativeSysctlWrites(
      files.map((f) => `${IPV4}/${f}`),
      inputs,
    );
    if (native !== null) expect(mine).toEqual(native);
  });

  it('takes tcp_notsent_lowat as an unsigned int and tcp_dsack as a u8 as Linux does (compared with the host kernel)', () => {
    const inputs = ['0', '2', '255', '256', '4294967295', '4294967296', '-1', ' 9 ', '0x10', '5 6', 'x'];
    const files = ['tcp_notsent_lowat', 'tcp_dsack'];
    const mine = files.flatMap((f) =>
      inputs.map((text) => {
        const { p } = mounted();
        const r = put(p, `${IPV4}/${f}`, text);
        return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/${f}`) as string).trimEnd()}`;
      }),
    );
    expect(mine).toEqual(
      [
        'ok 0|ok 2|ok 255|ok 256|ok 4294967295|err|err|ok 9|ok 16|ok 5|err',
        'ok 0|ok 2|ok 255|err|err|err|err|ok 9|ok 16|ok 5|err',
      ].flatMap((l) => l.split('|')),
    );
    const native = nativeSysctlWrites(
      files.map((f) => `${IPV4}/${f}`),
      inputs,
    );
    if (native !== null) expect(mine).toEqual(native);
  });

  it('takes tcp_invalid_ratelimit as milliseconds in jiffies as Linux does (compared with the host kernel)', () => {
    // HZ 250: whole 4 ms jiffies, rounded up; the number cut to 32 bits, negative ones refused.
    const inputs = ['0', '1', '5', '500', '501', '-1', ' 9 ', '0x10', '010', '5 6', 'x', '2147483647'];
    const more = ['2147483648', '4294967312', '8589934591', '18446744073709551616', '-0'];
    const mine = [...inputs, ...more].map((text) => {
      const { p } = mounted();
      const r = put(p, `${IPV4}/tcp_invalid_ratelimit`, text);
      return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/tcp_invalid_ratelimit`) as string).trimEnd()}`;
    });
    const linux = 'ok 0|ok 4|ok 8|ok 500|ok 504|err|ok 12|ok 16|ok 8|ok 8|err|ok 2147483648';
    expect(mine).toEqual([...linux.split('|'), 'err', 'ok 16', 'err', 'err', 'ok 0']);
    const native = nativeSysctlWrites([`${IPV4}/tcp_invalid_ratelimit`], [...inputs, ...more]);
    if (native !== null) expect(mine).toEqual(native);
  });

  it('takes tcp_reflect_tos as a u8 of 0 or 1 as Linux does (compared with the host kernel)', () => {
    const inputs = ['0', '1', '2', '255', '256', '-1', ' 1 ', '0x1', '1 2', 'x'];
    const mine = inputs.map((text) => {
      const { p } = mounted();
      const r = put(p, `${IPV4}/tcp_reflect_tos`, text);
      return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/tcp_reflect_tos`) as string).trimEnd()}`;
    });
    expect(mine).toEqual(['ok 0', 'ok 1', 'err', 'err', 'err', 'err', 'ok 1', 'ok 1', 'ok 1', 'err']);
    const native = nativeSysctlWrites([`${IPV4}/tcp_reflect_tos`], inputs);
    if (native !== null) expect(mine).toEqual(native);
  });

  it('takes tcp_rfc1337 as a u8 as Linux does (compared with the host kernel)', () => {
    const inputs = ['0', '1', '2', '255', '256', '-1', ' 1 ', 'x'];
    const mine = inputs.map((text) => {
      const { p } = mounted();
      const r = put(p, `${IPV4}/tcp_rfc1337`, text);
      return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/tcp_rfc1337`) as string).trimEnd()}`;
    });
    expect(mine).toEqual(['ok 0', 'ok 1', 'ok 2', 'ok 255', 'err', 'err', 'ok 1', 'err']);
    const native = nativeSysctlWrites([`${IPV4}/tcp_rfc1337`], inputs);
    if (native !== null) expect(mine).toEqual(native);
  });

  it('checks congestion control names and u8 flags', () => {
    const { p } = mounted();
    const cc = `${IPV4}/tcp_congestion_control`;
    expect(put(p, cc, 'reno\n')).toBe(5);
    expect(readAll(p, cc)).toBe('reno\n');
    expect(put(p, cc, 'bbr')).toBe(E.ENOENT);
    expect(put(p, cc, 'reno ')).toBe(E.ENOENT);
    expect(readAll(p, cc)).toBe('reno\n');
    expect(put(p, `${IPV4}/tcp_sack`, '2')).toBe(1);
    expect(readAll(p, `${IPV4}/tcp_sack`)).toBe('2\n');
    expect(put(p, `${IPV4}/tcp_sack`, '256')).toBe(E.EINVAL);
    expect(put(p, `${IPV4}/tcp_frto`, '0')).toBe(1);
    expect(readAll(p, `${IPV4}/tcp_frto`)).toBe('0\n');
    expect(put(p, `${IPV4}/tcp_frto`, '-1')).toBe(E.EINVAL);
    expect(put(p, `${IPV4}/tcp_timestamps`, '-1')).toBe(E.EINVAL);
    expect(put(p, `${IPV4}/tcp_timestamps`, 'x')).toBe(E.EINVAL);
    expect(readAll(p, `${IPV4}/tcp_timestamps`)).toBe('1\n');
  });

  it('takes the ICMP rate limits as Linux does (compared with the host kernel)', () => {
    const { p } = mounted();
    const files = ['icmp_ratelimit', 'icmp_ratemask', 'icmp_msgs_per_sec', 'icmp_msgs_burst'];
    expect(files.map((f) => readAll(p, `${IPV4}/${f}`))).toEqual(['1000\n', '6168\n', '1000\n', '50\n']);
    const outcome = (f: string, inputs: readonly string[]): string[] =>
      inputs.map((text) => {
        const { p } = mounted();
        const r = put(p, `${IPV4}/${f}`, text);
        return isError(r) ? 'err' : `ok ${(readAll(p, `${IPV4}/${f}`) as string).trimEnd()}`;
      });
    // proc_dointvec_ms_jiffies: whole 4 ms jiffies of HZ 250, rounded up; cut to 32 bits.
    const ms = [
      '0',
      '1',
      '5',
      '1001',
      '-1',
      ' 9 ',
      '0x10',
      '5 6',
      'x',
      '2147483647',
      '2147483648',
      '4294967296',
      '-0',
    ];
    const msWant = 'ok 0|ok 4|ok 8|ok 1004|err|ok 12|ok 16|ok 8|err|ok 2147483648|err|ok 0|ok 0';
    // proc_dointvec: any int, the first of several.
    const mask = [
      '0',
      '-1',
      '6169',
      '2147483647',
      '2147483648',
      '-2147483648',
      '-2147483649',
      '0x10',
      '077',
      '1 2',
      '+3',
      'x',
    ];
    const maskWant = 'ok 0|ok -1|ok 6169|ok 2147483647|err|ok -2147483648|err|ok 16|ok 63|ok 1|err|err';
    // proc_dointvec_minmax from 0.
    const count = ['0', '-1', '7', '2147483647', '2147483648', ' 12 ', 'x'];
    const countWant = 'ok 0|err|ok 7|ok 2147483647|err|ok 12|err';
    const mine = [
      ...outcome('icmp_ratelimit', ms),
      ...outcome('icmp_ratemask', mask),
      ...outcome('icmp_msgs_per_sec', count),
      ...outcome('icmp_msgs_burst', count),
    ];
    expect(mine).toEqual([msWant, maskWant, countWant, countWant].flatMap((w) => w.split('|')));
    const native = [
      nativeSysctlWrites([`${IPV4}/icmp_ratelimit`], ms),
      nativeSysctlWrites([`${IPV4}/icmp_ratemask`], mask),
      nativeSysctlWrites([`${IPV4}/icmp_msgs_per_sec`, `${IPV4}/icmp_msgs_burst`], count),
    ];
    if (native.every((n) => n !== null)) expect(mine).toEqual(native.flat());
  });

  it("reads and writes the namespace's sysctls; only root may write", () => {
    const src = FixtureProcSource.sample();
    const net = src.netValue;
    if (net === null) throw new Error('fixture has a network namespace');
    let state: ProcNetSysctl = {
      ipLocalPortRange: [2000, 3000],
      tcpCongestionControl: 'reno',
      tcpAvailableCongestionControl: ['reno', 'cubic'],
      tcpSack: 0,
      tcpTimestamps: 1,
      tcpKeepaliveTime: 7200,
      tcpKeepaliveIntvl: 75,
      tcpKeepaliveProbes: 9,
      tcpFinTimeout: 60,
      tcpFrto: 2,
      tcpSyncookies: 1,
      tcpMaxSynBacklog: 128,
      tcpSynackRetries: 5,
      tcpAbortOnOverflow: 0,
      tcpTwReuse: 2,
    };
    const writes: ProcNetSysctlWrite[] = [];
    src.netValue = {
      ...net,
      sysctl: () => state,
      setSysctl: (w) => {
        writes.push(w);
        state = { ...state, [w.key]: w.value };
        return undefined;
      },
    };
    const { p } = mounted(undefined, src);
    expect(readAll(p, `${IPV4}/ip_local_port_range`)).toBe('2000\t3000\n');
    expect(readAll(p, `${IPV4}/tcp_sack`)).toBe('0\n');
    // One number keeps the high end the namespace has.
    expect(put(p, `${IPV4}/ip_local_port_range`, '2500')).toBe(4);
    expect(put(p, `${IPV4}/tcp_congestion_control`, 'cubic')).toBe(5);
    expect(put(p, `${IPV4}/tcp_keepalive_time`, '30')).toBe(2);
    expect(readAll(p, `${IPV4}/tcp_keepalive_time`)).toBe('30\n');
    expect(put(p, `${IPV4}/tcp_fin_timeout`, '5')).toBe(1);
    expect(put(p, `${IPV4}/icmp_ratelimit`, '250')).toBe(3);
    expect(put(p, `${IPV4}/icmp_ratemask`, '6169')).toBe(4);
    expect(put(p, `${IPV4}/icmp_msgs_per_sec`, '10')).toBe(2);
    expect(put(p, `${IPV4}/icmp_msgs_burst`, '0')).toBe(1);
    expect(readAll(p, `${IPV4}/icmp_ratemask`)).toBe('6169\n');
    expect(writes).toEqual([
      { key: 'ipLocalPortRange', value: [2500, 3000] },
      { key: 'tcpCongestionControl', value: 'cubic' },
      { key: 'tcpKeepaliveTime', value: 30 },
      { key: 'tcpFinTimeout', value: 5 },
      { key: 'icmpRatelimit', value: 252 },
      { key: 'icmpRatemask', value: 6169 },
      { key: 'icmpMsgsPerSec', value: 10 },
      { key: 'icmpMsgsBurst', value: 0 },
    ]);
    writes.splice(2);
    const user = mounted(userCreds(1000, 1000), src);
    expect(readAll(user.p, `${IPV4}/tcp_congestion_control`)).toBe('cubic\n');
    expect(put(user.p, `${IPV4}/tcp_congestion_control`, 'reno')).toBe(E.EACCES);
    expect(writes).toHaveLength(2);
  });
});
