// Path MTU discovery against Linux: testdata/pmtu.c sends fragmentation-needed and packet-too-big
// messages from a raw socket on lo quoting a UDP datagram (IPv4 and IPv6) and a segment of a live
// TCP connection, and prints what the stack learnt: IP_MTU / IPV6_MTU, the errors, sends under
// IP_PMTUDISC_DO / PROBE / WANT, TCP_MAXSEG and tcpi_pmtu. It runs natively in a fresh network
// namespace and under tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'pmtu', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('pmtu.c', () => {
  it('shows what the host kernel learns', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain(
      'frag needed 1200: IP_MTU 1200 SO_ERROR EMSGSIZE\n' +
        '  errqueue: n 0 ee_errno EMSGSIZE origin 2 type 3 code 4 info 1200\n',
    );
    expect(native).toContain(
      'send 1400 under DO: EMSGSIZE\n  errqueue: n 0 ee_errno EMSGSIZE origin 1 type 0 code 0 info 1200\n',
    );
    expect(native).toContain('frag needed 1000 under DONT: IP_MTU 1000 SO_ERROR 0\n');
    expect(native).toContain("frag needed 1300 (above the path's): IP_MTU 1000 ");
    expect(native).toContain('frag needed 300 (below min_pmtu): IP_MTU 552 ');
    expect(native).toContain("packet too big 1000 (below IPv6's minimum): IPV6_MTU 65536 ");
    expect(native).toContain('packet too big 1300: IPV6_MTU 1300 ');
    expect(native).toContain(
      'frag needed 1000, sequence outside the window: TCP_MAXSEG large tcpi_pmtu 65535 ',
    );
    expect(native).toContain('frag needed 1000, sequence SND.NXT: TCP_MAXSEG 948 tcpi_pmtu 1000 ');
    expect(native).toContain('frag needed 400 (below min_pmtu): TCP_MAXSEG 500 tcpi_pmtu 552 ');
    expect(native).toContain('tcp: sent 20000 received 20000\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'pmtu', native), 60_000);
});
