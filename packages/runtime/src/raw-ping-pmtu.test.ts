// Path MTU discovery for raw and ping sockets against Linux: testdata/raw-ping-pmtu.c teaches
// lo's stack a path MTU with fragmentation-needed (packet-too-big) messages about what a ping
// socket, a raw socket and an IP_HDRINCL raw socket sent, then sends larger datagrams under each
// IP_MTU_DISCOVER mode and prints the packets a packet socket sees on lo (length, DF, MF,
// offset), the errors, /proc/net/snmp's output counters about IP_HDRINCL datagrams and IPV6_MTU
// of a ping6 socket as its route goes stale. It runs natively in a fresh network namespace and
// under tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'raw-ping-pmtu', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('raw-ping-pmtu.c', () => {
  it('shows the host kernel fragmenting raw and ping datagrams to the path MTU', () => {
    // Without these the comparison below would prove nothing: the learnt MTU (not lo's 65536)
    // cuts the datagrams, DF follows the mode, and IP_HDRINCL with DF is refused.
    expect(native).toContain(
      'echo of 1400 under WANT: 1408\n  to 127.0.0.2 proto 1 len 1196 MF offset 0\n' +
        '  to 127.0.0.2 proto 1 len 252 offset 1176\n',
    );
    expect(native).toContain('echo of 1100 under DONT: 1108\n  to 127.0.0.2 proto 1 len 1128 offset 0\n');
    expect(native).toContain('raw 1400 under PROBE: 1400\n  to 127.0.0.3 proto 253 len 1420 DF offset 0\n');
    expect(native).toContain(
      'hdrincl 1200 without DF: 1200\n  to 127.0.0.4 proto 253 len 796 MF offset 0\n' +
        '  to 127.0.0.4 proto 253 len 424 offset 776\n' +
        '  Ip OutRequests +0 OutDiscards +0 FragOKs +1 FragFails +0 FragCreates +2\n' +
        'hdrincl 1200 with DF: EMSGSIZE\n' +
        // The datagram is not in OutRequests, the fragmentation-needed message is.
        '  Ip OutRequests +1 OutDiscards +1 FragOKs +0 FragFails +1 FragCreates +0\n' +
        '  errqueue: ee_errno EMSGSIZE origin 2 type 3 code 4 info 800\n',
    );
    // The request and the host's reply, both fragmented to the path MTU.
    expect(native).toContain(
      '  ipv6 payload 1256 fragment offset 0 MF\n  ipv6 payload 168 fragment offset 1248\n' +
        '  ipv6 reply payload 1256 fragment offset 0 MF\n  ipv6 reply payload 168 fragment offset 1248\n',
    );
    // The ping6 socket's route from before the packet too big, gone after a send.
    expect(native).toContain('packet too big 1300: IPV6_MTU 65536\n');
    expect(native).toContain('  IPV6_MTU ENOTCONN\n');
    expect(native).toContain('connected again: IPV6_MTU 1300\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'raw-ping-pmtu', native), 60_000);
});
