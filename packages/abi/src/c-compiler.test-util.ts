// Test helper: compile a small C program with the host gcc into a temporary directory and run it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory removed by `dispose()`. */
export interface TempDir {
  readonly path: string;
  dispose(): void;
}

export function makeTempDir(prefix = 'tsvisor-abi-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** Compiles `sources` (file name -> text) into `dir/name` and returns the binary's path. */
export function compileC(
  dir: string,
  name: string,
  sources: Record<string, string>,
  flags: string[] = [],
): string {
  const files: string[] = [];
  for (const [file, text] of Object.entries(sources)) {
    const p = join(dir, file);
    writeFileSync(p, text);
    files.push(p);
  }
  const out = join(dir, name);
  execFileSync('gcc', ['-O0', '-w', '-o', out, ...files, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  return out;
}

/** Runs a preprocessor pass and returns the `#define` dump (`gcc -dM -E`). */
export function macroDump(include: string): string {
  return execFileSync('gcc', ['-dM', '-E', '-x', 'c', '-'], { input: `#include <${include}>\n` }).toString();
}
