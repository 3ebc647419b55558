/* Dual-stack UDP: an AF_INET6 socket on :: with IPV6_V6ONLY off takes IPv4 datagrams (senders
 * shown as ::ffff:a.b.c.d), sends to IPv4-mapped addresses, binds one; a v6-only socket cannot.
 * sys-socket-udp-dualstack.test.ts runs the same steps under tsvisor. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void res(const char *what, int r) {
  if (r < 0) printf("%s: errno %d\n", what, errno);
  else printf("%s: %d\n", what, r);
}

static void show(const char *what, const void *sa, socklen_t len) {
  const unsigned char *b = sa;
  printf("%s: len %d family %d addr ", what, (int)len, b[0]);
  int off = b[0] == AF_INET6 ? 8 : 4, n = b[0] == AF_INET6 ? 16 : 4;
  for (int i = 0; i < n; i++) printf("%02x", b[off + i]);
  printf("\n");
}

static void recvshow(const char *what, int fd) {
  char buf[16];
  struct sockaddr_in6 from;
  socklen_t fl = sizeof from;
  memset(&from, 0, sizeof from);
  int n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
  res(what, n);
  if (n >= 0) show(what, &from, fl);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int r = socket(AF_INET6, SOCK_DGRAM, 0);
  int v;
  socklen_t l = sizeof v;
  getsockopt(r, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l);
  printf("v6only default %d\n", v);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
  socklen_t al = sizeof a6;
  res("bind ::", bind(r, (struct sockaddr *)&a6, sizeof a6));
  getsockname(r, (struct sockaddr *)&a6, &al);
  int port = ntohs(a6.sin6_port);

  int s4 = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(port)};
  a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  res("v4 send to dual", sendto(s4, "v4", 2, 0, (struct sockaddr *)&a4, sizeof a4));
  recvshow("dual recv", r);

  struct sockaddr_in me4;
  socklen_t ml = sizeof me4;
  getsockname(s4, (struct sockaddr *)&me4, &ml);
  struct sockaddr_in6 m6 = {.sin6_family = AF_INET6, .sin6_port = me4.sin_port};
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &m6.sin6_addr);
  res("dual send to mapped", sendto(r, "back", 4, 0, (struct sockaddr *)&m6, sizeof m6));
  recvshow("v4 recv", s4);

  struct sockaddr_in any4 = {.sin_family = AF_INET, .sin_port = htons(port)};
  int b4 = socket(AF_INET, SOCK_DGRAM, 0);
  res("v4 bind same port", bind(b4, (struct sockaddr *)&any4, sizeof any4));

  int o = socket(AF_INET6, SOCK_DGRAM, 0);
  v = 1;
  setsockopt(o, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
  res("v6only send to mapped", sendto(o, "x", 1, 0, (struct sockaddr *)&m6, sizeof m6));
  struct sockaddr_in6 b6 = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &b6.sin6_addr);
  int o2 = socket(AF_INET6, SOCK_DGRAM, 0);
  setsockopt(o2, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
  res("v6only bind mapped", bind(o2, (struct sockaddr *)&b6, sizeof b6));
  res("v6only connect mapped", connect(o2, (struct sockaddr *)&m6, sizeof m6));

  int m = socket(AF_INET6, SOCK_DGRAM, 0);
  res("bind mapped", bind(m, (struct sockaddr *)&b6, sizeof b6));
  struct sockaddr_in6 got;
  socklen_t gl = sizeof got;
  getsockname(m, (struct sockaddr *)&got, &gl);
  show("mapped name", &got, gl);
  a4.sin_port = got.sin6_port;
  res("v4 send to mapped-bound", sendto(s4, "m", 1, 0, (struct sockaddr *)&a4, sizeof a4));
  recvshow("mapped-bound recv", m);

  res("dual connect mapped", connect(r, (struct sockaddr *)&m6, sizeof m6));
  gl = sizeof got;
  getpeername(r, (struct sockaddr *)&got, &gl);
  show("dual peer", &got, gl);
  res("dual send connected", send(r, "c", 1, 0));
  recvshow("v4 recv connected", s4);
  return 0;
}
