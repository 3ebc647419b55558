/* What SO_SNDBUF and SO_RCVBUF do to a loopback TCP connection, natively and under tsvisor
 * (sock-bufsize.test.ts). The two stacks count buffer memory differently (Linux charges each
 * skb's overhead, netstack only payload), so the program prints relations that hold on Linux
 * from run to run, not byte counts; `-v` adds the counts on stderr.
 * - SO_SNDBUF bounds what a send may queue: with 4096 set (before or after connect) a sender
 *   whose peer does not read stops taking bytes well below 64 KiB, where default buffers take
 *   far more; POLLOUT goes once it is full and comes back when the peer drains it.
 * - SO_RCVBUF bounds the receive queue and the window: a peer with 4096 (set on the listener,
 *   so in force at SYN time) holds a few KiB; set after connect, the window stops growing.
 * - close() with unread data sends RST: the sender's next send fails with ECONNRESET, the one
 *   after with EPIPE (and SIGPIPE without MSG_NOSIGNAL). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock-util.h"

static char big[65536];
static int verbose;

static long inq(int fd) {
  int n = -1;
  ioctl(fd, FIONREAD, &n);
  return n;
}

static void setbuf_opt(int fd, int name, int v) { setsockopt(fd, SOL_SOCKET, name, &v, sizeof v); }

static int getbuf_opt(int fd, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  getsockopt(fd, SOL_SOCKET, name, &v, &len);
  return v;
}

/* Sends without blocking until the socket takes no more, letting the peer's ACKs in between;
 * returns the bytes taken. */
static long fill(int fd) {
  long total = 0;
  for (int round = 0; round < 5; round++) {
    for (;;) {
      long n = send(fd, big, sizeof big, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) break;
      total += n;
    }
    usleep(20000);
  }
  return total;
}

/* A connected pair on 127.0.0.1: `lrcv` > 0 sets SO_RCVBUF on the listener (the accepted socket
 * inherits it, so it is in force at SYN time), `csnd` > 0 SO_SNDBUF on the client before connect. */
static void pair(int *c, int *s, int lrcv, int csnd) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  if (lrcv > 0) setbuf_opt(l, SO_RCVBUF, lrcv);
  bind(l, (void *)&a, sizeof a);
  listen(l, 4);
  getsockname(l, (void *)&a, &al);
  *c = socket(AF_INET, SOCK_STREAM, 0);
  if (csnd > 0) setbuf_opt(*c, SO_SNDBUF, csnd);
  connect(*c, (void *)&a, sizeof a);
  *s = accept(l, 0, 0);
  close(l);
}

static const char *yesno(int b) { return b ? "yes" : "no"; }

/* SO_SNDBUF 4096 on a sender whose peer (SO_RCVBUF 4096 too, so its window is small) never
 * reads: how much a non-blocking send takes, and POLLOUT around it. */
static void sndbuf(const char *when) {
  int c, s;
  int before = strcmp(when, "before") == 0;
  pair(&c, &s, 4096, before ? 4096 : 0);
  if (!before) setbuf_opt(c, SO_SNDBUF, 4096);
  printf("sndbuf 4096 set %s connect: get %d\n", when, getbuf_opt(c, SO_SNDBUF));
  printf("  pollout before filling: %d\n", pollout(c));
  long took = fill(c);
  long peer = inq(s);
  if (verbose) fprintf(stderr, "sndbuf %s: took %ld outq %ld peer %ld\n", when, took, outq(c), peer);
  printf("  accepted >= 4096: %s, < 64 KiB: %s\n", yesno(took >= 4096), yesno(took < 65536));
  printf("  queued unsent+unacked <= 8192: %s\n", yesno(outq(c) <= 8192));
  printf("  pollout when full: %d, send: %s\n", pollout(c), res(send(c, big, 1, MSG_DONTWAIT)));
  /* The peer reads everything: the queue drains and the sender is writable again. */
  for (int i = 0; i < 50 && (recv(s, big, sizeof big, MSG_DONTWAIT) > 0 || inq(s) > 0 || outq(c) > 0); i++)
    usleep(10000);
  printf("  peer drained: pollout %d, outq %ld\n", pollout(c), outq(c));
  close(c);
  close(s);
}

/* A sender with default buffers into a peer that does not read: with SO_RCVBUF 4096 on the
 * listener, the peer holds a few KiB; with the default, far more. */
static void rcvbuf_at_syesno(void) {
  int c, s, c2, s2;
  pair(&c, &s, 4096, 0);
  long took = fill(c);
  long q = inq(s);
  pair(&c2, &s2, 0, 0);
  long took2 = fill(c2);
  long q2 = inq(s2);
  if (verbose)
    fprintf(stderr, "rcvbuf at syn: took %ld peer %ld rcvbuf %d; default took %ld peer %ld rcvbuf %d\n", took, q,
            getbuf_opt(s, SO_RCVBUF), took2, q2, getbuf_opt(s2, SO_RCVBUF));
  printf("rcvbuf 4096 on the listener: accepted socket get %d\n", getbuf_opt(s, SO_RCVBUF));
  printf("  peer queue > 0: %s, <= 8192: %s\n", yesno(q > 0), yesno(q <= 8192));
  printf("  default peer queue > 64 KiB: %s\n", yesno(q2 > 65536));
  close(c);
  close(s);
  close(c2);
  close(s2);
}

/* SO_RCVBUF 4096 set on the accepted socket after connect: the window already offered may
 * still be used (how much differs: Linux offers about 64 KiB at first, netstack its ring), but
 * it no longer grows, so once the peer has read that, it holds at most about 4 KiB at a time
 * while the connection flows on. */
static void rcvbuf_after(void) {
  int c, s;
  pair(&c, &s, 0, 0);
  setbuf_opt(s, SO_RCVBUF, 4096);
  long took = fill(c);
  long q = inq(s);
  printf("rcvbuf 4096 after connect: get %d\n", getbuf_opt(s, SO_RCVBUF));
  printf("  peer queue > 0: %s\n", yesno(q > 0));
  /* Read what came under the old window, then watch the queue while the sender goes on. */
  long got = 0, most = 0;
  while (got < q) {
    long r = recv(s, big, q - got < (long)sizeof big ? q - got : (long)sizeof big, MSG_DONTWAIT);
    if (r <= 0) break;
    got += r;
  }
  long first = got;
  for (int i = 0; i < 40; i++) {
    usleep(5000);
    long n = inq(s);
    if (n > most) most = n;
    long r = recv(s, big, sizeof big, MSG_DONTWAIT);
    if (r > 0) got += r;
  }
  if (verbose) fprintf(stderr, "rcvbuf after: took %ld peer %ld first read %ld then most %ld got %ld\n", took, q, first, most, got);
  printf("  then the peer holds at most 8 KiB: %s, and reads on: %s\n", yesno(most <= 8192), yesno(got > first));
  close(c);
  close(s);
}

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig) {
  (void)sig;
  sigpipes++;
}

/* The peer reads some, then closes with data unread: RST. The sender (SO_SNDBUF 4096, still
 * blocked with most of its data unsent) sees ECONNRESET, then EPIPE and SIGPIPE. */
static void close_unread(void) {
  int c, s;
  pair(&c, &s, 4096, 0);
  setbuf_opt(c, SO_SNDBUF, 4096);
  long took = fill(c);
  long r = recv(s, big, 1024, 0);
  printf("close with unread data: peer read %s, unread left: %s\n", res(r), yesno(inq(s) > 0));
  close(s);
  usleep(20000);
  struct pollfd p = {.fd = c, .events = POLLIN | POLLOUT};
  poll(&p, 1, 0);
  if (verbose) fprintf(stderr, "close unread: took %ld revents %#x\n", took, p.revents);
  printf("  sender poll: POLLERR %d POLLHUP %d POLLOUT %d\n", (p.revents & POLLERR) != 0,
         (p.revents & POLLHUP) != 0, (p.revents & POLLOUT) != 0);
  printf("  send: %s", res(send(c, big, 100, MSG_NOSIGNAL)));
  printf(", again: %s", res(send(c, big, 100, MSG_NOSIGNAL)));
  signal(SIGPIPE, on_sigpipe);
  printf(", without MSG_NOSIGNAL: %s", res(send(c, big, 100, 0)));
  printf(", SIGPIPE %d\n", (int)sigpipes);
  printf("  SO_ERROR after: %d, recv: %s\n", getbuf_opt(c, SO_ERROR), res(recv(c, big, 10, MSG_DONTWAIT)));
  signal(SIGPIPE, SIG_DFL);
  close(c);
}

/* The asyncio test's shape: the sender (SO_SNDBUF 4096 after connect) is blocked in a send of
 * 256 KiB when the peer (SO_RCVBUF 4096 on the listener) reads 1 KiB and closes: the blocked
 * send ends with the bytes it queued or ECONNRESET, far short of 256 KiB; a call after a short
 * one gets the reset. With `use_write`, write(2) instead of send(2) (SIGPIPE ignored). */
static void blocked_sender(int use_write) {
  int c, s;
  pair(&c, &s, 4096, 0);
  setbuf_opt(c, SO_SNDBUF, 4096);
  static char data[262144];
  pid_t pid = fork();
  if (pid == 0) {
    close(c);
    usleep(50000);
    recv(s, big, 1024, 0);
    close(s);
    _exit(0);
  }
  close(s);
  long sent = 0, n;
  int err = 0;
  while (sent < (long)sizeof data &&
         (n = use_write ? write(c, data + sent, sizeof data - sent) : send(c, data + sent, sizeof data - sent, MSG_NOSIGNAL)) > 0)
    sent += n;
  if (sent < (long)sizeof data) err = errno;
  int st;
  waitpid(pid, &st, 0);
  if (verbose) fprintf(stderr, "blocked sender: sent %ld err %s\n", sent, strerrorname_np(err));
  printf("blocked %s of 256 KiB: sent all: %s, error: %s\n", use_write ? "writer" : "sender", yesno(sent == (long)sizeof data),
         err ? strerrorname_np(err) : "none");
  close(c);
}

int main(int argc, char **argv) {
  verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
  setvbuf(stdout, NULL, _IONBF, 0);
  sndbuf("before");
  sndbuf("after");
  rcvbuf_at_syesno();
  rcvbuf_after();
  close_unread();
  blocked_sender(0);
  signal(SIGPIPE, SIG_IGN);
  blocked_sender(1);
  return 0;
}
