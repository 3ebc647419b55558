import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The socket conformance programs (testdata/sockets.c) must print the expected lines natively;
// the same program is run under `tsvisor do` by the end-to-end tests and must print the same.
const here = new URL('.', import.meta.url).pathname;

// The same for testdata/mmsg.c (sendmmsg/recvmmsg) and testdata/netlink.c (rtnetlink).
describe.each(['sockets', 'mmsg', 'netlink'])('%s.c conformance program', (name) => {
  it('prints the expected lines on the host kernel', () => {
    const dir = mkdtempSync('/var/tmp/tsvisor-sockets-');
    try {
      const exe = join(dir, name);
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, `testdata/${name}.c`)]);
      const out = execFileSync(exe, { encoding: 'utf8', timeout: 20_000 });
      expect(out).toBe(readFileSync(join(here, `testdata/${name}.expected.txt`), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
