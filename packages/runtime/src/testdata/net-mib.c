/* MIB counters of the network stack: reads /proc/net/snmp and /proc/net/snmp6 before and after a
 * fixed loopback scenario (and /proc/net/netstat for TcpExt) and prints how the counters whose
 * change the scenario fixes moved. Run natively in a fresh network namespace (lo up,
 * net.ipv4.ping_group_range opened) and under tsvisor; both must print the same. Segment counts
 * depend on ACK timing, so only relations between them are printed.
 *
 * The scenario: three TCP connections over 127.0.0.1 (a small exchange each, then an orderly
 * close), one closed with unread data (a RST each way of counting), a connect to a closed port,
 * UDP datagrams to a closed and to an open port, an ICMP echo through a ping socket, and over
 * ::1 one TCP connection and UDP datagrams to a closed and an open port. Then, each between its
 * own two readings: a one-way and a request-answer TCP exchange (the header-prediction
 * counters), and one UDP datagram over each IP version (the octet counters). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "proc-util.h"

#define MAXC 2048

struct counter {
  char name[96];
  long long value;
};
struct mib {
  int n;
  struct counter c[MAXC];
};

static void put(struct mib *m, const char *group, const char *name, long long v) {
  if (m->n >= MAXC) return;
  snprintf(m->c[m->n].name, sizeof m->c[m->n].name, "%s.%s", group, name);
  m->c[m->n++].value = v;
}

static long long get(const struct mib *m, const char *name) {
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->c[i].name, name) == 0) return m->c[i].value;
  return 0;
}

/* /proc/net/snmp or netstat: pairs of "Group: names" and "Group: values" lines. */
static void read_groups(struct mib *m, const char *path) {
  char *text = slurp(path);
  char *save = NULL;
  char *names = strtok_r(text, "\n", &save);
  while (names) {
    char *values = strtok_r(NULL, "\n", &save);
    if (!values) break;
    char *colon = strchr(names, ':');
    *colon = 0;
    char *s1 = NULL, *s2 = NULL;
    char *n = strtok_r(colon + 1, " ", &s1);
    char *v = strtok_r(strchr(values, ':') + 1, " ", &s2);
    while (n && v) {
      put(m, names, n, atoll(v));
      n = strtok_r(NULL, " ", &s1);
      v = strtok_r(NULL, " ", &s2);
    }
    names = strtok_r(NULL, "\n", &save);
  }
}

static void read_snmp(struct mib *m) {
  read_groups(m, "/proc/net/snmp");
  read_groups(m, "/proc/net/netstat");
}

/* /proc/net/snmp6: "Udp6InDatagrams <spaces> \t value" lines, kept as "snmp6.Udp6InDatagrams". */
static void read_snmp6(struct mib *m) {
  char *text = slurp("/proc/net/snmp6");
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char name[64];
    long long v;
    if (sscanf(line, "%63s %lld", name, &v) == 2) put(m, "snmp6", name, v);
  }
}

static struct mib before, after;

static long long delta(const char *name) { return get(&after, name) - get(&before, name); }

static void show(const char *names) {
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", names);
  char *save = NULL;
  for (char *n = strtok_r(copy, " ", &save); n; n = strtok_r(NULL, " ", &save)) printf(" %s %lld", n, delta(n));
  printf("\n");
}

static void die(const char *what) {
  printf("%s: %s\n", what, strerrorname_np(errno));
  exit(1);
}

static void pause_ms(int ms) {
  struct timespec t = {0, ms * 1000000L};
  nanosleep(&t, NULL);
}

static int family_of(const struct sockaddr_storage *a) { return a->ss_family; }
static socklen_t len_of(const struct sockaddr_storage *a) {
  return a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* The loopback address of `family` with port 0. */
static struct sockaddr_storage loopback(int family) {
  struct sockaddr_storage a;
  memset(&a, 0, sizeof a);
  if (family == AF_INET) {
    struct sockaddr_in *s = (struct sockaddr_in *)&a;
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a;
    s->sin6_family = AF_INET6;
    s->sin6_addr = in6addr_loopback;
  }
  return a;
}

/* A socket bound to the loopback address of `family`; its address (with the port) in `a`. */
static int bound(int family, int type, struct sockaddr_storage *a) {
  *a = loopback(family);
  int s = socket(family, type, 0);
  if (s < 0) die("socket");
  if (bind(s, (struct sockaddr *)a, len_of(a)) < 0) die("bind");
  socklen_t l = sizeof *a;
  getsockname(s, (struct sockaddr *)a, &l);
  return s;
}

/* A port of `family`'s loopback address that nothing holds (bound once, then released). */
static struct sockaddr_storage closed_port(int family, int type) {
  struct sockaddr_storage a;
  close(bound(family, type, &a));
  return a;
}

static void xfer(int from, int to, size_t n) {
  char buf[4096];
  memset(buf, 'x', n);
  if (send(from, buf, n, 0) != (ssize_t)n) die("send");
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(to, buf, sizeof buf, 0);
    if (r <= 0) die("recv");
    got += r;
  }
}

/* `n` TCP connections to a listener of `family`: connect and accept each, leaving them open. */
static void tcp_open(int family, int n, int *clients, int *servers) {
  struct sockaddr_storage a;
  int l = bound(family, SOCK_STREAM, &a);
  if (listen(l, 16) < 0) die("listen");
  for (int i = 0; i < n; i++) {
    clients[i] = socket(family_of(&a), SOCK_STREAM, 0);
    if (connect(clients[i], (struct sockaddr *)&a, len_of(&a)) < 0) die("connect");
    servers[i] = accept(l, NULL, NULL);
    if (servers[i] < 0) die("accept");
  }
  close(l);
}

/* An exchange both ways, then an orderly close: the client first, the server after EOF. */
static void tcp_finish(int c, int s) {
  xfer(c, s, 100);
  xfer(s, c, 300);
  close(c);
  char b;
  if (recv(s, &b, 1, 0) != 0) die("eof");
  close(s);
}

static void udp_pair(int family) {
  struct sockaddr_storage closed = closed_port(family, SOCK_DGRAM);
  struct sockaddr_storage open;
  int rx = bound(family, SOCK_DGRAM, &open);
  int tx = socket(family, SOCK_DGRAM, 0);
  if (sendto(tx, "closed", 6, 0, (struct sockaddr *)&closed, len_of(&closed)) != 6) die("sendto closed");
  if (sendto(tx, "open", 4, 0, (struct sockaddr *)&open, len_of(&open)) != 4) die("sendto open");
  char buf[16];
  if (recv(rx, buf, sizeof buf, 0) != 4) die("recv udp");
  pause_ms(20);
  close(tx);
  close(rx);
}

/* One 100-byte UDP datagram to an open port and nothing else between two readings of the
 * counters: the octet counters move by its exact length, IP and UDP headers included. */
static void udp_alone(int family) {
  struct sockaddr_storage open;
  int rx = bound(family, SOCK_DGRAM, &open);
  int tx = socket(family, SOCK_DGRAM, 0);
  char buf[100];
  memset(buf, 'o', sizeof buf);
  before.n = 0;
  read_snmp(&before);
  read_snmp6(&before);
  if (sendto(tx, buf, sizeof buf, 0, (struct sockaddr *)&open, len_of(&open)) != sizeof buf) die("sendto alone");
  if (recv(rx, buf, sizeof buf, 0) != sizeof buf) die("recv alone");
  after.n = 0;
  read_snmp(&after);
  read_snmp6(&after);
  close(tx);
  close(rx);
}

/* Ten 100-byte sends, each read at once, on an established connection: each is acknowledged
 * alone with the same window, so every ACK but the first (the client's fast path waits for a
 * window change, having scaled windows) takes the fast path. */
static void tcp_one_way(void) {
  int c, s;
  tcp_open(AF_INET, 1, &c, &s);
  before.n = 0;
  read_snmp(&before);
  for (int i = 0; i < 10; i++) xfer(c, s, 100);
  pause_ms(20);
  after.n = 0;
  read_snmp(&after);
  close(c);
  close(s);
}

/* Ten requests of 100 bytes, each answered with 100 bytes: the ACKs ride on the answers (ping-pong
 * mode), and data takes the fast path too. The last answer's ACK is still being delayed. */
static void tcp_ping_pong(void) {
  int c, s;
  tcp_open(AF_INET, 1, &c, &s);
  before.n = 0;
  read_snmp(&before);
  for (int i = 0; i < 10; i++) {
    xfer(c, s, 100);
    xfer(s, c, 100);
  }
  after.n = 0;
  read_snmp(&after);
  close(c);
  close(s);
}

int main(void) {
  int clients[4], servers[4];
  read_snmp(&before);
  read_snmp6(&before);

  /* TCP over IPv4: three connections open at once, then finished. */
  tcp_open(AF_INET, 3, clients, servers);
  read_snmp(&after);
  printf("3 open:");
  show("Tcp.ActiveOpens Tcp.PassiveOpens Tcp.CurrEstab");
  for (int i = 0; i < 3; i++) tcp_finish(clients[i], servers[i]);

  /* A fourth, closed by a client that left data unread: it resets, and so does its peer. */
  tcp_open(AF_INET, 1, clients, servers);
  if (send(servers[0], "unread", 6, 0) != 6) die("send unread");
  struct pollfd p = {clients[0], POLLIN, 0};
  if (poll(&p, 1, 5000) != 1) die("poll");
  close(clients[0]);
  char b;
  ssize_t r = recv(servers[0], &b, 1, 0);
  printf("recv after the peer's reset: %s\n", r < 0 ? strerrorname_np(errno) : "data");
  close(servers[0]);

  /* A connect to a port nothing listens on. */
  struct sockaddr_storage closed = closed_port(AF_INET, SOCK_STREAM);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  r = connect(c, (struct sockaddr *)&closed, len_of(&closed));
  printf("connect to a closed port: %s\n", r < 0 ? strerrorname_np(errno) : "0");
  close(c);

  udp_pair(AF_INET);

  /* ICMP echo through a ping socket. */
  int ping = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  if (ping < 0) die("ping socket");
  unsigned char echo[16] = {8, 0, 0, 0, 0, 0, 0, 1, 'p', 'i', 'n', 'g'};
  struct sockaddr_storage lo4 = loopback(AF_INET);
  if (sendto(ping, echo, sizeof echo, 0, (struct sockaddr *)&lo4, len_of(&lo4)) != sizeof echo)
    die("sendto ping");
  unsigned char reply[64];
  r = recv(ping, reply, sizeof reply, 0);
  printf("echo reply: %zd bytes, type %d\n", r, r > 0 ? reply[0] : -1);
  close(ping);

  /* IPv6: one connection, and UDP to a closed and an open port. */
  tcp_open(AF_INET6, 1, clients, servers);
  tcp_finish(clients[0], servers[0]);
  udp_pair(AF_INET6);

  pause_ms(100);
  after.n = 0;
  read_snmp(&after);
  read_snmp6(&after);
  printf("tcp:");
  show("Tcp.ActiveOpens Tcp.PassiveOpens Tcp.AttemptFails Tcp.EstabResets Tcp.CurrEstab Tcp.OutRsts "
       "Tcp.InErrs Tcp.InCsumErrors");
  printf("udp:");
  show("Udp.InDatagrams Udp.NoPorts Udp.InErrors Udp.OutDatagrams Udp.RcvbufErrors Udp.InCsumErrors "
       "Udp.IgnoredMulti");
  printf("icmp:");
  show("Icmp.InMsgs Icmp.InErrors Icmp.InCsumErrors Icmp.InDestUnreachs Icmp.InEchos Icmp.InEchoReps "
       "Icmp.OutMsgs Icmp.OutDestUnreachs Icmp.OutEchos Icmp.OutEchoReps");
  printf("icmpmsg:");
  show("IcmpMsg.InType0 IcmpMsg.InType3 IcmpMsg.InType8 IcmpMsg.OutType0 IcmpMsg.OutType3 IcmpMsg.OutType8");
  printf("ip:");
  show("Ip.InHdrErrors Ip.InAddrErrors Ip.InUnknownProtos Ip.InDiscards Ip.OutNoRoutes Ip.ReasmReqds "
       "Ip.FragCreates");
  printf("tcpext:");
  show("TcpExt.TW TcpExt.TWKilled TcpExt.TCPAbortOnClose TcpExt.TCPAbortOnTimeout TcpExt.TCPAbortOnLinger "
       "TcpExt.EmbryonicRsts TcpExt.ListenOverflows TcpExt.ListenDrops TcpExt.TCPOrigDataSent "
       "TcpExt.TCPTimeouts TcpExt.TCPSynRetrans");
  /* Which ACKs take tcp_rcv_established's fast path depends on the window each side advertises
   * (netstack's follows its free buffer space, Linux's is also bounded by rcv_ssthresh), and
   * netstack sends a window update after a handshake that Linux does not: only a relation here,
   * the exact counts are in the one-way and ping-pong phases below. */
  printf("tcpext acks: pure + fast-path > 0 %d,", delta("TcpExt.TCPPureAcks") + delta("TcpExt.TCPHPAcks") > 0);
  show("TcpExt.TCPHPHits TcpExt.TCPDelivered TcpExt.TCPDeliveredCE");
  printf("udp6:");
  show("snmp6.Udp6InDatagrams snmp6.Udp6NoPorts snmp6.Udp6InErrors snmp6.Udp6OutDatagrams");
  printf("icmp6:");
  show("snmp6.Icmp6InDestUnreachs snmp6.Icmp6OutDestUnreachs snmp6.Icmp6InErrors snmp6.Icmp6InType1 "
       "snmp6.Icmp6OutType1");

  /* Segment and datagram counts depend on ACK timing: their relations do not. */
  long long in = delta("Tcp.InSegs"), out = delta("Tcp.OutSegs"), re = delta("Tcp.RetransSegs");
  printf("tcp segments: in > 0 %d, out > 0 %d, in == out + retrans %d\n", in > 0, out > 0, in == out + re);
  long long rx4 = delta("Ip.InReceives"), tx4 = delta("Ip.OutRequests");
  printf("ip: received == sent %d, delivered == received %d, transmits == requests %d\n", rx4 == tx4,
         delta("Ip.InDelivers") == rx4, delta("Ip.OutTransmits") == tx4);
  long long rx6 = delta("snmp6.Ip6InReceives"), tx6 = delta("snmp6.Ip6OutRequests");
  printf("ip6: received > 0 %d, received == sent %d, delivered == received %d\n", rx6 > 0, rx6 == tx6,
         delta("snmp6.Ip6InDelivers") == rx6);
  /* Every byte looped back arrives; nothing in the scenario sets an ECN codepoint. */
  printf("ip octets: in > 0 %d, in == out %d, not-ECT == received %d\n", delta("IpExt.InOctets") > 0,
         delta("IpExt.InOctets") == delta("IpExt.OutOctets"), delta("IpExt.InNoECTPkts") == rx4);
  printf("ip6 octets: in > 0 %d, in == out %d, not-ECT == received %d\n", delta("snmp6.Ip6InOctets") > 0,
         delta("snmp6.Ip6InOctets") == delta("snmp6.Ip6OutOctets"), delta("snmp6.Ip6InNoECTPkts") == rx6);

  tcp_one_way();
  printf("tcp one way:");
  show("TcpExt.TCPPureAcks TcpExt.TCPHPAcks TcpExt.TCPHPHits TcpExt.TCPDelivered TcpExt.TCPOrigDataSent");

  tcp_ping_pong();
  printf("tcp ping-pong: pure + fast-path %lld, data on the fast path > 0 %d,",
         delta("TcpExt.TCPPureAcks") + delta("TcpExt.TCPHPAcks"), delta("TcpExt.TCPHPHits") > 0);
  show("TcpExt.TCPDelivered TcpExt.TCPOrigDataSent");

  udp_alone(AF_INET);
  printf("udp alone:");
  show("Ip.InReceives Ip.OutRequests IpExt.InOctets IpExt.OutOctets IpExt.InNoECTPkts IpExt.InECT0Pkts "
       "Udp.OutDatagrams Udp.SndbufErrors");
  udp_alone(AF_INET6);
  printf("udp6 alone:");
  show("snmp6.Ip6InReceives snmp6.Ip6InOctets snmp6.Ip6OutOctets snmp6.Ip6InNoECTPkts snmp6.Udp6OutDatagrams "
       "snmp6.Udp6SndbufErrors");
  return 0;
}
