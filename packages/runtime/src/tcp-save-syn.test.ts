// TCP_SAVE_SYN / TCP_SAVED_SYN against Linux: testdata/tcp-save-syn.c has listeners keep their
// SYNs (0, 1 and 2, the last with the link-layer header), reads them once from the accepted
// socket (too small a buffer first: EINVAL with the length needed) and prints the headers' fields
// that hold from run to run. It runs in a fresh network namespace (lo up) natively and under
// tsvisor --network none, and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'tcp-save-syn', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('tcp-save-syn.c', () => {
  it('saves the SYN on the host kernel', () => {
    expect(native).toContain('accepted, optlen 4: EINVAL, optlen now 60\n');
    expect(native).toContain(
      'accepted: len 60 ipv4 ihl 20 tos 0 total 60 df 1 ttl 64 proto 6; tcp ports client->server flags 0x2 doff 40',
    );
    expect(native).toContain(
      'accepted: len 94 mac zeros type 0x86dd; ipv6 class 32 payload 40 next 6 hops 9;',
    );
    expect(native).toContain('accepted again: len 0\n');
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'tcp-save-syn', native), 30_000);
});
