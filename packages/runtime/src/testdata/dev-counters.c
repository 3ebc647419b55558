/* Device counters of lo as Linux keeps them: each phase sends known traffic over loopback (UDP
 * datagrams, a TCP exchange, an ICMP echo, a UDP datagram to a closed port, an IPv6 datagram
 * larger than lo's MTU that leaves in fragments) and prints the change of lo's counters in
 * /proc/net/dev and in RTM_GETLINK's IFLA_STATS64 and IFLA_STATS, which must agree. */
#define _GNU_SOURCE
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/ip_icmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "sock-util.h"

struct counters {
  unsigned long long rx_bytes, rx_packets, rx_errs, rx_drop, rx_mcast;
  unsigned long long tx_bytes, tx_packets, tx_errs, tx_drop;
};

/* lo's line of /proc/net/dev. */
static int proc_dev(struct counters *c) {
  FILE *f = fopen("/proc/net/dev", "r");
  if (!f) return -1;
  char line[512];
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    char *name = line;
    while (*name == ' ') name++;
    if (colon - name != 2 || strncmp(name, "lo", 2) != 0) continue;
    unsigned long long fifo, frame, comp, txfifo, colls, carrier, txcomp;
    if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
               &c->rx_bytes, &c->rx_packets, &c->rx_errs, &c->rx_drop, &fifo, &frame, &comp, &c->rx_mcast,
               &c->tx_bytes, &c->tx_packets, &c->tx_errs, &c->tx_drop, &txfifo, &colls, &carrier,
               &txcomp) == 16)
      found = 0;
  }
  fclose(f);
  return found;
}

/* lo's IFLA_STATS64 and IFLA_STATS from RTM_GETLINK by index. */
static int rtnl_stats(struct counters *c64, struct counters *c32) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -1;
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req = {.h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1},
           .i = {.ifi_family = AF_UNSPEC, .ifi_index = 1}};
  if (send(fd, &req, sizeof req, 0) < 0) {
    close(fd);
    return -1;
  }
  static char buf[16384];
  long n = recv(fd, buf, sizeof buf, 0);
  close(fd);
  if (n < 0) return -1;
  struct nlmsghdr *h = (void *)buf;
  if (!NLMSG_OK(h, n) || h->nlmsg_type != RTM_NEWLINK) return -1;
  int got = 0;
  struct rtattr *a = IFLA_RTA(NLMSG_DATA(h));
  int len = IFLA_PAYLOAD(h);
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == IFLA_STATS64 && RTA_PAYLOAD(a) >= sizeof(struct rtnl_link_stats64)) {
      struct rtnl_link_stats64 s;
      memcpy(&s, RTA_DATA(a), sizeof s);
      *c64 = (struct counters){s.rx_bytes, s.rx_packets, s.rx_errors, s.rx_dropped, s.multicast,
                               s.tx_bytes, s.tx_packets, s.tx_errors, s.tx_dropped};
      got |= 1;
    } else if (a->rta_type == IFLA_STATS && RTA_PAYLOAD(a) >= sizeof(struct rtnl_link_stats)) {
      struct rtnl_link_stats s;
      memcpy(&s, RTA_DATA(a), sizeof s);
      *c32 = (struct counters){s.rx_bytes, s.rx_packets, s.rx_errors, s.rx_dropped, s.multicast,
                               s.tx_bytes, s.tx_packets, s.tx_errors, s.tx_dropped};
      got |= 2;
    }
  }
  return got == 3 ? 0 : -1;
}

static struct counters diff(struct counters a, struct counters b) {
  return (struct counters){b.rx_bytes - a.rx_bytes, b.rx_packets - a.rx_packets, b.rx_errs - a.rx_errs,
                           b.rx_drop - a.rx_drop,   b.rx_mcast - a.rx_mcast,     b.tx_bytes - a.tx_bytes,
                           b.tx_packets - a.tx_packets, b.tx_errs - a.tx_errs, b.tx_drop - a.tx_drop};
}

static int same(struct counters a, struct counters b) { return memcmp(&a, &b, sizeof a) == 0; }

static struct counters before_proc, before64, before32;

static void start(void) {
  if (proc_dev(&before_proc) < 0 || rtnl_stats(&before64, &before32) < 0) {
    printf("cannot read the counters\n");
    exit(1);
  }
}

/* Prints what changed since start(), once the traffic has settled. */
static void report(const char *what) {
  usleep(100 * 1000);
  struct counters p, s64, s32;
  if (proc_dev(&p) < 0 || rtnl_stats(&s64, &s32) < 0) {
    printf("%s: cannot read the counters\n", what);
    return;
  }
  struct counters d = diff(before_proc, p);
  printf("%s: rx %llu packets %llu bytes (errs %llu drop %llu mcast %llu), tx %llu packets %llu bytes "
         "(errs %llu drop %llu)\n",
         what, d.rx_packets, d.rx_bytes, d.rx_errs, d.rx_drop, d.rx_mcast, d.tx_packets, d.tx_bytes, d.tx_errs,
         d.tx_drop);
  printf("%s: IFLA_STATS64 %s /proc/net/dev, IFLA_STATS %s\n", what,
         same(diff(before64, s64), d) ? "agrees with" : "differs from",
         same(diff(before32, s32), d) ? "agrees" : "differs");
}

static void udp_datagrams(int family) {
  int a, b;
  char buf[2000];
  memset(buf, 'u', sizeof buf);
  udp_pair(family, &a, &b);
  start();
  int sizes[] = {1, 100, 1472, 2000};
  for (int i = 0; i < 4; i++) send(a, buf, sizes[i], 0);
  for (int i = 0; i < 4; i++) recv(b, buf, sizeof buf, 0);
  report(family == AF_INET ? "udp4 1+100+1472+2000" : "udp6 1+100+1472+2000");
  close(a);
  close(b);
}

/* A datagram larger than lo's MTU (65536): IPv6 fragments it (IPv4's largest fits). */
static void udp6_fragmented(void) {
  int a, b;
  static char buf[65527];
  memset(buf, 'f', sizeof buf);
  udp_pair(AF_INET6, &a, &b);
  start();
  long s = send(a, buf, sizeof buf, 0);
  long r = recv(b, buf, sizeof buf, 0);
  printf("udp6 65527: sent %s", res(s));
  printf(", received %s\n", res(r));
  report("udp6 fragmented");
  close(a);
  close(b);
}

static void udp_closed_port(void) {
  int a, b;
  udp_pair(AF_INET, &a, &b);
  close(b);
  start();
  send(a, "x", 1, 0);
  usleep(100 * 1000);
  char c;
  long r = recv(a, &c, 1, MSG_DONTWAIT);
  printf("udp4 to a closed port: recv %s\n", res(r));
  report("udp4 closed port");
  close(a);
}

static void ping(void) {
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (fd < 0) {
    printf("raw socket: %s\n", err());
    return;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  unsigned char pkt[64] = {ICMP_ECHO, 0, 0, 0, 0x12, 0x34, 0, 1};
  for (int i = 8; i < 64; i++) pkt[i] = i;
  uint32_t sum = 0;
  for (int i = 0; i < 64; i += 2) sum += pkt[i] << 8 | pkt[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  sum = ~sum & 0xffff;
  pkt[2] = sum >> 8;
  pkt[3] = sum & 0xff;
  start();
  sendto(fd, pkt, sizeof pkt, 0, (void *)&to, sizeof to);
  char buf[256];
  /* The raw socket sees the request and the reply. */
  recv(fd, buf, sizeof buf, 0);
  recv(fd, buf, sizeof buf, 0);
  report("ping 127.0.0.1");
  close(fd);
}

static void tcp_exchange(int family) {
  struct sockaddr_storage ss;
  socklen_t len = loopback(family, 0, &ss);
  int l = socket(family, SOCK_STREAM, 0);
  bind(l, (void *)&ss, len);
  listen(l, 1);
  getsockname(l, (void *)&ss, &len);
  static char buf[100000];
  memset(buf, 't', sizeof buf);
  start();
  int c = socket(family, SOCK_STREAM, 0);
  connect(c, (void *)&ss, len);
  int s = accept(l, 0, 0);
  report(family == AF_INET ? "tcp4 handshake" : "tcp6 handshake");
  start();
  send(c, buf, 1000, 0);
  long got = 0;
  while (got < 1000) got += recv(s, buf, sizeof buf, 0);
  report(family == AF_INET ? "tcp4 1000 bytes" : "tcp6 1000 bytes");
  start();
  send(s, buf, 3000, 0);
  got = 0;
  while (got < 3000) got += recv(c, buf, sizeof buf, 0);
  report(family == AF_INET ? "tcp4 3000 bytes back" : "tcp6 3000 bytes back");
  start();
  close(c);
  usleep(100 * 1000);
  close(s);
  report(family == AF_INET ? "tcp4 close" : "tcp6 close");
  close(l);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  start();
  report("idle");
  udp_datagrams(AF_INET);
  udp_datagrams(AF_INET6);
  udp6_fragmented();
  udp_closed_port();
  ping();
  tcp_exchange(AF_INET);
  tcp_exchange(AF_INET6);
  return 0;
}
