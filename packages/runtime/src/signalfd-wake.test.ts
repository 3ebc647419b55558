// A signal another process sends wakes a signalfd waiter (poll, ppoll, select, epoll_wait, a
// blocking read) at once, against Linux: testdata/signalfd-wake.c runs natively and under tsvisor
// and must print the same. (PostgreSQL's latch waits hung until their timeouts before.)
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'signalfd-wake', ['-O1', '-Wall', '-Werror']);
  native = execFileSync(exe, [], { encoding: 'utf8', timeout: 60_000 });
});

describe('signalfd-wake.c', () => {
  it('is woken before the limit on the host kernel, for every wait and signal', () => {
    expect(native.split('\n').filter(Boolean)).toHaveLength(50);
    expect(native).not.toContain('at the limit');
    expect(native).toContain(
      'epoll_wait    Urgent I/O condition default: returned 1, woken before the limit, read signal 23\n',
    );
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/signalfd-wake'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
