/**
 * The CPU state of a task as the platform reports it: the x86-64 general registers in the
 * order of `struct user_regs_struct` (what `PTRACE_GETREGS` fills), the FS/GS bases, and the
 * floating-point/extended state as an opaque image (`fxsave`, or `xsave` with its feature mask).
 *
 * The kernel reads and writes it for syscall arguments and results, signal frames, rt_sigreturn,
 * arch_prctl, clone (new stack, new TLS, child's rax = 0) and execve (fresh registers). The
 * runtime copies it to and from the platform around each switch into the task.
 *
 * @module
 */

import { USER_REGS_COUNT, UserReg, type UserRegName } from '@tsvisor/abi';

/** Register slots of `struct user_regs_struct` (x86-64), in order. */
export const REG = UserReg;

/** A register name of {@link REG}. */
export type RegName = UserRegName;

/** Number of 64-bit slots in `struct user_regs_struct`. */
export { USER_REGS_COUNT };

/** User code segment selector on x86-64 Linux (`__USER_CS`). */
export const USER_CS = 0x33n;
/** User data/stack segment selector on x86-64 Linux (`__USER_DS`). */
export const USER_DS = 0x2bn;
/** The eflags value of a fresh user thread: IF set plus the always-one bit 1. */
export const INITIAL_EFLAGS = 0x202n;

/**
 * The FP/SIMD state image. `xsave` is false for a 512-byte `fxsave` image; when true the image is
 * an XSAVE area (512-byte legacy region, 64-byte header, extended components) of `bytes.length`
 * bytes holding the components in `xfeatures`.
 */
export interface FpState {
  bytes: Uint8Array;
  xsave: boolean;
  xfeatures: bigint;
}

/**
 * The full user-visible CPU state of one task.
 *
 * @example
 * ```ts
 * const cpu = CpuState.fresh(0x401000, 0x7ffffffde000);
 * cpu.get('rip'); // 0x401000n
 * cpu.setSyscallResult(-2); // rax = -ENOENT
 * ```
 */
export class CpuState {
  constructor(
    /** `struct user_regs_struct` slots as unsigned 64-bit values (see {@link REG}). */
    readonly regs: BigUint64Array = new BigUint64Array(USER_REGS_COUNT),
    /** The FP state image; a fresh task has the `fninit`/`ldmxcsr 0x1f80` defaults. */
    public fp: FpState = defaultFpState(),
  ) {
    if (regs.length !== USER_REGS_COUNT) throw new RangeError('user_regs_struct has 27 slots');
  }

  /** The state of a new thread after execve: everything zero but rip, rsp, segments and eflags. */
  static fresh(rip: number | bigint, rsp: number | bigint): CpuState {
    const cpu = new CpuState();
    cpu.set('rip', BigInt(rip));
    cpu.set('rsp', BigInt(rsp));
    cpu.set('cs', USER_CS);
    cpu.set('ss', USER_DS);
    cpu.set('eflags', INITIAL_EFLAGS);
    return cpu;
  }

  /** A deep copy (fork/clone give the child a copy of the parent's registers). */
  clone(): CpuState {
    return new CpuState(new BigUint64Array(this.regs), {
      bytes: new Uint8Array(this.fp.bytes),
      xsave: this.fp.xsave,
      xfeatures: this.fp.xfeatures,
    });
  }

  /** Reads a register as an unsigned 64-bit value. */
  get(name: RegName): bigint {
    return this.regs[REG[name]] as bigint;
  }

  /** Writes a register; negative values are stored in two's complement. */
  set(name: RegName, value: bigint): void {
    this.regs[REG[name]] = BigInt.asUintN(64, value);
  }

  /** The syscall number (`orig_rax`; rax is overwritten by the result). */
  get syscallNr(): number {
    return Number(BigInt.asIntN(64, this.get('orig_rax')));
  }

  /** The six syscall arguments in the x86-64 convention: rdi, rsi, rdx, r10, r8, r9. */
  syscallArgs(): [bigint, bigint, bigint, bigint, bigint, bigint] {
    const r = this.regs;
    return [
      r[REG.rdi] as bigint,
      r[REG.rsi] as bigint,
      r[REG.rdx] as bigint,
      r[REG.r10] as bigint,
      r[REG.r8] as bigint,
      r[REG.r9] as bigint,
    ];
  }

  /** Stores a syscall result in rax (`-errno` for errors). */
  setSyscallResult(value: number | bigint): void {
    this.set('rax', BigInt(value));
  }
}

/** The FP state of a fresh task: x87 control word 0x37f, MXCSR 0x1f80, everything else zero. */
export function defaultFpState(): FpState {
  const bytes = new Uint8Array(512);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 0x37f, true); // FCW
  view.setUint32(24, 0x1f80, true); // MXCSR
  view.setUint32(28, 0xffff, true); // MXCSR_MASK as the CPU reports it
  return { bytes, xsave: false, xfeatures: 3n };
}
