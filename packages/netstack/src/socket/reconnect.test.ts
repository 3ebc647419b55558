// Connecting again after a failed connect: the call sequence of reconnect-diff.test-util.c on
// InetSocket (on a virtual clock) and on the host kernel (a fresh network namespace) must print
// the same lines.
import {
  errorOf,
  isError,
  MsgFlag,
  PollEvent,
  SockType,
  SocketLevel,
  SocketOption,
  TcpOption,
  type LinuxError,
} from '@tsvisor/abi';
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { InetSocket } from './inet-socket.js';
import { parseSockaddr } from './sockaddr.js';
import { WOULD_BLOCK } from './would-block.js';
import { hostProgram, loopbackBed, mustSocket, sockaddr4, REQ, res } from './host-diff.test-util.js';

const hostRun = hostProgram('reconnect-diff');

function netstackRun(): string {
  const out: string[] = [];
  const p = (s: string) => out.push(s);
  const { sleep, WAIT, tcp: socket } = loopbackBed(11);
  const must = mustSocket;
  const sa = (ip: string, port: number) => sockaddr4(port, ip);
  const name = (what: string, s: InetSocket, peer: boolean) => {
    const r = peer ? s.getpeername() : s.getsockname();
    if (isError(r)) return p(`${what} ${r.name}`);
    const ep = parseSockaddr(r, 4);
    if (isError(ep)) throw ep;
    const port = ep.port >= 32768 && ep.port <= 60999 ? 'eph' : ep.port === 0 ? '0' : 'fixed';
    p(`${what} ${ep.addr.toString()}:${port}`);
  };
  const pollmask = (what: string, s: InetSocket) =>
    p(`${what} ${(s.readiness() & (REQ | PollEvent.POLLERR | PollEvent.POLLHUP)).toString(16)}`);
  const soerror = (what: string, s: InetSocket) => {
    const v = s.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);
    if (isError(v)) throw v;
    p(`${what} ${v === 0 ? '0' : errorOf(v).name}`);
  };
  /** connect(2) as the host runs it: a blocking socket waits for the outcome. */
  const connect = (s: InetSocket, addr: Uint8Array): 0 | LinuxError => {
    let r = s.connect(addr);
    while (r === WOULD_BLOCK) {
      sleep(1);
      r = s.finishConnect();
    }
    return r;
  };
  const conn = (what: string, s: InetSocket, addr: Uint8Array) => p(`${what} ${res(connect(s, addr))}`);
  const listener = (port: number) => {
    const l = socket();
    l.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_REUSEADDR, 1);
    l.bind(sa('127.0.0.1', port));
    l.listen(8);
    return l;
  };
  const te = new TextEncoder();
  const exchange = (what: string, c: InetSocket, l: InetSocket) => {
    const a = l.accept(SockType.SOCK_NONBLOCK);
    p(`${what} accept ${a instanceof InetSocket ? 'ok' : res(a)}`);
    if (!(a instanceof InetSocket)) return;
    p(`${what} send ${res(c.sendto(te.encode('ping'), MsgFlag.MSG_NOSIGNAL))}`);
    WAIT();
    const buf = new Uint8Array(16);
    const n = a.recvfrom(buf);
    const text =
      n !== WOULD_BLOCK && !isError(n) && n.n > 0 ? new TextDecoder().decode(buf.subarray(0, 4)) : '';
    p(`${what} server recv ${res(n)} ${text}`);
    a.close();
  };
  const lingerZero = new Uint8Array(8);
  new DataView(lingerZero.buffer).setInt32(0, 1, true);
  const unspec = new Uint8Array(16); // AF_UNSPEC
  const p1 = sa('127.0.0.1', 7001);

  {
    const s = socket();
    conn('A connect', s, p1);
    WAIT();
    pollmask('A poll', s);
    name('A name', s, false);
    name('A peer', s, true);
    soerror('A so_error', s);
    soerror('A so_error again', s);
    name('A name after so_error', s, false);
    conn('A connect 2', s, p1);
    name('A name after connect 2', s, false);
    pollmask('A poll after connect 2', s);
    p(`A bind after disconnect ${res(s.bind(sa('127.0.0.1', 0)))}`);
    name('A name after bind', s, false);
    conn('A connect 3', s, p1);
    WAIT();
    soerror('A so_error 3', s);
    conn('A connect 4', s, p1);
    const l = listener(7001);
    conn('A connect 5', s, p1);
    WAIT();
    pollmask('A poll 5', s);
    soerror('A so_error 5', s);
    name('A name 5', s, false);
    name('A peer 5', s, true);
    conn('A connect 6', s, p1);
    conn('A connect 7', s, p1);
    exchange('A', s, l);
    s.close();
    l.close();
    WAIT();
  }
  {
    const s = socket();
    conn('B connect', s, p1);
    WAIT();
    conn('B connect 2', s, p1);
    soerror('B so_error', s);
    name('B name', s, false);
    const l = listener(7001);
    conn('B connect 3', s, p1);
    WAIT();
    soerror('B so_error 3', s);
    exchange('B', s, l);
    s.close();
    l.close();
    WAIT();
  }
  {
    const s = socket(false);
    conn('C connect', s, p1);
    soerror('C so_error', s);
    name('C name', s, false);
    name('C peer', s, true);
    conn('C connect 2', s, p1);
    const l = listener(7001);
    conn('C connect 3', s, p1);
    name('C name 3', s, false);
    name('C peer 3', s, true);
    conn('C connect 4', s, p1);
    exchange('C', s, l);
    s.close();
    l.close();
    WAIT();
  }
  {
    const s = socket();
    p(`D bind ${res(s.bind(sa('127.0.0.1', 7100)))}`);
    conn('D connect', s, p1);
    WAIT();
    soerror('D so_error', s);
    name('D name', s, false);
    conn('D connect 2', s, p1);
    name('D name 2', s, false);
    const l = listener(7001);
    conn('D connect 3', s, p1);
    WAIT();
    soerror('D so_error 3', s);
    name('D name 3', s, false);
    exchange('D', s, l);
    s.close();
    l.close();
    WAIT();
  }
  {
    const s = socket();
    p(`E bind ${res(s.bind(sa('0.0.0.0', 7101)))}`);
    conn('E connect', s, p1);
    WAIT();
    name('E name', s, false);
    soerror('E so_error', s);
    conn('E connect 2', s, p1);
    name('E name 2', s, false);
    s.close();
  }
  {
    const l = listener(7001);
    const s = socket();
    conn('F connect', s, p1);
    WAIT();
    conn('F connect 2', s, p1);
    const a = must(l.accept(SockType.SOCK_NONBLOCK) as InetSocket | LinuxError);
    a.setsockoptBytes(SocketLevel.SOL_SOCKET, SocketOption.SO_LINGER, lingerZero);
    a.close();
    WAIT();
    pollmask('F poll', s);
    conn('F connect after rst', s, p1);
    soerror('F so_error', s);
    conn('F connect after so_error', s, p1);
    p(`F listen ${res(s.listen(1))}`);
    name('F name', s, false);
    name('F peer', s, true);
    p(`F connect unspec ${res(s.connect(unspec))}`);
    name('F name after unspec', s, false);
    name('F peer after unspec', s, true);
    pollmask('F poll after unspec', s);
    soerror('F so_error after unspec', s);
    conn('F connect again', s, p1);
    WAIT();
    soerror('F so_error again', s);
    exchange('F', s, l);
    s.close();
    l.close();
    WAIT();
  }
  {
    const l = listener(7001);
    const s = socket();
    conn('G connect', s, p1);
    WAIT();
    const a = must(l.accept(SockType.SOCK_NONBLOCK) as InetSocket | LinuxError);
    a.setsockoptBytes(SocketLevel.SOL_SOCKET, SocketOption.SO_LINGER, lingerZero);
    a.close();
    WAIT();
    pollmask('G poll', s);
    conn('G connect after rst', s, p1);
    name('G name', s, false);
    pollmask('G poll after connect', s);
    conn('G connect again', s, p1);
    WAIT();
    soerror('G so_error again', s);
    exchange('G', s, l);
    s.close();
    l.close();
    WAIT();
  }
  {
    const l = socket();
    const p2 = sa('127.0.0.1', 7002);
    l.bind(p2);
    l.listen(0);
    const filler = socket();
    conn('H filler', filler, p2);
    WAIT();
    const s = socket();
    s.setsockopt(SocketLevel.SOL_TCP, TcpOption.TCP_USER_TIMEOUT, 300);
    conn('H connect', s, p2);
    sleep(100);
    pollmask('H poll connecting', s);
    sleep(1400);
    pollmask('H poll', s);
    soerror('H so_error', s);
    name('H name', s, false);
    conn('H connect 2', s, p2);
    const f = l.accept(SockType.SOCK_NONBLOCK);
    p(`H accept filler ${f instanceof InetSocket ? 'ok' : res(f)}`);
    if (f instanceof InetSocket) f.close();
    filler.close();
    conn('H connect 3', s, p2);
    WAIT();
    soerror('H so_error 3', s);
    exchange('H', s, l);
    s.close();
    l.close();
    WAIT();
  }
  {
    const l = listener(7001);
    const s = socket();
    conn('I connect', s, p1);
    WAIT();
    conn('I connect 2', s, p1);
    const a = must(l.accept(SockType.SOCK_NONBLOCK) as InetSocket | LinuxError);
    p(`I connect unspec ${res(s.connect(unspec))}`);
    pollmask('I poll', s);
    soerror('I so_error', s);
    name('I name', s, false);
    WAIT();
    p(`I server recv ${res(a.recvfrom(new Uint8Array(8)))}`);
    a.close();
    conn('I connect again', s, p1);
    WAIT();
    soerror('I so_error again', s);
    exchange('I', s, l);
    s.close();
    l.close();
  }
  return out.join('\n') + '\n';
}

it('connects again after a refused, timed-out or reset connection exactly as the host kernel does', () => {
  const host = hostRun();
  expect(host).toContain('H so_error ETIMEDOUT'); // the black hole worked on the host
  expect(host).toContain('I server recv 4 ping');
  const ours = netstackRun();
  if (process.env.NETSTACK_DIFF_DUMP) writeFileSync(process.env.NETSTACK_DIFF_DUMP, ours);
  expect(ours).toBe(host);
});
