/* net.ipv4.ip_default_ttl and the ICMP echo switches on loopback. A socket that leaves IP_TTL
 * unset (or sets it to -1) sends with ip_default_ttl, read at each send (a TCP connection's at
 * each segment), and getsockopt(IP_TTL) shows it; the stack's own RSTs, TIME_WAIT ACKs, echo
 * replies and ICMP errors take it too, a listener's SYN-ACKs (SYN cookies' and retransmitted ones
 * too) its IP_TTL and IP_TOS of their time (see listener_synacks in sysctl-util.h);
 * icmp_echo_ignore_all silences echo replies;
 * icmp_echo_ignore_broadcasts decides whether an echo to 127.255.255.255 is answered;
 * ip_no_pmtu_disc gives new sockets IP_PMTUDISC_DONT; the route directory holds min_pmtu and
 * mtu_expires. Run in a fresh network namespace (lo up) and under tsvisor, the output must be
 * the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sysctl-util.h"

static int ttl_opt(int s) {
  int v = 0;
  socklen_t len = sizeof v;
  return getsockopt(s, IPPROTO_IP, IP_TTL, &v, &len) == 0 ? v : -errno;
}

/* The TTL a datagram from `s` arrives with at a fresh receiver on 127.0.0.1 (-1: none came). */
static int arriving_ttl(int s) {
  struct sockaddr_in a;
  int r = ttl_receiver(&a);
  sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
  return recv_int_cmsg(r, IPPROTO_IP, IP_TTL);
}

/* The TCP segments raw socket `rt` took in at the last take(). */
static struct segment segs[256];
static int nsegs, rt;

static void take(void) {
  nsegs = capture_segments(rt, AF_INET, segs, 256);
}

/* The TTLs of the segments taken from `port` whose flags include `flags`, as " 9 42". */
static const char *from(int port, int flags) {
  return segment_hops(segs, nsegs, port, flags);
}

/* The distinct TTLs, as " 42", of the ICMP messages of `type` that raw socket `ri` (SOCK_RAW of
 * IPPROTO_ICMP) holds after 100 ms. */
static const char *icmp_ttls(int ri, int type) {
  static char out[64];
  unsigned char p[1500];
  int seen[256] = {0};
  size_t n = 0;
  usleep(100000);
  for (ssize_t len; (len = recv(ri, p, sizeof p, MSG_DONTWAIT)) > 20;)
    if (len > (p[0] & 15) * 4 && p[(p[0] & 15) * 4] == type) seen[p[8]] = 1;
  out[0] = 0;
  for (int ttl = 1; ttl < 256; ttl++)
    if (seen[ttl]) n += snprintf(out + n, sizeof out - n, " %d", ttl);
  return out;
}

/* TCP and the stack's own packets after ip_default_ttl changes: an established connection takes
 * the new value at its next segment; a RST for a closed port, the ACK of a connection in
 * TIME_WAIT (even one that set IP_TTL), an echo reply and a port unreachable take it too. */
static void own_packets(void) {
  rt = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
  int ri = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 1);
  int lport = bound_port(l);
  a.sin_port = htons(lport);
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  connect(c, (struct sockaddr *)&a, sizeof a);
  int s = accept(l, NULL, NULL), cport = bound_port(c);
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  take();
  printf("tcp: connected with%s;", from(cport, 0));
  printf(" write ip_default_ttl 42: %s:", sysctl("ipv4/ip_default_ttl", "42"));
  char b[8];
  send(c, "x", 1, 0);
  recv(s, b, sizeof b, 0);
  send(s, "y", 1, 0);
  recv(c, b, sizeof b, 0);
  take();
  printf(" client sends%s,", from(cport, 0));
  printf(" server%s\n", from(lport, 0));

  int ttl = 9;
  setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  close(s);
  usleep(100000);
  close(c);
  take();
  printf("IP_TTL 9, server closes first: FIN%s,", from(lport, TH_FIN));
  printf(" its ACKs%s;", from(lport, TH_ACK));
  close(l);
  int r = socket(AF_INET, SOCK_STREAM, 0);
  connect(r, (struct sockaddr *)&a, sizeof a);
  close(r);
  take();
  printf(" closed port: RST%s;", from(lport, TH_RST));
  struct icmphdr h = {.type = ICMP_ECHO, .checksum = htons(~(ICMP_ECHO << 8) & 0xffff)};
  a.sin_port = 0;
  sendto(ri, &h, sizeof h, 0, (struct sockaddr *)&a, sizeof a);
  printf(" echo reply%s;", icmp_ttls(ri, ICMP_ECHOREPLY));
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  a.sin_port = htons(9);
  sendto(u, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
  printf(" port unreachable%s\n", icmp_ttls(ri, ICMP_DEST_UNREACH));
  close(u);
  close(ri);
  sysctl("ipv4/ip_default_ttl", "100");
  listener_synacks(AF_INET, rt);
  close(rt);
}

/* Whether an echo request from a ping socket to `dst` gets a reply within 300 ms. */
static const char *echo(const char *dst) {
  int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), one = 1;
  if (s < 0) return strerrorname_np(errno);
  setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, dst, &a.sin_addr);
  struct icmphdr h = {.type = ICMP_ECHO, .un.echo.sequence = htons(1)};
  if (sendto(s, &h, sizeof h, 0, (struct sockaddr *)&a, sizeof a) < 0) {
    close(s);
    return strerrorname_np(errno);
  }
  struct pollfd p = {s, POLLIN, 0};
  char buf[64];
  const char *got = poll(&p, 1, 300) == 1 && recv(s, buf, sizeof buf, 0) > 0 ? "reply" : "none";
  close(s);
  return got;
}

static int pmtudisc(int s) {
  int v = 0;
  socklen_t len = sizeof v;
  return getsockopt(s, IPPROTO_IP, IP_MTU_DISCOVER, &v, &len) == 0 ? v : -errno;
}

/* IP_MTU_DISCOVER of a new socket of `domain` and `type`. */
static int new_pmtudisc(int domain, int type) {
  int s = socket(domain, type, 0), v = pmtudisc(s);
  close(s);
  return v;
}

/* The sysctls this program writes, with what they held when it started: it puts them back at
 * its end, should it run outside a network namespace of its own. */
static struct {
  const char *name;
  char was[64];
} written[] = {
    {"ipv4/ip_default_ttl", ""},
    {"ipv4/ping_group_range", ""},
    {"ipv4/icmp_echo_ignore_all", ""},
    {"ipv4/icmp_echo_ignore_broadcasts", ""},
    {"ipv4/ip_no_pmtu_disc", ""},
    {"ipv4/route/min_pmtu", ""},
    {"ipv4/route/mtu_expires", ""},
};

/* Each call below is its own statement: C leaves the order of a call's arguments open. */
int main(void) {
  for (size_t i = 0; i < sizeof written / sizeof *written; i++)
    snprintf(written[i].was, sizeof written[i].was, "%s", show(written[i].name));
  int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
  printf("ip_default_ttl %s:", show("ipv4/ip_default_ttl"));
  printf(" udp IP_TTL %d,", ttl_opt(u));
  printf(" arrives %d\n", arriving_ttl(u));
  printf("write 0: %s,", sysctl("ipv4/ip_default_ttl", "0"));
  printf(" 256: %s,", sysctl("ipv4/ip_default_ttl", "256"));
  printf(" 100: %s,", sysctl("ipv4/ip_default_ttl", "100"));
  printf(" reads %s\n", show("ipv4/ip_default_ttl"));
  printf("same sockets: udp IP_TTL %d,", ttl_opt(u));
  printf(" arrives %d;", arriving_ttl(u));
  printf(" tcp IP_TTL %d\n", ttl_opt(t));
  int v = 0;
  printf("IP_TTL 0: %s,", res(setsockopt(u, IPPROTO_IP, IP_TTL, &v, sizeof v)));
  v = 17;
  printf(" 17: %s", res(setsockopt(u, IPPROTO_IP, IP_TTL, &v, sizeof v)));
  printf(" -> IP_TTL %d,", ttl_opt(u));
  printf(" arrives %d;", arriving_ttl(u));
  v = -1;
  printf(" -1: %s", res(setsockopt(u, IPPROTO_IP, IP_TTL, &v, sizeof v)));
  printf(" -> IP_TTL %d,", ttl_opt(u));
  printf(" arrives %d\n", arriving_ttl(u));
  own_packets();

  printf("ping_group_range: %s\n", sysctl("ipv4/ping_group_range", "0 0"));
  printf("echo_ignore_all %s,", show("ipv4/icmp_echo_ignore_all"));
  printf(" broadcasts %s:", show("ipv4/icmp_echo_ignore_broadcasts"));
  printf(" 127.0.0.1 %s,", echo("127.0.0.1"));
  printf(" 127.255.255.255 %s\n", echo("127.255.255.255"));
  printf("write broadcasts 0: %s:", sysctl("ipv4/icmp_echo_ignore_broadcasts", "0"));
  printf(" 127.255.255.255 %s\n", echo("127.255.255.255"));
  printf("write all 2: %s,", sysctl("ipv4/icmp_echo_ignore_all", "2"));
  printf(" 1: %s:", sysctl("ipv4/icmp_echo_ignore_all", "1"));
  printf(" 127.0.0.1 %s,", echo("127.0.0.1"));
  printf(" 127.255.255.255 %s\n", echo("127.255.255.255"));

  printf("ip_no_pmtu_disc %s: udp %d;", show("ipv4/ip_no_pmtu_disc"), pmtudisc(u));
  printf(" write 1: %s:", sysctl("ipv4/ip_no_pmtu_disc", "1"));
  printf(" new udp %d,", new_pmtudisc(AF_INET, SOCK_DGRAM));
  printf(" tcp %d,", new_pmtudisc(AF_INET, SOCK_STREAM));
  printf(" udp6 %d,", new_pmtudisc(AF_INET6, SOCK_DGRAM));
  printf(" old udp %d;", pmtudisc(u));
  printf(" write 3: %s:", sysctl("ipv4/ip_no_pmtu_disc", "3"));
  printf(" new udp %d;", new_pmtudisc(AF_INET, SOCK_DGRAM));
  printf(" write 256: %s,", sysctl("ipv4/ip_no_pmtu_disc", "256"));
  printf(" 0: %s:", sysctl("ipv4/ip_no_pmtu_disc", "0"));
  printf(" new udp %d\n", new_pmtudisc(AF_INET, SOCK_DGRAM));

  printf("route/min_pmtu %s,", show("ipv4/route/min_pmtu"));
  printf(" mtu_expires %s;", show("ipv4/route/mtu_expires"));
  printf(" write min_pmtu 67: %s,", sysctl("ipv4/route/min_pmtu", "67"));
  printf(" 1000: %s;", sysctl("ipv4/route/min_pmtu", "1000"));
  printf(" mtu_expires -5: %s;", sysctl("ipv4/route/mtu_expires", "-5"));
  printf(" read %s", show("ipv4/route/min_pmtu"));
  printf(" %s\n", show("ipv4/route/mtu_expires"));
  for (size_t i = 0; i < sizeof written / sizeof *written; i++)
    if (strcmp(written[i].was, "?") != 0) sysctl(written[i].name, written[i].was);
  return 0;
}
