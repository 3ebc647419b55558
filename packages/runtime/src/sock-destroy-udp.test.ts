// SOCK_DESTROY over NETLINK_SOCK_DIAG for UDP sockets (udp_abort), TCP listeners and ping sockets,
// and iproute2's `ss -K` for them, against Linux: testdata/sock-destroy-udp.c runs in a fresh
// network namespace (lo up) and under tsvisor --network none and must print the same. (Raw
// sockets: the CI kernel lacks CONFIG_INET_RAW_DIAG, so their abort is tested in @tsvisor/syscalls
// and @tsvisor/netstack.)
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sock-destroy-udp', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('sock-destroy-udp.c', () => {
  it('aborts UDP sockets and listeners on the host kernel', () => {
    expect(native).toContain('udp connected: ok\n');
    expect(native).toContain('udp destroyed: poll OUT ERR , SO_ERROR ECONNABORTED, then ok, poll OUT \n');
    expect(native).toContain('udp destroyed: name 0.0.0.0:0, peer ENOTCONN, again ENOENT\n');
    expect(native).toContain(
      'udp bound: ok, poll IN OUT ERR , read ECONNABORTED, read before, read EAGAIN\n',
    );
    expect(native).toContain('udp blocked reader: ECONNABORTED\n');
    expect(native).toContain('udplite as udp: ENOENT, as udplite: EOPNOTSUPP, read EAGAIN\n');
    expect(native).toContain('UNCONN 0 0 127.0.0.1:P+8 0.0.0.0:*\n');
    expect(native).toContain('udp6 bound to ::1: IPV6_V6ONLY 1\n');
    expect(native).toContain('UNCONN 0 0 [::1]:P+15 [::]:*\n');
    expect(native).toContain('udp dual-stack as AF_INET: ok, as AF_INET6: ok, read ECONNABORTED\n');
    expect(native).toContain(
      'listener destroyed: poll IN OUT RDHUP ERR HUP, accept EINVAL, SO_ERROR ECONNABORTED',
    );
    expect(native).toContain('its queued client: poll IN OUT RDHUP ERR HUP, read ECONNRESET, SO_ERROR ok\n');
    expect(native).toContain('blocked accept: EINVAL\n');
    expect(native).toContain('LISTEN 0 8 127.0.0.1:P+12 0.0.0.0:*\n');
    expect(native).toContain('ping as icmp: ENOENT, as raw: ENOENT, read reply\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'sock-destroy-udp', native));
});
