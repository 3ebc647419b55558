/* SOCK_DESTROY over NETLINK_SOCK_DIAG for the sockets other than TCP connections: UDP (udp_abort),
 * TCP listeners (tcp_abort of a LISTEN socket) and ping sockets (no inet_diag handler), and the
 * disconnect of raw sockets that raw_abort shares with connect(AF_UNSPEC), natively in a fresh
 * network namespace (lo up) and under tsvisor --network none (sock-destroy-udp.test.ts). It prints which requests find a socket, what the application
 * sees afterwards (the error once, poll and epoll events, its address, its port), what the peers
 * of a listener's queued connections see, and iproute2's `ss -K` for a UDP socket and a
 * listener. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock-destroy-util.h"

#define PORT 5101
/* INET_DIAG_NOCOOKIE in both words of idiag_cookie: no cookie to check. */
#define NOCOOKIE (~0ULL)

/* One end of a request's socket id: an address (4 or 16 bytes, network order) and a port. */
struct end {
  unsigned char addr[16];
  unsigned short port;
};

static struct end end_of(const struct sockaddr_storage *ss) {
  struct end e = {{0}, 0};
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const void *)ss;
    memcpy(e.addr, &a->sin_addr, 4);
    e.port = ntohs(a->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const void *)ss;
    memcpy(e.addr, &a->sin6_addr, 16);
    e.port = ntohs(a->sin6_port);
  }
  return e;
}

static struct end local(int fd) {
  struct sockaddr_storage a = {0};
  socklen_t len = sizeof a;
  getsockname(fd, (void *)&a, &len);
  return end_of(&a);
}

static struct end peer(int fd) {
  struct sockaddr_storage a = {0};
  socklen_t len = sizeof a;
  getpeername(fd, (void *)&a, &len);
  return end_of(&a);
}

static struct end v4(const char *ip, int port) {
  struct end e = {{0}, (unsigned short)port};
  inet_pton(AF_INET, ip, e.addr);
  return e;
}

/* The request's idiag_if: the link a socket tied to one (SO_BINDTODEVICE) must be named by. */
static int diag_if;

/* Sends SOCK_DESTROY for the socket of `family` and `protocol` (IPPROTO_RAW: `rawproto` names
 * the raw socket's protocol) whose id is src -> dst with `cookie`; returns the errno of the
 * netlink ACK (0: destroyed). */
static int destroy(int family, int protocol, int rawproto, struct end src, struct end dst, unsigned long long cookie) {
  struct destroy_req req = destroy_req();
  req.r.sdiag_family = family;
  req.r.sdiag_protocol = protocol;
  req.r.pad = rawproto;
  req.r.id.idiag_sport = htons(src.port);
  req.r.id.idiag_dport = htons(dst.port);
  memcpy(req.r.id.idiag_src, src.addr, 16);
  memcpy(req.r.id.idiag_dst, dst.addr, 16);
  req.r.id.idiag_if = diag_if;
  req.r.id.idiag_cookie[0] = (unsigned)cookie;
  req.r.id.idiag_cookie[1] = (unsigned)(cookie >> 32);
  return destroy_send(&req);
}

static int destroy4(int protocol, struct end src, struct end dst, unsigned long long cookie) {
  return destroy(AF_INET, protocol, 0, src, dst, cookie);
}

static int udp4(const char *ip, int port) {
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  if (ip) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (bind(u, (void *)&a, sizeof a) < 0) perror("bind");
  }
  return u;
}

static void to(int fd, const char *ip, int port, const char *msg) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  if (sendto(fd, msg, strlen(msg), 0, (void *)&a, sizeof a) < 0) perror("sendto");
}

static int connect4(int fd, const char *ip, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return connect(fd, (void *)&a, sizeof a) < 0 ? errno : 0;
}

static int bind4(int fd, const char *ip, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return bind(fd, (void *)&a, sizeof a) < 0 ? errno : 0;
}

static int listener(int port, int reuse) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (reuse) setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind4(l, "127.0.0.1", port) != 0 || listen(l, 8) < 0) perror("listener");
  return l;
}

/* A received datagram's text, or the errno of recv(MSG_DONTWAIT). */
static const char *rd(int fd) {
  static char out[64];
  ssize_t n = recv(fd, out, sizeof out - 1, MSG_DONTWAIT);
  if (n < 0) return name(errno);
  out[n] = 0;
  if (n == 0) return "0";
  return out;
}

static const char *device(int fd) {
  static char dev[32];
  socklen_t len = sizeof dev;
  memset(dev, 0, sizeof dev);
  if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &len) < 0) return name(errno);
  return dev;
}

/* A socket's address with ports shown relative to PORT ("P+1") or as "E" (ephemeral), 0 as 0. */
static const char *shown(struct end e, int family) {
  static char b[2][80];
  static int k;
  char *out = b[k ^= 1], ip[64];
  inet_ntop(family, e.addr, ip, sizeof ip);
  if (e.port == 0) snprintf(out, 80, "%s:0", ip);
  else if (e.port >= PORT && e.port < PORT + 50) snprintf(out, 80, "%s:P+%d", ip, e.port - PORT);
  else snprintf(out, 80, "%s:E", ip);
  return out;
}

/* Runs ss with `args` (after "ss -K -H") and prints its output, blanks squeezed and ports (from
 * 1024) shown as `shown` does. */
static void ss_kill(const char *what, char *const args[]) {
  int p[2];
  if (pipe(p) < 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    char *argv[16] = {"ss", "-K", "-H"};
    int i = 3;
    for (int j = 0; args[j] && i < 15; j++) argv[i++] = args[j];
    argv[i] = NULL;
    execv("/usr/bin/ss", argv);
    _exit(127);
  }
  close(p[1]);
  char buf[4096], out[4096];
  size_t len = 0, o = 0;
  ssize_t r;
  while ((r = read(p[0], buf + len, sizeof buf - 1 - len)) > 0) len += r;
  buf[len] = 0;
  close(p[0]);
  int status;
  waitpid(pid, &status, 0);
  for (size_t i = 0; i < len && o < sizeof out - 16; i++) {
    if (buf[i] == ' ' && o > 0 && out[o - 1] == ' ') continue;
    if (buf[i] == ':' && buf[i + 1] >= '1' && buf[i + 1] <= '9' && atoi(buf + i + 1) >= 1024) {
      int port = atoi(buf + i + 1);
      while (buf[i + 1] >= '0' && buf[i + 1] <= '9') i++;
      if (port >= PORT && port < PORT + 50) o += snprintf(out + o, 16, ":P+%d", port - PORT);
      else o += snprintf(out + o, 16, ":E");
      continue;
    }
    out[o++] = buf[i];
  }
  out[o] = 0;
  printf("$ ss -K -H %s (exit %d)\n%s", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
}

static struct end any4 = {{0}, 0};

static void udp_cases(void) {
  int srv = udp4("127.0.0.1", PORT);

  /* A connected socket that connect(2) bound: found by its 4-tuple; aborted, disconnected and
   * unhashed (its port is free again: no SOCK_BINDPORT_LOCK). */
  int c = udp4(NULL, 0);
  connect4(c, "127.0.0.1", PORT);
  struct end cl = local(c), cp = peer(c);
  printf("udp no such socket: %s\n", name(destroy4(IPPROTO_UDP, cl, v4("127.0.0.1", PORT + 9), NOCOOKIE)));
  printf("udp other cookie: %s\n", name(destroy4(IPPROTO_UDP, cl, cp, cookie_of(srv))));
  printf("udp connected: %s\n", name(destroy4(IPPROTO_UDP, cl, cp, cookie_of(c))));
  printf("udp destroyed: poll %s", events(c));
  printf(", SO_ERROR %s", name(so_error(c)));
  printf(", then %s", name(so_error(c)));
  printf(", poll %s\n", events(c));
  printf("udp destroyed: name %s", shown(local(c), AF_INET));
  printf(", peer %s", getpeername(c, (void *)&(struct sockaddr_storage){0}, &(socklen_t){sizeof(struct sockaddr_storage)}) < 0 ? name(errno) : "ok");
  printf(", again %s\n", name(destroy4(IPPROTO_UDP, cl, cp, NOCOOKIE)));
  int again = udp4(NULL, 0);
  printf("udp its port: bind %s\n", name(bind4(again, "127.0.0.1", cl.port)));
  close(again);
  /* The error goes to the next send; a send without a destination still lacks one. */
  printf("udp destroyed: send %s", send(c, "x", 1, MSG_DONTWAIT) < 0 ? name(errno) : "1");
  close(c);
  c = udp4(NULL, 0);
  connect4(c, "127.0.0.1", PORT);
  destroy4(IPPROTO_UDP, local(c), peer(c), NOCOOKIE);
  printf(", send again %s", send(c, "x", 1, MSG_DONTWAIT) < 0 ? name(errno) : "1");
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  printf(", sendto %s", sendto(c, "x", 1, MSG_DONTWAIT, (void *)&sa, sizeof sa) < 0 ? name(errno) : "1");
  printf(", sendto %s", sendto(c, "y", 1, MSG_DONTWAIT, (void *)&sa, sizeof sa) < 0 ? name(errno) : "1");
  printf(", name %s\n", shown(local(c), AF_INET));
  printf("udp server got: %s", rd(srv));
  printf(", %s\n", rd(srv));
  close(c);

  /* A socket bound by bind(2) to an address and port keeps them (SOCK_BINDADDR_LOCK,
   * SOCK_BINDPORT_LOCK): still found, still receiving; the error comes before queued data. */
  int b = udp4("127.0.0.1", PORT + 1);
  to(srv, "127.0.0.1", PORT + 1, "before");
  usleep(20000);
  struct end bl = local(b);
  printf("udp bound: %s", name(destroy4(IPPROTO_UDP, bl, any4, cookie_of(b))));
  printf(", poll %s", events(b));
  printf(", read %s", rd(b));
  printf(", read %s", rd(b));
  printf(", read %s\n", rd(b));
  to(srv, "127.0.0.1", PORT + 1, "after");
  usleep(20000);
  printf("udp bound destroyed: name %s, read %s", shown(local(b), AF_INET), rd(b));
  printf(", again %s", name(destroy4(IPPROTO_UDP, bl, any4, NOCOOKIE)));
  printf(", read %s\n", rd(b));
  close(b);

  /* Bound to the wildcard address: the port stays, the address was never fixed. A connect(2)
   * fixed the source address; the abort resets it. */
  b = udp4("0.0.0.0", PORT + 2);
  connect4(b, "127.0.0.1", PORT);
  printf("udp wildcard connected: name %s", shown(local(b), AF_INET));
  printf(", destroy %s", name(destroy4(IPPROTO_UDP, local(b), peer(b), NOCOOKIE)));
  printf(", name %s\n", shown(local(b), AF_INET));
  close(b);

  /* The device binding goes too (sk_bound_dev_if = 0), as on connect(2) with AF_UNSPEC, which
   * disconnects the same way (__udp_disconnect): an automatic port goes back. */
  b = udp4("127.0.0.1", PORT + 18);
  if (setsockopt(b, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) < 0) perror("SO_BINDTODEVICE");
  printf("udp bound to lo: destroy %s", name(destroy4(IPPROTO_UDP, local(b), any4, NOCOOKIE)));
  diag_if = 1;
  printf(", with idiag_if 1 %s", name(destroy4(IPPROTO_UDP, local(b), any4, NOCOOKIE)));
  printf(", device [%s]\n", device(b));
  diag_if = 0;
  close(b);
  c = udp4(NULL, 0);
  if (setsockopt(c, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) < 0) perror("SO_BINDTODEVICE");
  connect4(c, "127.0.0.1", PORT);
  printf("udp AF_UNSPEC: name %s", shown(local(c), AF_INET));
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  printf(", connect %s", connect(c, &unspec, sizeof unspec) < 0 ? name(errno) : "ok");
  printf(", name %s, device [%s], SO_ERROR %s\n", shown(local(c), AF_INET), device(c), name(so_error(c)));
  close(c);
  /* Bound to an address with port 0: the address stays (SOCK_BINDADDR_LOCK), the port picked
   * goes; the next send binds a new one on that address. */
  b = udp4("127.0.0.1", 0);
  printf("udp bound to 127.0.0.1:0: destroy %s", name(destroy4(IPPROTO_UDP, local(b), any4, NOCOOKIE)));
  printf(", name %s", shown(local(b), AF_INET));
  struct sockaddr_in srv_addr = {.sin_family = AF_INET, .sin_port = htons(PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  printf(", sendto %s", sendto(b, "z", 1, 0, (void *)&srv_addr, sizeof srv_addr) < 0 ? name(errno) : "1");
  printf(", name %s\n", shown(local(b), AF_INET));
  rd(srv);
  close(b);

  /* A reader blocked in recv(2) wakes with ECONNABORTED; an epoll waiter for EPOLLIN sees EPOLLERR. */
  b = udp4("127.0.0.1", PORT + 3);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = b};
  epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev);
  pid_t kid = fork();
  if (kid == 0) {
    char buf[8];
    alarm(5);
    ssize_t n = recv(b, buf, sizeof buf, 0);
    printf("udp blocked reader: %s\n", n < 0 ? name(errno) : "data");
    _exit(0);
  }
  usleep(100000);
  const char *destroyed = name(destroy4(IPPROTO_UDP, local(b), any4, NOCOOKIE));
  waitpid(kid, NULL, 0); // the woken reader says its part first: stdout is not raced for
  printf("udp under a blocked reader: %s\n", destroyed);
  destroy4(IPPROTO_UDP, local(b), any4, NOCOOKIE);
  struct epoll_event got[2];
  int n = epoll_wait(ep, got, 2, 1000);
  printf("udp epoll: %d%s%s%s\n", n, n > 0 && (got[0].events & EPOLLIN) ? " IN" : "",
         n > 0 && (got[0].events & EPOLLERR) ? " ERR" : "", n > 0 && (got[0].events & EPOLLHUP) ? " HUP" : "");
  close(ep);
  close(b);

  /* IPv6, and an IPv4 socket named by its v4-mapped address in an AF_INET6 request. */
  int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT + 4), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  if (bind(u6, (void *)&a6, sizeof a6) < 0) perror("bind6");
  struct end any6 = {{0}, 0};
  /* Bound to one IPv6 address, the socket became IPv6-only (what ss shows as its peer [::]:*). */
  int v6only = -1;
  getsockopt(u6, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &(socklen_t){sizeof v6only});
  printf("udp6 bound to ::1: IPV6_V6ONLY %d\n", v6only);
  printf("udp6 as AF_INET: %s", name(destroy4(IPPROTO_UDP, local(u6), any4, NOCOOKIE)));
  printf(", as AF_INET6: %s", name(destroy(AF_INET6, IPPROTO_UDP, 0, local(u6), any6, NOCOOKIE)));
  printf(", read %s\n", rd(u6));
  close(u6);
  /* A connected IPv6 socket, by its tuple; a dual-stack one (IPV6_V6ONLY off) bound to [::] is in
   * the IPv4 table too. */
  u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  a6.sin6_port = htons(PORT + 4);
  connect(u6, (void *)&a6, sizeof a6);
  printf("udp6 connected: %s", name(destroy(AF_INET6, IPPROTO_UDP, 0, local(u6), peer(u6), NOCOOKIE)));
  printf(", name %s, read %s\n", shown(local(u6), AF_INET6), rd(u6));
  close(u6);
  u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  int off = 0;
  setsockopt(u6, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  struct sockaddr_in6 w6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT + 14)};
  if (bind(u6, (void *)&w6, sizeof w6) < 0) perror("bind dual");
  printf("udp dual-stack as AF_INET: %s", name(destroy4(IPPROTO_UDP, v4("127.0.0.1", PORT + 14), any4, NOCOOKIE)));
  printf(", as AF_INET6: %s", name(destroy(AF_INET6, IPPROTO_UDP, 0, local(u6), any6, NOCOOKIE)));
  printf(", read %s\n", rd(u6));
  close(u6);
  b = udp4("127.0.0.1", PORT + 5);
  struct end mapped = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}, PORT + 5};
  struct end mapped_any = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0}, 0};
  printf("udp v4-mapped request: %s", name(destroy(AF_INET6, IPPROTO_UDP, 0, mapped, mapped_any, NOCOOKIE)));
  printf(", read %s\n", rd(b));
  close(b);

  /* Without CAP_NET_ADMIN: EPERM when found, ENOENT when not. */
  b = udp4("127.0.0.1", PORT + 6);
  kid = fork();
  if (kid == 0) {
    if (setuid(65534) < 0) perror("setuid");
    printf("udp unprivileged: %s", name(destroy4(IPPROTO_UDP, local(b), any4, NOCOOKIE)));
    printf("; no such socket: %s\n", name(destroy4(IPPROTO_UDP, v4("127.0.0.1", PORT + 9), any4, NOCOOKIE)));
    _exit(0);
  }
  waitpid(kid, NULL, 0);
  printf("udp after the unprivileged try: read %s\n", rd(b));
  close(b);

  /* UDP-Lite has its own table. */
  int lite = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
  bind4(lite, "127.0.0.1", PORT + 7);
  printf("udplite as udp: %s", name(destroy4(IPPROTO_UDP, local(lite), any4, NOCOOKIE)));
  printf(", as udplite: %s", name(destroy4(IPPROTO_UDPLITE, local(lite), any4, NOCOOKIE)));
  printf(", read %s\n", rd(lite));
  close(lite);

  /* ss -K for UDP: it dumps the sockets its filter matches and destroys each. */
  b = udp4("127.0.0.1", PORT + 8);
  char *udp_args[] = {"-u", "-a", "sport", "=", ":5109", NULL};
  ss_kill("-u -a sport = :P+8", udp_args);
  printf("after ss -K: read %s\n", rd(b));
  close(b);
  /* A connected socket by its destination; an IPv6 one by its source. */
  c = udp4(NULL, 0);
  connect4(c, "127.0.0.1", PORT);
  char *dst_args[] = {"-u", "dst", "127.0.0.1:5101", NULL};
  ss_kill("-u dst 127.0.0.1:P", dst_args);
  printf("after ss -K: read %s\n", rd(c));
  close(c);
  u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  a6.sin6_port = htons(PORT + 15);
  if (bind(u6, (void *)&a6, sizeof a6) < 0) perror("bind6");
  char *six_args[] = {"-u", "-a", "-6", "src", "[::1]:5116", NULL};
  ss_kill("-u -a -6 src [::1]:P+15", six_args);
  printf("after ss -K: read %s\n", rd(u6));
  close(u6);
  close(srv);
}

static void listener_cases(void) {
  /* A listener with a connection waiting for accept: the listener closes (accept: EINVAL, the
   * error in SO_ERROR) and the waiting connection is reset. */
  int l = listener(PORT + 10, 0);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  connect4(c, "127.0.0.1", PORT + 10);
  usleep(20000);
  struct end ll = local(l);
  printf("listener other cookie: %s\n", name(destroy4(IPPROTO_TCP, ll, any4, cookie_of(c))));
  printf("listener: %s\n", name(destroy4(IPPROTO_TCP, ll, any4, NOCOOKIE)));
  usleep(50000);
  printf("listener destroyed: poll %s", events(l));
  fcntl(l, F_SETFL, O_NONBLOCK);
  printf(", accept %s", accept(l, NULL, NULL) < 0 ? name(errno) : "ok");
  printf(", SO_ERROR %s", name(so_error(l)));
  printf(", then %s\n", name(so_error(l)));
  printf("listener destroyed: name %s", shown(local(l), AF_INET));
  printf(", again %s\n", name(destroy4(IPPROTO_TCP, ll, any4, NOCOOKIE)));
  printf("its queued client: poll %s", events(c));
  printf(", read %s", rd(c));
  printf(", SO_ERROR %s\n", name(so_error(c)));
  close(c);
  c = socket(AF_INET, SOCK_STREAM, 0);
  printf("connect to its port: %s\n", name(connect4(c, "127.0.0.1", PORT + 10)));
  close(c);
  /* Its port stays bound (SOCK_BINDPORT_LOCK): another socket cannot take it; the socket may
   * listen again. */
  int other = socket(AF_INET, SOCK_STREAM, 0);
  printf("its port: bind %s", name(bind4(other, "127.0.0.1", PORT + 10)));
  close(other);
  printf(", listen again %s", listen(l, 8) < 0 ? name(errno) : "ok");
  c = socket(AF_INET, SOCK_STREAM, 0);
  printf(", connect %s\n", name(connect4(c, "127.0.0.1", PORT + 10)));
  close(c);
  close(l);

  /* IPv6. */
  int l6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT + 13), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  if (bind(l6, (void *)&a6, sizeof a6) < 0 || listen(l6, 8) < 0) perror("listener6");
  struct end any6 = {{0}, 0};
  printf("listener6 as AF_INET: %s", name(destroy4(IPPROTO_TCP, local(l6), any4, NOCOOKIE)));
  printf(", as AF_INET6: %s", name(destroy(AF_INET6, IPPROTO_TCP, 0, local(l6), any6, NOCOOKIE)));
  fcntl(l6, F_SETFL, O_NONBLOCK);
  printf(", accept %s\n", accept(l6, NULL, NULL) < 0 ? name(errno) : "ok");
  close(l6);
  /* A dual-stack listener (IPV6_V6ONLY off, bound to [::]) is in the IPv4 listening table too. */
  l6 = socket(AF_INET6, SOCK_STREAM, 0);
  int off = 0;
  setsockopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  struct sockaddr_in6 w6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT + 17)};
  if (bind(l6, (void *)&w6, sizeof w6) < 0 || listen(l6, 8) < 0) perror("listener dual");
  /* Its IPv4 connection (an AF_INET6 socket with IPv4-mapped addresses) is found by an AF_INET
   * request with the IPv4 tuple. */
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect4(c, "127.0.0.1", PORT + 17);
  int acc = accept(l6, NULL, NULL);
  printf("dual-stack connection as AF_INET: %s", name(destroy4(IPPROTO_TCP, v4("127.0.0.1", PORT + 17), local(c), NOCOOKIE)));
  printf(", read %s\n", rd(acc));
  close(acc);
  close(c);
  printf("listener dual-stack as AF_INET: %s", name(destroy4(IPPROTO_TCP, v4("127.0.0.1", PORT + 17), any4, NOCOOKIE)));
  printf(", accept %s\n", accept(l6, NULL, NULL) < 0 ? name(errno) : "ok");
  close(l6);
  /* A listener that listen(2) bound itself gives its port back. */
  l = socket(AF_INET, SOCK_STREAM, 0);
  listen(l, 8);
  struct end auto_end = local(l);
  printf("autobound listener: %s", name(destroy4(IPPROTO_TCP, auto_end, any4, NOCOOKIE)));
  printf(", name %s", shown(local(l), AF_INET));
  other = socket(AF_INET, SOCK_STREAM, 0);
  printf(", its port: bind %s\n", name(bind4(other, "0.0.0.0", auto_end.port)));
  close(other);
  close(l);

  /* A blocked accept(2) wakes. */
  l = listener(PORT + 11, 1);
  pid_t kid = fork();
  if (kid == 0) {
    alarm(5);
    int a = accept(l, NULL, NULL);
    printf("blocked accept: %s\n", a < 0 ? name(errno) : "connection");
    _exit(0);
  }
  usleep(100000);
  const char *destroyed = name(destroy4(IPPROTO_TCP, local(l), any4, NOCOOKIE));
  waitpid(kid, NULL, 0); // the woken accept says its part first: stdout is not raced for
  printf("under a blocked accept: %s\n", destroyed);
  close(l);

  /* ss -K for listeners. */
  l = listener(PORT + 12, 1);
  char *tcp_args[] = {"-t", "-l", "sport", "=", ":5113", NULL};
  ss_kill("-t -l sport = :P+12", tcp_args);
  fcntl(l, F_SETFL, O_NONBLOCK);
  printf("after ss -K: accept %s\n", accept(l, NULL, NULL) < 0 ? name(errno) : "ok");
  close(l);
  l6 = socket(AF_INET6, SOCK_STREAM, 0);
  a6.sin6_port = htons(PORT + 16);
  if (bind(l6, (void *)&a6, sizeof a6) < 0 || listen(l6, 8) < 0) perror("listener6");
  char *tcp6_args[] = {"-t", "-l", "-6", "sport", "=", ":5117", NULL};
  ss_kill("-t -l -6 sport = :P+16", tcp6_args);
  fcntl(l6, F_SETFL, O_NONBLOCK);
  printf("after ss -K: accept %s\n", accept(l6, NULL, NULL) < 0 ? name(errno) : "ok");
  close(l6);
}

/* An ICMP echo request with identifier `id`, checksummed. */
static void echo(int fd, int id) {
  unsigned char m[8] = {8, 0, 0, 0, id >> 8, id & 0xff, 0, 1};
  unsigned sum = 0;
  for (int i = 0; i < 8; i += 2) sum += (m[i] << 8) | m[i + 1];
  sum = (sum & 0xffff) + (sum >> 16);
  sum = ~sum & 0xffff;
  m[2] = sum >> 8;
  m[3] = sum & 0xff;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (sendto(fd, m, sizeof m, 0, (void *)&a, sizeof a) < 0) perror("echo");
}

/* How many datagrams a socket has queued, read without waiting. */
static int drain(int fd) {
  char b[256];
  int n = 0;
  while (recv(fd, b, sizeof b, MSG_DONTWAIT) >= 0) n++;
  return n;
}

/* Lines of /proc/net/raw past its header. */
static int proc_net_raw(void) {
  FILE *f = fopen("/proc/net/raw", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof line, f)) n++;
  if (f) fclose(f);
  return n;
}

static void raw_and_ping_cases(void) {
  /* raw_abort cannot be compared here (this kernel lacks CONFIG_INET_RAW_DIAG), but its
   * disconnect can: connect(2) with AF_UNSPEC is the same __udp_disconnect, which takes the raw
   * socket out of the raw table (it receives nothing more, /proc/net/raw no longer lists it). */
  int r = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  bind4(r, "127.0.0.1", 0);
  echo(r, 7);
  usleep(20000);
  printf("raw: %d datagrams, /proc/net/raw %d", drain(r), proc_net_raw());
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  printf(", AF_UNSPEC %s", connect(r, &unspec, sizeof unspec) < 0 ? name(errno) : "ok");
  echo(r, 8);
  usleep(20000);
  printf(", then %d datagrams, /proc/net/raw %d, name %s\n", drain(r), proc_net_raw(), shown(local(r), AF_INET));
  close(r);

  /* Ping sockets have no inet_diag handler: nothing finds them. */
  int f = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (f < 0 || write(f, "0 0", 3) != 3) perror("ping_group_range");
  close(f);
  int p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  if (p < 0) perror("ping socket");
  echo(p, 0);
  usleep(20000);
  printf("ping as icmp: %s", name(destroy4(IPPROTO_ICMP, local(p), any4, NOCOOKIE)));
  printf(", as raw: %s", name(destroy(AF_INET, IPPROTO_RAW, IPPROTO_ICMP, any4, any4, NOCOOKIE)));
  printf(", read %s\n", recv(p, (char[64]){0}, 64, MSG_DONTWAIT) < 0 ? name(errno) : "reply");
  close(p);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  udp_cases();
  listener_cases();
  raw_and_ping_cases();
  return 0;
}
