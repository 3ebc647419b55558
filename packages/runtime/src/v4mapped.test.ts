// IPv4-mapped addresses on AF_INET6 TCP and UDP sockets against Linux: testdata/v4mapped.c runs
// in a fresh network namespace (lo up) and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'v4mapped', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('v4mapped.c', () => {
  it('binds, listens and connects through mapped addresses on the host kernel', () => {
    expect(native).toContain('tcp bind ::ffff:127.0.0.1: 0, name ::ffff:127.0.0.1\n');
    expect(native).toContain('accept: ok, peer ::ffff:127.0.0.1, family AF_INET6\n');
    expect(native).toContain('bound [::] connect mapped: 0, name ::ffff:127.0.0.1, same port yes\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'v4mapped', native));
});
