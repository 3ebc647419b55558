// Regression (CPython's test_asynchat test_close_when_done, test_asyncore
// test_handle_close_after_conn_broken): data reaching a TCP end whose application closed it is
// answered with a RST (Linux tcp_rcv_state_process in FIN_WAIT_1/2), so the sender's next send
// fails. Before, netstack queued the data for nobody: the echo server's every send succeeded and
// the client's sends never saw the broken connection.
import { isError, MsgFlag, PollEvent } from '@tsvisor/abi';
import { expect, it } from 'vitest';
import { loopbackBed, mustSocket, res, sockaddr4 } from './host-diff.test-util.js';

it('an echo to a client that sent and closed fails from its second send on', () => {
  const { stack, WAIT, tcp } = loopbackBed(44);
  const l = tcp();
  l.bind(sockaddr4(7701));
  l.listen(4);
  const c = tcp();
  c.connect(sockaddr4(7701));
  WAIT();
  const s = mustSocket(l.accept(0));
  const hello = new TextEncoder().encode('hello\n');
  expect(c.sendto(hello)).toBe(hello.length);
  c.close();
  WAIT();
  const buf = new Uint8Array(64);
  expect(res(s.recvfrom(buf))).toBe('6');
  expect(res(s.recvfrom(buf))).toBe('0');
  const resetsBefore = stack.mib.tcpExt.TCPAbortOnData;
  const h = new TextEncoder().encode('h');
  expect(s.sendto(h, MsgFlag.MSG_NOSIGNAL)).toBe(1);
  WAIT();
  // The closed client answered with a RST: the reset is seen at once.
  expect(s.readiness() & PollEvent.POLLERR).toBe(PollEvent.POLLERR);
  const second = s.sendto(h, MsgFlag.MSG_NOSIGNAL);
  expect(isError(second) ? second.name : second).toBe('EPIPE');
  // The echo carried the ACK of the client's FIN, so it found the client in FIN_WAIT_1: counted,
  // as Linux counts it (1 in a fresh network namespace running the same calls).
  expect(stack.mib.tcpExt.TCPAbortOnData).toBe(resetsBefore + 1);
  l.close();
  s.close();
});

it('a peer that closed with our data unacknowledged (FIN_WAIT_1) counts TCPAbortOnData', () => {
  const { stack, WAIT, tcp } = loopbackBed(45);
  const l = tcp();
  l.bind(sockaddr4(7702));
  l.listen(4);
  const c = tcp();
  c.connect(sockaddr4(7702));
  WAIT();
  const s = mustSocket(l.accept(0));
  // The client closes and, before its FIN is even sent out (no stack poll in between), the
  // server's data is on its way: the client meets it in FIN_WAIT_1.
  c.close();
  expect(s.sendto(new Uint8Array([1]), MsgFlag.MSG_NOSIGNAL)).toBe(1);
  WAIT();
  expect(stack.mib.tcpExt.TCPAbortOnData).toBe(1);
  const again = s.sendto(new Uint8Array([2]), MsgFlag.MSG_NOSIGNAL);
  expect(isError(again) ? again.name : again).toMatch(/^(EPIPE|ECONNRESET)$/);
  l.close();
  s.close();
});
