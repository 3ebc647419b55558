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
  /**
   * `--network`: `sandbox` (the default: loopback plus a NIC behind the gateway), `none`, or
   * `host` (inet sockets are host sockets).
   */
  readonly network: 'none' | 'sandbox' | 'host';
  /** `--ipv6`: IPv6 on network mode sandbox's eth0 (slirp4netns's --enable-ipv6); absent when off. */
  readonly ipv6?: true;
  /** `-p HOST:SANDBOX[/udp]` forwards, in order. */
  readonly ports: readonly PortSpec[];
  /** The cgroup limits of `--memory`, `--cpus` and `--pids`; absent when none is given. */
  readonly limits?: LimitSpec;
}

/** Limits for the sandbox's cgroup, in the runtime's `SandboxConfig.limits` units. */
export interface LimitSpec {
  /** memory.max in bytes. */
  readonly memoryMax?: number;
  /** cpu.max's quota in microseconds per {@link cpuPeriodUs}. */
  readonly cpuQuotaUs?: number;
  readonly cpuPeriodUs?: number;
  /** pids.max. */
  readonly pidsMax?: number;
}

/** An inbound port forward: the host's 127.0.0.1:`host` to the sandbox's port `sandbox`. */
export interface PortSpec {
  readonly host: number;
  readonly sandbox: number;
  readonly protocol: 'tcp' | 'udp';
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
  --network MODE        sandbox (default): loopback and eth0 (10.0.2.15), whose traffic a gateway
                        in tsvisor carries over host sockets (10.0.2.2 is the host's 127.0.0.1,
                        DNS at 10.0.2.3); none: loopback only; host: sockets are the host's
                        (fastest, least isolated: the program reaches what the host reaches)
  --ipv6                IPv6 on eth0 too (needs --network sandbox): fd00::100/64, fd00::2 is the
                        host's ::1, DNS also at fd00::3; -p listens on [::1]:HOST as well
  -p, --publish HOST:SANDBOX[/udp]
                        forward the host's 127.0.0.1:HOST to the sandbox's port SANDBOX, TCP or
                        UDP (repeatable; needs --network sandbox)
  --memory SIZE         memory.max of the sandbox (bytes, or with a K, M, G or T suffix): past
                        it the largest process is killed with SIGKILL
  --cpus N              CPU share, e.g. 0.5 (cpu.max N*100000 per 100000 us)
  --pids N              pids.max: the most tasks (threads) the sandbox may hold
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
  let network: 'none' | 'sandbox' | 'host' = 'sandbox';
  let ipv6 = false;
  const ports: PortSpec[] = [];
  let limits: LimitSpec | undefined;
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
      case '--ipv6':
        ipv6 = true;
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
      case '--network': {
        const v = value(name, inline);
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        if (v !== 'none' && v !== 'sandbox' && v !== 'host')
          return { kind: 'error', message: `--network wants none, sandbox or host: '${v}'` };
        network = v;
        break;
      }
      case '-p':
      case '--publish': {
        const v = value(name, inline);
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        const port = parsePort(v);
        if (typeof port === 'string') return { kind: 'error', message: port };
        ports.push(port);
        break;
      }
      case '--memory':
      case '--cpus':
      case '--pids': {
        const v = value(name, inline);
        if (typeof v !== 'string') return { kind: 'error', message: v.error };
        const l = parseLimit(name, v);
        if (typeof l === 'string') return { kind: 'error', message: l };
        limits = { ...limits, ...l };
        break;
      }
      default:
        return { kind: 'error', message: `unknown option '${a}'` };
    }
  }
  const argv = rest.slice(i);
  if (argv.length === 0)
    return { kind: 'error', message: 'no program given: tsvisor do [options] -- CMD [ARGS...]' };
  if (ports.length > 0 && network !== 'sandbox')
    return { kind: 'error', message: '-p needs --network sandbox' };
  if (ipv6 && network !== 'sandbox') return { kind: 'error', message: '--ipv6 needs --network sandbox' };
  return {
    kind: 'do',
    argv,
    strace,
    straceLog,
    log,
    cwd,
    env,
    volumes,
    network,
    ...(ipv6 ? { ipv6 } : {}),
    ports,
    ...(limits ? { limits } : {}),
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * `--memory SIZE` (bytes, optional K/M/G/T suffix, binary units as docker's), `--cpus N` (a
 * positive decimal: quota N*100000 us per 100000 us) or `--pids N` (a positive integer).
 */
export function parseLimit(name: '--memory' | '--cpus' | '--pids', v: string): LimitSpec | string {
  if (name === '--memory') {
    const m = /^(\d+)([kmgt]?)b?$/i.exec(v);
    const bytes = m ? Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1) : NaN;
    if (!Number.isSafeInteger(bytes) || bytes <= 0) return `--memory wants a size such as 256M: '${v}'`;
    return { memoryMax: bytes };
  }
  if (name === '--cpus') {
    const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
    const quota = Math.round(n * 100000);
    // cpu.max's smallest quota is 1000 us.
    if (!Number.isFinite(n) || quota < 1000) return `--cpus wants a number of CPUs of at least 0.01: '${v}'`;
    return { cpuQuotaUs: quota, cpuPeriodUs: 100000 };
  }
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) return `--pids wants a positive integer: '${v}'`;
  return { pidsMax: n };
}

/** `HOST:SANDBOX` or `HOST:SANDBOX/udp` (or `/tcp`), ports 1-65535. */
export function parsePort(spec: string): PortSpec | string {
  const m = /^(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(spec);
  const host = Number(m?.[1]);
  const sandbox = Number(m?.[2]);
  if (!m || host < 1 || host > 65535 || sandbox < 1 || sandbox > 65535)
    return `-p wants HOST:SANDBOX[/udp] with ports 1-65535: '${spec}'`;
  return { host, sandbox, protocol: m[3] === 'udp' ? 'udp' : 'tcp' };
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
