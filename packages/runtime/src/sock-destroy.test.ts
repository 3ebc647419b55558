// SOCK_DESTROY over NETLINK_SOCK_DIAG (tcp_abort, `ss -K`) against Linux: testdata/sock-destroy.c
// runs in a fresh network namespace (lo up) and under tsvisor --network none and must print the
// same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sock-destroy', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('sock-destroy.c', () => {
  it('aborts connections on the host kernel', () => {
    expect(native).toContain('by tuple: ok\n');
    expect(native).toContain('destroyed: poll IN OUT RDHUP ERR HUP, SO_ERROR ECONNABORTED, then ok\n');
    expect(native).toContain('peer: poll IN OUT RDHUP ERR HUP, read ECONNRESET, read 0, write EPIPE\n');
    expect(native).toContain('other cookie: ENOENT\n');
    expect(native).toContain('blocked reader: ECONNABORTED\n');
    expect(native).toContain('unprivileged: EPERM; no such connection: ENOENT\n');
    expect(native).toContain('time_wait: peer read 0, destroy ok, again ENOENT\n');
    expect(native).toContain('ESTAB 0 0 127.0.0.1:E 127.0.0.1:5001\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'sock-destroy', native));
});
