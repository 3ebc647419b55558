/* getsockopt(2) with a negative *optlen. Linux's SOL_IP (do_ip_getsockopt), SOL_TCP
 * (do_tcp_getsockopt), SOL_UDP (udp_lib_getsockopt) and SOL_SOCKET (sk_getsockopt) refuse it
 * with EINVAL, also on an AF_INET6 socket; do_ipv6_getsockopt never tests for it: its int
 * options cut the length with min_t(unsigned int, ...), so -1 asks for the whole int and *optlen
 * comes back 4; IPV6_PATHMTU compares the length with a sizeof, unsigned too; the sticky headers
 * and IPV6_2292PKTOPTIONS copy nothing when there is nothing; an unknown option or an
 * unconnected socket's IPV6_MTU fails as with any length. Last, levels and names a socket does
 * not have, asked with *optlen -1 and INT_MIN: Linux picks the protocol's handler by the level
 * and refuses a foreign level or an unknown name before it reads the length, so these give
 * EOPNOTSUPP or ENOPROTOOPT as with any length (AF_UNIX has no handler but SOL_SOCKET's; an
 * IPv4 socket's ip_getsockopt refuses levels other than SOL_IP with EOPNOTSUPP, an IPv6
 * socket's ipv6_getsockopt with ENOPROTOOPT; raw sockets keep SOL_RAW, ICMP_FILTER and
 * ICMPV6_FILTER to themselves; multicast routing options of SOL_IP are EOPNOTSUPP but on a raw
 * IGMP socket; netlink refuses levels other than SOL_NETLINK with ENOPROTOOPT). Run in a fresh network namespace (lo up) and under tsvisor, the output must be
 * the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/icmp6.h>
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

#define SOL_RAW_ 255 /* SOL_RAW, from <linux/socket.h> */
#define ICMP_FILTER_ 1 /* SOL_RAW's ICMP_FILTER, from <linux/icmp.h> */
#define MRT_VERSION_ 201 /* from <linux/mroute.h> */

/* Every level and name of the last part: the protocols' own names, known ones at a level a
 * socket may lack, and unknown ones (12345 is no option anywhere). */
static const struct {
  const char *name;
  int level, opt;
} foreign[] = {
    {"SOCKET.SO_TYPE", SOL_SOCKET, SO_TYPE},
    {"SOCKET.12345", SOL_SOCKET, 12345},
    {"IP.IP_TTL", IPPROTO_IP, IP_TTL},
    {"IP.MRT_VERSION", IPPROTO_IP, MRT_VERSION_},
    {"IP.12345", IPPROTO_IP, 12345},
    {"IPV6.IPV6_UNICAST_HOPS", IPPROTO_IPV6, IPV6_UNICAST_HOPS},
    {"IPV6.12345", IPPROTO_IPV6, 12345},
    {"TCP.TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY},
    {"TCP.12345", IPPROTO_TCP, 12345},
    {"UDP.UDP_CORK", IPPROTO_UDP, UDP_CORK},
    {"UDP.12345", IPPROTO_UDP, 12345},
    {"RAW.ICMP_FILTER", SOL_RAW_, ICMP_FILTER_},
    {"RAW.IPV6_CHECKSUM", SOL_RAW_, IPV6_CHECKSUM},
    {"RAW.12345", SOL_RAW_, 12345},
    {"ICMPV6.ICMP6_FILTER", IPPROTO_ICMPV6, ICMP6_FILTER},
    {"ICMPV6.12345", IPPROTO_ICMPV6, 12345},
    {"999.1", 999, 1},
};

/* Each of `foreign` with *optlen `len`: " NAME ERRNO optlen" or " NAME 0 optlen" (the value is
 * the first part's business). */
static void foreign_levels(int s, int len) {
  for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
    int v[8];
    socklen_t l = (socklen_t)len;
    int r = getsockopt(s, foreign[i].level, foreign[i].opt, v, &l);
    printf(" %s %s %d", foreign[i].name, r ? strerrorname_np(errno) : "0", (int)l);
    if (i == 8) printf("\n   ");
  }
  printf("\n");
}

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

  /* Ping sockets for root: a fresh namespace lets no group in. */
  int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (fd < 0 || write(fd, "0 0", 3) != 3) printf("ping_group_range: %s\n", strerrorname_np(errno));
  if (fd >= 0) close(fd);
  static const struct {
    const char *name;
    int family, type, protocol;
  } kinds[] = {
      {"tcp4", AF_INET, SOCK_STREAM, 0},
      {"udp4", AF_INET, SOCK_DGRAM, 0},
      {"raw4 icmp", AF_INET, SOCK_RAW, IPPROTO_ICMP},
      {"raw4 udp", AF_INET, SOCK_RAW, IPPROTO_UDP},
      {"ping4", AF_INET, SOCK_DGRAM, IPPROTO_ICMP},
      {"tcp6", AF_INET6, SOCK_STREAM, 0},
      {"udp6", AF_INET6, SOCK_DGRAM, 0},
      {"raw6 icmpv6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6},
      {"raw6 udp", AF_INET6, SOCK_RAW, IPPROTO_UDP},
      {"ping6", AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6},
      {"unix stream", AF_UNIX, SOCK_STREAM, 0},
      {"unix dgram", AF_UNIX, SOCK_DGRAM, 0},
      {"netlink route", AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */},
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    int s = socket(kinds[i].family, kinds[i].type, kinds[i].protocol);
    if (s < 0) {
      printf("%s: socket %s\n", kinds[i].name, strerrorname_np(errno));
      continue;
    }
    printf("%s, optlen -1:", kinds[i].name);
    foreign_levels(s, -1);
    printf("%s, optlen INT_MIN:", kinds[i].name);
    foreign_levels(s, INT_MIN);
    close(s);
  }
  return 0;
}
