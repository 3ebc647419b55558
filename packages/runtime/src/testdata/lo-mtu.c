// The loopback device's MTU and what follows from it, against Linux (lo's MTU is 65536): the MTU
// as SIOCGIFMTU, /sys/class/net/lo/mtu and rtnetlink (ip link) show it; IP_MTU and IPV6_MTU on
// connected loopback UDP sockets (IPv4 caps a route's MTU at 65535); the MSS of loopback TCP
// connections (TCP_MAXSEG, tcpi_advmss, tcpi_snd_mss, tcpi_rcv_mss after a bulk transfer); the
// largest UDP datagram sent on lo over IPv4 and IPv6, with and without don't-fragment, and the
// errno one byte beyond; the largest echo requests on ping sockets. Run natively in a fresh network namespace and under tsvisor --network
// none: the output must be the same.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

static void ifmtu(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq r;
  memset(&r, 0, sizeof r);
  strcpy(r.ifr_name, "lo");
  if (ioctl(s, SIOCGIFMTU, &r) < 0)
    printf("SIOCGIFMTU lo: %s\n", err());
  else
    printf("SIOCGIFMTU lo: %d\n", r.ifr_mtu);
  close(s);

  char buf[32] = "";
  int fd = open("/sys/class/net/lo/mtu", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (n < 0)
    printf("/sys/class/net/lo/mtu: %s\n", err());
  else
    printf("/sys/class/net/lo/mtu: %s", buf);
  if (fd >= 0) close(fd);
}

// What `ip link show lo` reads: IFLA_MTU of RTM_GETLINK for lo's ifindex.
static void netlink_mtu(void) {
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = 1;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = (int)if_nametoindex("lo");
  if (send(s, &req, sizeof req, 0) < 0) {
    printf("RTM_GETLINK lo: %s\n", err());
    close(s);
    return;
  }
  static char buf[16384];
  ssize_t n = recv(s, buf, sizeof buf, 0);
  close(s);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  if (n < 0 || !NLMSG_OK(h, (size_t)n) || h->nlmsg_type != RTM_NEWLINK) {
    printf("RTM_GETLINK lo: no link\n");
    return;
  }
  struct ifinfomsg *ifi = NLMSG_DATA(h);
  int len = (int)IFLA_PAYLOAD(h);
  for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type == IFLA_MTU) {
      printf("RTM_GETLINK lo: IFLA_MTU %u\n", *(unsigned *)RTA_DATA(a));
      return;
    }
  printf("RTM_GETLINK lo: no IFLA_MTU\n");
}

static int path_mtu(int fd, int family) {
  int v = -1;
  socklen_t l = sizeof v;
  int r = family == AF_INET ? getsockopt(fd, IPPROTO_IP, IP_MTU, &v, &l)
                            : getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &v, &l);
  return r < 0 ? -errno : v;
}

static char big[70000];

// Whether a datagram of `len` bytes goes out on `u` (connected to `r`) and arrives whole.
static const char *udp_try(int u, int r, size_t len) {
  static char in[70000];
  if (send(u, big, len, 0) < 0) return err();
  ssize_t n = recv(r, in, sizeof in, MSG_DONTWAIT);
  if (n < 0) return err();
  return (size_t)n == len ? "ok" : "truncated";
}

static void udp(int family) {
  const char *k = family == AF_INET ? "udp4" : "udp6";
  struct sockaddr_storage ss;
  int r = socket(family, SOCK_DGRAM, 0);
  socklen_t sl = loopback(family, 0, &ss);
  if (bind(r, (struct sockaddr *)&ss, sl) < 0) {
    printf("%s bind: %s\n", k, err());
    return;
  }
  int rcvbuf = 1 << 20;
  setsockopt(r, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int u = socket(family, SOCK_DGRAM, 0);
  int m = path_mtu(u, family);
  printf("%s unconnected %s: %s\n", k, family == AF_INET ? "IP_MTU" : "IPV6_MTU",
         m < 0 ? strerrorname_np(-m) : "a value");
  loopback(family, port_of(r), &ss);
  if (connect(u, (struct sockaddr *)&ss, sl) < 0) {
    printf("%s connect: %s\n", k, err());
    return;
  }
  m = path_mtu(u, family);
  printf("%s connected %s: %d\n", k, family == AF_INET ? "IP_MTU" : "IPV6_MTU", m);
  // IPv4's length field caps a datagram at 65535 bytes with its 20-byte header; IPv6's payload
  // length at 65535 bytes after its 40-byte header. The UDP header takes 8 more.
  size_t top = family == AF_INET ? 65535 - 20 - 8 : 65535 - 8;
  for (int df = 0; df < 2; df++) {
    if (df) {
      int v = family == AF_INET ? IP_PMTUDISC_DO : IPV6_PMTUDISC_DO;
      int r2 = family == AF_INET ? setsockopt(u, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v)
                                 : setsockopt(u, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v);
      if (r2 < 0) printf("%s PMTUDISC_DO: %s\n", k, err());
    }
    const char *mode = df ? "pmtudisc do" : "default";
    // Search the largest size that goes through, then print it and the two sides of it.
    size_t lo = 0, hi = sizeof big;
    while (lo + 1 < hi) {
      size_t mid = (lo + hi) / 2;
      if (send(u, big, mid, 0) >= 0) {
        lo = mid;
        while (recv(r, big, 0, MSG_DONTWAIT | MSG_TRUNC) >= 0) {
        }
      } else {
        hi = mid;
      }
    }
    printf("%s %s: largest datagram %zu (%s), %zu: %s, %zu: %s\n", k, mode, lo,
           lo == top ? "the length field's limit" : "below it", lo, udp_try(u, r, lo), lo + 1,
           udp_try(u, r, lo + 1));
  }
  close(u);
  close(r);
}

// Before any data the send MSS is bounded by half the peer's window, not by the MTU: only the
// MSS we offer and the receive MSS estimate are shown then (`all` 0).
static void tcp_mss(int fd, const char *who, int all) {
  int v = -1;
  socklen_t l = sizeof v;
  getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, &l);
  struct tcp_info ti;
  l = sizeof ti;
  memset(&ti, 0, sizeof ti);
  getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l);
  if (all)
    printf(" %s maxseg %d advmss %u snd_mss %u rcv_mss %u pmtu %u;", who, v, ti.tcpi_advmss,
           ti.tcpi_snd_mss, ti.tcpi_rcv_mss, ti.tcpi_pmtu);
  else
    printf(" %s advmss %u rcv_mss %u pmtu %u;", who, ti.tcpi_advmss, ti.tcpi_rcv_mss, ti.tcpi_pmtu);
}

// Sends `n` bytes from `a` to `b` and reads them all.
static int pump(int a, int b, size_t n) {
  static char buf[1 << 16];
  size_t sent = 0, got = 0;
  int fl = fcntl(a, F_GETFL);
  fcntl(a, F_SETFL, fl | O_NONBLOCK);
  while (got < n) {
    if (sent < n) {
      size_t chunk = n - sent < sizeof buf ? n - sent : sizeof buf;
      ssize_t w = send(a, buf, chunk, 0);
      if (w > 0) sent += (size_t)w;
      else if (errno != EAGAIN) return -1;
    }
    ssize_t r = recv(b, buf, sizeof buf, sent < n ? MSG_DONTWAIT : 0);
    if (r > 0) got += (size_t)r;
    else if (r == 0 || errno != EAGAIN) return -1;
  }
  fcntl(a, F_SETFL, fl);
  return 0;
}

static void tcp(int family) {
  const char *k = family == AF_INET ? "tcp4" : "tcp6";
  struct sockaddr_storage ss;
  int l = socket(family, SOCK_STREAM, 0);
  socklen_t sl = loopback(family, 0, &ss);
  if (bind(l, (struct sockaddr *)&ss, sl) < 0 || listen(l, 4) < 0) {
    printf("%s listen: %s\n", k, err());
    return;
  }
  int c = socket(family, SOCK_STREAM, 0);
  loopback(family, port_of(l), &ss);
  if (connect(c, (struct sockaddr *)&ss, sl) < 0) {
    printf("%s connect: %s\n", k, err());
    return;
  }
  int s = accept(l, NULL, NULL);
  printf("%s connected:", k);
  tcp_mss(c, "client", 0);
  tcp_mss(s, "server", 0);
  printf("\n");
  if (pump(c, s, 1 << 20) < 0 || pump(s, c, 1 << 20) < 0) printf("%s transfer: %s\n", k, err());
  printf("%s after 1 MiB each way:", k);
  tcp_mss(c, "client", 1);
  tcp_mss(s, "server", 1);
  printf("\n");
  close(c);
  close(s);
  close(l);
}

// Echo requests on ping sockets: at most 0xffff bytes, and over IPv4 at most 65535 with the
// 20-byte IP header. (The program lets root's group open them, as ping_group_range allows.)
static void ping(int family) {
  const char *k = family == AF_INET ? "icmp4" : "icmp6";
  int s = socket(family, SOCK_DGRAM, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
  if (s < 0) {
    printf("%s socket: %s\n", k, err());
    return;
  }
  struct sockaddr_storage ss;
  socklen_t sl = loopback(family, 0, &ss);
  static const size_t sizes[] = {65515, 65516, 65535, 65536};
  printf("%s echo request", k);
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    memset(big, 0, sizeof big);
    big[0] = family == AF_INET ? 8 : (char)128;
    ssize_t r = sendto(s, big, sizes[i], 0, (struct sockaddr *)&ss, sl);
    printf(" %zu: %s", sizes[i], r < 0 ? err() : "ok");
  }
  printf("\n");
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  ifmtu();
  netlink_mtu();
  udp(AF_INET);
  udp(AF_INET6);
  tcp(AF_INET);
  tcp(AF_INET6);
  // A fresh namespace lets no group open ping sockets; tsvisor lets every group and has no such
  // file, so a failure here is not printed (socket() then shows it).
  int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (fd >= 0) {
    if (write(fd, "0 0", 3) != 3) printf("ping_group_range: %s\n", err());
    close(fd);
  }
  ping(AF_INET);
  ping(AF_INET6);
  return 0;
}
