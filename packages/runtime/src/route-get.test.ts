// `ip route get` against Linux: testdata/route-get.c asks for the routes of lo's addresses, of
// routes added with `mtu` and `mtu lock`, and of destinations whose path MTU fragmentation-needed
// and packet-too-big messages taught (one behind the locked route, which ignores it, one below
// min_pmtu, which locks it). It runs natively in a fresh network namespace and under tsvisor
// --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'route-get', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('route-get.c', () => {
  it('shows what the host kernel answers', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain('local 127.0.0.1 dev lo src 127.0.0.1 uid 0 \n    cache <local> \n');
    expect(native).toContain(
      'local ::1 from :: dev lo table local proto kernel src ::1 metric 0 pref medium\n',
    );
    expect(native).toContain('RTNETLINK answers: Network is unreachable\n');
    expect(native).toContain('10.6.0.0/16 dev lo scope link mtu lock 1400 \n');
    expect(native).toContain('frag needed 1000 for 10.6.0.1: IP_MTU 1400\n');
    expect(native).toContain('    cache <local> expires 59Xsec mtu 1200 \n');
    expect(native).toContain('    cache <local> expires 59Xsec mtu lock 552 \n');
    expect(native).toContain(
      'local ::1 from :: dev lo table local src ::1 metric 0 expires 59Xsec mtu 1300 pref medium\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'route-get', native), 60_000);
});
