/**
 * A collection of the supervisor's young generation between its own start-up and the sandboxed
 * program's first instruction.
 *
 * Why: starting a sandbox (the bundle, the kernel, the host stub, the program's execve) leaves
 * V8's young generation nearly full, so the program's first few hundred system calls paid a
 * scavenge that also promoted the start-up's survivors, 1.3-1.4 ms in a fresh sandbox. A 1 MiB
 * loopback transfer with its setup, about 7 ms, took it in three runs of four. Collected before
 * the program runs, the young generation starts empty: that transfer ran 15% faster (154 against
 * 134 MB/s, 15 alternating runs), the first 64 MiB 5% (890 against 846), and `/bin/true` took as
 * long as before (58.1 against 58.0 ms, medians of 60; packages/runtime/bench/README.md,
 * fifteenth pass).
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'minor' | 'major' }) => void;

/**
 * A function that runs one scavenge (V8's minor collection), or undefined where this Node cannot
 * give one. Node exposes V8's collector only under `--expose-gc`, a flag the command does not
 * start with (its code cache and Node's own were made without it): the flag is set just long
 * enough for a new context to get the `gc` function, then cleared, which leaves V8's flag hash,
 * and so every code cache, as it was.
 */
export function youngGenerationCollector(): (() => void) | undefined {
  const own = (globalThis as { gc?: Gc }).gc;
  let gc: Gc | undefined = own;
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc | undefined;
    } catch {
      gc = undefined;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  if (typeof gc !== 'function') return undefined;
  const collect = gc;
  return () => collect({ type: 'minor' });
}
