/* Input routes: RTM_GETROUTE with RTA_IIF (`ip route get ADDR from SRC iif DEV`), which Linux
 * answers with the route a packet arriving on DEV would take (inet_rtm_getroute through
 * ip_route_input_rcu, inet6_rtm_getroute through ip6_route_input_lookup), natively in a fresh
 * network namespace and under tsvisor (route-get-iif.test.ts). Each request's answer is printed
 * field by field (rtnl-util.h), then as `ip` shows it: IPv4's martian sources and destinations
 * (EINVAL), a host with forwarding off (EHOSTUNREACH), local, broadcast and multicast deliveries,
 * an unknown device (ENODEV); IPv6's strict lookups of loopback and link-local destinations on
 * the arriving link (ENETUNREACH elsewhere). With the argument `eth0` it asks about packets
 * arriving on eth0 (10.0.2.15/24, default route via 10.0.2.2, no IPv6: the sandbox's network and
 * a veth set up so natively) instead of lo. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <net/if.h>
#include <stdlib.h>

#include "rtnl-util.h"

static int nl;

/* RTM_GETROUTE of `dst` from `src` (NULL: none) arriving on ifindex `iif`, with `rtm_flags` and a
 * mark (0: none). */
static void get(const char *dst, const char *src, int iif, unsigned rtm_flags, unsigned mark) {
  char body[128] = {0};
  struct rtmsg *m = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *m);
  int v6 = strchr(dst, ':') != NULL;
  unsigned char a[16];
  char what[160];
  m->rtm_family = v6 ? AF_INET6 : AF_INET;
  m->rtm_dst_len = v6 ? 128 : 32;
  m->rtm_flags = rtm_flags;
  inet_pton(m->rtm_family, dst, a);
  rtnl_attr(body, &off, RTA_DST, a, v6 ? 16 : 4);
  if (src) {
    m->rtm_src_len = v6 ? 128 : 32;
    inet_pton(m->rtm_family, src, a);
    rtnl_attr(body, &off, RTA_SRC, a, v6 ? 16 : 4);
  }
  rtnl_attr(body, &off, RTA_IIF, &iif, 4);
  if (mark) rtnl_attr(body, &off, RTA_MARK, &mark, 4);
  snprintf(what, sizeof what, "%s from %s iif %d flags 0x%x mark %u", dst, src ? src : "-", iif, rtm_flags, mark);
  rtnl_ask(nl, what, RTM_GETROUTE, 0, body, off, sizeof *m);
}

static void sh(const char *cmd) {
  printf("$ %s\n", cmd);
  fflush(stdout);
  char line[512];
  snprintf(line, sizeof line, "{ %s; } 2>&1", cmd);
  if (system(line) != 0) printf("(failed)\n");
}

/* Packets arriving on lo, with a subnet of its own added. */
static void on_lo(void) {
  /* A subnet on lo, whose addresses are all local (a loopback link's prefix route is). */
  char body[64] = {0};
  struct ifaddrmsg *ifa = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *ifa);
  unsigned char a4[4] = {10, 0, 0, 1};
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 8;
  ifa->ifa_index = 1;
  rtnl_attr(body, &off, IFA_LOCAL, a4, 4);
  rtnl_ask(nl, "add 10.0.0.1/8 to lo", RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, off, sizeof *ifa);

  /* Martians: loopback, zero, multicast and broadcast sources, loopback and zero destinations,
   * a source that is this host's own address; only 0.0.0.0 of 0.0.0.0/8 is zero, so 0.1.2.3 is
   * a source like any other and a destination without a route. */
  get("127.0.0.1", "127.0.0.1", 1, 0, 0);
  get("127.0.0.1", NULL, 1, 0, 0);
  get("10.0.0.1", "127.0.0.5", 1, 0, 0);
  get("10.0.0.1", "224.1.1.1", 1, 0, 0);
  get("10.0.0.1", "255.255.255.255", 1, 0, 0);
  get("10.0.0.1", NULL, 1, 0, 0);
  get("10.0.0.1", "0.1.2.3", 1, 0, 0);
  get("0.1.2.3", "10.0.0.3", 1, 0, 0);
  get("10.0.0.1", "10.0.0.1", 1, 0, 0);
  get("10.255.255.255", "10.0.0.1", 1, 0, 0);
  /* Delivered here: a local address, any address of lo's subnet, its broadcast address, the
   * limited broadcast (also from 0.0.0.0, and 0.0.0.0 from it), the all-hosts group (also from
   * 0.0.0.0: a link-local group), with RTM_F_NOTIFY and a mark. */
  get("10.0.0.1", "10.0.0.3", 1, 0, 0);
  get("10.0.0.9", "10.0.0.3", 1, 0, 0);
  get("10.255.255.255", "10.0.0.3", 1, 0, 0);
  get("255.255.255.255", "10.0.0.3", 1, 0, 0);
  get("255.255.255.255", NULL, 1, 0, 0);
  get("0.0.0.0", NULL, 1, 0, 0);
  get("224.0.0.1", "10.0.0.3", 1, 0, 0);
  get("224.0.0.1", NULL, 1, 0, 0);
  get("10.0.0.1", "10.0.0.3", 1, RTM_F_NOTIFY, 0);
  get("10.0.0.1", "10.0.0.3", 1, 0, 7);
  /* Not delivered: a group this host is not in, a destination without a route, and one with a
   * route (forwarding is off); an unknown device. */
  get("224.0.0.9", "10.0.0.3", 1, 0, 0);
  get("11.0.0.1", "10.0.0.3", 1, 0, 0);
  get("10.0.0.1", "10.0.0.3", 99, 0, 0);
  get("10.0.0.1", "10.0.0.3", 1, RTM_F_FIB_MATCH, 0);
  get("11.0.0.1", "10.0.0.3", 1, RTM_F_FIB_MATCH, 0);

  /* IPv6: ::1 arriving on lo from any source, fibmatch; no route to others of lo. */
  get("::1", "::1", 1, 0, 0);
  get("::1", NULL, 1, 0, 0);
  get("::1", "2001:db8::1", 1, 0, 0);
  get("::1", "ff02::1", 1, 0, 0);
  get("::1", "::1", 1, RTM_F_FIB_MATCH, 0);
  get("::1", "::1", 1, 0, 9);
  get("::2", "::1", 1, 0, 0);
  get("ff02::1", "::1", 1, 0, 0);
  get("fe80::1", "::1", 1, 0, 0);
  get("::", NULL, 1, 0, 0);
  get("::1", "::1", 99, 0, 0);

  sh("ip route get 127.0.0.1 from 127.0.0.1 iif lo; ip route get 10.0.0.1 iif lo");
  sh("ip route get 10.0.0.1 from 10.0.0.3 iif lo; ip -d route get 10.0.0.5 from 10.0.0.3 iif lo mark 3");
  sh("ip route get 10.255.255.255 from 10.0.0.3 iif lo; ip route get 224.0.0.1 from 10.0.0.3 iif lo");
  sh("ip route get 11.0.0.1 from 10.0.0.3 iif lo; ip route get fibmatch 10.0.0.1 from 10.0.0.3 iif lo");
  sh("ip -6 route get ::1 from ::1 iif lo; ip -6 -d route get ::1 iif lo; ip -6 route get fibmatch ::1 iif lo");
  sh("ip -6 route get ::2 from ::1 iif lo; ip -j route get 10.0.0.1 from 10.0.0.3 iif lo; echo");
}

/* Packets arriving on eth0 (and on lo for eth0's address). */
static void on_eth0(void) {
  int eth0 = if_nametoindex("eth0");
  get("10.0.2.15", "10.0.2.2", eth0, 0, 0);
  get("10.0.2.15", "10.0.2.3", eth0, 0, 0);
  get("10.0.2.15", "10.0.2.2", 1, 0, 0);
  get("10.0.2.15", "10.0.2.15", eth0, 0, 0);
  get("10.0.2.15", "127.0.0.1", eth0, 0, 0);
  get("127.0.0.1", "10.0.2.2", eth0, 0, 0);
  get("10.0.2.3", "10.0.2.2", eth0, 0, 0);
  get("8.8.8.8", "10.0.2.2", eth0, 0, 0);
  get("10.0.2.255", "10.0.2.2", eth0, 0, 0);
  get("10.0.2.255", "10.0.2.2", eth0, 0, 0);
  get("255.255.255.255", "10.0.2.2", eth0, 0, 0);
  get("224.0.0.1", "10.0.2.2", eth0, 0, 0);
  get("10.0.2.15", "10.0.2.2", eth0, RTM_F_FIB_MATCH, 0);
  get("8.8.8.8", "10.0.2.2", eth0, RTM_F_FIB_MATCH, 0);
  get("::1", "::1", eth0, 0, 0);
  get("::1", "::1", 1, 0, 0);
  sh("ip route get 10.0.2.15 from 10.0.2.2 iif eth0; ip route get 10.0.2.15 from 10.0.2.2 iif lo");
  sh("ip route get 8.8.8.8 from 10.0.2.2 iif eth0; ip route get 127.0.0.1 from 10.0.2.2 iif eth0");
  sh("ip route get 10.0.2.255 from 10.0.2.2 iif eth0; ip route get fibmatch 10.0.2.15 from 10.0.2.2 iif eth0");
  sh("ip -6 route get ::1 from ::1 iif eth0");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  rtnl_hide_lastuse = 1;
  nl = rtnl_open();
  if (nl < 0) {
    printf("netlink: %s\n", strerrorname_np(errno));
    return 1;
  }
  if (argc > 1 && strcmp(argv[1], "eth0") == 0)
    on_eth0();
  else
    on_lo();
  return 0;
}
