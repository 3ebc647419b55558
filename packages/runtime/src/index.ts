// @tsvisor/runtime: assembles a sandbox (VFS and mounts, kernel, syscall table, ptrace platform)
// and runs the trap loop. See README.md.
export {
  createSandbox,
  Sandbox,
  SandboxError,
  exitCodeOf,
  type SandboxConfig,
  type Volume,
} from './sandbox.js';
export { Machine, type MachineOptions } from './machine.js';
export { TrapMemory } from './trap-memory.js';
export { applyHostOps, preadFully, ReaderMapFile, type ContentReader } from './host-memory.js';
export { loadProgram, vfsExecOpener, STACK_TOP, type LoadedImage } from './exec.js';
export { hostStdio, type HostIoctl } from './host-stdio.js';
export { Strace, type TraceSink } from './strace.js';
