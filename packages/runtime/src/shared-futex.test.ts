// Futexes in memory shared between processes against Linux: testdata/shared-futex.c runs natively
// and under tsvisor and must print the same (process-shared semaphores and mutexes, as Python's
// multiprocessing uses them, wake waiters in other processes).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'shared-futex', ['-O1', '-Wall', '-Werror', '-pthread']);
  const files = mkdtempSync(join(tmpdir(), 'shared-futex-'));
  try {
    native = execFileSync(exe, [files, files, files], { encoding: 'utf8', timeout: 30_000 });
  } finally {
    rmSync(files, { recursive: true, force: true });
  }
});

describe('shared-futex.c', () => {
  it('wakes across processes on the host kernel', () => {
    expect(native).toContain('shared anonymous: woke 1, child status 0\n');
    expect(native).toContain(
      'private wake from another process: woke 0; shared wake: woke 1, child status 0\n',
    );
    for (const i of [1, 2, 3])
      expect(native).toContain(`file mapped twice (directory ${i}): woke 1, child status 0\n`);
    expect(native).toContain('SysV shm attached twice: woke 1, child status 0\n');
    expect(native).toContain('named semaphore: child status 0\n');
    expect(native).toContain('robust mutex after its owner died: EOWNERDEAD, child status 0\n');
  });

  it('prints the same under tsvisor: files in /tmp (tmpfs), /var/tmp (the overlay), /rw (a host directory)', async () => {
    const rw = join(bed.dir, 'rw');
    mkdirSync(rw, { recursive: true });
    const got = await bed.run(['/test/shared-futex', '/tmp', '/var/tmp', '/rw'], {
      volumes: [
        { host: bed.dir, sandbox: '/test', readOnly: true },
        { host: rw, sandbox: '/rw', readOnly: false },
      ],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
