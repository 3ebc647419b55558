// write(2) of buffers far larger than an AF_UNIX stream socket's send buffer against Linux:
// testdata/unix-big-write.c runs natively and under tsvisor --network none and must print the
// same (the bytes a non-blocking write takes and SIOCOUTQ after it, for several SO_SNDBUF sizes;
// every byte of a blocking writer's 5 MiB writes arrives in order). The supervisor copies in only
// a window of such a write (SocketImpl.sendWindow); a window too small changes these counts.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'unix-big-write', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, { encoding: 'utf8', timeout: 30_000 });
});

describe('unix-big-write.c', () => {
  it('takes what the send buffer has room for on the host kernel', () => {
    expect(native).toMatch(
      /^sndbuf 0: write \d+ outq \d+, again -11, drained 50000, write \d+ outq \d+, small -11\n/,
    );
    expect(native).toContain(
      'blocking writer: received 41943040 of 41943040, wrong bytes 0, writer status 0\n',
    );
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/unix-big-write'], {
      network: 'none',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 60_000);
});
