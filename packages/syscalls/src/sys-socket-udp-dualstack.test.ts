import { isError } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUF, harness, type Harness } from './harness.test-util.js';
import type { SyscallResult } from './types.js';

// The same steps as testdata/udp-dualstack.c, whose native output is the expected one.
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const MSG_DONTWAIT = 0x40;

const SA = BUF; // scratch sockaddr
const FROM = BUF + 0x40;
const LEN = BUF + 0x80;
const OPT = BUF + 0x90;
const DATA = BUF + 0x100;

const LOOP4 = [127, 0, 0, 1];
const MAPPED_LOOP = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];

async function tsvisorRun(h: Harness): Promise<string> {
  const out: string[] = [];
  const call = (name: string, ...args: number[]): Promise<SyscallResult> => h.call(name, ...args);
  const res = (what: string, r: SyscallResult): void => {
    out.push(`${what}: ${isError(r) ? `errno ${String(r.errno)}` : String(r)}`);
  };
  const sin = (port: number, addr: number[]): number => {
    h.mem.write(SA, new Uint8Array([AF_INET, 0, port >> 8, port & 0xff, ...addr, 0, 0, 0, 0, 0, 0, 0, 0]));
    return 16;
  };
  const sin6 = (port: number, addr: number[]): number => {
    const b = new Uint8Array(28);
    b[0] = AF_INET6;
    b[2] = port >> 8;
    b[3] = port & 0xff;
    b.set(addr, 8);
    h.mem.write(SA, b);
    return 28;
  };
  const i32 = (at: number): number =>
    new DataView((h.mem.read(at, 4) as Uint8Array).slice().buffer).getInt32(0, true);
  const show = (what: string, at: number, len: number): void => {
    const b = (h.mem.read(at, len) as Uint8Array).slice();
    const v6 = b[0] === AF_INET6;
    const addr = b.subarray(v6 ? 8 : 4, v6 ? 24 : 8);
    const hex = [...addr].map((x) => x.toString(16).padStart(2, '0')).join('');
    out.push(`${what}: len ${String(len)} family ${String(b[0])} addr ${hex}`);
  };
  const name = async (fd: number, how = 'getsockname'): Promise<{ port: number; len: number }> => {
    h.mem.write(LEN, new Uint8Array([28, 0, 0, 0]));
    await call(how, fd, SA, LEN);
    const b = h.mem.read(SA, 4) as Uint8Array;
    return { port: (b[2]! << 8) | b[3]!, len: i32(LEN) };
  };
  const recvshow = async (what: string, fd: number): Promise<void> => {
    h.mem.write(LEN, new Uint8Array([28, 0, 0, 0]));
    const n = await call('recvfrom', fd, DATA, 16, MSG_DONTWAIT, FROM, LEN);
    res(what, n);
    if (!isError(n)) show(what, FROM, i32(LEN));
  };
  const put = (s: string): number => {
    h.mem.write(DATA, new TextEncoder().encode(s));
    return s.length;
  };

  const r = (await call('socket', AF_INET6, SOCK_DGRAM, 0)) as number;
  h.mem.write(LEN, new Uint8Array([4, 0, 0, 0]));
  await call('getsockopt', r, IPPROTO_IPV6, IPV6_V6ONLY, OPT, LEN);
  out.push(`v6only default ${String(i32(OPT))}`);
  res('bind ::', await call('bind', r, SA, sin6(0, new Array<number>(16).fill(0))));
  const port = (await name(r)).port;

  const s4 = (await call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
  res('v4 send to dual', await call('sendto', s4, DATA, put('v4'), 0, SA, sin(port, LOOP4)));
  await recvshow('dual recv', r);
  const s4port = (await name(s4)).port;
  res('dual send to mapped', await call('sendto', r, DATA, put('back'), 0, SA, sin6(s4port, MAPPED_LOOP)));
  await recvshow('v4 recv', s4);

  const b4 = (await call('socket', AF_INET, SOCK_DGRAM, 0)) as number;
  res('v4 bind same port', await call('bind', b4, SA, sin(port, [0, 0, 0, 0])));

  const one = (): void => {
    h.mem.write(OPT, new Uint8Array([1, 0, 0, 0]));
  };
  const o = (await call('socket', AF_INET6, SOCK_DGRAM, 0)) as number;
  one();
  await call('setsockopt', o, IPPROTO_IPV6, IPV6_V6ONLY, OPT, 4);
  res('v6only send to mapped', await call('sendto', o, DATA, put('x'), 0, SA, sin6(s4port, MAPPED_LOOP)));
  const o2 = (await call('socket', AF_INET6, SOCK_DGRAM, 0)) as number;
  one();
  await call('setsockopt', o2, IPPROTO_IPV6, IPV6_V6ONLY, OPT, 4);
  res('v6only bind mapped', await call('bind', o2, SA, sin6(0, MAPPED_LOOP)));
  res('v6only connect mapped', await call('connect', o2, SA, sin6(s4port, MAPPED_LOOP)));

  const m = (await call('socket', AF_INET6, SOCK_DGRAM, 0)) as number;
  res('bind mapped', await call('bind', m, SA, sin6(0, MAPPED_LOOP)));
  const mn = await name(m);
  show('mapped name', SA, mn.len);
  res('v4 send to mapped-bound', await call('sendto', s4, DATA, put('m'), 0, SA, sin(mn.port, LOOP4)));
  await recvshow('mapped-bound recv', m);

  res('dual connect mapped', await call('connect', r, SA, sin6(s4port, MAPPED_LOOP)));
  const peer = await name(r, 'getpeername');
  show('dual peer', SA, peer.len);
  res('dual send connected', await call('sendto', r, DATA, put('c'), 0, 0, 0));
  await recvshow('v4 recv connected', s4);
  return out.join('\n') + '\n';
}

describe('dual-stack UDP (AF_INET6 without IPV6_V6ONLY)', () => {
  it('behaves as Linux: IPv4 datagrams as ::ffff:a.b.c.d, mapped sends and binds', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = mkdtempSync('/var/tmp/tsvisor-udp-dualstack-');
    try {
      const exe = join(dir, 'udp-dualstack');
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'testdata/udp-dualstack.c')]);
      const native = execFileSync(exe, { encoding: 'utf8', timeout: 10_000 });
      expect(await tsvisorRun(harness())).toBe(native);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
