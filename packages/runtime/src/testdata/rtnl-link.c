/* RTM_NEWLINK and RTM_SETLINK on lo (`ip link set lo mtu N`): finding the link by index or name,
 * the errors of a missing link, an exclusive create, a replace, an MTU below the device's
 * minimum and a missing CAP_NET_ADMIN; the RTM_NEWLINK announcements to RTNLGRP_LINK (one per
 * real change, none for a request that changes nothing); and what a new MTU does: RTM_GETLINK
 * and SIOCGIFMTU show it, connected sockets' IP_MTU and IPV6_MTU follow, larger UDP
 * datagrams are fragmented (EMSGSIZE with IP_PMTUDISC_DO), new TCP connections get a smaller
 * MSS and an existing one keeps working. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "rtnl-util.h"

static int nl, mon;

/* An RTM_NEWLINK or RTM_SETLINK: ifindex `index`, IFLA_IFNAME `name` (NULL: none), ifi_flags and
 * ifi_change, IFLA_MTU `mtu` (0: none; -1 sent as 0xffffffff). */
static void link_req(const char *what, int type, int flags, int index, const char *name, unsigned ifi_flags,
                     unsigned ifi_change, long long mtu) {
  char body[256] = {0};
  struct ifinfomsg *m = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *m);
  m->ifi_family = AF_UNSPEC;
  m->ifi_index = index;
  m->ifi_flags = ifi_flags;
  m->ifi_change = ifi_change;
  if (name) rtnl_attr(body, &off, IFLA_IFNAME, name, strlen(name) + 1);
  if (mtu) {
    unsigned v = (unsigned)mtu;
    rtnl_attr(body, &off, IFLA_MTU, &v, 4);
  }
  rtnl_ask(nl, what, type, NLM_F_ACK | flags, body, off, sizeof *m);
}

static void set_mtu(const char *what, int mtu) { link_req(what, RTM_NEWLINK, 0, 1, NULL, 0, 0, mtu); }

/* Prints what the RTNLGRP_* members got since the last call: each message's header, its
 * ifinfomsg and the attributes that say what changed. */
static void announced(const struct nlmsghdr *h) {
  printf("  announced type %d flags 0x%x seq %s pid %s", h->nlmsg_type, h->nlmsg_flags, h->nlmsg_seq ? "set" : "0",
         h->nlmsg_pid ? "set" : "0");
  if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) {
    printf("\n");
    return;
  }
  const struct ifinfomsg *m = NLMSG_DATA(h);
  printf(" ifindex %d flags 0x%x change 0x%x", m->ifi_index, m->ifi_flags, m->ifi_change);
  int len = IFLA_PAYLOAD(h);
  for (const struct rtattr *a = IFLA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_IFNAME) printf(" name %s", (const char *)RTA_DATA(a));
    if (a->rta_type == IFLA_MTU) printf(" mtu %u", *(const unsigned *)RTA_DATA(a));
    if (a->rta_type == IFLA_OPERSTATE) printf(" operstate %u", *(const unsigned char *)RTA_DATA(a));
  }
  printf("\n");
}

static void announcements(void) { rtnl_drain(mon, announced); }

/* lo's MTU as RTM_GETLINK and SIOCGIFMTU give it (not /sys: natively, the test's sysfs shows the
 * host's network namespace). */
static void show_mtu(void) {
  char body[64] = {0};
  struct ifinfomsg *m = (void *)body;
  m->ifi_index = 1;
  long seq = rtnl_send(nl, RTM_GETLINK, 0, body, sizeof *m);
  static char buf[65536];
  unsigned mtu = 0;
  long n = seq < 0 ? -1 : recv(nl, buf, sizeof buf, 0);
  for (struct nlmsghdr *h = (void *)buf; n > 0 && NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
    if (h->nlmsg_type != RTM_NEWLINK) continue;
    int len = IFLA_PAYLOAD(h);
    for (const struct rtattr *a = IFLA_RTA((struct ifinfomsg *)NLMSG_DATA(h)); RTA_OK(a, len); a = RTA_NEXT(a, len))
      if (a->rta_type == IFLA_MTU) mtu = *(const unsigned *)RTA_DATA(a);
  }
  struct ifreq r = {0};
  strcpy(r.ifr_name, "lo");
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  int io = ioctl(s, SIOCGIFMTU, &r);
  close(s);
  printf("lo mtu: getlink %u, SIOCGIFMTU %d\n", mtu, io < 0 ? -errno : r.ifr_mtu);
}

static void net_admin(int on) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct d[2];
  syscall(SYS_capget, &h, d);
  if (on) d[0].effective |= 1u << CAP_NET_ADMIN;
  else d[0].effective &= ~(1u << CAP_NET_ADMIN);
  if (syscall(SYS_capset, &h, d) < 0) printf("capset: %s\n", strerrorname_np(errno));
}

static int udp_server4, udp_server6;
static struct sockaddr_in srv4;
static struct sockaddr_in6 srv6;

/* IP_MTU and IPV6_MTU of connected UDP sockets; a 3000-byte datagram, then the same with
 * IP_PMTUDISC_DO. */
static void udp_paths(void) {
  int c = socket(AF_INET, SOCK_DGRAM, 0), c6 = socket(AF_INET6, SOCK_DGRAM, 0);
  connect(c, (void *)&srv4, sizeof srv4);
  connect(c6, (void *)&srv6, sizeof srv6);
  int mtu = 0, mtu6 = 0;
  socklen_t l = sizeof mtu;
  getsockopt(c, IPPROTO_IP, IP_MTU, &mtu, &l);
  l = sizeof mtu6;
  getsockopt(c6, IPPROTO_IPV6, IPV6_MTU, &mtu6, &l);
  static char big[3000];
  long sent = send(c, big, sizeof big, 0);
  long sent6 = send(c6, big, sizeof big, 0);
  usleep(20 * 1000);
  long got = recv(udp_server4, big, sizeof big, MSG_DONTWAIT);
  long got6 = recv(udp_server6, big, sizeof big, MSG_DONTWAIT);
  int pmtu = IP_PMTUDISC_DO;
  setsockopt(c, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
  setsockopt(c6, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
  long df = send(c, big, sizeof big, 0);
  int df_errno = errno;
  long df6 = send(c6, big, sizeof big, 0);
  int df6_errno = errno;
  printf("udp: IP_MTU %d IPV6_MTU %d, 3000 bytes sent %ld/%ld received %ld/%ld, with DF %s/%s\n", mtu, mtu6, sent,
         sent6, got, got6, df < 0 ? strerrorname_np(df_errno) : "sent", df6 < 0 ? strerrorname_np(df6_errno) : "sent");
  close(c);
  close(c6);
}

/* A TCP connection to a listener on 127.0.0.1: TCP_MAXSEG of both ends. */
static void tcp_pair(int ls, int *client, int *server) {
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  getsockname(ls, (void *)&a, &al);
  *client = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(*client, (void *)&a, sizeof a) < 0) printf("tcp connect: %s\n", strerrorname_np(errno));
  *server = accept(ls, NULL, NULL);
}

static void tcp_mss(const char *what, int c, int s) {
  int mc = 0, ms = 0;
  socklen_t l = sizeof mc;
  getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mc, &l);
  l = sizeof ms;
  getsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &ms, &l);
  printf("tcp %s: TCP_MAXSEG %d/%d\n", what, mc, ms);
}

/* 200000 bytes from `c` to `s` (non-blocking both ways, so a stall shows as a short count). */
static void tcp_transfer(const char *what, int c, int s) {
  static char buf[200000];
  long sent = 0, got = 0;
  fcntl(c, F_SETFL, O_NONBLOCK);
  fcntl(s, F_SETFL, O_NONBLOCK);
  for (int i = 0; i < 2000 && got < (long)sizeof buf; i++) {
    if (sent < (long)sizeof buf) {
      long n = send(c, buf, sizeof buf - sent, 0);
      if (n > 0) sent += n;
    }
    long n = recv(s, buf, sizeof buf, 0);
    if (n > 0) got += n;
    else usleep(1000);
  }
  printf("tcp %s: sent %ld received %ld\n", what, sent, got);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  nl = rtnl_open();
  mon = rtnl_monitor();
  if (nl < 0 || mon < 0) {
    printf("socket: %s\n", strerrorname_np(errno));
    return 1;
  }

  udp_server4 = socket(AF_INET, SOCK_DGRAM, 0);
  udp_server6 = socket(AF_INET6, SOCK_DGRAM, 0);
  srv4 = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  srv6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
  bind(udp_server4, (void *)&srv4, sizeof srv4);
  bind(udp_server6, (void *)&srv6, sizeof srv6);
  socklen_t l = sizeof srv4;
  getsockname(udp_server4, (void *)&srv4, &l);
  l = sizeof srv6;
  getsockname(udp_server6, (void *)&srv6, &l);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(ls, (void *)&la, sizeof la);
  listen(ls, 8);

  show_mtu();
  udp_paths();
  int c1, s1;
  /* (TCP_MAXSEG at lo's 65536 is left out: Linux bounds it by half the peer's largest window,
   * which tsvisor's TCP does not.) */
  tcp_pair(ls, &c1, &s1);

  link_req("ifindex 99", RTM_NEWLINK, 0, 99, NULL, 0, 0, 1400);
  link_req("name nosuch", RTM_NEWLINK, 0, 0, "nosuch", 0, 0, 1400);
  link_req("setlink without a link", RTM_SETLINK, 0, 0, NULL, 0, 0, 1400);
  link_req("newlink without a link", RTM_NEWLINK, 0, 0, NULL, 0, 0, 1400);
  link_req("newlink lo excl", RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 1, NULL, 0, 0, 1400);
  link_req("newlink lo replace", RTM_NEWLINK, NLM_F_REPLACE, 1, NULL, 0, 0, 1400);
  set_mtu("mtu -1", -1);
  net_admin(0);
  set_mtu("mtu 1400 without CAP_NET_ADMIN", 1400);
  net_admin(1);
  announcements();
  show_mtu();

  set_mtu("mtu 1400", 1400);
  announcements();
  set_mtu("mtu 1400 again", 1400);
  link_req("lo up (already)", RTM_NEWLINK, 0, 1, NULL, IFF_UP, IFF_UP, 0);
  announcements();
  show_mtu();
  udp_paths();
  tcp_transfer("opened before", c1, s1);
  int c2, s2;
  tcp_pair(ls, &c2, &s2);
  tcp_mss("opened after", c2, s2);
  tcp_transfer("opened after", c2, s2);

  link_req("setlink by name: mtu 1280", RTM_SETLINK, 0, 0, "lo", 0, 0, 1280);
  announcements();
  show_mtu();
  udp_paths();

  set_mtu("mtu 65536", 65536);
  announcements();
  show_mtu();
  udp_paths();
  int c3, s3;
  tcp_pair(ls, &c3, &s3);
  tcp_transfer("opened at 65536", c3, s3);
  return 0;
}
