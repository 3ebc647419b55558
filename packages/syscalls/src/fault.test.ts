import { SaFlag, SegvCode, SigSet, Signal } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { handleFault } from './fault.js';
import { harness } from './harness.test-util.js';

describe('page faults', () => {
  it('a fault nowhere near a mapping kills with SIGSEGV (SEGV_MAPERR)', async () => {
    const h = harness();
    expect(await handleFault(h.task, 0x1234, 'read')).toBe('exited');
    expect(h.task.group.exitStatus & 0x7f).toBe(Signal.SIGSEGV);
  });

  it('a handler gets si_addr and SEGV_ACCERR for a write to read-only memory', async () => {
    const h = harness();
    const model = h.task.mm.model as { mmap(...a: unknown[]): number };
    const addr = model.mmap(0, 4096, 1, 0x22, null, 0);
    h.task.group.actions.set(Signal.SIGSEGV, {
      handler: 0x401000n,
      flags: SaFlag.SA_SIGINFO | SaFlag.SA_RESTORER,
      restorer: 0x401800n,
      mask: new SigSet(),
    });
    expect(await handleFault(h.task, addr + 8, 'write')).toBe('run');
    expect(h.task.regs.get('rip')).toBe(0x401000n);
    const si = Number(h.task.regs.get('rsi'));
    expect(h.mem.readI32(si)).toBe(Signal.SIGSEGV);
    expect(h.mem.readI32(si + 8)).toBe(SegvCode.SEGV_ACCERR);
    expect(h.mem.readU64(si + 16)).toBe(BigInt(addr + 8));
  });

  it('a fault just below the stack grows it', async () => {
    const h = harness();
    const model = h.task.mm.model as {
      setupStack(top: number, low: number): unknown;
      findVma(a: number): { start: number; end: number } | undefined;
    };
    model.setupStack(0x7ff000000000, 0x7ff000000000 - 0x1000);
    const below = 0x7ff000000000 - 0x1000 - 0x20000 - 0x10000;
    const covers = (): boolean => {
      const v = model.findVma(below);
      return v !== undefined && v.start <= below && below < v.end;
    };
    expect(covers()).toBe(false);
    expect(await handleFault(h.task, below, 'write')).toBe('run');
    expect(covers()).toBe(true);
    expect(h.task.state).toBe('alive');
  });
});
