// The rest of Linux's local port rules against Linux: testdata/reserved-ports.c writes
// /proc/sys/net/ipv4/ip_local_reserved_ports (good and bad lists, and what reads back), fills a
// small ip_local_port_range with some ports reserved by each kind of ephemeral search, binds
// reserved ports by name, pairs sockets on a one-port range under ip_autobind_reuse 0 and 1, and
// binds port 0 on addresses whose ports other specific addresses hold. It prints sets of ports,
// never the order a random start gives; it runs natively in a fresh network namespace and under
// tsvisor, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'reserved-ports', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('reserved-ports.c', () => {
  it('shows the rules of Linux', () => {
    // The program must show what it is about, or the comparison below proves nothing.
    expect(native).toContain("write '9000-9010,8080': ok, now '8080,9000-9010\\n'\n");
    expect(native).toContain("write '10-5': EINVAL, now '1000\\n'\n");
    expect(native).toContain('tcp bind 0: 40000 40002 40006 40007 40009 EADDRINUSE\n');
    expect(native).toContain('tcp connect: 40000 40002 40006 40007 40009 EADDRNOTAVAIL\n');
    expect(native).toContain('udp connect: 40000 40002 40006 40007 40009 EAGAIN\n');
    expect(native).toContain('tcp6 bind 0: 40000 40002 40006 40007 40009 EADDRINUSE\n');
    expect(native).toContain('tcp bind 40001: ok\n');
    expect(native).toContain('tcp SO_REUSEADDR both, reuse 0: first 40000, second EADDRINUSE\n');
    expect(native).toContain('tcp SO_REUSEADDR both, reuse 1: first 40000, second 40000\n');
    expect(native).toContain('  bind 127.0.0.1:0: 40000\n');
    expect(native).toContain('tcp bind 127.0.0.1:0: 40001\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'reserved-ports', native), 60_000);
});
