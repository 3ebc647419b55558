/**
 * The native surface of the platform: the one place that loads and calls `trap_native.node`.
 * Everything here takes numbers, strings and caller-owned buffers; the addon decides nothing.
 *
 * The addon and the stub are found in `build/Release`, then `build/Debug`, of this package;
 * `TSVISOR_TRAP_NATIVE_DIR` overrides the directory (both files must be in it).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrapError } from './errors.js';

/** Event codes returned by `resume` and passed to the event callback. */
export const EV_PENDING = 0;
export const EV_SYSCALL = 1;
export const EV_FAULT = 2;
export const EV_SIGNAL = 3;
export const EV_EXITED = 4;
export const EV_KILLED = 5;

/** What `init` returns. */
export interface NativeInfo {
  readonly stubBase: number;
  readonly stubEnd: number;
  readonly xstateSize: number;
  readonly wakeSignal: number;
  readonly tracerTid: number;
  readonly cpu: number;
}

/**
 * The addon's functions. Task handles are host tids. Event details land in the `info` array
 * given to `init`: `[code, ...]` with, per code, syscall `[nr, a0..a5]`, fault `[signo, code,
 * addr]`, signal `[signo, code, pid, uid]`, exited `[status]`, killed `[signo, core]`.
 */
export interface NativeAddon {
  init(
    errorClass: new (code: string, message: string) => Error,
    info: Float64Array,
    onEvent: (tid: number, code: number) => void,
  ): NativeInfo;
  /** Pins the calling (tracer) thread to `cpu`, or restores its first saved mask with -1. */
  affinity(cpu: number): number;
  /** keepVdso leaves the host's [vdso], [vvar] and [vvar_vclock] mapped in the stub. */
  spawnStub(path: string, cloneFlags: number, fdMap: Int32Array, cpu: number, keepVdso?: boolean): number;
  /** Resumes under PTRACE_SYSEMU and waits up to budgetUs; EV_PENDING hands the wait to a helper thread. */
  resume(tid: number, budgetUs: number): number;
  getRegs(tid: number, out: BigUint64Array): void;
  cpuTicks(tgid: number, tid: number, out: Float64Array): number;
  clockOffset(): bigint;
  setRegs(tid: number, regs: BigUint64Array): void;
  setSyscallResult(tid: number, value: number | bigint): void;
  syncRegs(tid: number, regs: BigUint64Array): void;
  getFpRegs(tid: number, out: Uint8Array): number;
  setFpRegs(tid: number, state: Uint8Array): void;
  /** Bytes moved (possibly short), or -errno. */
  readMemory(tid: number, addr: number | bigint, buf: Uint8Array): number;
  writeMemory(tid: number, addr: number | bigint, buf: Uint8Array): number;
  readMemoryv(tid: number, addrs: Float64Array, bufs: readonly Uint8Array[]): number;
  writeMemoryv(tid: number, addrs: Float64Array, bufs: readonly Uint8Array[]): number;
  /** rax of the call run inside the task; -ESRCH if the task died during it. */
  hostSyscall(
    tid: number,
    nr: number,
    a0?: number | bigint,
    a1?: number | bigint,
    a2?: number | bigint,
    a3?: number | bigint,
    a4?: number | bigint,
    a5?: number | bigint,
  ): number;
  /** The new task's tid, or -errno. */
  hostClone(tid: number, flags: number): number;
  passFd(tid: number, hostFd: number): number;
  kill(tid: number): void;
  killSandbox(tid: number): void;
  /** Drops a task reaped by kill(); returns its death's event code (details in info). */
  forget(tid: number): number;
  /** The stopped tasks that died meanwhile (killed from outside); each one's next resume reports it. */
  reapStopped(): number[];
  /** [tgid, sandbox id, state: 0 stopped, 1 running, 2 dead]. */
  taskInfo(tid: number): [number, number, number];
  /** A new memfd (MFD_CLOEXEC | MFD_ALLOW_SEALING) of the supervisor, or -errno. */
  memfdCreate(name: string): number;
  /** fcntl(fd, F_ADD_SEALS, seals): 0 or -errno. */
  memfdAddSeals(fd: number, seals: number): number;
  // Host sockets (native/host-socket.cc): each returns its result or -errno.
  sockSocket(domain: number, type: number, protocol: number): number;
  sockBind(fd: number, addr: Uint8Array): number;
  sockConnect(fd: number, addr: Uint8Array): number;
  sockListen(fd: number, backlog: number): number;
  sockAccept(fd: number, flags: number): number;
  /** The full address length; at most out.length bytes stored. */
  sockName(fd: number, peer: 0 | 1, out: Uint8Array): number;
  /** `control`: msg_control bytes (cmsgs), none when absent or null. */
  sockSend(
    fd: number,
    data: Uint8Array,
    addr: Uint8Array | null,
    flags: number,
    control?: Uint8Array | null,
  ): number;
  /**
   * meta[0] = the sender address's length, meta[1] = msg_flags; with `control` (then meta has 3
   * elements) meta[2] = the cmsg bytes stored in it.
   */
  sockRecv(
    fd: number,
    buf: Uint8Array,
    flags: number,
    addr: Uint8Array,
    meta: Int32Array,
    control?: Uint8Array | null,
  ): number;
  sockSetOpt(fd: number, level: number, name: number, value: Uint8Array): number;
  /** The value's length. */
  sockGetOpt(fd: number, level: number, name: number, out: Uint8Array): number;
  sockShutdown(fd: number, how: number): number;
  /** The int an ioctl stores at its argument. */
  ioctlInt(fd: number, cmd: number): number;
  /** poll(2) of one fd with a zero timeout: revents. */
  fdPoll(fd: number, events: number): number;
  fdWatchInit(dispatch: (id: number, events: number) => void): void;
  /** A disarmed readiness watch of fd on libuv's epoll: its id. */
  fdWatch(fd: number): number;
  /** One report of any of `events` (1 readable, 2 writable, 4 hung up, 8 priority); 0 disarms. */
  fdWatchArm(id: number, events: number): number;
  /** A report (events | 1 << 30) at each wakeup of the fd by any of the epoll `events`; 0 stops. */
  fdWatchEdges(id: number, events: number): number;
  fdUnwatch(id: number): void;
  // Host filesystem calls (native/host-fs.cc): each returns its result or -errno.
  hostMknodat(dirFd: number, name: string, mode: number, dev: number): number;
  hostRenameat2(oldDirFd: number, oldName: string, newDirFd: number, newName: string, flags: number): number;
  hostGetxattr(dirFd: number, name: string | null, attr: string): Uint8Array | number;
  hostSetxattr(dirFd: number, name: string | null, attr: string, value: Uint8Array, flags: number): number;
  hostListxattr(dirFd: number, name: string | null): string[] | number;
  hostRemovexattr(dirFd: number, name: string | null, attr: string): number;
  hostLseek(fd: number, offset: number, whence: number): number;
  hostFallocate(fd: number, mode: number, offset: number, len: number): number;
}

/** Where the native files are. */
function nativeDir(): string {
  const override = process.env['TSVISOR_TRAP_NATIVE_DIR'];
  if (override) return override;
  // This file is src/native.native.ts or dist/native.native.js: the package root is one up.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  for (const kind of ['Release', 'Debug']) {
    const dir = join(root, 'build', kind);
    if (existsSync(join(dir, 'trap_native.node'))) return dir;
  }
  throw new TrapError('ENOENT', `trap_native.node not built under ${root}/build (run npm run build)`);
}

/** The loaded addon, the shared event info array and the stub path; loaded once per thread. */
export interface Native {
  readonly addon: NativeAddon;
  readonly info: Float64Array;
  readonly stubPath: string;
  readonly facts: NativeInfo;
}

let loaded: Native | undefined;
let eventSink: ((tid: number, code: number) => void) | undefined;

/** Sets the function that receives events of tasks whose wait went to the helper thread. */
export function setEventSink(sink: (tid: number, code: number) => void): void {
  eventSink = sink;
}

/** Loads the addon on first use (on this thread, which becomes the tracer). */
export function native(): Native {
  if (loaded) return loaded;
  const dir = nativeDir();
  const require = createRequire(import.meta.url);
  const addon = require(join(dir, 'trap_native.node')) as NativeAddon;
  const info = new Float64Array(8);
  const facts = addon.init(TrapError, info, (tid, code) => eventSink?.(tid, code));
  loaded = { addon, info, stubPath: join(dir, 'tsvisor-stub'), facts };
  return loaded;
}
