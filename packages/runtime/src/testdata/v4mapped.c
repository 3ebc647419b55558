/* IPv4-mapped addresses (::ffff:a.b.c.d) on AF_INET6 TCP and UDP sockets, natively in a fresh
 * network namespace and under tsvisor (v4mapped.test.ts): bind takes the IPv4 address (EINVAL with
 * IPV6_V6ONLY), a listener bound so accepts IPv4 clients and names them mapped, and a socket
 * bound to [::]:port connects to a mapped peer from that port. Go probes exactly this bind at
 * start (ipv4MappedIPv6Enabled): under tsvisor it failed for TCP with EADDRNOTAVAIL, so every Go
 * program took its dual-stack listens for IPv4 only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

static struct sockaddr_in6 mapped(const char *v4, int port) {
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
  char text[64];
  snprintf(text, sizeof text, "::ffff:%s", v4);
  inet_pton(AF_INET6, text, &a.sin6_addr);
  return a;
}

static const char *name6(const struct sockaddr_in6 *a, int port_too) {
  static char out[96];
  char text[64];
  inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
  if (port_too) snprintf(out, sizeof out, "[%s]:%d", text, ntohs(a->sin6_port));
  else snprintf(out, sizeof out, "%s", text);
  return out;
}

static int sock6(int type, int v6only) {
  int s = socket(AF_INET6, type, 0);
  setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  return s;
}

int main(void) {
  const int types[] = {SOCK_STREAM, SOCK_DGRAM};
  for (int i = 0; i < 2; i++) {
    const char *t = types[i] == SOCK_STREAM ? "tcp" : "udp";
    struct sockaddr_in6 a = mapped("127.0.0.1", 0), got;
    socklen_t len = sizeof got;
    int s = sock6(types[i], 0);
    printf("%s bind ::ffff:127.0.0.1: %s", t, res_rc(bind(s, (void *)&a, sizeof a)));
    getsockname(s, (void *)&got, &len);
    printf(", name %s\n", name6(&got, 0));
    printf("%s bind again: %s\n", t, res_rc(bind(s, (void *)&a, sizeof a)));
    close(s);
    s = sock6(types[i], 1);
    printf("%s v6only bind ::ffff:127.0.0.1: %s\n", t, res_rc(bind(s, (void *)&a, sizeof a)));
    close(s);
    s = sock6(types[i], 0);
    struct sockaddr_in6 any = mapped("0.0.0.0", 0);
    printf("%s bind ::ffff:0.0.0.0: %s\n", t, res_rc(bind(s, (void *)&any, sizeof any)));
    close(s);
    s = sock6(types[i], 0);
    struct sockaddr_in6 far = mapped("192.0.2.1", 0);
    printf("%s bind ::ffff:192.0.2.1: %s\n", t, res_rc(bind(s, (void *)&far, sizeof far)));
    close(s);
  }

  /* A TCP listener bound to a mapped address: an AF_INET client reaches it; accept names it mapped. */
  int l = sock6(SOCK_STREAM, 0);
  struct sockaddr_in6 la = mapped("127.0.0.1", 0);
  socklen_t len = sizeof la;
  bind(l, (void *)&la, sizeof la);
  getsockname(l, (void *)&la, &len);
  printf("listen: %s\n", res_rc(listen(l, 4)));
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = la.sin6_port, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  printf("AF_INET connect: %s\n", res_rc(connect(c, (void *)&v4, sizeof v4)));
  struct sockaddr_in6 peer;
  len = sizeof peer;
  int a = accept(l, (void *)&peer, &len);
  printf("accept: %s, peer %s, family %s\n", a >= 0 ? "ok" : res_rc(a), name6(&peer, 0),
         peer.sin6_family == AF_INET6 ? "AF_INET6" : "other");
  write(c, "ping", 4);
  char buf[8] = {0};
  printf("read: %s %.4s\n", res_rc(read(a, buf, 4)), buf);
  int v6c = sock6(SOCK_STREAM, 0);
  struct sockaddr_in6 six = {.sin6_family = AF_INET6, .sin6_port = la.sin6_port, .sin6_addr = in6addr_loopback};
  printf("connect [::1] to the mapped listener: %s\n", res_rc(connect(v6c, (void *)&six, sizeof six)));
  close(v6c);
  close(a);
  close(c);

  /* A socket bound to [::]:port connects to a mapped peer from that port. */
  int b = sock6(SOCK_STREAM, 0);
  struct sockaddr_in6 wild = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
  bind(b, (void *)&wild, sizeof wild);
  len = sizeof wild;
  getsockname(b, (void *)&wild, &len);
  int port = ntohs(wild.sin6_port);
  struct sockaddr_in6 to = mapped("127.0.0.1", ntohs(la.sin6_port));
  printf("bound [::] connect mapped: %s", res_rc(connect(b, (void *)&to, sizeof to)));
  struct sockaddr_in6 me;
  len = sizeof me;
  getsockname(b, (void *)&me, &len);
  printf(", name %s, same port %s\n", name6(&me, 0), ntohs(me.sin6_port) == port ? "yes" : "no");
  a = accept(l, NULL, NULL);
  close(a);
  close(b);
  int ip6 = sock6(SOCK_STREAM, 0);
  struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
  bind(ip6, (void *)&lo6, sizeof lo6);
  printf("bound [::1] connect mapped: %s\n", res_rc(connect(ip6, (void *)&to, sizeof to)));
  close(ip6);
  int only = sock6(SOCK_STREAM, 1);
  printf("v6only connect mapped: %s\n", res_rc(connect(only, (void *)&to, sizeof to)));
  close(only);
  close(l);
  return 0;
}
