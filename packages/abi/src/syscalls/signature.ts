/**
 * The shape of a syscall's arguments and result, as data: enough to decode raw registers into
 * strace-style text and to document the ABI.
 *
 * Registers are 64-bit; an argument's kind says how much of the register the kernel reads
 * (an `int` or fd is the low 32 bits, signed), and how it is printed.
 *
 * @module
 */
import type { EnumSet, FlagSet } from '../constants/flagset.js';

/** Kinds of scalar arguments. */
export type ScalarKind =
  /** A file descriptor (low 32 bits, signed). */
  | 'fd'
  /** A directory fd of the *at() calls: `AT_FDCWD` (-100) prints by name. */
  | 'dirfd'
  /** A signed 32-bit int. */
  | 'int'
  /** An unsigned 32-bit int. */
  | 'uint'
  /** A signed 64-bit long. */
  | 'long'
  /** An unsigned 64-bit long. */
  | 'ulong'
  /** A size_t. */
  | 'size'
  /** A file offset (loff_t), signed decimal. */
  | 'offset'
  /** A file offset printed in hex, as strace prints mmap's. */
  | 'hexOffset'
  /** A process or thread id (pid_t). */
  | 'pid'
  /** A user id (uid_t, 32-bit; -1 means "unchanged"). */
  | 'uid'
  /** A group id (gid_t). */
  | 'gid'
  /** A signal number. */
  | 'signal'
  /** Permission bits (umode_t), octal. */
  | 'mode'
  /** A mode with a file type, as mknod takes it (`S_IFIFO|0644`). */
  | 'fileMode'
  /** A pointer that is not followed: hex, NULL for 0. */
  | 'address'
  /** An opaque value printed in hex. */
  | 'hex'
  /** A clock id (`CLOCK_*`). */
  | 'clockId'
  /** A NUL-terminated path, printed in full (strace ignores -s for paths). */
  | 'path'
  /** A NUL-terminated string, cut at the string limit. */
  | 'string'
  /** A NUL-terminated string the kernel writes (getcwd), shown on exit. */
  | 'outString'
  /** An `int[2]` of fds the kernel writes (pipe, socketpair): `[3, 4]`. */
  | 'fdPair'
  /** A NULL-terminated array of string pointers (execve argv): `["ls", "-l"]`. */
  | 'argv'
  /** A pid or fd the kernel stores at the pointer (clone's parent_tid): `[1234]` on exit. */
  | 'intOut'
  /** FUTEX_WAIT_BITSET's bitset: `FUTEX_BITSET_MATCH_ANY` or hex. */
  | 'futexBitset'
  /** FUTEX_WAKE_OP's encoded operation: `FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1`. */
  | 'futexWakeOp'
  /** A NULL-terminated array of string pointers summarized (execve envp): `0x... /* 3 vars *\/`. */
  | 'envp';

/** How one argument is read and printed. */
export type ArgType =
  | { readonly kind: ScalarKind }
  /** A byte buffer the kernel reads; `len` is the index of the length argument. */
  | { readonly kind: 'inBuffer'; readonly len: number }
  /**
   * A byte buffer the kernel fills; its length is an argument or the return value. `hex` prints
   * every byte as `\xNN` (strace does so for random bytes).
   */
  | { readonly kind: 'outBuffer'; readonly len: number | 'ret'; readonly hex?: true }
  /** A pointer to one struct, by name (`'stat'`, `'timespec'`); `dir` says who writes it. */
  | { readonly kind: 'struct'; readonly struct: string; readonly dir: 'in' | 'out' | 'inout' }
  /** A pointer to an array of structs whose count is an argument or the return value. */
  | {
      readonly kind: 'array';
      readonly struct: string;
      readonly count: number | 'ret';
      readonly dir: 'in' | 'out' | 'inout';
    }
  /** A flag word decoded with a flag set. */
  | { readonly kind: 'flags'; readonly set: FlagSet }
  /** A value decoded with an enum set. */
  | { readonly kind: 'enum'; readonly set: EnumSet };

/** One argument: its kernel name and type. */
export interface SyscallArg {
  readonly name: string;
  readonly type: ArgType;
  /** Printed as `label=value` (strace names clone's arguments: `child_stack=NULL`). */
  readonly label?: string;
}

/** How the return value is printed. */
export type ReturnKind =
  /** An int or errno: `= 0`, `= -1 ENOENT (...)`. */
  | 'int'
  /** A new file descriptor. */
  | 'fd'
  /** A pid. */
  | 'pid'
  /** A byte count (ssize_t). */
  | 'size'
  /** A file offset (lseek). */
  | 'offset'
  /** An address (mmap, brk, shmat): hex. */
  | 'address'
  /** An opaque value printed in hex. */
  | 'hex'
  /** Permission bits (umask): octal. */
  | 'mode'
  /** A signal number (rt_sigtimedwait): `= 10 (SIGUSR1)`. */
  | 'signal'
  /** Never returns to the caller (exit, exit_group, rt_sigreturn): `= ?`. */
  | 'none';

/** One syscall: number, name, arguments and result. */
export interface SyscallInfo {
  /** The x86-64 syscall number. */
  readonly nr: number;
  /** The name, as in the kernel's syscall_64.tbl. */
  readonly name: string;
  /** The arguments, in register order (rdi, rsi, rdx, r10, r8, r9). */
  readonly args: readonly SyscallArg[];
  /** How the result prints. */
  readonly ret: ReturnKind;
  /**
   * For calls whose visible arguments depend on other arguments (open's mode only with O_CREAT,
   * fcntl's third argument by command, futex's by operation): the arguments to show for these
   * raw values. Absent or undefined: always `args`.
   */
  readonly refine?: ((args: readonly bigint[]) => readonly SyscallArg[]) | undefined;
}
