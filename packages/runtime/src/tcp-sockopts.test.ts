// The IPPROTO_TCP options beyond the everyday ones, against Linux: testdata/tcp-sockopts.c
// prints what getsockopt answers on fresh IPv4 and IPv6 TCP sockets, set/get round trips with
// their bounds and errnos, and the effects (the MSS the peer sees and the segment sizes it
// receives, TCP_INQ's TCP_CM_INQ messages, TCP_RTO_MIN_US in TCP_INFO, TCP_WINDOW_CLAMP in the
// first window, TCP_DEFER_ACCEPT's held connections). It runs in a fresh network namespace
// (lo up) natively and under tsvisor --network none, and must print the same. Its deferred
// accept without data waits about 1 s per family, so the run takes a few seconds.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tcp-sockopts', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe, [], 30_000);
});

describe('tcp-sockopts.c', () => {
  it('shows the options and their effects on the host kernel', () => {
    // iperf3's question: the MSS of a fresh socket, and of a connection (bounded to half the
    // window the peer offered, as Linux reports it).
    expect(native).toContain('tcp4 fresh: MAXSEG=536 SYNCNT=6 DEFER_ACCEPT=0');
    expect(native).toContain('client maxseg is min(mss, window/2) 1, server 1, snd_mss the same 1 1');
    // A client's TCP_MAXSEG 1000 is what the server sends with, timestamps taken off.
    expect(native).toContain(
      'tcp4 mss client 1000 listener 0: client maxseg 988 snd_mss 988 advmss 988, server maxseg 988 snd_mss 988 advmss route',
    );
    expect(native).toContain('tcp4  received 3000, client rcv_mss 988\n');
    expect(native).toContain('tcp4 inq recvmsg 4 cmsg level 6 type 36 len 20 value 6 flags 0\n');
    expect(native).toContain('tcp4 defer_accept: connect 0, ready before data 0, after data 1 (at once)');
    expect(native).toContain('tcp4 defer_accept without data: ready 1 after 0.5 to 4 s\n');
    expect(native).toContain('tcp4 INFO len 280\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tcp-sockopts', native), 60_000);
});
