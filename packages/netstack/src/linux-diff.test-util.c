// The same socket scenarios as linux-diff.test.ts, on the host kernel (run inside a fresh
// network namespace, so only its own loopback is touched). Prints one line per step.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *res(long r) {
  static char buf[64];
  if (r >= 0) { snprintf(buf, sizeof buf, "%ld", r); return buf; }
  switch (errno) {
  case EAGAIN: return "WOULD_BLOCK";
  case ECONNREFUSED: return "ECONNREFUSED";
  case EADDRINUSE: return "EADDRINUSE";
  case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
  case EINVAL: return "EINVAL";
  case EDESTADDRREQ: return "EDESTADDRREQ";
  case EINPROGRESS: return "EINPROGRESS";
  default: snprintf(buf, sizeof buf, "errno %d", errno); return buf;
  }
}

static struct sockaddr_in sa(const char *ip, int port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}
#define SA(x) ((struct sockaddr *)&(x))

int main(void) {
  char buf[16];
  // 1. connected UDP socket to a closed port
  int c = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in closed = sa("127.0.0.1", 4444);
  printf("udp connect %s\n", res(connect(c, SA(closed), sizeof closed)));
  printf("udp send %s\n", res(send(c, "anyone?", 7, 0)));
  usleep(10000);
  printf("udp recv %s\n", res(recv(c, buf, sizeof buf, 0)));
  printf("udp recv again %s\n", res(recv(c, buf, sizeof buf, 0)));
  // 2. unconnected UDP socket to a closed port
  int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in closed2 = sa("127.0.0.1", 4445);
  printf("udp sendto %s\n", res(sendto(u, "anyone?", 7, 0, SA(closed2), sizeof closed2)));
  usleep(10000);
  printf("udp unconnected recv %s\n", res(recv(u, buf, sizeof buf, 0)));
  printf("udp send no dest %s\n", res(send(u, "x", 1, 0)));
  // 3. bind errors
  int b1 = socket(AF_INET, SOCK_DGRAM, 0), b2 = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in any9000 = sa("0.0.0.0", 9000), lo9000 = sa("127.0.0.1", 9000), lo9001 = sa("127.0.0.1", 9001);
  struct sockaddr_in far = sa("10.9.9.9", 9002);
  printf("bind %s\n", res(bind(b1, SA(any9000), sizeof any9000)));
  printf("bind again %s\n", res(bind(b1, SA(lo9001), sizeof lo9001)));
  printf("bind in use %s\n", res(bind(b2, SA(lo9000), sizeof lo9000)));
  printf("bind not local %s\n", res(bind(b2, SA(far), sizeof far)));
  // 4. TCP connect to a closed port
  int t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in closed3 = sa("127.0.0.1", 1);
  printf("tcp connect %s\n", res(connect(t, SA(closed3), sizeof closed3)));
  struct pollfd p = {t, POLLOUT, 0};
  poll(&p, 1, 1000);
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(t, SOL_SOCKET, SO_ERROR, &err, &len);
  errno = err;
  printf("tcp so_error %s\n", err ? res(-1) : "0");
  return 0;
}
