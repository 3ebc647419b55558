/* Path MTU discovery on lo, natively in a fresh network namespace and under tsvisor
 * (pmtu.test.ts). A raw ICMP socket sends fragmentation-needed messages to 127.0.0.1 that quote
 * a UDP datagram to 127.0.0.2 and a TCP segment of a connection to 127.0.0.3; what the stack
 * learnt is printed: IP_MTU of the connected UDP socket, its pending and queued errors, a send
 * larger than the path MTU under IP_PMTUDISC_DO (EMSGSIZE, a local error with the MTU) and
 * IP_PMTUDISC_WANT (fragmented), and the connection's TCP_MAXSEG and tcpi_pmtu. MTUs above the
 * path's, below net.ipv4.route.min_pmtu (552) and a TCP sequence number outside the window show
 * what Linux ignores or clamps. */
#define _GNU_SOURCE
#include <netinet/tcp.h>

#include "recv-err-util.h"

/* Sends a fragmentation-needed message with next-hop MTU `mtu` quoting an IP header (127.0.0.1 to
 * `dst`, protocol `proto`) and the 8 bytes `l4`. */
static void frag_needed(int raw, const char *dst, int proto, const unsigned char l4[8], int mtu) {
  icmp4_error(raw, 3, 4, mtu, inet_addr(dst), proto, 1500, l4);
}

static int ip_mtu(int fd) {
  int v = -1;
  socklen_t l = sizeof v;
  return getsockopt(fd, SOL_IP, IP_MTU, &v, &l) < 0 ? -errno : v;
}

static void set_pmtudisc(int fd, int mode) { setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &mode, sizeof mode); }

/* The oldest queued error: errno, origin, type, code and ee_info. */
static void read_queue(int fd) {
  char buf[64];
  struct errqueue_msg q;
  long n = recv_errqueue(fd, buf, sizeof buf, MSG_DONTWAIT, &q);
  if (n < 0) return;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&q.m); c; c = CMSG_NXTHDR(&q.m, c)) {
    struct sock_extended_err *e = (struct sock_extended_err *)CMSG_DATA(c);
    printf("  errqueue: n %ld ee_errno %s origin %u type %u code %u info %u\n", n, ename(e->ee_errno),
           e->ee_origin, e->ee_type, e->ee_code, e->ee_info);
  }
}

static void udp_report(const char *what, int s) {
  printf("%s: IP_MTU %d SO_ERROR %s\n", what, ip_mtu(s), ename(so_error(s)));
  read_queue(s);
  read_queue(s);
}

static void udp(int raw) {
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = inet_addr("127.0.0.2")};
  bind(r, (struct sockaddr *)&a, sizeof a);
  socklen_t al = sizeof a;
  getsockname(r, (struct sockaddr *)&a, &al);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  printf("udp unconnected: IP_MTU %s\n", ename(-ip_mtu(s)));
  int one = 1;
  setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof one);
  connect(s, (struct sockaddr *)&a, sizeof a);
  udp_report("udp connected", s);
  unsigned char l4[8];
  udp_quote(l4, htons(port_of(s)), a.sin_port, 8 + 1472);

  frag_needed(raw, "127.0.0.2", IPPROTO_UDP, l4, 1200);
  udp_report("frag needed 1200", s);
  static char big[1500];
  set_pmtudisc(s, IP_PMTUDISC_DO);
  printf("send 1400 under DO: %s\n", res(send(s, big, 1400, 0)));
  read_queue(s);
  printf("send 1172 under DO: %s\n", res(send(s, big, 1172, 0)));
  printf("send 1173 under DO: %s\n", res(send(s, big, 1173, 0)));
  read_queue(s);
  set_pmtudisc(s, IP_PMTUDISC_PROBE);
  printf("send 1400 under PROBE: %s\n", res(send(s, big, 1400, 0)));
  set_pmtudisc(s, IP_PMTUDISC_WANT);
  printf("send 1400 under WANT: %s\n", res(send(s, big, 1400, 0)));
  char in[2000];
  for (long n; (n = recv(r, in, sizeof in, MSG_DONTWAIT)) >= 0;) printf("  received %ld\n", n);

  /* Learnt under IP_PMTUDISC_DONT too, which takes no error from it. */
  set_pmtudisc(s, IP_PMTUDISC_DONT);
  frag_needed(raw, "127.0.0.2", IPPROTO_UDP, l4, 1000);
  udp_report("frag needed 1000 under DONT", s);
  set_pmtudisc(s, IP_PMTUDISC_WANT);
  frag_needed(raw, "127.0.0.2", IPPROTO_UDP, l4, 1300);
  udp_report("frag needed 1300 (above the path's)", s);
  frag_needed(raw, "127.0.0.2", IPPROTO_UDP, l4, 300);
  udp_report("frag needed 300 (below min_pmtu)", s);
  set_pmtudisc(s, IP_PMTUDISC_DO);
  printf("send 600 under DO: %s\n", res(send(s, big, 600, 0)));
  read_queue(s);

  /* Another socket to the same destination shares the route's exception. */
  int t = socket(AF_INET, SOCK_DGRAM, 0);
  connect(t, (struct sockaddr *)&a, sizeof a);
  printf("second socket: IP_MTU %d\n", ip_mtu(t));
  close(t);
  close(s);
  close(r);
}

/* Sends a packet-too-big message with MTU `mtu` quoting a UDP datagram from ::1 to ::1 with the 8
 * bytes `l4`. */
static void packet_too_big(int raw6, const unsigned char l4[8], int mtu) {
  icmp6_error(raw6, 2, 0, mtu, IPPROTO_UDP, 1480, l4);
}

static void udp6_report(const char *what, int s) {
  int v = -1;
  socklen_t l = sizeof v;
  int rc = getsockopt(s, SOL_IPV6, IPV6_MTU, &v, &l);
  printf("%s: IPV6_MTU %d SO_ERROR %s\n", what, rc < 0 ? -errno : v, ename(so_error(s)));
  read_queue(s);
}

static void udp6(void) {
  int raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  int r = socket(AF_INET6, SOCK_DGRAM, 0), s = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  bind(r, (struct sockaddr *)&a, sizeof a);
  socklen_t al = sizeof a;
  getsockname(r, (struct sockaddr *)&a, &al);
  int one = 1;
  setsockopt(s, SOL_IPV6, IPV6_RECVERR, &one, sizeof one);
  connect(s, (struct sockaddr *)&a, sizeof a);
  unsigned char l4[8];
  udp_quote(l4, htons(port_of(s)), a.sin6_port, 0);
  udp6_report("udp6 connected", s);
  packet_too_big(raw6, l4, 1000);
  udp6_report("packet too big 1000 (below IPv6's minimum)", s);
  packet_too_big(raw6, l4, 1400);
  udp6_report("packet too big 1400", s);
  packet_too_big(raw6, l4, 1450);
  udp6_report("packet too big 1450 (above the path's)", s);
  packet_too_big(raw6, l4, 1300);
  udp6_report("packet too big 1300", s);
  static char big[1500];
  int v = IPV6_PMTUDISC_DO;
  setsockopt(s, SOL_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v);
  printf("send 1253 under DO: %s\n", res(send(s, big, 1253, 0)));
  printf("send 1252 under DO: %s\n", res(send(s, big, 1252, 0)));
  read_queue(s);
  close(s);
  close(r);
  close(raw6);
}

/* An MSS, or "large" for one from lo's MTU: bounded to half the largest window the peer offered,
 * which grows as the receiver's buffer autotunes (not what this program compares). */
static const char *mss_str(int mss) {
  static char b[2][16];
  static int i;
  if (mss > 30000) return "large";
  snprintf(b[i ^= 1], sizeof b[0], "%d", mss);
  return b[i];
}

static void tcp_report(const char *what, int c) {
  int mss = -1;
  socklen_t l = sizeof mss;
  getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, &l);
  struct tcp_info ti;
  l = sizeof ti;
  getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &l);
  printf("%s: TCP_MAXSEG %s tcpi_pmtu %u", what, mss_str(mss), ti.tcpi_pmtu);
  printf(" tcpi_snd_mss %s SO_ERROR %s\n", mss_str(ti.tcpi_snd_mss), ename(so_error(c)));
}

/* Sends `n` bytes from `c`, reads them at `s` and waits for the ACK: SND.UNA is SND.NXT again. */
static void exchange(int c, int s, char *data, long n) {
  long sent = send(c, data, n, 0), got = 0;
  for (long r; got < sent && (r = recv(s, data, n, 0)) > 0;) got += r;
  struct tcp_info ti;
  socklen_t l = sizeof ti;
  for (int i = 0; i < 100 && getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 && ti.tcpi_unacked; i++) sleep_ms(10);
  printf("tcp: sent %ld received %ld\n", sent, got);
}

static void tcp(int raw) {
  int sniff = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
  timeo(sniff, SO_RCVTIMEO, 1, 0);
  struct sniffed_pair p = sniffed_connect(sniff);
  int l = p.l, c = p.c, s = p.s;
  struct sockaddr_in me = p.me, a = p.peer;
  unsigned isn = p.isn;
  close(sniff);
  printf("tcp: SYN seen %s\n", isn ? "yes" : "no");
  /* Data first, so that the MSS is no longer held to half the peer's first window. */
  static char data[20000];
  timeo(s, SO_RCVTIMEO, 2, 0);
  exchange(c, s, data, sizeof data);
  isn += sizeof data;
  tcp_report("tcp connected", c);

  unsigned char l4[8];
  tcp_quote(l4, me.sin_port, a.sin_port, isn + 1 + 100000);
  frag_needed(raw, "127.0.0.3", IPPROTO_TCP, l4, 1000);
  tcp_report("frag needed 1000, sequence outside the window", c);
  tcp_quote(l4, me.sin_port, a.sin_port, isn + 1);
  frag_needed(raw, "127.0.0.3", IPPROTO_TCP, l4, 1000);
  tcp_report("frag needed 1000, sequence SND.NXT", c);
  frag_needed(raw, "127.0.0.3", IPPROTO_TCP, l4, 1100);
  tcp_report("frag needed 1100 (above the path's)", c);
  frag_needed(raw, "127.0.0.3", IPPROTO_TCP, l4, 400);
  tcp_report("frag needed 400 (below min_pmtu)", c);

  exchange(c, s, data, sizeof data);
  tcp_report("tcp after data", c);
  close(c);
  close(s);
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (raw < 0) {
    printf("raw socket: %s\n", err());
    return 1;
  }
  udp(raw);
  udp6();
  tcp(raw);
  return 0;
}
