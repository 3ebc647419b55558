// The loopback device's MTU (65536, as Linux's lo has) and what follows from it, against Linux:
// testdata/lo-mtu.c prints lo's MTU as SIOCGIFMTU, /sys and rtnetlink show it, IP_MTU and
// IPV6_MTU on connected loopback UDP sockets, the largest UDP datagrams lo carries with their
// errno beyond, loopback TCP's MSS figures and the largest echo requests of ping sockets. It runs in a fresh network namespace (lo up)
// natively and under tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'lo-mtu', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('lo-mtu.c', () => {
  it('shows lo at 65536 on the host kernel, IPv4 capped at 65535', () => {
    expect(native).toContain('SIOCGIFMTU lo: 65536\n');
    expect(native).toContain('/sys/class/net/lo/mtu: 65536\n');
    expect(native).toContain('RTM_GETLINK lo: IFLA_MTU 65536\n');
    expect(native).toContain('udp4 connected IP_MTU: 65535\n');
    expect(native).toContain('udp6 connected IPV6_MTU: 65536\n');
    expect(native).toContain('udp6 pmtudisc do: largest datagram 65488 (below it)');
    expect(native).toMatch(/tcp6 after 1 MiB each way: client maxseg 65464 advmss 65464 /);
    expect(native).toContain('icmp4 echo request 65515: ok 65516: EMSGSIZE');
    expect(native).toContain('icmp6 echo request 65515: ok 65516: ok 65535: ok 65536: EMSGSIZE\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'lo-mtu', native), 30_000);
});
