export { TrapMemory } from './trap-memory.js';
export { Machine, type MachineOptions } from './machine.js';
export { applyHostOps, ReaderMapFile, type ContentReader } from './host-memory.js';
export { loadProgram, vfsExecOpener, STACK_TOP, type LoadedImage } from './exec.js';
export { Strace, type TraceSink } from './strace.js';
export {
  createSandbox,
  Sandbox,
  SandboxError,
  exitCodeOf,
  type SandboxConfig,
  type Volume,
} from './sandbox.js';
export { hostStdio } from './host-stdio.js';
