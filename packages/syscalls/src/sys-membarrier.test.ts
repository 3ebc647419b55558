import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { harness } from './harness.test-util.js';

const QUERY = 0;
const PRIVATE_EXPEDITED = 8;
const REGISTER_PRIVATE_EXPEDITED = 16;
const RSEQ = 128;
const REGISTER_RSEQ = 256;
const GET_REGISTRATIONS = 512;

describe('membarrier', () => {
  it('reports every command and needs registration for private barriers', async () => {
    const h = harness();
    expect(await h.call('membarrier', QUERY, 0, 0)).toBe(0x3ff);
    expect(await h.call('membarrier', QUERY, 1, 0)).toBe(E.EINVAL);
    expect(await h.call('membarrier', 1, 0, 0)).toBe(0);
    expect(await h.call('membarrier', PRIVATE_EXPEDITED, 0, 0)).toBe(E.EPERM);
    expect(await h.call('membarrier', REGISTER_PRIVATE_EXPEDITED, 0, 0)).toBe(0);
    expect(await h.call('membarrier', PRIVATE_EXPEDITED, 0, 0)).toBe(0);
    expect(await h.call('membarrier', PRIVATE_EXPEDITED, 1, 0)).toBe(E.EINVAL);
    expect(await h.call('membarrier', REGISTER_RSEQ, 0, 0)).toBe(0);
    expect(await h.call('membarrier', RSEQ, 1, 0)).toBe(0);
    expect(await h.call('membarrier', GET_REGISTRATIONS, 0, 0)).toBe(
      REGISTER_PRIVATE_EXPEDITED | REGISTER_RSEQ,
    );
    expect(await h.call('membarrier', 3, 0, 0)).toBe(E.EINVAL);
  });
});
