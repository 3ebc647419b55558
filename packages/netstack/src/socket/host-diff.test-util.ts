// Helpers for the differential tests that run one call sequence on netstack's sockets and as a C
// program on the host kernel, in a network namespace of its own, and compare what both print.
import {
  AddressFamily,
  errorOf,
  isError,
  PollEvent,
  SockType,
  SocketLevel,
  SocketOption,
  type LinuxError,
} from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { InetSocket, type InetSocketConfig } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';

/** The poll bits the C programs ask for (and print masked by, with POLLERR and POLLHUP). */
export const REQ =
  PollEvent.POLLIN |
  PollEvent.POLLPRI |
  PollEvent.POLLOUT |
  PollEvent.POLLRDNORM |
  PollEvent.POLLRDBAND |
  PollEvent.POLLWRNORM |
  PollEvent.POLLWRBAND |
  PollEvent.POLLRDHUP;

/** A call's result as the C programs print it: the count, the errno name or WOULD_BLOCK. */
export function res(r: number | LinuxError | WouldBlock | { n: number }): string {
  if (r === WOULD_BLOCK) return 'WOULD_BLOCK';
  if (isError(r)) return r.name;
  if (typeof r === 'number') return String(r);
  return String(r.n);
}

/**
 * Compiles `<name>.test-util.c` (next to this file) into a temp dir removed after the test file,
 * and returns a function that runs it as root in a fresh network namespace with `lo` up, after
 * the shell commands in `setup`, and returns what it printed.
 */
export function hostProgram(name: string, setup = ''): () => string {
  const dir = mkdtempSync(join(tmpdir(), `tsvisor-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => {
    const bin = join(dir, name);
    execFileSync('gcc', ['-O0', '-w', '-o', bin, join(import.meta.dirname, `${name}.test-util.c`)]);
    const pre = setup ? `${setup} && ` : '';
    return execFileSync('unshare', ['--net', 'sh', '-c', `ip link set lo up && ${pre}${bin}`]).toString();
  };
}

/**
 * A virtual clock for one stack: `sleep(ms)` runs the stack through every deadline in the next
 * `ms` milliseconds, as the host program's sleeps let the host kernel's timers run.
 */
export function virtualClock(stack: Stack): { sleep: (ms: number) => void; now: () => number } {
  let now = 0;
  return {
    sleep(ms) {
      const end = now + ms;
      for (;;) {
        const next = settle([stack], now);
        if (next === undefined || next > end) break;
        now = Math.max(next, now + 1);
      }
      now = end;
      settle([stack], now);
    },
    now: () => now,
  };
}

/**
 * A connected TCP pair over a fresh loopback stack (127.0.0.1/8, seeded) on a virtual clock: `c`
 * connected to the listener's accepted `s` on 127.0.0.1:5000, both non-blocking and made with
 * `cfg`. `setup` runs on the listener before listen(2) and on the client before connect(2)
 * (options that must be in place before the handshake). `stack` is theirs, for its sysctls.
 */
export function loopbackTcpPair(
  seed: number,
  cfg: Partial<InetSocketConfig> = {},
  setup: { listener?: (l: InetSocket) => void; client?: (c: InetSocket) => void } = {},
): {
  c: InetSocket;
  s: InetSocket;
  clock: { sleep: (ms: number) => void; now: () => number };
  stack: Stack;
} {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed });
  const clock = virtualClock(stack);
  const mk = (): InetSocket =>
    mustSocket(
      InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK, 0, cfg),
    );
  const addr = sockaddr4(5000);
  const l = mk();
  setup.listener?.(l);
  l.bind(addr);
  l.listen(4);
  const c = mk();
  setup.client?.(c);
  c.connect(addr);
  clock.sleep(10);
  return { c, s: mustSocket(l.accept()), clock, stack };
}

/**
 * The twins of host-diff.test-util.h's show_poll, show_soerror and show_recv: the same lines,
 * printed through `p`.
 */
export function twinShows(p: (line: string) => void): {
  poll: (what: string, s: InetSocket) => void;
  soerror: (what: string, s: InetSocket) => void;
  recv: (what: string, s: InetSocket) => void;
} {
  return {
    poll: (what, s) =>
      p(`${what} poll ${(s.readiness() & (REQ | PollEvent.POLLERR | PollEvent.POLLHUP)).toString(16)}`),
    soerror: (what, s) => {
      const v = s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);
      if (isError(v)) throw v;
      p(`${what} so_error ${v === 0 ? '0' : errorOf(v).name}`);
    },
    recv: (what, s) => p(`${what} recv ${res(s.recvfrom(new Uint8Array(16)))}`),
  };
}

/** `s` when it is a socket (what socket() and accept() must give); a test failure otherwise. */
export function mustSocket(s: unknown): InetSocket {
  if (!(s instanceof InetSocket)) throw new Error(`not a socket: ${String(s)}`);
  return s;
}

/** A sockaddr_in for `ip` (default 127.0.0.1) and `port`, as InetSocket takes it. */
export function sockaddr4(port: number, ip = '127.0.0.1'): Uint8Array {
  return emitSockaddr({ addr: Ipv4Address.parse(ip)!, port });
}

/**
 * A loopback stack (127.0.0.1/8) on a virtual clock as the twins of the C programs drive it:
 * `WAIT()` lets 20 ms pass (the C side's WAIT), `tcp()` makes an AF_INET stream socket,
 * non-blocking unless asked otherwise or `blocking` is the default.
 */
export function loopbackBed(
  seed: number,
  blocking = false,
): {
  stack: Stack;
  sleep: (ms: number) => void;
  WAIT: () => void;
  tcp: (nonBlocking?: boolean) => InetSocket;
} {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed });
  const { sleep } = virtualClock(stack);
  const tcp = (nonBlocking = !blocking): InetSocket =>
    mustSocket(
      InetSocket.create(
        stack,
        AddressFamily.AF_INET,
        SockType.SOCK_STREAM | (nonBlocking ? SockType.SOCK_NONBLOCK : 0),
        0,
      ),
    );
  return { stack, sleep, WAIT: () => sleep(20), tcp };
}
