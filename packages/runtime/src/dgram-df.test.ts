// DF against Linux: testdata/dgram-df.c sends UDP datagrams under each IP_MTU_DISCOVER mode,
// before and after a fragmentation-needed message (which it also sends under INTERFACE and
// OMIT, where it teaches nothing) and towards a locked MTU (raw datagrams too), then draws the
// stack's own port unreachable and echo replies to a destination with a lower path MTU, and
// prints what a packet socket sees on lo: DF, MF, offsets, lengths. It runs natively in a fresh
// network namespace and under tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'dgram-df', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('dgram-df.c', () => {
  it('shows the host kernel setting DF as IP_MTU_DISCOVER says', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain('udp 100 under DONT: 100\n  127.0.0.1 > 127.0.0.5 proto 17 len 128 offset 0\n');
    expect(native).toContain(
      'udp 100 under PROBE: 100\n  127.0.0.1 > 127.0.0.5 proto 17 len 128 DF offset 0\n',
    );
    expect(native).toMatch(/frag needed 1000 under OMIT:\n.*\n {2}IP_MTU 65535 /);
    expect(native).toContain(
      'udp 1400 under DONT: 1400\n  127.0.0.1 > 127.0.0.5 proto 17 len 996 MF offset 0\n' +
        '  127.0.0.1 > 127.0.0.5 proto 17 len 452 offset 976\n',
    );
    // A locked MTU takes DF away under WANT.
    expect(native).toContain('udp 100 under WANT: 100\n  127.0.0.1 > 127.0.0.8 proto 17 len 128 offset 0\n');
    expect(native).toContain('raw 100 under WANT: 100\n  127.0.0.1 > 127.0.0.8 proto 253 len 120 offset 0\n');
    expect(native).toContain('  127.0.0.6 > 127.0.0.1 proto 1 len 156 offset 0 icmp type 3 code 3\n');
    expect(native).toContain(
      '  127.0.0.1 > 127.0.0.7 proto 1 len 796 MF offset 0 icmp type 0 code 0\n' +
        '  127.0.0.1 > 127.0.0.7 proto 1 len 644 offset 776\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'dgram-df', native), 60_000);
});
