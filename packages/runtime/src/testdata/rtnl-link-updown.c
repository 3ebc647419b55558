/* `ip link set lo down` and `up` (RTM_NEWLINK, RTM_SETLINK and SIOCSIFFLAGS), as Linux: the link's
 * flags, operstate and carrier in RTM_GETLINK, SIOCGIFFLAGS and /sys; the RTNLGRP_* announcements
 * in order (the link, then ::1's route and address going; on up the link, lo's broadcast routes,
 * ::1 and its route coming back); what stays (IPv4 addresses and local routes) and what goes
 * (::1, the main table's routes through lo); traffic while down (IPv4 silently dropped, ::1
 * EADDRNOTAVAIL, a TCP connection stalls and recovers after up); the other flag bits a request may
 * change (IFF_PROMISC, IFF_ALLMULTI, IFF_NOARP...); IFLA_TXQLEN and SIOCGIFTXQLEN/SIOCSIFTXQLEN
 * with their limits; CAP_NET_ADMIN. Run natively in a fresh network and mount namespace (with its
 * own sysfs, lo up) and under tsvisor --network none. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "rtnl-util.h"

static int nl, mon;

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

/* An RTM_NEWLINK or RTM_SETLINK on lo by index (or by name when `index` is 0) with ifi_flags,
 * ifi_change and, when `txqlen` is not -2, IFLA_TXQLEN. */
static void link_req(const char *what, int type, int index, unsigned flags, unsigned change, long long txqlen) {
  char body[256] = {0};
  struct ifinfomsg *m = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *m);
  m->ifi_family = AF_UNSPEC;
  m->ifi_index = index;
  m->ifi_flags = flags;
  m->ifi_change = change;
  if (index == 0) rtnl_attr(body, &off, IFLA_IFNAME, "lo", 3);
  if (txqlen != -2) {
    unsigned v = (unsigned)txqlen;
    rtnl_attr(body, &off, IFLA_TXQLEN, &v, 4);
  }
  rtnl_ask(nl, what, type, NLM_F_ACK, body, off, sizeof *m);
}

static void print_addr(const unsigned char *p, int family) {
  char text[64];
  inet_ntop(family, p, text, sizeof text);
  printf(" %s", text);
}

/* One announcement or dump entry, briefly: a link's flags and state, an address, a route. */
static void print_msg(const struct nlmsghdr *h) {
  if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) {
    const struct ifinfomsg *m = NLMSG_DATA(h);
    printf(" link %d flags 0x%x change 0x%x", m->ifi_index, m->ifi_flags, m->ifi_change);
    int len = IFLA_PAYLOAD(h);
    for (const struct rtattr *a = IFLA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      const unsigned *u = RTA_DATA(a);
      if (a->rta_type == IFLA_OPERSTATE) printf(" operstate %u", *(const unsigned char *)u);
      if (a->rta_type == IFLA_CARRIER) printf(" carrier %u", *(const unsigned char *)u);
      if (a->rta_type == IFLA_TXQLEN) printf(" txqlen %u", *u);
      if (a->rta_type == IFLA_PROMISCUITY) printf(" promiscuity %u", *u);
      if (a->rta_type == IFLA_MTU) printf(" mtu %u", *u);
    }
  } else if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) {
    const struct ifaddrmsg *m = NLMSG_DATA(h);
    printf(" addr if %d", m->ifa_index);
    int len = IFA_PAYLOAD(h);
    for (const struct rtattr *a = IFA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len))
      if (a->rta_type == IFA_ADDRESS) print_addr(RTA_DATA(a), m->ifa_family);
    printf("/%d scope %d flags 0x%x", m->ifa_prefixlen, m->ifa_scope, m->ifa_flags);
  } else if (h->nlmsg_type == RTM_NEWROUTE || h->nlmsg_type == RTM_DELROUTE) {
    const struct rtmsg *m = NLMSG_DATA(h);
    printf(" route table %d type %d proto %d scope %d", m->rtm_table, m->rtm_type, m->rtm_protocol, m->rtm_scope);
    int len = RTM_PAYLOAD(h);
    int oif = 0;
    for (const struct rtattr *a = RTM_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      if (a->rta_type == RTA_DST) print_addr(RTA_DATA(a), m->rtm_family);
      if (a->rta_type == RTA_GATEWAY) {
        printf(" via");
        print_addr(RTA_DATA(a), m->rtm_family);
      }
      if (a->rta_type == RTA_OIF) oif = *(const int *)RTA_DATA(a);
    }
    printf("/%d oif %d", m->rtm_dst_len, oif);
  }
  printf("\n");
}

/* Prints what the RTNLGRP_* members got since the last call, in order. */
static void announced(const struct nlmsghdr *h) {
  printf("  announced type %d seq %s", h->nlmsg_type, h->nlmsg_seq ? "set" : "0");
  print_msg(h);
}

static void announcements(void) { rtnl_drain(mon, announced); }

/* A dump of `type` (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE), one line per entry. */
static void dump(const char *what, int type) {
  char body[64] = {0};
  size_t len = type == RTM_GETLINK ? sizeof(struct ifinfomsg) : type == RTM_GETADDR ? sizeof(struct ifaddrmsg)
                                                                                     : sizeof(struct rtmsg);
  long seq = rtnl_send(nl, type, NLM_F_DUMP, body, len);
  static char buf[65536];
  printf("%s:\n", what);
  for (int done = 0; !done && seq >= 0;) {
    long n = recv(nl, buf, sizeof buf, 0);
    if (n <= 0) break;
    for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
        done = 1;
        break;
      }
      printf(" ");
      print_msg(h);
    }
  }
}

static void sys_attr(const char *name) {
  char path[128], text[64] = "";
  snprintf(path, sizeof path, "/sys/class/net/lo/%s", name);
  int fd = open(path, O_RDONLY);
  long n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
  if (n < 0) printf(" %s %s", name, strerrorname_np(errno));
  else {
    text[n] = 0;
    text[strcspn(text, "\n")] = 0;
    printf(" %s %s", name, text);
  }
  if (fd >= 0) close(fd);
}

static int ioctl_sock;

/* SIOCGIFFLAGS and SIOCGIFTXQLEN, /sys and RTM_GETLINK of lo. */
static void show(const char *when) {
  struct ifreq r = {0};
  strcpy(r.ifr_name, "lo");
  int f = ioctl(ioctl_sock, SIOCGIFFLAGS, &r) < 0 ? -errno : r.ifr_flags;
  int q = ioctl(ioctl_sock, SIOCGIFTXQLEN, &r) < 0 ? -errno : r.ifr_qlen;
  printf("%s: SIOCGIFFLAGS 0x%x SIOCGIFTXQLEN %d, sys", when, f, q);
  sys_attr("flags");
  sys_attr("operstate");
  sys_attr("tx_queue_len");
  sys_attr("carrier"); /* EINVAL while the link is down */
  printf("\n");
  dump("  getlink", RTM_GETLINK);
}

static int set_flags(const char *what, short flags) {
  struct ifreq r = {0};
  strcpy(r.ifr_name, "lo");
  r.ifr_flags = flags;
  int rc = ioctl(ioctl_sock, SIOCSIFFLAGS, &r);
  printf("%s: %s\n", what, err(rc));
  return rc;
}

static void set_qlen(const char *what, const char *name, int qlen) {
  struct ifreq r = {0};
  strcpy(r.ifr_name, name);
  r.ifr_qlen = qlen;
  printf("%s: %s\n", what, err(ioctl(ioctl_sock, SIOCSIFTXQLEN, &r)));
}

static void net_admin(int on) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct d[2];
  syscall(SYS_capget, &h, d);
  if (on) d[0].effective |= 1u << CAP_NET_ADMIN;
  else d[0].effective &= ~(1u << CAP_NET_ADMIN);
  if (syscall(SYS_capset, &h, d) < 0) printf("capset: %s\n", strerrorname_np(errno));
}

/* A route in the main table through lo, added with RTM_NEWROUTE (`ip route add 10.7.0.0/16 dev lo`). */
static void add_route(void) {
  char body[128] = {0};
  struct rtmsg *m = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *m);
  m->rtm_family = AF_INET;
  m->rtm_dst_len = 16;
  m->rtm_table = RT_TABLE_MAIN;
  m->rtm_protocol = RTPROT_BOOT;
  m->rtm_scope = RT_SCOPE_LINK;
  m->rtm_type = RTN_UNICAST;
  unsigned char dst[4] = {10, 7, 0, 0};
  int oif = 1;
  rtnl_attr(body, &off, RTA_DST, dst, 4);
  rtnl_attr(body, &off, RTA_OIF, &oif, 4);
  rtnl_ask(nl, "route 10.7.0.0/16 dev lo", RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body, off,
           sizeof *m);
}

static struct sockaddr_in srv4;
static int udp4;

/* What sockets get while lo is down. */
static void traffic_down(int tc, int ts) {
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  printf("udp 127.0.0.1 sendto: %s", err(sendto(u, "x", 1, 0, (void *)&srv4, sizeof srv4)));
  usleep(20 * 1000);
  char b[100];
  printf(", received: %s\n", err(recv(udp4, b, sizeof b, MSG_DONTWAIT)));
  close(u);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback, .sin6_port = htons(9)};
  int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  printf("udp ::1 sendto: %s", err(sendto(u6, "x", 1, 0, (void *)&a6, sizeof a6)));
  printf(", connect: %s", err(connect(u6, (void *)&a6, sizeof a6)));
  int b6 = socket(AF_INET6, SOCK_DGRAM, 0);
  printf(", bind: %s\n", err(bind(b6, (void *)&a6, sizeof a6)));
  close(u6);
  close(b6);
  int t6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  printf("tcp ::1 connect: %s\n", err(connect(t6, (void *)&a6, sizeof a6)));
  close(t6);
  /* No IPv6 address is left to be a source: EADDRNOTAVAIL before any route is looked at. */
  inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
  u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  printf("udp 2001:db8::1 sendto: %s\n", err(sendto(u6, "x", 1, 0, (void *)&a6, sizeof a6)));
  close(u6);
  struct sockaddr_in off = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a070203), .sin_port = htons(9)};
  u = socket(AF_INET, SOCK_DGRAM, 0);
  printf("udp 10.7.2.3 (the route through lo, gone) sendto: %s\n", err(sendto(u, "x", 1, 0, (void *)&off, sizeof off)));
  close(u);
  printf("tcp established send: %s", err(send(tc, "hello", 5, 0)));
  usleep(300 * 1000);
  printf(", received: %s\n", err(recv(ts, b, sizeof b, MSG_DONTWAIT)));
  /* What lo dropped is counted in its transmit drops (/proc/net/dev's fourth transmit column). */
  FILE *dev = fopen("/proc/net/dev", "r");
  char line[512];
  unsigned long long f[16] = {0};
  while (dev && fgets(line, sizeof line, dev))
    if (strstr(line, "lo:"))
      sscanf(strchr(line, ':') + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2],
             &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11]);
  if (dev) fclose(dev);
  printf("lo tx dropped: %s\n", f[11] > 0 ? "some" : "none");
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  nl = rtnl_open();
  mon = rtnl_monitor();
  ioctl_sock = socket(AF_INET, SOCK_DGRAM, 0);
  if (nl < 0 || mon < 0 || ioctl_sock < 0) {
    printf("socket: %s\n", strerrorname_np(errno));
    return 1;
  }

  udp4 = socket(AF_INET, SOCK_DGRAM, 0);
  srv4 = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(udp4, (void *)&srv4, sizeof srv4);
  socklen_t l = sizeof srv4;
  getsockname(udp4, (void *)&srv4, &l);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(ls, (void *)&la, sizeof la);
  listen(ls, 8);
  l = sizeof la;
  getsockname(ls, (void *)&la, &l);
  int tc = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(tc, (void *)&la, sizeof la) < 0) printf("tcp connect: %s\n", strerrorname_np(errno));
  int ts = accept(ls, NULL, NULL);
  fcntl(tc, F_SETFL, O_NONBLOCK);
  fcntl(ts, F_SETFL, O_NONBLOCK);

  show("up");
  add_route();
  announcements();
  dump("routes", RTM_GETROUTE);

  net_admin(0);
  link_req("down without CAP_NET_ADMIN", RTM_NEWLINK, 1, 0, IFF_UP, -2);
  set_flags("SIOCSIFFLAGS without CAP_NET_ADMIN", IFF_LOOPBACK);
  set_qlen("SIOCSIFTXQLEN without CAP_NET_ADMIN", "lo", 5);
  net_admin(1);
  announcements();

  link_req("down", RTM_NEWLINK, 1, 0, IFF_UP, -2);
  announcements();
  link_req("down again", RTM_NEWLINK, 1, 0, IFF_UP, -2);
  announcements();
  show("down");
  dump("addresses", RTM_GETADDR);
  dump("routes", RTM_GETROUTE);
  traffic_down(tc, ts);
  int t4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  printf("tcp 127.0.0.1 connect: %s\n", err(connect(t4, (void *)&la, sizeof la)));

  link_req("promisc on", RTM_SETLINK, 1, IFF_PROMISC, IFF_PROMISC, -2);
  announcements();
  unsigned bits = IFF_ALLMULTI | IFF_NOARP | IFF_DYNAMIC | IFF_MASTER;
  link_req("allmulti noarp dynamic on, master (ignored)", RTM_SETLINK, 1, bits, bits, -2);
  announcements();
  show("flags on");
  link_req("all off, change 0 (every bit)", RTM_SETLINK, 1, IFF_LOOPBACK, 0, -2);
  announcements();
  link_req("txqueuelen 5", RTM_SETLINK, 1, 0, 0x0, 5);
  announcements();
  link_req("txqueuelen 5 again", RTM_SETLINK, 1, 0, 0x0, 5);
  announcements();
  link_req("txqueuelen 0xffffffff", RTM_NEWLINK, 0, 0, 0x0, 0xffffffffLL);
  announcements();
  show("txqueuelen 0xffffffff");
  set_qlen("SIOCSIFTXQLEN -1", "lo", -1);
  set_qlen("SIOCSIFTXQLEN nosuch", "nosuch", 7);
  set_qlen("SIOCSIFTXQLEN 0", "lo", 0);
  announcements();
  show("txqueuelen 0");
  set_qlen("SIOCSIFTXQLEN 1000", "lo", 1000);
  announcements();

  set_flags("SIOCSIFFLAGS up", IFF_UP | IFF_LOOPBACK);
  announcements();
  show("up again");
  dump("addresses", RTM_GETADDR);
  dump("routes", RTM_GETROUTE);
  struct pollfd p = {.fd = ts, .events = POLLIN};
  int pr = poll(&p, 1, 5000);
  char b[100];
  printf("tcp established after up: poll %d received %ld\n", pr, (long)recv(ts, b, sizeof b, MSG_DONTWAIT));
  p = (struct pollfd){.fd = t4, .events = POLLOUT};
  pr = poll(&p, 1, 5000);
  int e = 0;
  l = sizeof e;
  getsockopt(t4, SOL_SOCKET, SO_ERROR, &e, &l);
  printf("tcp connect begun while down: poll %d error %s\n", pr, e ? strerrorname_np(e) : "0");

  set_flags("SIOCSIFFLAGS down", IFF_LOOPBACK);
  announcements();
  link_req("setlink by name: up", RTM_SETLINK, 0, IFF_UP, IFF_UP, -2);
  announcements();
  show("up at the end");
  return 0;
}
