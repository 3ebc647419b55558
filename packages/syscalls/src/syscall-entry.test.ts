import { E, SaFlag, SigSet, Signal, syscallByName } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { BUF, harness } from './harness.test-util.js';
import { createSyscallTable } from './index.js';
import { handleSyscall } from './syscall-entry.js';

const table = createSyscallTable();
const nr = (name: string): bigint => BigInt(syscallByName(name)?.nr ?? -1);

function trap(h: ReturnType<typeof harness>, name: string, ...args: bigint[]): void {
  const r = h.task.regs;
  r.set('orig_rax', nr(name));
  r.set('rax', nr(name));
  const names = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const;
  names.forEach((n, i) => r.set(n, args[i] ?? 0n));
  r.set('rip', 0x402002n); // just after the `syscall` instruction
}

describe('handleSyscall', () => {
  it('stores values and -errno in rax', async () => {
    const h = harness();
    trap(h, 'getpid');
    expect(await handleSyscall(table, h.task)).toBe('run');
    expect(h.task.regs.get('rax')).toBe(1n);
    trap(h, 'uname', 1n);
    await handleSyscall(table, h.task);
    expect(BigInt.asIntN(64, h.task.regs.get('rax'))).toBe(-14n);
  });

  it('an interrupted nanosleep runs the handler and fails with EINTR (even under SA_RESTART), as Linux', async () => {
    const h = harness();
    h.task.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: SaFlag.SA_RESTORER | SaFlag.SA_RESTART,
      restorer: 0x401800n,
      mask: new SigSet(),
    });
    h.mem.writeU64(BUF, 10n);
    h.mem.writeU64(BUF + 8, 0n);
    trap(h, 'nanosleep', BigInt(BUF), 0n);
    const p = handleSyscall(table, h.task);
    await Promise.resolve();
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await p).toBe('run');
    expect(h.task.regs.get('rip')).toBe(0x401000n);
    // The handler returns through the restorer: rt_sigreturn with rsp past pretcode.
    h.task.regs.set('rsp', h.task.regs.get('rsp') + 8n);
    h.task.regs.set('orig_rax', nr('rt_sigreturn'));
    expect(await handleSyscall(table, h.task)).toBe('run');
    expect(h.task.regs.get('rip')).toBe(0x402002n);
    expect(BigInt.asIntN(64, h.task.regs.get('rax'))).toBe(-BigInt(E.EINTR.errno));
  });

  it('an interrupted read restarts under SA_RESTART after the handler returns', async () => {
    const h = harness();
    h.task.group.actions.set(Signal.SIGUSR1, {
      handler: 0x401000n,
      flags: SaFlag.SA_RESTORER | SaFlag.SA_RESTART,
      restorer: 0x401800n,
      mask: new SigSet(),
    });
    trap(h, 'pipe2', BigInt(BUF), 0n);
    await handleSyscall(table, h.task);
    trap(h, 'read', BigInt(h.mem.readI32(BUF) as number), BigInt(BUF + 64), 1n);
    const p = handleSyscall(table, h.task);
    await Promise.resolve();
    h.kernel.sendToTask(h.task, { signo: Signal.SIGUSR1, code: 0 });
    expect(await p).toBe('run');
    h.task.regs.set('rsp', h.task.regs.get('rsp') + 8n);
    h.task.regs.set('orig_rax', nr('rt_sigreturn'));
    expect(await handleSyscall(table, h.task)).toBe('run');
    expect(h.task.regs.get('rip')).toBe(0x402000n);
    expect(h.task.regs.get('rax')).toBe(nr('read'));
  });

  it('reports a task that exited', async () => {
    const h = harness();
    trap(h, 'exit_group', 3n);
    expect(await handleSyscall(table, h.task)).toBe('exited');
    expect(await h.kernel.initExited).toBe(3 << 8);
  });

  it('logs a handler bug and answers EFAULT', async () => {
    const h = harness();
    const t = createSyscallTable();
    t.override(
      'getpid',
      () => {
        throw new Error('boom');
      },
      { level: 'full' },
    );
    trap(h, 'getpid');
    expect(await handleSyscall(t, h.task)).toBe('run');
    expect(BigInt.asIntN(64, h.task.regs.get('rax'))).toBe(-BigInt(E.EFAULT.errno));
    expect(h.logs[0]).toContain('bug: getpid threw');
  });
});
