// Socket calls whose answers come from the host in network mode `host`: each line prints what
// one call returned (a value or the errno's name). Run natively and under `tsvisor do --network
// host`; both must print the same. argv[1]: a 127.0.0.1 port nothing listens on.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0)
    printf("%s: %s\n", what, strerrorname_np(errno));
  else
    printf("%s: %ld\n", what, r);
}

static struct sockaddr_in loop4(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int closed = atoi(argv[1]);
  void *bad = (void *)16;

  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = loop4(closed);
  show("connect closed port", connect(c, (struct sockaddr *)&a, sizeof a));
  close(c);

  int l = socket(AF_INET, SOCK_STREAM, 0);
  a = loop4(0);
  show("bind listener", bind(l, (struct sockaddr *)&a, sizeof a));
  show("accept before listen", accept(l, NULL, NULL));
  show("listen", listen(l, 4));
  socklen_t len = sizeof a;
  show("getsockname", getsockname(l, (struct sockaddr *)&a, &len));
  printf("getsockname len %u family %d\n", len, a.sin_family);
  int port = ntohs(a.sin_port);

  int b = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in same = loop4(port);
  show("bind in use", bind(b, (struct sockaddr *)&same, sizeof same));
  show("bind short", bind(b, (struct sockaddr *)&same, 8));
  show("bind len 129", bind(b, (struct sockaddr *)&same, 129));
  show("bind len -1", bind(b, (struct sockaddr *)&same, -1));
  struct sockaddr_in6 six = {.sin6_family = AF_INET6};
  show("bind inet6 on inet", bind(b, (struct sockaddr *)&six, sizeof six));
  struct sockaddr_in odd = loop4(0);
  odd.sin_family = AF_UNIX;
  show("bind AF_UNIX on inet", bind(b, (struct sockaddr *)&odd, sizeof odd));
  show("bind bad pointer", bind(b, bad, sizeof same));
  show("connect len 1", connect(b, (struct sockaddr *)&same, 1));
  show("connect bad pointer", connect(b, bad, sizeof same));
  show("getsockname bad len pointer", getsockname(b, (struct sockaddr *)&a, bad));
  int one = 1;
  show("setsockopt bad value", setsockopt(b, SOL_SOCKET, SO_REUSEADDR, bad, sizeof one));
  show("setsockopt short", setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, 2));
  show("setsockopt len -1", setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, -1));
  show("setsockopt unknown", setsockopt(b, SOL_SOCKET, 9999, &one, sizeof one));
  show("setsockopt TCP_NODELAY", setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
  int v = -1;
  len = sizeof v;
  show("getsockopt SO_TYPE", getsockopt(b, SOL_SOCKET, SO_TYPE, &v, &len));
  printf("SO_TYPE %d len %u\n", v, len);
  show("getsockopt bad value", getsockopt(b, SOL_SOCKET, SO_TYPE, bad, &len));
  show("getpeername unconnected", getpeername(b, (struct sockaddr *)&a, &len));
  show("sendto unconnected", sendto(b, "x", 1, MSG_NOSIGNAL, NULL, 0));
  show("connect", connect(b, (struct sockaddr *)&same, sizeof same));
  show("connect again", connect(b, (struct sockaddr *)&same, sizeof same));
  len = sizeof a;
  int s = accept(l, (struct sockaddr *)&a, &len);
  show("accept", s >= 0 ? 0 : -1);
  printf("accept len %u family %d\n", len, a.sin_family);
  show("send", send(b, "hello", 5, 0));
  show("send bad buffer", send(b, bad, 5, MSG_NOSIGNAL));
  char buf[16];
  show("recv", recv(s, buf, sizeof buf, 0));
  show("shutdown bad how", shutdown(s, 7));
  show("shutdown write", shutdown(s, SHUT_WR));
  show("recv after peer shutdown", recv(b, buf, sizeof buf, 0));
  show("send after shutdown", send(s, "x", 1, MSG_NOSIGNAL));
  show("recv nothing, nonblocking", recv(b, buf, sizeof buf, MSG_DONTWAIT));
  close(s);
  close(b);
  close(l);

  int u = socket(AF_INET, SOCK_DGRAM, 0);
  a = loop4(0);
  show("udp bind", bind(u, (struct sockaddr *)&a, sizeof a));
  len = sizeof a;
  getsockname(u, (struct sockaddr *)&a, &len);
  show("udp sendto self", sendto(u, "datagram", 8, 0, (struct sockaddr *)&a, sizeof a));
  show("udp sendto short address", sendto(u, "datagram", 8, 0, (struct sockaddr *)&a, 4));
  show("udp sendto bad address", sendto(u, "datagram", 8, 0, bad, sizeof a));
  struct sockaddr_in from;
  len = sizeof from;
  show("udp recvfrom MSG_TRUNC", recvfrom(u, buf, 4, MSG_TRUNC, (struct sockaddr *)&from, &len));
  printf("udp from len %u same port %d\n", len, from.sin_port == a.sin_port);
  show("udp listen", listen(u, 1));
  show("udp recv empty", recv(u, buf, sizeof buf, MSG_DONTWAIT));
  close(u);

  show("socket bad type", socket(AF_INET, 99, 0));
  show("socket bad flags", socket(AF_INET, SOCK_STREAM | 0x100000, 0));
  show("socket udp with tcp protocol", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
  int p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  show("ping socket", p >= 0 ? 0 : -1);
  if (p >= 0) close(p);
  int six6 = socket(AF_INET6, SOCK_STREAM, 0);
  show("inet6 socket", six6 >= 0 ? 0 : -1);
  struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  show("inet6 bind short", bind(six6, (struct sockaddr *)&lo6, 20));
  show("inet6 bind ::1", bind(six6, (struct sockaddr *)&lo6, sizeof lo6));
  close(six6);
  return 0;
}
