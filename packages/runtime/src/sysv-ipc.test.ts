// System V IPC against Linux: testdata/sysv-ipc.c (shared memory, semaphores and message queues,
// with fork children sharing a segment, a semaphore set and a queue) runs natively in a fresh
// IPC namespace (`unshare -i`, so ids start at 0 as in a new sandbox) and under tsvisor, and
// must print the same lines. The native run gets fresh pid and mount namespaces too, so pids in
// /proc/sysvipc start at 1 as in a sandbox.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'sysv-ipc', ['-O1', '-Wall', '-Werror', '-pthread']);
  native = execFileSync('unshare', ['-ipm', '--fork', '--mount-proc', exe], {
    encoding: 'utf8',
    timeout: 20_000,
  });
});

describe('sysv-ipc.c', () => {
  it('prints what Linux answers', () => {
    // The program must show Linux's behaviour, or the comparison below proves nothing.
    expect(native).toContain('parent reads: written by child\n');
    expect(native).toContain('maps: r--s 00000000 00:01 ino==id 1 /SYSV00001234 (deleted)\n');
    expect(native).toContain('after undo 0\n');
    expect(native).toContain("thread semops 0, value after thread exit 3\nafter a child's undo 3\n");
    expect(native).toMatch(/\n {5}17219 {10}3 {3}604 {10}4 {5}0 {5}0 {5}0 {5}0 #{10} #{10}\n/);
    expect(native).toContain('removed-set child exit 13\n');
    expect(native).toContain('child received 10 9 for child\nreceiver exit 15\n');
  });

  it('prints the same under tsvisor', async () => {
    const got = await bed.run(['/test/sysv-ipc'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  }, 30_000);

  it('util-linux ipcmk and ipcs print the same under tsvisor', async () => {
    // Change times (to the second, in the local zone) are left out: the two runs may straddle a second.
    const script =
      'ipcmk -M 4096 && ipcmk -S 2 && ipcmk -Q && ipcs -l && ipcs -u && ipcs -m -i 0 && ipcs -s -i 0 && ipcs -q -i 0';
    const strip = (out: string): string =>
      out
        .split('\n')
        .filter((l) => !/change_time|ctime/.test(l))
        .join('\n');
    const host = execFileSync('unshare', ['-ipm', '--fork', '--mount-proc', 'sh', '-c', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(host).toContain('Semaphore Array semid=0\n');
    const got = await bed.run(['/bin/sh', '-c', script]);
    expect(got.stderr).toBe('');
    expect(strip(got.stdout)).toBe(strip(host));
    expect(got.status).toBe(0);
  }, 30_000);
});
