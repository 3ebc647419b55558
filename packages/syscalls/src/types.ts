/**
 * The shape every syscall handler shares, the support levels of the table, and the helpers that
 * turn raw 64-bit registers into the C types each syscall reads.
 *
 * @module
 */
import type { LinuxError } from '@tsvisor/abi';
import { userAddress, type ControlResult, type Task } from '@tsvisor/kernel';

/** The six argument registers (rdi, rsi, rdx, r10, r8, r9), unsigned 64-bit. */
export type SyscallArgs = readonly [bigint, bigint, bigint, bigint, bigint, bigint];

/**
 * What a handler returns: a value for rax (a number or a 64-bit bigint), an errno, or a kernel
 * control result (restart variants, "registers already set", "task gone").
 */
export type SyscallResult = number | bigint | LinuxError | ControlResult;

/**
 * A syscall handler. It runs on the calling task; it returns synchronously on the fast path or a
 * promise when it must wait. It never throws for bad input: every pointer, length, fd and flag
 * from the app is validated and answered with Linux's errno.
 */
export type SyscallHandler = (task: Task, args: SyscallArgs) => SyscallResult | Promise<SyscallResult>;

/** How fully tsvisor implements a syscall (rendered into docs/compatibility.md). */
export type Support =
  | { readonly level: 'full' }
  | { readonly level: 'partial'; readonly note: string }
  | { readonly level: 'errno'; readonly errno: LinuxError; readonly reason: string };

/** One implemented syscall of a family file. */
export interface SyscallDef {
  readonly handler: SyscallHandler;
  readonly support: Support;
}

/** A family file's syscalls by name. */
export type SyscallFamily = Readonly<Record<string, SyscallDef>>;

/** Full support. */
export const FULL: Support = Object.freeze({ level: 'full' });

/** Partial support with a note on what is missing. */
export function partial(note: string): Support {
  return { level: 'partial', note };
}

// The converters below run several times per syscall. Each compares with a bigint constant made
// once (a comparison allocates nothing) and takes the common case, a value that already fits,
// without BigInt.asIntN/asUintN, whose results are new bigints.
/** INT_MAX as a bigint (also for the handlers that clamp a length to it). */
export const INT_MAX_N = 0x7fff_ffffn;
const UINT_MAX_N = 0xffff_ffffn;
const LONG_MAX_N = 0x7fff_ffff_ffff_ffffn;
/** Number.MAX_SAFE_INTEGER as a bigint (also for the handlers that bound a count by it). */
export const MAX_SAFE_N = BigInt(Number.MAX_SAFE_INTEGER);

/** The low 32 bits as a signed C `int` (fds, pids, signal numbers, flags of type int). */
export function int(a: bigint): number {
  return a >= 0n && a <= INT_MAX_N ? Number(a) : Number(BigInt.asIntN(32, a));
}

/** The low 32 bits as an unsigned C `unsigned int` (uid_t, gid_t, flags of type unsigned). */
export function uint(a: bigint): number {
  return a >= 0n && a <= UINT_MAX_N ? Number(a) : Number(BigInt.asUintN(32, a));
}

/** A signed 64-bit `long`. */
export function long(a: bigint): bigint {
  return a >= 0n && a <= LONG_MAX_N ? a : BigInt.asIntN(64, a);
}

/** A user pointer as an address every TaskMemory understands (out-of-range ones fault). */
export function ptr(a: bigint): number {
  return userAddress(a);
}

/** A `size_t` as a number; sizes beyond 2^53 become `Number.MAX_SAFE_INTEGER` (always too big). */
export function size(a: bigint): number {
  return a > MAX_SAFE_N ? Number.MAX_SAFE_INTEGER : Number(a);
}

/** True when the unsigned 64-bit flags word has bits outside `known`. */
export function unknownBits(a: bigint, known: number | bigint): boolean {
  return (a & ~BigInt(known)) !== 0n;
}
