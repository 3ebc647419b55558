// SO_BINDTODEVICE on netstack's TCP and UDP sockets (issue 8): testdata/sock-bind-device.c
// prints what gets through between sockets bound to lo and to eth0, which binds of a port may
// share it, and the errors of unknown devices; natively in a network namespace with lo and a
// veth eth0, and under tsvisor in network mode sandbox (lo and eth0). Both must print the same.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => compile(dir, 'sock-bind-device', ['-O1', '-Wall', '-Werror']));

const NETNS_SETUP =
  'ip link set lo up && ip link add eth0 type veth peer name eth0p && ip addr add 10.9.0.1/24 dev eth0 && ' +
  'ip link set eth0 up && ip link set eth0p up';

describe('SO_BINDTODEVICE on TCP and UDP', () => {
  it('sock-bind-device.c prints what it prints natively', async () => {
    const bin = join(bed.dir, 'sock-bind-device');
    const want = execFileSync('unshare', ['--net', 'sh', '-c', `${NETNS_SETUP} && ${bin}`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    // The device must matter natively, not only agree.
    expect(want).toContain('udp srv=lo cli= dst=nic: send 1 recv EAGAIN\n');
    expect(want).toContain('tcp srv=eth0 cli= dst=127.0.0.1: connect EINPROGRESS then ECONNREFUSED\n');
    expect(want).toContain('udp bind lo then eth0 reuse 0: 0\n');
    const r = await bed.run(['/test/sock-bind-device'], {
      network: 'sandbox',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  }, 90_000);
});
