/**
 * Loading the sandbox's first program: the kernel's ELF loader (`resolveProgram`, `layoutExec`)
 * reads the binary and its PT_INTERP from the sandbox VFS, `@tsvisor/mm` models the new address
 * space (segments, brk, stack), the journal of host operations is applied inside the stub, and
 * the initial stack is written. This is the part of execve(2) a `tsvisor do` needs before the
 * first instruction; the kernel's own execve (for programs that exec) will take it over.
 *
 * @module
 */
import { E, MapFlag, Prot, isError, type LinuxError } from '@tsvisor/abi';
import { CpuState, layoutExec, resolveProgram, type ExecFile, type ExecOpener } from '@tsvisor/kernel';
import { AddressSpace as MmSpace, mmapBaseFor } from '@tsvisor/mm';
import { STUB_REGION, type Task as HostTask } from '@tsvisor/trap-native';
import {
  MAY_EXEC,
  MS_NOEXEC,
  O_RDONLY,
  S_IFMT,
  S_IFREG,
  permission,
  type FsContext,
  type Location,
  type Vfs,
} from '@tsvisor/vfs';
import { ReaderMapFile, applyHostOps, preadFully } from './host-memory.js';
import { NR_MPROTECT } from './host-nr.js';

/** Where the initial stack ends: just below the stub's pages, which sit at the top of user space. */
export const STACK_TOP = STUB_REGION.start;

const { PROT_READ, PROT_WRITE, PROT_EXEC } = Prot;

/** What the loader produced: the model of the address space and the first registers. */
export interface LoadedImage {
  readonly mm: MmSpace;
  readonly regs: CpuState;
  /** The ELF file that runs (after `#!` lines), as a sandbox path. */
  readonly path: string;
  /** The argv the program got (rewritten for scripts). */
  readonly argv: readonly Uint8Array[];
  /** Address of the argv pointer array and of envp's, for strace's execve line. */
  readonly argvAddr: number;
  readonly envpAddr: number;
  /** The initial stack (from its lowest byte): what strace reads execve's arguments from. */
  readonly stackBase: number;
  readonly stackBytes: Uint8Array;
  readonly execfnAddr: number;
  /** Where the ELF file was found, when the opener says (for /proc/<pid>/exe). */
  readonly exe: unknown;
}

/** An executable opened in the sandbox VFS, with where it was found (for /proc/<pid>/exe). */
interface VfsExecFile extends ExecFile {
  readonly location: Location;
}

/**
 * The opener execve uses: a path lookup in the sandbox VFS, then Linux's checks before any binary
 * format is tried (a regular file, execute permission, not on a noexec mount).
 */
export function vfsExecOpener(vfs: Vfs, ctx: FsContext): ExecOpener {
  const dec = new TextDecoder();
  return (path) => {
    const f = vfs.openat(ctx, ctx.cwd, dec.decode(path), O_RDONLY);
    if (isError(f)) return f;
    const inode = f.location.inode;
    if ((inode.mode & S_IFMT) !== S_IFREG) return E.EACCES;
    // Even root needs one execute bit on a regular file.
    if ((inode.mode & 0o111) === 0) return E.EACCES;
    const denied = permission(ctx.creds, inode, MAY_EXEC);
    if (denied) return denied;
    if (f.location.mount.flags & MS_NOEXEC) return E.EACCES;
    const file: VfsExecFile = {
      read: (offset, length) => preadFully(f, offset, length),
      location: f.location,
    };
    return file;
  };
}

/**
 * Loads `path` into the empty address space of `host` (a fresh stub): resolves `#!` lines and the
 * ELF interpreter through `open`, maps everything through a new `@tsvisor/mm` model, writes the
 * initial stack and returns the registers to start with. Errors are execve's (ENOENT, EACCES,
 * ENOEXEC, E2BIG, ELIBBAD, ENOMEM ...).
 */
export async function loadProgram(opts: {
  host: HostTask;
  open: ExecOpener;
  path: string;
  argv: readonly string[];
  envp: readonly string[];
  creds: { uid: number; gid: number };
  /** CPU facts for the auxiliary vector (the kernel's `cpuAux`). */
  cpu: { hwcap: number; hwcap2: number; minSigStackSize: number };
  stackLimit?: number;
}): Promise<LoadedImage | LinuxError> {
  const enc = new TextEncoder();
  const prog = await resolveProgram(
    enc.encode(opts.path),
    opts.argv.map((a) => enc.encode(a)),
    opts.open,
  );
  if (isError(prog)) return prog;
  const stackLimit = opts.stackLimit ?? 8 * 1024 * 1024;
  const mm = new MmSpace({ mmapBase: mmapBaseFor(stackLimit, 0, false), limits: { stack: stackLimit } });
  // The stub's pages stay out of every placement the model makes.
  const reserved = mm.mapSpecial(
    STUB_REGION.start,
    STUB_REGION.end - STUB_REGION.start,
    PROT_READ | PROT_EXEC,
    '[tsvisor]',
  );
  if (isError(reserved)) return reserved;
  const place = (length: number, align: number): number | LinuxError => {
    const span = length + align;
    const at = mm.mmap(0, span, Prot.PROT_NONE, MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS, null, 0);
    if (isError(at)) return at;
    mm.munmap(at, span);
    return Math.ceil(at / align) * align;
  };
  const cpu = opts.cpu;
  const random = new Uint8Array(16);
  crypto.getRandomValues(random);
  const layout = layoutExec(prog, {
    place,
    stackTop: STACK_TOP,
    envp: opts.envp.map((e) => enc.encode(e)),
    random,
    stackLimit,
    aux: {
      uid: opts.creds.uid,
      euid: opts.creds.uid,
      gid: opts.creds.gid,
      egid: opts.creds.gid,
      secure: false,
      hwcap: cpu.hwcap,
      hwcap2: cpu.hwcap2,
      minSigStackSize: cpu.minSigStackSize,
    },
  });
  if (isError(layout)) return layout;
  mm.drainHostOps(); // the placement probes cancel out

  const dec = new TextDecoder();
  const images = [{ plan: layout.main, prog, file: prog.file, path: prog.path }];
  if (layout.interp && prog.interp)
    images.push({ plan: layout.interp, prog, file: prog.interp.file, path: prog.interp.path });
  const zeroes: { from: number; to: number }[] = [];
  for (const img of images) {
    const mapFile = new ReaderMapFile(img.file.read, dec.decode(img.path));
    for (const m of img.plan.mappings) {
      const r =
        m.kind === 'file'
          ? mm.mmap(m.addr, m.len, m.prot, MapFlag.MAP_PRIVATE | MapFlag.MAP_FIXED, mapFile, m.offset)
          : mm.mmap(
              m.addr,
              m.len,
              m.prot,
              MapFlag.MAP_PRIVATE | MapFlag.MAP_FIXED | MapFlag.MAP_ANONYMOUS,
              null,
              0,
            );
      if (isError(r)) return r;
      // Linux's padzero clears from the end of the file data to the end of its page (not only to
      // p_memsz): ld.so's early allocator takes the rest of that page and expects zeros.
      if (m.kind === 'file' && m.zeroFrom !== undefined && m.zeroFrom % 4096 !== 0)
        zeroes.push({ from: m.zeroFrom, to: m.zeroFrom - (m.zeroFrom % 4096) + 4096 });
    }
  }
  mm.initBrk(layout.main.brk, dataBounds(layout.main.mappings));
  const code = layout.main.mappings.find((m) => (m.prot & PROT_EXEC) !== 0);
  if (code) {
    mm.layout.startCode = code.addr;
    mm.layout.endCode = code.addr + code.len;
  }
  const stack = layout.stack;
  const base = mm.setupStack(STACK_TOP, stack.sp, layout.execStack);
  if (isError(base)) return base;
  mm.layout.argStart = stack.argStart;
  mm.layout.argEnd = stack.argEnd;
  mm.layout.envStart = stack.envStart;
  mm.layout.envEnd = stack.envEnd;

  const applied = await applyHostOps(opts.host, mm.drainHostOps());
  if (applied) return applied;
  for (const z of zeroes) {
    const err = zeroFill(opts.host, mm, z.from, z.to - z.from);
    if (err) return err;
  }
  const w = opts.host.writeMemory(stack.sp, stack.bytes);
  if (isError(w)) return w;
  if (w !== stack.bytes.length) return E.EFAULT;
  const argc = prog.argv.length;
  return {
    mm,
    regs: CpuState.fresh(layout.entry, stack.sp),
    path: dec.decode(prog.path),
    argv: prog.argv,
    argvAddr: stack.sp + 8,
    envpAddr: stack.sp + 8 * (argc + 2),
    stackBase: stack.sp,
    stackBytes: stack.bytes,
    execfnAddr: stack.execfn,
    exe: (prog.file as Partial<VfsExecFile>).location,
  };
}

/** The data segment (the writable file-backed part of the program) for RLIMIT_DATA and /proc. */
function dataBounds(
  mappings: readonly { kind: string; addr: number; len: number; prot: number }[],
): { startData: number; endData: number } | undefined {
  const data = mappings.find((m) => m.kind === 'file' && (m.prot & PROT_WRITE) !== 0);
  return data ? { startData: data.addr, endData: data.addr + data.len } : undefined;
}

/** Linux's padzero: clears the bss head inside the last file page, even in a read-only segment. */
function zeroFill(host: HostTask, mm: MmSpace, addr: number, len: number): LinuxError | undefined {
  const zeros = new Uint8Array(len);
  const w = host.writeMemory(addr, zeros);
  if (!isError(w) && w === len) return undefined;
  const page = addr - (addr % 4096);
  const prot = (mm.findVma(addr)?.flags ?? 0) & 7;
  if (host.hostSyscall(NR_MPROTECT, page, 4096, prot | PROT_WRITE) < 0) return E.EFAULT;
  const again = host.writeMemory(addr, zeros);
  host.hostSyscall(NR_MPROTECT, page, 4096, prot);
  return !isError(again) && again === len ? undefined : E.EFAULT;
}

/** The short name a task gets from its program path (comm: the last component, 15 bytes). */
export function commOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return path.slice(slash + 1).slice(0, 15);
}
