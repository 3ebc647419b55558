// Test helpers: compile the guest program with gcc, load it into a stub through the platform's
// own injected mmaps and memory writes (a minimal static ELF loader), and drive it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isError } from '@tsvisor/abi';
import type { Platform, Stub, Task } from './platform.js';
import type { TaskEvent } from './events.js';

export const SYS = {
  mmap: 9,
  mprotect: 10,
  munmap: 11,
  getpid: 39,
  clone: 56,
  fork: 57,
  exit: 60,
  getppid: 110,
  exit_group: 231,
};
export const REPORT = 1000;
const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 0x02;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
export const ANON_FIXED = MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS;
export const STACK_TOP = 0x7f0000000000;
const STACK_SIZE = 0x10000;

const here = dirname(fileURLToPath(import.meta.url));
let built: { dir: string; guest: string } | undefined;

/** Compiles testdata/guest.c once per test file (gcc -static -nostdlib). */
export function guestBinary(): string {
  if (built) return built.guest;
  const dir = mkdtempSync(join(tmpdir(), 'trap-native-'));
  const guest = join(dir, 'guest');
  execFileSync('gcc', [
    '-static',
    '-nostdlib',
    '-fno-pie',
    '-no-pie',
    '-O1',
    '-fno-stack-protector',
    '-fcf-protection=none',
    '-o',
    guest,
    join(here, 'testdata', 'guest.c'),
  ]);
  built = { dir, guest };
  return guest;
}

/** Removes the temp dir of the compiled guest. */
export function cleanupGuest(): void {
  if (built) rmSync(built.dir, { recursive: true, force: true });
  built = undefined;
}

/** Compiles testdata/<name>.c with glibc, statically and not position-independent. */
export function compileLibcProgram(name: string): string {
  guestBinary();
  const out = join(built!.dir, name);
  execFileSync('gcc', [
    '-O2',
    '-static',
    '-no-pie',
    '-fno-pie',
    '-o',
    out,
    join(here, 'testdata', `${name}.c`),
  ]);
  return out;
}

/** Rounds down to a multiple of `a` (bitwise & would truncate addresses to 32 bits). */
const alignDown = (x: number, a: number): number => x - (x % a);
const alignUp = (x: number, a: number): number => alignDown(x + a - 1, a);

function check(n: number, what: string): number {
  if (n < 0) throw new Error(`${what} failed: ${n}`);
  return n;
}

/**
 * Loads the static guest into the stub's first task the way tsvisor's loader will: injected
 * mmaps, memory writes, mprotect, a stack, and the registers set to the entry point with
 * `mode` in rdi.
 */
export function loadGuest(stub: Stub, mode: number): Task {
  const task = stub.task;
  const elf = readFileSync(guestBinary());
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const entry = Number(dv.getBigUint64(24, true));
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (dv.getUint32(o, true) !== 1) continue; // PT_LOAD
    const flags = dv.getUint32(o + 4, true);
    const off = Number(dv.getBigUint64(o + 8, true));
    const vaddr = Number(dv.getBigUint64(o + 16, true));
    const filesz = Number(dv.getBigUint64(o + 32, true));
    const memsz = Number(dv.getBigUint64(o + 40, true));
    const start = alignDown(vaddr, 4096);
    const end = alignUp(vaddr + memsz, 4096);
    check(
      task.hostSyscall(SYS.mmap, start, end - start, PROT_READ | PROT_WRITE, ANON_FIXED, -1, 0),
      'mmap segment',
    );
    const w = task.writeMemory(vaddr, elf.subarray(off, off + filesz));
    if (isError(w) || w !== filesz) throw new Error('segment write failed');
    const prot = (flags & 4 ? PROT_READ : 0) | (flags & 2 ? PROT_WRITE : 0) | (flags & 1 ? PROT_EXEC : 0);
    check(task.hostSyscall(SYS.mprotect, start, end - start, prot), 'mprotect');
  }
  check(
    task.hostSyscall(SYS.mmap, STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, ANON_FIXED, -1, 0),
    'stack',
  );
  const regs = task.getRegs();
  regs.set('rip', entry);
  regs.set('rsp', STACK_TOP - 64);
  regs.set('rdi', mode);
  regs.set('rax', 0);
  regs.set('orig_rax', -1);
  task.setRegs(regs);
  return task;
}

/**
 * Loads a static (non-PIE) ELF with a Linux-like initial stack: argc, argv, an empty envp and
 * the auxv entries static glibc reads (AT_PHDR for its TLS, AT_RANDOM for the stack guard).
 */
export function loadStaticElf(stub: Stub, path: string, argv: readonly string[]): Task {
  const task = stub.task;
  const elf = readFileSync(path);
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const entry = Number(dv.getBigUint64(24, true));
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  let phdr = 0;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (dv.getUint32(o, true) !== 1) continue;
    const flags = dv.getUint32(o + 4, true);
    const off = Number(dv.getBigUint64(o + 8, true));
    const vaddr = Number(dv.getBigUint64(o + 16, true));
    const filesz = Number(dv.getBigUint64(o + 32, true));
    const memsz = Number(dv.getBigUint64(o + 40, true));
    if (off === 0) phdr = vaddr + phoff;
    const start = alignDown(vaddr, 4096);
    const end = alignUp(vaddr + memsz, 4096);
    // Segments may share a page: map each page range once, then copy.
    task.hostSyscall(
      SYS.mmap,
      start,
      end - start,
      PROT_READ | PROT_WRITE,
      ANON_FIXED | 0x100000 /* NOREPLACE */,
      -1,
      0,
    );
    const w = task.writeMemory(vaddr, elf.subarray(off, off + filesz));
    if (isError(w) || w !== filesz) throw new Error('segment write failed');
    const prot = (flags & 4 ? PROT_READ : 0) | (flags & 2 ? PROT_WRITE : 0) | (flags & 1 ? PROT_EXEC : 0);
    check(task.hostSyscall(SYS.mprotect, start, end - start, prot | PROT_READ | PROT_WRITE), 'mprotect');
  }
  check(
    task.hostSyscall(SYS.mmap, STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, ANON_FIXED, -1, 0),
    'stack',
  );
  // Strings and the 16 random bytes at the top, then the word array below them.
  const enc = new TextEncoder();
  let sp = STACK_TOP;
  const argvPtrs = argv.map((a) => {
    const bytes = enc.encode(a + '\0');
    sp -= bytes.length;
    task.writeMemory(sp, bytes);
    return sp;
  });
  sp -= 16;
  const random = sp;
  task.writeMemory(
    random,
    Uint8Array.from({ length: 16 }, (_, i) => i * 7 + 1),
  );
  sp = alignDown(sp, 16);
  const AT = { PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, ENTRY: 9, RANDOM: 25, NULL: 0 };
  const words = [
    argv.length,
    ...argvPtrs,
    0,
    0, // empty envp
    AT.PHDR,
    phdr,
    AT.PHENT,
    phentsize,
    AT.PHNUM,
    phnum,
    AT.PAGESZ,
    4096,
    AT.ENTRY,
    entry,
    AT.RANDOM,
    random,
    AT.NULL,
    0,
  ];
  sp -= words.length * 8;
  sp = alignDown(sp, 16);
  task.writeMemory(sp, new Uint8Array(BigUint64Array.from(words, (w) => BigInt(w)).buffer));
  const regs = task.getRegs();
  regs.set('rip', entry);
  regs.set('rsp', sp);
  regs.set('rdx', 0); // no atexit function from a dynamic loader
  regs.set('orig_rax', -1);
  task.setRegs(regs);
  return task;
}

/** Creates a stub and loads the guest in `mode`. */
export function startGuest(platform: Platform, mode: number): { stub: Stub; task: Task } {
  const stub = platform.createStub();
  return { stub, task: loadGuest(stub, mode) };
}

/** Switches until an event that is not a syscall the helper answers itself (exit_group, exit). */
export async function next(task: Task): Promise<TaskEvent> {
  for (;;) {
    const ev = await task.switch();
    if (ev.kind === 'syscall' && (ev.nr === SYS.exit_group || ev.nr === SYS.exit)) {
      // The kernel's job, done here the simple way: let the host end the thread or process.
      task.hostSyscall(ev.nr, ev.args[0]);
      continue;
    }
    return ev;
  }
}

/** Expects a REPORT event and returns [tag, value]. */
export async function nextReport(task: Task): Promise<[number, number]> {
  const ev = await next(task);
  if (ev.kind !== 'syscall' || ev.nr !== REPORT)
    throw new Error(`expected a report, got ${JSON.stringify(ev)}`);
  return [ev.args[0], ev.args[1]];
}

/** True when host process `pid` no longer exists at all (not even as a zombie). */
export function gone(pid: number): boolean {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return false;
  } catch {
    return true;
  }
}
