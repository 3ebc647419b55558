import { describe, expect, it } from 'vitest';
import { Posix, ROOT_CREDS, Tmpfs, Vfs } from './index.js';
import { normalize, runHost, runVfs } from './testing/differential.test-util.js';
import { chain, walkProbes, walkSetup } from './testing/walk-cases.test-util.js';

describe('path walk, differential against Linux', () => {
  it('gives the same results and errnos as the kernel', () => {
    const ops = [...walkSetup, ...chain(42), ...walkProbes];
    const host = normalize(runHost(ops), ops);
    const p = new Posix(new Vfs(new Tmpfs()), ROOT_CREDS);
    const mine = normalize(runVfs(p, ops), ops);
    const diffs = ops
      .map((op, i) => ({ i, op: JSON.stringify(op).slice(0, 120), host: host[i], mine: mine[i] }))
      .filter((d) => d.host !== d.mine);
    expect(diffs).toEqual([]);
  });
});
