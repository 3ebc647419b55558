// Test helpers: compile C programs with gcc into a temp dir (at test time), and run sandboxes
// whose stdout and stderr go to temp files the test reads back.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { Platform } from '@tsvisor/trap-native';
import { createSandbox, type SandboxConfig } from './sandbox.js';

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

/**
 * Runs `exe` natively in a fresh network namespace with only lo, brought up (so no host
 * interface, route or sysctl leaks into what it prints); returns its stdout. Throws when it fails
 * or outlives `timeout` ms.
 */
export function runNativeInNetns(exe: string, args: readonly string[] = [], timeout = 20_000): string {
  return execFileSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', exe, ...args], {
    encoding: 'utf8',
    timeout,
  });
}

/**
 * Runs shell `script` natively in a network namespace whose eth0 is what the sandbox's looks
 * like in network mode `sandbox`: a veth with the sandbox's MAC address, MTU, address and
 * default route (10.0.2.15/24 via 10.0.2.2), IPv6 off on it (the sandbox's eth0 has none), its
 * peer (the gateway) in another namespace; the script also has a mount namespace with its own
 * /sys. Returns its stdout; throws when it fails or outlives 20 s.
 */
export function runNativeOnEth0(script: string, env?: NodeJS.ProcessEnv): string {
  const setup = `
set -e
ip link set lo up
ip link add gw0 type veth peer name eth0
ip link set gw0 mtu 65520 up
ip addr add 10.0.2.2/24 dev gw0
unshare -n -m sh -c 'mount -t sysfs sysfs /sys; exec sleep 30' &
child=$!
sleep 0.3
ip link set eth0 netns $child
nsenter -t $child -n sh -c '
sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
ip link set lo up
ip link set eth0 address 02:42:0a:00:02:0f mtu 65520
ip addr add 10.0.2.15/24 brd + dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2 dev eth0 proto static
sleep 0.5'
nsenter -t $child -n -m sh -c "$0"
kill $child
`;
  return execFileSync('unshare', ['-n', 'sh', '-c', setup, script], {
    encoding: 'utf8',
    ...(env ? { env } : {}),
    timeout: 20_000,
  });
}

/**
 * Runs `/test/<name>` (a program compiled into the testbed's dir, mounted read-only at /test)
 * under tsvisor, by default with `network: 'none'`, and expects it to print `want` to stdout,
 * nothing to stderr, and exit 0.
 */
export async function expectSameUnderTsvisor(
  bed: Testbed,
  name: string,
  want: string,
  config: Partial<SandboxConfig> = { network: 'none' },
): Promise<void> {
  const got = await bed.run([`/test/${name}`], {
    ...config,
    volumes: [{ host: bed.dir, sandbox: '/test', readOnly: true }],
  });
  expect(got.stderr).toBe('');
  expect(got.stdout).toBe(want);
  expect(got.status).toBe(0);
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

/** What {@link Testbed.run} saw: the exit status, the captured output and the sandbox log. */
export interface SandboxRun {
  status: number;
  stdout: string;
  stderr: string;
  log: string[];
}

/** A test file's temp dir and ptrace platform, and a way to run sandboxes on them. */
export interface Testbed {
  readonly dir: string;
  readonly platform: Platform;
  /** Runs `argv` in a sandbox on this platform, stdio captured in `dir`, log collected. */
  run(argv: string[], config?: Partial<SandboxConfig>): Promise<SandboxRun>;
}

/**
 * Registers the fixture most test files share: a temp dir (then `setup(dir)`, e.g. to compile
 * programs) and a platform, made in `beforeAll` and released in `afterAll`.
 */
export function testbed(setup: (dir: string) => void = () => undefined): Testbed {
  let work: ReturnType<typeof workDir> | undefined;
  let platform: Platform | undefined;
  beforeAll(() => {
    work = workDir();
    setup(work.dir);
    platform = Platform.create();
  });
  afterAll(() => {
    platform?.close();
    work?.cleanup();
  });
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('testbed used outside a test');
    return v;
  };
  const bed: Testbed = {
    get dir() {
      return ready(work).dir;
    },
    get platform() {
      return ready(platform);
    },
    async run(argv, config = {}) {
      const io = captureStdio(bed.dir);
      const log: string[] = [];
      try {
        const status = await createSandbox({
          argv,
          stdio: io.fds,
          platform: bed.platform,
          log: (l) => log.push(l),
          ...config,
        }).run();
        return { status, ...io.read(), log };
      } finally {
        io.close();
      }
    },
  };
  return bed;
}
