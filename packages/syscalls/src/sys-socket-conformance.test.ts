import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The socket conformance program (testdata/sockets.c) must print the expected lines natively;
// the same program is run under `tsvisor do` by the end-to-end tests and must print the same.
const here = new URL('.', import.meta.url).pathname;

describe('sockets.c conformance program', () => {
  it('prints the expected lines on the host kernel', () => {
    const dir = mkdtempSync('/var/tmp/tsvisor-sockets-');
    try {
      const exe = join(dir, 'sockets');
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'testdata/sockets.c')]);
      const out = execFileSync(exe, { encoding: 'utf8', timeout: 20_000 });
      expect(out).toBe(readFileSync(join(here, 'testdata/sockets.expected.txt'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
