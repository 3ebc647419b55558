/**
 * The x86-64 user register set, `struct user_regs_struct` of `<sys/user.h>`: what
 * `PTRACE_GETREGS` fills and what a platform reports for a stopped task. 27 unsigned 64-bit
 * words, in the kernel's order. The platform (trap-native) and the kernel's CPU state both index
 * their register arrays with {@link UserReg}, so the two agree by construction.
 *
 * @example
 * ```ts
 * const regs = new BigUint64Array(USER_REGS_COUNT);
 * regs[UserReg.rax] = 39n; // getpid
 * ```
 *
 * @module
 */

/** Slot of each register in `struct user_regs_struct`, in order. */
export const UserReg = Object.freeze({
  r15: 0,
  r14: 1,
  r13: 2,
  r12: 3,
  rbp: 4,
  rbx: 5,
  r11: 6,
  r10: 7,
  r9: 8,
  r8: 9,
  rax: 10,
  rcx: 11,
  rdx: 12,
  rsi: 13,
  rdi: 14,
  orig_rax: 15,
  rip: 16,
  cs: 17,
  eflags: 18,
  rsp: 19,
  ss: 20,
  fs_base: 21,
  gs_base: 22,
  ds: 23,
  es: 24,
  fs: 25,
  gs: 26,
} as const);

/** A register name of `struct user_regs_struct`. */
export type UserRegName = keyof typeof UserReg;

/** Number of 64-bit words in `struct user_regs_struct`. */
export const USER_REGS_COUNT = 27;
