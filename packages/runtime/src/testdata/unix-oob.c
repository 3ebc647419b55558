/* Out-of-band data on AF_UNIX stream sockets (Linux's CONFIG_AF_UNIX_OOB), and SIOCINQ/SIOCOUTQ
 * on unix sockets, natively and under tsvisor (unix-oob.test.ts); both must print the same:
 * - the last byte of a send(MSG_OOB) is the out-of-band byte; poll reports POLLPRI, select the
 *   exceptfds and epoll EPOLLPRI while it is pending; SIOCATMARK says when it is next, a read
 *   stops at it and steps over it (dropping it) unless SO_OOBINLINE;
 * - recv(MSG_OOB) returns it once (MSG_PEEK leaves it), EINVAL when none is pending or with
 *   SO_OOBINLINE; a newer one replaces it, the older byte staying in the stream;
 * - SIGURG goes to the F_SETOWN owner; datagram and seqpacket sockets refuse MSG_OOB;
 * - SIOCINQ counts unread bytes (stream), the first datagram (dgram) or all queued bytes
 *   (seqpacket); SIOCOUTQ the memory the sender's queued buffers hold (their truesize), which
 *   is also what fills SO_SNDBUF and gates POLLOUT.
 * Works on a socketpair and on a pair made by bind/listen/connect/accept. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sock-util.h"

/* "waited" when a wait that should take 0.1 s did (with slack for a loaded machine). */
static const char *waited(double t0) {
  static char buf[48];
  double d = now() - t0;
  if (d >= 0.09 && d < 2) return "waited";
  snprintf(buf, sizeof buf, "took %.3fs", d);
  return buf;
}

static void sendx(int fd, const char *s, int flags) {
  long n = send(fd, s, strlen(s), flags | MSG_NOSIGNAL);
  if (n != (long)strlen(s)) printf("send %s: %s\n", s, res(n));
}

static int ioc(int fd, unsigned long cmd) {
  int v = -1;
  if (ioctl(fd, cmd, &v) < 0) return -errno;
  return v;
}

/* poll's POLLIN/POLLPRI, select's read/except sets, epoll's EPOLLPRI, SIOCATMARK and SIOCINQ of
 * the receiver and SIOCOUTQ of the sender, on one line. */
static void state(const char *what, int s, int c) {
  struct pollfd p = {.fd = s, .events = POLLIN | POLLPRI};
  poll(&p, 1, 0);
  fd_set r, e;
  FD_ZERO(&r);
  FD_ZERO(&e);
  FD_SET(s, &r);
  FD_SET(s, &e);
  struct timeval tv = {0, 0};
  int n = select(s + 1, &r, 0, &e, &tv);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLPRI}, out = {0};
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  int en = epoll_wait(ep, &out, 1, 0);
  close(ep);
  printf("%s: poll%s%s select %d%s%s epoll %d%s atmark %d inq %d outq %d\n", what, p.revents & POLLIN ? " IN" : "",
         p.revents & POLLPRI ? " PRI" : "", n, FD_ISSET(s, &r) ? " r" : "", FD_ISSET(s, &e) ? " e" : "", en,
         out.events & EPOLLPRI ? " PRI" : "", ioc(s, SIOCATMARK), ioc(s, SIOCINQ), ioc(c, SIOCOUTQ));
}

static void pair(int *c, int *s) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  *c = sv[0];
  *s = sv[1];
}

static void basics(void) {
  int c, s;
  pair(&c, &s);
  state("nothing sent", s, c);
  rd("oob with none", s, MSG_OOB);
  rd("recv with none", s, 0);
  sendx(c, "abc", 0);
  sendx(c, "d", MSG_OOB);
  sendx(c, "ef", 0);
  state("abc d! ef", s, c);
  rdn("recv 2", s, 2, 0);
  state("before mark", s, c);
  rd("recv", s, 0);
  state("at mark", s, c);
  rd("oob peek", s, MSG_OOB | MSG_PEEK);
  state("peeked", s, c);
  rd("oob", s, MSG_OOB);
  rd("oob again", s, MSG_OOB);
  state("oob taken", s, c);
  rd("recv", s, 0);
  state("past mark", s, c);
  rd("oob past mark", s, MSG_OOB);
  close(c);
  close(s);
}

/* Only the last byte of a longer send(MSG_OOB) is out of band; a read() stops at it too. */
static void longer_send(void) {
  int c, s;
  pair(&c, &s);
  printf("send: %s\n", res(send(c, "hello!", 6, MSG_OOB)));
  sendx(c, "world", 0);
  state("hello ! world", s, c);
  char b[64];
  long n = read(s, b, sizeof b);
  printf("read: %s \"%.*s\"\n", res(n), n > 0 ? (int)n : 0, b);
  state("at mark", s, c);
  n = read(s, b, sizeof b);
  printf("read over the mark: %s \"%.*s\"\n", res(n), n > 0 ? (int)n : 0, b);
  state("after", s, c);
  rd("oob read past", s, MSG_OOB);
  close(c);
  close(s);
}

static void only_oob(void) {
  int c, s;
  pair(&c, &s);
  sendx(c, "u", MSG_OOB);
  state("only u!", s, c);
  rd("peek", s, MSG_PEEK);
  rd("recv", s, 0);
  state("after recv", s, c);
  rd("oob", s, MSG_OOB);
  sendx(c, "v", MSG_OOB);
  rd("oob", s, MSG_OOB);
  state("after oob", s, c);
  rd("recv", s, 0);
  state("after recv", s, c);
  sendx(c, "w", 0);
  state("w", s, c);
  rd("recv", s, 0);
  state("after", s, c);
  close(c);
  close(s);
}

static void replace(void) {
  int c, s;
  pair(&c, &s);
  sendx(c, "1", 0);
  sendx(c, "A", MSG_OOB);
  sendx(c, "2", 0);
  sendx(c, "B", MSG_OOB);
  sendx(c, "3", 0);
  state("1 A! 2 B! 3", s, c);
  rd("recv", s, 0);
  state("at mark", s, c);
  rd("oob", s, MSG_OOB);
  rd("recv", s, 0);
  state("after", s, c);
  close(c);
  close(s);
  pair(&c, &s);
  sendx(c, "P", MSG_OOB);
  sendx(c, "Q", MSG_OOB);
  state("P! Q!", s, c);
  rd("oob", s, MSG_OOB);
  rd("recv", s, 0);
  rd("recv", s, 0);
  close(c);
  close(s);
}

static void inline_mode(void) {
  int c, s, on = 1;
  pair(&c, &s);
  printf("SO_OOBINLINE: %s\n", res(setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &on, sizeof on)));
  int v = -1;
  socklen_t vl = sizeof v;
  getsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, &vl);
  printf("SO_OOBINLINE is %d\n", v);
  sendx(c, "ab", 0);
  sendx(c, "c", MSG_OOB);
  sendx(c, "de", 0);
  state("inline ab c! de", s, c);
  rd("oob inline", s, MSG_OOB);
  rd("peek", s, MSG_PEEK);
  rd("recv", s, 0);
  state("at mark", s, c);
  rd("peek", s, MSG_PEEK);
  state("peeked", s, c);
  rd("recv", s, 0);
  state("after", s, c);
  sendx(c, "x", MSG_OOB);
  sendx(c, "y", 0);
  state("inline x! y", s, c);
  on = 0;
  setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &on, sizeof on);
  rd("oob not inline", s, MSG_OOB);
  rd("recv", s, 0);
  close(c);
  close(s);
}

static void peeking(void) {
  int c, s;
  pair(&c, &s);
  sendx(c, "ab", 0);
  sendx(c, "c", MSG_OOB);
  sendx(c, "de", 0);
  rd("peek", s, MSG_PEEK);
  rdn("recv 1", s, 1, 0);
  rd("peek", s, MSG_PEEK);
  int off = 0;
  printf("SO_PEEK_OFF: %s\n", res(setsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off)));
  rd("peek", s, MSG_PEEK);
  rd("peek", s, MSG_PEEK);
  rd("peek", s, MSG_PEEK);
  socklen_t ol = sizeof off;
  getsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &off, &ol);
  printf("peek offset %d\n", off);
  rd("recv", s, 0);
  getsockopt(s, SOL_SOCKET, SO_PEEK_OFF, &off, &ol);
  printf("peek offset %d\n", off);
  rd("oob", s, MSG_OOB);
  rd("peek", s, MSG_PEEK);
  rd("recv", s, 0);
  rd("recv", s, 0);
  close(c);
  close(s);
}

static void msg_flags(void) {
  int c, s;
  pair(&c, &s);
  sendx(c, "k", MSG_OOB);
  char b[4];
  struct iovec io = {b, sizeof b};
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1};
  long n = recvmsg(s, &m, MSG_OOB);
  printf("recvmsg oob: %s '%c' flags%s%s\n", res(n), b[0], m.msg_flags & MSG_OOB ? " OOB" : "",
         m.msg_flags & MSG_TRUNC ? " TRUNC" : "");
  sendx(c, "m", 0);
  m.msg_flags = 0;
  n = recvmsg(s, &m, 0);
  printf("recvmsg: %s '%c' flags%s\n", res(n), b[0], m.msg_flags & MSG_OOB ? " OOB" : "");
  close(c);
  close(s);
}

static void select_wakes(void) {
  int c, s;
  pair(&c, &s);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(100000);
    sendx(c, "!", MSG_OOB);
    _exit(0);
  }
  fd_set e;
  FD_ZERO(&e);
  FD_SET(s, &e);
  struct timeval tv = {5, 0};
  double t0 = now();
  int n = select(s + 1, 0, 0, &e, &tv);
  printf("select waiting on exceptfds: %d%s %s\n", n, FD_ISSET(s, &e) ? " e" : "", waited(t0));
  waitpid(pid, 0, 0);
  rd("oob", s, MSG_OOB);
  pid = fork();
  if (pid == 0) {
    usleep(100000);
    sendx(c, "?", MSG_OOB);
    _exit(0);
  }
  struct pollfd p = {.fd = s, .events = POLLPRI};
  t0 = now();
  n = poll(&p, 1, 5000);
  printf("poll waiting for POLLPRI: %d%s %s\n", n, p.revents & POLLPRI ? " PRI" : "", waited(t0));
  waitpid(pid, 0, 0);
  rd("oob", s, MSG_OOB);
  /* A blocking MSG_WAITALL read ends at the mark with what it has. */
  sendx(c, "ab", 0);
  sendx(c, "c", MSG_OOB);
  sendx(c, "de", 0);
  char b[8];
  long r = recv(s, b, sizeof b, MSG_WAITALL);
  printf("waitall: %s \"%.*s\"\n", res(r), r > 0 ? (int)r : 0, b);
  rd("oob", s, MSG_OOB);
  rd("recv", s, 0);
  /* A blocking read of a lone out-of-band byte drops it and waits for data. */
  sendx(c, "u", MSG_OOB);
  pid = fork();
  if (pid == 0) {
    usleep(100000);
    sendx(c, "late", 0);
    _exit(0);
  }
  t0 = now();
  r = recv(s, b, sizeof b, 0);
  printf("blocking read over a lone byte: %s \"%.*s\" %s\n", res(r), r > 0 ? (int)r : 0, b, waited(t0));
  waitpid(pid, 0, 0);
  rd("recv", s, 0);
  close(c);
  close(s);
}

static volatile sig_atomic_t urgs;
static void on_urg(int sig) {
  (void)sig;
  urgs++;
}

static void sigurg(void) {
  int c, s;
  pair(&c, &s);
  signal(SIGURG, on_urg);
  sendx(c, "a", MSG_OOB);
  printf("SIGURG without an owner: %d\n", (int)urgs);
  rd("oob", s, MSG_OOB);
  printf("F_SETOWN: %s\n", res(fcntl(s, F_SETOWN, getpid())));
  sendx(c, "b", MSG_OOB);
  printf("SIGURG with an owner: %d\n", (int)urgs);
  sendx(c, "plain", 0);
  printf("SIGURG after plain data: %d\n", (int)urgs);
  sendx(s, "z", MSG_OOB);
  printf("SIGURG when the owned socket sends: %d\n", (int)urgs);
  signal(SIGURG, SIG_DFL);
  close(c);
  close(s);
}

static void bound_pair(void) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "/tmp/unix-oob-%d.sock", (int)getpid());
  unlink(a.sun_path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  printf("bind: %s\n", res(bind(l, (void *)&a, sizeof a)));
  printf("listen: %s\n", res(listen(l, 1)));
  char b[4];
  printf("oob on a listener: %s\n", res(recv(l, b, 1, MSG_OOB)));
  printf("send oob on a listener: %s\n", res(send(l, "x", 1, MSG_OOB | MSG_NOSIGNAL)));
  printf("listener inq: %d outq: %d\n", ioc(l, SIOCINQ), ioc(l, SIOCOUTQ));
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  printf("connect: %s\n", res(connect(c, (void *)&a, sizeof a)));
  int s = accept(l, 0, 0);
  printf("accept: %s\n", s < 0 ? strerrorname_np(errno) : "ok");
  sendx(c, "hello", 0);
  sendx(c, "!", MSG_OOB);
  sendx(c, "bye", 0);
  state("hello ! bye", s, c);
  rd("recv", s, 0);
  state("at mark", s, c);
  rd("oob", s, MSG_OOB);
  rd("recv", s, 0);
  state("after", s, c);
  sendx(s, "back", MSG_OOB);
  state("back", c, s);
  rd("recv", c, 0);
  rd("oob", c, MSG_OOB);
  close(c);
  close(s);
  close(l);
  unlink(a.sun_path);
}

static void errnos(void) {
  char b[4];
  int f = socket(AF_UNIX, SOCK_STREAM, 0);
  printf("oob on a fresh socket: %s\n", res(recv(f, b, 1, MSG_OOB)));
  printf("send oob on a fresh socket: %s\n", res(send(f, "x", 1, MSG_OOB | MSG_NOSIGNAL)));
  printf("atmark on a fresh socket: %d\n", ioc(f, SIOCATMARK));
  close(f);
  int c, s;
  pair(&c, &s);
  printf("send oob empty: %s\n", res(send(c, "", 0, MSG_OOB)));
  state("after empty oob", s, c);
  shutdown(s, SHUT_RD);
  printf("send oob to a shut reader: %s\n", res(send(c, "x", 1, MSG_OOB | MSG_NOSIGNAL)));
  close(c);
  close(s);
  pair(&c, &s);
  close(s);
  printf("send oob to a closed peer: %s\n", res(send(c, "x", 1, MSG_OOB | MSG_NOSIGNAL)));
  printf("oob after peer closed: %s\n", res(recv(c, b, 1, MSG_OOB | MSG_DONTWAIT)));
  close(c);
  const int types[] = {SOCK_DGRAM, SOCK_SEQPACKET};
  const char *names[] = {"dgram", "seqpacket"};
  for (int i = 0; i < 2; i++) {
    int sv[2];
    socketpair(AF_UNIX, types[i], 0, sv);
    printf("%s send oob: %s\n", names[i], res(send(sv[0], "x", 1, MSG_OOB)));
    printf("%s recv oob: %s\n", names[i], res(recv(sv[1], b, 1, MSG_OOB | MSG_DONTWAIT)));
    printf("%s atmark: %d\n", names[i], ioc(sv[1], SIOCATMARK));
    close(sv[0]);
    close(sv[1]);
  }
}

/* SIOCINQ and SIOCOUTQ before and after the peer reads, for each socket type. */
static void queues(void) {
  static char big[70000];
  const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  const char *names[] = {"stream", "dgram", "seqpacket"};
  for (int i = 0; i < 3; i++) {
    int sv[2];
    socketpair(AF_UNIX, types[i], 0, sv);
    int c = sv[0], s = sv[1];
    printf("%s empty: inq %d outq %d\n", names[i], ioc(s, SIOCINQ), ioc(c, SIOCOUTQ));
    sendx(c, "abc", 0);
    sendx(c, "defgh", 0);
    printf("%s 3+5: inq %d outq %d peer outq %d own inq %d\n", names[i], ioc(s, SIOCINQ), ioc(c, SIOCOUTQ),
           ioc(s, SIOCOUTQ), ioc(c, SIOCINQ));
    rdn("recv 2", s, 2, 0);
    printf("%s after: inq %d outq %d\n", names[i], ioc(s, SIOCINQ), ioc(c, SIOCOUTQ));
    rd("recv", s, 0);
    printf("%s after: inq %d outq %d\n", names[i], ioc(s, SIOCINQ), ioc(c, SIOCOUTQ));
    rd("recv", s, 0);
    printf("%s drained: inq %d outq %d\n", names[i], ioc(s, SIOCINQ), ioc(c, SIOCOUTQ));
    const int sizes[] = {1, 128, 129, 500, 1000, 2000, 3776, 3777, 4000, 5000, 8000, 16000, 32000, 40000, 65536};
    for (unsigned k = 0; k < sizeof sizes / sizeof *sizes; k++) {
      long n = send(c, big, sizes[k], MSG_DONTWAIT);
      printf(" %d:%s/%d/%d", sizes[k], res(n), ioc(s, SIOCINQ), ioc(c, SIOCOUTQ));
      while (recv(s, big, sizeof big, MSG_DONTWAIT) > 0) {
      }
    }
    printf("\n");
    close(c);
    close(s);
  }
}

/* Non-blocking sends of `chunk` bytes until EAGAIN (SO_SNDBUF `sndbuf` unless 0): what went, the
 * sender's SIOCOUTQ and POLLOUT; then reads until POLLOUT comes back. */
static void fill(const char *what, int type, int chunk, int sndbuf) {
  static char big[1 << 20];
  int sv[2];
  socketpair(AF_UNIX, type, 0, sv);
  if (sndbuf) setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  long total = 0, n, calls = 0;
  while ((n = send(sv[0], big, chunk, MSG_DONTWAIT)) > 0 && calls < 1000) {
    total += n;
    calls++;
  }
  printf("%s fill by %d (SO_SNDBUF %d): %ld in %ld sends, then %s; outq %d pollout %d\n", what, chunk, sndbuf, total,
         calls, res(n), ioc(sv[0], SIOCOUTQ), pollout(sv[0]));
  long got = 0;
  int reads = 0;
  while (!pollout(sv[0]) && reads < 1000) {
    n = recv(sv[1], big, type == SOCK_STREAM ? 4096 : 65536, MSG_DONTWAIT);
    if (n <= 0) break;
    got += n;
    reads++;
  }
  printf("  pollout after reading %ld in %d reads: %d, outq %d\n", got, reads, pollout(sv[0]), ioc(sv[0], SIOCOUTQ));
  close(sv[0]);
  close(sv[1]);
}

/* How much the send buffer takes: Linux counts buffer memory against SO_SNDBUF. */
static void fills(void) {
  fill("stream", SOCK_STREAM, 1 << 20, 0);
  fill("stream", SOCK_STREAM, 1, 0);
  fill("stream", SOCK_STREAM, 1000, 0);
  fill("stream", SOCK_STREAM, 100000, 0);
  fill("stream", SOCK_STREAM, 1 << 20, 4096);
  fill("dgram", SOCK_DGRAM, 100000, 0);
  fill("dgram", SOCK_DGRAM, 10, 0);
  fill("seqpacket", SOCK_SEQPACKET, 100000, 0);
  fill("seqpacket", SOCK_SEQPACKET, 1000, 4096);
}

int main(void) {
  setvbuf(stdout, 0, _IOLBF, 0);
  printf("-- basics\n");
  basics();
  printf("-- a longer send\n");
  longer_send();
  printf("-- only the oob byte\n");
  only_oob();
  printf("-- replacing the mark\n");
  replace();
  printf("-- SO_OOBINLINE\n");
  inline_mode();
  printf("-- peeking\n");
  peeking();
  printf("-- msg_flags\n");
  msg_flags();
  printf("-- waiting\n");
  select_wakes();
  printf("-- SIGURG\n");
  sigurg();
  printf("-- a bound pair\n");
  bound_pair();
  printf("-- errnos\n");
  errnos();
  printf("-- queues\n");
  queues();
  printf("-- filling the send buffer\n");
  fills();
  return 0;
}
