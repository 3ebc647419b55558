// The socket conformance programs that netstack answers (network mode `none`, and the syscalls
// harness), run again in network mode `host` (host sockets), with testdata/host-cmsg.c for what
// only host mode has so far (timeouts, timestamps, error queues): each must print what it prints
// natively on this host, since in host mode the sandbox's AF_INET/AF_INET6 sockets are the host's.
// Every program binds 127.0.0.1 or ::1 only (ephemeral ports or its own listeners), so nothing
// leaves the host's loopback.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testbed } from './c-programs.test-util.js';
import { freePort } from './loopback-servers.test-util.js';

const here = dirname(fileURLToPath(import.meta.url));
const syscallsTestdata = join(here, '../../syscalls/src/testdata');
const testdata = join(here, 'testdata');
const PY = 'python3.11';

/** The C programs, from @tsvisor/syscalls' testdata, and ours. */
const PROGRAMS = [
  'sockets',
  'mmsg',
  'ip-cmsg',
  'dualstack',
  'udp-dualstack',
  'udplite',
  'linger',
  'reuseport',
  'stream-write',
  'netlink',
];
const OWN = ['host-cmsg', 'epoll-edge', 'host-send-integrity'];
/**
 * The longest the event loop may be held at once while a program runs. A wait done on the host
 * (a lingering close in linger.c lasts 1 s) would exceed it; the scheduling noise of a busy
 * 2-core machine (up to ~0.5 s seen) does not. Shorter spins are caught by the unit tests.
 */
const MAX_STALL_MS = 900;

const bed = testbed((dir) => {
  const build = (src: string, name: string): void =>
    void execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', join(dir, name), src]);
  for (const name of PROGRAMS) build(join(syscallsTestdata, `${name}.c`), name);
  for (const name of OWN) build(join(testdata, `${name}.c`), name);
});

function native(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 20_000 });
}

async function inHostMode(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return bed.run(argv, {
    network: 'host',
    volumes: [
      { host: bed.dir, sandbox: '/test', readOnly: true },
      { host: testdata, sandbox: '/scripts', readOnly: true },
    ],
  });
}

/**
 * Runs `work` while a 5 ms interval timer ticks: the longest gap between ticks is how long the
 * event loop (the supervisor) was held at once.
 */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  try {
    const result = await work();
    return { result, stallMs: Math.max(stallMs, performance.now() - last) };
  } finally {
    clearInterval(tick);
  }
}

describe('socket conformance programs in network mode host print what they print natively', () => {
  it.each([...PROGRAMS, ...OWN])('%s.c', async (name) => {
    const want = native([join(bed.dir, name)]);
    const { result: r, stallMs } = await longestStall(() => inHostMode([`/test/${name}`]));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
    // Blocked sandbox calls are pending promises: the supervisor's event loop keeps turning (a
    // wait done on the host, or one that spun, would hold it for as long as the wait).
    expect(stallMs).toBeLessThan(MAX_STALL_MS);
  });

  it('`python3.11 -m http.server` on a free host port with a urllib client, both sandboxed', async () => {
    const port = String(await freePort());
    const r = await inHostMode([PY, '/scripts/net-http.py', port]);
    expect(r.stdout).toBe('file True\nlisting True\nmissing 404\nserver exit -15\n');
    expect(r.status).toBe(0);
  });

  it('net-sockets.py: TCP (v4, v6), UDP and Unix servers and clients, fd passing', async () => {
    const want = native([PY, join(testdata, 'net-sockets.py')]);
    expect(want.trim().split('\n').at(-1)).toBe('done');
    const r = await inHostMode([PY, '/scripts/net-sockets.py']);
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  });
});
