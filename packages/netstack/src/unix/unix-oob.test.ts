// Out-of-band data on AF_UNIX streams and SIOCINQ/SIOCOUTQ, as Linux 6.18 answers them (the
// expected values were read off the host kernel; runtime/src/testdata/unix-oob.c checks the
// whole sandbox against it).
import { E, MsgFlag, PollEvent, SockType, isError } from '@tsvisor/abi';
import { describe, expect, it } from 'vitest';
import { WOULD_BLOCK } from '../socket/would-block.js';
import { UnixDomain, UnixSocket, type UnixRecvResult } from './unix-socket.js';

const CREDS = { pid: 7, uid: 1000, gid: 100 };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const { MSG_OOB, MSG_PEEK } = MsgFlag;

function pair(type: number = SockType.SOCK_STREAM, dropped: unknown[] = []): [UnixSocket, UnixSocket] {
  const domain = new UnixDomain({ dropRights: (r) => dropped.push(...r) });
  const p = UnixSocket.pair(domain, type, CREDS);
  if (isError(p)) throw new Error(String(p));
  return p;
}

/** The text read (with `.oob`/`.atMark` flags appended), or the errno / WOULD_BLOCK. */
function rd(s: UnixSocket, flags = 0, len = 64): string | unknown {
  const buf = new Uint8Array(len);
  const r = s.recv(buf, flags);
  if (r === WOULD_BLOCK || isError(r)) return r;
  const res = r as UnixRecvResult;
  return (
    new TextDecoder().decode(buf.subarray(0, Math.min(res.n, len))) +
    (res.oob ? ' oob' : '') +
    (res.atMark ? ' mark' : '')
  );
}

function pri(s: UnixSocket): boolean {
  return (s.readiness() & PollEvent.POLLPRI) !== 0;
}

describe('AF_UNIX out-of-band data', () => {
  it('reads up to the mark, takes the byte with MSG_OOB once, then goes on', () => {
    const [c, s] = pair();
    expect(rd(s, MSG_OOB)).toBe(E.EINVAL);
    expect(c.send(enc('abc'))).toBe(3);
    expect(c.send(enc('d'), MSG_OOB)).toBe(1);
    expect(c.send(enc('ef'))).toBe(2);
    expect(pri(s)).toBe(true);
    expect([s.atMark(), s.inq(), c.outq()]).toEqual([0, 6, 2304]);
    expect(rd(s, 0, 2)).toBe('ab');
    expect([s.atMark(), s.inq()]).toEqual([0, 4]);
    expect(rd(s)).toBe('c mark');
    expect([s.atMark(), s.inq(), c.outq()]).toEqual([1, 3, 1536]);
    expect(rd(s, MSG_OOB | MSG_PEEK)).toBe('d oob');
    expect(pri(s)).toBe(true);
    expect(rd(s, MSG_OOB)).toBe('d oob');
    expect(rd(s, MSG_OOB)).toBe(E.EINVAL);
    // The byte taken leaves an empty buffer: still the mark, still charged to the sender.
    expect(pri(s)).toBe(false);
    expect([s.atMark(), s.inq(), c.outq()]).toEqual([1, 2, 1536]);
    expect(rd(s)).toBe('ef');
    expect([s.atMark(), s.inq(), c.outq()]).toEqual([0, 0, 0]);
    expect(s.readiness() & PollEvent.POLLIN).toBe(0);
  });

  it('makes only the last byte of a longer send out-of-band; a read over the mark drops it', () => {
    const [c, s] = pair();
    expect(c.send(enc('hello!'), MSG_OOB)).toBe(6);
    c.send(enc('world'));
    expect(s.inq()).toBe(11);
    expect(rd(s)).toBe('hello mark');
    expect(s.atMark()).toBe(1);
    expect(rd(s)).toBe('world');
    expect(rd(s, MSG_OOB)).toBe(E.EINVAL);
    // Linux's inq_len keeps the dropped byte.
    expect([s.inq(), c.outq(), pri(s)]).toEqual([1, 0, false]);
  });

  it('a lone out-of-band byte is readable but reads give nothing (and drop it)', () => {
    const [c, s] = pair();
    c.send(enc('u'), MSG_OOB);
    expect(s.readiness() & (PollEvent.POLLIN | PollEvent.POLLPRI)).toBe(PollEvent.POLLIN | PollEvent.POLLPRI);
    expect(s.atMark()).toBe(1);
    expect(rd(s, MSG_PEEK)).toBe(WOULD_BLOCK);
    expect(pri(s)).toBe(true);
    expect(rd(s)).toBe(WOULD_BLOCK);
    expect(rd(s, MSG_OOB)).toBe(E.EINVAL);
    expect([s.readiness() & PollEvent.POLLIN, s.inq(), c.outq()]).toEqual([0, 1, 0]);
    c.send(enc('v'), MSG_OOB);
    expect(rd(s, MSG_OOB)).toBe('v oob');
    expect([s.atMark(), s.inq(), c.outq()]).toEqual([1, 1, 768]);
    expect(rd(s)).toBe(WOULD_BLOCK);
    expect(c.outq()).toBe(0);
  });

  it('a newer out-of-band byte replaces the mark, the older one staying in the stream', () => {
    const [c, s] = pair();
    for (const [t, f] of [
      ['1', 0],
      ['A', MSG_OOB],
      ['2', 0],
      ['B', MSG_OOB],
      ['3', 0],
    ] as const)
      c.send(enc(t), f);
    expect(c.outq()).toBe(5 * 768);
    expect(rd(s)).toBe('1A2 mark');
    expect(rd(s, MSG_OOB)).toBe('B oob');
    expect(rd(s)).toBe('3');
    const [c2, s2] = pair();
    c2.send(enc('P'), MSG_OOB);
    c2.send(enc('Q'), MSG_OOB);
    expect(rd(s2, MSG_OOB)).toBe('Q oob');
    // The empty buffer Q left still ends the read.
    expect(rd(s2)).toBe('P mark');
    expect(rd(s2)).toBe(WOULD_BLOCK);
  });

  it('SO_OOBINLINE leaves the byte in the stream and refuses MSG_OOB', () => {
    const [c, s] = pair();
    s.oobInline = true;
    c.send(enc('ab'));
    c.send(enc('c'), MSG_OOB);
    c.send(enc('de'));
    expect(rd(s, MSG_OOB)).toBe(E.EINVAL);
    expect(rd(s, MSG_PEEK)).toBe('ab mark');
    expect(rd(s)).toBe('ab mark');
    expect([s.atMark(), pri(s)]).toEqual([1, true]);
    expect(rd(s, MSG_PEEK)).toBe('cde');
    expect(rd(s)).toBe('cde');
    expect([s.atMark(), pri(s), s.inq(), c.outq()]).toEqual([0, false, 0, 0]);
    // Turned off again while a byte is pending: MSG_OOB takes it.
    c.send(enc('x'), MSG_OOB);
    c.send(enc('y'));
    s.oobInline = false;
    expect(rd(s, MSG_OOB)).toBe('x oob');
    expect(rd(s)).toBe('y');
  });

  it('peeks with SO_PEEK_OFF as Linux does around the mark', () => {
    const [c, s] = pair();
    c.send(enc('ab'));
    c.send(enc('c'), MSG_OOB);
    c.send(enc('de'));
    expect(rd(s, MSG_PEEK)).toBe('ab mark');
    expect(rd(s, 0, 1)).toBe('a');
    expect(rd(s, MSG_PEEK)).toBe('b mark');
    s.peekOff = 0;
    expect(rd(s, MSG_PEEK)).toBe('b mark');
    // The offset steps over buffers without looking for the mark.
    expect(rd(s, MSG_PEEK)).toBe('cde');
    expect(rd(s, MSG_PEEK)).toBe(WOULD_BLOCK);
    expect(s.peekOff).toBe(4);
    expect(rd(s)).toBe('b mark');
    expect(s.peekOff).toBe(3);
    expect(rd(s, MSG_OOB)).toBe('c oob');
    expect(rd(s, MSG_PEEK)).toBe(WOULD_BLOCK);
    expect(rd(s)).toBe('de');
  });

  it('takes the byte into a buffer of no room, and a read of no room drops it', () => {
    const [c, s] = pair();
    c.send(enc('a'), MSG_OOB);
    const r = s.recv(new Uint8Array(0), MSG_OOB);
    expect(r).toMatchObject({ n: 1, oob: true });
    expect(rd(s, MSG_OOB)).toBe(E.EINVAL);
    c.send(enc('b'), MSG_OOB);
    expect(s.recv(new Uint8Array(0), MSG_OOB | MSG_PEEK)).toMatchObject({ n: 1 });
    expect(s.recv(new Uint8Array(0))).toBe(WOULD_BLOCK);
    expect(rd(s, MSG_OOB)).toBe(E.EINVAL);
  });

  it('signals the receiver only, and answers the errnos Linux gives', () => {
    const [c, s] = pair();
    const urgent: string[] = [];
    c.onUrgent = () => urgent.push('c');
    s.onUrgent = () => urgent.push('s');
    const seen: number[] = [];
    s.setReadinessListener((ev) => seen.push(ev & PollEvent.POLLPRI));
    c.send(enc('plain'));
    c.send(enc('x'), MSG_OOB);
    expect(urgent).toEqual(['s']);
    // A waiter on POLLPRI alone is woken.
    expect(seen).toEqual([0, PollEvent.POLLPRI]);
    expect(c.send(new Uint8Array(0), MSG_OOB)).toBe(E.EOPNOTSUPP);
    s.close();
    expect(c.send(enc('x'), MSG_OOB)).toBe(E.EPIPE);
    expect(rd(c, MSG_OOB)).toBe(E.EINVAL);
    const domain = new UnixDomain({ dropRights: () => undefined });
    const fresh = UnixSocket.create(domain, SockType.SOCK_STREAM, CREDS) as UnixSocket;
    expect(rd(fresh, MSG_OOB)).toBe(E.EINVAL);
    expect(fresh.send(enc('x'), MSG_OOB)).toBe(E.ENOTCONN);
    expect(fresh.atMark()).toBe(0);
    for (const type of [SockType.SOCK_DGRAM, SockType.SOCK_SEQPACKET]) {
      const [a, b] = pair(type);
      expect(a.send(enc('x'), MSG_OOB)).toBe(E.EOPNOTSUPP);
      expect(rd(b, MSG_OOB)).toBe(E.EOPNOTSUPP);
      expect(b.atMark()).toBe(E.EOPNOTSUPP);
    }
  });

  it('gives descriptors sent with a lone out-of-band byte back when its buffer goes', () => {
    const dropped: unknown[] = [];
    const [c, s] = pair(SockType.SOCK_STREAM, dropped);
    c.send(enc('!'), MSG_OOB, undefined, undefined, { rights: ['fd'] });
    expect(s.recv(new Uint8Array(4), MSG_OOB)).toMatchObject({ n: 1, oob: true, rights: undefined });
    expect(dropped).toEqual([]);
    c.send(enc('next'));
    expect(rd(s)).toBe('next');
    expect(dropped).toEqual(['fd']);
  });
});

describe('AF_UNIX SIOCINQ and SIOCOUTQ', () => {
  it('counts what the peer has not read: bytes in, buffer memory out', () => {
    const [c, s] = pair();
    c.send(enc('abc'));
    c.send(enc('defgh'));
    expect([s.inq(), c.outq(), s.outq(), c.inq()]).toEqual([8, 1536, 0, 0]);
    expect(rd(s, 0, 2)).toBe('ab');
    // A buffer partly read still holds its memory.
    expect([s.inq(), c.outq()]).toEqual([6, 1536]);
    expect(rd(s)).toBe('cdefgh');
    expect([s.inq(), c.outq()]).toEqual([0, 0]);
  });

  it('charges each buffer its truesize, splitting long stream sends as Linux does', () => {
    // size: [stream SIOCOUTQ, datagram SIOCOUTQ] on the host.
    const host: Record<number, [number, number]> = {
      1: [768, 768],
      129: [768, 768],
      500: [1280, 1280],
      1000: [2304, 2304],
      2000: [4352, 4352],
      3776: [4352, 4352],
      3777: [4864, 8448],
      4000: [4864, 8448],
      5000: [6400, 8448],
      8000: [8960, 16640],
      16000: [16640, 16640],
      32000: [33024, 33024],
      40000: [41472, 41216],
      65536: [67072, 69888],
    };
    for (const [size, [stream, dgram]] of Object.entries(host)) {
      const data = new Uint8Array(Number(size));
      const [a, b] = pair(SockType.SOCK_STREAM);
      expect(a.send(data)).toBe(data.length);
      expect([Number(size), a.outq(), b.inq()]).toEqual([Number(size), stream, data.length]);
      const [x, y] = pair(SockType.SOCK_DGRAM);
      expect(x.send(data)).toBe(data.length);
      expect([Number(size), x.outq(), y.inq()]).toEqual([Number(size), dgram, data.length]);
    }
    // 100000 bytes go as 36544 + 36544 + 26912: reading the first buffer frees its memory.
    const [a, b] = pair();
    a.send(new Uint8Array(100000));
    expect(a.outq()).toBe(103168);
    b.recv(new Uint8Array(36544));
    expect(a.outq()).toBe(103168 - 37120);
  });

  it('lets buffer memory, not bytes, fill the send buffer, and gives POLLOUT back at a quarter', () => {
    // Sends until WOULD_BLOCK: [bytes sent, sends made].
    const fill = (s: UnixSocket, chunk: number): [number, number] => {
      let total = 0;
      let calls = 0;
      for (let r = s.send(new Uint8Array(chunk)); typeof r === 'number'; r = s.send(new Uint8Array(chunk))) {
        total += r;
        calls++;
      }
      return [total, calls];
    };
    const writable = (s: UnixSocket): boolean => (s.readiness() & PollEvent.POLLOUT) !== 0;
    let [c, s] = pair();
    expect(fill(c, 1 << 20)).toEqual([219264, 1]);
    expect([c.outq(), writable(c)]).toEqual([222720, false]);
    let got = 0;
    while (!writable(c)) got += (s.recv(new Uint8Array(4096)) as UnixRecvResult).n;
    expect([got, c.outq()]).toEqual([184320, 37120]);
    [c, s] = pair();
    expect(fill(c, 1)).toEqual([278, 278]);
    [c, s] = pair();
    expect(fill(c, 100000)).toEqual([236544, 3]);
    expect(c.outq()).toBe(243456);
    [c, s] = pair();
    c.sndbuf = 8192; // SO_SNDBUF 4096, doubled
    expect(fill(c, 1 << 20)).toEqual([8064, 1]);
    expect(c.outq()).toBe(9728);
    for (const type of [SockType.SOCK_DGRAM, SockType.SOCK_SEQPACKET]) {
      [c, s] = pair(type);
      expect(fill(c, 100000)).toEqual([300000, 3]);
      expect(c.outq()).toBe(307968);
    }
    [c, s] = pair(SockType.SOCK_DGRAM);
    expect(fill(c, 10)).toEqual([2780, 278]);
    got = 0;
    while (!writable(c)) got += (s.recv(new Uint8Array(64)) as UnixRecvResult).n;
    expect([got, c.outq()]).toEqual([2090, 52992]);
  });

  it('datagram SIOCINQ is the next datagram, seqpacket the whole queue; a listener EINVAL', () => {
    const [a, b] = pair(SockType.SOCK_DGRAM);
    a.send(enc('abc'));
    a.send(enc('defgh'));
    expect([b.inq(), a.outq()]).toEqual([3, 1536]);
    rd(b, 0, 2);
    expect([b.inq(), a.outq()]).toEqual([5, 768]);
    const [p, q] = pair(SockType.SOCK_SEQPACKET);
    p.send(enc('abc'));
    p.send(enc('defgh'));
    expect([q.inq(), p.outq()]).toEqual([8, 1536]);
    rd(q, 0, 2);
    expect([q.inq(), p.outq()]).toEqual([5, 768]);
    const domain = new UnixDomain({ dropRights: () => undefined });
    const l = UnixSocket.create(domain, SockType.SOCK_STREAM, CREDS) as UnixSocket;
    l.bind({ kind: 'unix-abstract', name: enc('l') });
    l.listen(1);
    expect([l.inq(), l.outq()]).toEqual([E.EINVAL, 0]);
  });
});
