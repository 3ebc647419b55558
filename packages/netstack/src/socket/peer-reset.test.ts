// TCP edge cases: the call sequence of peer-reset-diff.test-util.c on InetSocket (on a virtual
// clock) and on the host kernel (a fresh network namespace) must print the same lines: a peer's
// FIN followed by its RST, the sockets /proc/net/tcp lists, and sends into a closed window.
import { isError, MsgFlag, PollEvent, Shut, SockType, SocketLevel, SocketOption } from '@tsvisor/abi';
import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { InetSocket } from './inet-socket.js';
import { WOULD_BLOCK } from './would-block.js';
import { hostProgram, loopbackBed, mustSocket, sockaddr4, twinShows, res } from './host-diff.test-util.js';

const hostRun = hostProgram('peer-reset-diff');

function netstackRun(): string {
  const out: string[] = [];
  const p = (s: string) => out.push(s);
  const { stack, sleep, WAIT, tcp: socket } = loopbackBed(5);
  const must = mustSocket;
  const sa = (port: number) => sockaddr4(port);
  const { poll: pollmask, soerror, recv: rcv } = twinShows(p);
  const snd = (what: string, s: InetSocket) =>
    p(`${what} send ${res(s.sendto(new Uint8Array([120]), MsgFlag.MSG_NOSIGNAL))}`);
  const listener = (port: number) => {
    const l = socket();
    l.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_REUSEADDR, 1);
    l.bind(sa(port));
    l.listen(8);
    return l;
  };
  const pair = (port: number) => {
    const l = listener(port);
    const c = socket();
    c.connect(sa(port));
    WAIT();
    const a = must(l.accept(SockType.SOCK_NONBLOCK));
    return { c, a, l };
  };
  const lingerZero = new Uint8Array(8);
  new DataView(lingerZero.buffer).setInt32(0, 1, true);
  const reset = (s: InetSocket) => {
    s.setsockoptBytes(SocketLevel.SOL_SOCKET, SocketOption.SO_LINGER, lingerZero);
    s.close();
  };
  /** The entries /proc/net/tcp would show for local port `port`: how many, and their states. */
  const proc = (what: string, port: number) => {
    const states = stack
      .sockets()
      .filter((e) => e.protocol === 'tcp' && e.local?.port === port)
      .map((e) => ` ${e.state.toString(16).toUpperCase().padStart(2, '0')}`);
    p(`${what} proc ${states.length}${states.join('')}`);
  };
  const data = new TextEncoder().encode('data');

  {
    const { c, a, l } = pair(7101);
    a.shutdown(Shut.SHUT_WR);
    WAIT();
    reset(a);
    WAIT();
    pollmask('F1', c);
    rcv('F1', c);
    rcv('F1', c);
    pollmask('F1', c);
    snd('F1', c);
    soerror('F1', c);
    pollmask('F1', c);
    rcv('F1', c);
    c.close();
    l.close();
  }
  {
    const { c, a, l } = pair(7102);
    a.sendto(data);
    a.shutdown(Shut.SHUT_WR);
    WAIT();
    reset(a);
    WAIT();
    pollmask('F2', c);
    rcv('F2', c);
    rcv('F2', c);
    pollmask('F2', c);
    soerror('F2', c);
    pollmask('F2', c);
    rcv('F2', c);
    snd('F2', c);
    c.close();
    l.close();
  }
  {
    const { c, a, l } = pair(7103);
    a.sendto(data);
    WAIT();
    reset(a);
    WAIT();
    pollmask('F3', c);
    rcv('F3', c);
    pollmask('F3', c);
    rcv('F3', c);
    pollmask('F3', c);
    rcv('F3', c);
    soerror('F3', c);
    snd('F3', c);
    c.close();
    l.close();
  }
  {
    const b = socket(false);
    b.bind(sa(7201));
    proc('P bound', 7201);
    const f = socket();
    f.bind(sa(7202));
    f.connect(sa(7299));
    WAIT();
    soerror('P refused', f);
    proc('P refused', 7202);
    const l = listener(7203);
    proc('P listener', 7203);
    const c = socket();
    c.connect(sa(7203));
    WAIT();
    proc('P connected', 7203);
    l.close();
    WAIT();
    proc('P listener closed', 7203);
    b.close();
    f.close();
    c.close();
  }
  {
    const { c, a, l } = pair(7301);
    const chunk = new Uint8Array(65536);
    let last = '';
    for (let i = 0; i < 1000; i++) {
      const n = c.sendto(chunk, MsgFlag.MSG_NOSIGNAL);
      const kind = typeof n === 'number' && n > 0 ? 'accepted' : res(n);
      if (kind !== last) p(`Z send ${kind}`);
      last = kind;
      if (typeof n !== 'number' || n <= 0) break;
      WAIT();
    }
    pollmask('Z', c);
    sleep(500);
    let r = c.sendto(chunk, MsgFlag.MSG_NOSIGNAL);
    while (typeof r === 'number' && r > 0) {
      WAIT();
      r = c.sendto(chunk, MsgFlag.MSG_NOSIGNAL);
    }
    p(`Z refill ${res(r)}`);
    pollmask('Z', c);
    const sink = new Uint8Array(1 << 20);
    for (;;) {
      const r = a.recvfrom(sink);
      if (r === WOULD_BLOCK || isError(r) || r.n === 0) break;
      sleep(1);
    }
    WAIT();
    const n = c.sendto(chunk, MsgFlag.MSG_NOSIGNAL);
    p(`Z send after drain ${typeof n === 'number' && n > 0 ? 'accepted' : res(n)}`);
    c.close();
    a.close();
    l.close();
  }
  return out.join('\n') + '\n';
}

it('gives FIN-then-RST, /proc/net/tcp and closed-window sends exactly as the host kernel does', () => {
  const host = hostRun();
  expect(host).toContain('F2 recv 4'); // the data came before the FIN and RST on the host
  expect(host).toContain('P listener proc 1 0A'); // the listing found the listener
  const ours = netstackRun();
  if (process.env.NETSTACK_DIFF_DUMP) writeFileSync(process.env.NETSTACK_DIFF_DUMP, ours);
  expect(ours).toBe(host);
});

it('never trickles single bytes into a full send buffer while the peer window is zero', () => {
  // Linux probes a zero window with a segment below SND.UNA, which carries no new data: a full
  // send buffer stays full until the peer opens its window. A probe carrying a new byte, taken
  // by the peer, would free one byte at a time, and a writer would see one-byte sends.
  const { sleep, tcp: mk } = loopbackBed(9);
  const at = sockaddr4(7401);
  const l = mk();
  l.bind(at);
  l.listen(8);
  const c = mk();
  c.connect(at);
  sleep(20);
  const a = l.accept(SockType.SOCK_NONBLOCK);
  if (!(a instanceof InetSocket)) throw new Error('accept');
  const chunk = new Uint8Array(65536);
  const fill = () => {
    let total = 0;
    for (;;) {
      const n = c.sendto(chunk, MsgFlag.MSG_NOSIGNAL);
      if (typeof n !== 'number') return { total, last: n };
      total += n;
      sleep(20);
    }
  };
  expect(fill().last).toBe(WOULD_BLOCK);
  const accepted: number[] = [];
  for (const size of [16, 1000, 10000, 30000, 60000]) {
    const r = a.recvfrom(new Uint8Array(size));
    expect(r !== WOULD_BLOCK && !isError(r) && r.n === size).toBe(true);
    sleep(50);
    const n = c.sendto(chunk, MsgFlag.MSG_NOSIGNAL);
    if (n === WOULD_BLOCK) expect(c.readiness() & PollEvent.POLLOUT).toBe(0);
    else if (typeof n === 'number') accepted.push(n);
    else throw new Error(String(n));
  }
  expect(accepted.filter((n) => n < 1000)).toEqual([]);
  // Draining the reader opens the window: the writer gets room again.
  const sink = new Uint8Array(1 << 20);
  for (let r = a.recvfrom(sink); r !== WOULD_BLOCK && !isError(r) && r.n > 0; r = a.recvfrom(sink)) sleep(1);
  sleep(20);
  expect(c.sendto(chunk, MsgFlag.MSG_NOSIGNAL)).toBe(65536);
});
