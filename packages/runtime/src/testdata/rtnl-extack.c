/* Extended ACKs (NETLINK_EXT_ACK) of rtnetlink requests with malformed attributes and of the
 * errors `ip` shows as "Error: ...", natively in a fresh network namespace and under tsvisor
 * (rtnl-extack.test.ts). Each NLMSG_ERROR is printed with its flags, errno and attributes: the
 * text (NLMSGERR_ATTR_MSG), the offset of the attribute at fault (NLMSGERR_ATTR_OFFS) and the
 * policy it failed (NLMSGERR_ATTR_POLICY, in hex). Attributes shorter than their policy allows
 * (ERANGE), unknown ones in strict parsing (NETLINK_GET_STRICT_CHK), bytes after the last
 * attribute (a warning in an ACK that succeeds), short headers, an IPv4 route with bits beyond
 * its prefix; with NETLINK_CAP_ACK off the request is echoed whole, and without NETLINK_EXT_ACK
 * no attribute is added. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <stdlib.h>

#include "rtnl-util.h"

static int nl;
static int lo = 1;

/* The rtmsg of a route request of `type` for a `len`-bit prefix of `family` at the start of
 * `body` (a GETROUTE's left as strict checking wants); returns where attributes go. */
static size_t route_header(char *body, int type, int family, int len) {
  struct rtmsg *m = (void *)body;
  m->rtm_family = family;
  m->rtm_dst_len = len;
  if (type == RTM_NEWROUTE) {
    m->rtm_table = RT_TABLE_MAIN;
    m->rtm_protocol = RTPROT_BOOT;
    m->rtm_scope = RT_SCOPE_LINK;
    m->rtm_type = RTN_UNICAST;
  }
  return NLMSG_ALIGN(sizeof *m);
}

/* A route request of `type` for `dst`/`len` of `family` with up to two attributes given as
 * type, data and length (data NULL: none). A GETROUTE's header is left as strict checking wants. */
static void route(const char *what, int type, int flags, int family, int len, int t1, const void *v1, int l1, int t2,
                  const void *v2, int l2) {
  char body[256] = {0};
  size_t off = route_header(body, type, family, len);
  if (v1) rtnl_attr(body, &off, t1, v1, l1);
  if (v2) rtnl_attr(body, &off, t2, v2, l2);
  rtnl_ask(nl, what, type, flags, body, off, sizeof(struct rtmsg));
}

/* The same with an attribute header claiming more bytes than are left after them. */
static void route_trailing(const char *what, int type, int flags, int family, int len, const void *dst) {
  char body[256] = {0};
  size_t off = route_header(body, type, family, len);
  rtnl_attr(body, &off, RTA_DST, dst, family == AF_INET6 ? 16 : 4);
  if (type == RTM_NEWROUTE) rtnl_attr(body, &off, RTA_OIF, &lo, 4);
  body[off] = 9;
  body[off + 2] = RTA_PRIORITY;
  off += 4;
  rtnl_ask(nl, what, type, flags, body, off, sizeof(struct rtmsg));
}

static void addr(const char *what, int type, int family, int plen, int t1, const void *v1, int l1, int t2,
                 const void *v2, int l2) {
  char body[128] = {0};
  struct ifaddrmsg *m = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *m);
  m->ifa_family = family;
  m->ifa_prefixlen = plen;
  m->ifa_index = 1;
  if (t1) rtnl_attr(body, &off, t1, v1, l1);
  if (t2) rtnl_attr(body, &off, t2, v2, l2);
  rtnl_ask(nl, what, type, NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0), body, off, sizeof *m);
}

static void link_(const char *what, int type, int flags, int index, int t1, const void *v1, int l1) {
  char body[128] = {0};
  struct ifinfomsg *m = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *m);
  m->ifi_index = index;
  if (t1) rtnl_attr(body, &off, t1, v1, l1);
  rtnl_ask(nl, what, type, NLM_F_ACK | flags, body, off, sizeof *m);
}

static void opt(int name, int on) {
  setsockopt(nl, SOL_NETLINK, name, &on, sizeof on);
}

static void sh(const char *cmd) {
  printf("$ %s\n", cmd);
  char line[512];
  snprintf(line, sizeof line, "{ %s; } 2>&1", cmd);
  if (system(line) != 0) printf("(failed)\n");
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) {
    printf("netlink: %s\n", strerrorname_np(errno));
    return 1;
  }
  int v = -1;
  socklen_t l = sizeof v;
  getsockopt(nl, SOL_NETLINK, NETLINK_EXT_ACK, &v, &l);
  printf("NETLINK_EXT_ACK at first: %d\n", v);
  getsockopt(nl, SOL_NETLINK, NETLINK_CAP_ACK, &v, &l);
  printf("NETLINK_CAP_ACK at first: %d\n", v);
  unsigned char a4[4] = {10, 1, 2, 3}, a16[16] = {0x20, 1, 0xd, 0xb8};
  int create = NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;

  route("no extended ACK: IPv4 route with bits beyond its prefix", RTM_NEWROUTE, create, AF_INET, 16, RTA_DST, a4, 4,
        RTA_OIF, &lo, 4);
  route("no extended ACK: short RTA_OIF", RTM_NEWROUTE, create, AF_INET, 32, RTA_DST, a4, 4, RTA_OIF, &lo, 2);
  opt(NETLINK_EXT_ACK, 1);
  route("uncapped: IPv4 route with bits beyond its prefix", RTM_NEWROUTE, create, AF_INET, 16, RTA_DST, a4, 4,
        RTA_OIF, &lo, 4);
  route("uncapped: short RTA_OIF", RTM_NEWROUTE, create, AF_INET, 32, RTA_DST, a4, 4, RTA_OIF, &lo, 2);
  opt(NETLINK_CAP_ACK, 1);
  getsockopt(nl, SOL_NETLINK, NETLINK_EXT_ACK, &v, &l);
  printf("NETLINK_EXT_ACK: %d\n", v);
  getsockopt(nl, SOL_NETLINK, NETLINK_CAP_ACK, &v, &l);
  printf("NETLINK_CAP_ACK: %d\n", v);

  route("IPv4 route with bits beyond its prefix", RTM_NEWROUTE, create, AF_INET, 16, RTA_DST, a4, 4, RTA_OIF, &lo, 4);
  route("IPv6 route with bits beyond its prefix", RTM_NEWROUTE, create, AF_INET6, 16, RTA_DST, a16, 16, RTA_OIF, &lo,
        4);
  route("short RTA_PRIORITY", RTM_NEWROUTE, create, AF_INET, 32, RTA_DST, a4, 4, RTA_PRIORITY, &lo, 2);
  route("short RTA_DST", RTM_NEWROUTE, create, AF_INET, 32, RTA_DST, a4, 2, RTA_OIF, &lo, 4);
  route("IPv6 short RTA_DST", RTM_NEWROUTE, create, AF_INET6, 64, RTA_DST, a16, 4, RTA_OIF, &lo, 4);
  route("IPv6 short RTA_OIF", RTM_NEWROUTE, create, AF_INET6, 64, RTA_DST, a16, 16, RTA_OIF, &lo, 2);
  route("IPv6 short RTA_GATEWAY", RTM_NEWROUTE, create, AF_INET6, 64, RTA_DST, a16, 16, RTA_GATEWAY, a16, 8);
  route("IPv6 prefix of 129", RTM_NEWROUTE, create, AF_INET6, 129, RTA_DST, a16, 16, RTA_OIF, &lo, 4);
  route("delete: short RTA_DST", RTM_DELROUTE, NLM_F_ACK, AF_INET, 32, RTA_DST, a4, 3, 0, 0, 0);
  route("delete: short RTA_OIF", RTM_DELROUTE, NLM_F_ACK, AF_INET, 32, RTA_DST, a4, 4, RTA_OIF, &lo, 1);
  route_trailing("IPv4 route and bytes after it", RTM_NEWROUTE, create, AF_INET, 32, (unsigned char[]){10, 9, 9, 9});
  route_trailing("IPv6 route and bytes after it", RTM_NEWROUTE, create, AF_INET6, 128, a16);
  route_trailing("deleting it with bytes after the request", RTM_DELROUTE, NLM_F_ACK, AF_INET6, 128, a16);

  route("get: short RTA_MARK", RTM_GETROUTE, 0, AF_INET, 32, RTA_DST, a4, 4, RTA_MARK, &lo, 2);
  route("get: short RTA_IIF", RTM_GETROUTE, 0, AF_INET, 32, RTA_DST, a4, 4, RTA_IIF, &lo, 2);
  route("get: IPv6 short RTA_IIF", RTM_GETROUTE, 0, AF_INET6, 128, RTA_DST, a16, 16, RTA_IIF, &lo, 2);
  route("get: IPv6 short RTA_DST", RTM_GETROUTE, 0, AF_INET6, 128, RTA_DST, a16, 4, 0, 0, 0);
  route("get: unknown attribute 200", RTM_GETROUTE, 0, AF_INET, 32, RTA_DST, a4, 4, 200, &lo, 4);
  opt(NETLINK_GET_STRICT_CHK, 1);
  route("strict get: unknown attribute 200", RTM_GETROUTE, 0, AF_INET, 32, RTA_DST, a4, 4, 200, &lo, 4);
  route("strict get: attribute 32", RTM_GETROUTE, 0, AF_INET, 32, RTA_DST, a4, 4, 32, &lo, 4);
  route("strict get: attribute 0", RTM_GETROUTE, 0, AF_INET, 32, 0, a4, 4, RTA_DST, a4, 4);
  route("strict get: RTA_TABLE", RTM_GETROUTE, 0, AF_INET, 32, RTA_DST, a4, 4, RTA_TABLE, &lo, 4);
  route("strict get: short RTA_MARK", RTM_GETROUTE, 0, AF_INET, 32, RTA_DST, a4, 4, RTA_MARK, &lo, 2);
  route("strict get: IPv6 unknown attribute 200", RTM_GETROUTE, 0, AF_INET6, 128, RTA_DST, a16, 16, 200, &lo, 4);
  route("strict get: IPv6 short RTA_IIF", RTM_GETROUTE, 0, AF_INET6, 128, RTA_DST, a16, 16, RTA_IIF, &lo, 2);
  route_trailing("strict get: bytes after the attributes", RTM_GETROUTE, 0, AF_INET, 32, a4);
  opt(NETLINK_GET_STRICT_CHK, 0);

  addr("short IFA_LOCAL", RTM_NEWADDR, AF_INET, 8, IFA_LOCAL, a4, 2, 0, 0, 0);
  addr("short IFA_FLAGS", RTM_NEWADDR, AF_INET, 8, IFA_LOCAL, a4, 4, IFA_FLAGS, a4, 2);
  addr("short IFA_CACHEINFO", RTM_NEWADDR, AF_INET, 8, IFA_LOCAL, a4, 4, IFA_CACHEINFO, a4, 4);
  addr("long IFA_LABEL", RTM_NEWADDR, AF_INET, 8, IFA_LOCAL, a4, 4, IFA_LABEL, "abcdefghijklmnopqrst", 21);
  addr("short IFA_TARGET_NETNSID", RTM_NEWADDR, AF_INET, 8, IFA_TARGET_NETNSID, &lo, 2, 0, 0, 0);
  addr("delete: short IFA_LOCAL", RTM_DELADDR, AF_INET, 8, IFA_LOCAL, a4, 2, 0, 0, 0);
  addr("IPv6 short IFA_ADDRESS", RTM_NEWADDR, AF_INET6, 64, IFA_ADDRESS, a16, 8, 0, 0, 0);
  addr("IPv6 short IFA_LOCAL", RTM_NEWADDR, AF_INET6, 64, IFA_LOCAL, a16, 8, 0, 0, 0);
  addr("IPv6 short IFA_FLAGS", RTM_NEWADDR, AF_INET6, 64, IFA_ADDRESS, a16, 16, IFA_FLAGS, a4, 2);
  addr("IPv6 delete: short IFA_ADDRESS", RTM_DELADDR, AF_INET6, 64, IFA_ADDRESS, a16, 8, 0, 0, 0);
  addr("IPv4 prefix of 64", RTM_NEWADDR, AF_INET, 64, 0, 0, 0, 0, 0, 0);

  link_("short IFLA_MTU", RTM_SETLINK, 0, 1, IFLA_MTU, &lo, 2);
  link_("long IFLA_IFNAME", RTM_SETLINK, 0, 1, IFLA_IFNAME, "abcdefghijklmnopqrst", 21);
  link_("short IFLA_TXQLEN", RTM_SETLINK, 0, 1, IFLA_TXQLEN, &lo, 2);
  link_("empty IFLA_OPERSTATE", RTM_SETLINK, 0, 1, IFLA_OPERSTATE, &lo, 0);
  link_("new link: short IFLA_MTU", RTM_NEWLINK, 0, 1, IFLA_MTU, &lo, 2);
  link_("no link", RTM_SETLINK, 0, 0, 0, 0, 0);
  link_("link 99", RTM_SETLINK, 0, 99, 0, 0, 0);
  link_("new link -3", RTM_NEWLINK, 0, -3, 0, 0, 0);
  link_("new link d9 of no kind", RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, IFLA_IFNAME, "d9", 3);

  rtnl_ask(nl, "short route header", RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, (char[4]){AF_INET}, 4, 4);
  rtnl_ask(nl, "IPv6 short route header", RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE, (char[4]){AF_INET6}, 4, 4);
  rtnl_ask(nl, "short get header", RTM_GETROUTE, 0, (char[4]){AF_INET}, 4, 4);
  rtnl_ask(nl, "IPv6 short get header", RTM_GETROUTE, 0, (char[4]){AF_INET6}, 4, 4);
  rtnl_ask(nl, "short address header", RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE, (char[4]){AF_INET}, 4, 4);
  rtnl_ask(nl, "short link header", RTM_SETLINK, NLM_F_ACK, (char[4]){AF_INET}, 4, 4);

  sh("ip route add 10.1.2.3/16 dev lo; ip route add 10.1.0.0/16 dev lo; ip route add 10.1.0.0/16 dev lo");
  sh("ip route add 10.5.0.0/16 via 192.168.0.1; ip -6 route add 2001:db8::/32 via fe80::1 dev lo");
  sh("ip addr add 10.0.0.1/8 dev lo; ip addr add 10.0.0.1/8 dev lo; ip addr del 10.9.9.9/8 dev lo");
  sh("ip -6 addr add 2001:db8::2/64 dev lo; ip -6 addr add 2001:db8::2/64 dev lo; ip -6 addr del ::7/64 dev lo");
  sh("ip -6 addr add ff02::5/64 dev lo; ip link add d9 type nosuchkind");
  return 0;
}
