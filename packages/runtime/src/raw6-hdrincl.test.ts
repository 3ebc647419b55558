// IPV6_HDRINCL against Linux: testdata/raw6-hdrincl.c sets and reads the option on raw, ping,
// UDP and TCP sockets, then sends whole IPv6 datagrams of its own on raw sockets (odd payload
// lengths, sources and next headers, too short, too long for lo, too long for a path MTU learnt
// from a packet too big) and prints the results, what a packet socket sees leave on lo, what a
// raw socket receives, the errors queued and Ip6FragFails. It runs natively in a fresh network
// namespace and under tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'raw6-hdrincl', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('raw6-hdrincl.c', () => {
  it("shows the host kernel sending the caller's IPv6 header as written", () => {
    // Without these the comparison below would prove nothing: the option exists on raw sockets
    // only, the header is sent untouched, and a datagram past the path MTU is refused.
    expect(native).toContain('raw6 ICMPV6: get 0, set 1 0, get 1, SOL_RAW get 1, set 0 0, get 0\n');
    expect(native).toContain('udp6: get ENOPROTOOPT, set 1 ENOPROTOOPT');
    expect(native).toContain(
      'hdrincl 140, payload length 60: 140\n  next header 253 payload length 60 hop limit 9, 140 bytes\n' +
        '  sink received 60\n',
    );
    expect(native).toContain('hdrincl 39: EINVAL\n');
    expect(native).toContain(
      'hdrincl 1400: EMSGSIZE\n' +
        '  next header 58 payload length 1240 hop limit 64, 1280 bytes: icmpv6 type 2 code 0 info 1300\n' +
        '  Ip6FragFails +1 Ip6OutDiscards +1 Ip6OutRequests +2\n',
    );
    expect(native).toContain('hdrincl 1400 under PROBE: 1400\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'raw6-hdrincl', native), 60_000);
});
