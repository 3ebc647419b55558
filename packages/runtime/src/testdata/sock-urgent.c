/* TCP urgent data (send/recv with MSG_OOB), natively and under tsvisor (sock-urgent.test.ts):
 * - the last byte of a send(MSG_OOB) is urgent; the receiver's poll reports POLLPRI and select
 *   its exceptfds (also waking a select that waits), SIOCATMARK says when it is next, and a read
 *   stops at that mark; reads step over the urgent byte unless SO_OOBINLINE;
 * - recv(MSG_OOB) returns it once (MSG_PEEK leaves it), EINVAL when none is pending, it was
 *   taken or read past, or with SO_OOBINLINE; MSG_OOB in msg_flags, MSG_TRUNC for no room;
 * - a newer urgent byte replaces an older one, which stays in the stream unless it was next;
 * - SIGURG goes to the owner set with F_SETOWN; datagram sockets refuse MSG_OOB;
 * - and a connection reset by a peer that closed (data sent to it afterwards) reads as
 *   readable and writable in select, with EPIPE from SO_ERROR and the next send; an echo to a
 *   client that closed fails from its second send on. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock-util.h"

static void settle(void) { usleep(30000); }

static void sendx(int fd, const char *s, int flags) {
  if (send(fd, s, strlen(s), flags | MSG_NOSIGNAL) != (long)strlen(s)) printf("send %s: %s\n", s, strerrorname_np(errno));
}

/* poll's POLLIN/POLLPRI and select's read/except sets, SIOCATMARK and FIONREAD, on one line. */
static void state(const char *what, int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN | POLLPRI};
  poll(&p, 1, 0);
  fd_set r, e;
  FD_ZERO(&r);
  FD_ZERO(&e);
  FD_SET(fd, &r);
  FD_SET(fd, &e);
  struct timeval tv = {0, 0};
  int n = select(fd + 1, &r, 0, &e, &tv);
  int mark = -1, inq = -1;
  ioctl(fd, SIOCATMARK, &mark);
  ioctl(fd, FIONREAD, &inq);
  printf("%s: poll%s%s select %d%s%s atmark %d inq %d\n", what, p.revents & POLLIN ? " IN" : "",
         p.revents & POLLPRI ? " PRI" : "", n, FD_ISSET(fd, &r) ? " r" : "", FD_ISSET(fd, &e) ? " e" : "", mark, inq);
}

static void pair(int *c, int *s) {
  int l;
  tcp_pair(c, s, &l);
  close(l);
}

static void basics(void) {
  int c, s;
  pair(&c, &s);
  state("nothing sent", s);
  rd("oob with none", s, MSG_OOB);
  rd("recv with none", s, 0);
  sendx(c, "ab", 0);
  sendx(c, "c", MSG_OOB);
  sendx(c, "de", 0);
  settle();
  state("ab c! de", s);
  rd("recv", s, 0);
  state("at mark", s);
  rd("oob peek", s, MSG_OOB | MSG_PEEK);
  rd("oob", s, MSG_OOB);
  rd("oob again", s, MSG_OOB);
  state("oob taken", s);
  rd("recv", s, 0);
  state("past mark", s);
  rd("oob past mark", s, MSG_OOB);
  close(c);
  close(s);
}

/* Only the last byte of a longer send(MSG_OOB) is urgent. */
static void longer_send(void) {
  int c, s;
  pair(&c, &s);
  sendx(c, "abc", 0);
  sendx(c, "defgh", MSG_OOB);
  settle();
  state("abc defgh!", s);
  rd("recv", s, 0);
  rd("oob", s, MSG_OOB);
  rd("recv", s, 0);
  close(c);
  close(s);
}

static void read_past(void) {
  int c, s;
  pair(&c, &s);
  sendx(c, "x", 0);
  sendx(c, "y", MSG_OOB);
  sendx(c, "z", 0);
  settle();
  rd("recv", s, 0);
  rd("peek", s, MSG_PEEK);
  rd("recv over the mark", s, 0);
  rd("oob read past", s, MSG_OOB);
  state("after", s);
  close(c);
  close(s);
}

static void only_urgent(void) {
  int c, s;
  pair(&c, &s);
  sendx(c, "u", MSG_OOB);
  settle();
  state("only u!", s);
  rd("oob", s, MSG_OOB);
  rd("recv", s, 0);
  state("after", s);
  sendx(c, "v", MSG_OOB);
  settle();
  rd("recv first", s, 0);
  rd("oob after recv", s, MSG_OOB);
  state("after", s);
  close(c);
  close(s);
}

static void inline_mode(void) {
  int c, s, l, on = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  l = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_OOBINLINE, &on, sizeof on);
  bind(l, (void *)&a, sizeof a);
  listen(l, 1);
  getsockname(l, (void *)&a, &al);
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (void *)&a, sizeof a);
  s = accept(l, 0, 0);
  close(l);
  int v = -1;
  socklen_t vl = sizeof v;
  getsockopt(s, SOL_SOCKET, SO_OOBINLINE, &v, &vl);
  printf("accepted SO_OOBINLINE %d\n", v);
  sendx(c, "ab", 0);
  sendx(c, "c", MSG_OOB);
  sendx(c, "de", 0);
  settle();
  state("inline ab c! de", s);
  rd("oob inline", s, MSG_OOB);
  rd("recv", s, 0);
  state("at mark", s);
  rd("recv", s, 0);
  state("after", s);
  close(c);
  close(s);
}

static void two_urgent(void) {
  int c, s;
  pair(&c, &s);
  sendx(c, "1", 0);
  sendx(c, "A", MSG_OOB);
  sendx(c, "2", 0);
  sendx(c, "B", MSG_OOB);
  sendx(c, "3", 0);
  settle();
  state("1 A! 2 B! 3", s);
  rd("recv", s, 0);
  rd("oob", s, MSG_OOB);
  rd("recv", s, 0);
  close(c);
  close(s);
  pair(&c, &s);
  sendx(c, "P", MSG_OOB);
  sendx(c, "Q", MSG_OOB);
  settle();
  state("P! Q!", s);
  rd("oob", s, MSG_OOB);
  rd("recv", s, 0);
  close(c);
  close(s);
}

static void msg_flags(void) {
  int c, s;
  pair(&c, &s);
  sendx(c, "k", MSG_OOB);
  settle();
  char b[4];
  struct iovec io = {b, 0};
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1};
  long n = recvmsg(s, &m, MSG_OOB);
  printf("recvmsg oob no room: %s flags%s%s\n", res(n), m.msg_flags & MSG_OOB ? " OOB" : "",
         m.msg_flags & MSG_TRUNC ? " TRUNC" : "");
  rd("oob after", s, MSG_OOB);
  sendx(c, "m", MSG_OOB);
  settle();
  io.iov_len = sizeof b;
  m.msg_flags = 0;
  n = recvmsg(s, &m, MSG_OOB);
  printf("recvmsg oob: %s '%c' flags%s%s\n", res(n), b[0], m.msg_flags & MSG_OOB ? " OOB" : "",
         m.msg_flags & MSG_TRUNC ? " TRUNC" : "");
  b[0] = '-';
  n = recv(s, b, sizeof b, MSG_OOB | MSG_TRUNC);
  printf("oob trunc after: %s\n", res(n));
  sendx(c, "t", MSG_OOB);
  settle();
  n = recv(s, b, sizeof b, MSG_OOB | MSG_TRUNC);
  printf("oob trunc: %s buffer '%c'\n", res(n), b[0]);
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
  printf("select waiting on exceptfds: %d%s %s\n", n, FD_ISSET(s, &e) ? " e" : "", took(t0, 0.1));
  struct pollfd p = {.fd = s, .events = POLLPRI};
  waitpid(pid, 0, 0);
  rd("oob", s, MSG_OOB);
  pid = fork();
  if (pid == 0) {
    usleep(100000);
    sendx(c, "?", MSG_OOB);
    _exit(0);
  }
  t0 = now();
  n = poll(&p, 1, 5000);
  printf("poll waiting for POLLPRI: %d%s %s\n", n, p.revents & POLLPRI ? " PRI" : "", took(t0, 0.1));
  waitpid(pid, 0, 0);
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
  settle();
  printf("SIGURG without an owner: %d\n", (int)urgs);
  rd("oob", s, MSG_OOB);
  printf("F_SETOWN: %s\n", res(fcntl(s, F_SETOWN, getpid())));
  printf("F_GETOWN is us: %d\n", fcntl(s, F_GETOWN) == getpid());
  sendx(c, "b", MSG_OOB);
  settle();
  printf("SIGURG with an owner: %d\n", (int)urgs);
  sendx(c, "plain", 0);
  settle();
  printf("SIGURG after plain data: %d\n", (int)urgs);
  signal(SIGURG, SIG_DFL);
  close(c);
  close(s);
}

static void errnos(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  char b[4];
  printf("oob on a fresh socket: %s\n", res(recv(l, b, 1, MSG_OOB)));
  int m = -1;
  printf("atmark on a fresh socket: %s %d\n", res(ioctl(l, SIOCATMARK, &m)), m);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(l, (void *)&a, sizeof a);
  listen(l, 1);
  printf("oob on a listener: %s\n", res(recv(l, b, 1, MSG_OOB)));
  printf("send oob on a listener: %s\n", res(send(l, "x", 1, MSG_OOB | MSG_NOSIGNAL)));
  close(l);
  int u, v;
  udp_pair(AF_INET, &u, &v);
  printf("udp send oob: %s\n", res(send(u, "x", 1, MSG_OOB)));
  printf("udp atmark: %s\n", res(ioctl(u, SIOCATMARK, &m)));
  close(u);
  close(v);
  int c, s;
  pair(&c, &s);
  printf("send oob empty: %s\n", res(send(c, "", 0, MSG_OOB)));
  settle();
  state("after empty oob", s);
  close(s);
  settle();
  printf("oob after peer closed: %s\n", res(recv(c, b, 1, MSG_OOB | MSG_DONTWAIT)));
  close(c);
}

/* The peer read what came and closed; more data to it is answered with a RST. */
static void after_reset(void) {
  int c, s;
  char b[128] = {0};
  pair(&c, &s);
  printf("send: %s\n", res(send(c, b, sizeof b, MSG_NOSIGNAL)));
  settle();
  printf("peer reads: %s\n", res(recv(s, b, sizeof b, 0)));
  close(s);
  settle();
  printf("send after peer closed: %s\n", res(send(c, b, sizeof b, MSG_NOSIGNAL)));
  settle();
  fd_set r, w, e;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_ZERO(&e);
  FD_SET(c, &r);
  FD_SET(c, &w);
  FD_SET(c, &e);
  struct timeval tv = {0, 0};
  int n = select(c + 1, &r, &w, &e, &tv);
  struct pollfd p = {.fd = c, .events = POLLIN | POLLOUT | POLLPRI | POLLRDHUP};
  poll(&p, 1, 0);
  printf("reset: select %d%s%s%s poll %#x\n", n, FD_ISSET(c, &r) ? " r" : "", FD_ISSET(c, &w) ? " w" : "",
         FD_ISSET(c, &e) ? " e" : "", p.revents);
  int err = 0;
  socklen_t el = sizeof err;
  getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
  printf("SO_ERROR %s\n", err ? strerrorname_np(err) : "0");
  printf("send: %s\n", res(send(c, b, sizeof b, MSG_NOSIGNAL)));
  printf("recv: %s\n", res(recv(c, b, sizeof b, MSG_DONTWAIT)));
  close(c);
}

/* asynchat's test_close_when_done: the client sends and closes at once; the server reads it all,
 * then echoes: its first send is taken, the closed client answers it with a RST, and the next
 * send fails. */
static void echo_to_closed(void) {
  int c, s;
  char b[64];
  pair(&c, &s);
  sendx(c, "hello\n", 0);
  close(c);
  settle();
  printf("server reads: %s\n", res(recv(s, b, sizeof b, 0)));
  printf("then: %s\n", res(recv(s, b, sizeof b, 0)));
  for (int i = 0; i < 3; i++) {
    printf("echo: %s\n", res(send(s, "h", 1, MSG_NOSIGNAL)));
    settle();
  }
  close(s);
}

int main(void) {
  setvbuf(stdout, 0, _IOLBF, 0);
  printf("-- basics\n");
  basics();
  printf("-- a longer urgent send\n");
  longer_send();
  printf("-- read past the mark\n");
  read_past();
  printf("-- only the urgent byte\n");
  only_urgent();
  printf("-- SO_OOBINLINE\n");
  inline_mode();
  printf("-- two urgent bytes\n");
  two_urgent();
  printf("-- msg_flags\n");
  msg_flags();
  printf("-- waiting\n");
  select_wakes();
  printf("-- SIGURG\n");
  sigurg();
  printf("-- errnos\n");
  errnos();
  printf("-- reset\n");
  after_reset();
  printf("-- echo to a closed client\n");
  echo_to_closed();
  return 0;
}
