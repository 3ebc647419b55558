/* RTM_NEWROUTE and RTM_DELROUTE in the main table: the errors Linux gives (EEXIST, ESRCH,
 * ENETUNREACH for a gateway off link, ENODEV without a device, EHOSTUNREACH for an IPv6 gateway
 * without a route), and what a route changes for sockets: a destination without a route is
 * ENETUNREACH, one routed to lo is sent (and lost), the route's preferred source and MTU are
 * what a connected socket gets. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <netinet/in.h>

#include "rtnl-util.h"

static int nl;

/* A route request: `dst`/`len`, optional gateway, device index (0: none), metric (-1: none),
 * preferred source, MTU (0: none). */
static void route(const char *what, int type, int flags, const char *dst, int len, const char *gw, int oif,
                  int metric, const char *src, int mtu) {
  char body[256] = {0};
  struct rtmsg *m = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *m);
  int v6 = strchr(dst, ':') != NULL;
  int family = v6 ? AF_INET6 : AF_INET;
  unsigned char a[16];
  m->rtm_family = family;
  m->rtm_dst_len = len;
  m->rtm_table = RT_TABLE_MAIN;
  m->rtm_protocol = RTPROT_BOOT;
  m->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  m->rtm_type = RTN_UNICAST;
  if (type == RTM_DELROUTE) {
    m->rtm_protocol = 0;
    m->rtm_scope = RT_SCOPE_NOWHERE;
  }
  inet_pton(family, dst, a);
  rtnl_attr(body, &off, RTA_DST, a, v6 ? 16 : 4);
  if (gw) {
    inet_pton(family, gw, a);
    rtnl_attr(body, &off, RTA_GATEWAY, a, v6 ? 16 : 4);
  }
  if (oif) rtnl_attr(body, &off, RTA_OIF, &oif, 4);
  if (metric >= 0) rtnl_attr(body, &off, RTA_PRIORITY, &metric, 4);
  if (src) {
    inet_pton(family, src, a);
    rtnl_attr(body, &off, RTA_PREFSRC, a, v6 ? 16 : 4);
  }
  if (mtu) {
    char nest[16];
    size_t n = 0;
    rtnl_attr(nest, &n, RTAX_MTU, &mtu, 4);
    rtnl_attr(body, &off, RTA_METRICS, nest, n);
  }
  rtnl_ask(nl, what, type, NLM_F_ACK | flags, body, off, sizeof *m);
}

static void add(const char *what, const char *dst, int len, const char *gw, int oif, int metric, const char *src,
                int mtu) {
  route(what, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, dst, len, gw, oif, metric, src, mtu);
}

static void del(const char *what, const char *dst, int len, int metric) {
  route(what, RTM_DELROUTE, 0, dst, len, NULL, 0, metric, NULL, 0);
}

static void add_address(const char *addr, int plen) {
  char body[64] = {0};
  struct ifaddrmsg *m = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *m);
  unsigned char a[4];
  inet_pton(AF_INET, addr, a);
  m->ifa_family = AF_INET;
  m->ifa_prefixlen = plen;
  m->ifa_index = 1;
  rtnl_attr(body, &off, IFA_LOCAL, a, 4);
  rtnl_ask(nl, "add the address", RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, off, sizeof *m);
}

/* A UDP datagram to `dst`, then a connected UDP socket's source and IP_MTU, and a non-blocking
 * TCP connect. */
static void reach(const char *dst) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
  inet_pton(AF_INET, dst, &a.sin_addr);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  long n = sendto(u, "x", 1, 0, (void *)&a, sizeof a);
  printf("udp to %s: %s", dst, n < 0 ? strerrorname_np(errno) : "sent");
  if (connect(u, (void *)&a, sizeof a) == 0) {
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    getsockname(u, (void *)&me, &ml);
    int mtu = 0;
    socklen_t sl = sizeof mtu;
    getsockopt(u, IPPROTO_IP, IP_MTU, &mtu, &sl);
    char text[INET_ADDRSTRLEN];
    printf(", connected from %s, IP_MTU %d", inet_ntop(AF_INET, &me.sin_addr, text, sizeof text), mtu);
  }
  close(u);
  int t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int r = connect(t, (void *)&a, sizeof a);
  printf(", tcp connect %s\n", r == 0 ? "0" : strerrorname_np(errno));
  close(t);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  nl = rtnl_open();
  if (nl < 0) {
    printf("socket: %s\n", strerrorname_np(errno));
    return 1;
  }
  reach("10.8.0.1");
  add("10.8.0.0/16 dev lo", "10.8.0.0", 16, NULL, 1, -1, NULL, 0);
  add("10.8.0.0/16 dev lo again", "10.8.0.0", 16, NULL, 1, -1, NULL, 0);
  add("10.8.0.0/16 dev lo metric 5", "10.8.0.0", 16, NULL, 1, 5, NULL, 0);
  add("10.7.0.0/16 via 10.9.9.1 (off link)", "10.7.0.0", 16, "10.9.9.1", 0, -1, NULL, 0);
  add("10.5.0.0/16 without a device", "10.5.0.0", 16, NULL, 0, -1, NULL, 0);
  add("10.4.0.0/16 dev 99", "10.4.0.0", 16, NULL, 99, -1, NULL, 0);
  reach("10.8.0.1");
  add_address("10.9.9.9", 24);
  add("10.7.0.0/16 via 10.9.9.1", "10.7.0.0", 16, "10.9.9.1", 0, -1, NULL, 0);
  add("10.6.1.0/24 dev lo src 127.0.0.1 mtu 1400", "10.6.1.0", 24, NULL, 1, -1, "127.0.0.1", 1400);
  reach("10.7.0.1");
  reach("10.6.1.1");
  add("2001:db8:1::/48 dev lo", "2001:db8:1::", 48, NULL, 1, -1, NULL, 0);
  add("2001:db8:1::/48 dev lo again", "2001:db8:1::", 48, NULL, 1, -1, NULL, 0);
  add("2001:db8:3::/48 via 2001:db8:9::1", "2001:db8:3::", 48, "2001:db8:9::1", 0, -1, NULL, 0);
  add("2001:db8:2::/48 via fe80::1 dev lo", "2001:db8:2::", 48, "fe80::1", 1, -1, NULL, 0);
  del("del 10.3.0.0/16", "10.3.0.0", 16, -1);
  del("del 10.8.0.0/16 metric 9", "10.8.0.0", 16, 9);
  del("del 10.8.0.0/16 metric 5", "10.8.0.0", 16, 5);
  del("del 10.8.0.0/16", "10.8.0.0", 16, -1);
  del("del 10.8.0.0/16 again", "10.8.0.0", 16, -1);
  del("del 2001:db8:1::/48", "2001:db8:1::", 48, -1);
  reach("10.8.0.1");
  return 0;
}
