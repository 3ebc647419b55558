// Benchmark (not a test): the heap a TIME_WAIT connection holds. N connections between
// InetSockets on one loopback stack (network mode `none`), each closed first by the client, then
// (a second run) by the server, so that N connection ends wait in TIME_WAIT with no file (parked
// by the stack); reports the heap after a full GC, less the heap before, per connection. Linux
// keeps about 200 bytes for one (an inet_timewait_sock).
//   node --expose-gc bench/time-wait-memory.bench.mjs [N]   (build first: npx tsc -b; N 20000)
import { setImmediate } from 'node:timers/promises';
import { cidr, InetSocket, linkPair, LoopbackDevice, Stack, WOULD_BLOCK } from '../dist/index.js';

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const N = Number(process.argv[2] ?? 20_000);

/** A sockaddr_in for 127.0.0.1:port, or `host`:port. */
function sockaddr(port, host = [127, 0, 0, 1]) {
  return Uint8Array.of(2, 0, port >> 8, port & 0xff, ...host, 0, 0, 0, 0, 0, 0, 0, 0);
}

/** The heap after a full GC, in a later task: the sockets a WeakRef was made to live on until then. */
async function heap() {
  await setImmediate();
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/**
 * `serverFirst`: the server's ends wait in TIME_WAIT, else the clients'. `remote`: the clients
 * are on another stack over a link (their addresses come from the wire), else on the same one.
 */
async function run(serverFirst, remote) {
  const [da, db] = remote ? linkPair({ medium: 'ip', mtu: 1500, queueLimit: 4096 }) : [new LoopbackDevice()];
  const stack = new Stack({ device: da, addresses: [cidr(remote ? '10.0.0.2/24' : '127.0.0.1/8')], seed: 1 });
  const peer = remote ? new Stack({ device: db, addresses: [cidr('10.0.0.1/24')], seed: 2 }) : stack;
  const server = remote ? [10, 0, 0, 2] : [127, 0, 0, 1];
  let now = 0;
  const settle = () => {
    for (let i = 0; i < 1000; i++) {
      const next = Math.min(
        stack.poll(now) ?? Infinity,
        peer.poll(now) ?? Infinity,
        da.pollAt?.(now) ?? Infinity,
        db?.pollAt?.(now) ?? Infinity,
      );
      if (next > now) return;
    }
  };
  const l = InetSocket.create(stack, 2, 1, 0);
  l.bind(sockaddr(5001, server));
  l.listen(4096);
  settle();
  const before = await heap();
  const BATCH = 1000;
  for (let done = 0; done < N; done += BATCH) {
    const clients = [];
    for (let i = 0; i < Math.min(BATCH, N - done); i++) {
      const c = InetSocket.create(peer, 2, 1, 0);
      c.connect(sockaddr(5001, server));
      clients.push(c);
    }
    settle();
    const servers = [];
    for (let s = l.accept(); s !== WOULD_BLOCK && s instanceof InetSocket; s = l.accept()) servers.push(s);
    if (servers.length !== clients.length) throw new Error(`accepted ${servers.length} of ${clients.length}`);
    // The end that closes first goes through FIN_WAIT_2 to TIME_WAIT, the other to CLOSED.
    const [first, second] = serverFirst ? [servers, clients] : [clients, servers];
    for (const s of first) s.close();
    now += 1;
    settle();
    for (const s of second) s.close();
    now += 1;
    settle();
  }
  const entries = [...stack.sockets(), ...(remote ? peer.sockets() : [])].filter((e) => e.protocol === 'tcp');
  const timeWait = entries.filter((e) => e.state === 6).length;
  if (timeWait !== N || entries.length !== N + 1)
    throw new Error(`${timeWait} in TIME_WAIT of ${entries.length}`);
  const perConnection = ((await heap()) - before) / N;
  console.log(
    `${N} TIME_WAIT connections, ${serverFirst ? 'server' : 'client'} closed first, ${remote ? 'clients on another stack' : 'over loopback'}: ${perConnection.toFixed(0)} bytes of heap each`,
  );
  l.close();
}

for (const remote of [false, true]) for (const serverFirst of [false, true]) await run(serverFirst, remote);
