/* Dual-stack AF_INET6 TCP sockets (net.ipv6.bindv6only=0): IPV6_V6ONLY defaults to 0, a
 * listener on :: takes IPv4 connections and names their ends ::ffff:a.b.c.d, an AF_INET6 socket
 * connects to ::ffff:127.0.0.1, and a dual-stack :: binding holds the IPv4 port too. Run
 * natively, the output is what sys-socket-dualstack.test.ts expects of tsvisor. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *res(int r) { return r >= 0 ? "ok" : strerrorname_np(errno); }
static void name6(const char *what, struct sockaddr_in6 *a) {
  char buf[64];
  inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
  printf("%s: family %d %s\n", what, a->sin6_family, buf);
}

int main(void) {
  int v = -1;
  socklen_t vl = sizeof v;
  int l = socket(AF_INET6, SOCK_STREAM, 0);
  getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl);
  printf("default v6only: %d\n", v);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
  socklen_t al = sizeof a6;
  if (bind(l, (void *)&a6, sizeof a6) || listen(l, 4) || getsockname(l, (void *)&a6, &al)) return 1;
  int one = 1;
  printf("v6only after bind: %s\n", res(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)));
  int port = ntohs(a6.sin6_port);

  /* The IPv4 port is taken by the dual-stack listener. */
  int b4 = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  printf("ipv4 bind of the port: %s\n", res(bind(b4, (void *)&a4, sizeof a4)));

  /* An IPv4 client reaches it. */
  printf("ipv4 connect: %s\n", res(connect(b4, (void *)&a4, sizeof a4)));
  struct sockaddr_in6 peer;
  al = sizeof peer;
  int s = accept(l, (void *)&peer, &al);
  printf("accept: %s len %u\n", res(s), al);
  name6("accepted peer", &peer);
  al = sizeof peer;
  getsockname(s, (void *)&peer, &al);
  name6("accepted local", &peer);
  printf("data: %s\n", res(write(b4, "x", 1) == 1 && read(s, &v, 1) == 1 ? 0 : -1));

  /* An AF_INET6 client names the IPv4 server as ::ffff:127.0.0.1. */
  int c6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 m = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
  printf("mapped connect: %s\n", res(connect(c6, (void *)&m, sizeof m)));
  al = sizeof peer;
  getsockname(c6, (void *)&peer, &al);
  name6("mapped client local", &peer);
  al = sizeof peer;
  getpeername(c6, (void *)&peer, &al);
  name6("mapped client peer", &peer);

  /* With IPV6_V6ONLY on, a mapped address is unreachable and :: leaves the IPv4 port alone. */
  int o6 = socket(AF_INET6, SOCK_STREAM, 0);
  setsockopt(o6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  printf("v6only mapped connect: %s\n", res(connect(o6, (void *)&m, sizeof m)));
  int p6 = socket(AF_INET6, SOCK_STREAM, 0);
  setsockopt(p6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  int p4 = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in any4 = {.sin_family = AF_INET};
  al = sizeof any4;
  bind(p4, (void *)&any4, sizeof any4);
  getsockname(p4, (void *)&any4, &al);
  struct sockaddr_in6 any6 = {.sin6_family = AF_INET6, .sin6_port = any4.sin_port, .sin6_addr = IN6ADDR_ANY_INIT};
  printf("v6only bind beside ipv4: %s\n", res(bind(p6, (void *)&any6, sizeof any6)));
  int d6 = socket(AF_INET6, SOCK_STREAM, 0);
  printf("dual bind beside ipv4: %s\n", res(bind(d6, (void *)&any6, sizeof any6)));
  return 0;
}
