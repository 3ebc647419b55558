// A destination naming no host (0.0.0.0, ::) means this host, against Linux: TCP connect to
// 0.0.0.0 and :: (getpeername shows where it went: 127.0.0.1, or the bound address; ::1), UDP
// connect and sendto 0.0.0.0 and ::, ::ffff:0.0.0.0 from an IPv6 socket. (stress-ng's sock
// stressor connects to 0.0.0.0.) Run natively in a fresh network namespace and under tsvisor
// --network none: the output must be the same.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *peer(int fd) {
  static char out[80];
  struct sockaddr_in6 a;
  socklen_t l = sizeof a;
  if (getpeername(fd, (struct sockaddr *)&a, &l) < 0) return strerrorname_np(errno);
  char ip[INET6_ADDRSTRLEN];
  if (a.sin6_family == AF_INET)
    inet_ntop(AF_INET, &((struct sockaddr_in *)&a)->sin_addr, ip, sizeof ip);
  else
    inet_ntop(AF_INET6, &a.sin6_addr, ip, sizeof ip);
  snprintf(out, sizeof out, "%s", ip);
  return out;
}

static const char *res(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

static int listener4(const char *ip, int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4)) return -1;
  return l;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int l = listener4("0.0.0.0", 5301);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(5301)};
  const char *r0 = res(connect(c, (struct sockaddr *)&any, sizeof any));
  printf("tcp connect 0.0.0.0: %s, peer %s\n", r0, peer(c));
  close(c);
  // Bound to 127.0.0.2 first: the bound address is where 0.0.0.0 goes.
  c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in me = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.2", &me.sin_addr);
  bind(c, (struct sockaddr *)&me, sizeof me);
  r0 = res(connect(c, (struct sockaddr *)&any, sizeof any));
  printf("tcp connect 0.0.0.0 bound to 127.0.0.2: %s, peer %s\n", r0, peer(c));
  close(c);
  close(l);

  int l6 = socket(AF_INET6, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l6, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(5302), .sin6_addr = in6addr_any};
  if (bind(l6, (struct sockaddr *)&a6, sizeof a6) || listen(l6, 4)) return 2;
  int c6 = socket(AF_INET6, SOCK_STREAM, 0);
  r0 = res(connect(c6, (struct sockaddr *)&a6, sizeof a6));
  printf("tcp connect ::: %s, peer %s\n", r0, peer(c6));
  close(c6);
  c6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 m6 = {.sin6_family = AF_INET6, .sin6_port = htons(5302)};
  inet_pton(AF_INET6, "::ffff:0.0.0.0", &m6.sin6_addr);
  r0 = res(connect(c6, (struct sockaddr *)&m6, sizeof m6));
  printf("tcp connect ::ffff:0.0.0.0: %s, peer %s\n", r0, peer(c6));
  close(c6);
  close(l6);

  int r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ra = {.sin_family = AF_INET, .sin_port = htons(5303)};
  inet_pton(AF_INET, "127.0.0.1", &ra.sin_addr);
  bind(r, (struct sockaddr *)&ra, sizeof ra);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons(5303)};
  printf("udp sendto 0.0.0.0: %s", res(sendto(u, "x", 1, 0, (struct sockaddr *)&ua, sizeof ua)));
  char b[8];
  printf(", received %s\n", res(recv(r, b, sizeof b, MSG_DONTWAIT)));
  r0 = res(connect(u, (struct sockaddr *)&ua, sizeof ua));
  printf("udp connect 0.0.0.0: %s, peer %s", r0, peer(u));
  printf(", send %s", res(send(u, "y", 1, 0)));
  printf(", received %s\n", res(recv(r, b, sizeof b, MSG_DONTWAIT)));

  int r6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 rb = {.sin6_family = AF_INET6, .sin6_port = htons(5304), .sin6_addr = in6addr_loopback};
  bind(r6, (struct sockaddr *)&rb, sizeof rb);
  int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 ub = {.sin6_family = AF_INET6, .sin6_port = htons(5304), .sin6_addr = in6addr_any};
  printf("udp6 sendto ::: %s", res(sendto(u6, "z", 1, 0, (struct sockaddr *)&ub, sizeof ub)));
  printf(", received %s\n", res(recv(r6, b, sizeof b, MSG_DONTWAIT)));
  return 0;
}
