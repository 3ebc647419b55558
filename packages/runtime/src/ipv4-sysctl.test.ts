// /proc/sys/net/ipv4 against Linux: testdata/ipv4-sysctl.c writes the ephemeral port range and
// the default congestion control as root and shows what sockets created afterwards get. It runs
// natively in a fresh network namespace (`unshare -n`, lo brought up) and under tsvisor, and
// must print the same lines.
import { describe, expect, it } from 'vitest';
import { compile, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'ipv4-sysctl', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('ipv4-sysctl.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain("write ip_local_port_range '40000 40000': ok\n");
    expect(native).toContain('udp connect: port 40000\n');
    expect(native).toContain('tcp connect: EADDRNOTAVAIL\n');
    expect(native).toContain('new socket TCP_CONGESTION = reno\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/ipv4-sysctl'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 30_000);
});
