// What the tests of the TTL and TOS of TCP's replies (tcp-reply-hops.test.ts,
// tcp-reply-tos.test.ts) share: two stacks on one IP link, and readers of a datagram's fields.
import { isError } from '@tsvisor/abi';
import { cidr } from '../iface/interface.js';
import type { Device } from '../phy/device.js';
import { linkPair } from '../phy/loopback.js';
import { Stack } from '../stack.js';
import { InetSocket } from './inet-socket.js';

/** Whether IP datagram `p` is IPv4. */
export const v4 = (p: Uint8Array): boolean => p[0]! >> 4 === 4;
/** The TCP flags of the segment in IP datagram `p` (an IPv6 one without extension headers). */
export const flagsOf = (p: Uint8Array): number => p[(v4(p) ? (p[0]! & 15) * 4 : 40) + 13]!;
/** The TOS byte or traffic class of IP datagram `p`. */
export const tosOf = (p: Uint8Array): number => (v4(p) ? p[1]! : ((p[0]! & 15) << 4) | (p[1]! >> 4));
/** The TTL or hop limit of IP datagram `p`. */
export const hopLimitOf = (p: Uint8Array): number => (v4(p) ? p[8]! : p[7]!);

/**
 * A client stack at 10.0.0.1 / fd00::1 and a server stack at 10.0.0.9 / fd00::9 on one IP link
 * of MTU 1500: what the client sends comes out of `fromClient`, what goes into `toServer` reaches
 * the server, and likewise the other way. `verifyChecksums: false` lets a test rewrite headers.
 */
export function tcpHosts(server: { readonly verifyChecksums?: boolean } = {}): {
  client: Stack;
  server: Stack;
  fromClient: Device;
  toServer: Device;
} {
  const [dev1, fromClient] = linkPair({ medium: 'ip', mtu: 1500 });
  const [dev2, toServer] = linkPair({ medium: 'ip', mtu: 1500 });
  return {
    client: new Stack({ device: dev1, addresses: [cidr('10.0.0.1/24'), cidr('fd00::1/64')], seed: 1 }),
    server: new Stack({
      device: dev2,
      addresses: [cidr('10.0.0.9/24'), cidr('fd00::9/64')],
      seed: 2,
      ...server,
    }),
    fromClient,
    toServer,
  };
}

/** The connection `listener` has ready (a test error if none). */
export function accepted(listener: InetSocket): InetSocket {
  const s = listener.accept();
  if (isError(s) || !(s instanceof InetSocket)) throw new Error('no connection');
  return s;
}
