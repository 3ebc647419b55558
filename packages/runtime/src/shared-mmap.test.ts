// Shared mappings of in-memory files (tmpfs, the overlay's memory layer, memfds with seals)
// against Linux: testdata/shared-mmap.c runs natively and under tsvisor and must print the same.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'shared-mmap', ['-O1', '-Wall', '-Werror']);
  const dirs = ['a', 'b'].map((d) => join(dir, d));
  for (const d of dirs) mkdirSync(d);
  native = execFileSync(exe, dirs, { encoding: 'utf8', timeout: 20_000 });
});

describe('shared-mmap.c', () => {
  it('shows sharing both ways on the host kernel', () => {
    expect(native).toContain("read(2) sees the mapping's write: X\n");
    expect(native).toContain("child saw the parent's write: 1\n");
    expect(native).toContain('F_ADD_SEALS F_SEAL_WRITE while mapped writable = -1 EBUSY\n');
    expect(native).toContain('mprotect PROT_WRITE of the read-only shared map = -1 EACCES\n');
    expect(native).toContain('mappings of the sealed memfd: 1\n');
  });

  it('prints the same under tsvisor for /tmp (tmpfs) and /var/tmp (overlay memory layer)', async () => {
    const got = await bed.run(['/test/shared-mmap', '/tmp', '/var/tmp'], {
      volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
    });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(native);
    expect(got.status).toBe(0);
  });
});
