import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AT } from './elf/stack.js';
import { hostCpuAux } from './host-aux.js';

describe('hostCpuAux', () => {
  it('matches what a native process receives', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-hostaux-'));
    const prog = join(dir, 'auxv-dump');
    execFileSync('gcc', [
      '-O0',
      '-o',
      prog,
      new URL('../test-programs/auxv-dump.c', import.meta.url).pathname,
    ]);
    const native = new Map<number, number>();
    for (const line of execFileSync(prog, { encoding: 'utf8' }).split('\n')) {
      const [k, a, b] = line.split(' ');
      if (k === 'aux') native.set(Number(a), parseInt(b as string, 16));
    }
    const aux = hostCpuAux();
    expect(aux.hwcap).toBe(native.get(AT.HWCAP));
    expect(aux.hwcap2).toBe(native.get(AT.HWCAP2));
    expect(aux.minSigStackSize).toBe(native.get(AT.MINSIGSTKSZ));
  });
});
