// ICMP rate limiting on lo, against Linux: testdata/icmp-ratelimit.c reads the six sysctls
// (net.ipv4.icmp_ratelimit, icmp_ratemask, icmp_msgs_per_sec, icmp_msgs_burst,
// net.ipv6.icmp.ratelimit and ratemask) and writes good and bad values; sends 200 UDP datagrams
// to a closed port of 127.0.0.1 and of ::1 and counts the port unreachables a raw socket sees,
// at the defaults and with the global bucket emptied for good: an error about a packet that came
// in on lo is never held back (__icmp_send, icmp6_send skip the global limit, and the
// per-destination one skips lo). With the echo reply in the ratemasks and icmp_msgs_per_sec 0,
// ICMPv4 replies on lo are all held back and counted in OutRateLimitGlobal (icmp_reply asks the
// global bucket whatever the link), ICMPv6 ones all go. It runs natively in a fresh network
// namespace and under tsvisor --network none, and must print the same. (The limits on a link
// that is not lo are netstack's icmp-limit.test.ts: no device here can be one.)
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'icmp-ratelimit', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('icmp-ratelimit.c', () => {
  it('shows what the host kernel does', () => {
    // Without these the comparison below would prove nothing.
    expect(native).toContain(
      'defaults:\n' +
        '  ipv4: icmp_ratelimit 1000 icmp_ratemask 6168 icmp_msgs_per_sec 1000 icmp_msgs_burst 50\n' +
        '  ipv6: icmp/ratelimit 100 icmp/ratemask 0-1,3-127\n',
    );
    expect(native).toContain('  ipv4/icmp_ratelimit <- "1001": 0, now 1004\n');
    expect(native).toContain('  ipv4/icmp_msgs_burst <- "-1": EINVAL, now 50\n');
    expect(native).toContain('  ipv6/icmp/ratemask <- "3,1": 0, now 1,3\n');
    expect(native).toContain(
      'the global bucket emptied for good, the per-destination interval one jiffy:\n' +
        '  ipv4: icmp_ratelimit 4 icmp_ratemask 6168 icmp_msgs_per_sec 0 icmp_msgs_burst 0\n' +
        '  ipv6: icmp/ratelimit 4 icmp/ratemask 0-1,3-127\n' +
        '  127.0.0.1: 200 datagrams sent, 200 port unreachables seen\n' +
        '  counters: Udp.NoPorts +200 Icmp.OutDestUnreachs +200 Icmp.OutRateLimitGlobal +0' +
        ' Icmp.OutRateLimitHost +0 Icmp6OutRateLimitHost +0\n' +
        '  ::1: 200 datagrams sent, 200 port unreachables seen\n',
    );
    expect(native).toContain(
      '  127.0.0.1: 20 echo requests, 0 replies\n' +
        '  counters: Icmp.InEchos +20 Icmp.OutRateLimitGlobal +20 Icmp.OutRateLimitHost +0 Icmp6OutRateLimitHost +0\n' +
        '  ::1: 20 echo requests, 20 replies\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'icmp-ratelimit', native), 60_000);
});
