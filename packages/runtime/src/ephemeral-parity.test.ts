// The parity of ephemeral ports against Linux: testdata/ephemeral-parity.c binds TCP sockets to
// port 0, lets listeners autobind, connects TCP sockets to a local listener and binds UDP sockets,
// in the default range, in small ranges written to /proc/sys/net/ipv4/ip_local_port_range (so
// each parity runs out in turn) and under IP_LOCAL_PORT_RANGE, printing each port's parity. It
// runs natively in a fresh network namespace and under tsvisor, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'ephemeral-parity', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('ephemeral-parity.c', () => {
  it('shows the parities Linux prefers', () => {
    // The program must show Linux's preferences, or the comparison below proves nothing.
    const odd20 = Array(20).fill('o').join(' ');
    expect(native).toContain(`tcp bind 0: ${odd20}\ntcp listen: ${odd20}\n`);
    expect(native).toContain(`tcp connect: ${Array(20).fill('e').join(' ')}\n`);
    expect(native).toContain('tcp bind 0: o o o o o e e e e e EADDRINUSE\n');
    expect(native).toContain('tcp connect: e e e e e o o o o o EADDRNOTAVAIL\n');
    expect(native).toContain('tcp bind 0, SO_REUSEADDR: oL oL eL eL oH oH oH eH eH eH EADDRINUSE\n');
    expect(native).toContain('udp bind 0 x40: both parities, distinct ports in range, scattered\n');
    expect(native).toContain('udp connect x40: both parities, distinct ports in range, scattered\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'ephemeral-parity', native), 60_000);
});
