/**
 * Parsing of the `tsvisor` command line. Pure: from argv strings to a command or a usage error.
 *
 * @module
 */

/** A parsed `tsvisor do` invocation. */
export interface DoCommand {
  readonly kind: 'do';
  readonly argv: readonly string[];
  readonly strace: boolean;
  readonly straceLog: string | undefined;
  /** Where the sandbox log goes (unsupported syscalls, caught bugs): a file, `-` for stderr, or with the strace output when undefined. */
  readonly log: string | undefined;
  readonly cwd: string | undefined;
  /** `KEY=VALUE` pairs given with `--env`, in order. */
  readonly env: readonly string[];
  readonly volumes: readonly { host: string; sandbox: string; readOnly: boolean }[];
}

/** What the command line asks for. */
export type Command =
  | DoCommand
  | { readonly kind: 'help'; readonly topic: 'main' | 'do' }
  | { readonly kind: 'error'; readonly message: string };

/** Help of `tsvisor`. */
export const MAIN_HELP = `Usage: tsvisor <command> [options]

Commands:
  do      run a program in a sandbox: tsvisor do [options] -- CMD [ARGS...]

Run 'tsvisor do --help' for the options of do.
`;

/** Help of `tsvisor do`. */
export const DO_HELP = `Usage: tsvisor do [options] [--] CMD [ARGS...]

Runs CMD in a sandbox whose every system call is answered by tsvisor. The sandbox sees the
host's / read-only under an in-memory writable layer (nothing it writes reaches the host),
/dev, /proc and a fresh /tmp. Its stdin, stdout and stderr are those of tsvisor. The exit
status is the program's (128+n when signal n killed it).

Options:
  --strace              print every system call in strace's format to stderr
  --strace-log FILE     print them to FILE instead (implies --strace)
  --log FILE            write the sandbox log (unsupported syscalls, ...) to FILE (- for stderr;
                        by default it goes only with --strace output)
  --cwd DIR             working directory inside the sandbox (default /)
  --env KEY=VALUE       set an environment variable (repeatable)
  -v, --volume HOST:SANDBOX[:ro]
                        mount host directory HOST at SANDBOX, read-only with :ro (repeatable)
  -h, --help            show this help
`;

/** Parses the arguments after the program name (`process.argv.slice(2)`). */
export function parseArgs(args: readonly string[]): Command {
  const [cmd, ...rest] = args;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help')
    return { kind: 'help', topic: 'main' };
  if (cmd !== 'do') return { kind: 'error', message: `unknown command '${cmd}'` };
  let strace = false;
  let straceLog: string | undefined;
  let log: string | undefined;
  let cwd: string | undefined;
  const env: string[] = [];
  const volumes: { host: string; sandbox: string; readOnly: boolean }[] = [];
  let i = 0;
  const value = (name: string, inline: string | undefined): string | { error: string } => {
    if (inline !== undefined) return inline;
    const v = rest[++i];
    return v === undefined ? { error: `${name} needs a value` } : v;
  };
  for (; i < rest.length; i++) {
    const a = rest[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq >= 0 ? a.slice(0, eq) : a;
    const inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    switch (name) {
      case '-h':
      case '--help':
        return { kind: 'help', topic: 'do' };
      case '--strace':
        strace = true;
        break;
      case '--strace-log': {
        const v = value(name, inline);
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        straceLog = v;
        strace = true;
        break;
      }
      case '--log': {
        const v = value(name, inline);
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        log = v;
        break;
      }
      case '--cwd': {
        const v = value(name, inline);
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        if (!v.startsWith('/')) return { kind: 'error', message: `--cwd must be an absolute path: '${v}'` };
        cwd = v;
        break;
      }
      case '--env': {
        const v = value(name, inline);
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        if (v.indexOf('=') <= 0) return { kind: 'error', message: `--env wants KEY=VALUE: '${v}'` };
        env.push(v);
        break;
      }
      case '-v':
      case '--volume': {
        const v = value(name, inline);
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        const vol = parseVolume(v);
        if (typeof vol === 'string') return { kind: 'error', message: vol };
        volumes.push(vol);
        break;
      }
      default:
        return { kind: 'error', message: `unknown option '${a}'` };
    }
  }
  const argv = rest.slice(i);
  if (argv.length === 0)
    return { kind: 'error', message: 'no program given: tsvisor do [options] -- CMD [ARGS...]' };
  return { kind: 'do', argv, strace, straceLog, log, cwd, env, volumes };
}

/** `HOST:SANDBOX[:ro]` (or `:rw`), both absolute paths. */
export function parseVolume(spec: string): { host: string; sandbox: string; readOnly: boolean } | string {
  const parts = spec.split(':');
  let readOnly = false;
  if (parts.length === 3 && (parts[2] === 'ro' || parts[2] === 'rw')) {
    readOnly = parts[2] === 'ro';
    parts.pop();
  }
  const [host, sandbox] = parts;
  if (parts.length !== 2 || !host || !sandbox) return `-v wants HOST:SANDBOX[:ro]: '${spec}'`;
  if (!host.startsWith('/') || !sandbox.startsWith('/')) return `-v paths must be absolute: '${spec}'`;
  return { host, sandbox, readOnly };
}

/** The sandbox environment: the host's, then the `--env` settings (a later one wins). */
export function mergeEnv(
  host: Readonly<Record<string, string | undefined>>,
  extra: readonly string[],
): string[] {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(host)) if (v !== undefined) out.set(k, v);
  for (const kv of extra) {
    const eq = kv.indexOf('=');
    out.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return [...out].map(([k, v]) => `${k}=${v}`);
}
