// Data sent to a TCP end that can no longer read it: the call sequence of
// data-after-close-diff.test-util.c on InetSocket (on a virtual clock) and on the host kernel (a
// fresh network namespace) must print the same lines. Linux resets the connection when new data
// reaches an end that has sent its FIN and shut down reading (closed, or shutdown(SHUT_RDWR)),
// so the sender's next send fails instead of filling a window nobody will ever drain.
import { isError, MsgFlag, PollEvent, Shut, SocketLevel, SocketOption } from '@tsvisor/abi';
import { expect, it } from 'vitest';
import type { InetSocket } from './inet-socket.js';
import { WOULD_BLOCK } from './would-block.js';
import { hostProgram, loopbackBed, mustSocket, sockaddr4, twinShows, res } from './host-diff.test-util.js';

const hostRun = hostProgram('data-after-close-diff');

function netstackRun(): string {
  const out: string[] = [];
  const p = (s: string) => out.push(s);
  const { stack, WAIT, tcp: socket } = loopbackBed(11);
  const { poll: pollmask, soerror, recv: rcv } = twinShows(p);
  const data = new TextEncoder().encode('data');
  const snd = (what: string, s: InetSocket) => p(`${what} send ${res(s.sendto(data, MsgFlag.MSG_NOSIGNAL))}`);
  const pair = (port: number) => {
    const l = socket();
    l.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_REUSEADDR, 1);
    l.bind(sockaddr4(port));
    l.listen(8);
    const c = socket();
    c.connect(sockaddr4(port));
    WAIT();
    const a = mustSocket(l.accept(0));
    return { c, a, l };
  };
  /** The entries /proc/net/tcp would show for local port `port`: how many, and their states. */
  const proc = (what: string, port: number) => {
    const states = stack
      .sockets()
      .filter((e) => e.protocol === 'tcp' && e.local?.port === port)
      .map((e) => ` ${e.state.toString(16).toUpperCase().padStart(2, '0')}`);
    p(`${what} proc ${states.length}${states.join('')}`);
  };

  {
    const { c, a, l } = pair(7501);
    a.close();
    WAIT();
    pollmask('C', c);
    proc('C closed', 7501);
    snd('C', c);
    WAIT();
    pollmask('C', c);
    proc('C data', 7501);
    soerror('C', c);
    snd('C', c);
    rcv('C', c);
    pollmask('C', c);
    c.close();
    l.close();
  }
  {
    const { c, a, l } = pair(7502);
    a.shutdown(Shut.SHUT_RDWR);
    WAIT();
    snd('S', c);
    WAIT();
    pollmask('S', c);
    soerror('S', c);
    snd('S', c);
    pollmask('S a', a);
    soerror('S a', a);
    rcv('S a', a);
    a.close();
    c.close();
    l.close();
  }
  {
    const { c, a, l } = pair(7503);
    a.shutdown(Shut.SHUT_WR);
    WAIT();
    snd('W', c);
    WAIT();
    pollmask('W', c);
    soerror('W', c);
    pollmask('W a', a);
    rcv('W a', a);
    a.close();
    c.close();
    l.close();
  }
  {
    const { c, a, l } = pair(7504);
    a.close();
    WAIT();
    const foo = new TextEncoder().encode('foo\n');
    let sent = 0;
    let r = c.sendto(foo, MsgFlag.MSG_NOSIGNAL);
    while (typeof r === 'number' && r > 0 && sent < 1000) {
      sent++;
      WAIT();
      r = c.sendto(foo, MsgFlag.MSG_NOSIGNAL);
    }
    p(`D sends before the error ${sent}, then ${res(r)}`);
    c.close();
    l.close();
  }
  return out.join('\n') + '\n';
}

it('resets a connection whose receiving end is closed or shut down for reading, as the host kernel does', () => {
  const host = hostRun();
  expect(host).toContain('D sends before the error 1, then EPIPE'); // the host did reset
  expect(netstackRun()).toBe(host);
});

it('never lets a writer fill the window of a peer that closed', () => {
  // The shape of test_drain_raises: the writer's sends must fail soon, not block on a full
  // window (WOULD_BLOCK), which in an event loop waits for a POLLOUT that never comes.
  const { WAIT, tcp } = loopbackBed(12);
  const l = tcp();
  l.bind(sockaddr4(7601));
  l.listen(8);
  const c = tcp();
  c.connect(sockaddr4(7601));
  WAIT();
  mustSocket(l.accept(0)).close();
  WAIT();
  const chunk = new Uint8Array(4096);
  let last: ReturnType<InetSocket['sendto']> = 0;
  for (let i = 0; i < 1000; i++) {
    last = c.sendto(chunk, MsgFlag.MSG_NOSIGNAL);
    if (typeof last !== 'number') break;
    WAIT();
  }
  expect(last).not.toBe(WOULD_BLOCK);
  expect(isError(last) ? last.name : last).toBe('EPIPE');
  expect(c.readiness() & PollEvent.POLLHUP).toBe(PollEvent.POLLHUP);
});
