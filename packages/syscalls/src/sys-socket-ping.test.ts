// socket(2) of ping sockets (SOCK_DGRAM + IPPROTO_ICMP/ICMPV6) under net.ipv4.ping_group_range
// (ping_init_sock): the caller's effective gid or a supplementary group must lie in the range;
// no capability overrides it. Compared with the host kernel in runtime's ping-group.test.ts.
import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { harness, type Harness } from './harness.test-util.js';
import { procNetSource } from './sys-socket-proc.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;

/** socket() of both ping sockets: a descriptor (>= 0) or the error. */
async function both(h: Harness): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const [family, protocol] of [
    [AF_INET, IPPROTO_ICMP],
    [AF_INET6, IPPROTO_ICMPV6],
  ] as const) {
    const r = await h.call('socket', family, SOCK_DGRAM, protocol);
    out.push(typeof r === 'number' && r >= 0 ? 'fd' : r);
  }
  return out;
}

describe('socket() of ping sockets and ping_group_range', () => {
  it('refuses root under the default range (1 0) with EACCES; raw sockets are unaffected', async () => {
    const h = harness();
    expect(procNetSource(h.kernel).sysctl?.().pingGroupRange).toEqual([1, 0]);
    expect(await both(h)).toEqual([E.EACCES, E.EACCES]);
    expect(await h.call('socket', AF_INET, SOCK_RAW, IPPROTO_ICMP)).toBeGreaterThanOrEqual(0);
    // UDP (protocol 0 on SOCK_DGRAM) is no ping socket.
    expect(await h.call('socket', AF_INET, SOCK_DGRAM, 0)).toBeGreaterThanOrEqual(0);
  });

  it('admits the effective gid or a supplementary group in the range, as written to the sysctl', async () => {
    const h = harness();
    const net = procNetSource(h.kernel);
    expect(net.setSysctl?.({ key: 'pingGroupRange', value: [100, 200] })).toBeUndefined();
    const as = (egid: number, groups: number[]): void => {
      h.task.group.creds = { ...h.task.creds, egid, groups };
    };
    as(0, []);
    expect(await both(h)).toEqual([E.EACCES, E.EACCES]);
    as(100, []);
    expect(await both(h)).toEqual(['fd', 'fd']);
    as(200, []);
    expect(await both(h)).toEqual(['fd', 'fd']);
    as(201, [5, 300]);
    expect(await both(h)).toEqual([E.EACCES, E.EACCES]);
    as(201, [5, 300, 150]);
    expect(await both(h)).toEqual(['fd', 'fd']);
    // An unprivileged caller in the range gets one too: that is the point of ping sockets.
    h.task.group.creds = { ...h.task.creds, euid: 1000, egid: 150, groups: [], effective: 0n };
    expect(await both(h)).toEqual(['fd', 'fd']);
  });
});
