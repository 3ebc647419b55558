/* A TCP listener's request (SYN) queue and SYN cookies, natively in a fresh network namespace and
 * under tsvisor (syn-backlog.test.ts). Every step is one loopback client at a time that waits for
 * its handshake, so nothing depends on softirq timing: TCP_DEFER_ACCEPT keeps the handshakes of
 * clients that send no data in the request queue (their bare ACKs are dropped), which fills it on
 * purpose. The program writes the namespace's sysctls itself and prints which clients connect,
 * what accept() finds, the TcpExt counter deltas, and (for cookie connections) the MSS, window
 * scaling and SACK the accepted connection ends up with, by TCP_INFO. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

static void sysctl(const char *name, int value) {
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/ipv4/%s", name);
  FILE *f = fopen(path, "w");
  if (!f || fprintf(f, "%d\n", value) < 0 || fclose(f) != 0) {
    printf("write %s: %s\n", name, err());
    exit(1);
  }
}

static const char *const COUNTERS[] = {"SyncookiesSent",  "SyncookiesRecv",     "SyncookiesFailed",
                                       "TCPReqQFullDoCookies", "TCPReqQFullDrop", "ListenOverflows",
                                       "ListenDrops",     "EmbryonicRsts",      "TCPDeferAcceptDrop"};
#define NCOUNTERS (int)(sizeof COUNTERS / sizeof COUNTERS[0])
static long base[NCOUNTERS];

static void counters_start(void) {
  for (int i = 0; i < NCOUNTERS; i++) base[i] = tcpext(COUNTERS[i]);
}

/* The counters that changed since counters_start, as "Name +n". */
static void counters_print(void) {
  printf("  counters:");
  int any = 0;
  for (int i = 0; i < NCOUNTERS; i++) {
    long d = tcpext(COUNTERS[i]) - base[i];
    if (d != 0) printf(" %s +%ld", COUNTERS[i], d), any = 1;
  }
  printf("%s\n", any ? "" : " none");
}

static int family = AF_INET;
static struct sockaddr_storage server;
static socklen_t server_len;

/* The rx_queue /proc/net/tcp shows for the IPv4 listener on `port` (Linux: its accept queue). */
static long listen_rx_queue(int port) {
  FILE *f = fopen("/proc/net/tcp", "r");
  if (!f) return -1;
  char line[512];
  long out = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned lport, state;
    unsigned long tx, rx;
    if (sscanf(line, " %*d: %*x:%x %*x:%*x %x %lx:%lx", &lport, &state, &tx, &rx) == 4 && lport == (unsigned)port &&
        state == 0x0A)
      out = (long)rx;
  }
  fclose(f);
  return out;
}

/* A listener on loopback with `backlog`; TCP_DEFER_ACCEPT of `defer` seconds unless 0. */
static int listener(int backlog, int defer) {
  int l = socket(family, SOCK_STREAM, 0);
  server_len = loopback(family, 0, &server);
  if (bind(l, (void *)&server, server_len) || listen(l, backlog) ||
      getsockname(l, (void *)&server, &server_len)) {
    printf("listener: %s\n", err());
    exit(1);
  }
  if (defer) setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
  fcntl(l, F_SETFL, O_NONBLOCK);
  return l;
}

/* A client from `src` (an IPv4 loopback address, or NULL) with TCP_MAXSEG `mss` (0: none) that
 * connects without blocking and waits up to 100 ms for its handshake; prints the outcome. A
 * dropped SYN goes again after 1 s: a step's clients that stay pending must not wait so long
 * together that the retransmission of the first lands in the counters (three of them waited
 * 900 ms, and one more drop was counted whenever the step took 100 ms longer). */
static int client(const char *name, const char *src, int mss) {
  int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (src) {
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &a.sin_addr);
    if (bind(c, (void *)&a, sizeof a)) printf("bind %s: %s\n", src, err());
  }
  if (mss) setsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
  int r = connect(c, (void *)&server, server_len);
  if (r != 0 && errno != EINPROGRESS) printf("connect: %s\n", err());
  struct pollfd p = {c, POLLOUT, 0};
  int e = -1;
  socklen_t el = sizeof e;
  int ready = poll(&p, 1, 100) == 1 && getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0;
  printf("  %s: %s\n", name, ready ? "connected" : "pending");
  return c;
}

/* The client (of `n` in `c`) whose local port is the peer port of accepted socket `s`. */
static int which(int s, const int *c, int n) {
  for (int i = 0; i < n; i++)
    if (c[i] >= 0 && port_of(c[i]) == peer_port_of(s)) return i;
  return -1;
}

/* Accepts every connection ready on `l` (waiting up to `wait_ms` for the first), printing which
 * client each is and the data it carries. */
static void accept_all(int l, const int *c, int n, int wait_ms) {
  struct pollfd p = {l, POLLIN, 0};
  poll(&p, 1, wait_ms);
  for (int s; (s = accept(l, NULL, NULL)) >= 0;) {
    char b[8];
    long got = recv(s, b, sizeof b, MSG_DONTWAIT);
    printf("  accepted c%d", which(s, c, n) + 1);
    if (got > 0) printf(" with \"%.*s\"", (int)got, b);
    printf("\n");
    close(s);
  }
  printf("  accept: %s\n", err());
}

/* One connection answered with a SYN cookie (tcp_syncookies=2): what the accepted side ends up
 * with, by TCP_INFO, and whether its send window scale is the client's receive scale. */
static void cookie_connection(const char *what, int mss) {
  counters_start();
  int l = listener(8, 0);
  printf("%s:\n", what);
  int c = client("c1", NULL, mss);
  struct pollfd p = {l, POLLIN, 0};
  poll(&p, 1, 300);
  int s = accept(l, NULL, NULL);
  if (s < 0) {
    printf("  accept: %s\n", err());
  } else {
    struct tcp_info si, ci;
    socklen_t sl = sizeof si, cl = sizeof ci;
    getsockopt(s, IPPROTO_TCP, TCP_INFO, &si, &sl);
    getsockopt(c, IPPROTO_TCP, TCP_INFO, &ci, &cl);
    printf("  accepted: snd_mss %u, timestamps %s, sack %s, wscale %s", si.tcpi_snd_mss,
           si.tcpi_options & TCPI_OPT_TIMESTAMPS ? "on" : "off", si.tcpi_options & TCPI_OPT_SACK ? "on" : "off",
           si.tcpi_options & TCPI_OPT_WSCALE ? "on" : "off");
    if (si.tcpi_options & TCPI_OPT_WSCALE)
      printf(" (client's %s)", si.tcpi_snd_wscale == ci.tcpi_rcv_wscale ? "as sent" : "changed");
    printf("; client sees sack %s, wscale %s\n", ci.tcpi_options & TCPI_OPT_SACK ? "on" : "off",
           ci.tcpi_options & TCPI_OPT_WSCALE ? "on" : "off");
    /* The connection carries data both ways. */
    printf("  data: %s", res(write(c, "ping", 4)));
    rd(", server reads", s, 0);
    close(s);
  }
  counters_print();
  close(c);
  close(l);
}

/* backlog 1 and TCP_DEFER_ACCEPT: c1 and c2 sit in the request queue (2 > backlog: full), so c3
 * and c4 are answered with cookies and go straight to the accept queue, which then holds 2
 * (> backlog: full), so c5's SYN is dropped. Once c3 and c4 are accepted, c6 and c7 fill the
 * accept queue again (cookies too), and the data of c1 that completes its handshake finds it
 * full: dropped (c1 sends it again later), or with tcp_abort_on_overflow answered with a RST. */
static void request_queue(int syncookies, int abort_on_overflow) {
  sysctl("tcp_syncookies", syncookies);
  sysctl("tcp_abort_on_overflow", abort_on_overflow);
  counters_start();
  printf("tcp_syncookies %d, tcp_abort_on_overflow %d, backlog 1, TCP_DEFER_ACCEPT:\n", syncookies,
         abort_on_overflow);
  int l = listener(1, 30);
  int c[7] = {-1, -1, -1, -1, -1, -1, -1};
  char name[8];
  for (int i = 0; i < 5; i++) {
    snprintf(name, sizeof name, "c%d", i + 1);
    c[i] = client(name, NULL, 0);
  }
  close(c[4]); /* before its SYN is sent again */
  c[4] = -1;
  printf("  listener rx_queue %ld\n", listen_rx_queue(port_in(&server)));
  accept_all(l, c, 7, 0);
  if (syncookies) {
    c[5] = client("c6", NULL, 0);
    c[6] = client("c7", NULL, 0);
    printf("  c1 sends: %s\n", res(write(c[0], "one", 3)));
    struct pollfd p = {c[0], POLLIN, 0};
    poll(&p, 1, 50); /* a RST comes at once; c1's retransmission not before 200 ms */
    int e = 0;
    socklen_t el = sizeof e;
    getsockopt(c[0], SOL_SOCKET, SO_ERROR, &e, &el);
    printf("  c1: SO_ERROR %s\n", e ? strerrorname_np(e) : "0");
    accept_all(l, c, 7, 0);
    if (!abort_on_overflow) accept_all(l, c, 7, 1000); /* c1's data again */
  }
  printf("  c2 sends: %s\n", res(write(c[1], "two", 3)));
  accept_all(l, c, 7, 300);
  counters_print();
  for (int i = 0; i < 7; i++)
    if (c[i] >= 0) close(c[i]);
  close(l);
}

/* tcp_syncookies 0 and tcp_max_syn_backlog 4: without cookies the last quarter of the request
 * queue is kept for peers proven alive, so the fifth SYN is dropped though the backlog is 16. */
static void max_syn_backlog(void) {
  sysctl("tcp_syncookies", 0);
  sysctl("tcp_max_syn_backlog", 4);
  counters_start();
  printf("tcp_syncookies 0, tcp_max_syn_backlog 4, backlog 16, TCP_DEFER_ACCEPT:\n");
  int l = listener(16, 30);
  int c[5];
  char name[8];
  for (int i = 0; i < 5; i++) {
    snprintf(name, sizeof name, "c%d", i + 1);
    /* A source no connection has closed from yet: no TCP metrics make it a proven peer. */
    c[i] = client(name, "127.0.0.9", 0);
  }
  accept_all(l, c, 5, 0);
  counters_print();
  for (int i = 0; i < 5; i++) close(c[i]);
  close(l);
  sysctl("tcp_max_syn_backlog", 2048);
}

int main(void) {
  max_syn_backlog();
  request_queue(0, 0);
  request_queue(1, 0);
  request_queue(1, 1);
  sysctl("tcp_abort_on_overflow", 0);
  sysctl("tcp_syncookies", 2);
  cookie_connection("IPv4 cookie, loopback MSS", 0);
  cookie_connection("IPv4 cookie, TCP_MAXSEG 1000", 1000);
  cookie_connection("IPv4 cookie, TCP_MAXSEG 1400", 1400);
  family = AF_INET6;
  cookie_connection("IPv6 cookie, loopback MSS", 0);
  cookie_connection("IPv6 cookie, TCP_MAXSEG 1430", 1430);
  family = AF_INET;
  sysctl("tcp_timestamps", 0);
  cookie_connection("IPv4 cookie without timestamps", 0);
  return 0;
}
