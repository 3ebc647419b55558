// Hostile socket calls (testdata/socket-fuzz.c: random levels, options, flags, ioctls, bad
// pointers and lengths on every socket family and type the sandbox offers) must never reach a
// handler that throws: the program gets to its end natively, and under tsvisor in each network
// mode with nothing in the sandbox log but what Linux would say too (no "bug:" line).
import { describe, expect, it } from 'vitest';
import { compile, runNativeInNetns, testbed } from './c-programs.test-util.js';

const SEEDS = ['11', '12', '13', '14'];
const CALLS = '10000';
const native: string[] = [];
const bed = testbed((dir) => {
  const exe = compile(dir, 'socket-fuzz', ['-O1', '-Wall', '-Werror']);
  for (const seed of SEEDS) native.push(runNativeInNetns(exe, [seed, CALLS]));
});

describe('socket-fuzz.c', () => {
  it('gets to its end on the host kernel', () => {
    for (const out of native) expect(out).toBe('done\n');
  });

  for (const network of ['none', 'sandbox', 'host'] as const)
    it(`gets to its end under tsvisor (network ${network}) with no handler failing`, async () => {
      for (const seed of SEEDS) {
        const got = await bed.run(['/test/socket-fuzz', seed, CALLS], {
          network,
          volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
        });
        expect(got.log.filter((l) => l.startsWith('bug:'))).toEqual([]);
        expect(got.stdout).toBe('done\n');
        expect(got.status).toBe(0);
      }
    }, 120_000);
});
