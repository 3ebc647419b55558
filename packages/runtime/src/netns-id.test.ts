// RTM_GETNSID against Linux: a namespace that gave no ids answers NETNSA_NSID -1 for itself (named
// by a live pid), Linux's errnos for the other references, and an empty dump (`ip monitor` asks
// when announcements cross its start; `ip netns list-id` dumps). testdata/netns-id.c runs in a
// fresh network namespace and under tsvisor --network none and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'netns-id', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('netns-id.c', () => {
  it('the namespace itself is not assigned an id, other references fail (host kernel)', () => {
    expect(native).toBe(
      [
        'by this pid: type 88 nsid -1',
        'by a pid nobody has: error ESRCH',
        'by an id: error ENOENT',
        'by a file that is no namespace: error EINVAL',
        'by a closed fd: error EBADF',
        'with a target id: error EINVAL',
        'without a reference: error EINVAL',
        'with an unknown attribute: type 88 nsid -1',
        'with an ack asked: type 88 nsid -1 error 0',
        'dump: done',
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'netns-id', native));
});
