import { isError } from '@tsvisor/abi';
import { Ipv6Address } from '@tsvisor/netstack';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import type { SyscallResult } from './types.js';

// The same steps as testdata/dualstack.c, whose native output is the expected one.
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;

const A6 = BUF; // sockaddr_in6 scratch
const A4 = BUF + 0x40; // sockaddr_in scratch
const LEN = BUF + 0x80;
const OPT = BUF + 0x90;
const DATA = BUF + 0x100;

function res(r: SyscallResult): string {
  return isError(r) ? r.name : 'ok';
}

function sin6(h: Harness, port: number, addr: Uint8Array): void {
  const b = new Uint8Array(28);
  b[0] = AF_INET6;
  b[2] = port >> 8;
  b[3] = port & 0xff;
  b.set(addr, 8);
  h.mem.write(A6, b);
}

function sin(h: Harness, port: number, addr: number[]): void {
  h.mem.write(A4, new Uint8Array([AF_INET, 0, port >> 8, port & 0xff, ...addr, 0, 0, 0, 0, 0, 0, 0, 0]));
}

/** What inet_ntop prints for the addresses used here. */
function ntop(b: Uint8Array): string {
  const v4 = new Ipv6Address(b).v4Mapped();
  return v4 ? `::ffff:${v4.bytes.join('.')}` : new Ipv6Address(b).toString();
}

function name6(h: Harness, what: string): string {
  const b = h.mem.read(A6, 28) as Uint8Array;
  return `${what}: family ${String(b[0]! | (b[1]! << 8))} ${ntop(b.subarray(8, 24))}`;
}

async function tsvisorRun(h: Harness): Promise<string> {
  const out: string[] = [];
  const call = (name: string, ...args: number[]): Promise<SyscallResult> => h.call(name, ...args);
  const fd = async (...args: number[]): Promise<number> => (await call('socket', ...args)) as number;
  const mapped = new Ipv6Address([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]).bytes;

  const l = await fd(AF_INET6, SOCK_STREAM, 0);
  h.mem.writeI32(LEN, 4);
  await call('getsockopt', l, IPPROTO_IPV6, IPV6_V6ONLY, OPT, LEN);
  out.push(`default v6only: ${String(h.mem.readI32(OPT))}`);
  sin6(h, 0, new Uint8Array(16));
  h.mem.writeI32(LEN, 28);
  expect(await call('bind', l, A6, 28)).toBe(0);
  expect(await call('listen', l, 4)).toBe(0);
  expect(await call('getsockname', l, A6, LEN)).toBe(0);
  const port = ((h.mem.read(A6 + 2, 2) as Uint8Array)[0]! << 8) | (h.mem.read(A6 + 3, 1) as Uint8Array)[0]!;
  h.mem.writeI32(OPT, 1);
  out.push(`v6only after bind: ${res(await call('setsockopt', l, IPPROTO_IPV6, IPV6_V6ONLY, OPT, 4))}`);

  const b4 = await fd(AF_INET, SOCK_STREAM, 0);
  sin(h, port, [127, 0, 0, 1]);
  out.push(`ipv4 bind of the port: ${res(await call('bind', b4, A4, 16))}`);
  out.push(`ipv4 connect: ${res(await call('connect', b4, A4, 16))}`);
  h.mem.writeI32(LEN, 28);
  const s = await call('accept', l, A6, LEN);
  out.push(`accept: ${res(s)} len ${String(h.mem.readI32(LEN))}`);
  out.push(name6(h, 'accepted peer'));
  h.mem.writeI32(LEN, 28);
  await call('getsockname', s as number, A6, LEN);
  out.push(name6(h, 'accepted local'));
  const wrote = await call('write', b4, DATA, 1);
  const got = await call('read', s as number, DATA, 1);
  out.push(`data: ${wrote === 1 && got === 1 ? 'ok' : 'failed'}`);

  const c6 = await fd(AF_INET6, SOCK_STREAM, 0);
  sin6(h, port, mapped);
  out.push(`mapped connect: ${res(await call('connect', c6, A6, 28))}`);
  h.mem.writeI32(LEN, 28);
  await call('getsockname', c6, A6, LEN);
  out.push(name6(h, 'mapped client local'));
  h.mem.writeI32(LEN, 28);
  await call('getpeername', c6, A6, LEN);
  out.push(name6(h, 'mapped client peer'));

  const o6 = await fd(AF_INET6, SOCK_STREAM, 0);
  h.mem.writeI32(OPT, 1);
  await call('setsockopt', o6, IPPROTO_IPV6, IPV6_V6ONLY, OPT, 4);
  sin6(h, port, mapped);
  out.push(`v6only mapped connect: ${res(await call('connect', o6, A6, 28))}`);
  const p6 = await fd(AF_INET6, SOCK_STREAM, 0);
  await call('setsockopt', p6, IPPROTO_IPV6, IPV6_V6ONLY, OPT, 4);
  const p4 = await fd(AF_INET, SOCK_STREAM, 0);
  sin(h, 0, [0, 0, 0, 0]);
  await call('bind', p4, A4, 16);
  h.mem.writeI32(LEN, 16);
  await call('getsockname', p4, A4, LEN);
  const port4 = h.mem.read(A4 + 2, 2) as Uint8Array;
  sin6(h, (port4[0]! << 8) | port4[1]!, new Uint8Array(16));
  out.push(`v6only bind beside ipv4: ${res(await call('bind', p6, A6, 28))}`);
  const d6 = await fd(AF_INET6, SOCK_STREAM, 0);
  out.push(`dual bind beside ipv4: ${res(await call('bind', d6, A6, 28))}`);
  return out.join('\n') + '\n';
}

describe('dual-stack AF_INET6 TCP sockets (IPv4-mapped addresses)', () => {
  it('behave as Linux with net.ipv6.bindv6only=0', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = mkdtempSync('/var/tmp/tsvisor-dualstack-');
    try {
      const exe = join(dir, 'dualstack');
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'testdata/dualstack.c')]);
      const native = execFileSync(exe, { encoding: 'utf8', timeout: 10_000 });
      expect(await tsvisorRun(harness())).toBe(native);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
