import { E } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';

const KCMP_FILE = 0;
const KCMP_VM = 1;
const KCMP_FILES = 2;

describe('kcmp', () => {
  it('tells shared descriptions and address spaces from distinct ones, in a stable order', async () => {
    const h = harness();
    expect(await h.call('pipe2', BUF, 0)).toBe(0);
    const [r, w] = [h.mem.readI32(BUF) as number, h.mem.readI32(BUF + 4) as number];
    const d = (await h.call('dup', r)) as number;
    expect(await h.call('kcmp', 1, 1, KCMP_FILE, r, d)).toBe(0);
    const ab = await h.call('kcmp', 1, 1, KCMP_FILE, r, w);
    const ba = await h.call('kcmp', 1, 1, KCMP_FILE, w, r);
    expect([ab, ba].sort()).toEqual([1, 2]);
    expect(await h.call('kcmp', 1, 1, KCMP_FILE, r, 99)).toBe(E.EBADF);
    const pid = (await h.call('fork')) as number;
    expect(await h.call('kcmp', 1, pid, KCMP_FILE, r, r)).toBe(0);
    expect(await h.call('kcmp', 1, pid, KCMP_VM, 0, 0)).not.toBe(0);
    expect(await h.call('kcmp', 1, pid, KCMP_FILES, 0, 0)).not.toBe(0);
    expect(await h.call('kcmp', 1, 1, KCMP_VM, 0, 0)).toBe(0);
    expect(await h.call('kcmp', 1, 4242, KCMP_VM, 0, 0)).toBe(E.ESRCH);
    expect(await h.call('kcmp', 1, 1, 99, 0, 0)).toBe(E.EINVAL);
  });
});
