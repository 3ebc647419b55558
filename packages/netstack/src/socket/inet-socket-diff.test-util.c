// The socket-call sequence of inet-socket.test.ts, on the host kernel (inside a fresh network
// namespace). Prints one line per call: the result or the errno name; poll masks in hex.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <signal.h>
#include <unistd.h>
#include "host-diff.test-util.h"

static void pollmask(const char *what, int fd) {
  struct pollfd p = {fd, REQ, 0};
  poll(&p, 1, 0);
  printf("%s %x\n", what, p.revents);
}
static void opt(const char *what, int fd, int level, int name) {
  int v = 0;
  socklen_t l = sizeof v;
  int r = getsockopt(fd, level, name, &v, &l);
  printf("%s %s\n", what, r < 0 ? res(r) : res(v));
}

int main(void) {
  char buf[64];
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IONBF, 0);
  int t0 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int t = t0;
  pollmask("fresh tcp poll", t);
  name("getsockname", t, 0);
  name("getpeername", t, 1);
  printf("recv %s\n", res(recv(t, buf, sizeof buf, 0)));
  printf("send %s\n", res(send(t, "x", 1, MSG_NOSIGNAL)));
  printf("shutdown %s\n", res(shutdown(t, SHUT_WR)));
  printf("accept %s\n", res(accept4(t, NULL, NULL, SOCK_NONBLOCK)));
  // shutdown() above marked t0 shut even though it failed (Linux quirk): listen on a fresh socket.
  t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  opt("so_type", t, SOL_SOCKET, SO_TYPE);
  opt("so_acceptconn", t, SOL_SOCKET, SO_ACCEPTCONN);
  opt("tcp_nodelay", t, SOL_TCP, TCP_NODELAY);
  opt("ip_ttl", t, SOL_IP, IP_TTL);
  opt("so_keepalive", t, SOL_SOCKET, SO_KEEPALIVE);
  opt("bogus", t, SOL_SOCKET, 9999);
  opt("keepidle", t, SOL_TCP, TCP_KEEPIDLE);
  opt("keepintvl", t, SOL_TCP, TCP_KEEPINTVL);
  opt("keepcnt", t, SOL_TCP, TCP_KEEPCNT);
  int k = 0;
  printf("set keepidle 0 %s\n", res(setsockopt(t, SOL_TCP, TCP_KEEPIDLE, &k, sizeof k)));
  k = 128;
  printf("set keepcnt 128 %s\n", res(setsockopt(t, SOL_TCP, TCP_KEEPCNT, &k, sizeof k)));
  k = 30;
  printf("set keepidle 30 %s\n", res(setsockopt(t, SOL_TCP, TCP_KEEPIDLE, &k, sizeof k)));
  opt("keepidle", t, SOL_TCP, TCP_KEEPIDLE);
  int one = 1;
  printf("set nodelay %s\n", res(setsockopt(t, SOL_TCP, TCP_NODELAY, &one, sizeof one)));
  opt("tcp_nodelay", t, SOL_TCP, TCP_NODELAY);
  int ttl = 300;
  printf("set ttl 300 %s\n", res(setsockopt(t, SOL_IP, IP_TTL, &ttl, sizeof ttl)));
  struct sockaddr_in srv = sa("127.0.0.1", 8080);
  printf("bind short %s\n", res(bind(t, SA(srv), 8)));
  printf("bind %s\n", res(bind(t, SA(srv), sizeof srv)));
  printf("listen %s\n", res(listen(t, 4)));
  opt("so_acceptconn", t, SOL_SOCKET, SO_ACCEPTCONN);
  printf("accept %s\n", res(accept4(t, NULL, NULL, SOCK_NONBLOCK)));
  pollmask("listener poll", t);
  printf("connect on listener %s\n", res(connect(t, SA(srv), sizeof srv)));
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  printf("connect %s\n", res(connect(c, SA(srv), sizeof srv)));
  WAIT;
  pollmask("client poll", c);
  pollmask("listener poll", t);
  printf("connect again %s\n", res(connect(c, SA(srv), sizeof srv)));
  printf("connect third %s\n", res(connect(c, SA(srv), sizeof srv)));
  opt("so_error", c, SOL_SOCKET, SO_ERROR);
  int a = accept4(t, NULL, NULL, SOCK_NONBLOCK);
  printf("accept %s\n", a >= 0 ? "ok" : res(a));
  name("client name", c, 0);
  name("server peer", a, 1);
  printf("send %s\n", res(send(c, "hello", 5, 0)));
  WAIT;
  int n = 0;
  ioctl(a, FIONREAD, &n);
  printf("fionread %d\n", n);
  printf("peek %s\n", res(recv(a, buf, sizeof buf, MSG_PEEK)));
  printf("recv3 %s\n", res(recv(a, buf, 3, 0)));
  printf("recv %s\n", res(recv(a, buf, sizeof buf, 0)));
  printf("recv %s\n", res(recv(a, buf, sizeof buf, 0)));
  printf("shutdown wr %s\n", res(shutdown(c, SHUT_WR)));
  WAIT;
  printf("recv eof %s\n", res(recv(a, buf, sizeof buf, 0)));
  pollmask("server poll", a);
  printf("send after shut %s\n", res(send(c, "x", 1, MSG_NOSIGNAL)));
  printf("shutdown bad %s\n", res(shutdown(c, 7)));
  printf("server send %s\n", res(send(a, "bye", 3, 0)));
  close(a);
  WAIT;
  printf("client recv %s\n", res(recv(c, buf, sizeof buf, 0)));
  printf("client recv %s\n", res(recv(c, buf, sizeof buf, 0)));
  pollmask("client poll", c);

  int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  pollmask("udp poll", u);
  printf("udp listen %s\n", res(listen(u, 1)));
  printf("udp recv %s\n", res(recv(u, buf, sizeof buf, 0)));
  name("udp getpeername", u, 1);
  printf("udp shutdown %s\n", res(shutdown(u, SHUT_RD)));
  struct sockaddr_in closed = sa("127.0.0.1", 4444);
  printf("udp connect %s\n", res(connect(u, SA(closed), sizeof closed)));
  name("udp name", u, 0);
  name("udp peer", u, 1);
  printf("udp send %s\n", res(send(u, "abc", 3, 0)));
  WAIT;
  pollmask("udp poll after icmp", u);
  opt("udp so_error", u, SOL_SOCKET, SO_ERROR);
  printf("udp recv %s\n", res(recv(u, buf, sizeof buf, 0)));
  struct sockaddr_in unspec = {0};
  unspec.sin_family = AF_UNSPEC;
  printf("udp disconnect %s\n", res(connect(u, SA(unspec), sizeof unspec)));
  name("udp peer", u, 1);
  int u2 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in self = sa("127.0.0.1", 5000);
  printf("udp bind %s\n", res(bind(u2, SA(self), sizeof self)));
  printf("udp sendto self %s\n", res(sendto(u2, "0123456789", 10, 0, SA(self), sizeof self)));
  WAIT;
  ioctl(u2, FIONREAD, &n);
  printf("udp fionread %d\n", n);
  printf("udp recv trunc %s\n", res(recv(u2, buf, 4, MSG_TRUNC)));
  struct sockaddr_in bcast = sa("255.255.255.255", 9);
  printf("udp sendto bcast %s\n", res(sendto(u2, "x", 1, 0, SA(bcast), sizeof bcast)));
  // Ports stay bound by accepted connections and by TIME_WAIT; SO_REUSEADDR on both sides helps.
  for (int reuse = 0; reuse < 2; reuse++) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    struct sockaddr_in p = sa("127.0.0.1", 9090 + reuse);
    printf("reuse%d bind %s\n", reuse, res(bind(l, SA(p), sizeof p)));
    listen(l, 4);
    int cl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(cl, SA(p), sizeof p);
    WAIT;
    int ac = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    int n1 = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(n1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    printf("reuse%d bind while listening %s\n", reuse, res(bind(n1, SA(p), sizeof p)));
    close(l);
    int n0 = socket(AF_INET, SOCK_STREAM, 0);
    printf("reuse%d bind with connection %s\n", reuse, res(bind(n0, SA(p), sizeof p)));
    close(ac);
    WAIT;
    close(cl);
    WAIT;
    printf("reuse%d bind over time_wait %s\n", reuse, res(bind(n0, SA(p), sizeof p)));
    printf("reuse%d bind over time_wait with reuse %s\n", reuse, res(bind(n1, SA(p), sizeof p)));
  }
  // Closing with unread data resets the connection; the peer reads ECONNRESET, then EOF.
  {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in p = sa("127.0.0.1", 9191);
    bind(l, SA(p), sizeof p);
    listen(l, 1);
    int cl = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(cl, SA(p), sizeof p);
    WAIT;
    int ac = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    printf("rst send %s\n", res(send(cl, "unread", 6, 0)));
    WAIT;
    close(ac);
    WAIT;
    pollmask("rst poll", cl);
    opt("rst so_error", cl, SOL_SOCKET, SO_ERROR);
    printf("rst recv %s\n", res(recv(cl, buf, sizeof buf, 0)));
    printf("rst send again %s\n", res(send(cl, "x", 1, MSG_NOSIGNAL)));
    close(l);
    close(cl);
  }
  // ICMP echo (ping) socket
  int pg = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_ICMP);
  printf("ping socket %s\n", pg >= 0 ? "ok" : res(pg));
  opt("ping so_protocol", pg, SOL_SOCKET, SO_PROTOCOL);
  struct sockaddr_in lo = sa("127.0.0.1", 0);
  unsigned char echo[11] = {8, 0, 0, 0, 0x12, 0x34, 0, 7, 'a', 'b', 'c'};
  printf("ping sendto %s\n", res(sendto(pg, echo, sizeof echo, 0, SA(lo), sizeof lo)));
  unsigned char bad[11];
  memcpy(bad, echo, sizeof bad);
  bad[0] = 0;
  printf("ping sendto reply type %s\n", res(sendto(pg, bad, sizeof bad, 0, SA(lo), sizeof lo)));
  printf("ping sendto short %s\n", res(sendto(pg, echo, 4, 0, SA(lo), sizeof lo)));
  WAIT;
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  unsigned char rep[64];
  long rn = recvfrom(pg, rep, sizeof rep, 0, (struct sockaddr *)&from, &fl);
  struct sockaddr_in me;
  socklen_t ml = sizeof me;
  getsockname(pg, (struct sockaddr *)&me, &ml);
  printf("ping recv %s type %d code %d ident %s seq %d data %.3s from port %d\n", res(rn), rep[0], rep[1],
         ((rep[4] << 8) | rep[5]) == ntohs(me.sin_port) && ntohs(me.sin_port) != 0 ? "mine" : "other",
         (rep[6] << 8) | rep[7], rep + 8, ntohs(from.sin_port));
  printf("ping recv again %s\n", res(recv(pg, rep, sizeof rep, 0)));
  printf("ping listen %s\n", res(listen(pg, 1)));
  printf("socket bad proto %s\n", res(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)));
  printf("socket bad flags %s\n", res(socket(AF_INET, SOCK_STREAM | 0x10000, 0)));
  return 0;
}
