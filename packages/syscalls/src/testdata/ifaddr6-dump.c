/* Prints what an RTM_GETADDR dump (AF_INET6) says of each IPv6 address of one interface: the
 * address, ifaddrmsg's prefix length, flags byte and scope, the attribute types in order,
 * IFA_FLAGS, IFA_CACHEINFO and IFA_PROTO (none: -). One line per address, in the dump's order.
 * Usage: ifaddr6-dump IFNAME */
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: ifaddr6-dump IFNAME\n");
    return 2;
  }
  unsigned index = if_nametoindex(argv[1]);
  if (index == 0) {
    perror("if_nametoindex");
    return 1;
  }
  int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  if (s < 0) {
    perror("socket");
    return 1;
  }
  struct {
    struct nlmsghdr h;
    struct ifaddrmsg m;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETADDR;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.h.nlmsg_seq = 1;
  req.m.ifa_family = AF_INET6;
  if (send(s, &req, sizeof req, 0) != (ssize_t)sizeof req) {
    perror("send");
    return 1;
  }
  static char buf[65536];
  for (;;) {
    ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n <= 0) {
      perror("recv");
      return 1;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        fprintf(stderr, "NLMSG_ERROR\n");
        return 1;
      }
      if (h->nlmsg_type != RTM_NEWADDR) continue;
      struct ifaddrmsg *m = NLMSG_DATA(h);
      if (m->ifa_index != index) continue;
      char addr[INET6_ADDRSTRLEN] = "?";
      char attrs[128] = "";
      unsigned flags = 0;
      int proto = -1;
      struct ifa_cacheinfo ci;
      memset(&ci, 0, sizeof ci);
      int len = IFA_PAYLOAD(h);
      for (struct rtattr *a = IFA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        snprintf(attrs + strlen(attrs), sizeof attrs - strlen(attrs), "%s%u", attrs[0] ? "," : "",
                 a->rta_type);
        if (a->rta_type == IFA_ADDRESS) inet_ntop(AF_INET6, RTA_DATA(a), addr, sizeof addr);
        if (a->rta_type == IFA_FLAGS) memcpy(&flags, RTA_DATA(a), sizeof flags);
        if (a->rta_type == IFA_CACHEINFO) memcpy(&ci, RTA_DATA(a), sizeof ci);
        if (a->rta_type == IFA_PROTO) proto = *(unsigned char *)RTA_DATA(a);
      }
      char protoText[16] = "-";
      if (proto >= 0) snprintf(protoText, sizeof protoText, "%d", proto);
      printf("%s plen=%u flags=%02x scope=%u attrs=%s IFA_FLAGS=%x preferred=%u valid=%u cstamp=%u "
             "tstamp=%u proto=%s\n",
             addr, m->ifa_prefixlen, m->ifa_flags, m->ifa_scope, attrs, flags, ci.ifa_prefered,
             ci.ifa_valid, ci.cstamp, ci.tstamp, protoText);
    }
  }
}
