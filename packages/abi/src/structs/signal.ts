/**
 * Signal structs as the x86-64 kernel sees them: the 8-byte kernel `sigset_t`, the kernel's
 * `struct sigaction` that rt_sigaction(2) takes (handler, flags, restorer, mask: not glibc's
 * layout), `stack_t`, the 128-byte `siginfo_t` with its per-(signal, code) union layouts, and what
 * an rt signal frame holds: `sigcontext`, the 512-byte fxsave area (`_fpstate_64`) with its
 * software bytes, the xsave header, `ucontext` and `rt_sigframe`, plus the frame placement rule of
 * get_sigframe.
 *
 * Registers, handler and restorer addresses, stack pointers and sigval are `bigint`: the kernel
 * saves them and hands them back bit for bit.
 *
 * @module
 */

import { E, type LinuxError } from '../errno.js';
import {
  at,
  bytes,
  checkRange,
  dataView,
  defineStruct,
  i32,
  i64n,
  struct,
  u16,
  u32,
  u64,
  u64n,
  type FieldInfo,
  type FixedStruct,
  type StructValue,
} from './layout.js';

/** The kernel's signal set: 64 bits, bit `n - 1` for signal `n` (`bigint`). */
export const sigset: FixedStruct<bigint> = Object.freeze({
  name: 'sigset',
  size: 8,
  fields: [],
  spec: [],
  read: (dv: DataView, at: number) => dv.getBigUint64(at, true),
  write: (dv: DataView, at: number, v: bigint) => dv.setBigUint64(at, BigInt.asUintN(64, v), true),
  parse(buf: Uint8Array, offset = 0): bigint | LinuxError {
    const bad = checkRange(buf, offset, 8);
    if (bad) return bad;
    return dataView(buf).getBigUint64(offset, true);
  },
  emit(v: bigint, buf: Uint8Array, offset = 0): number | LinuxError {
    const bad = checkRange(buf, offset, 8);
    if (bad) return bad;
    dataView(buf).setBigUint64(offset, BigInt.asUintN(64, v), true);
    return 8;
  },
  encode(v: bigint): Uint8Array {
    const out = new Uint8Array(8);
    dataView(out).setBigUint64(0, BigInt.asUintN(64, v), true);
    return out;
  },
});

/**
 * The kernel's `struct sigaction` for rt_sigaction(2) on x86-64 (32 bytes): `sa_handler`,
 * `sa_flags`, `sa_restorer`, `sa_mask` in that order (the uapi asm/signal.h declares it so).
 * All four are `bigint`: the kernel stores them and returns them verbatim as `oldact`.
 */
export const kernel_sigaction = defineStruct('kernel_sigaction', 32, {
  sa_handler: at(0, u64),
  sa_flags: at(8, u64),
  sa_restorer: at(16, u64),
  sa_mask: at(24, u64),
});
/** A kernel sigaction value. */
export type KernelSigaction = StructValue<typeof kernel_sigaction>;

/** `stack_t` (24 bytes), for sigaltstack(2) and `uc_stack`; `ss_sp` and `ss_size` are `bigint` (kept and returned verbatim). */
export const stack_t = defineStruct('stack_t', 24, {
  ss_sp: at(0, u64),
  ss_flags: at(8, i32),
  ss_size: at(16, u64),
});
/** A `stack_t` value. */
export type StackT = StructValue<typeof stack_t>;

// ---- siginfo ----

/** si_code values that choose a siginfo layout (the public names live in signals.ts). */
const SiCode = Object.freeze({
  SI_USER: 0,
  SI_KERNEL: 0x80,
  SI_QUEUE: -1,
  SI_TIMER: -2,
  SI_MESGQ: -3,
  SI_ASYNCIO: -4,
  SI_SIGIO: -5,
  SI_TKILL: -6,
  BUS_MCEERR_AR: 4,
  BUS_MCEERR_AO: 5,
  SEGV_BNDERR: 3,
  SEGV_PKUERR: 4,
  TRAP_PERF: 6,
} as const);

/** Which member of the siginfo union a (signal, code) pair uses, as the kernel's siginfo_layout. */
export type SiginfoLayout =
  | 'kill'
  | 'timer'
  | 'poll'
  | 'fault'
  | 'fault-mceerr'
  | 'fault-bnderr'
  | 'fault-pkuerr'
  | 'perf'
  | 'chld'
  | 'rt'
  | 'sys';

const SIGILL = 4;
const SIGTRAP = 5;
const SIGBUS = 7;
const SIGFPE = 8;
const SIGSEGV = 11;
const SIGCHLD = 17;
const SIGPOLL = 29;
const SIGSYS = 31;
const NSIGPOLL = 6;

/** The highest si_code per signal that has a dedicated layout (kernel `sig_sicodes`). */
const sicodeLimits: ReadonlyMap<number, [number, SiginfoLayout]> = new Map([
  [SIGILL, [11, 'fault']],
  [SIGFPE, [15, 'fault']],
  [SIGSEGV, [10, 'fault']],
  [SIGBUS, [5, 'fault']],
  [SIGTRAP, [6, 'fault']],
  [SIGCHLD, [6, 'chld']],
  [SIGPOLL, [NSIGPOLL, 'poll']],
  [SIGSYS, [2, 'sys']],
]);

/** The siginfo union member a signal and code select (kernel/signal.c siginfo_layout). */
export function siginfoLayout(signo: number, code: number): SiginfoLayout {
  if (code > SiCode.SI_USER && code < SiCode.SI_KERNEL) {
    const limit = sicodeLimits.get(signo);
    if (limit && code <= limit[0]) {
      if (signo === SIGBUS && (code === SiCode.BUS_MCEERR_AR || code === SiCode.BUS_MCEERR_AO)) {
        return 'fault-mceerr';
      }
      if (signo === SIGSEGV && code === SiCode.SEGV_BNDERR) return 'fault-bnderr';
      if (signo === SIGSEGV && code === SiCode.SEGV_PKUERR) return 'fault-pkuerr';
      if (signo === SIGTRAP && code === SiCode.TRAP_PERF) return 'perf';
      return limit[1];
    }
    if (code <= NSIGPOLL) return 'poll';
    return 'kill';
  }
  if (code === SiCode.SI_TIMER) return 'timer';
  if (code === SiCode.SI_SIGIO) return 'poll';
  if (code < 0) return 'rt';
  return 'kill';
}

interface SiginfoHead {
  si_signo: number;
  si_errno: number;
  si_code: number;
}

/** A siginfo value: the common head plus the fields of its layout. */
export type Siginfo = SiginfoHead &
  (
    | { layout: 'kill'; si_pid: number; si_uid: number }
    | { layout: 'timer'; si_tid: number; si_overrun: number; si_value: bigint }
    | { layout: 'rt'; si_pid: number; si_uid: number; si_value: bigint }
    | {
        layout: 'chld';
        si_pid: number;
        si_uid: number;
        si_status: number;
        si_utime: number;
        si_stime: number;
      }
    | { layout: 'fault'; si_addr: bigint }
    | { layout: 'fault-mceerr'; si_addr: bigint; si_addr_lsb: number }
    | { layout: 'fault-bnderr'; si_addr: bigint; si_lower: bigint; si_upper: bigint }
    | { layout: 'fault-pkuerr'; si_addr: bigint; si_pkey: number }
    | { layout: 'perf'; si_addr: bigint; si_perf_data: bigint; si_perf_type: number; si_perf_flags: number }
    | { layout: 'poll'; si_band: number; si_fd: number }
    | { layout: 'sys'; si_call_addr: bigint; si_syscall: number; si_arch: number }
  );

/** Size of siginfo_t (SI_MAX_SIZE). */
export const SIGINFO_SIZE = 128;

const siginfoFields: readonly FieldInfo[] = [
  { name: 'si_signo', offset: 0, size: 4, kind: 'i32' },
  { name: 'si_errno', offset: 4, size: 4, kind: 'i32' },
  { name: 'si_code', offset: 8, size: 4, kind: 'i32' },
  { name: 'si_pid', offset: 16, size: 4, kind: 'i32' },
  { name: 'si_uid', offset: 20, size: 4, kind: 'u32' },
  { name: 'si_tid', offset: 16, size: 4, kind: 'i32' },
  { name: 'si_overrun', offset: 20, size: 4, kind: 'i32' },
  { name: 'si_value', offset: 24, size: 8, kind: 'u64' },
  { name: 'si_status', offset: 24, size: 4, kind: 'i32' },
  { name: 'si_utime', offset: 32, size: 8, kind: 'i64n' },
  { name: 'si_stime', offset: 40, size: 8, kind: 'i64n' },
  { name: 'si_addr', offset: 16, size: 8, kind: 'u64' },
  { name: 'si_addr_lsb', offset: 24, size: 2, kind: 'i16' },
  { name: 'si_lower', offset: 32, size: 8, kind: 'u64' },
  { name: 'si_upper', offset: 40, size: 8, kind: 'u64' },
  { name: 'si_pkey', offset: 32, size: 4, kind: 'u32' },
  { name: 'si_perf_data', offset: 24, size: 8, kind: 'u64' },
  { name: 'si_perf_type', offset: 32, size: 4, kind: 'u32' },
  { name: 'si_perf_flags', offset: 36, size: 4, kind: 'u32' },
  { name: 'si_band', offset: 16, size: 8, kind: 'i64n' },
  { name: 'si_fd', offset: 24, size: 4, kind: 'i32' },
  { name: 'si_call_addr', offset: 16, size: 8, kind: 'u64' },
  { name: 'si_syscall', offset: 24, size: 4, kind: 'i32' },
  { name: 'si_arch', offset: 28, size: 4, kind: 'u32' },
];

function readSiginfo(dv: DataView, p: number): Siginfo {
  const head: SiginfoHead = {
    si_signo: dv.getInt32(p, true),
    si_errno: dv.getInt32(p + 4, true),
    si_code: dv.getInt32(p + 8, true),
  };
  const layout = siginfoLayout(head.si_signo, head.si_code);
  const i32at = (o: number) => dv.getInt32(p + o, true);
  const u32at = (o: number) => dv.getUint32(p + o, true);
  const u64at = (o: number) => dv.getBigUint64(p + o, true);
  switch (layout) {
    case 'kill':
      return { ...head, layout, si_pid: i32at(16), si_uid: u32at(20) };
    case 'timer':
      return { ...head, layout, si_tid: i32at(16), si_overrun: i32at(20), si_value: u64at(24) };
    case 'rt':
      return { ...head, layout, si_pid: i32at(16), si_uid: u32at(20), si_value: u64at(24) };
    case 'chld':
      return {
        ...head,
        layout,
        si_pid: i32at(16),
        si_uid: u32at(20),
        si_status: i32at(24),
        si_utime: i64n.read(dv, p + 32),
        si_stime: i64n.read(dv, p + 40),
      };
    case 'fault':
      return { ...head, layout, si_addr: u64at(16) };
    case 'fault-mceerr':
      return { ...head, layout, si_addr: u64at(16), si_addr_lsb: dv.getInt16(p + 24, true) };
    case 'fault-bnderr':
      return { ...head, layout, si_addr: u64at(16), si_lower: u64at(32), si_upper: u64at(40) };
    case 'fault-pkuerr':
      return { ...head, layout, si_addr: u64at(16), si_pkey: u32at(32) };
    case 'perf':
      return {
        ...head,
        layout,
        si_addr: u64at(16),
        si_perf_data: u64at(24),
        si_perf_type: u32at(32),
        si_perf_flags: u32at(36),
      };
    case 'poll':
      return { ...head, layout, si_band: i64n.read(dv, p + 16), si_fd: i32at(24) };
    case 'sys':
      return { ...head, layout, si_call_addr: u64at(16), si_syscall: i32at(24), si_arch: u32at(28) };
  }
}

function writeSiginfo(dv: DataView, p: number, v: Siginfo): void {
  new Uint8Array(dv.buffer, dv.byteOffset + p, SIGINFO_SIZE).fill(0);
  dv.setInt32(p, v.si_signo, true);
  dv.setInt32(p + 4, v.si_errno, true);
  dv.setInt32(p + 8, v.si_code, true);
  const i32to = (o: number, x: number) => dv.setInt32(p + o, x, true);
  const u32to = (o: number, x: number) => dv.setUint32(p + o, x, true);
  const u64to = (o: number, x: bigint) => dv.setBigUint64(p + o, BigInt.asUintN(64, x), true);
  switch (v.layout) {
    case 'kill':
      i32to(16, v.si_pid);
      u32to(20, v.si_uid);
      break;
    case 'timer':
      i32to(16, v.si_tid);
      i32to(20, v.si_overrun);
      u64to(24, v.si_value);
      break;
    case 'rt':
      i32to(16, v.si_pid);
      u32to(20, v.si_uid);
      u64to(24, v.si_value);
      break;
    case 'chld':
      i32to(16, v.si_pid);
      u32to(20, v.si_uid);
      i32to(24, v.si_status);
      u64n.write(dv, p + 32, v.si_utime);
      u64n.write(dv, p + 40, v.si_stime);
      break;
    case 'fault':
      u64to(16, v.si_addr);
      break;
    case 'fault-mceerr':
      u64to(16, v.si_addr);
      dv.setInt16(p + 24, v.si_addr_lsb, true);
      break;
    case 'fault-bnderr':
      u64to(16, v.si_addr);
      u64to(32, v.si_lower);
      u64to(40, v.si_upper);
      break;
    case 'fault-pkuerr':
      u64to(16, v.si_addr);
      u32to(32, v.si_pkey);
      break;
    case 'perf':
      u64to(16, v.si_addr);
      u64to(24, v.si_perf_data);
      u32to(32, v.si_perf_type);
      u32to(36, v.si_perf_flags);
      break;
    case 'poll':
      u64n.write(dv, p + 16, v.si_band);
      i32to(24, v.si_fd);
      break;
    case 'sys':
      u64to(16, v.si_call_addr);
      i32to(24, v.si_syscall);
      u32to(28, v.si_arch);
      break;
  }
}

/**
 * `siginfo_t` (128 bytes). `parse` reads the head and the union member that
 * {@link siginfoLayout} selects for (si_signo, si_code); bytes outside that member are not part of
 * the value, so code that must pass a user-supplied siginfo through verbatim (rt_sigqueueinfo)
 * keeps the raw bytes. `emit` writes the member named by `layout` and zeroes the rest.
 *
 * `bigint`: `si_value` (sigval, a user cookie) and every address (`si_addr`, `si_lower`,
 * `si_upper`, `si_call_addr`, `si_perf_data`). `number`: `si_utime`, `si_stime` (clock ticks) and
 * `si_band`.
 */
export const siginfo: FixedStruct<Siginfo> = Object.freeze({
  name: 'siginfo',
  size: SIGINFO_SIZE,
  fields: siginfoFields,
  spec: [],
  read: readSiginfo,
  write: writeSiginfo,
  parse(buf: Uint8Array, offset = 0): Siginfo | LinuxError {
    const bad = checkRange(buf, offset, SIGINFO_SIZE);
    if (bad) return bad;
    return readSiginfo(dataView(buf), offset);
  },
  emit(v: Siginfo, buf: Uint8Array, offset = 0): number | LinuxError {
    const bad = checkRange(buf, offset, SIGINFO_SIZE);
    if (bad) return bad;
    writeSiginfo(dataView(buf), offset, v);
    return SIGINFO_SIZE;
  },
  encode(v: Siginfo): Uint8Array {
    const out = new Uint8Array(SIGINFO_SIZE);
    writeSiginfo(dataView(out), 0, v);
    return out;
  },
});

// ---- the signal frame ----

/**
 * `struct sigcontext` for x86-64 (256 bytes): the registers saved in `uc_mcontext`. Registers and
 * the u64 words are `bigint`; `fpstate` is a `number` (a user address sigreturn reads at once).
 */
export const sigcontext = defineStruct('sigcontext', 256, {
  r8: at(0, u64),
  r9: at(8, u64),
  r10: at(16, u64),
  r11: at(24, u64),
  r12: at(32, u64),
  r13: at(40, u64),
  r14: at(48, u64),
  r15: at(56, u64),
  rdi: at(64, u64),
  rsi: at(72, u64),
  rbp: at(80, u64),
  rbx: at(88, u64),
  rdx: at(96, u64),
  rax: at(104, u64),
  rcx: at(112, u64),
  rsp: at(120, u64),
  rip: at(128, u64),
  eflags: at(136, u64),
  cs: at(144, u16),
  gs: at(146, u16),
  fs: at(148, u16),
  /** `ss` when UC_SIGCONTEXT_SS is set in uc_flags (`__pad0` for older user space). */
  ss: at(150, u16),
  err: at(152, u64),
  trapno: at(160, u64),
  oldmask: at(168, u64),
  cr2: at(176, u64),
  /** User address of the FP state (0 when none). */
  fpstate: at(184, u64n),
  reserved1: at(192, bytes(64)),
});
/** A `struct sigcontext` value. */
export type Sigcontext = StructValue<typeof sigcontext>;

/** FP_XSTATE_MAGIC1: `sw_reserved.magic1` when an xsave area follows the fxsave area. */
export const FP_XSTATE_MAGIC1 = 0x46505853;
/** FP_XSTATE_MAGIC2: the 4 bytes written just after the xsave area. */
export const FP_XSTATE_MAGIC2 = 0x46505845;
/** Size of the trailing MAGIC2 word. */
export const FP_XSTATE_MAGIC2_SIZE = 4;
/** uc_flags: the frame's FP state is in xsave format. */
export const UC_FP_XSTATE = 0x1;
/** uc_flags: `ss` in sigcontext is valid. */
export const UC_SIGCONTEXT_SS = 0x2;
/** uc_flags: sigreturn restores `ss` strictly. */
export const UC_STRICT_RESTORE_SS = 0x4;

/** `struct _fpx_sw_bytes` (48 bytes): the software-reserved tail of the fxsave area. */
export const fpx_sw_bytes = defineStruct('fpx_sw_bytes', 48, {
  magic1: at(0, u32),
  /** Whole FP frame size: the xsave area plus FP_XSTATE_MAGIC2_SIZE. */
  extended_size: at(4, u32),
  xfeatures: at(8, u64),
  /** Size of the xsave area proper. */
  xstate_size: at(16, u32),
  padding: at(20, bytes(28)),
});
/** A `struct _fpx_sw_bytes` value. */
export type FpxSwBytes = StructValue<typeof fpx_sw_bytes>;

/** `struct _fpstate_64` (512 bytes): the legacy fxsave area at the start of every FP frame. */
export const fpstate = defineStruct('fpstate', 512, {
  cwd: at(0, u16),
  swd: at(2, u16),
  twd: at(4, u16),
  fop: at(6, u16),
  rip: at(8, u64),
  rdp: at(16, u64),
  mxcsr: at(24, u32),
  mxcsr_mask: at(28, u32),
  /** 8 x87 registers, 16 bytes each. */
  st_space: at(32, bytes(128)),
  /** 16 XMM registers, 16 bytes each. */
  xmm_space: at(160, bytes(256)),
  reserved2: at(416, bytes(48)),
  sw_reserved: at(464, struct(fpx_sw_bytes)),
});
/** A `struct _fpstate_64` value. */
export type Fpstate = StructValue<typeof fpstate>;

/** `struct _header` (64 bytes): the xsave header right after the fxsave area. */
export const xstate_header = defineStruct('xstate_header', 64, {
  xfeatures: at(0, u64),
  /** `reserved1[0]` is XCOMP_BV in the hardware layout (0 for the standard format the kernel uses). */
  reserved1: at(8, bytes(16)),
  reserved2: at(24, bytes(40)),
});
/** A `struct _header` value. */
export type XstateHeader = StructValue<typeof xstate_header>;

/** The kernel's `struct ucontext` for x86-64 (304 bytes; its sigmask is the 8-byte kernel set). */
export const ucontext = defineStruct('ucontext', 304, {
  uc_flags: at(0, u64),
  uc_link: at(8, u64),
  uc_stack: at(16, struct(stack_t)),
  uc_mcontext: at(40, struct(sigcontext)),
  uc_sigmask: at(296, struct(sigset)),
});
/** A `struct ucontext` value. */
export type Ucontext = StructValue<typeof ucontext>;

/**
 * `struct rt_sigframe` for x86-64 (440 bytes; arch/x86/include/asm/sigframe.h, no uapi header):
 * the return address (`pretcode`, the sa_restorer), then `uc` and `info`. The FP state is not
 * inside it; {@link rtSigframeLayout} places it.
 */
export const rt_sigframe = defineStruct('rt_sigframe', 440, {
  pretcode: at(0, u64),
  uc: at(8, struct(ucontext)),
  info: at(312, struct(siginfo)),
});
/** A `struct rt_sigframe` value. */
export type RtSigframe = StructValue<typeof rt_sigframe>;

/** The x86-64 red zone the frame skips below the interrupted stack pointer. */
export const REDZONE = 128;

/** Where a signal frame goes on the chosen stack. */
export interface SigframeLayout {
  /** Address of `struct rt_sigframe`: the handler's initial rsp. */
  frame: number;
  /** Address of the FP state (64-byte aligned), stored in `uc_mcontext.fpstate`. */
  fpstate: number;
}

/**
 * Places an rt signal frame as get_sigframe does: skip the red zone, reserve the FP state
 * (`fpstateSize` bytes: 512 for fxsave only, or the xsave size plus FP_XSTATE_MAGIC2_SIZE) rounded
 * down to 64, then the frame rounded down to 16 minus 8, so that on entry to the handler
 * `(rsp + 8) % 16 === 0` as after a call. `sp` is the stack top chosen (altstack or current rsp).
 * An `sp` or size that is not a non-negative integer, or a frame that would go below 0, gives
 * `E.EFAULT`.
 */
export function rtSigframeLayout(sp: number, fpstateSize: number): SigframeLayout | LinuxError {
  if (!Number.isSafeInteger(sp) || !Number.isSafeInteger(fpstateSize) || fpstateSize < 0) return E.EFAULT;
  const fp = Math.floor((sp - REDZONE - fpstateSize) / 64) * 64;
  const frame = Math.floor((fp - rt_sigframe.size) / 16) * 16 - 8;
  if (frame < 0) return E.EFAULT;
  return { frame, fpstate: fp };
}
