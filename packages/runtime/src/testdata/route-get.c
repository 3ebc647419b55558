/* `ip route get` (RTM_GETROUTE without NLM_F_DUMP) on lo, natively in a fresh network namespace
 * and under tsvisor (route-get.test.ts): the route of this host's addresses (from a source, out of
 * a link, with a mark and a uid, `fibmatch`), the errors of unreachable destinations and foreign
 * sources, routes added with an MTU and with a locked MTU (IPv6's sent from ::1), and destinations
 * whose path MTU a fragmentation-needed or packet-too-big message taught (pmtu.c sends them the
 * same way), which `ip` shows as a cached route that expires. A report for a destination behind
 * the locked route is ignored, and one below net.ipv4.route.min_pmtu locks the MTU it learns. The
 * seconds left before a learnt MTU expires are printed as "59Xsec" when they are 590 to 600, so
 * that a slow run still compares. */
#define _GNU_SOURCE
#include "recv-err-util.h"

static void sh(const char *cmd) {
  char line[512];
  snprintf(line, sizeof line,
           "{ %s; } 2>&1 | sed -E 's/expires (59[0-9]|600)sec/expires 59Xsec/; s/\"expires\":(59[0-9]|600)/\"expires\":59X/'",
           cmd);
  printf("$ %s\n", cmd);
  if (system(line) != 0) printf("(failed)\n");
}

static int ip_mtu(int fd) {
  int v = -1;
  socklen_t l = sizeof v;
  return getsockopt(fd, SOL_IP, IP_MTU, &v, &l) < 0 ? -errno : v;
}

/* A UDP socket connected to `dst` port 9 and a fragmentation-needed message with next-hop MTU
 * `mtu` quoting a datagram it sent; prints the socket's IP_MTU after it. */
static void learn4(int raw, const char *dst, int mtu) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = inet_addr(dst)};
  connect(s, (struct sockaddr *)&a, sizeof a);
  unsigned char l4[8];
  udp_quote(l4, htons(port_of(s)), a.sin_port, 8 + 1472);
  icmp4_error(raw, 3, 4, mtu, a.sin_addr.s_addr, IPPROTO_UDP, 1500, l4);
  printf("frag needed %d for %s: IP_MTU %d\n", mtu, dst, ip_mtu(s));
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  int raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  if (raw < 0 || raw6 < 0) {
    printf("raw socket: %s\n", err());
    return 1;
  }
  sh("ip route get 127.0.0.1; ip route get 127.0.0.5 from 127.0.0.1; ip route get 127.255.255.255");
  sh("ip -d route get 127.0.0.1; ip -j route get 127.0.0.1; echo");
  sh("ip -6 route get ::1; ip -6 -j route get ::1; echo");
  sh("ip route get 10.0.2.2; ip -6 route get 2001:db8::1; ip route get 0.0.0.0; ip route get 127.0.0.1 from 10.1.1.1");
  sh("ip route get 10.0.0.1 oif lo; ip route get 127.0.0.1 mark 5 uid 1000");
  sh("ip route get fibmatch 127.0.0.1; ip -6 route get fibmatch ::1; ip route get fibmatch 10.0.2.2");
  sh("ip route add 10.6.0.0/16 dev lo mtu lock 1400 && ip route add 10.7.0.0/16 dev lo mtu 1300 && ip route");
  sh("ip route get 10.6.0.1; ip route get 10.7.0.1; ip -j route show 10.6.0.0/16; echo");
  sh("ip -6 route add 2001:db8:1::/64 dev lo mtu lock 1280 && ip -6 route && ip -6 route get 2001:db8:1::1");

  learn4(raw, "127.0.0.2", 1200);
  learn4(raw, "127.0.0.3", 300);
  learn4(raw, "10.6.0.1", 1000);
  learn4(raw, "10.7.0.1", 1100);
  sh("ip route get 127.0.0.2; ip route get 127.0.0.3; ip route get 10.6.0.1; ip route get 10.7.0.1");
  sh("ip -j route get 127.0.0.2; echo");

  int s6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  connect(s6, (struct sockaddr *)&a6, sizeof a6);
  unsigned char l4[8];
  udp_quote(l4, htons(port_of(s6)), a6.sin6_port, 0);
  icmp6_error(raw6, 2, 0, 1300, IPPROTO_UDP, 1480, l4);
  sh("ip -6 route get ::1; ip -6 -j route get ::1; echo");
  close(s6);
  return 0;
}
