/* When a TCP socket is writable, natively and under tsvisor (sock-stream-space.test.ts): the two
 * stacks size their buffers differently, so the program prints the rule, not byte counts.
 * - POLLOUT: Linux's tcp_poll reports it only while the free send space is at least half of
 *   what is queued (sk_stream_is_writeable), so a full socket whose peer reads becomes writable
 *   again once about a third of its queue has drained, although a send would take bytes before.
 * - TCP_NOTSENT_LOWAT: POLLOUT also needs twice the unsent bytes below it, and a send stops
 *   taking bytes once that many are unsent.
 * - SO_SNDLOWAT: always 1, not settable (ENOPROTOOPT). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

static char big[65536];

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* Sends until the socket takes no more (EAGAIN), letting the peer's ACKs in between. */
static long fill(int fd) {
  long total = 0;
  for (int round = 0; round < 4; round++) {
    for (;;) {
      long n = send(fd, big, sizeof big, MSG_DONTWAIT);
      if (n <= 0) break;
      total += n;
    }
    usleep(20000);
  }
  return total;
}

/* Reads up to `n` bytes from the peer, then gives the stack time to move the window on. */
static long drain(int fd, long n) {
  long got = 0;
  while (got < n) {
    long r = recv(fd, big, n - got < (long)sizeof big ? n - got : (long)sizeof big, MSG_DONTWAIT);
    if (r <= 0) break;
    got += r;
  }
  usleep(10000);
  return got;
}

static void threshold(void) {
  int c, s, l;
  tcp_pair(&c, &s, &l);
  /* The reader's buffer fixed: receive autotuning (up to tcp_rmem[2], 32 MiB on some hosts)
   * would let one read open the window for the sender's whole queue. */
  int rcvbuf = 65536;
  setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  nonblock(c);
  printf("fresh: pollout %d\n", pollout(c));
  fill(c);
  long full = outq(c);
  printf("full: pollout %d send %s\n", pollout(c), res(send(c, big, 1, MSG_DONTWAIT)));
  full = outq(c);
  /* Drain the peer in steps of 1/16 of the sender's full queue until POLLOUT comes back. */
  long step = full / 16;
  int free_not_writable = 0, steps = 0, early = 0;
  long at = -1;
  for (; steps < 200; steps++) {
    drain(s, step);
    long q = outq(c);
    if (pollout(c)) {
      at = q;
      break;
    }
    /* Not writable with room free: a one-byte send is taken (then the queue is one byte longer). */
    if (q < full - step / 2 && !free_not_writable) {
      long r = send(c, big, 1, MSG_DONTWAIT);
      free_not_writable = r == 1;
      if (r == 1) full++;
    }
    if (q * 10 < full * 6) early = 1; /* below 60% and still not writable: a wrong rule */
  }
  printf("room free but not writable: %s\n", free_not_writable ? "yes" : "no");
  printf("not writable below 60%% of full: %s\n", early ? "yes" : "no");
  printf("writable again at 50-72%% of full: %s\n", at >= 0 && at * 100 <= full * 72 && at * 100 >= full * 50 ? "yes" : "no");
  printf("then send: %s\n", send(c, big, 1, MSG_DONTWAIT) == 1 ? "taken" : "refused");
  close(c);
  close(s);
  close(l);
}

static void notsent_lowat(void) {
  int c, s, l;
  tcp_pair(&c, &s, &l);
  nonblock(c);
  int v = -7;
  socklen_t len = sizeof v;
  getsockopt(c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len);
  printf("notsent_lowat default %d len %u\n", v, len);
  v = 16384;
  printf("set 16384: %s", res(setsockopt(c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof v)));
  getsockopt(c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len);
  printf(" get %d\n", v);
  printf("one byte sent: pollout %d\n", (send(c, big, 1, 0), usleep(10000), pollout(c)));
  fill(c);
  long q = outq(c);
  printf("filled: pollout %d, queue under 256 KiB: %s\n", pollout(c), q < 262144 ? "yes" : "no");
  for (int i = 0; i < 400 && drain(s, 1 << 20) > 0; i++)
    ;
  usleep(20000);
  printf("peer drained: pollout %d queue %ld\n", pollout(c), outq(c));
  v = -1;
  printf("set -1: %s", res(setsockopt(c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof v)));
  getsockopt(c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len);
  printf(" get %d\n", v);
  v = 8192;
  setsockopt(l, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof v);
  int c2, s2;
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  getsockname(l, (void *)&a, &al);
  c2 = socket(AF_INET, SOCK_STREAM, 0);
  connect(c2, (void *)&a, sizeof a);
  s2 = accept(l, 0, 0);
  v = -7;
  getsockopt(s2, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len);
  printf("accepted from a listener with 8192: %d\n", v);
  close(c2);
  close(s2);
  close(c);
  close(s);
  close(l);
}

static void sndlowat(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int v = 4096;
  socklen_t len = sizeof v;
  printf("SO_SNDLOWAT set 4096: %s", res(setsockopt(fd, SOL_SOCKET, SO_SNDLOWAT, &v, sizeof v)));
  v = 0;
  getsockopt(fd, SOL_SOCKET, SO_SNDLOWAT, &v, &len);
  printf(" get %d\n", v);
  close(fd);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  threshold();
  notsent_lowat();
  sndlowat();
  return 0;
}
