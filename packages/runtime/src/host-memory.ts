/**
 * Applying `@tsvisor/mm`'s host-operation journal to a stub process: each {@link HostOp} becomes
 * a system call injected into a stopped host thread of the address space (mmap, munmap, mprotect,
 * mremap, madvise), so the host pages follow the model exactly.
 *
 * A file with a host fd is passed into the stub and mapped for real, shared or private: host
 * files (hostfs, the overlay's lower layer) have their own fd, and in-memory files (tmpfs, the
 * overlay's upper layer, memfds) move their bytes into a memfd of the supervisor the first time
 * they are mapped ({@link attachHostMemory} gives them one), so every sharer, fork children and
 * read(2)/write(2) included, sees the same pages. Files that can only be read (filesystems without host
 * memory: a kernel assembled without a provider) are copied into fresh anonymous memory
 * for a private mapping (mapped writable first, then protected as asked); a shared mapping of
 * them gives ENODEV. The stub's own pages ({@link STUB_REGION}) are never touched: the model
 * holds them as reserved (sealed) ranges ({@link STUB_RESERVED}) and never journals an operation
 * over them; operations are clipped around them all the same, as a second line of defence.
 *
 * @module
 */
import { E, MapFlag, Mremap, Prot, errorOf, isError, type LinuxError } from '@tsvisor/abi';
import type { HostOp, MapFile, ReservedRange } from '@tsvisor/mm';
import {
  STUB_REGION,
  memfdAddSeals,
  memfdCreate,
  type Task as HostTask,
  type VdsoLayout,
} from '@tsvisor/trap-native';
import {
  FileDescription,
  Overlayfs,
  Tmpfs,
  memfdFsOf,
  type HostMemoryProvider,
  type Vfs,
} from '@tsvisor/vfs';
import { NR_CLOSE, NR_MADVISE, NR_MMAP, NR_MPROTECT, NR_MREMAP, NR_MUNMAP } from './host-nr.js';

const { PROT_READ, PROT_WRITE } = Prot;
const { MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS, MAP_POPULATE } = MapFlag;
const { MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP } = Mremap;

/** Host memory from memfds of the supervisor (see `memfdCreate` in `@tsvisor/trap-native`). */
export const memfdHostMemory: HostMemoryProvider = {
  create: (name) => memfdCreate(name),
  addSeals: (fd, seals) => memfdAddSeals(fd, seals),
};

/**
 * Gives host memory to the in-memory filesystems of `vfs` as mounted now (every tmpfs, devfs
 * included, and the tmpfs upper layer of an overlay) and to its memfds, so the platform can map
 * their files shared. A tmpfs mounted later by the sandbox keeps its bytes to itself.
 */
export function attachHostMemory(vfs: Vfs, provider: HostMemoryProvider = memfdHostMemory): void {
  for (const m of vfs.mounts()) {
    const fs = m.fs;
    if (fs instanceof Tmpfs) fs.hostMemory = provider;
    else if (fs instanceof Overlayfs && fs.upper instanceof Tmpfs) fs.upper.hostMemory = provider;
  }
  memfdFsOf(vfs).hostMemory = provider;
}

/**
 * The VFS open file behind a mapped file: the file itself, or the `description` a wrapper (the
 * syscall layer's map file) carries.
 */
function descriptionOf(file: MapFile): FileDescription | undefined {
  if (file instanceof FileDescription) return file;
  const inner = (file as { description?: unknown }).description;
  return inner instanceof FileDescription ? inner : undefined;
}

/** Reads file bytes for a copied private mapping. */
type ContentReader = (offset: number, length: number) => Uint8Array | LinuxError;

/** The content reader of a mapped file, or undefined if the runtime cannot read it. */
function readerOf(file: MapFile): ContentReader | undefined {
  const fd = descriptionOf(file);
  if (fd) return (offset, length) => preadFully(fd, offset, length);
  return undefined;
}

/**
 * Reads `length` bytes at `offset`, or fewer at end of file: a filesystem may return short reads
 * (hostfs reads in chunks), so this repeats until the count or EOF.
 */
export function preadFully(file: FileDescription, offset: number, length: number): Uint8Array | LinuxError {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = file.pread(buf.subarray(done), offset + done);
    if (typeof n !== 'number') return isError(n) ? n : E.EIO;
    if (n === 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** The host fd behind a mapped file, if it has one. */
function hostFdOf(file: MapFile): number | null {
  return descriptionOf(file)?.hostFd() ?? null;
}

function result(n: number): number | LinuxError {
  return n < 0 && n > -4096 ? errorOf(-n) : n;
}

/**
 * The stub's pages as the memory model reserves them in every address space (the kernel's
 * `reserved` option): its code page (r-x) and its scratch page (rw-), both `[tsvisor]` in maps.
 */
export const STUB_RESERVED: readonly ReservedRange[] = [
  {
    start: STUB_REGION.start,
    end: STUB_REGION.start + 0x1000,
    prot: Prot.PROT_READ | Prot.PROT_EXEC,
    name: '[tsvisor]',
  },
  {
    start: STUB_REGION.start + 0x1000,
    end: STUB_REGION.end,
    prot: Prot.PROT_READ | Prot.PROT_WRITE,
    name: '[tsvisor]',
  },
];

/**
 * The host vDSO kept in the stub ({@link VdsoLayout}), as the model's reserved ranges: `[vdso]`
 * r-xp and `[vvar]`/`[vvar_vclock]` r--p, the names and permissions Linux shows in maps.
 */
export function vdsoReserved(layout: VdsoLayout): ReservedRange[] {
  return [
    ...layout.vvar.map((v) => ({ start: v.start, end: v.end, prot: Prot.PROT_READ, name: v.name })),
    {
      start: layout.vdso.start,
      end: layout.vdso.end,
      prot: Prot.PROT_READ | Prot.PROT_EXEC,
      name: '[vdso]',
    },
  ].sort((a, b) => a.start - b.start);
}

function overlapsStub(addr: number, len: number): boolean {
  return addr < STUB_REGION.end && addr + len > STUB_REGION.start;
}

/** `[addr, addr+len)` minus the stub's pages, as at most two ranges. */
function clip(addr: number, len: number): [number, number][] {
  const end = addr + len;
  const s = STUB_REGION.start;
  const e = STUB_REGION.end;
  if (end <= s || addr >= e) return [[addr, len]];
  const out: [number, number][] = [];
  if (addr < s) out.push([addr, s - addr]);
  if (end > e) out.push([e, end - e]);
  return out;
}

/**
 * Applies `ops` in order inside `host` (stopped). Stops at the first failure and returns its
 * errno (ENOMEM for most host refusals).
 */
export function applyHostOps(host: HostTask, ops: readonly HostOp[]): undefined | LinuxError {
  for (const op of ops) {
    const r = applyOne(host, op);
    if (r) return r;
  }
  return undefined;
}

function applyOne(host: HostTask, op: HostOp): undefined | LinuxError {
  switch (op.op) {
    case 'mmap':
      return mmapOp(host, op);
    case 'munmap':
      for (const [a, l] of clip(op.addr, op.length)) {
        const r = result(host.hostSyscall(NR_MUNMAP, a, l));
        if (isError(r)) return r;
      }
      return undefined;
    case 'mprotect':
      for (const [a, l] of clip(op.addr, op.length)) {
        const r = result(host.hostSyscall(NR_MPROTECT, a, l, op.prot));
        // Holes in the range are allowed by the contract; the host reports them as ENOMEM.
        if (isError(r) && r !== E.ENOMEM) return r;
      }
      return undefined;
    case 'madvise':
      for (const [a, l] of clip(op.addr, op.length)) {
        const r = result(host.hostSyscall(NR_MADVISE, a, l, op.advice));
        if (isError(r) && r !== E.ENOMEM) return r;
      }
      return undefined;
    case 'mremap': {
      if (overlapsStub(op.oldAddr, op.oldLength) || overlapsStub(op.newAddr, op.newLength)) return E.ENOMEM;
      const r =
        op.newAddr === op.oldAddr && !op.dontUnmap
          ? result(host.hostSyscall(NR_MREMAP, op.oldAddr, op.oldLength, op.newLength, 0))
          : result(
              host.hostSyscall(
                NR_MREMAP,
                op.oldAddr,
                op.oldLength,
                op.newLength,
                MREMAP_MAYMOVE | MREMAP_FIXED | (op.dontUnmap ? MREMAP_DONTUNMAP : 0),
                op.newAddr,
              ),
            );
      return isError(r) ? r : undefined;
    }
  }
}

function mmapOp(host: HostTask, op: Extract<HostOp, { op: 'mmap' }>): undefined | LinuxError {
  const populate = op.populate ? MAP_POPULATE : 0;
  if (overlapsStub(op.addr, op.length)) {
    // Only the stub's reservation (or a MAP_FIXED over it) gets here: leave the stub alone and
    // map whatever lies around it as anonymous memory.
    for (const [a, l] of clip(op.addr, op.length)) {
      const r = anon(host, a, l, op.prot, op.shared, populate);
      if (r) return r;
    }
    return undefined;
  }
  const file = op.file;
  if (file === null || (op.shared && hostFdOf(file) === null && readerOf(file) === undefined)) {
    // Shared anonymous memory (a ShmemFile) is host shared anonymous memory: a host fork keeps it
    // shared, which is what fork children of the sandbox need.
    return anon(host, op.addr, op.length, op.prot, op.shared, populate);
  }
  const fd = hostFdOf(file);
  if (fd !== null) {
    const stubFd = host.passFd(fd);
    if (isError(stubFd)) return stubFd;
    const r = result(
      host.hostSyscall(
        NR_MMAP,
        op.addr,
        op.length,
        op.prot,
        (op.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED | populate,
        stubFd,
        op.offset,
      ),
    );
    host.hostSyscall(NR_CLOSE, stubFd);
    return isError(r) ? r : undefined;
  }
  if (op.shared) return E.ENODEV; // a shared mapping of a file that lives only in this process
  const read = readerOf(file);
  if (!read) return E.ENODEV;
  const m = anon(host, op.addr, op.length, op.prot | PROT_READ | PROT_WRITE, false, 0);
  if (m) return m;
  return fill(host, op, read(op.offset, op.length));
}

function fill(
  host: HostTask,
  op: Extract<HostOp, { op: 'mmap' }>,
  bytes: Uint8Array | LinuxError,
): undefined | LinuxError {
  if (isError(bytes)) return bytes;
  if (bytes.length > 0) {
    const w = host.writeMemory(op.addr, bytes.subarray(0, op.length));
    if (isError(w)) return w;
  }
  if ((op.prot & (PROT_READ | PROT_WRITE)) !== (PROT_READ | PROT_WRITE)) {
    const r = result(host.hostSyscall(NR_MPROTECT, op.addr, op.length, op.prot));
    if (isError(r)) return r;
  }
  return undefined;
}

function anon(
  host: HostTask,
  addr: number,
  len: number,
  prot: number,
  shared: boolean,
  populate: number,
): undefined | LinuxError {
  const r = result(
    host.hostSyscall(
      NR_MMAP,
      addr,
      len,
      prot,
      (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED | MAP_ANONYMOUS | populate,
      -1,
      0,
    ),
  );
  return isError(r) ? r : undefined;
}
