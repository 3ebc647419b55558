// A listener's request queue and SYN cookies (issue h60): testdata/syn-backlog.c fills the
// request queue with TCP_DEFER_ACCEPT handshakes, one client at a time, under tcp_syncookies 0,
// 1 and 2, tcp_max_syn_backlog and tcp_abort_on_overflow (written by the program), and prints
// which clients connect, what accept() finds, the TcpExt counter deltas and what a cookie
// connection ends up with (TCP_INFO). It runs natively in a fresh network namespace (lo up) and
// under tsvisor (network mode none); both must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'syn-backlog', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('syn-backlog.c', () => {
  it('shows Linux answering a full request queue with SYN cookies', () => {
    // Linux's rules, or the comparison below proves nothing.
    expect(native).toContain(
      'tcp_syncookies 0, tcp_abort_on_overflow 0, backlog 1, TCP_DEFER_ACCEPT:\n' +
        '  c1: connected\n  c2: connected\n  c3: pending\n',
    );
    expect(native).toContain('counters: TCPReqQFullDrop +3 ListenDrops +3 TCPDeferAcceptDrop +2\n');
    expect(native).toContain(
      'counters: SyncookiesSent +4 SyncookiesRecv +4 TCPReqQFullDoCookies +5 ListenOverflows +2 ListenDrops +2 TCPDeferAcceptDrop +2\n',
    );
    expect(native).toContain('  c5: pending\n  listener rx_queue 0\n'); // the accept queue only
    expect(native).toContain('  c1: SO_ERROR ECONNRESET\n');
    expect(native).toContain('accepted: snd_mss 1288, timestamps on, sack on, wscale on');
    expect(native).toContain('accepted: snd_mss 1460, timestamps off, sack off, wscale off');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'syn-backlog', native), 60_000);
});
