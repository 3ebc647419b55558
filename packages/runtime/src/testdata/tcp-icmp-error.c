/* TCP's answer to ICMP errors on lo, natively in a fresh network namespace and under tsvisor
 * (tcp-icmp-error.test.ts). A raw ICMP socket sends errors to 127.0.0.1 that quote a segment
 * from 127.0.0.1 to a listener on 127.0.0.2, with the sequence number a raw TCP socket saw.
 * Connects in SYN_SENT stay there: the listener's accept queue (backlog 0) is full, so their
 * SYNs are dropped. Printed: what poll, SO_ERROR, recv and MSG_ERRQUEUE say after each error
 * (in the handshake, where Linux queues the error even without IP_RECVERR; about another
 * sequence number; on an established connection with and without IP_RECVERR; after a
 * reconnect of the socket, which keeps the queue), and TcpExt OutOfWindowIcmps. Then the
 * handshake again over IPv6 on ::1 with ICMPv6 errors, which are queued only with IPV6_RECVERR.
 * IP_MINTTL and IPV6_MINHOPCOUNT drop errors with too few hops left (TcpExt TCPMinTTLDrop). */
#define _GNU_SOURCE
#include <netinet/tcp.h>

#include "recv-err-util.h"

static const char *name(int e) { return e ? strerrorname_np(e) : "0"; }

/* Sends an ICMP error of `type` and `code` quoting an IP header (127.0.0.1 to 127.0.0.2, TCP) and
 * the first 8 bytes of a TCP header: the ports (network order) and `seq`. */
static void tcp_icmp_error(int raw, int type, int code, unsigned short sport, unsigned short dport, unsigned seq) {
  unsigned char l4[8];
  tcp_quote(l4, sport, dport, seq);
  icmp4_error(raw, type, code, 0, inet_addr("127.0.0.2"), IPPROTO_TCP, 60, l4);
}

/* What poll says of `c` now, and SO_ERROR (which it clears). */
static void report(const char *what, int c) {
  struct pollfd p = {.fd = c, .events = POLLIN | POLLOUT};
  poll(&p, 1, 0);
  printf("%s: revents%s%s%s%s SO_ERROR %s\n", what, p.revents & POLLIN ? " POLLIN" : "",
         p.revents & POLLOUT ? " POLLOUT" : "", p.revents & POLLERR ? " POLLERR" : "",
         p.revents & POLLHUP ? " POLLHUP" : "", name(so_error(c)));
}

static struct sockaddr_in listener_addr;

/* A non-blocking connect from 127.0.0.1 to the listener, left in SYN_SENT; its port and ISN. */
static int connecting(int sniff, unsigned short *port, unsigned *isn) {
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_addr.s_addr = inet_addr("127.0.0.1")};
  bind(c, (struct sockaddr *)&me, sizeof me);
  socklen_t ml = sizeof me;
  getsockname(c, (struct sockaddr *)&me, &ml);
  if (connect(c, (struct sockaddr *)&listener_addr, sizeof listener_addr) == 0 || errno != EINPROGRESS)
    printf("  connect: %s\n", err());
  *port = me.sin_port;
  *isn = syn_seq(sniff, me.sin_port);
  if (!*isn) printf("  no SYN seen\n");
  return c;
}

static void out_of_window_icmps(void) { printf("OutOfWindowIcmps %ld\n", tcpext("OutOfWindowIcmps")); }

/* The oldest queued error: its payload's length and sock_extended_err, then poll and SO_ERROR. */
static void errqueue(int c) {
  unsigned char buf[64];
  struct errqueue_msg q;
  long n = recv_errqueue(c, buf, sizeof buf, MSG_DONTWAIT, &q);
  if (n < 0) return;
  printf("  errqueue: n %ld name %s port %d flags %#x\n", n, q.addr, port_in(&q.name) != 0, q.m.msg_flags);
  print_cmsgs(&q.m, 1);
  report("  then", c);
}

/* A TCP listener on `a` (its port filled in) with backlog 0: once a first connect fills its accept
 * queue, the SYNs of later ones are dropped and they stay in SYN_SENT. */
static int full_queue_listener(struct sockaddr *a, socklen_t len) {
  int l = socket(a->sa_family, SOCK_STREAM, 0);
  bind(l, a, len);
  listen(l, 0);
  getsockname(l, a, &len);
  return l;
}

/* Waits for the connect that fills the accept queue to complete, and reports it. */
static void first_connect(const char *what, int c) {
  struct pollfd p = {.fd = c, .events = POLLOUT};
  poll(&p, 1, 2000);
  report(what, c);
}

/* One error of `type` and `code` about a connect's SYN, on a fresh connect. */
static void handshake(int raw, int sniff, const char *what, int type, int code) {
  unsigned short port;
  unsigned isn;
  int c = connecting(sniff, &port, &isn);
  tcp_icmp_error(raw, type, code, port, listener_addr.sin_port, isn);
  report(what, c);
  errqueue(c);
  close(c);
}

static struct sockaddr_in6 listener6;

/* Sends an ICMPv6 error of `type` and `code` quoting an IPv6 header (::1 to ::1, TCP) and the
 * first 8 bytes of a TCP header. */
static void tcp_icmp6_error(int raw6, int type, int code, unsigned short sport, unsigned short dport, unsigned seq) {
  unsigned char l4[8];
  tcp_quote(l4, sport, dport, seq);
  icmp6_error(raw6, type, code, 0, IPPROTO_TCP, 40, l4);
}

/* As connecting, to the IPv6 listener: a raw IPv6 socket reads TCP segments without the IP header. */
static int connecting6(int sniff6, unsigned short *port, unsigned *isn) {
  int c = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in6 me = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  bind(c, (struct sockaddr *)&me, sizeof me);
  socklen_t ml = sizeof me;
  getsockname(c, (struct sockaddr *)&me, &ml);
  if (connect(c, (struct sockaddr *)&listener6, sizeof listener6) == 0 || errno != EINPROGRESS)
    printf("  connect: %s\n", err());
  *port = me.sin6_port;
  *isn = 0;
  unsigned char p[128];
  for (int i = 0; i < 16 && !*isn; i++) {
    long n = recv(sniff6, p, sizeof p, 0);
    if (n >= 20 && memcmp(p, &me.sin6_port, 2) == 0 && (p[13] & 0x02)) *isn = ntohl(*(unsigned *)(p + 4));
  }
  if (!*isn) printf("  no SYN seen\n");
  return c;
}

/* One ICMPv6 error about a connect's SYN, with IPV6_RECVERR `recverr`. */
static void handshake6(int raw6, int sniff6, const char *what, int type, int code, int recverr) {
  unsigned short port;
  unsigned isn;
  int c = connecting6(sniff6, &port, &isn);
  setsockopt(c, SOL_IPV6, IPV6_RECVERR, &recverr, sizeof recverr);
  tcp_icmp6_error(raw6, type, code, port, listener6.sin6_port, isn);
  report(what, c);
  errqueue(c);
  close(c);
}

static void ipv6(void) {
  int raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  int sniff6 = socket(AF_INET6, SOCK_RAW, IPPROTO_TCP);
  timeo(sniff6, SO_RCVTIMEO, 1, 0);
  listener6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  int l = full_queue_listener((struct sockaddr *)&listener6, sizeof listener6);
  unsigned short port;
  unsigned isn;
  int c0 = connecting6(sniff6, &port, &isn);
  first_connect("ipv6 first connect", c0);

  int c = connecting6(sniff6, &port, &isn);
  tcp_icmp6_error(raw6, 1, 4, port, listener6.sin6_port, isn + 2);
  report("ipv6 port unreachable, ISN + 2", c);
  close(c);
  handshake6(raw6, sniff6, "ipv6 port unreachable", 1, 4, 0);
  handshake6(raw6, sniff6, "ipv6 port unreachable, IPV6_RECVERR", 1, 4, 1);
  handshake6(raw6, sniff6, "ipv6 no route", 1, 0, 0);
  handshake6(raw6, sniff6, "ipv6 administratively prohibited", 1, 1, 0);
  handshake6(raw6, sniff6, "ipv6 address unreachable", 1, 3, 0);
  handshake6(raw6, sniff6, "ipv6 reject route", 1, 6, 0);
  handshake6(raw6, sniff6, "ipv6 unreachable code 7", 1, 7, 0);
  handshake6(raw6, sniff6, "ipv6 time exceeded", 3, 0, 0);
  handshake6(raw6, sniff6, "ipv6 parameter problem", 4, 0, 0);

  /* IPV6_MINHOPCOUNT: the ICMPv6 packet's own hop limit counts, not the quoted header's. */
  long minttl_drops = tcpext("TCPMinTTLDrop");
  c = connecting6(sniff6, &port, &isn);
  int min = 100, hops = 99;
  setsockopt(c, SOL_IPV6, IPV6_MINHOPCOUNT, &min, sizeof min);
  setsockopt(raw6, SOL_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops);
  tcp_icmp6_error(raw6, 1, 4, port, listener6.sin6_port, isn);
  report("ipv6 IPV6_MINHOPCOUNT 100, port unreachable with hop limit 99", c);
  hops = 100;
  setsockopt(raw6, SOL_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops);
  tcp_icmp6_error(raw6, 1, 4, port, listener6.sin6_port, isn);
  report("  with hop limit 100", c);
  close(c);
  printf("  TCPMinTTLDrop +%ld\n", tcpext("TCPMinTTLDrop") - minttl_drops);
  out_of_window_icmps();
  close(c0);
  close(l);
  close(raw6);
  close(sniff6);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  int sniff = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
  if (raw < 0 || sniff < 0) {
    printf("raw socket: %s\n", err());
    return 1;
  }
  timeo(sniff, SO_RCVTIMEO, 1, 0);
  listener_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = inet_addr("127.0.0.2")};
  int l = full_queue_listener((struct sockaddr *)&listener_addr, sizeof listener_addr);

  /* The connection that fills the accept queue, and later the established one. */
  unsigned short port0;
  unsigned isn0;
  int c0 = connecting(sniff, &port0, &isn0);
  first_connect("first connect", c0);

  unsigned short port;
  unsigned isn;
  int c = connecting(sniff, &port, &isn);
  report("connect to a full queue", c);
  tcp_icmp_error(raw, 3, 3, port, listener_addr.sin_port, isn + 2);
  report("port unreachable, ISN + 2", c);
  tcp_icmp_error(raw, 3, 3, port, listener_addr.sin_port, isn - 1);
  report("port unreachable, ISN - 1", c);
  tcp_icmp_error(raw, 4, 0, port, listener_addr.sin_port, isn);
  report("source quench", c);
  tcp_icmp_error(raw, 3, 3, port, listener_addr.sin_port, isn);
  report("port unreachable", c);
  report("again", c);
  errqueue(c);
  close(c);
  out_of_window_icmps();

  /* The queued error read before SO_ERROR: it takes sk_err with it. */
  c = connecting(sniff, &port, &isn);
  tcp_icmp_error(raw, 3, 3, port, listener_addr.sin_port, isn);
  errqueue(c);
  errqueue(c);
  close(c);

  /* The queue outlives tcp_disconnect: the connect after SO_ERROR took the error reports
   * ECONNABORTED and disconnects, the next one starts a new connection, connect(AF_UNSPEC)
   * ends that, and the error of the first is still there. */
  c = connecting(sniff, &port, &isn);
  tcp_icmp_error(raw, 3, 3, port, listener_addr.sin_port, isn);
  report("reconnect, port unreachable", c);
  printf("  connect %s", res_rc(connect(c, (struct sockaddr *)&listener_addr, sizeof listener_addr)));
  printf(", %s\n", res_rc(connect(c, (struct sockaddr *)&listener_addr, sizeof listener_addr)));
  report("  connecting again", c);
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  printf("  connect(AF_UNSPEC) %s\n", res_rc(connect(c, &unspec, sizeof unspec)));
  errqueue(c);
  close(c);

  /* IP_MINTTL: an error whose quoted IPv4 header has fewer hops than the minimum is dropped
   * (TCPMinTTLDrop), even one about another sequence number; then one with enough is taken. */
  long minttl_drops = tcpext("TCPMinTTLDrop");
  c = connecting(sniff, &port, &isn);
  int min = 100;
  setsockopt(c, SOL_IP, IP_MINTTL, &min, sizeof min);
  unsigned char l4[8];
  tcp_quote(l4, port, listener_addr.sin_port, isn);
  icmp4_error_ttl(raw, 3, 3, 0, inet_addr("127.0.0.2"), IPPROTO_TCP, 60, 64, l4);
  report("IP_MINTTL 100, port unreachable quoting TTL 64", c);
  tcp_quote(l4, port, listener_addr.sin_port, isn + 2);
  icmp4_error_ttl(raw, 3, 3, 0, inet_addr("127.0.0.2"), IPPROTO_TCP, 60, 99, l4);
  report("  quoting TTL 99, ISN + 2", c);
  tcp_quote(l4, port, listener_addr.sin_port, isn);
  icmp4_error_ttl(raw, 3, 3, 0, inet_addr("127.0.0.2"), IPPROTO_TCP, 60, 100, l4);
  report("  quoting TTL 100", c);
  close(c);
  printf("  TCPMinTTLDrop +%ld\n", tcpext("TCPMinTTLDrop") - minttl_drops);

  handshake(raw, sniff, "net unreachable", 3, 0);
  handshake(raw, sniff, "host unreachable", 3, 1);
  handshake(raw, sniff, "protocol unreachable", 3, 2);
  handshake(raw, sniff, "source route failed", 3, 5);
  handshake(raw, sniff, "host unknown", 3, 7);
  handshake(raw, sniff, "communication prohibited", 3, 13);
  handshake(raw, sniff, "precedence cutoff", 3, 15);
  handshake(raw, sniff, "unreachable code 16", 3, 16);
  handshake(raw, sniff, "time exceeded", 11, 0);
  handshake(raw, sniff, "parameter problem", 12, 0);

  /* Established: c0 has sent nothing yet, so SND.UNA = SND.NXT = ISN + 1. */
  int s0 = accept(l, NULL, NULL);
  timeo(s0, SO_RCVTIMEO, 2, 0);
  char buf[100] = {0};
  printf("send %s", res(send(c0, buf, sizeof buf, 0)));
  printf(" recv %s\n", res(recv(s0, buf, sizeof buf, 0)));
  sleep_ms(50);
  unsigned nxt = isn0 + 1 + sizeof buf;
  tcp_icmp_error(raw, 3, 1, port0, listener_addr.sin_port, nxt - 1);
  report("established, acknowledged sequence", c0);
  tcp_icmp_error(raw, 3, 1, port0, listener_addr.sin_port, nxt);
  report("established, host unreachable", c0);
  int on = 1;
  setsockopt(c0, SOL_IP, IP_RECVERR, &on, sizeof on);
  tcp_icmp_error(raw, 3, 0, port0, listener_addr.sin_port, nxt);
  struct pollfd pe = {.fd = c0, .events = POLLIN};
  poll(&pe, 1, 0);
  printf("IP_RECVERR, net unreachable: revents%s", pe.revents & POLLERR ? " POLLERR" : "");
  printf(" recv %s", res(recv(c0, buf, sizeof buf, MSG_DONTWAIT)));
  printf(" then %s\n", res(recv(c0, buf, sizeof buf, MSG_DONTWAIT)));
  struct errqueue_msg q;
  recv_errqueue(c0, buf, sizeof buf, MSG_DONTWAIT, &q);
  tcp_icmp_error(raw, 12, 0, port0, listener_addr.sin_port, nxt);
  report("IP_RECVERR, parameter problem", c0);
  printf("send %s", res(send(c0, buf, sizeof buf, 0)));
  printf(" recv %s\n", res(recv(s0, buf, sizeof buf, 0)));
  report("after", c0);
  out_of_window_icmps();
  close(c0);
  close(s0);
  close(l);
  ipv6();
  return 0;
}
