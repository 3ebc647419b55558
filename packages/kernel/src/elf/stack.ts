/**
 * The initial stack of a new program, laid out as Linux's `create_elf_tables` does on x86-64.
 * From the top down: 8 zero bytes, the exec file name, the environment strings, the argument
 * strings, (alignment to 16) the platform string "x86_64", 16 random bytes (AT_RANDOM), then,
 * 16-byte aligned at `rsp`: argc, argv pointers, NULL, envp pointers, NULL, the auxiliary vector
 * ending with AT_NULL.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';

/** Auxiliary vector keys (`AT_*`). */
export const AT = {
  NULL: 0,
  IGNORE: 1,
  EXECFD: 2,
  PHDR: 3,
  PHENT: 4,
  PHNUM: 5,
  PAGESZ: 6,
  BASE: 7,
  FLAGS: 8,
  ENTRY: 9,
  NOTELF: 10,
  UID: 11,
  EUID: 12,
  GID: 13,
  EGID: 14,
  PLATFORM: 15,
  HWCAP: 16,
  CLKTCK: 17,
  SECURE: 23,
  BASE_PLATFORM: 24,
  RANDOM: 25,
  HWCAP2: 26,
  RSEQ_FEATURE_SIZE: 27,
  RSEQ_ALIGN: 28,
  EXECFN: 31,
  SYSINFO_EHDR: 33,
  MINSIGSTKSZ: 51,
} as const;

/** Linux's `MAX_ARG_STRLEN`: one argument or environment string may be at most 32 pages. */
export const MAX_ARG_STRLEN = 32 * 4096;
/** Linux's `MAX_ARG_STRINGS`. */
export const MAX_ARG_STRINGS = 0x7fffffff;

/** What the auxiliary vector describes. */
export interface AuxInfo {
  /** AT_PHDR/AT_PHENT/AT_PHNUM of the main program. */
  readonly phdr: number;
  readonly phnum: number;
  /** AT_ENTRY: the main program's entry (not the interpreter's). */
  readonly entry: number;
  /** AT_BASE: the interpreter's load address, 0 without one. */
  readonly base: number;
  readonly uid: number;
  readonly euid: number;
  readonly gid: number;
  readonly egid: number;
  readonly secure: boolean;
  /** AT_HWCAP (CPUID 1 EDX on x86) and AT_HWCAP2. */
  readonly hwcap: number;
  readonly hwcap2: number;
  /** AT_SYSINFO_EHDR: the vDSO's address when one is mapped. */
  readonly vdso?: number;
  /** AT_MINSIGSTKSZ: the signal frame size of this CPU's FP state. */
  readonly minSigStackSize: number;
  /** AT_FLAGS (0, or AT_FLAGS_PRESERVE_ARGV0 for binfmt_misc). */
  readonly flags?: number;
  /**
   * Entries appended after AT_PLATFORM, before AT_NULL, where Linux puts AT_RSEQ_FEATURE_SIZE and
   * AT_RSEQ_ALIGN. Left out by default: a program must not see rseq advertised when the kernel
   * does not implement it.
   */
  readonly extra?: readonly (readonly [number, number])[];
}

/** The laid-out initial stack. */
export interface InitialStack {
  /** The initial rsp: the address of argc. */
  readonly sp: number;
  /** The bytes from `sp` up to `top`, to write at `sp`. */
  readonly bytes: Uint8Array;
  /** Addresses of interest (AT_RANDOM, AT_EXECFN, AT_PLATFORM, argv/envp string areas). */
  readonly random: number;
  readonly execfn: number;
  readonly platform: number;
  readonly argStart: number;
  readonly argEnd: number;
  readonly envStart: number;
  readonly envEnd: number;
  /** The auxiliary vector as written (key, value), AT_NULL excluded. */
  readonly auxv: readonly (readonly [number, number])[];
}

/**
 * Builds the initial stack below `top`. `E2BIG` when a string exceeds {@link MAX_ARG_STRLEN}, or
 * when the strings and pointers exceed a quarter of the stack limit (`stackLimit`, as Linux's
 * `bprm_stack_limits`).
 */
export function buildInitialStack(opts: {
  top: number;
  argv: readonly Uint8Array[];
  envp: readonly Uint8Array[];
  execfn: Uint8Array;
  random: Uint8Array;
  aux: AuxInfo;
  stackLimit?: number;
}): InitialStack | LinuxError {
  const { argv, envp, execfn, aux } = opts;
  if (opts.random.length !== 16) throw new RangeError('AT_RANDOM needs 16 bytes');
  let strBytes = 0;
  for (const s of [...argv, ...envp]) {
    if (s.length + 1 > MAX_ARG_STRLEN) return E.E2BIG;
    strBytes += s.length + 1;
  }
  const limit = Math.max(Math.floor((opts.stackLimit ?? 8 * 1024 * 1024) / 4), 32 * 4096);
  if (strBytes + (argv.length + envp.length + 2) * 8 > limit) return E.E2BIG;

  const top = opts.top;
  // Strings area, top down: NULL word, execfn, envp strings, argv strings (forward order in memory).
  let p = top - 8;
  p -= execfn.length + 1;
  const execfnAddr = p;
  const envEnd = p;
  p -= envp.reduce((n, s) => n + s.length + 1, 0);
  const envStart = p;
  p -= argv.reduce((n, s) => n + s.length + 1, 0);
  const argStart = p;
  const argEnd = envStart;
  p = floor16(p);
  const platform = enc.encode('x86_64\0');
  p -= platform.length;
  const platformAddr = p;
  p -= 16;
  const randomAddr = p;

  const auxv: [number, number][] = [];
  if (aux.vdso !== undefined) auxv.push([AT.SYSINFO_EHDR, aux.vdso]);
  auxv.push(
    [AT.MINSIGSTKSZ, aux.minSigStackSize],
    [AT.HWCAP, aux.hwcap],
    [AT.PAGESZ, 4096],
    [AT.CLKTCK, 100],
    [AT.PHDR, aux.phdr],
    [AT.PHENT, 56],
    [AT.PHNUM, aux.phnum],
    [AT.BASE, aux.base],
    [AT.FLAGS, aux.flags ?? 0],
    [AT.ENTRY, aux.entry],
    [AT.UID, aux.uid],
    [AT.EUID, aux.euid],
    [AT.GID, aux.gid],
    [AT.EGID, aux.egid],
    [AT.SECURE, aux.secure ? 1 : 0],
    [AT.RANDOM, randomAddr],
    [AT.HWCAP2, aux.hwcap2],
    [AT.EXECFN, execfnAddr],
    [AT.PLATFORM, platformAddr],
    ...(aux.extra ?? []).map(([k, v]): [number, number] => [k, v]),
  );
  const words = 1 + argv.length + 1 + envp.length + 1 + (auxv.length + 1) * 2;
  const sp = floor16(p - words * 8);

  const bytes = new Uint8Array(top - sp);
  const view = new DataView(bytes.buffer);
  const put = (addr: number, b: Uint8Array): void => bytes.set(b, addr - sp);
  const word = (addr: number, v: number): void => view.setBigUint64(addr - sp, BigInt(v), true);
  put(execfnAddr, execfn);
  let at = argStart;
  let w = sp;
  word(w, argv.length);
  w += 8;
  for (const s of argv) {
    put(at, s);
    word(w, at);
    w += 8;
    at += s.length + 1;
  }
  word(w, 0);
  w += 8;
  for (const s of envp) {
    put(at, s);
    word(w, at);
    w += 8;
    at += s.length + 1;
  }
  word(w, 0);
  w += 8;
  for (const [k, v] of auxv) {
    word(w, k);
    word(w + 8, v);
    w += 16;
  }
  word(w, AT.NULL);
  word(w + 8, 0);
  put(platformAddr, platform);
  put(randomAddr, opts.random);
  return {
    sp,
    bytes,
    random: randomAddr,
    execfn: execfnAddr,
    platform: platformAddr,
    argStart,
    argEnd,
    envStart,
    envEnd,
    auxv,
  };
}

const enc = new TextEncoder();

function floor16(n: number): number {
  return n - (n % 16);
}
