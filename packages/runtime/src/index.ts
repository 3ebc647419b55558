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
export {
  Gateway,
  SANDBOX_ADDRESS,
  GATEWAY_ADDRESS,
  DNS_ADDRESS,
  SANDBOX_ADDRESS6,
  GATEWAY_ADDRESS6,
  DNS_ADDRESS6,
  type PortForward,
  type GatewayLog,
  type GatewayOptions,
  type Resolver,
  type Nameserver,
  type NameserverConfig,
  hostResolver,
  parseResolvConf,
  readResolvConf,
} from './gateway/gateway.js';
export { Machine, type MachineOptions } from './machine.js';
export { probeHostCgroup, type HostCgroupProbe, type LimitMode } from './cgroup.js';
export { TrapMemory } from './trap-memory.js';
export { applyHostOps, attachHostMemory, memfdHostMemory, preadFully } from './host-memory.js';
export { spawnFirstProgram, STACK_TOP } from './exec.js';
export { hostStdio, type HostIoctl } from './host-stdio.js';
export { Strace, type TraceSink } from './strace.js';
