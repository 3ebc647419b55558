export { Platform, Stub, Task, STUB_REGION } from './platform.js';
export type {
  Placement,
  PlatformOptions,
  StubOptions,
  StubNamespaces,
  VdsoLayout,
  VdsoRange,
} from './platform.js';
export { Registers, REG, REGISTER_COUNT } from './registers.js';
export type { RegisterName } from './registers.js';
export { TrapError } from './errors.js';
export type { TrapErrorCode } from './errors.js';
export type { TaskEvent, SyscallEvent, FaultEvent, SignalEvent, ExitEvent, KilledEvent } from './events.js';
export { memfdCreate, memfdAddSeals } from './memfd.js';
export { hostClockOffsetNs } from './clock.js';
export { hostSockets } from './host-socket.js';
export type { HostSocketCalls, HostFdWatch } from './host-socket.js';
export { hostFsCalls } from './host-fs.js';
export type { HostFsCalls } from './host-fs.js';
