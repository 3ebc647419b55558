export { Platform, Stub, Task, STUB_REGION } from './platform.js';
export type { Placement, PlatformOptions, StubOptions, StubNamespaces } from './platform.js';
export { Registers, REG, REGISTER_COUNT } from './registers.js';
export type { RegisterName } from './registers.js';
export { TrapError } from './errors.js';
export type { TrapErrorCode } from './errors.js';
export type { TaskEvent, SyscallEvent, FaultEvent, SignalEvent, ExitEvent, KilledEvent } from './events.js';
