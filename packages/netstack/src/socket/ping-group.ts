/**
 * net.ipv4.ping_group_range: who may open ping sockets (SOCK_DGRAM with IPPROTO_ICMP or
 * IPPROTO_ICMPV6). The range lives in {@link StackSysctl.pingGroupRange}; the stack knows no
 * credentials, so the socket layer above it asks this when it creates a ping socket.
 *
 * @module
 */
import type { StackSysctl } from '../stack.js';

/**
 * Whether a task of effective gid `egid` and supplementary `groups` may open a ping socket
 * under the namespace's `range` (ping_init_sock): its effective gid or one of its supplementary
 * groups lies in [low, high]. No capability overrides it, root's included; a refused socket()
 * fails with EACCES. IPv6 ping sockets use the same range.
 *
 * @example
 * pingGroupAllowed([100, 200], 0, [150]); // true: a supplementary group is in the range
 * pingGroupAllowed([1, 0], 0, [0]); // false: Linux's default lets nobody in
 */
export function pingGroupAllowed(
  range: StackSysctl['pingGroupRange'],
  egid: number,
  groups: readonly number[],
): boolean {
  const [low, high] = range;
  if (egid >= low && egid <= high) return true;
  return groups.some((g) => g >= low && g <= high);
}
