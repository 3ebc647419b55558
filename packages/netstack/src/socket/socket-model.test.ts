// Model-based differential test of the socket layer: fast-check generates sequences of socket
// calls (socket/bind/listen/connect/accept/send/recv/shutdown/close/getsockopt/setsockopt/
// getsockname/getpeername/poll over AF_INET and AF_INET6, stream and datagram, all
// non-blocking), runs each call on netstack's InetSocket and on a host socket (a C helper in a
// network namespace of its own, `unshare --net`), and requires the same result or errno after
// every call. Shrinking gives a minimal differing sequence; a failure prints its seed and path
// (replay with SOCKET_MODEL_SEED). AF_UNIX is not covered yet. The first explorations found four
// differences from Linux, now fixed: getsockopt at a foreign level on AF_INET (EOPNOTSUPP),
// accept on a datagram socket (EOPNOTSUPP), IP_TTL on AF_INET6 sockets, and the autobind of a
// datagram socket by a failing send.
import { AddressFamily, isError, PollEvent, SockType, type LinuxError } from '@tsvisor/abi';
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address, Ipv6Address } from '../wire/ip-address.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr, parseSockaddr } from './sockaddr.js';
import { WOULD_BLOCK, type WouldBlock } from './would-block.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvisor-socket-model-'));
const bin = join(dir, 'socket-model');
beforeAll(() => {
  execFileSync('gcc', [
    '-O1',
    '-Wall',
    '-Werror',
    '-o',
    bin,
    join(import.meta.dirname, 'socket-model.test-util.c'),
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The host helper: one call per line in, one result per line out. */
class Host {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffered = '';
  private waiting: ((line: string) => void) | undefined;
  private readonly lines: string[] = [];
  constructor() {
    this.child = spawn('unshare', ['--net', 'sh', '-c', `ip link set lo up && exec ${bin}`]);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      this.buffered += d;
      let i: number;
      while ((i = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, i);
        this.buffered = this.buffered.slice(i + 1);
        const w = this.waiting;
        this.waiting = undefined;
        if (w) w(line);
        else this.lines.push(line);
      }
    });
  }
  call(cmd: string): Promise<string> {
    this.child.stdin.write(`${cmd}\n`);
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((r) => (this.waiting = r));
  }
  close(): void {
    this.child.stdin.end();
  }
}

/** The netstack side: one loopback stack, sockets by index in order of creation. */
class Ours {
  readonly stack = new Stack({
    device: new LoopbackDevice(),
    addresses: [cidr('127.0.0.1/8'), cidr('::1/128')],
    seed: 7,
  });
  readonly socks: (InetSocket | undefined)[] = [];
  private readonly fams: number[] = [];
  private readonly buf = new Uint8Array(4096);

  private sa(i: number, any: boolean, port: number): Uint8Array {
    if (this.fams[i] === AddressFamily.AF_INET)
      return emitSockaddr({ addr: any ? Ipv4Address.UNSPECIFIED : Ipv4Address.LOOPBACK, port });
    return emitSockaddr({ addr: any ? Ipv6Address.UNSPECIFIED : Ipv6Address.LOOPBACK, port });
  }

  call(cmd: string): string {
    const [op, ...rest] = cmd.split(' ');
    const [a = 0, b = 0, c = 0, d = 0] = rest.map(Number);
    const s = this.socks[a];
    const r = ((): string => {
      if (op === 'socket') {
        const sock = InetSocket.create(this.stack, a, b | SockType.SOCK_NONBLOCK, 0);
        if (isError(sock)) return sock.name;
        this.socks.push(sock);
        this.fams.push(a);
        return '0';
      }
      // The helper polls a closed socket as fd -1, which poll(2) skips (revents 0).
      if (!s) return op === 'poll' ? '0' : 'EBADF';
      switch (op) {
        case 'bind':
          return res(s.bind(this.sa(a, b === 1, c)));
        case 'listen':
          return res(s.listen(b));
        case 'connect':
          return res(s.connect(this.sa(a, false, b)));
        case 'accept': {
          const n = s.accept(SockType.SOCK_NONBLOCK);
          if (n === WOULD_BLOCK || isError(n)) return res(n);
          this.socks.push(n);
          this.fams.push(this.fams[a]!);
          return '0';
        }
        case 'send':
          return res(s.sendto(this.buf.subarray(0, b)));
        case 'recv': {
          const got = s.recvfrom(this.buf.subarray(0, b));
          return got === WOULD_BLOCK || isError(got) ? res(got) : String(got.n);
        }
        case 'shutdown':
          return res(s.shutdown(b));
        case 'close':
          s.close();
          this.socks[a] = undefined;
          return '0';
        case 'getsockopt':
          return res(s.getsockopt(b, c));
        case 'setsockopt':
          return res(s.setsockopt(b, c, d));
        case 'name':
        case 'peer': {
          const raw = op === 'name' ? s.getsockname() : s.getpeername();
          if (isError(raw)) return raw.name;
          const ep = parseSockaddr(raw, raw.length === 16 ? 4 : 6);
          if (isError(ep)) return ep.name;
          const kind = ep.port >= 32768 && ep.port <= 60999 ? 'eph' : ep.port === 0 ? '0' : 'fixed';
          const fam = ep.addr.version === 4 ? AddressFamily.AF_INET : AddressFamily.AF_INET6;
          return `${String(fam)} ${ep.addr.toString()} ${kind}`;
        }
        case 'poll':
          return (s.readiness() & REQ).toString(16);
        default:
          return '?';
      }
    })();
    settle([this.stack], 0);
    return r;
  }
}

const REQ =
  PollEvent.POLLIN | PollEvent.POLLOUT | PollEvent.POLLRDHUP | PollEvent.POLLERR | PollEvent.POLLHUP;

function res(r: number | LinuxError | WouldBlock): string {
  if (r === WOULD_BLOCK) return 'WOULD_BLOCK';
  return isError(r) ? r.name : String(r);
}

interface Model {
  sockets: number;
}
interface Real {
  ours: Ours;
  host: Host;
}

/** One socket call, shown as the line both sides run. */
class Call implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly line: string,
    private readonly needs: number,
    private readonly adds = false,
  ) {}
  check(m: Readonly<Model>): boolean {
    return this.needs < m.sockets || this.needs < 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const host = await r.host.call(this.line);
    const ours = r.ours.call(this.line);
    expect(`${this.line} -> ${ours}`).toBe(`${this.line} -> ${host}`);
    if (this.adds && host === '0') m.sockets++;
  }
  toString(): string {
    return this.line;
  }
}

const SOL_SOCKET = 1;
const SOL_TCP = 6;
const SOL_IPV6 = 41;
// Integer options netstack answers itself (the syscall layer adds SO_RCVTIMEO, SO_PEEK_OFF,
// IP_RECVERR/IPV6_RECVERR and the privilege checks): defaults and round trips with values around their limits. Sizes that
// follow the host's sysctls (SO_SNDBUF/SO_RCVBUF set) stay out.
const SOL_IP = 0;
const SOL_UDP = 17;
const SET_OPTIONS: readonly (readonly [number, number])[] = [
  ...[2, 6, 9, 15].map((n) => [SOL_SOCKET, n] as const),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 16, 17, 18, 23, 25, 30, 36, 37, 44, 45].map(
    (n) => [SOL_TCP, n] as const,
  ),
  ...[1, 2, 6, 8, 10, 12, 13, 15, 21, 22, 24, 33, 34, 49].map((n) => [SOL_IP, n] as const),
  ...[16, 18, 19, 23, 26, 49, 62, 67, 73].map((n) => [SOL_IPV6, n] as const),
  ...[1, 101, 102, 103, 104].map((n) => [SOL_UDP, n] as const),
];
const GET_OPTIONS: readonly (readonly [number, number])[] = [
  ...SET_OPTIONS,
  ...[3, 4, 7, 8, 30, 38, 39, 48].map((n) => [SOL_SOCKET, n] as const),
  [SOL_IP, 14],
  [SOL_IPV6, 24],
];
const OPTION_VALUES = [-1, 0, 1, 2, 3, 7, 88, 255, 256, 536, 1000, 65536, 200000];
const idx = fc.integer({ min: 0, max: 5 });
const port = fc.constantFrom(0, 5000, 5001);
const commands = [
  fc
    .tuple(fc.constantFrom(AddressFamily.AF_INET, AddressFamily.AF_INET6), fc.constantFrom(1, 2))
    .map(([f, t]) => new Call(`socket ${String(f)} ${String(t)}`, -1, true)),
  fc
    .tuple(idx, fc.constantFrom(0, 1), port)
    .map(([i, any, p]) => new Call(`bind ${String(i)} ${String(any)} ${String(p)}`, i)),
  fc
    .tuple(idx, fc.integer({ min: 1, max: 3 }))
    .map(([i, n]) => new Call(`listen ${String(i)} ${String(n)}`, i)),
  fc
    .tuple(idx, fc.constantFrom(5000, 5001))
    .map(([i, p]) => new Call(`connect ${String(i)} ${String(p)}`, i)),
  idx.map((i) => new Call(`accept ${String(i)}`, i, true)),
  fc
    .tuple(idx, fc.integer({ min: 1, max: 3000 }))
    .map(([i, n]) => new Call(`send ${String(i)} ${String(n)}`, i)),
  fc
    .tuple(idx, fc.integer({ min: 1, max: 4096 }))
    .map(([i, n]) => new Call(`recv ${String(i)} ${String(n)}`, i)),
  fc
    .tuple(idx, fc.integer({ min: 0, max: 2 }))
    .map(([i, h]) => new Call(`shutdown ${String(i)} ${String(h)}`, i)),
  idx.map((i) => new Call(`close ${String(i)}`, i)),
  fc
    .tuple(idx, fc.constantFrom(...GET_OPTIONS))
    .map(([i, [l, n]]) => new Call(`getsockopt ${String(i)} ${String(l)} ${String(n)}`, i)),
  fc
    .tuple(idx, fc.constantFrom(...SET_OPTIONS), fc.constantFrom(...OPTION_VALUES))
    .map(([i, [l, n], v]) => new Call(`setsockopt ${String(i)} ${String(l)} ${String(n)} ${String(v)}`, i)),
  idx.map((i) => new Call(`name ${String(i)}`, i)),
  idx.map((i) => new Call(`peer ${String(i)}`, i)),
  idx.map((i) => new Call(`poll ${String(i)}`, i)),
];

it("random socket call sequences give the host kernel's results and errnos", async () => {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 40 }), async (cmds) => {
      const host = new Host();
      try {
        await fc.asyncModelRun(() => ({ model: { sockets: 0 }, real: { ours: new Ours(), host } }), cmds);
      } finally {
        host.close();
      }
    }),
    // A fixed seed keeps the suite deterministic; SOCKET_MODEL_SEED=<n> replays another (fast-check
    // prints seed and path on failure), SOCKET_MODEL_SEED=random explores, SOCKET_MODEL_RUNS=<n>.
    {
      numRuns: Number(process.env.SOCKET_MODEL_RUNS ?? 60),
      ...(process.env.SOCKET_MODEL_SEED === 'random'
        ? {}
        : { seed: Number(process.env.SOCKET_MODEL_SEED ?? 20261129) }),
    },
  );
}, 60_000);
