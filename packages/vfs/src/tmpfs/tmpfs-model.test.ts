import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Posix, ROOT_CREDS, Tmpfs, Vfs } from '../index.js';
import { normalize, runHost, runVfs } from '../testing/differential.test-util.js';
import { opArbWithMknod } from '../testing/model.test-util.js';

describe('tmpfs model-based differential test', () => {
  it('random operation sequences give the results Linux tmpfs gives', () => {
    fc.assert(
      fc.property(fc.array(opArbWithMknod, { minLength: 1, maxLength: 40 }), (ops) => {
        const host = normalize(runHost(ops), ops);
        const p = new Posix(new Vfs(new Tmpfs()), ROOT_CREDS);
        const mine = normalize(runVfs(p, ops), ops);
        expect(mine).toEqual(host);
      }),
      { numRuns: Number(process.env['VFS_FUZZ_RUNS'] ?? 150) },
    );
  });
});
