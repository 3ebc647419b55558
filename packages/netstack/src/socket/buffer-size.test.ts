// SO_SNDBUF/SO_RCVBUF on inet sockets: the values Linux reports (doubling, the rmem_max/wmem_max
// cap, SOCK_MIN_*, the FORCE variants) compared with the host kernel, and the receive queue
// limit they set on a UDP socket.
import { AddressFamily, SockType, SocketLevel, SocketOption, isError } from '@tsvisor/abi';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cidr } from '../iface/interface.js';
import { LoopbackDevice } from '../phy/loopback.js';
import { settle } from '../stack.test-util.js';
import { Stack } from '../stack.js';
import { InetSocket } from './inet-socket.js';
import { WOULD_BLOCK } from './would-block.js';

const sysctl = (name: string): number => Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8').trim());

function netstackRun(rmemMax: number, wmemMax: number): string {
  const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 1 });
  const out: string[] = [];
  const vals = [0, 1, 1000, 5000, 100000, 1 << 30, -1, -5000];
  const names = [
    SocketOption.SO_SNDBUF,
    SocketOption.SO_RCVBUF,
    SocketOption.SO_SNDBUFFORCE,
    SocketOption.SO_RCVBUFFORCE,
  ];
  for (const fam of [AddressFamily.AF_INET, AddressFamily.AF_INET6]) {
    const s = InetSocket.create(stack, fam, SockType.SOCK_DGRAM, 0, { rmemMax, wmemMax });
    if (isError(s)) throw new Error(s.name);
    const get = (name: number): string => String(s.getsockopt(SocketLevel.SOL_SOCKET, name));
    out.push(
      `family ${String(fam)} default snd ${get(SocketOption.SO_SNDBUF)} rcv ${get(SocketOption.SO_RCVBUF)}`,
    );
    for (const n of names)
      for (const v of vals) {
        const r = s.setsockopt(SocketLevel.SOL_SOCKET, n, v);
        const snd = n === SocketOption.SO_SNDBUF || n === SocketOption.SO_SNDBUFFORCE;
        const got = get(snd ? SocketOption.SO_SNDBUF : SocketOption.SO_RCVBUF);
        out.push(`opt ${String(n)} set ${String(v)} -> ${isError(r) ? '-1' : String(r)} ${got}`);
      }
    s.close();
  }
  return out.join('\n') + '\n';
}

describe('SO_SNDBUF / SO_RCVBUF on inet sockets', () => {
  it('report what Linux reports', () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'tsvisor-bufsize-'));
    try {
      const exe = join(dir, 'bufsize');
      execFileSync('gcc', ['-O1', '-Wall', '-Werror', '-o', exe, join(here, 'buffer-size.test-util.c')]);
      const native = execFileSync(exe, { encoding: 'utf8', timeout: 10_000 });
      // The sandbox reports Linux's default maxima; the host may have raised its own.
      const rmem = sysctl('rmem_max');
      const wmem = sysctl('wmem_max');
      const expected = native
        .replaceAll(`snd ${String(sysctl('wmem_default'))}`, 'snd 212992')
        .replaceAll(`rcv ${String(sysctl('rmem_default'))}`, 'rcv 212992');
      expect(netstackRun(rmem, wmem)).toBe(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bound the UDP receive queue: a datagram that would take its truesize past SO_RCVBUF is dropped', () => {
    const stack = new Stack({ device: new LoopbackDevice(), addresses: [cidr('127.0.0.1/8')], seed: 1 });
    const r = InetSocket.create(
      stack,
      AddressFamily.AF_INET,
      SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK,
      0,
    );
    const s = InetSocket.create(
      stack,
      AddressFamily.AF_INET,
      SockType.SOCK_DGRAM | SockType.SOCK_NONBLOCK,
      0,
    );
    if (isError(r) || isError(s)) throw new Error('socket');
    const sa = new Uint8Array(16);
    sa[0] = AddressFamily.AF_INET;
    sa.set([127, 0, 0, 1], 4);
    expect(r.bind(sa)).toBe(0);
    expect(r.setsockopt(SocketLevel.SOL_SOCKET, SocketOption.SO_RCVBUF, 2500)).toBe(0); // 5000
    for (let i = 0; i < 10; i++) {
      s.sendto(new Uint8Array(1000), 0, r.getsockname());
      settle([stack], 0);
    }
    let n = 0;
    for (let got = r.recvfrom(new Uint8Array(2000)); got !== WOULD_BLOCK && !isError(got) && n < 20; n++)
      got = r.recvfrom(new Uint8Array(2000));
    // Each is charged 2304 bytes (Linux's truesize): two fit in 5000, a third would not.
    expect(n).toBe(2);
  });
});
