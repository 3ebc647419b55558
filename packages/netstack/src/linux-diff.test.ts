// Differential test: socket scenarios on netstack and on the host kernel (in a private network
// namespace) must print the same results and errnos.
import { isError, type LinuxError } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cidr } from './iface/interface.js';
import { LoopbackDevice } from './phy/loopback.js';
import { RingBuffer } from './storage/ring-buffer.js';
import { WOULD_BLOCK, type WouldBlock } from './socket/would-block.js';
import { settle } from './stack.test-util.js';
import { Stack } from './stack.js';
import { Ipv4Address } from './wire/ip-address.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvisor-netstack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function res(r: number | undefined | LinuxError | WouldBlock | { len: number }): string {
  if (r === WOULD_BLOCK) return 'WOULD_BLOCK';
  if (isError(r)) return r.name;
  if (r === undefined) return '0';
  return String(typeof r === 'number' ? r : r.len);
}

function netstackRun(): string {
  const out: string[] = [];
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 1 });
  const lo = (port: number) => ({ addr: Ipv4Address.LOOPBACK, port });
  const te = new TextEncoder();
  const buf = new Uint8Array(16);
  const c = stack.udpSocket(4);
  out.push(`udp connect ${res(c.connect(lo(4444)))}`);
  out.push(`udp send ${res(c.sendto(te.encode('anyone?')))}`);
  settle([stack], 0);
  out.push(`udp recv ${res(c.recvfrom(buf))}`);
  out.push(`udp recv again ${res(c.recvfrom(buf))}`);
  const u = stack.udpSocket(4);
  out.push(`udp sendto ${res(u.sendto(te.encode('anyone?'), lo(4445)))}`);
  settle([stack], 0);
  out.push(`udp unconnected recv ${res(u.recvfrom(buf))}`);
  out.push(`udp send no dest ${res(u.sendto(te.encode('x')))}`);
  const b1 = stack.udpSocket(4);
  const b2 = stack.udpSocket(4);
  out.push(`bind ${res(b1.bind({ addr: Ipv4Address.UNSPECIFIED, port: 9000 }))}`);
  out.push(`bind again ${res(b1.bind(lo(9001)))}`);
  out.push(`bind in use ${res(b2.bind(lo(9000)))}`);
  out.push(`bind not local ${res(b2.bind({ addr: Ipv4Address.parse('10.9.9.9')!, port: 9002 }))}`);
  const t = stack.tcpSocket(4, {
    rx: new RingBuffer(new Uint8Array(1024)),
    tx: new RingBuffer(new Uint8Array(1024)),
  });
  // A non-blocking connect(2) answers EINPROGRESS once the handshake has started.
  const started = t.connect(lo(1));
  out.push(`tcp connect ${started === undefined ? 'EINPROGRESS' : res(started)}`);
  settle([stack], 0);
  out.push(`tcp so_error ${res(t.takeError())}`);
  return out.join('\n') + '\n';
}

it('UDP and TCP error semantics match the host kernel', () => {
  const bin = join(dir, 'linux-diff');
  execFileSync('gcc', ['-O0', '-w', '-o', bin, join(import.meta.dirname, 'linux-diff.test-util.c')]);
  const host = execFileSync('unshare', ['--net', 'sh', '-c', `ip link set lo up && ${bin}`]).toString();
  expect(host).toContain('udp recv ECONNREFUSED'); // the scenario ran on a working loopback
  expect(netstackRun()).toBe(host);
});
