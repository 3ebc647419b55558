// Input routes (`ip route get ADDR from SRC iif DEV`, RTM_GETROUTE with RTA_IIF) against Linux:
// testdata/route-get-iif.c asks for martians, local, broadcast and multicast deliveries, routes a
// host with forwarding off would have to forward, and IPv6's strict lookups, printing every
// answer's fields and what `ip` shows. On lo it runs natively in a fresh network namespace and
// under tsvisor --network none; on eth0 natively with a veth set up as the sandbox's network is
// (runNativeOnEth0) and under tsvisor --network sandbox. Both must print
// the same.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compile,
  expectSameUnderTsvisor,
  runNativeInNetns,
  runNativeOnEth0,
  testbed,
} from './c-programs.test-util.js';

let native = '';
let nativeEth0 = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'route-get-iif', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
  nativeEth0 = runNativeOnEth0(`${join(dir, 'route-get-iif')} eth0`);
});

describe('route-get-iif.c', () => {
  it('shows what the host kernel answers', () => {
    // Without these the comparisons below would prove nothing.
    expect(native).toContain(
      '127.0.0.1 from 127.0.0.1 iif 1 flags 0x0 mark 0:\n  type 2 flags 0x100 error EINVAL\n',
    );
    expect(native).toContain(
      '11.0.0.1 from 10.0.0.3 iif 1 flags 0x0 mark 0:\n  type 2 flags 0x100 error EHOSTUNREACH\n',
    );
    expect(native).toContain(
      'local 10.0.0.1 from 10.0.0.3 dev lo notify \n    cache <local,notify> iif lo \n',
    );
    expect(native).toContain(
      'broadcast 10.255.255.255 from 10.0.0.3 dev lo \n    cache <local,brd> iif lo \n',
    );
    expect(native).toContain(
      'multicast 224.0.0.1 from 10.0.0.3 dev lo rt_offload_failed \n    cache <local,mc> iif lo \n',
    );
    expect(native).toContain(
      'local ::1 from ::1 dev lo table local proto kernel metric 0 iif lo pref medium\n',
    );
    expect(native).toContain('local ::1 dev lo table local proto kernel metric 0 iif lo pref medium\n');
    expect(native).toContain('RTNETLINK answers: Network is unreachable\n');
    expect(nativeEth0).toContain('local 10.0.2.15 from 10.0.2.2 dev lo \n    cache <local> iif eth0 \n');
    expect(nativeEth0).toContain(
      '8.8.8.8 from 10.0.2.2 iif 2 flags 0x0 mark 0:\n  type 2 flags 0x100 error EHOSTUNREACH\n',
    );
    expect(nativeEth0).toContain('local 10.0.2.15 dev eth0 proto kernel scope host src 10.0.2.15 \n');
  });

  it(
    'prints the same under tsvisor on lo',
    () => expectSameUnderTsvisor(bed, 'route-get-iif', native),
    60_000,
  );

  it('prints the same under tsvisor on eth0 of --network sandbox', async () => {
    const got = await bed.run(['/test/route-get-iif', 'eth0'], {
      network: 'sandbox',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(nativeEth0);
    expect(got.status).toBe(0);
  }, 60_000);
});
