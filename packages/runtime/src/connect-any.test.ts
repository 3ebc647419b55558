// A destination naming no host (0.0.0.0, ::) reaches this host, against Linux: testdata/connect-any.c
// runs in a fresh network namespace (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'connect-any', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('connect-any.c', () => {
  it('goes to 127.0.0.1, the bound address or ::1 on the host kernel', () => {
    expect(native).toContain('tcp connect 0.0.0.0: ok, peer 127.0.0.1\n');
    expect(native).toContain('tcp connect 0.0.0.0 bound to 127.0.0.2: ok, peer 127.0.0.2\n');
    expect(native).toContain('tcp connect ::: ok, peer ::1\n');
    expect(native).toContain('udp connect 0.0.0.0: ok, peer 127.0.0.1, send ok, received ok\n');
    expect(native).toContain('udp6 sendto ::: ok, received ok\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'connect-any', native));
});
