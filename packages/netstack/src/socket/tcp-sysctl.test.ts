// net.ipv4.tcp_keepalive_time/intvl/probes and tcp_fin_timeout as stack settings, against the
// per-socket TCP_KEEPIDLE/INTVL/CNT and TCP_LINGER2: tcp-sysctl-diff.test-util.c runs on the host
// kernel (root, fresh network namespace) and the same sequence runs here on a virtual clock.
import { E, errorOf, isError, SocketLevel, SocketOption, TcpOption } from '@tsvisor/abi';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { runUntil, settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { Ipv4Address } from '../wire/ip-address.js';
import { InetSocket } from './inet-socket.js';
import { parseSockaddr } from './sockaddr.js';
import { WOULD_BLOCK } from './would-block.js';
import { bufs } from './tcp-transfer.test-util.js';
import { FaultInjector } from '../phy/fault-injector.js';
import { linkPair } from '../phy/loopback.js';
import { hostProgram, loopbackBed, sockaddr4 } from './host-diff.test-util.js';

const hostRun = hostProgram('tcp-sysctl-diff');

function netstackRun(): string {
  const out: string[] = [];
  const p = (s: string) => out.push(s);
  const { stack, sleep, WAIT, tcp: socket } = loopbackBed(21, true);
  const sa = (port: number) => sockaddr4(port);
  const opt = (s: InetSocket, name: number): number => {
    const v = s.getsockopt(SocketLevel.SOL_TCP, name);
    if (isError(v)) throw v;
    return v;
  };
  const opts = (what: string, s: InetSocket) =>
    p(
      `${what} keepidle ${opt(s, TcpOption.TCP_KEEPIDLE)} keepintvl ${opt(s, TcpOption.TCP_KEEPINTVL)}` +
        ` keepcnt ${opt(s, TcpOption.TCP_KEEPCNT)} linger2 ${opt(s, TcpOption.TCP_LINGER2)}`,
    );
  const setopt = (s: InetSocket, name: number, v: number) => {
    const r = s.setsockopt(SocketLevel.SOL_TCP, name, v);
    return isError(r) ? r.name : String(r);
  };
  const localPort = (s: InetSocket): number => {
    const ep = parseSockaddr(s.getsockname(), 4);
    if (isError(ep)) throw ep;
    return ep.port;
  };
  const state = (what: string, port: number, peer: number) => {
    const e = stack.sockets().find((x) => x.local?.port === port && x.remote?.port === peer);
    p(`${what} ${e ? e.state.toString(16).toUpperCase().padStart(2, '0') : 'none'}`);
  };
  const pair = (l: InetSocket, port: number): [InetSocket, InetSocket] => {
    const c = socket();
    let r = c.connect(sa(port));
    while (r === WOULD_BLOCK) {
      sleep(1);
      r = c.finishConnect();
    }
    if (r !== 0) throw r;
    const a = l.accept();
    if (!(a instanceof InetSocket)) throw new Error('accept');
    return [c, a];
  };
  const recv = (s: InetSocket) => {
    const r = s.recvfrom(new Uint8Array(16));
    return r === WOULD_BLOCK ? 'WOULD_BLOCK' : isError(r) ? r.name : String(r.n);
  };
  const sysctl = stack.sysctl;

  const early = socket();
  opts('defaults', early);
  sysctl.keepaliveTime = 30;
  sysctl.keepaliveIntvl = 5;
  sysctl.keepaliveProbes = 4;
  sysctl.finTimeout = 7;
  opts('existing socket', early);
  const s = socket();
  opts('new socket', s);
  p(`set keepidle 100 ${setopt(s, TcpOption.TCP_KEEPIDLE, 100)}`);
  p(`set keepcnt 2 ${setopt(s, TcpOption.TCP_KEEPCNT, 2)}`);
  p(`set linger2 -5 ${setopt(s, TcpOption.TCP_LINGER2, -5)}`);
  opts('after set', s);
  sysctl.keepaliveTime = 40;
  sysctl.keepaliveProbes = 6;
  opts('after set and sysctl', s);
  p(`set linger2 500 ${setopt(s, TcpOption.TCP_LINGER2, 500)}`);
  opts('linger2 500', s);
  p(`set linger2 50 ${setopt(s, TcpOption.TCP_LINGER2, 50)}`);
  opts('linger2 50', s);
  p(`set linger2 0 ${setopt(s, TcpOption.TCP_LINGER2, 0)}`);
  opts('linger2 0', s);
  s.close();
  early.close();

  const l = socket();
  l.bind(sa(7300));
  l.listen(8);
  p(`set listener linger2 9 ${setopt(l, TcpOption.TCP_LINGER2, 9)}`);
  let [c, srv] = pair(l, 7300);
  opts('accepted', srv);
  c.close();
  srv.close();
  WAIT();

  sysctl.finTimeout = 1;
  [c, srv] = pair(l, 7300);
  let cp = localPort(c);
  c.close();
  sleep(200);
  state('orphan after 0.2 s', cp, 7300);
  sleep(1200);
  state('orphan after 1.4 s', cp, 7300);
  p(`server recv ${recv(srv)}`);
  srv.close();
  WAIT();

  [c, srv] = pair(l, 7300);
  cp = localPort(c);
  c.shutdown(1);
  sleep(1400);
  state('shutdown only after 1.4 s', cp, 7300);
  setopt(c, TcpOption.TCP_LINGER2, -1);
  c.close();
  WAIT();
  state('linger2 -1 closed in fin_wait2', cp, 7300);
  const err = srv.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR);
  if (isError(err)) throw err;
  p(`server so_error after rst ${err === 0 ? '0' : errorOf(err).name}`);
  srv.close();
  WAIT();

  [c, srv] = pair(l, 7300);
  cp = localPort(c);
  setopt(c, TcpOption.TCP_LINGER2, -1);
  c.close();
  WAIT();
  state('linger2 -1 closed established', cp, 7300);
  p(`server recv eof ${recv(srv)}`);
  srv.close();

  [c, srv] = pair(l, 7300);
  cp = localPort(c);
  setopt(c, TcpOption.TCP_LINGER2, 5);
  c.close();
  sleep(1400);
  state('linger2 5 after 1.4 s', cp, 7300);
  srv.close();
  l.close();
  return out.join('\n') + '\n';
}

describe('net.ipv4 TCP timer sysctls', () => {
  it('keepalive and FIN_WAIT_2 settings answer and act exactly as on the host kernel', () => {
    const host = hostRun();
    expect(host).toContain('orphan after 0.2 s 05'); // the host run really saw FIN_WAIT_2
    expect(host).toContain('orphan after 1.4 s none');
    const ours = netstackRun();
    if (process.env.NETSTACK_DIFF_DUMP) writeFileSync(process.env.NETSTACK_DIFF_DUMP, ours);
    expect(ours).toBe(host);
  });

  it('a silent peer is dropped after tcp_keepalive_time + probes x intvl, unless the socket set its own', () => {
    const [da, db] = linkPair();
    const cut = { drop: 0 };
    const a = new Stack({ device: new FaultInjector(da, cut), addresses: [cidr('10.0.0.1/24')], seed: 41 });
    const b = new Stack({ device: new FaultInjector(db, cut), addresses: [cidr('10.0.0.2/24')], seed: 42 });
    const l = b.tcpListener(4, () => bufs());
    l.bind({ addr: Ipv4Address.UNSPECIFIED, port: 22 });
    l.listen(4);
    const viaSysctl = a.tcpSocket(4, bufs());
    const own = a.tcpSocket(4, bufs());
    for (const c of [viaSysctl, own]) {
      c.keepAlive = true;
      c.connect({ addr: Ipv4Address.parse('10.0.0.2')!, port: 22 });
    }
    own.keepIdle = 100_000; // TCP_KEEPIDLE 100 s; interval and count still from the sysctls
    settle([a, b], 0);
    // Set after the connections exist: Linux reads these when the timer is armed.
    a.sysctl.keepaliveTime = 30;
    a.sysctl.keepaliveIntvl = 5;
    a.sysctl.keepaliveProbes = 4;
    cut.drop = 1; // the peer goes silent
    const t1 = runUntil([a, b], 1, () => viaSysctl.state === 'CLOSED', 200_000);
    expect(viaSysctl.takeError()).toBe(E.ETIMEDOUT);
    // Probes after 30, 35, 40 and 45 s of silence; the expiry at 50 s gives up.
    expect(t1).toBe(50_000);
    expect(viaSysctl.stats.segmentsSent).toBe(own.stats.segmentsSent + 5); // 4 probes and the RST
    const t2 = runUntil([a, b], t1, () => own.state === 'CLOSED', 200_000);
    expect(own.takeError()).toBe(E.ETIMEDOUT);
    expect(t2).toBe(120_000);
  });
});
