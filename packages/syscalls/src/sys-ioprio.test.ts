import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { harness } from './harness.test-util.js';

const PROCESS = 1;
const PGRP = 2;
const USER = 3;
const be = (level: number): number => (2 << 13) | level;

describe('ioprio', () => {
  it('sets and reads a thread priority with Linux checks; fork inherits it', async () => {
    const h = harness();
    expect(await h.call('ioprio_get', PROCESS, 0)).toBe(0);
    expect(await h.call('ioprio_set', PROCESS, 0, be(3))).toBe(0);
    expect(await h.call('ioprio_get', PROCESS, 0)).toBe(be(3));
    expect(await h.call('ioprio_set', PROCESS, 0, 1)).toBe(E.EINVAL); // class NONE, level 1
    expect(await h.call('ioprio_set', PROCESS, 0, 4 << 13)).toBe(E.EINVAL);
    expect(await h.call('ioprio_set', 0, 0, 0)).toBe(E.EINVAL);
    expect(await h.call('ioprio_get', 4, 0)).toBe(E.EINVAL);
    expect(await h.call('ioprio_get', PROCESS, 4242)).toBe(E.ESRCH);
    const pid = (await h.call('fork')) as number;
    expect(await h.call('ioprio_get', PROCESS, pid)).toBe(be(3));
    // A group whose members have no class counts them as best-effort level 4.
    expect(await h.call('ioprio_set', PROCESS, pid, 0)).toBe(0);
    expect(await h.call('ioprio_get', PGRP, 0)).toBe(be(3));
    expect(await h.call('ioprio_set', PROCESS, 0, 0)).toBe(0);
    expect(await h.call('ioprio_get', PGRP, 0)).toBe(be(4));
    expect(await h.call('ioprio_set', USER, 0, be(6))).toBe(0);
    expect(await h.call('ioprio_get', PROCESS, pid)).toBe(be(6));
  });

  it('the real-time class and other users need privilege', async () => {
    const h = harness();
    expect(await h.call('ioprio_set', PROCESS, 0, 1 << 13)).toBe(0);
    expect(await h.call('setresuid', 1000, 1000, 1000)).toBe(0);
    expect(await h.call('ioprio_set', PROCESS, 0, 1 << 13)).toBe(E.EPERM);
    expect(await h.call('ioprio_set', PROCESS, 0, be(0))).toBe(0);
  });
});
