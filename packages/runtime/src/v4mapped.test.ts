// IPv4-mapped addresses on AF_INET6 TCP and UDP sockets against Linux: testdata/v4mapped.c runs
// in a fresh network namespace (lo up) and under tsvisor --network none and must print the same.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'v4mapped', ['-O1', '-Wall', '-Werror']);
  native = execFileSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0"', exe], {
    encoding: 'utf8',
    timeout: 20_000,
  });
});

describe('v4mapped.c', () => {
  it('binds, listens and connects through mapped addresses on the host kernel', () => {
    expect(native).toContain('tcp bind ::ffff:127.0.0.1: 0, name ::ffff:127.0.0.1\n');
    expect(native).toContain('accept: ok, peer ::ffff:127.0.0.1, family AF_INET6\n');
    expect(native).toContain('bound [::] connect mapped: 0, name ::ffff:127.0.0.1, same port yes\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/v4mapped'], {
      network: 'none',
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
