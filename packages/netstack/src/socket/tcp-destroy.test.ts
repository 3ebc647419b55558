// TcpSocket.destroy (Linux tcp_abort, behind sock_diag's SOCK_DESTROY) on a loopback stack with a
// virtual clock: the application's error, the peer's RST, and the connections left alone. The
// comparison with Linux is runtime's sock-destroy.c; this checks the stack's side alone.
import { E, isError, MsgFlag, SockType, SocketLevel, SocketOption } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import type { InetSocket } from './inet-socket.js';
import type { TcpSocket } from './tcp.js';
import type { TcpTimeWait } from './tcp-time-wait.js';
import { loopbackBed, mustSocket, sockaddr4 } from './host-diff.test-util.js';

function bed(port: number) {
  const { stack, WAIT, tcp } = loopbackBed(7);
  const l = tcp();
  l.bind(sockaddr4(port));
  l.listen(8);
  const c = tcp();
  c.connect(sockaddr4(port));
  WAIT();
  const a = mustSocket(l.accept(SockType.SOCK_NONBLOCK));
  /** The connection of `s` in the stack's listing (as sock_diag finds it). */
  const conn = (s: InetSocket): TcpSocket | TcpTimeWait => {
    const e = stack.sockets().find((x) => x.owner === s);
    if (!e?.tcp) throw new Error('no connection');
    return e.tcp;
  };
  return { stack, WAIT, c, a, conn };
}

const recv = (s: InetSocket): string => {
  const r = s.recvfrom(new Uint8Array(8), MsgFlag.MSG_DONTWAIT);
  return isError(r) ? r.name : typeof r === 'symbol' ? 'would block' : String(r.n);
};

describe('TcpSocket.destroy', () => {
  it('fails the application with the error once, and resets the peer', () => {
    const { WAIT, c, a, conn } = bed(7301);
    const t = conn(c);
    const peer = conn(a);
    t.destroy(E.ECONNABORTED);
    expect(t.state).toBe('CLOSED');
    expect(c.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(E.ECONNABORTED.errno);
    expect(c.getsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_ERROR)).toBe(0);
    WAIT();
    expect(recv(a)).toBe('ECONNRESET');
    expect(peer.state).toBe('CLOSED');
  });

  it('leaves a connection the application closed alone, and ends TIME_WAIT', () => {
    const { WAIT, c, a, conn } = bed(7302);
    const t = conn(c);
    c.close(); // FIN_WAIT: an orphan, which tcp_abort leaves to finish
    WAIT();
    const before = t.state;
    t.destroy(E.ECONNABORTED);
    expect(t.state).toBe(before);
    a.close();
    WAIT();
    expect(t.state).toBe('TIME_WAIT');
    t.destroy(E.ECONNABORTED);
    expect(t.state).toBe('CLOSED');
  });
});
