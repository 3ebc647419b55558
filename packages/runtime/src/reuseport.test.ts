// SO_REUSEPORT groups against Linux: testdata/reuseport.c (UDP sockets and TCP listeners sharing
// a port's traffic by flow, a flow staying with its member, the rest taking over when one
// closes) runs in a fresh network namespace and under tsvisor and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'reuseport', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('reuseport.c', () => {
  it('spreads flows over the group on the host kernel', () => {
    expect(native).toContain('every member got some: 1, each sender kept its member: 1\n');
    expect(native).toContain('tcp: 64 connections accepted, every listener got some: 1\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'reuseport', native), 60_000);
});
