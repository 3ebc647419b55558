/* Helpers shared by the socket conformance programs (sock-*.c, host-cmsg.c, tcp-*.c, lo-mtu.c,
 * unix-*.c, raw-socket.c, v4mapped.c): result printers, loopback addresses and pairs, reads.
 * A program may define TOOK_SLACK (seconds a wait may overrun on a loaded machine) and
 * TOOK_DIGITS (decimals printed) before including this file. */
#ifndef SOCK_UTIL_H
#define SOCK_UTIL_H
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#ifndef TOOK_SLACK
#define TOOK_SLACK 1.0
#endif
#ifndef TOOK_DIGITS
#define TOOK_DIGITS 2
#endif
#define SOCK_UTIL_UNUSED __attribute__((unused))

SOCK_UTIL_UNUSED static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* Whether poll(2) reports POLLOUT for `fd` now. */
SOCK_UTIL_UNUSED static int pollout(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  poll(&p, 1, 0);
  return (p.revents & POLLOUT) != 0;
}

/* SIOCOUTQ of `fd` (-1 when the ioctl fails). */
SOCK_UTIL_UNUSED static long outq(int fd) {
  int n = -1;
  ioctl(fd, SIOCOUTQ, &n);
  return n;
}

/* A call's result as printed: the value, or the errno's name. */
SOCK_UTIL_UNUSED static const char *res(long r) {
  static char buf[32];
  if (r < 0) return strerrorname_np(errno);
  snprintf(buf, sizeof buf, "%ld", r);
  return buf;
}

/* A call's result as printed with the -1: the value, or "-1 " and the errno's name. */
SOCK_UTIL_UNUSED static const char *res_rc(long r) {
  static char buf[64];
  if (r >= 0) snprintf(buf, sizeof buf, "%ld", r);
  else snprintf(buf, sizeof buf, "-1 %s", strerrorname_np(errno));
  return buf;
}

/* The name of the last call's errno. */
SOCK_UTIL_UNUSED static const char *err(void) { return strerrorname_np(errno); }

/* The loopback address of `family` (AF_INET or AF_INET6) with `port`, in `ss`; returns its length. */
SOCK_UTIL_UNUSED static socklen_t loopback(int family, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  a->sin6_addr = in6addr_loopback;
  return sizeof *a;
}

/* The port of an AF_INET or AF_INET6 address. */
SOCK_UTIL_UNUSED static int port_in(const struct sockaddr_storage *ss) {
  return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                        : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* The local port of an inet socket. */
SOCK_UTIL_UNUSED static int port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &l);
  return port_in(&ss);
}

/* The peer's port of a connected inet socket. */
SOCK_UTIL_UNUSED static int peer_port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  getpeername(fd, (struct sockaddr *)&ss, &l);
  return port_in(&ss);
}

/* A non-blocking recv of at most `len` bytes (flags added), printed as "what: n \"bytes\"" or the
 * errno's name. */
SOCK_UTIL_UNUSED static void rdn(const char *what, int fd, int len, int flags) {
  char buf[64];
  long n = recv(fd, buf, len, flags | MSG_DONTWAIT);
  if (n < 0) printf("%s: %s\n", what, strerrorname_np(errno));
  else printf("%s: %ld \"%.*s\"\n", what, n, (int)n, buf);
}

/* rdn of up to 64 bytes. */
SOCK_UTIL_UNUSED static void rd(const char *what, int fd, int flags) { rdn(what, fd, 64, flags); }

/* "about T" when a wait took T seconds (not less, and at most TOOK_SLACK more), else the time. */
SOCK_UTIL_UNUSED static const char *took(double t0, double want) {
  static char buf[48];
  double d = now() - t0;
  if (d >= want * 0.9 && d < want + TOOK_SLACK) snprintf(buf, sizeof buf, "about %.*fs", TOOK_DIGITS, want);
  else snprintf(buf, sizeof buf, "%.3fs (wanted %.*fs)", d, TOOK_DIGITS, want);
  return buf;
}

/* setsockopt of a struct timeval option (SO_RCVTIMEO, SO_SNDTIMEO). */
SOCK_UTIL_UNUSED static int timeo(int fd, int name, long sec, long usec) {
  struct timeval tv = {sec, usec};
  return setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv);
}

/* A connected TCP pair on 127.0.0.1 and the listener it came from. */
SOCK_UTIL_UNUSED static void tcp_pair(int *client, int *server, int *listener) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  *listener = socket(AF_INET, SOCK_STREAM, 0);
  bind(*listener, (void *)&a, sizeof a);
  listen(*listener, 4);
  getsockname(*listener, (void *)&a, &al);
  *client = socket(AF_INET, SOCK_STREAM, 0);
  connect(*client, (void *)&a, sizeof a);
  *server = accept(*listener, 0, 0);
}

/* A listener on 127.0.0.1 (address in `a`) whose accept queue is full: backlog 0 and one
 * connection, `first`, not accepted. Returns the listener; `rc` is first's connect (errno kept). */
SOCK_UTIL_UNUSED static int full_listener(struct sockaddr_in *a, int *first, int *rc) {
  *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof *a;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  bind(l, (void *)a, sizeof *a);
  listen(l, 0);
  getsockname(l, (void *)a, &al);
  *first = socket(AF_INET, SOCK_STREAM, 0);
  *rc = connect(*first, (void *)a, sizeof *a);
  return l;
}

/* Two UDP sockets on loopback (AF_INET or AF_INET6): `a` connected to `b`, which is bound. */
SOCK_UTIL_UNUSED static void udp_pair(int family, int *a, int *b) {
  struct sockaddr_storage ss = {0};
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *s = (void *)&ss;
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *s;
  } else {
    struct sockaddr_in6 *s = (void *)&ss;
    s->sin6_family = AF_INET6;
    s->sin6_addr = in6addr_loopback;
    len = sizeof *s;
  }
  *a = socket(family, SOCK_DGRAM, 0);
  *b = socket(family, SOCK_DGRAM, 0);
  bind(*b, (void *)&ss, len);
  getsockname(*b, (void *)&ss, &len);
  connect(*a, (void *)&ss, len);
}
/* A TcpExt counter from /proc/net/netstat (-1 when missing). */
SOCK_UTIL_UNUSED static long tcpext(const char *name) {
  FILE *f = fopen("/proc/net/netstat", "r");
  if (!f) return -1;
  static char names[8192], values[8192];
  long out = -1;
  while (fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
    if (strncmp(names, "TcpExt:", 7) != 0) continue;
    char *sn, *sv;
    char *n = strtok_r(names, " \n", &sn);
    char *v = strtok_r(values, " \n", &sv);
    while (n && v) {
      if (strcmp(n, name) == 0) out = atol(v);
      n = strtok_r(NULL, " \n", &sn);
      v = strtok_r(NULL, " \n", &sv);
    }
  }
  fclose(f);
  return out;
}

#endif
