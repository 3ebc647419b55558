/**
 * execve(2) and execveat(2) with tsvisor's own loader: the binary and its interpreter come from
 * the sandbox VFS, the new image is laid out by `@tsvisor/kernel`'s ELF loader, mapped through
 * the `@tsvisor/mm` model and the platform, and the task starts at the loader's entry with a
 * stack that matches Linux's byte for byte.
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
  Rlimit,
  isError,
  type LinuxError,
} from '@tsvisor/abi';
import {
  CpuState,
  MAX_ARG_STRLEN,
  NO_RESULT,
  TASK_GONE,
  layoutExec,
  resolveProgram,
  softLimit,
  type ExecFile,
  type LoadPlan,
  type Task,
} from '@tsvisor/kernel';
import { AddressSpace, mmapBaseFor } from '@tsvisor/mm';
import { MS_NOEXEC, type FileDescription } from '@tsvisor/vfs';
import { webcrypto } from 'node:crypto';
import { VfsMapFile } from './sys-mm.js';
import { ctxOf, dirOf, pathArg, pathBytes, vfsOf } from './vfs-context.js';
import { int, partial, ptr, type SyscallArgs, type SyscallFamily, type SyscallResult } from './types.js';

/** Linux's `MAX_ARG_STRINGS`. */
const MAX_ARG_STRINGS = 0x7fffffff;

interface OpenedExec extends ExecFile {
  readonly description: FileDescription;
}

/**
 * Opens `path` for execution: a regular file with execute permission on a mount without
 * noexec (EACCES otherwise), as do_open_execat checks.
 */
function openExec(t: Task, dirfd: number, path: string, flags: number): OpenedExec | LinuxError {
  const vfs = vfsOf(t);
  const ctx = ctxOf(t);
  const lookupFlags = (flags & At.AT_SYMLINK_NOFOLLOW) | (flags & At.AT_EMPTY_PATH);
  const loc =
    path.length === 0 && flags & At.AT_EMPTY_PATH
      ? dirOf(t, dirfd)
      : vfs.lookupat(ctx, dirOf(t, dirfd), path, lookupFlags);
  if (isError(loc)) return loc;
  if ((loc.inode.mode & Mode.S_IFMT) !== Mode.S_IFREG) return E.EACCES;
  if (loc.mount.flags & MS_NOEXEC) return E.EACCES;
  const access = vfs.faccessat({ ...ctx }, loc, '', AccessMode.X_OK, At.AT_EMPTY_PATH | 0x200);
  if (access) return access;
  const file = vfs.openLocation(ctx, loc, OpenFlag.O_RDONLY);
  if (isError(file)) return file;
  return {
    description: file,
    read: (offset, length) => {
      const buf = new Uint8Array(length);
      const n = file.pread(buf, offset);
      if (typeof n !== 'number') return isError(n) ? n : E.EIO;
      return buf.subarray(0, n);
    },
  };
}

/** Maps one image's plan into the model (file pages and anonymous bss). */
function mapImage(
  model: AddressSpace,
  plan: LoadPlan,
  file: OpenedExec,
  path: () => string,
): LinuxError | undefined {
  const mf = new VfsMapFile(file.description, path);
  for (const m of plan.mappings) {
    const r =
      m.kind === 'file'
        ? model.mmap(m.addr, m.len, m.prot, MapFlag.MAP_PRIVATE | MapFlag.MAP_FIXED, mf, m.offset)
        : model.mmap(
            m.addr,
            m.len,
            m.prot,
            MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS | MapFlag.MAP_FIXED,
            null,
            0,
          );
    if (isError(r)) return r;
  }
  return undefined;
}

/**
 * Reads execve's arguments from the app and runs {@link execProgram}. Errors before the point of
 * no return leave the caller untouched.
 */
async function doExecve(
  t: Task,
  dirfd: number,
  pathAddr: number,
  argvAddr: number,
  envpAddr: number,
  flags: number,
): Promise<SyscallResult> {
  if (flags & ~(At.AT_EMPTY_PATH | At.AT_SYMLINK_NOFOLLOW)) return E.EINVAL;
  const path = pathArg(t, pathAddr);
  if (isError(path)) return path;
  // Linux charges each pointer against a quarter of the stack limit; stop reading there (E2BIG)
  // rather than walk an endless vector.
  const stackLimit = softLimit(t.group.rlimits, Rlimit.RLIMIT_STACK);
  const maxPointers = Math.min(
    MAX_ARG_STRINGS,
    Math.floor(Math.max(Number.isFinite(stackLimit) ? stackLimit / 4 : 6 << 20, 32 * 4096) / 8),
  );
  const argv = t.memory.readStringArray(argvAddr, maxPointers, MAX_ARG_STRLEN);
  if (isError(argv)) return argv;
  const envp = t.memory.readStringArray(envpAddr, maxPointers - argv.length, MAX_ARG_STRLEN);
  if (isError(envp)) return envp;
  return execProgram(t, pathBytes(path), argv, envp, { dirfd, flags });
}

/**
 * Replaces the task's program, as execve does once the arguments are known: what the runtime
 * calls to start the first program of a sandbox (pid 1 made with `Kernel.spawnInit`), with argv
 * and envp from the command line. `path` is resolved in the sandbox VFS from the task's cwd (or
 * `opts.dirfd`). Returns NO_RESULT when the task now runs the new program (registers set), an
 * errno when nothing changed, or TASK_GONE when a failure after the point of no return killed
 * the process (SIGSEGV, as Linux).
 */
export async function execProgram(
  t: Task,
  pathIn: Uint8Array,
  argv: readonly Uint8Array[],
  envp: readonly Uint8Array[],
  opts: { dirfd?: number; flags?: number } = {},
): Promise<SyscallResult> {
  const dirfd = opts.dirfd ?? -100;
  const flags = opts.flags ?? 0;
  const path = Buffer.from(pathIn).toString('latin1');
  if (path.length === 0 && !(flags & At.AT_EMPTY_PATH)) return E.ENOENT;

  const opened = new Map<Uint8Array, OpenedExec>();
  let first = true;
  const prog = await resolveProgram(pathBytes(path), argv, (p) => {
    const s = Buffer.from(p).toString('latin1');
    const r = first ? openExec(t, dirfd, s, flags) : openExec(t, dirfd, s, 0);
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
  const k = t.kernel;
  const stackLimit = softLimit(t.group.rlimits, Rlimit.RLIMIT_STACK);
  const model = new AddressSpace({
    mmapBase: mmapBaseFor(Number.isFinite(stackLimit) ? stackLimit : Infinity, 0, false),
  });
  const random = new Uint8Array(16);
  webcrypto.getRandomValues(random);
  const c = t.creds;
  const layout = layoutExec(prog, {
    place: (len, align) => {
      // Reserve the whole image where mm's top-down search puts it, aligned as its segments ask.
      const addr = model.mmap(
        0,
        len + align,
        Prot.PROT_NONE,
        MapFlag.MAP_PRIVATE | MapFlag.MAP_ANONYMOUS,
        null,
        0,
      );
      if (isError(addr)) return addr;
      const aligned = Math.ceil(addr / align) * align;
      model.munmap(addr, len + align);
      return aligned;
    },
    stackTop: k.stackTop,
    envp,
    random,
    aux: {
      uid: c.uid,
      euid: c.euid,
      gid: c.gid,
      egid: c.egid,
      secure: false,
      hwcap: k.cpuAux.hwcap,
      hwcap2: k.cpuAux.hwcap2,
      minSigStackSize: k.cpuAux.minSigStackSize,
      ...(k.cpuAux.vdso !== undefined ? { vdso: k.cpuAux.vdso } : {}),
    },
    stackLimit: Number.isFinite(stackLimit) ? stackLimit : 8 * 1024 * 1024,
  });
  if (isError(layout)) {
    releaseAll();
    return layout;
  }
  const mainFile = opened.get(prog.path) ?? [...opened.values()].at(-1);
  const interpFile = prog.interp ? opened.get(prog.interp.path) : undefined;
  if (!mainFile || (prog.interp && !interpFile)) throw new Error('execve: opened file lost');

  // --- point of no return: the old image goes away.
  for (const other of [...t.group.tasks]) if (other !== t) k.exitThread(other as Task, 0);
  const ctx = ctxOf(t);
  const failed = (e: LinuxError): SyscallResult => {
    k.log(`execve: image setup failed after the point of no return: ${String(e)}`);
    releaseAll();
    k.killGroup(t.group, 11);
    return TASK_GONE;
  };
  let e = mapImage(model, layout.main, mainFile, () => vfsOf(t).pathOf(ctx, mainFile.description.location));
  if (!e && layout.interp && interpFile) {
    e = mapImage(model, layout.interp, interpFile, () =>
      vfsOf(t).pathOf(ctx, interpFile.description.location),
    );
  }
  if (e) return failed(e);
  model.initBrk(layout.main.brk);
  const stackLow = layout.stack.sp;
  const st = model.setupStack(k.stackTop, stackLow, layout.execStack);
  if (isError(st)) return failed(st);
  Object.assign(model.layout, {
    startCode: layout.main.start,
    endCode: layout.main.end,
    argStart: layout.stack.argStart,
    argEnd: layout.stack.argEnd,
    envStart: layout.stack.envStart,
    envEnd: layout.stack.envEnd,
    startStack: layout.stack.sp,
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
  const stackErr = t.memory.writeExact(layout.stack.sp, layout.stack.bytes);
  if (stackErr) return failed(stackErr);
  for (const plan of [layout.main, layout.interp]) {
    for (const m of plan?.mappings ?? []) {
      if (m.kind === 'file' && m.zeroFrom !== undefined && m.zeroTo !== undefined) {
        // Best effort, as Linux's padzero on a read-only bss page.
        t.memory.writeExact(m.zeroFrom, new Uint8Array(m.zeroTo - m.zeroFrom));
      }
    }
  }

  // The process now runs the new program.
  t.regs = CpuState.fresh(layout.entry, layout.stack.sp);
  t.files.closeOnExec();
  t.group.actions.resetForExec();
  t.group.didExec = true;
  const auxv = new Uint8Array((layout.stack.auxv.length + 1) * 16);
  const av = new DataView(auxv.buffer);
  layout.stack.auxv.forEach(([k, v], i) => {
    av.setBigUint64(i * 16, BigInt(k), true);
    av.setBigUint64(i * 16 + 8, BigInt(v), true);
  });
  t.group.auxv = auxv;
  t.altStack = { sp: 0, size: 0, flags: 0 };
  t.clearChildTid = 0;
  t.robustList = { head: 0, len: 0 };
  t.restartBlock = undefined;
  const name = Buffer.from(prog.execfn).toString('latin1').split('/').at(-1) ?? '';
  t.comm = name.slice(0, 15);
  t.exe = mainFile.description.location;
  k.completeVfork(t);
  releaseAll();
  return NO_RESULT;
}

/** implements execve(2). */
function execve(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  return doExecve(t, -100, ptr(a[0]), ptr(a[1]), ptr(a[2]), 0);
}

/** implements execveat(2): AT_EMPTY_PATH executes the dirfd itself; AT_SYMLINK_NOFOLLOW. */
function execveat(t: Task, a: SyscallArgs): Promise<SyscallResult> {
  const dirfd = int(a[0]);
  return doExecve(t, dirfd, ptr(a[1]), ptr(a[2]), ptr(a[3]), int(a[4]));
}

/** Program execution syscalls. */
export const execSyscalls: SyscallFamily = {
  execve: {
    handler: execve,
    support: partial("executing from a non-leader thread keeps that thread's tid; no set-id binaries"),
  },
  execveat: { handler: execveat, support: partial('as execve') },
};
