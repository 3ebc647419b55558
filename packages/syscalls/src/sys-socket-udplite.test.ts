import { isError } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import type { SyscallResult } from './types.js';

// The same steps as testdata/udplite.c, whose native output is the expected one.
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOL_SOCKET = 1;
const SO_PROTOCOL = 38;
const IPPROTO_UDP = 17;
const IPPROTO_UDPLITE = 136;
const SEND_CSCOV = 10;
const RECV_CSCOV = 11;
const OPT = BUF;
const LEN = BUF + 0x10;
const SA = BUF + 0x20;
const SA2 = BUF + 0x40;
const DATA = BUF + 0x100;

function res(r: SyscallResult): string {
  return isError(r) ? r.name : String(r);
}

async function tsvisorRun(h: Harness): Promise<string> {
  const out: string[] = [];
  const call = (name: string, ...args: number[]): Promise<SyscallResult> => h.call(name, ...args);
  const get = async (fd: number, level: number, name: number): Promise<number> => {
    h.mem.writeI32(LEN, 4);
    const r = await call('getsockopt', fd, level, name, OPT, LEN);
    return isError(r) ? -r.errno : (h.mem.readI32(OPT) as number);
  };
  const set = async (fd: number, level: number, name: number, v: number): Promise<string> => {
    h.mem.writeI32(OPT, v);
    return res(await call('setsockopt', fd, level, name, OPT, 4));
  };
  const text = (n: number): string => new TextDecoder().decode(h.mem.read(DATA, n) as Uint8Array);
  const put = (s: string): number => {
    h.mem.write(DATA, new TextEncoder().encode(s));
    return s.length;
  };
  const loopback = (at: number): void => {
    h.mem.write(at, new Uint8Array([AF_INET, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
  };
  const recv = async (fd: number): Promise<string> => {
    const n = await call('recvfrom', fd, DATA, 100, 0, 0, 0);
    return isError(n) ? n.name : `${String(n)} ${text(n as number)}`;
  };

  const a = await call('socket', AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDPLITE);
  const b = (await call('socket', AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDPLITE)) as number;
  const u = (await call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
  out.push(`socket: ${isError(a) ? a.name : 'ok'}`);
  const fa = a as number;
  out.push(`protocol: ${String(await get(fa, SOL_SOCKET, SO_PROTOCOL))}`);
  out.push(
    `send cscov 3: ${await set(fa, IPPROTO_UDPLITE, SEND_CSCOV, 3)} -> ${String(await get(fa, IPPROTO_UDPLITE, SEND_CSCOV))}`,
  );
  out.push(
    `recv cscov big: ${await set(b, IPPROTO_UDPLITE, RECV_CSCOV, 100000)} -> ${String(await get(b, IPPROTO_UDPLITE, RECV_CSCOV))}`,
  );
  out.push(`recv cscov via SOL_UDP: ${String(await get(b, IPPROTO_UDP, RECV_CSCOV))}`);
  await set(b, IPPROTO_UDPLITE, RECV_CSCOV, 0);
  out.push(`udp set cscov: ${await set(u, IPPROTO_UDPLITE, SEND_CSCOV, 0)}`);
  out.push(`udp get cscov: ${String(await get(u, IPPROTO_UDPLITE, SEND_CSCOV))}`);
  out.push(`udp get via SOL_UDP: ${String(await get(fa, IPPROTO_UDP, SEND_CSCOV))}`);

  loopback(SA);
  h.mem.writeI32(LEN, 16);
  await call('bind', b, SA, 16);
  await call('getsockname', b, SA, LEN);
  out.push(`send: ${res(await call('sendto', fa, DATA, put('hello udplite'), 0, SA, 16))}`);
  out.push(`recv partial with cscov 0: ${res(await call('recvfrom', b, DATA, 100, 0, 0, 0))}`);
  const c = (await call('socket', AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDPLITE)) as number;
  loopback(SA2);
  h.mem.writeI32(LEN, 16);
  await call('bind', c, SA2, 16);
  await call('getsockname', c, SA2, LEN);
  await call('sendto', fa, DATA, put('hello udplite'), 0, SA2, 16);
  out.push(`recv partial: ${await recv(c)}`);
  out.push(`udp bind same port: ${res(await call('bind', u, SA, 16))}`);
  await set(b, IPPROTO_UDPLITE, RECV_CSCOV, 20);
  await call('sendto', fa, DATA, put('partially covered'), 0, SA, 16);
  out.push(`recv under-covered: ${res(await call('recvfrom', b, DATA, 100, 0, 0, 0))}`);
  await set(fa, IPPROTO_UDPLITE, SEND_CSCOV, 0);
  await call('sendto', fa, DATA, put('fully covered'), 0, SA, 16);
  out.push(`recv covered: ${await recv(b)}`);
  return out.join('\n') + '\n';
}

describe('UDP-Lite sockets (IPPROTO_UDPLITE, RFC 3828)', () => {
  it('behave as Linux: coverage options, partial coverage, their own ports', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = mkdtempSync('/var/tmp/tsvisor-udplite-');
    try {
      const exe = join(dir, 'udplite');
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'testdata/udplite.c')]);
      const native = execFileSync(exe, { encoding: 'utf8', timeout: 10_000 });
      expect(await tsvisorRun(harness())).toBe(native);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
