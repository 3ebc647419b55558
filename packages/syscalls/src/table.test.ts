import { E, syscallByName } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSyscallTable } from './index.js';
import { ENOSYS_REASONS } from './table.js';

describe('ENOSYS rows', () => {
  it('carry their specific reason, and only while they have no handler', () => {
    const table = createSyscallTable();
    for (const [name, reason] of Object.entries(ENOSYS_REASONS)) {
      const row = table.get(syscallByName(name)!.nr)!;
      expect(row.handler, name).toBeUndefined();
      expect(row.support).toEqual({ level: 'errno', errno: E.ENOSYS, reason });
    }
    expect(table.get(syscallByName('io_setup')!.nr)!.support).toMatchObject({
      reason: 'not implemented yet',
    });
  });

  it('the ones said to be removed from Linux answer ENOSYS on the host too', () => {
    const removed = Object.entries(ENOSYS_REASONS)
      .filter(([, r]) => r.startsWith('removed from Linux'))
      .map(([name]) => name);
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-enosys-'));
    try {
      const calls = removed.map(
        (n) => `  r = syscall(${syscallByName(n)!.nr}, 0, 0, 0, 0, 0, 0);\n  printf("%ld %d\\n", r, errno);`,
      );
      writeFileSync(
        join(dir, 'p.c'),
        [
          '#include <errno.h>',
          '#include <stdio.h>',
          '#include <unistd.h>',
          'int main(void) {',
          '  long r;',
          ...calls,
          '  return 0;',
          '}',
        ].join('\n'),
      );
      execFileSync('gcc', ['-O0', '-o', join(dir, 'p'), join(dir, 'p.c')]);
      const out = execFileSync(join(dir, 'p'), { encoding: 'utf8' }).trim().split('\n');
      expect(out).toEqual(removed.map(() => `-1 ${E.ENOSYS.errno}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
