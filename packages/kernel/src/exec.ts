/**
 * The kernel's execve: the one place a task gets a new program, whether the app asked
 * (execve(2)/execveat(2) in `@tsvisor/syscalls`) or the runtime starts a sandbox's first program.
 *
 * The steps are Linux's `do_execveat_common`: open the file in the sandbox VFS with the checks
 * `do_open_execat` makes, follow `#!` lines and PT_INTERP (`./elf/exec.ts`), lay out the images
 * and the initial stack, then, past the point of no return, kill the other threads, build the new
 * `@tsvisor/mm` model, have the platform give the task a fresh host address space, map, write the
 * stack and reset what exec resets (close-on-exec fds, signal handlers, alternate stack, ...).
 *
 * @module
 */
import {
  AccessMode,
  At,
  E,
  MapFlag,
  Mode,
  OpenFlag,
  Prot,
  RLIM_INFINITY,
  Rlimit,
  isError,
  type LinuxError,
} from '@tsvisor/abi';
import { AddressSpace as MmSpace, mmapBaseFor, type MapFile, type ReservedRange } from '@tsvisor/mm';
import {
  MS_NOEXEC,
  MS_NOSUID,
  type FileDescription,
  type FsContext as VfsContext,
  type Location,
  type Vfs,
} from '@tsvisor/vfs';
import { TASK_GONE } from './control.js';
import { execCredentials, execDumpable, parseFileCaps, type Credentials } from './creds/credentials.js';
import { softLimit, type Rlimits } from './creds/rlimits.js';
import { STACK_TOP, type LoadMapping, type LoadPlan } from './elf/elf.js';
import { layoutExec, resolveProgram, type ExecFile, type ExecLayout, type ExecProgram } from './elf/exec.js';
import { CpuState } from './ports/cpu-state.js';
import { fillRandom } from './random.js';
import type { Task } from './task/task.js';
import { exitPosixTimers } from './time/posix-timers.js';

const { PROT_READ, PROT_WRITE, PROT_EXEC } = Prot;
const PAGE = 4096;
/** `AT_EACCESS`: faccessat with the effective ids, as exec checks permission. */
const AT_EACCESS = 0x200;

/** What an execve asks for, once its arguments have been read from the app. */
export interface ExecRequest {
  /** The file to run, as given (resolved from `dir`). */
  readonly path: Uint8Array;
  readonly argv: readonly Uint8Array[];
  readonly envp: readonly Uint8Array[];
  /** The VFS context of the lookup: the task's credentials, root and cwd. */
  readonly ctx: VfsContext;
  /** Where a relative `path` starts: the cwd, or execveat's dirfd. */
  readonly dir: Location;
  /** execveat's flags: `AT_EMPTY_PATH` runs `dir` itself, `AT_SYMLINK_NOFOLLOW`. */
  readonly flags?: number;
}

/** What a successful exec did: where the new program starts and what its stack holds. */
export interface ExecResult {
  /** The ELF file that runs (after `#!` lines), as given to the opener. */
  readonly path: Uint8Array;
  /** The argv the program got (rewritten for scripts). */
  readonly argv: readonly Uint8Array[];
  /** The initial rsp (argc) and rip. */
  readonly sp: number;
  readonly entry: number;
  /** Address of the argv and envp pointer arrays, and of AT_EXECFN's string. */
  readonly argvAddr: number;
  readonly envpAddr: number;
  readonly execfnAddr: number;
}

/** An executable opened in the sandbox VFS: its bytes and the open file behind them. */
interface OpenedExec extends ExecFile {
  readonly description: FileDescription;
}

/**
 * Opens `path` for execution as `do_open_execat` does: the lookup's errors (`ENOENT`, `ENOTDIR`,
 * `ELOOP` with `AT_SYMLINK_NOFOLLOW`...), then `EACCES` for anything but a regular file, a file
 * on a noexec mount, or one the caller may not execute (root too needs an execute bit).
 */
function openExec(vfs: Vfs, req: ExecRequest, path: string, flags: number): OpenedExec | LinuxError {
  const { ctx } = req;
  const lookupFlags = flags & (At.AT_SYMLINK_NOFOLLOW | At.AT_EMPTY_PATH);
  const loc =
    path.length === 0 && flags & At.AT_EMPTY_PATH ? req.dir : vfs.lookupat(ctx, req.dir, path, lookupFlags);
  if (isError(loc)) return loc;
  if ((loc.inode.mode & Mode.S_IFMT) !== Mode.S_IFREG) return E.EACCES;
  if (loc.mount.flags & MS_NOEXEC) return E.EACCES;
  const denied = vfs.faccessat({ ...ctx }, loc, '', AccessMode.X_OK, At.AT_EMPTY_PATH | AT_EACCESS);
  if (denied) return denied;
  const file = vfs.openLocation(ctx, loc, OpenFlag.O_RDONLY);
  if (isError(file)) return file;
  return { description: file, read: (offset, length) => preadFully(file, offset, length) };
}

/** Reads up to `length` bytes at `offset`, repeating short reads (hostfs reads in chunks). */
function preadFully(file: FileDescription, offset: number, length: number): Uint8Array | LinuxError {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = file.pread(buf.subarray(done), offset + done);
    if (typeof n !== 'number') return isError(n) ? n : E.EIO;
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/**
 * The mappable view of an executable for `@tsvisor/mm`: /proc/<pid>/maps shows its device, inode
 * and path; the platform reaches the bytes through `description`.
 */
class ExecMapFile implements MapFile {
  readonly mapReadable = true;
  readonly mapWritable = false;
  readonly mapNoexec: boolean;
  readonly mapDevMajor: number;
  readonly mapDevMinor: number;
  readonly mapInode: number;

  constructor(
    readonly description: FileDescription,
    private readonly path: () => string,
  ) {
    const st = description.stat();
    this.mapNoexec = (description.location.mount.flags & MS_NOEXEC) !== 0;
    this.mapDevMajor = (st.dev >>> 8) & 0xfff;
    this.mapDevMinor = (st.dev & 0xff) | ((st.dev >>> 12) & 0xfff00);
    this.mapInode = st.ino;
  }

  mapPath(): string {
    return this.path();
  }
}

/**
 * Replaces the program of `t` with the file `req.path`, as execve(2) does once its arguments
 * are known. Returns the new program's start when the task now runs it (registers set), an errno
 * when nothing changed (ENOENT, EACCES, ENOEXEC, E2BIG, ELIBBAD, ELOOP, ENOMEM...), or
 * `TASK_GONE` when a failure after the point of no return killed the process (SIGSEGV, as Linux).
 *
 * Needs `t.kernel.vfs`. With a platform, the task gets a fresh host address space through
 * `PlatformPort.execAddressSpace`; without one only the model and `t.memory` change (tests).
 * The platform's pages (`KernelOptions.reserved`, by default everything above a lowered
 * `stackTop`) are reserved in the new model: sealed `[tsvisor]` ranges.
 */
export async function execTask(
  t: Task,
  req: ExecRequest,
): Promise<ExecResult | LinuxError | typeof TASK_GONE> {
  const k = t.kernel;
  const vfs = k.vfs;
  if (!vfs) throw new Error('execve in a kernel without a VFS');
  const flags = req.flags ?? 0;
  if (req.path.length === 0 && !(flags & At.AT_EMPTY_PATH)) return E.ENOENT;

  // Every file opened while resolving, so all are released whatever happens.
  const opened = new Map<Uint8Array, OpenedExec>();
  let first = true;
  const prog = await resolveProgram(req.path, req.argv, (p) => {
    const r = openExec(vfs, req, Buffer.from(p).toString('latin1'), first ? flags : 0);
    first = false;
    if (!isError(r)) opened.set(p, r);
    return r;
  });
  const releaseAll = (): void => {
    for (const f of opened.values()) f.description.release();
  };
  if (isError(prog)) {
    releaseAll();
    return prog;
  }
  const next = execCredentialsFor(t, opened.get(prog.path));
  if (isError(next)) {
    releaseAll();
    return next;
  }
  const model = newModel(t.group.rlimits, k.stackTop, k.reserved);
  if (isError(model)) {
    releaseAll();
    return model;
  }
  const layout = planImage(t, prog, req.envp, model, next);
  if (isError(layout)) {
    releaseAll();
    return layout;
  }
  const mainFile = opened.get(prog.path);
  const interpFile = prog.interp ? opened.get(prog.interp.path) : undefined;
  if (!mainFile || (prog.interp && !interpFile)) throw new Error('execve: an opened file was lost');

  // --- The point of no return: the old image goes away.
  for (const other of [...t.group.tasks]) if (other !== t) k.exitThread(other as Task, 0);
  // An exec'ing thread that is not the leader becomes it, with the pid as its tid (de_thread).
  k.takeOverLeader(t);
  const failed = (e: LinuxError): typeof TASK_GONE => {
    k.log(`execve: image setup failed after the point of no return: ${String(e)}`);
    releaseAll();
    k.killGroup(t.group, 11);
    return TASK_GONE;
  };
  const pathOf = (f: OpenedExec) => (): string => vfs.pathOf(req.ctx, f.description.location);
  let e = mapImage(model, layout.main, new ExecMapFile(mainFile.description, pathOf(mainFile)));
  if (!e && layout.interp && interpFile)
    e = mapImage(model, layout.interp, new ExecMapFile(interpFile.description, pathOf(interpFile)));
  if (e) return failed(e);
  model.initBrk(layout.main.brk, dataBounds(layout.main.mappings));
  const code = layout.main.mappings.find((m) => (m.prot & PROT_EXEC) !== 0);
  if (code) Object.assign(model.layout, { startCode: code.addr, endCode: code.addr + code.len });
  const stack = layout.stack;
  const st = model.setupStack(k.stackTop, stack.sp, layout.execStack);
  if (isError(st)) return failed(st);
  Object.assign(model.layout, {
    argStart: stack.argStart,
    argEnd: stack.argEnd,
    envStart: stack.envStart,
    envEnd: stack.envEnd,
    startStack: stack.sp,
  });

  const platform = k.platform;
  if (platform) {
    const mem = await platform.execAddressSpace(t);
    if (isError(mem)) return failed(mem);
    t.mm.users--;
    t.mm = k.newAddressSpace(mem, model);
    t.mm.users++;
    const applied = await platform.applyMemoryOps(t, model.drainHostOps());
    if (applied) return failed(applied);
  } else {
    t.mm.users--;
    t.mm = k.newAddressSpace(t.memory, model);
    t.mm.users++;
    model.drainHostOps();
  }
  const stackErr = t.memory.writeExact(stack.sp, stack.bytes);
  if (stackErr) return failed(stackErr);
  for (const plan of [layout.main, layout.interp]) {
    for (const m of plan?.mappings ?? []) {
      if (m.kind !== 'file' || m.zeroFrom === undefined || m.zeroTo === undefined) continue;
      const z = await padzero(t, model, m.zeroFrom, m.zeroTo);
      if (z) return failed(z);
    }
  }

  // The process now runs the new program.
  t.regs = CpuState.fresh(layout.entry, stack.sp);
  t.files.closeOnExec();
  t.group.actions.resetForExec();
  exitPosixTimers(t.group);
  t.group.didExec = true;
  t.group.auxv = auxvBytes(stack.auxv);
  t.altStack = { sp: 0, size: 0, flags: 0 };
  t.clearChildTid = 0;
  t.robustList = { head: 0, len: 0 };
  t.restartBlock = undefined;
  t.comm = commOf(prog.execfn);
  t.group.dumpable = execDumpable(t.group.creds, next.creds) ? 1 : 0;
  t.group.creds = next.creds;
  // A privileged program is not signalled by its parent's death (begin_new_exec).
  if (next.secure) t.pdeathSignal = 0;
  t.exe = mainFile.description.location;
  k.completeVfork(t);
  releaseAll();
  const argc = prog.argv.length;
  return {
    path: prog.path,
    argv: prog.argv,
    sp: stack.sp,
    entry: layout.entry,
    argvAddr: stack.sp + 8,
    envpAddr: stack.sp + 8 * (argc + 2),
    execfnAddr: stack.execfn,
  };
}

/**
 * The empty model of the new address space, its limits from the process's rlimits (as exec's
 * `setup_new_exec` reads them), with the platform's region above `stackTop` reserved.
 */
function newModel(
  rlimits: Rlimits,
  stackTop: number,
  reserved: readonly ReservedRange[] | undefined,
): MmSpace | LinuxError {
  const lim = (r: number): number => softLimit(rlimits, r);
  const stackLimit = lim(Rlimit.RLIMIT_STACK);
  const dataMax = rlimits[Rlimit.RLIMIT_DATA];
  const model = new MmSpace({
    mmapBase: mmapBaseFor(stackLimit, 0, false),
    limits: {
      as: lim(Rlimit.RLIMIT_AS),
      data: lim(Rlimit.RLIMIT_DATA),
      dataMax: !dataMax || dataMax.max === RLIM_INFINITY ? Infinity : Number(dataMax.max),
      stack: stackLimit,
      memlock: lim(Rlimit.RLIMIT_MEMLOCK),
    },
    // The platform's pages (the stub) are sealed in the model: never placed over, unmapped,
    // moved or reprotected (EPERM/EEXIST as Linux answers for sealed mappings).
    reserved:
      reserved ??
      (stackTop < STACK_TOP
        ? [{ start: stackTop, end: STACK_TOP, prot: PROT_READ | PROT_EXEC, name: '[tsvisor]' }]
        : []),
  });
  return model;
}

/**
 * The credentials the program will run with: the task's, changed by the program's set-id bits
 * and file capabilities (its `security.capability` xattr); a nosuid mount ignores both
 * (`mnt_may_suid`).
 */
function execCredentialsFor(t: Task, main: OpenedExec | undefined): ReturnType<typeof execCredentials> {
  const loc = main?.description.location;
  if (!loc || loc.mount.flags & MS_NOSUID) return execCredentials(t.creds, { noNewPrivs: t.noNewPrivs });
  const inode = loc.inode;
  const raw = inode.getxattr('security.capability');
  // No value (ENODATA, EOPNOTSUPP) means no file capabilities.
  const fileCaps = isError(raw) ? undefined : parseFileCaps(raw);
  if (isError(fileCaps)) return fileCaps;
  const file = { mode: inode.mode, uid: inode.uid, gid: inode.gid };
  return execCredentials(t.creds, { fileCaps, file, noNewPrivs: t.noNewPrivs });
}

/** Chooses the load addresses (mm's top-down search) and lays out the initial stack. */
function planImage(
  t: Task,
  prog: ExecProgram,
  envp: readonly Uint8Array[],
  model: MmSpace,
  next: { readonly creds: Credentials; readonly secure: boolean },
): ExecLayout | LinuxError {
  const k = t.kernel;
  // AT_UID, AT_EUID... describe the credentials the program will run with.
  const c = next.creds;
  const random = fillRandom(new Uint8Array(16));
  const stackLimit = softLimit(t.group.rlimits, Rlimit.RLIMIT_STACK);
  const layout = layoutExec(prog, {
    place: (len, align) => {
      // Probe where mm would put the whole image, with room to align it as its segments ask.
      const addr = model.mmap(
        0,
        len + align,
        Prot.PROT_NONE,
        MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS,
        null,
        0,
      );
      if (isError(addr)) return addr;
      model.munmap(addr, len + align);
      return Math.ceil(addr / align) * align;
    },
    stackTop: k.stackTop,
    envp,
    random,
    aux: {
      uid: c.uid,
      euid: c.euid,
      gid: c.gid,
      egid: c.egid,
      secure: next.secure,
      hwcap: k.cpuAux.hwcap,
      hwcap2: k.cpuAux.hwcap2,
      minSigStackSize: k.cpuAux.minSigStackSize,
      ...(k.cpuAux.vdso !== undefined ? { vdso: k.cpuAux.vdso } : {}),
    },
    stackLimit: Number.isFinite(stackLimit) ? stackLimit : 8 * 1024 * 1024,
  });
  // The probes and the reservation cancel out or are already real on the host.
  model.drainHostOps();
  return layout;
}

/** Maps one image's plan into the model: file pages, then anonymous bss. */
function mapImage(model: MmSpace, plan: LoadPlan, file: MapFile): LinuxError | undefined {
  for (const m of plan.mappings) {
    const r =
      m.kind === 'file'
        ? model.mmap(m.addr, m.len, m.prot, MapFlag.MAP_PRIVATE | MapFlag.MAP_FIXED, file, m.offset)
        : model.mmap(
            m.addr,
            m.len,
            m.prot,
            MapFlag.MAP_PRIVATE | MapFlag.MAP_FIXED | MapFlag.MAP_ANONYMOUS,
            null,
            0,
          );
    if (isError(r)) return r;
  }
  return undefined;
}

/** The data segment (the writable file-backed part of the program), for RLIMIT_DATA and /proc. */
function dataBounds(mappings: readonly LoadMapping[]): { startData: number; endData: number } | undefined {
  const data = mappings.find((m) => m.kind === 'file' && (m.prot & PROT_WRITE) !== 0);
  return data ? { startData: data.addr, endData: data.addr + data.len } : undefined;
}

/**
 * Linux's padzero: clears `[from, to)`, the bss head inside the last file page, even when that
 * page is read-only (then it is made writable for the write, through the model, and back).
 */
async function padzero(t: Task, model: MmSpace, from: number, to: number): Promise<LinuxError | undefined> {
  const zeros = new Uint8Array(to - from);
  if (!t.memory.writeExact(from, zeros)) return undefined;
  const page = from - (from % PAGE);
  const prot = (model.findVma(from)?.flags ?? 0) & 7;
  const apply = async (p: number): Promise<LinuxError | undefined> => {
    const r = model.mprotect(page, PAGE, p);
    if (isError(r)) return r;
    const ops = model.drainHostOps();
    return t.kernel.platform ? await t.kernel.platform.applyMemoryOps(t, ops) : undefined;
  };
  const opened = await apply(prot | PROT_WRITE);
  if (opened) return opened;
  const again = t.memory.writeExact(from, zeros);
  const closed = await apply(prot);
  return again ?? closed;
}

/** /proc/<pid>/auxv's bytes: the (key, value) pairs and AT_NULL. */
function auxvBytes(auxv: readonly (readonly [number, number])[]): Uint8Array {
  const out = new Uint8Array((auxv.length + 1) * 16);
  const view = new DataView(out.buffer);
  auxv.forEach(([key, value], i) => {
    view.setBigUint64(i * 16, BigInt(key), true);
    view.setBigUint64(i * 16 + 8, BigInt(value), true);
  });
  return out;
}

/** The task name an exec gives: the last component of the name it was run as, 15 bytes. */
function commOf(execfn: Uint8Array): string {
  const name = Buffer.from(execfn).toString('latin1').split('/').at(-1) ?? '';
  return name.slice(0, 15);
}
