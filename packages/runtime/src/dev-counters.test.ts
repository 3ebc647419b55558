// lo's device counters against Linux: testdata/dev-counters.c sends known loopback traffic (UDP,
// an ICMP echo, a port unreachable, a fragmented IPv6 datagram, TCP) and prints the change of
// /proc/net/dev and IFLA_STATS64/IFLA_STATS, natively in a fresh network namespace (lo up) and
// under tsvisor in network modes none (lo is the stack's device) and sandbox (lo is the stack's
// loop beside eth0).
import { describe, expect, it } from 'vitest';
import { compile, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'dev-counters', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

async function expectSameCounters(network: 'none' | 'sandbox'): Promise<void> {
  const got = await bed.run(['/test/dev-counters'], {
    network,
    volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
  });
  expect(got.stderr).toBe('');
  expect(got.status).toBe(0);
  expect(got.stdout).toBe(native);
}

describe('dev-counters.c', () => {
  it('counts lo traffic by IP length on the host kernel', () => {
    expect(native).toContain(
      'udp4 1+100+1472+2000: rx 4 packets 3685 bytes (errs 0 drop 0 mcast 0), tx 4 packets 3685 bytes (errs 0 drop 0)\n',
    );
    expect(native).toContain(
      'udp6 fragmented: rx 2 packets 65631 bytes (errs 0 drop 0 mcast 0), tx 2 packets 65631 bytes (errs 0 drop 0)\n',
    );
    expect(native).toContain(
      'ping 127.0.0.1: rx 2 packets 168 bytes (errs 0 drop 0 mcast 0), tx 2 packets 168 bytes (errs 0 drop 0)\n',
    );
    expect(native).not.toContain('differ');
    expect(native).toContain('tcp4 handshake: rx 3 packets 172 bytes');
  });

  it('prints the same under tsvisor --network none', () => expectSameCounters('none'));

  it('prints the same under tsvisor --network sandbox (lo beside eth0)', () => expectSameCounters('sandbox'));
});
