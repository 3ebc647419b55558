// Test helpers: compile C programs with gcc into a temp dir (at test time), and run sandboxes
// whose stdout and stderr go to temp files the test reads back.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** A temp dir for compiled programs and captured output; `cleanup()` removes it. */
export function workDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-runtime-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Compiles `src/testdata/<name>.c` into `dir` with the given gcc flags; returns the binary path. */
export function compile(dir: string, name: string, flags: readonly string[]): string {
  const out = join(dir, name);
  execFileSync('gcc', [...flags, '-o', out, join(here, 'testdata', `${name}.c`)]);
  return out;
}

/** Flags for a program without libc: static, no PIE, no stack protector. */
export const NOLIBC = [
  '-static',
  '-nostdlib',
  '-fno-pie',
  '-no-pie',
  '-O1',
  '-fno-stack-protector',
  '-fcf-protection=none',
];

/** Host fds for a sandbox's stdio: /dev/null in, files out; `read()` returns what was written. */
export function captureStdio(dir: string): {
  fds: [number, number, number];
  read: () => { stdout: string; stderr: string };
  close: () => void;
} {
  const outPath = join(dir, 'stdout');
  const errPath = join(dir, 'stderr');
  const fds: [number, number, number] = [
    openSync('/dev/null', 'r'),
    openSync(outPath, 'w'),
    openSync(errPath, 'w'),
  ];
  return {
    fds,
    read: () => ({ stdout: readFileSync(outPath, 'utf8'), stderr: readFileSync(errPath, 'utf8') }),
    close: () => fds.forEach((fd) => closeSync(fd)),
  };
}
