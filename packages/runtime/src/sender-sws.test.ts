// The sender's silly window avoidance on loopback against Linux: testdata/sender-sws.c (a bulk
// sender of whole segments against a slow reader's small window, counted in a capture of lo)
// runs in a fresh network namespace (lo up, its segmentation offloads off) and under tsvisor
// --network none and must print the same. netstack's sender-sws.test.ts has the rules in detail.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sender-sws', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('sender-sws.c', () => {
  it('sends only whole segments while the window opens by other amounts (host kernel)', () => {
    expect(native).toBe(
      [
        'received all: yes',
        'data segments of 988 bytes: over 200 yes',
        'data segments of other sizes: 0',
        'writes taken in part: 0',
        '',
      ].join('\n'),
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'sender-sws', native));
});
