/* net.ipv6 sysctls on loopback: conf/<dev>/hop_limit is the hop limit of sockets that leave
 * IPV6_UNICAST_HOPS unset (getsockopt shows conf/all's until the socket has a route; IPv4-mapped
 * traffic takes IP_TTL and ip_default_ttl instead), of UDP datagrams and TCP segments alike
 * (seen by IPV6_RECVHOPLIMIT, TCP's on a raw socket), except a listener's SYN-ACKs, SYN cookies'
 * too, which take the listener's own (and its IPV6_TCLASS) of their time, a retransmission's
 * too (see listener_synacks in sysctl-util.h), and TIME_WAIT's answers, which never do; conf/lo/mtu is
 * the IPv6 MTU of lo (IPV6_MTU, IPV6_DONTFRAG's limit, TCP's MSS; IPv4 keeps the link's) until
 * a new link MTU sets it again, conf/lo/disable_ipv6 takes ::1 away and gives it back,
 * icmp/echo_ignore_all silences echo replies, icmp/echo_ignore_multicast keeps a byte (lo
 * answers no group's echo either way), and route/mtu_expires takes negative values. Run in a
 * fresh network namespace (lo up) and under tsvisor, the output must be the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sysctl-util.h"

static int opt(int s, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  return getsockopt(s, level, name, &v, &len) == 0 ? v : -errno;
}

static struct sockaddr_in6 loopback6(void) {
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  return a;
}

/* The hop limit a datagram from `s` arrives with at a fresh receiver on ::1 (-1: none came). */
static int arriving_hops(int s) {
  struct sockaddr_in6 a;
  int r = hoplimit_receiver(&a);
  sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
  return recv_int_cmsg(r, IPPROTO_IPV6, IPV6_HOPLIMIT);
}

/* A UDP socket connected to a fresh receiver on ::1 (closed by the caller, with `*r`). */
static int connected_udp(int *r) {
  struct sockaddr_in6 a;
  *r = hoplimit_receiver(&a);
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  connect(s, (struct sockaddr *)&a, sizeof a);
  return s;
}

/* A TCP connection over ::1: the client's fd (the listener and the server's end closed). */
static int tcp_client(void) {
  int l = socket(AF_INET6, SOCK_STREAM, 0), c = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a = loopback6();
  socklen_t alen = sizeof a;
  bind(l, (struct sockaddr *)&a, sizeof a);
  getsockname(l, (struct sockaddr *)&a, &alen);
  listen(l, 1);
  connect(c, (struct sockaddr *)&a, sizeof a);
  int s = accept(l, NULL, NULL);
  close(s);
  close(l);
  return c;
}

/* printf's arguments are evaluated in no set order: each step prints before the next runs. */
#define STEP(...) printf(__VA_ARGS__)

static void hop_limit(void) {
  STEP("hop_limit all %s", show("ipv6/conf/all/hop_limit"));
  STEP(" default %s", show("ipv6/conf/default/hop_limit"));
  STEP(" lo %s\n", show("ipv6/conf/lo/hop_limit"));
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  STEP("udp6 IPV6_UNICAST_HOPS %d", opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  STEP(", arrives %d\n", arriving_hops(s));
  STEP("write lo 0: %s", sysctl("ipv6/conf/lo/hop_limit", "0"));
  STEP(", 256: %s", sysctl("ipv6/conf/lo/hop_limit", "256"));
  STEP(", -1: %s", sysctl("ipv6/conf/lo/hop_limit", "-1"));
  STEP(", 33: %s", sysctl("ipv6/conf/lo/hop_limit", "33"));
  STEP(", reads %s\n", show("ipv6/conf/lo/hop_limit"));
  int r, c = connected_udp(&r), t = tcp_client();
  STEP("same udp6: IPV6_UNICAST_HOPS %d", opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  STEP(", arrives %d", arriving_hops(s));
  STEP("; connected udp6 %d", opt(c, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  STEP("; tcp6 %d\n", opt(t, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  STEP("write all 40: %s", sysctl("ipv6/conf/all/hop_limit", "40"));
  STEP(": udp6 %d", opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  STEP(", arrives %d", arriving_hops(s));
  STEP("; connected udp6 %d", opt(c, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  STEP("; default 200: %s", sysctl("ipv6/conf/default/hop_limit", "200"));
  STEP(": udp6 %d", opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  STEP(", arrives %d\n", arriving_hops(s));
  int v = 17, minus = -1;
  STEP("IPV6_UNICAST_HOPS 17: %s", res(setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v)));
  STEP(" -> %d", opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  STEP(", arrives %d", arriving_hops(s));
  STEP("; -1: %s", res(setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &minus, sizeof minus)));
  STEP(" -> %d", opt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
  STEP(", arrives %d\n", arriving_hops(s));
  sysctl("ipv6/conf/lo/hop_limit", "64");
  sysctl("ipv6/conf/all/hop_limit", "64");
  close(s);
  close(c);
  close(r);
  close(t);
}

/* The TCP segments over ::1 the raw socket `raw6` took in at the last take(). */
static struct segment segs[256];
static int nsegs, raw6;

static void take(void) {
  nsegs = capture_segments(raw6, AF_INET6, segs, 256);
}

/* The hop limits of the segments taken from `port` whose flags include `flags`, as " 33 64". */
static const char *from(int port, int flags) {
  return segment_hops(segs, nsegs, port, flags);
}

static int port6(int s) {
  struct sockaddr_in6 a;
  socklen_t len = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &len);
  return ntohs(a.sin6_port);
}

/* A TCP socket with TCP_NODELAY connecting to port `port` of ::1. */
static int tcp_connect(int port) {
  int c = socket(AF_INET6, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in6 a = loopback6();
  a.sin6_port = htons(port);
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  connect(c, (struct sockaddr *)&a, sizeof a);
  return c;
}

/* A byte from `c` to `s` and one back. */
static void exchange(int c, int s) {
  char b;
  send(c, "x", 1, 0);
  recv(s, &b, 1, 0);
  send(s, "y", 1, 0);
  recv(c, &b, 1, 0);
}

static void set_hops(int s, int v) {
  setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v);
}

/* TcpExt counter `name` of /proc/net/netstat (-1: not found). */
static long tcpext(const char *name) {
  FILE *f = fopen("/proc/net/netstat", "r");
  char names[4096], values[4096];
  long v = -1;
  while (f && fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
    if (strncmp(names, "TcpExt:", 7) != 0) continue;
    char *np, *vp, *n = strtok_r(names, " \n", &np), *val = strtok_r(values, " \n", &vp);
    for (; n && val; n = strtok_r(NULL, " \n", &np), val = strtok_r(NULL, " \n", &vp))
      if (strcmp(n, name) == 0) v = atol(val);
  }
  if (f) fclose(f);
  return v;
}

/* TCP over ::1, as a raw socket sees it: a connection's segments take lo's hop_limit (not all's
 * or default's) at each segment unless IPV6_UNICAST_HOPS is set; a listener's SYN-ACK, a SYN
 * cookie's too, takes the listener's own (tcp_v6_send_synack); a connection still held by the
 * application acknowledges the FIN that ends it with its own, and answers from TIME_WAIT with
 * lo's hop_limit, also after a later IPV6_UNICAST_HOPS (tcp_v6_send_response's control socket). */
static void tcp_hops(void) {
  int one = 1;
  raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_TCP);
  setsockopt(raw6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
  setsockopt(raw6, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
  int l = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a = loopback6();
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 8);
  int lport = port6(l), c = tcp_connect(lport), s = accept(l, NULL, NULL), cport = port6(c);
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  take();
  STEP("tcp6: SYN%s", from(cport, TH_SYN));
  STEP(", SYN-ACK%s", from(lport, TH_SYN | TH_ACK));
  STEP("; write lo 33: %s", sysctl("ipv6/conf/lo/hop_limit", "33"));
  exchange(c, s);
  take();
  STEP(": client%s", from(cport, 0));
  STEP(", server%s", from(lport, 0));
  STEP("; all 40: %s", sysctl("ipv6/conf/all/hop_limit", "40"));
  STEP(", default 50: %s", sysctl("ipv6/conf/default/hop_limit", "50"));
  exchange(c, s);
  take();
  STEP(": client%s", from(cport, 0));
  STEP(", server%s\n", from(lport, 0));
  set_hops(c, 17);
  set_hops(s, 18);
  exchange(c, s);
  take();
  STEP("IPV6_UNICAST_HOPS client 17, server 18: client%s", from(cport, 0));
  STEP(", server%s", from(lport, 0));
  set_hops(c, -1);
  exchange(c, s);
  take();
  STEP("; client -1: client%s\n", from(cport, 0));

  set_hops(l, 21);
  int c2 = tcp_connect(lport), s2 = accept(l, NULL, NULL);
  take();
  STEP("listener IPV6_UNICAST_HOPS 21: SYN-ACK%s", from(lport, TH_SYN | TH_ACK));
  long cookies = tcpext("SyncookiesSent");
  char syncookies[16];
  snprintf(syncookies, sizeof syncookies, "%s", show("ipv4/tcp_syncookies"));
  STEP("; tcp_syncookies 2: %s", sysctl("ipv4/tcp_syncookies", "2"));
  int c3 = tcp_connect(lport), s3 = accept(l, NULL, NULL);
  take();
  STEP(": SYN-ACK%s", from(lport, TH_SYN | TH_ACK));
  exchange(c3, s3);
  take();
  STEP(", its connection%s", from(lport, 0));
  set_hops(l, -1);
  int c4 = tcp_connect(lport), s4 = accept(l, NULL, NULL);
  take();
  STEP("; listener -1: SYN-ACK%s", from(lport, TH_SYN | TH_ACK));
  STEP("; cookies sent %ld\n", tcpext("SyncookiesSent") - cookies);
  sysctl("ipv4/tcp_syncookies", syncookies);

  /* The server ends first and keeps its socket (hop limit 18): it waits out TIME_WAIT. */
  char b;
  shutdown(s, SHUT_WR);
  recv(c, &b, 1, 0);
  close(c);
  take();
  STEP("server shuts down: FIN%s", from(lport, TH_FIN));
  STEP(", ACKs%s", from(lport, TH_ACK));
  set_hops(s, 7);
  close(l);
  /* With no listener, a SYN for the TIME_WAIT connection is answered with an ACK. */
  int c5 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(c5, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  a.sin6_port = htons(cport);
  bind(c5, (struct sockaddr *)&a, sizeof a);
  a.sin6_port = htons(lport);
  connect(c5, (struct sockaddr *)&a, sizeof a);
  take();
  STEP("; IPV6_UNICAST_HOPS 7, a SYN to TIME_WAIT: ACK%s\n", from(lport, TH_ACK));
  sysctl("ipv6/conf/lo/hop_limit", "64");
  sysctl("ipv6/conf/all/hop_limit", "64");
  sysctl("ipv6/conf/default/hop_limit", "64");
  close(c5);
  close(s);
  close(c2);
  close(s2);
  close(c3);
  close(s3);
  close(c4);
  close(s4);
  listener_synacks(AF_INET6, raw6);
  close(raw6);
}

/* `ip link set lo mtu <mtu>` over rtnetlink (RTM_NEWLINK with IFLA_MTU): 0 or the errno's name. */
static const char *set_lo_mtu(unsigned mtu) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
    struct rtattr a;
    unsigned mtu;
  } req = {
      .h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_NEWLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK},
      .i = {.ifi_family = AF_UNSPEC, .ifi_index = (int)if_nametoindex("lo")},
      .a = {.rta_len = RTA_LENGTH(sizeof mtu), .rta_type = IFLA_MTU},
      .mtu = mtu,
  };
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  char buf[256];
  int err = -1;
  if (send(s, &req, sizeof req, 0) == sizeof req && recv(s, buf, sizeof buf, 0) > 0) {
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (h->nlmsg_type == NLMSG_ERROR) err = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
  }
  close(s);
  errno = err;
  return err == 0 ? "0" : err > 0 ? strerrorname_np(err) : "?";
}

/* The TTL a datagram from AF_INET6 socket `s` to ::ffff:127.0.0.1 arrives with (-1: none came). */
static int arriving_ttl_mapped(int s) {
  struct sockaddr_in a;
  int r = ttl_receiver(&a);
  struct sockaddr_in6 m = {.sin6_family = AF_INET6, .sin6_port = a.sin_port};
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
  sendto(s, "x", 1, 0, (struct sockaddr *)&m, sizeof m);
  return recv_int_cmsg(r, IPPROTO_IP, IP_TTL);
}

/* An AF_INET6 socket's IPv4 traffic takes IP_TTL and ip_default_ttl, not the IPv6 hop limits. */
static void mapped(void) {
  int s = socket(AF_INET6, SOCK_DGRAM, 0), v = 17, ttl = 20;
  STEP("udp6 to ::ffff:127.0.0.1 arrives %d", arriving_ttl_mapped(s));
  sysctl("ipv4/ip_default_ttl", "100");
  sysctl("ipv6/conf/lo/hop_limit", "33");
  STEP("; ip_default_ttl 100, lo hop_limit 33: %d", arriving_ttl_mapped(s));
  setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v);
  STEP("; IPV6_UNICAST_HOPS 17: %d", arriving_ttl_mapped(s));
  setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  STEP("; IP_TTL 20: %d\n", arriving_ttl_mapped(s));
  sysctl("ipv4/ip_default_ttl", "64");
  sysctl("ipv6/conf/lo/hop_limit", "64");
  close(s);
}

static void mtu(void) {
  STEP("mtu all %s", show("ipv6/conf/all/mtu"));
  STEP(" default %s", show("ipv6/conf/default/mtu"));
  STEP(" lo %s\n", show("ipv6/conf/lo/mtu"));
  STEP("write lo 1279: %s", sysctl("ipv6/conf/lo/mtu", "1279"));
  STEP(", 65537: %s", sysctl("ipv6/conf/lo/mtu", "65537"));
  STEP(", 1400: %s", sysctl("ipv6/conf/lo/mtu", "1400"));
  STEP(", reads %s\n", show("ipv6/conf/lo/mtu"));
  int r, c = connected_udp(&r), one = 1, zero = 0, t = tcp_client();
  STEP("udp6 IPV6_MTU %d", opt(c, IPPROTO_IPV6, IPV6_MTU));
  static char big[2000];
  setsockopt(c, IPPROTO_IPV6, IPV6_DONTFRAG, &one, sizeof one);
  STEP(", 1353 bytes DONTFRAG: %s", send(c, big, 1353, 0) == 1353 ? "sent" : strerrorname_np(errno));
  STEP(", 1352: %s", send(c, big, 1352, 0) == 1352 ? "sent" : strerrorname_np(errno));
  setsockopt(c, IPPROTO_IPV6, IPV6_DONTFRAG, &zero, sizeof zero);
  send(c, big, sizeof big, 0);
  struct pollfd p = {r, POLLIN, 0};
  recv(r, big, sizeof big, 0);
  ssize_t n = poll(&p, 1, 1000) == 1 ? recv(r, big, sizeof big, 0) : -1;
  STEP(", 2000 fragmented arrives %zd", n);
  STEP("; tcp6 TCP_MAXSEG %d\n", opt(t, IPPROTO_TCP, TCP_MAXSEG));
  int u4 = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  connect(u4, (struct sockaddr *)&a4, sizeof a4);
  STEP("udp IP_MTU %d\n", opt(u4, IPPROTO_IP, IP_MTU));
  STEP("write all 1279: %s", sysctl("ipv6/conf/all/mtu", "1279"));
  STEP(", 70000: %s", sysctl("ipv6/conf/all/mtu", "70000"));
  STEP(", reads %s", show("ipv6/conf/all/mtu"));
  STEP("; default 1279: %s", sysctl("ipv6/conf/default/mtu", "1279"));
  STEP(", 9000: %s", sysctl("ipv6/conf/default/mtu", "9000"));
  STEP(", reads %s", show("ipv6/conf/default/mtu"));
  STEP("; lo still %s\n", show("ipv6/conf/lo/mtu"));
  STEP("lo link mtu 9000: %s", set_lo_mtu(9000));
  STEP(": lo %s", show("ipv6/conf/lo/mtu"));
  STEP("; write lo 9001: %s", sysctl("ipv6/conf/lo/mtu", "9001"));
  STEP(", 1500: %s", sysctl("ipv6/conf/lo/mtu", "1500"));
  STEP("; link mtu 65536: %s", set_lo_mtu(65536));
  STEP(": lo %s\n", show("ipv6/conf/lo/mtu"));
  close(u4);
  close(c);
  close(r);
  close(t);
}

/* bind(2) of a UDP socket to ::1: 0 or the errno's name. */
static const char *bind_loopback6(void) {
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 a = loopback6();
  const char *r = res(bind(s, (struct sockaddr *)&a, sizeof a));
  close(s);
  return r;
}

/* sendto(2) of a byte to ::1 port 9 from an unbound UDP socket: 0 or the errno's name. */
static const char *send_loopback6(void) {
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 a = loopback6();
  a.sin6_port = htons(9);
  const char *r = sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a) == 1 ? "0" : strerrorname_np(errno);
  close(s);
  return r;
}

/* The lines of /proc/net/if_inet6 for lo. */
static int lo_addresses(void) {
  FILE *f = fopen("/proc/net/if_inet6", "r");
  char line[256];
  int n = 0;
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, " lo\n")) n++;
  if (f) fclose(f);
  return n;
}

static void disable_ipv6(void) {
  STEP("disable_ipv6 all %s", show("ipv6/conf/all/disable_ipv6"));
  STEP(" default %s", show("ipv6/conf/default/disable_ipv6"));
  STEP(" lo %s", show("ipv6/conf/lo/disable_ipv6"));
  STEP(": lo addresses %d", lo_addresses());
  STEP(", bind ::1 %s\n", bind_loopback6());
  STEP("write lo x: %s", sysctl("ipv6/conf/lo/disable_ipv6", "x"));
  STEP(", 1: %s", sysctl("ipv6/conf/lo/disable_ipv6", "1"));
  STEP(": lo addresses %d", lo_addresses());
  STEP(", bind ::1 %s", bind_loopback6());
  STEP(", send %s\n", send_loopback6());
  STEP("write lo 5: %s", sysctl("ipv6/conf/lo/disable_ipv6", "5"));
  STEP(", reads %s", show("ipv6/conf/lo/disable_ipv6"));
  STEP("; 0: %s", sysctl("ipv6/conf/lo/disable_ipv6", "0"));
  STEP(": lo addresses %d", lo_addresses());
  STEP(", bind ::1 %s", bind_loopback6());
  STEP(", send %s\n", send_loopback6());
  STEP("write all 1: %s", sysctl("ipv6/conf/all/disable_ipv6", "1"));
  STEP(": lo %s", show("ipv6/conf/lo/disable_ipv6"));
  STEP(" default %s", show("ipv6/conf/default/disable_ipv6"));
  STEP(", lo addresses %d", lo_addresses());
  STEP("; all 0: %s", sysctl("ipv6/conf/all/disable_ipv6", "0"));
  STEP(": lo %s", show("ipv6/conf/lo/disable_ipv6"));
  STEP(" default %s", show("ipv6/conf/default/disable_ipv6"));
  STEP(", lo addresses %d\n", lo_addresses());
  STEP("write default 1: %s", sysctl("ipv6/conf/default/disable_ipv6", "1"));
  STEP(": lo %s", show("ipv6/conf/lo/disable_ipv6"));
  STEP(", lo addresses %d\n", lo_addresses());
  sysctl("ipv6/conf/default/disable_ipv6", "0");
}

/* Whether an echo request from a ping socket to ::1 gets a reply within 300 ms. */
static const char *echo(void) {
  int s = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
  if (s < 0) return strerrorname_np(errno);
  struct sockaddr_in6 a = loopback6();
  struct icmp6_hdr req = {.icmp6_type = ICMP6_ECHO_REQUEST};
  sendto(s, &req, sizeof req, 0, (struct sockaddr *)&a, sizeof a);
  struct pollfd p = {s, POLLIN, 0};
  const char *r = poll(&p, 1, 300) == 1 ? "reply" : "none";
  close(s);
  return r;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  hop_limit();
  tcp_hops();
  mapped();
  mtu();
  disable_ipv6();
  STEP("ping_group_range: %s\n", sysctl("ipv4/ping_group_range", "0 0"));
  STEP("icmp/echo_ignore_all %s", show("ipv6/icmp/echo_ignore_all"));
  STEP(": ::1 %s\n", echo());
  STEP("write 2: %s", sysctl("ipv6/icmp/echo_ignore_all", "2"));
  STEP(", -1: %s", sysctl("ipv6/icmp/echo_ignore_all", "-1"));
  STEP(", 1: %s", sysctl("ipv6/icmp/echo_ignore_all", "1"));
  STEP(": ::1 %s", echo());
  STEP("; 0: %s", sysctl("ipv6/icmp/echo_ignore_all", "0"));
  STEP(": ::1 %s\n", echo());
  STEP("icmp/echo_ignore_multicast %s", show("ipv6/icmp/echo_ignore_multicast"));
  STEP("; write 256: %s", sysctl("ipv6/icmp/echo_ignore_multicast", "256"));
  STEP(", 1: %s", sysctl("ipv6/icmp/echo_ignore_multicast", "1"));
  STEP(", reads %s\n", show("ipv6/icmp/echo_ignore_multicast"));
  /* echo_ignore_anycast: proc_dou8vec_minmax's values (strtoul's bases); with 1 an echo to ::1,
   * no anycast address (those come with forwarding or IPV6_JOIN_ANYCAST), is still answered. */
  STEP("icmp/echo_ignore_anycast %s: ::1 %s\n", show("ipv6/icmp/echo_ignore_anycast"), echo());
  const char *writes[] = {"1", "255", "256", "-1", "0x10", "010", "+3", "abc", " 4", "5 6", "7\n", "1,2"};
  for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
    STEP("write \"%s\": %s", i == 10 ? "7\\n" : writes[i], sysctl("ipv6/icmp/echo_ignore_anycast", writes[i]));
    STEP(", reads %s\n", show("ipv6/icmp/echo_ignore_anycast"));
  }
  STEP("write 1: %s", sysctl("ipv6/icmp/echo_ignore_anycast", "1"));
  STEP(": ::1 %s", echo());
  STEP("; 0: %s\n", sysctl("ipv6/icmp/echo_ignore_anycast", "0"));
  STEP("route/mtu_expires %s", show("ipv6/route/mtu_expires"));
  STEP("; write -5: %s", sysctl("ipv6/route/mtu_expires", "-5"));
  STEP(", reads %s\n", show("ipv6/route/mtu_expires"));
  return 0;
}
