// Helpers for tests against the real Linux stack over a TAP device: a network namespace the
// test creates (and ends), tap-relay.test-util.c owning the TAP inside it and relaying its
// frames to a StreamDevice, and the stack driven on the real clock. Also the pieces such tests
// share: a connect retried while Linux's listener starts, and Python peers that hash a transfer.
import { isError } from '@tsvisor/abi';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TcpListener, TcpSocket } from '../socket/tcp.js';
import { WOULD_BLOCK } from '../socket/would-block.js';
import type { Stack } from '../stack.js';
import { RingBuffer } from '../storage/ring-buffer.js';
import type { IpEndpoint } from '../wire/ip-address.js';
import { StreamDevice } from './stream-device.js';

/** 256 KiB receive and send rings, for sockets of these tests. */
export const rings = (): { rx: RingBuffer; tx: RingBuffer } => ({
  rx: new RingBuffer(new Uint8Array(256 * 1024)),
  tx: new RingBuffer(new Uint8Array(256 * 1024)),
});

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * A network namespace with no name: `ip netns add` would make /run/netns/NAME, which tests run
 * at the same time see (`ip monitor` asks the nsid of every file there), so the namespace is
 * held by a bind mount on a file of the test's own instead.
 */
export interface Netns {
  /** The file the namespace is bound to, which `ip link ... netns FILE` takes too. */
  readonly file: string;
  /** Starts `cmd` in the namespace (which sees the host's /sys, unlike `ip netns exec`). */
  spawn(cmd: readonly string[]): ChildProcessWithoutNullStreams;
  /** Runs `cmd` in the namespace to its end; returns its stdout, throws if it fails. */
  run(cmd: readonly string[]): string;
  /** Unbinds the namespace (it ends with the last process in it) and removes the file. */
  close(): void;
}

/** Makes a namespace bound to `file`, which must not exist yet. */
export function createNetns(file: string): Netns {
  writeFileSync(file, '', { flag: 'wx' });
  try {
    execFileSync('unshare', [`--net=${file}`, 'true']);
  } catch (e) {
    rmSync(file);
    throw e;
  }
  const enter = `--net=${file}`;
  return {
    file,
    spawn: (cmd) => spawn('nsenter', [enter, ...cmd]),
    run: (cmd) => execFileSync('nsenter', [enter, ...cmd], { encoding: 'utf8' }),
    close: () => {
      try {
        execFileSync('umount', [file]);
      } finally {
        rmSync(file, { force: true });
      }
    },
  };
}

/** A TAP in a namespace of its own, its frames relayed to `device`. */
export interface TapNetns {
  readonly netns: Netns;
  readonly ifname: string;
  /** A temporary directory, removed by `close()`. */
  readonly dir: string;
  /** The stack's end of the TAP: wrap it (fault injection) or hand it to a Stack as is. */
  readonly device: StreamDevice;
  /** Milliseconds of the real clock since the TAP was made. */
  clock(): number;
  /** The stack `drive` polls; it is also polled as frames arrive, to answer at once. */
  attach(stack: Stack): void;
  /** Polls the stack on the real clock until `done()`, for at most `limit` ms. */
  drive(done: () => boolean, limit?: number): Promise<void>;
  /** Starts a command in the namespace; resolves with its stdout once it exits 0. */
  spawnInNs(cmd: string[]): Promise<string>;
  /** Runs a command in the namespace while the stack is driven; resolves with its stdout. */
  inNs(cmd: string[], limit?: number): Promise<string>;
  /** Connects to `dst`, on a fresh socket again each time Linux refuses (its listener not up yet). */
  connect(dst: IpEndpoint, limit?: number): Promise<TcpSocket>;
  /** Stops the relay, ends the namespace and removes the directory. */
  close(): void;
}

/**
 * Makes a namespace with TAP `ifname` up in it and Linux's `addresses` on it (IPv6 ones
 * without DAD), lo up too. Resolves once the relay runs.
 */
export async function openTapNetns(options: {
  readonly ifname: string;
  readonly addresses: readonly string[];
  readonly tmpPrefix: string;
}): Promise<TapNetns> {
  const { ifname } = options;
  const dir = mkdtempSync(join(tmpdir(), options.tmpPrefix));
  let netns: Netns;
  try {
    netns = createNetns(join(dir, 'netns'));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const t0 = performance.now();
  const clock = (): number => performance.now() - t0;
  let stack: Stack | undefined;
  let relay: ChildProcessWithoutNullStreams | undefined;
  const device = new StreamDevice({ medium: 'ethernet', mtu: 1500 }, (b) => relay!.stdin.write(b));
  const close = (): void => {
    relay?.stdin.end();
    relay?.kill();
    try {
      netns.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    await start();
  } catch (e) {
    close(); // whatever part was made
    throw e;
  }
  async function start(): Promise<void> {
    const bin = join(dir, 'tap-relay');
    execFileSync('gcc', ['-O2', '-w', '-o', bin, join(import.meta.dirname, 'tap-relay.test-util.c')]);
    relay = netns.spawn([bin, ifname]);
    let ready = false;
    relay.stdout.on('data', (chunk: Buffer) => {
      ready = true;
      device.feed(chunk);
      stack?.poll(clock()); // answer at once, not at the next tick
    });
    while (!ready) await sleep(5);
    const addrs = options.addresses.map((a) =>
      a.includes(':') ? ` && ip -6 addr add ${a} dev ${ifname} nodad` : ` && ip addr add ${a} dev ${ifname}`,
    );
    netns.run(['sh', '-c', `ip link set lo up && ip link set ${ifname} up${addrs.join('')}`]);
  }

  const attached = (): Stack => {
    if (!stack) throw new Error('no stack attached');
    return stack;
  };
  const drive = async (done: () => boolean, limit = 30_000): Promise<void> => {
    const s = attached();
    const end = clock() + limit;
    while (!done()) {
      if (clock() > end) throw new Error('timed out');
      s.poll(clock());
      await sleep(1);
    }
    s.poll(clock());
  };
  const spawnInNs = (cmd: string[]): Promise<string> => {
    const p = netns.spawn(cmd);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise((resolve, reject) =>
      p.on('exit', (c) =>
        c === 0 ? resolve(out) : reject(new Error(`${cmd.join(' ')} exited ${c}: ${err}${out}`)),
      ),
    );
  };
  const inNs = async (cmd: string[], limit = 30_000): Promise<string> => {
    let settled = false;
    const run = spawnInNs(cmd).finally(() => (settled = true));
    run.catch(() => {}); // rejected while driving: reported by the await below
    await drive(() => settled, limit);
    return run;
  };
  const connect = async (dst: IpEndpoint, limit = 20_000): Promise<TcpSocket> => {
    const s = attached();
    let c = s.tcpSocket(dst.addr.version, rings());
    c.connect(dst);
    await drive(() => {
      if (c.state === 'CLOSED') {
        c.close(); // refused while Linux's listener starts: try again on a fresh socket
        c = s.tcpSocket(dst.addr.version, rings());
        c.connect(dst);
      }
      return c.state === 'ESTABLISHED';
    }, limit);
    return c;
  };
  return {
    netns,
    ifname,
    dir,
    device,
    clock,
    attach: (s) => (stack = s),
    drive,
    spawnInNs,
    inNs,
    connect,
    close,
  };
}

/** Python in the namespace: accepts one connection on `host`:`port`, prints `bytes sha256` at EOF. */
export function pythonHashingServer(host: string, port: number): string[] {
  return [
    'python3',
    '-c',
    'import socket,hashlib\n' +
      'l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n' +
      `l.bind(("${host}",${port})); l.listen(1); print("listening",flush=True)\n` +
      'c,_=l.accept(); h=hashlib.sha256(); n=0\n' +
      'while True:\n' +
      '  b=c.recv(65536)\n' +
      '  if not b: break\n' +
      '  h.update(b); n+=len(b)\n' +
      'print(n,h.hexdigest())',
  ];
}

/**
 * Python in the namespace: sends `bytes` random bytes to `host`:`port`, shuts down its write
 * side, waits for the peer's EOF and prints the data's SHA-256.
 */
export function pythonHashingClient(host: string, port: number, bytes: number): string[] {
  return [
    'python3',
    '-c',
    'import socket,os,hashlib\n' +
      `d=os.urandom(${bytes})\n` +
      `s=socket.create_connection(("${host}",${port}))\n` +
      's.sendall(d); s.shutdown(socket.SHUT_WR)\n' +
      'assert s.recv(1)==b""\n' +
      'print(hashlib.sha256(d).hexdigest())',
  ];
}

/** Accepts one connection on a listener and reads it to EOF (then closes it), hashing the data. */
export class HashingReceiver {
  total = 0;
  eof = false;
  private server: TcpSocket | undefined;
  private readonly hash = createHash('sha256');
  private readonly buf = new Uint8Array(65536);
  constructor(private readonly listener: TcpListener) {}

  /** Accepts if not yet done, then reads what has arrived. */
  pump(): void {
    if (!this.server) {
      const s = this.listener.accept();
      if (s !== WOULD_BLOCK && !isError(s)) this.server = s;
    }
    while (this.server && !this.eof) {
      const n = this.server.recv(this.buf);
      if (n === WOULD_BLOCK || isError(n)) break;
      if (n === 0) {
        this.eof = true;
        this.server.close();
      } else {
        this.hash.update(this.buf.subarray(0, n));
        this.total += n;
      }
    }
  }

  /** The SHA-256 of what was read (once). */
  digest(): string {
    return this.hash.digest('hex');
  }
}
