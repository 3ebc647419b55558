// The example of README.md, verbatim apart from the imports: it must keep working.
import { expect, it } from 'vitest';
import { isError } from '@tsvisor/abi';
import { Platform } from './index.js';

it('runs the README example', async () => {
  const log: string[] = [];
  const console = { log: (...a: unknown[]) => log.push(a.join(' ')) };

  // --- README example start ---
  const platform = Platform.create(); // this thread becomes the tracer
  const stub = platform.createStub(); // an empty host process, stopped
  const task = stub.task;

  // Map a page inside the stub and put code in it: getppid(); exit_group(result).
  const code = Uint8Array.from([
    0xb8,
    0x6e,
    0,
    0,
    0,
    0x0f,
    0x05, // mov $110, %eax; syscall
    0x48,
    0x89,
    0xc7, // mov %rax, %rdi
    0xb8,
    0xe7,
    0,
    0,
    0,
    0x0f,
    0x05, // mov $231, %eax; syscall
  ]);
  const at = task.hostSyscall(9, 0x400000, 4096, 7, 0x32, -1, 0); // mmap RWX, fixed, private, anon
  if (isError(task.writeMemory(at, code))) throw new Error('write failed');
  const regs = task.getRegs();
  regs.set('rip', at);
  task.setRegs(regs);

  for (;;) {
    const ev = await task.switch();
    if (ev.kind !== 'syscall') break;
    console.log('syscall', ev.nr, ev.args[0]);
    if (ev.nr === 110) task.setSyscallResult(42); // answer getppid() from TypeScript
    if (ev.nr === 231) task.hostSyscall(231, ev.args[0]); // let the host end the process
  }
  stub.kill();
  platform.close();
  // --- README example end ---

  expect(log).toEqual(['syscall 110 0', 'syscall 231 42']);
});
