/**
 * The x86-64 user register set (`struct user_regs_struct` of `<sys/user.h>`), as 27 unsigned
 * 64-bit words in the kernel's order, with named accessors.
 *
 * @module
 */

import { USER_REGS_COUNT, UserReg, type UserRegName } from '@tsvisor/abi';

/** Index of each register in {@link Registers.raw}, in `user_regs_struct` order. */
export const REG = UserReg;

/** A register name of `user_regs_struct`. */
export type RegisterName = UserRegName;

/** Number of 64-bit words in `user_regs_struct`. */
export const REGISTER_COUNT = USER_REGS_COUNT;

/**
 * A reusable register set. `raw` is what the platform copies in and out; the named accessors
 * read and write it as bigints (raw 64-bit values) or as numbers (`getNumber`, exact for values
 * below 2^53, which covers every user address).
 *
 * @example
 * ```ts
 * const regs = task.getRegs();
 * regs.rax = 42n;            // the value the program will see
 * regs.set('rip', entry);    // numbers are accepted too
 * task.setRegs(regs);
 * ```
 */
export class Registers {
  /** The 27 words, in kernel order; index with {@link REG}. */
  readonly raw = new BigUint64Array(REGISTER_COUNT);

  /** Reads a register as an unsigned 64-bit bigint. */
  get(name: RegisterName): bigint {
    return this.raw[REG[name]] as bigint;
  }

  /** Reads a register as a number (exact below 2^53). */
  getNumber(name: RegisterName): number {
    return Number(this.raw[REG[name]]);
  }

  /** Writes a register; negative numbers and bigints are stored in two's complement. */
  set(name: RegisterName, value: number | bigint): void {
    this.raw[REG[name]] = BigInt.asUintN(64, typeof value === 'bigint' ? value : BigInt(value));
  }

  /** A copy of this register set. */
  clone(): Registers {
    const r = new Registers();
    r.raw.set(this.raw);
    return r;
  }

  get rax(): bigint {
    return this.get('rax');
  }
  set rax(v: bigint) {
    this.set('rax', v);
  }
  get orig_rax(): bigint {
    return this.get('orig_rax');
  }
  set orig_rax(v: bigint) {
    this.set('orig_rax', v);
  }
  get rip(): bigint {
    return this.get('rip');
  }
  set rip(v: bigint) {
    this.set('rip', v);
  }
  get rsp(): bigint {
    return this.get('rsp');
  }
  set rsp(v: bigint) {
    this.set('rsp', v);
  }
  get rdi(): bigint {
    return this.get('rdi');
  }
  set rdi(v: bigint) {
    this.set('rdi', v);
  }
  get rsi(): bigint {
    return this.get('rsi');
  }
  set rsi(v: bigint) {
    this.set('rsi', v);
  }
  get rdx(): bigint {
    return this.get('rdx');
  }
  set rdx(v: bigint) {
    this.set('rdx', v);
  }
  get fs_base(): bigint {
    return this.get('fs_base');
  }
  set fs_base(v: bigint) {
    this.set('fs_base', v);
  }
  get gs_base(): bigint {
    return this.get('gs_base');
  }
  set gs_base(v: bigint) {
    this.set('gs_base', v);
  }
}
