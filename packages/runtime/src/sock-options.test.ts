// SOL_SOCKET options on the sockets the sandbox serves itself (network mode `none`: netstack's
// TCP and UDP on loopback, and AF_UNIX): testdata/sock-timeo.c prints SO_RCVTIMEO/SO_SNDTIMEO's
// values and the bounds they put on every blocking call, natively and under tsvisor; both must
// print the same. Its waits are 50 ms each, so the whole program takes a few seconds.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

const bed = testbed((dir) => {
  for (const name of ['sock-timeo', 'sock-options']) compile(dir, name, ['-O1', '-Wall', '-Werror']);
});

function native(name: string): string {
  return execFileSync(join(bed.dir, name), { encoding: 'utf8', timeout: 30_000 });
}

async function sandboxed(name: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return bed.run([`/test/${name}`], { volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }] });
}

describe('SO_RCVTIMEO and SO_SNDTIMEO on netstack and AF_UNIX sockets', () => {
  it('sock-timeo.c prints what it prints natively', async () => {
    const want = native('sock-timeo');
    // The program itself must show the behaviour, not only agree: a wait of 50 ms gives EAGAIN.
    expect(want).toContain('udp rcvtimeo: 0\n recv: EAGAIN after about 0.05s\n');
    const r = await sandboxed('sock-timeo');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  }, 60_000);
});

describe('the other SOL_SOCKET options on netstack and AF_UNIX sockets', () => {
  it('sock-options.c prints what it prints natively', async () => {
    const want = native('sock-options');
    expect(want).toContain(
      'tcp rcvlowat 4: 0 poll with 2: 0 0 poll with 4: 1 0x1 recv: 4 recv with 2: 2 after the timeout' +
        ' read with 2: 2 after the timeout read waits for 4: 4 ijkl\n',
    );
    // IP_TOS sets SO_PRIORITY (rt_tos2priority), and only when the byte changes.
    expect(want).toContain('udp tos 0x10: tos 0x10 priority 6\n');
    expect(want).toContain('tcp tos 0x12: tos 0x10 priority 6\n');
    expect(want).toContain('priority 3 then the same tos 0: priority 3\n');
    const r = await sandboxed('sock-options');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  }, 60_000);
});
