// EPIPE and SIGPIPE on unix, UDP and TCP sockets against Linux: testdata/sock-epipe.c runs in a
// fresh network namespace (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sock-epipe', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('sock-epipe.c', () => {
  it('raises SIGPIPE on stream sockets only, on the host kernel', () => {
    expect(native).toContain('unix stream, own SHUT_WR, send: -1 EPIPE, SIGPIPE 1\n');
    expect(native).toContain('unix dgram, own SHUT_WR, send: -1 EPIPE, SIGPIPE 0\n');
    expect(native).toContain('udp unconnected, send: -1 EDESTADDRREQ, SIGPIPE 0\n');
    expect(native).toContain('udp connected, write: -1 EPIPE, SIGPIPE 0\n');
    expect(native).toContain('tcp, own SHUT_WR, write: -1 EPIPE, SIGPIPE 1\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'sock-epipe', native));
});
