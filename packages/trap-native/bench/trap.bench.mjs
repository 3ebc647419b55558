// Benchmark of the ptrace platform (not a test): one line per figure, all measured in this run.
//   npm run bench -w @tsvisor/trap-native
// Figures: trapped getppid round trip answered by TypeScript (default placement, and unpinned
// for comparison), native getppid, their ratio, the same loop under gVisor's ptrace platform
// when runsc is installed, a 4 KiB memory read and write, an injected mmap.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Platform } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'trap-bench-'));
const CALLS = Number(process.env.BENCH_CALLS ?? 20000);
const REPORT = 1000;
const SYS_exit_group = 231;

function gcc(args) {
  execFileSync('gcc', args, { stdio: 'inherit' });
}

// The guest of the tests (raw system calls, no libc), and a native getppid loop with glibc.
const guest = join(dir, 'guest');
gcc([
  '-static',
  '-nostdlib',
  '-fno-pie',
  '-no-pie',
  '-O1',
  '-fno-stack-protector',
  '-fcf-protection=none',
  '-o',
  guest,
  join(here, '../src/testdata/guest.c'),
]);
const nativeSrc = join(dir, 'native.c');
writeFileSync(
  nativeSrc,
  `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char** argv) {
  long n = atol(argv[1]);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) syscall(SYS_getppid);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.6f\\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / n);
  return 0;
}
`,
);
const nativeBin = join(dir, 'native');
gcc(['-O2', '-static', '-o', nativeBin, nativeSrc]);

/** Loads the static guest into a fresh stub with injected mmaps and writes; rdi = mode. */
function load(platform, mode) {
  const stub = platform.createStub();
  const task = stub.task;
  const elf = readFileSync(guest);
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const phoff = Number(dv.getBigUint64(32, true));
  for (let i = 0; i < dv.getUint16(56, true); i++) {
    const o = phoff + i * dv.getUint16(54, true);
    if (dv.getUint32(o, true) !== 1) continue;
    const off = Number(dv.getBigUint64(o + 8, true));
    const vaddr = Number(dv.getBigUint64(o + 16, true));
    const filesz = Number(dv.getBigUint64(o + 32, true));
    const memsz = Number(dv.getBigUint64(o + 40, true));
    const start = vaddr & ~0xfff;
    const end = (vaddr + memsz + 0xfff) & ~0xfff;
    task.hostSyscall(9, start, end - start, 7, 0x32, -1, 0);
    task.writeMemory(vaddr, elf.subarray(off, off + filesz));
  }
  task.hostSyscall(9, 0x7eff00000000, 0x10000, 3, 0x32, -1, 0);
  const regs = task.getRegs();
  regs.set('rip', Number(dv.getBigUint64(24, true)));
  regs.set('rsp', 0x7eff00000000 + 0x10000 - 64);
  regs.set('rdi', mode);
  regs.set('orig_rax', -1);
  task.setRegs(regs);
  return { stub, task };
}

/** µs per trapped getppid answered from TypeScript, over CALLS calls (after a warm-up). */
async function trapped(platform) {
  const { stub, task } = load(platform, 7);
  const first = await task.switch();
  if (first.kind !== 'syscall' || first.nr !== REPORT) throw new Error('guest did not start');
  task.setSyscallResult(CALLS + 1000);
  let n = 0;
  let t0 = 0;
  for (;;) {
    const ev = await task.switch();
    if (ev.kind !== 'syscall') throw new Error(`unexpected ${ev.kind}`);
    if (ev.nr === SYS_exit_group) break;
    if (++n === 1000) t0 = performance.now();
    task.setSyscallResult(4242);
  }
  const us = ((performance.now() - t0) * 1000) / CALLS;
  stub.kill();
  return us;
}

/** µs per getppid under gVisor's ptrace platform (runsc needs root); undefined without runsc. */
function runsc() {
  try {
    const out = execFileSync('runsc', ['--platform=ptrace', '--network=none', 'do', nativeBin, '20000'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    });
    const us = Number(out.trim());
    return Number.isFinite(us) && us > 0 ? us : undefined;
  } catch {
    return undefined;
  }
}

function timeIt(n, fn) {
  for (let i = 0; i < Math.min(200, n); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t0) * 1000) / n;
}

const line = (label, value, unit) =>
  console.log(`${label.padEnd(44)} ${value.toFixed(2).padStart(9)} ${unit}`);

// Unpinned first (its platform must be closed before the default one pins the tracer).
const loose = Platform.create({ placement: 'none' });
const unpinnedUs = await trapped(loose);
loose.close();

const platform = Platform.create();
const trappedUs = await trapped(platform);
const nativeUs = Number(execFileSync(nativeBin, ['2000000'], { encoding: 'utf8' }).trim());
const runscUs = runsc();

const { stub, task } = load(platform, 7);
await task.switch();
const page = 0x30000000;
task.hostSyscall(9, page, 4096, 3, 0x32, -1, 0);
const buf = new Uint8Array(4096).fill(7);
const readUs = timeIt(20000, () => task.readMemory(page, buf));
const writeUs = timeIt(20000, () => task.writeMemory(page, buf));
const mmapUs = timeIt(5000, () => task.hostSyscall(9, page, 4096, 3, 0x32, -1, 0));
const cpu = platform.cpu;
stub.kill();
platform.close();
rmSync(dir, { recursive: true, force: true });

line(`trapped getppid, TS answers (pinned, cpu ${cpu})`, trappedUs, 'us/call');
line('trapped getppid, TS answers (unpinned)', unpinnedUs, 'us/call');
line('native getppid', nativeUs, 'us/call');
line('ratio trapped/native', trappedUs / nativeUs, 'x');
if (runscUs !== undefined) {
  line('gVisor runsc --platform=ptrace getppid', runscUs, 'us/call');
  line('ratio runsc/trapped', runscUs / trappedUs, 'x');
} else {
  console.log('gVisor runsc --platform=ptrace getppid       not measured (runsc unavailable)');
}
line('read 4 KiB of task memory', readUs, 'us');
line('write 4 KiB of task memory', writeUs, 'us');
line('injected mmap', mmapUs, 'us');
