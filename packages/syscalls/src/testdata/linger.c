/* SO_LINGER, TCP_CONGESTION and TCP_INFO through setsockopt/getsockopt, and a lingering close(2)
 * of a non-blocking TCP socket whose data the peer never reads. Run natively, the output is what
 * sys-socket-linger.test.ts expects of tsvisor. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
static const char *res(int r) { return r == 0 ? "0" : strerrorname_np(errno); }

int main(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (bind(l, (void *)&a, sizeof a) || listen(l, 1) || getsockname(l, (void *)&a, &al)) return 1;
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  connect(c, (void *)&a, sizeof a);
  int s = accept(l, 0, 0);
  if (s < 0) return 2;

  struct linger lg = {1, 1}, got = {0, 0};
  printf("linger optlen 4: %s\n", res(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, 4)));
  printf("linger: %s\n", res(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg)));
  socklen_t gl = sizeof got;
  int r = getsockopt(c, SOL_SOCKET, SO_LINGER, &got, &gl);
  printf("get linger: %s %d %d len %u\n", res(r), got.l_onoff, got.l_linger, gl);
  printf("congestion optlen 0: %s\n", res(setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 0)));
  printf("congestion bogus: %s\n", res(setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "bogus", 5)));
  printf("congestion reno: %s\n", res(setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "reno", 4)));
  char name[32] = {0};
  gl = sizeof name;
  r = getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, name, &gl);
  printf("get congestion: %s %s len %u\n", res(r), name, gl);
  unsigned char info[8] = {0};
  gl = sizeof info;
  r = getsockopt(c, IPPROTO_TCP, TCP_INFO, info, &gl);
  printf("tcp_info: %s state %d len %u\n", res(r), info[0], gl);

  /* The peer never reads: the window closes and the data stays unacknowledged. */
  static char buf[65536];
  while (write(c, buf, sizeof buf) > 0) {
  }
  double t0 = now();
  r = close(c);
  double took = now() - t0;
  printf("lingering close: %s waited %s\n", res(r), took >= 0.9 && took < 2 ? "the linger time" : "wrong");

  /* Everything acknowledged: close does not wait. */
  int d = socket(AF_INET, SOCK_STREAM, 0);
  connect(d, (void *)&a, sizeof a);
  int e = accept(l, 0, 0);
  setsockopt(d, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  write(d, "hi", 2);
  read(e, buf, 2);
  usleep(20000);
  t0 = now();
  r = close(d);
  took = now() - t0;
  printf("acknowledged close: %s waited %s\n", res(r), took < 0.5 ? "nothing" : "wrong");
  close(s);
  close(e);
  close(l);
  return 0;
}
