// Benchmark (not a test): stack-to-stack TCP bulk throughput in one Node process, over an IP
// link with MTU 1500 and with MTU 65535 (loopback-like). Wall-clock time on a virtual clock that
// advances only when both stacks are idle, so the figure is CPU cost, not simulated latency.
//   npm run bench -w @tsvisor/netstack   (build first: npx tsc -b)
import { performance } from 'node:perf_hooks';
import { cidr, Ipv4Address, linkPair, RingBuffer, Stack, WOULD_BLOCK } from '../dist/index.js';

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

for (const mtu of [1500, 65535]) {
  const r = run(mtu);
  console.log(
    `stack-to-stack TCP, MTU ${mtu}: ${r.mbps.toFixed(1)} MB/s (${r.gbit.toFixed(2)} Gbit/s), ${r.segments} segments for ${BYTES >> 20} MiB`,
  );
}
