import { Prot } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { STACK_TOP } from './elf/elf.js';
import { Kernel } from './kernel.js';
import { ManualTime } from './time/time-source.js';

const VDSO = {
  start: 0x7ffff7fc1000,
  end: 0x7ffff7fc3000,
  prot: Prot.PROT_READ | Prot.PROT_EXEC,
  name: '[vdso]',
};
const VVAR = { start: 0x7ffff7fbd000, end: 0x7ffff7fc1000, prot: Prot.PROT_READ, name: '[vvar]' };

describe('Kernel.useVdso', () => {
  it('adds the vDSO ranges to the reserved ones and sets AT_SYSINFO_EHDR', () => {
    const stub = { start: 0x7ffffff00000, end: 0x7ffffff02000, prot: Prot.PROT_READ, name: '[tsvisor]' };
    const k = new Kernel({ quietBoot: true, reserved: [stub] });
    expect(k.cpuAux.vdso).toBeUndefined();
    k.useVdso(VDSO.start, [VVAR, VDSO]);
    expect(k.cpuAux.vdso).toBe(VDSO.start);
    expect(k.reserved).toEqual([stub, VVAR, VDSO]);
  });

  it('keeps the default reservation above a lowered stackTop', () => {
    const k = new Kernel({ quietBoot: true, stackTop: STACK_TOP - 0x10000 });
    k.useVdso(VDSO.start, [VDSO]);
    expect(k.reserved).toEqual([
      {
        start: STACK_TOP - 0x10000,
        end: STACK_TOP,
        prot: Prot.PROT_READ | Prot.PROT_EXEC,
        name: '[tsvisor]',
      },
      VDSO,
    ]);
  });

  it('refuses a kernel whose clocks are not the host', () => {
    const k = new Kernel({ quietBoot: true, time: new ManualTime() });
    expect(() => k.useVdso(VDSO.start, [VDSO])).toThrow(/host clocks/);
    expect(k.cpuAux.vdso).toBeUndefined();
  });

  it('refuses an AT_SYSINFO_EHDR that is not one of the ranges', () => {
    const k = new Kernel({ quietBoot: true });
    expect(() => k.useVdso(VVAR.start + 0x1000, [VDSO])).toThrow(/not a vDSO range/);
  });
});
