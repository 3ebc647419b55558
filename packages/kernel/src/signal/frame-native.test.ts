import { SaFlag, SigSet, Signal } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootTestKernel } from '../kernel.test-util.js';
import { deliverSignals } from './delivery.js';

describe('rt_sigframe compared with the real kernel', () => {
  it('places the frame and FP state and writes the same software bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-frame-'));
    const prog = join(dir, 'sigframe-dump');
    execFileSync('gcc', [
      '-O0',
      '-o',
      prog,
      new URL('../../test-programs/sigframe-dump.c', import.meta.url).pathname,
    ]);
    const fields = execFileSync(prog, { encoding: 'utf8' }).trim().split(' ');
    const [rspHex, ...rest] = fields;
    const [rspToFrame, fpOff, siOff, ucFlags, magic1, ext, xfeat, xsz, magic2, ssFlags] = rest.map(
      Number,
    ) as number[];
    const rsp = parseInt(rspHex as string, 16);

    const { kernel, init, mem } = bootTestKernel();
    mem.map(rsp - 0x10000, 0x20000);
    init.regs.set('rsp', BigInt(rsp));
    init.regs.fp = { bytes: new Uint8Array(xsz as number), xsave: true, xfeatures: BigInt(xfeat as number) };
    init.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: SaFlag.SA_SIGINFO | SaFlag.SA_RESTORER,
      restorer: 0x401800n,
      mask: new SigSet(),
    });
    kernel.sendToTask(init, { signo: Signal.SIGUSR1, code: -6, pid: 1, uid: 0 });
    expect(deliverSignals(kernel, init)).toBe('run');
    const frame = Number(init.regs.get('rsp'));
    const uc = frame + 8;
    const fpAddr = Number(mem.readU64(uc + 40 + 184));
    expect(rsp - frame).toBe(rspToFrame);
    expect(fpAddr - frame).toBe(fpOff);
    expect(Number(init.regs.get('rsi')) - frame).toBe(siOff);
    expect(Number(mem.readU64(uc))).toBe(ucFlags);
    expect(mem.readU32(fpAddr + 464)).toBe(magic1);
    expect(mem.readU32(fpAddr + 468)).toBe(ext);
    expect(Number(mem.readU64(fpAddr + 472))).toBe(xfeat);
    expect(mem.readU32(fpAddr + 480)).toBe(xsz);
    expect(mem.readU32(fpAddr + (xsz as number))).toBe(magic2);
    expect(mem.readI32(uc + 24)).toBe(ssFlags);
  });
});
