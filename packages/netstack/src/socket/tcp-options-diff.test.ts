// The TCP options added for TCP_INFO, TCP_CONGESTION, SO_LINGER, TCP_CORK, TCP_QUICKACK and
// TCP_USER_TIMEOUT, against the host kernel (a C program in a private network namespace), and
// the layout of struct tcp_info against linux/tcp.h.
import {
  AddressFamily,
  E,
  isError,
  SockType,
  SocketLevel,
  SocketOption,
  TcpOption,
  type LinuxError,
} from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { InetSocket } from './inet-socket.js';
import { emitSockaddr } from './sockaddr.js';
import {
  TCP_INFO_FIELDS_SINCE_6_2,
  TCP_INFO_LEN,
  TCP_INFO_OFFSETS,
  encodeTcpInfo,
  EMPTY_TCP_INFO,
} from './tcp-info.js';
import { WOULD_BLOCK } from './would-block.js';
import { hostProgram } from './host-diff.test-util.js';

const dir = mkdtempSync(join(tmpdir(), 'tsvisor-netstack-tcpopt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hostRun = hostProgram('tcp-options-diff');

const te = new TextEncoder();
const cstr = (b: Uint8Array): string =>
  new TextDecoder().decode(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)));
const i32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
};

function netstackRun(): string {
  const out: string[] = [];
  const p = (x: string) => out.push(x);
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 4 });
  const must = (x: InetSocket | LinuxError | typeof WOULD_BLOCK): InetSocket => {
    if (x === WOULD_BLOCK || isError(x)) throw new Error(String(x));
    return x;
  };
  const sock = () =>
    must(InetSocket.create(stack, AddressFamily.AF_INET, SockType.SOCK_STREAM | SockType.SOCK_NONBLOCK, 0));
  const r = (what: string, x: number | LinuxError | typeof WOULD_BLOCK | { n: number }) =>
    p(`${what} ${x === WOULD_BLOCK ? 'WOULD_BLOCK' : isError(x) ? x.name : typeof x === 'number' ? x : x.n}`);
  const geti = (what: string, s: InetSocket, level: number, name: number) => {
    const b = s.getsockoptBytes(level, name, 4);
    if (isError(b)) p(`${what} ${b.name}`);
    else p(`${what} ${new DataView(b.buffer, b.byteOffset).getInt32(0, true)} len ${b.length}`);
  };
  const seti = (what: string, s: InetSocket, level: number, name: number, v: number, len: number) =>
    r(what, s.setsockoptBytes(level, name, i32(v).subarray(0, len)));
  const info = (what: string, s: InetSocket) => {
    const b = s.getsockoptBytes(SocketLevel.SOL_TCP, TcpOption.TCP_INFO, 232);
    if (isError(b)) return p(`${what} ${b.name}`);
    p(`${what} len ${b.length} state ${b[0]} options ${b[5]}`);
  };
  const TCP = SocketLevel.SOL_TCP;

  const s = sock();
  r('set congestion reno', s.setsockoptBytes(TCP, TcpOption.TCP_CONGESTION, te.encode('reno')));
  let name = s.getsockoptBytes(TCP, TcpOption.TCP_CONGESTION, 32);
  if (isError(name)) throw name;
  p(`get congestion ${cstr(name)} len ${name.length}`);
  name = s.getsockoptBytes(TCP, TcpOption.TCP_CONGESTION, 3);
  if (isError(name)) throw name;
  p(`get congestion short len ${name.length}`);
  r('set congestion cubic+nul', s.setsockoptBytes(TCP, TcpOption.TCP_CONGESTION, te.encode('cubic\0xyz')));
  name = s.getsockoptBytes(TCP, TcpOption.TCP_CONGESTION, 32);
  if (isError(name)) throw name;
  p(`get congestion ${cstr(name)}`);
  r('set congestion bogus', s.setsockoptBytes(TCP, TcpOption.TCP_CONGESTION, te.encode('bogus')));
  r('set congestion empty', s.setsockoptBytes(TCP, TcpOption.TCP_CONGESTION, new Uint8Array(0)));
  const linger = () => {
    const b = s.getsockoptBytes(SocketLevel.SOL_SOCKET, SocketOption.SO_LINGER, 8);
    if (isError(b)) throw b;
    const dv = new DataView(b.buffer, b.byteOffset);
    p(`linger ${dv.getInt32(0, true)} ${dv.getInt32(4, true)} len ${b.length}`);
  };
  linger();
  const lg = new Uint8Array(8);
  new DataView(lg.buffer).setInt32(0, 5, true);
  new DataView(lg.buffer).setInt32(4, 7, true);
  r('set linger short', s.setsockoptBytes(SocketLevel.SOL_SOCKET, SocketOption.SO_LINGER, lg.subarray(0, 4)));
  r('set linger', s.setsockoptBytes(SocketLevel.SOL_SOCKET, SocketOption.SO_LINGER, lg));
  linger();
  geti('cork', s, TCP, TcpOption.TCP_CORK);
  seti('set cork', s, TCP, TcpOption.TCP_CORK, 1, 4);
  geti('cork', s, TCP, TcpOption.TCP_CORK);
  geti('quickack', s, TCP, TcpOption.TCP_QUICKACK);
  seti('set quickack 0', s, TCP, TcpOption.TCP_QUICKACK, 0, 4);
  geti('quickack', s, TCP, TcpOption.TCP_QUICKACK);
  geti('user_timeout', s, TCP, TcpOption.TCP_USER_TIMEOUT);
  seti('set user_timeout -1', s, TCP, TcpOption.TCP_USER_TIMEOUT, -1, 4);
  seti('set user_timeout 2500', s, TCP, TcpOption.TCP_USER_TIMEOUT, 2500, 4);
  seti('set user_timeout short', s, TCP, TcpOption.TCP_USER_TIMEOUT, 2500, 2);
  geti('user_timeout', s, TCP, TcpOption.TCP_USER_TIMEOUT);
  seti('set info', s, TCP, TcpOption.TCP_INFO, 1, 4);
  info('info fresh', s);

  const l = sock();
  const addr = emitSockaddr({ addr: Ipv4Address.LOOPBACK, port: 8080 });
  l.bind(addr);
  l.listen(4);
  info('info listener', l);
  const c = sock();
  const started = c.connect(addr);
  settle([stack], 0);
  r('connect', started === WOULD_BLOCK || started === E.EINPROGRESS ? 0 : started);
  const srv = must(l.accept());
  info('info client', c);
  info('info server', srv);
  const zero = new Uint8Array(8);
  new DataView(zero.buffer).setInt32(0, 1, true);
  r('set linger 0', c.setsockoptBytes(SocketLevel.SOL_SOCKET, SocketOption.SO_LINGER, zero));
  c.sendto(te.encode('abc'));
  settle([stack], 1);
  c.close();
  r('close', 0);
  settle([stack], 2);
  const buf = new Uint8Array(8);
  r('server read', srv.recvfrom(buf));
  r('server read', srv.recvfrom(buf));
  info('info server after rst', srv);
  return out.join('\n') + '\n';
}

it('TCP_CONGESTION, SO_LINGER, TCP_CORK, TCP_QUICKACK, TCP_USER_TIMEOUT, TCP_INFO and a linger-0 close match the host kernel', () => {
  const host = hostRun();
  expect(host).toContain('server read 3'); // the scenario ran on a working loopback
  expect(netstackRun()).toBe(host);
});

it('struct tcp_info: every offset and the size match linux/tcp.h, and the wscale bit-fields land as gcc puts them', () => {
  // The system's header is Linux 6.1's: the fields since 6.2 follow its end (the 6.18 size,
  // 280, is compared with the running kernel in runtime's tcp-sockopts test).
  const fields = Object.keys(TCP_INFO_OFFSETS).filter(
    (n) => n.startsWith('tcpi_') && !TCP_INFO_FIELDS_SINCE_6_2.includes(n),
  );
  const end61 = TCP_INFO_OFFSETS[TCP_INFO_FIELDS_SINCE_6_2[0]!]!;
  const src = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <string.h>',
    '#include <linux/tcp.h>',
    'int main(void) {',
    ...fields.map((f) => `  printf("${f} %zu\\n", offsetof(struct tcp_info, ${f}));`),
    '  printf("size %zu\\n", sizeof(struct tcp_info));',
    '  struct tcp_info t; memset(&t, 0, sizeof t); t.tcpi_snd_wscale = 3; t.tcpi_rcv_wscale = 9;',
    '  printf("wscale byte %d\\n", ((unsigned char *)&t)[6]);',
    '  return 0;',
    '}',
  ].join('\n');
  const c = join(dir, 'tcp-info-layout.c');
  const bin = join(dir, 'tcp-info-layout');
  writeFileSync(c, src);
  execFileSync('gcc', ['-O0', '-o', bin, c]);
  const host = execFileSync(bin).toString();
  const wscale = encodeTcpInfo({ ...EMPTY_TCP_INFO, sndWscale: 3, rcvWscale: 9 })[6];
  const ours =
    fields.map((f) => `${f} ${TCP_INFO_OFFSETS[f]}`).join('\n') + `\nsize ${end61}\nwscale byte ${wscale}\n`;
  expect(fields.length).toBeGreaterThan(50);
  expect(TCP_INFO_LEN).toBe(280);
  expect(ours).toBe(host);
});
