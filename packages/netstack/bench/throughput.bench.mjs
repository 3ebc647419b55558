// Benchmark (not a test): TCP bulk throughput in one Node process. Stack to stack over an IP
// link with MTU 1500 and with MTU 65535, on a virtual clock that advances only when both stacks
// are idle, so the figure is CPU cost, not simulated latency. Then loopback the way a sandbox
// drives it (network mode `none`): one stack on a LoopbackDevice, two InetSockets, 64 KiB
// send/recv calls through a reused buffer, each followed by a poll of the stack.
//   npm run bench -w @tsvisor/netstack   (build first: npx tsc -b)
//   BENCH_BYTES=N to move another amount (default 64 MiB); `node bench/throughput.bench.mjs
//   loopback` (or `link`) runs only that part.
import { performance } from 'node:perf_hooks';
import {
  cidr,
  InetSocket,
  Ipv4Address,
  linkPair,
  LoopbackDevice,
  RingBuffer,
  Stack,
  WOULD_BLOCK,
} from '../dist/index.js';

const BYTES = Number(process.env.BENCH_BYTES ?? 64 * 1024 * 1024);
const rings = () => ({
  rx: new RingBuffer(new Uint8Array(1 << 20)),
  tx: new RingBuffer(new Uint8Array(1 << 20)),
});

function run(mtu) {
  const [da, db] = linkPair({ medium: 'ip', mtu, queueLimit: 4096 });
  const a = new Stack({ device: da, addresses: [cidr('10.0.0.1/24')], seed: 1 });
  const b = new Stack({ device: db, addresses: [cidr('10.0.0.2/24')], seed: 2 });
  const l = b.tcpListener(4, rings);
  l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 5001 });
  l.listen(4);
  const c = a.tcpSocket(4, rings());
  c.connect({ addr: Ipv4Address.parse('10.0.0.2'), port: 5001 });
  const chunk = new Uint8Array(256 * 1024).fill(7);
  const sink = new Uint8Array(256 * 1024);
  let server;
  let sent = 0;
  let got = 0;
  let now = 0;
  const t0 = performance.now();
  while (got < BYTES) {
    const da1 = a.poll(now);
    const db1 = b.poll(now);
    server ??= (() => {
      const s = l.accept();
      return s === WOULD_BLOCK ? undefined : s;
    })();
    if (sent < BYTES) {
      const n = c.send(chunk.subarray(0, Math.min(chunk.length, BYTES - sent)));
      if (typeof n === 'number') sent += n;
    }
    if (server) {
      for (;;) {
        const n = server.recv(sink);
        if (typeof n !== 'number' || n === 0) break;
        got += n;
      }
    }
    const next = [da1, db1, da.pollAt?.(now), db.pollAt?.(now)].filter((x) => x !== undefined);
    if (next.length > 0 && Math.min(...next) > now) now = Math.min(...next);
  }
  const secs = (performance.now() - t0) / 1000;
  return { mbps: BYTES / secs / 1e6, gbit: (BYTES * 8) / secs / 1e9, segments: c.stats.segmentsSent };
}

/** A sockaddr_in for 127.0.0.1:port. */
function loopbackAddr(port) {
  return Uint8Array.of(2, 0, port >> 8, port & 0xff, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0);
}

function runLoopback() {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 1 });
  const kick = () => {
    for (let i = 0; i < 64; i++) {
      const now = performance.now();
      const next = stack.poll(now);
      if (next === undefined || next > now) break;
    }
  };
  const l = InetSocket.create(stack, 2, 1, 0);
  l.bind(loopbackAddr(5001));
  l.listen(16);
  const c = InetSocket.create(stack, 2, 1, 0);
  c.connect(loopbackAddr(5001));
  kick();
  const s = l.accept();
  if (s === WOULD_BLOCK || !(s instanceof InetSocket)) throw new Error('no connection');
  const chunk = new Uint8Array(65536).fill(7);
  const sink = new Uint8Array(65536);
  // As the sandbox copies between the app's memory and the rings: straight into / out of them.
  let inAt = 0;
  const copyIn = (span) => {
    span.set(chunk.subarray(inAt, inAt + span.length));
    inAt = (inAt + span.length) % chunk.length;
    return span.length;
  };
  let outAt = 0;
  const copyOut = (span) => {
    sink.set(span.subarray(0, sink.length - outAt), outAt);
    const n = Math.min(span.length, sink.length - outAt);
    outAt = (outAt + n) % sink.length;
    return n;
  };
  let sent = 0;
  let got = 0;
  let calls = 0;
  let blocked = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  while (got < BYTES) {
    // The writer writes until it would block, then the reader reads until it would block.
    while (sent < BYTES) {
      const n = c.sendFrom(Math.min(chunk.length, BYTES - sent), copyIn);
      kick();
      calls++;
      if (typeof n !== 'number') {
        blocked++;
        break;
      }
      sent += n;
    }
    for (;;) {
      const n = s.recvInto(sink.length, copyOut);
      kick();
      calls++;
      if (typeof n !== 'number' || n === 0) {
        blocked++;
        break;
      }
      got += n;
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { mbps: BYTES / secs / 1e6, gbit: (BYTES * 8) / secs / 1e9, calls, blocked, cpuMs };
}

const only = process.argv[2];
if (only !== 'loopback')
  for (const mtu of [1500, 65535]) {
    const r = run(mtu);
    console.log(
      `stack-to-stack TCP, MTU ${mtu}: ${r.mbps.toFixed(1)} MB/s (${r.gbit.toFixed(2)} Gbit/s), ${r.segments} segments for ${BYTES >> 20} MiB`,
    );
  }
if (only !== 'link') {
  const r = runLoopback();
  console.log(
    `loopback InetSocket, 64 KiB calls: ${r.mbps.toFixed(1)} MB/s (${r.gbit.toFixed(2)} Gbit/s, ${r.cpuMs.toFixed(0)} ms of CPU), ${r.calls} calls, ${r.blocked} would-block for ${BYTES >> 20} MiB`,
  );
}
