import { E, SaFlag, SigSet, Signal, SsFlag, rt_sigframe } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { ERESTARTNOHAND, ERESTARTSYS, ERESTART_RESTARTBLOCK, NO_RESULT } from '../control.js';
import { bootTestKernel } from '../kernel.test-util.js';
import { NR_RESTART_SYSCALL, deliverSignals, sigreturn } from './delivery.js';

const HANDLER = 0x401234n;
const RESTORER = 0x401500n;

function withHandler(flags = 0) {
  const env = bootTestKernel();
  env.init.group.actions.set(Signal.SIGUSR1, {
    handler: HANDLER,
    flags: SaFlag.SA_RESTORER | SaFlag.SA_SIGINFO | flags,
    restorer: RESTORER,
    mask: new SigSet().add(Signal.SIGUSR2),
  });
  return env;
}

describe('signal delivery', () => {
  it('builds an rt_sigframe and rt_sigreturn restores everything', () => {
    const { kernel, init, mem } = withHandler();
    const regs = init.regs;
    regs.set('rax', 0x1111n);
    regs.set('rbx', 0x2222n);
    regs.set('r15', 0xfeedn);
    regs.set('rip', 0x402000n);
    const sp = regs.get('rsp');
    init.mask.add(Signal.SIGHUP);
    kernel.sendToTask(init, { signo: Signal.SIGUSR1, code: -6, pid: 1, uid: 0 });
    expect(deliverSignals(kernel, init)).toBe('run');
    const frame = Number(regs.get('rsp'));
    expect(regs.get('rip')).toBe(HANDLER);
    expect(regs.get('rdi')).toBe(BigInt(Signal.SIGUSR1));
    expect(regs.get('rsi')).toBe(BigInt(frame + 312));
    expect(regs.get('rdx')).toBe(BigInt(frame + 8));
    // As after a call: (rsp + 8) % 16 == 0, below the red zone.
    expect((frame + 8) % 16).toBe(0);
    expect(frame + rt_sigframe.size).toBeLessThanOrEqual(Number(sp) - 128);
    expect(mem.readU64(frame)).toBe(RESTORER);
    // siginfo: signo, code, pid.
    expect(mem.readI32(frame + 312)).toBe(Signal.SIGUSR1);
    expect(mem.readI32(frame + 320)).toBe(-6);
    expect(init.mask.has(Signal.SIGUSR1)).toBe(true);
    expect(init.mask.has(Signal.SIGUSR2)).toBe(true);
    expect(init.mask.has(Signal.SIGHUP)).toBe(true);

    // The handler returns: its `ret` popped pretcode.
    regs.set('rsp', BigInt(frame + 8));
    regs.set('rax', 0n);
    expect(sigreturn(kernel, init)).toBe(NO_RESULT);
    expect(regs.get('rax')).toBe(0x1111n);
    expect(regs.get('rbx')).toBe(0x2222n);
    expect(regs.get('r15')).toBe(0xfeedn);
    expect(regs.get('rip')).toBe(0x402000n);
    expect(regs.get('rsp')).toBe(sp);
    expect(init.mask.has(Signal.SIGUSR1)).toBe(false);
    expect(init.mask.has(Signal.SIGHUP)).toBe(true);
  });

  it('restarts or fails interrupted syscalls by SA_RESTART', () => {
    for (const [flags, result, expectRestart] of [
      [0, ERESTARTSYS, false],
      [SaFlag.SA_RESTART, ERESTARTSYS, true],
      [SaFlag.SA_RESTART, ERESTARTNOHAND, false],
    ] as const) {
      const { kernel, init } = withHandler(flags);
      init.regs.set('rip', 0x402002n);
      init.regs.set('orig_rax', 61n);
      kernel.sendToTask(init, { signo: Signal.SIGUSR1, code: 0 });
      deliverSignals(kernel, init, result);
      const frame = Number(init.regs.get('rsp'));
      init.regs.set('rsp', BigInt(frame + 8));
      sigreturn(kernel, init);
      if (expectRestart) {
        expect(init.regs.get('rip')).toBe(0x402000n);
        expect(init.regs.get('rax')).toBe(61n);
      } else {
        expect(init.regs.get('rip')).toBe(0x402002n);
        expect(BigInt.asIntN(64, init.regs.get('rax'))).toBe(-BigInt(E.EINTR.errno));
      }
    }
  });

  it('restarts transparently when no handler runs, via restart_syscall for restart blocks', () => {
    const { kernel, init } = bootTestKernel();
    init.regs.set('rip', 0x402002n);
    init.regs.set('orig_rax', 35n);
    expect(deliverSignals(kernel, init, ERESTART_RESTARTBLOCK)).toBe('run');
    expect(init.regs.get('rip')).toBe(0x402000n);
    expect(init.regs.get('rax')).toBe(BigInt(NR_RESTART_SYSCALL));
  });

  it('uses the alternate stack with SA_ONSTACK and reports it in uc_stack', () => {
    const { kernel, init, mem } = withHandler(SaFlag.SA_ONSTACK);
    init.altStack = { sp: 0x10000, size: 0x8000, flags: 0 };
    kernel.sendToTask(init, { signo: Signal.SIGUSR1, code: 0 });
    deliverSignals(kernel, init);
    const frame = Number(init.regs.get('rsp'));
    expect(frame).toBeGreaterThan(0x10000);
    expect(frame).toBeLessThan(0x18000);
    // uc_stack.ss_flags (frame + 8 + 16 + 8): 0 because the interrupted code was not on it.
    expect(mem.readI32(frame + 32)).toBe(0);
    expect(mem.readU64(frame + 24)).toBe(0x10000n);
    void SsFlag;
  });

  it('kills with SIGSEGV when the frame cannot be written', () => {
    const { kernel, init } = withHandler();
    init.regs.set('rsp', 0x5000_0000n);
    kernel.sendToTask(init, { signo: Signal.SIGUSR1, code: 0 });
    expect(deliverSignals(kernel, init)).toBe('exited');
    expect(init.group.exitStatus & 0x7f).toBe(Signal.SIGSEGV);
  });

  it('resets SA_RESETHAND handlers and honours SA_NODEFER', () => {
    const { kernel, init } = withHandler(SaFlag.SA_RESETHAND | SaFlag.SA_NODEFER);
    kernel.sendToTask(init, { signo: Signal.SIGUSR1, code: 0 });
    deliverSignals(kernel, init);
    expect(init.group.actions.get(Signal.SIGUSR1).handler).toBe(0n);
    expect(init.mask.has(Signal.SIGUSR1)).toBe(false);
  });

  it('stops on a default stop signal', () => {
    const { kernel, init } = bootTestKernel();
    kernel.sendToTask(init, { signo: Signal.SIGTSTP, code: 0 });
    expect(deliverSignals(kernel, init)).toBe('stopped');
    expect(init.group.stopped).toBe(true);
  });
});

describe('non-restart control results', () => {
  it('NO_RESULT and TASK_GONE never move rip back', () => {
    const { kernel, init } = bootTestKernel();
    init.regs.set('rip', 0x402002n);
    init.regs.set('rax', 5n);
    expect(deliverSignals(kernel, init, NO_RESULT)).toBe('run');
    expect(init.regs.get('rip')).toBe(0x402002n);
    expect(init.regs.get('rax')).toBe(5n);
  });
});
