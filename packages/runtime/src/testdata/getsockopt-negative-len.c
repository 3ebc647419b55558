/* getsockopt(2) with a negative *optlen. Linux's SOL_IP (do_ip_getsockopt), SOL_TCP
 * (do_tcp_getsockopt), SOL_UDP (udp_lib_getsockopt) and SOL_SOCKET (sk_getsockopt) refuse it
 * with EINVAL, also on an AF_INET6 socket; do_ipv6_getsockopt never tests for it: its int
 * options cut the length with min_t(unsigned int, ...), so -1 asks for the whole int and *optlen
 * comes back 4; IPV6_PATHMTU compares the length with a sizeof, unsigned too; the sticky headers
 * and IPV6_2292PKTOPTIONS copy nothing when there is nothing; an unknown option or an
 * unconnected socket's IPV6_MTU fails as with any length. Run in a fresh network namespace (lo
 * up) and under tsvisor, the output must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* getsockopt with *optlen -1: " NAME 0 len v" (the int the call wrote, or "-" for none) or
 * " NAME ERRNO len" (*optlen is left alone). */
static void neg(int s, const char *name, int level, int opt) {
  int v[8];
  memset(v, 0x5a, sizeof v);
  socklen_t len = (socklen_t)-1;
  if (getsockopt(s, level, opt, v, &len) != 0) {
    printf(" %s %s %d", name, strerrorname_np(errno), (int)len);
    return;
  }
  if ((int)len <= 0 || v[0] == 0x5a5a5a5a)
    printf(" %s 0 %d -", name, (int)len);
  else if (level == IPPROTO_IPV6 && opt == IPV6_PATHMTU)
    printf(" %s 0 %d mtu %u", name, (int)len, ((struct ip6_mtuinfo *)v)->ip6m_mtu);
  else
    printf(" %s 0 %d %d", name, (int)len, v[0]);
}

#define NEG(s, level, opt) neg(s, #opt, level, opt)

/* The IPv6-level options of an AF_INET6 socket. */
static void ipv6_level(int s) {
  NEG(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS);
  NEG(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS);
  NEG(s, IPPROTO_IPV6, IPV6_V6ONLY);
  NEG(s, IPPROTO_IPV6, IPV6_RECVPKTINFO);
  NEG(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT);
  NEG(s, IPPROTO_IPV6, IPV6_TCLASS);
  NEG(s, IPPROTO_IPV6, IPV6_MTU_DISCOVER);
  NEG(s, IPPROTO_IPV6, IPV6_MINHOPCOUNT);
  NEG(s, IPPROTO_IPV6, IPV6_DONTFRAG);
  printf("\n   ");
  NEG(s, IPPROTO_IPV6, IPV6_MTU);
  NEG(s, IPPROTO_IPV6, IPV6_PATHMTU);
  NEG(s, IPPROTO_IPV6, IPV6_HOPOPTS);
  NEG(s, IPPROTO_IPV6, IPV6_RTHDR);
  NEG(s, IPPROTO_IPV6, IPV6_2292PKTOPTIONS);
  neg(s, "12345", IPPROTO_IPV6, 12345);
}

static int sock6(int type, int protocol, int connected) {
  int s = socket(AF_INET6, type, protocol);
  if (connected) {
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    connect(s, (struct sockaddr *)&a, sizeof a);
  }
  return s;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int u4 = socket(AF_INET, SOCK_DGRAM, 0), t4 = socket(AF_INET, SOCK_STREAM, 0);
  printf("udp4:");
  NEG(u4, IPPROTO_IP, IP_TTL);
  NEG(u4, IPPROTO_UDP, UDP_CORK);
  NEG(u4, SOL_SOCKET, SO_TYPE);
  printf("\ntcp4:");
  NEG(t4, IPPROTO_IP, IP_TTL);
  NEG(t4, IPPROTO_TCP, TCP_NODELAY);
  printf("\n");
  close(u4);
  close(t4);

  int u6 = sock6(SOCK_DGRAM, 0, 0);
  printf("udp6:");
  ipv6_level(u6);
  NEG(u6, IPPROTO_IP, IP_TTL);
  NEG(u6, IPPROTO_UDP, UDP_CORK);
  NEG(u6, SOL_SOCKET, SO_TYPE);
  printf("\n");
  int c6 = sock6(SOCK_DGRAM, 0, 1);
  printf("connected udp6:");
  ipv6_level(c6);
  printf("\n");
  int t6 = sock6(SOCK_STREAM, 0, 0);
  printf("tcp6:");
  ipv6_level(t6);
  NEG(t6, IPPROTO_IP, IP_TTL);
  NEG(t6, IPPROTO_TCP, TCP_NODELAY);
  printf("\n");
  int r6 = sock6(SOCK_RAW, IPPROTO_UDP, 0);
  printf("raw6:");
  ipv6_level(r6);
  printf("\n");
  close(u6);
  close(c6);
  close(t6);
  close(r6);
  return 0;
}
