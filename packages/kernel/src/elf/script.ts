/**
 * `#!` interpreter scripts, as Linux's binfmt_script handles them: the first line names an
 * interpreter and at most one argument (everything after the interpreter name, trimmed, even if
 * it contains spaces), and the new argv is `[interpreter, arg?, script path, argv[1..]]`.
 *
 * @module
 */
import { E, type LinuxError } from '@tsvisor/abi';

/** Linux's `BINPRM_BUF_SIZE`: only the first 256 bytes of a file are examined. */
export const BINPRM_BUF_SIZE = 256;

/** The most nested interpreters (script → script → ...) before `ELOOP`. */
export const MAX_INTERP_DEPTH = 5;

/** A parsed `#!` line. */
export interface ShebangLine {
  readonly interpreter: Uint8Array;
  readonly arg: Uint8Array | undefined;
}

const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x09;

/**
 * Parses the `#!` line from the first bytes of a file, or `undefined` if it is not a script.
 * `ENOEXEC` when the interpreter name is empty or cut off by the 256-byte limit.
 */
export function parseShebang(head: Uint8Array): ShebangLine | undefined | LinuxError {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const buf = head.subarray(0, BINPRM_BUF_SIZE);
  let end = buf.indexOf(0x0a);
  const truncated = end < 0;
  if (truncated) end = buf.length;
  let i = 2;
  while (i < end && isSpace(buf[i])) i++;
  // Trailing whitespace of the line is dropped.
  let lineEnd = end;
  while (lineEnd > i && (isSpace(buf[lineEnd - 1]) || buf[lineEnd - 1] === 0)) lineEnd--;
  if (i >= lineEnd) return E.ENOEXEC;
  let j = i;
  while (j < lineEnd && !isSpace(buf[j]) && buf[j] !== 0) j++;
  // A name running into the end of an unterminated buffer may have been cut: refuse it.
  if (truncated && j === lineEnd && lineEnd === buf.length) return E.ENOEXEC;
  const interpreter = buf.slice(i, j);
  let k = j;
  while (k < lineEnd && isSpace(buf[k])) k++;
  const arg = k < lineEnd ? buf.slice(k, lineEnd) : undefined;
  return { interpreter, arg };
}

/**
 * The argv of the interpreter run: `[interpreter, arg?, scriptPath, ...argv.slice(1)]` (the
 * script's own argv[0] is replaced by the path it was executed as).
 */
export function scriptArgv(
  line: ShebangLine,
  scriptPath: Uint8Array,
  argv: readonly Uint8Array[],
): Uint8Array[] {
  const out = [line.interpreter];
  if (line.arg) out.push(line.arg);
  out.push(scriptPath, ...argv.slice(1));
  return out;
}
