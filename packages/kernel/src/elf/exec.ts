/**
 * execve's loader: from a path to everything needed to start the new image. It resolves `#!`
 * scripts (nested up to {@link MAX_INTERP_DEPTH}), parses and validates the ELF binary, loads
 * its PT_INTERP from the sandbox VFS, chooses load addresses, plans the mappings and builds the
 * initial stack. It maps nothing itself: the caller applies the plans through `@tsvisor/mm` and
 * the platform, writes the stack bytes and sets the registers.
 *
 * @module
 */
import { E, isError, type LinuxError } from '@tsvisor/abi';
import {
  ELF,
  ELF_ET_DYN_BASE,
  imageSpan,
  parseElf,
  planLoad,
  type ElfFile,
  type FileReader,
  type LoadPlan,
} from './elf.js';
import { BINPRM_BUF_SIZE, MAX_INTERP_DEPTH, parseShebang, scriptArgv } from './script.js';
import { buildInitialStack, type AuxInfo, type InitialStack } from './stack.js';

/** An executable file opened through the sandbox VFS. */
export interface ExecFile {
  readonly read: FileReader;
}

/**
 * Opens a file for execution. The implementation applies the VFS rules Linux applies before a
 * binary format is even tried: `ENOENT`/`ENOTDIR`/`ELOOP` from the lookup, `EACCES` for a file
 * that is not a regular file, lacks execute permission or lives on a noexec mount.
 */
export type ExecOpener = (path: Uint8Array) => Promise<ExecFile | LinuxError> | ExecFile | LinuxError;

/** The resolved program of an execve. */
export interface ExecProgram {
  /** The ELF binary that runs (after following `#!` lines), and its path. */
  readonly path: Uint8Array;
  readonly elf: ElfFile;
  readonly file: ExecFile;
  /** The dynamic loader named by PT_INTERP, if any. */
  readonly interp: { readonly path: Uint8Array; readonly elf: ElfFile; readonly file: ExecFile } | undefined;
  /** The argv the program gets (rewritten for scripts). */
  readonly argv: readonly Uint8Array[];
  /** The name execve was called with (AT_EXECFN; for scripts still the script). */
  readonly execfn: Uint8Array;
}

/**
 * Resolves `path` to an ELF program, following `#!` interpreters. Errors: what `open` says,
 * `ENOEXEC` for an unknown format or malformed ELF, `ELIBBAD` for a malformed interpreter,
 * `ELOOP` past {@link MAX_INTERP_DEPTH} nested scripts.
 */
export async function resolveProgram(
  path: Uint8Array,
  argv: readonly Uint8Array[],
  open: ExecOpener,
): Promise<ExecProgram | LinuxError> {
  let current = path;
  let args = [...argv];
  for (let depth = 0; ; depth++) {
    if (depth > MAX_INTERP_DEPTH) return E.ELOOP;
    const file = await open(current);
    if (isError(file)) return file;
    const head = await file.read(0, BINPRM_BUF_SIZE);
    if (isError(head)) return head;
    const line = parseShebang(head);
    if (isError(line)) return line;
    if (line) {
      args = scriptArgv(line, current, args);
      current = line.interpreter;
      continue;
    }
    const elf = await parseElf(file.read);
    if (isError(elf)) return elf;
    let interp: ExecProgram['interp'];
    if (elf.interp !== undefined) {
      const ipath = new TextEncoder().encode(elf.interp);
      const ifile = await open(ipath);
      if (isError(ifile)) return ifile;
      const ielf = await parseElf(ifile.read);
      if (isError(ielf)) return ielf === E.ENOEXEC || ielf === E.EINVAL ? E.ELIBBAD : ielf;
      interp = { path: ipath, elf: ielf, file: ifile };
    }
    return { path: current, elf, file, interp, argv: args, execfn: path };
  }
}

/** Chooses a free, `align`-aligned range of `length` bytes for an image that may go anywhere. */
export type PlaceImage = (length: number, align: number) => number | LinuxError;

/** Everything the caller needs to start the new image. */
export interface ExecLayout {
  readonly main: LoadPlan;
  readonly interp: LoadPlan | undefined;
  /** Where execution starts: the interpreter's entry, or the program's. */
  readonly entry: number;
  readonly stack: InitialStack;
  readonly execStack: boolean;
}

/**
 * Chooses load addresses and builds the stack. ET_EXEC loads where linked; a PIE with an
 * interpreter at {@link ELF_ET_DYN_BASE}; a PIE without one (static-pie, or ld.so run directly)
 * and the interpreter wherever `place` says (mm's top-down mmap choice), as Linux 6.x does.
 */
export function layoutExec(
  prog: ExecProgram,
  opts: {
    place: PlaceImage;
    stackTop: number;
    envp: readonly Uint8Array[];
    random: Uint8Array;
    aux: Omit<AuxInfo, 'phdr' | 'phnum' | 'entry' | 'base'>;
    stackLimit?: number;
  },
): ExecLayout | LinuxError {
  const main = placeImage(prog.elf, opts.place, prog.interp !== undefined);
  if (isError(main)) return main;
  let interp: LoadPlan | undefined;
  if (prog.interp) {
    const ip = placeImage(prog.interp.elf, opts.place, false);
    if (isError(ip)) return ip;
    interp = ip;
  }
  const stack = buildInitialStack({
    top: opts.stackTop,
    argv: prog.argv,
    envp: opts.envp,
    execfn: prog.execfn,
    random: opts.random,
    aux: {
      ...opts.aux,
      phdr: main.phdrAddr,
      phnum: prog.elf.header.phnum,
      entry: main.entry,
      base: interp ? interp.bias : 0,
    },
    ...(opts.stackLimit !== undefined ? { stackLimit: opts.stackLimit } : {}),
  });
  if (isError(stack)) return stack;
  return { main, interp, entry: interp ? interp.entry : main.entry, stack, execStack: prog.elf.execStack };
}

function placeImage(elf: ElfFile, place: PlaceImage, pieWithInterp: boolean): LoadPlan | LinuxError {
  if (elf.header.type === ELF.ET_EXEC) return planLoad(elf, 0);
  const span = imageSpan(elf);
  if (pieWithInterp) {
    const base = ELF_ET_DYN_BASE - (ELF_ET_DYN_BASE % span.align);
    return planLoad(elf, base - span.min);
  }
  const at = place(span.max - span.min, span.align);
  if (isError(at)) return at;
  return planLoad(elf, at - span.min);
}
