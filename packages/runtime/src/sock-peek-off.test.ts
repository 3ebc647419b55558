// SO_PEEK_OFF on netstack's TCP, UDP and unix stream sockets (issue 8): testdata/sock-peek-off.c peeks and
// reads with the offset set (and blocks in a peek past the queued bytes), natively and under tsvisor (network mode none: netstack on
// loopback); both must print the same.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => compile(dir, 'sock-peek-off', ['-O1', '-Wall', '-Werror']));

describe('SO_PEEK_OFF on TCP, UDP and unix streams', () => {
  it('sock-peek-off.c prints what it prints natively', async () => {
    const want = execFileSync(join(bed.dir, 'sock-peek-off'), { encoding: 'utf8', timeout: 30_000 });
    // The offset must show natively: peeks move on, a read moves it back, UDP crosses datagrams.
    expect(want).toContain('peek 3: 3 "def" off=6\nrecv 2: 2 "ab" off=4\npeek 3: 3 "ghi" off=7\n');
    expect(want).toContain('peek 10: 8 "abcdefgh" off=13\npeek 4: 2 "XY" off=15\n');
    // A blocking peek past the queued bytes waits for the next ones (POLLIN set all along).
    expect(want).toContain('blocking peek at the end: 1 "Z" after more than 0.04s: yes off=2\n');
    // read(2) of a unix stream takes from the front and moves the offset back.
    expect(want).toContain('unix peek 2: 2 "ab" off=2\nunix read 3: 3 "abc" off=0\nunix peek: 3 "def"\n');
    const r = await bed.run(['/test/sock-peek-off'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  }, 60_000);
});
