// Classic BPF socket filters against Linux: testdata/sock-filter.c runs in a fresh network
// namespace (lo up) and under tsvisor --network none and must print the same: the checker's
// errnos, SO_GET_FILTER and SO_LOCK_FILTER, SO_ATTACH_BPF without bpf(2), and what filters keep
// of UDP (IPv4 and IPv6), raw ICMP and ICMPv6, ping sockets, TCP, AF_UNIX datagram, seqpacket
// and stream traffic and rtnetlink replies.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sock-filter', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('sock-filter.c', () => {
  it('attaches, checks and runs filters on the host kernel', () => {
    expect(native).toContain('len 0: -1 EINVAL\nlen 4097: -1 EINVAL\nNULL program: -1 EINVAL\n');
    expect(native).toContain('bad program pointer: -1 EFAULT\n');
    expect(native).toContain('uninitialised M[0]: -1 EINVAL\n');
    expect(native).toContain('SO_ATTACH_BPF -1: -1 EBADF\n');
    expect(native).toContain('SO_ATTACH_BPF socket fd: -1 EINVAL\n');
    expect(native).toContain('count: 0 optlen 4\ntoo small: -1 EINVAL optlen 3\nwhole: 0 optlen 4 same 1\n');
    expect(native).toContain('attach locked: -1 EPERM\ndetach locked: -1 EPERM\n');
    expect(native).toContain(
      'drop all: EAGAIN\nInErrors +1\nprefix 5: 5 "hello"\nprefix 5 into 2: 2 trunc 1\n',
    );
    expect(native).toContain('ret 3 keeps the header: 0 ""\n');
    expect(native).toContain('raw 0: len 32 type 0 payload "ping"\nraw 1: EAGAIN\n');
    expect(native).toContain('raw6 0: len 12 type 129 payload "ping"\nraw6 1: EAGAIN\n');
    expect(native).toContain('reply cut: 10\nreply dropped: -1 EAGAIN\n');
    expect(native).toContain(
      'poll while dropped: 0\nclient outq: 3\npoll after detach: 1\nserver reads: 3 "abc"\n',
    );
    expect(native).toContain("child's filter: 0 optlen 3\n");
    expect(native).toContain('send dropped: 5\ndrop all: EAGAIN\n');
    expect(native).toContain('drop all has no effect: 5 "hello"\n');
    expect(native).toContain('up to IFLA_IFNAME 0: len 32 type 16\nup to IFLA_IFNAME 1: len 20 type 3\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'sock-filter', native));
});
