/**
 * The `tsvisor` command: parses the command line and hands everything else to
 * `@tsvisor/runtime`.
 *
 * @module
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import { SandboxError, createSandbox } from '@tsvisor/runtime';
import { DO_HELP, MAIN_HELP, mergeEnv, parseArgs } from './args.js';
import { youngGenerationCollector } from './boot-gc.js';

/** Host fds the command uses; tests pass files. */
export interface MainIo {
  readonly stdio?: readonly [number, number, number];
  /** The host environment the sandbox starts from. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Runs `tsvisor` with `args` (without the program name) and resolves with the exit status:
 * the sandboxed program's, 2 for a usage error, 126/127 when the program cannot be started.
 */
export async function main(args: readonly string[], io: MainIo = {}): Promise<number> {
  const stdio = io.stdio ?? [0, 1, 2];
  const err = (text: string): void => void writeSync(stdio[2], text);
  const cmd = parseArgs(args);
  if (cmd.kind === 'help') {
    writeSync(stdio[1], cmd.topic === 'do' ? DO_HELP : MAIN_HELP);
    return 0;
  }
  if (cmd.kind === 'error') {
    err(`tsvisor: ${cmd.message}\n${MAIN_HELP}`);
    return 2;
  }
  let traceFd: number | undefined;
  let logFd: number | undefined;
  try {
    const open = (path: string, flags: string): number | undefined => {
      try {
        return openSync(path, flags);
      } catch (e) {
        err(`tsvisor: cannot open ${path}: ${(e as Error).message}\n`);
        return undefined;
      }
    };
    if (cmd.straceLog !== undefined && (traceFd = open(cmd.straceLog, 'w')) === undefined) return 2;
    if (cmd.log !== undefined && cmd.log !== '-' && (logFd = open(cmd.log, 'a')) === undefined) return 2;
    const out = traceFd ?? stdio[2];
    // The sandbox log stays off the program's stderr unless asked for, so a sandboxed run prints
    // what a native run prints: `--log FILE`, `--log -` (stderr), or alongside an --strace trace.
    const logOut = logFd ?? (cmd.log === '-' ? stdio[2] : cmd.strace ? out : undefined);
    const sandbox = createSandbox({
      argv: cmd.argv,
      env: mergeEnv(io.env ?? process.env, cmd.env),
      ...(cmd.cwd !== undefined ? { cwd: cmd.cwd } : {}),
      volumes: cmd.volumes,
      network: cmd.network,
      ...(cmd.ipv6 ? { ipv6: true } : {}),
      ports: cmd.ports,
      ...(cmd.limits ? { limits: cmd.limits } : {}),
      stdio,
      log: (line) => void (logOut !== undefined && writeSync(logOut, `tsvisor: ${line}\n`)),
      ...(cmd.strace ? { strace: (line: string) => void writeSync(out, `${line}\n`) } : {}),
      beforeStart: () => youngGenerationCollector()?.(),
    });
    // SIGTERM and SIGHUP sent to tsvisor go to the sandbox's pid 1. SIGINT and SIGQUIT from the
    // terminal reach the sandbox's host processes directly (same process group), so tsvisor
    // itself only has to survive them.
    const forward = (sig: NodeJS.Signals): void => void sandbox.signal(os.constants.signals[sig]);
    const ignore = (): void => undefined;
    const handlers: [NodeJS.Signals, () => void][] = [
      ['SIGTERM', () => forward('SIGTERM')],
      ['SIGHUP', () => forward('SIGHUP')],
      ['SIGINT', ignore],
      ['SIGQUIT', ignore],
    ];
    for (const [sig, h] of handlers) process.on(sig, h);
    try {
      return await sandbox.run();
    } finally {
      for (const [sig, h] of handlers) process.off(sig, h);
      sandbox.close();
    }
  } catch (e) {
    if (!(e instanceof SandboxError)) throw e;
    err(`tsvisor: ${e.message}\n`);
    return e.errno?.name === 'ENOENT' ? 127 : 126;
  } finally {
    if (traceFd !== undefined) closeSync(traceFd);
    if (logFd !== undefined) closeSync(logFd);
  }
}
