/* Host-socket behaviours beyond the netstack conformance programs, on 127.0.0.1 and ::1 only:
 * SO_RCVTIMEO/SO_SNDTIMEO on blocking calls (recv*, read, readv, accept: EAGAIN; send, write: the
 * bytes sent or EAGAIN; connect to a full accept queue: EINPROGRESS; a signal: EINTR rather than a
 * restart), blocking writes of 8 MiB that return only when all is sent, SO_TIMESTAMP(NS) cmsgs,
 * IP_RECVERR/IPV6_RECVERR with MSG_ERRQUEUE (and a blocking receive that a queued error does not
 * wake), control messages inet sockets ignore or refuse (SCM_RIGHTS, SCM_CREDENTIALS, a bad
 * cmsg_len, too much control data), and SO_LINGER {1, 0} (reset on close). Prints the same lines
 * natively and under `tsvisor do --network host` (host-network-conformance.test.ts); waits are
 * printed as "about T" when they took T seconds, give or take a loaded machine. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOOK_SLACK 1.5
#define TOOK_DIGITS 1
#include "sock-util.h"

static void on_alarm(int s) { (void)s; }

static void receive_timeouts(void) {
  int a, b;
  udp_pair(AF_INET, &a, &b);
  char buf[16];
  printf("rcvtimeo usec 1000000: %s\n", res(timeo(b, SO_RCVTIMEO, 0, 1000000)));
  printf("rcvtimeo usec -1: %s\n", res(timeo(b, SO_RCVTIMEO, 0, -1)));
  struct timeval tv = {0, 200000};
  printf("rcvtimeo optlen 8: %s\n", res(setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, 8)));
  printf("rcvtimeo 0.2s: %s\n", res(timeo(b, SO_RCVTIMEO, 0, 200000)));
  struct timeval got = {0};
  socklen_t gl = sizeof got;
  getsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &got, &gl);
  printf("get rcvtimeo: %ld %ld len %u\n", (long)got.tv_sec, (long)got.tv_usec, gl);
  double t0 = now();
  printf("recv: %s", res(recv(b, buf, sizeof buf, 0)));
  printf(" after %s\n", took(t0, 0.2));
  t0 = now();
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  printf("recvfrom: %s", res(recvfrom(b, buf, sizeof buf, 0, (void *)&from, &fl)));
  printf(" after %s\n", took(t0, 0.2));
  struct iovec iov = {buf, sizeof buf};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  t0 = now();
  printf("recvmsg: %s", res(recvmsg(b, &m, 0)));
  printf(" after %s\n", took(t0, 0.2));
  t0 = now();
  printf("read: %s", res(read(b, buf, sizeof buf)));
  printf(" after %s\n", took(t0, 0.2));
  t0 = now();
  printf("readv: %s", res(readv(b, &iov, 1)));
  printf(" after %s\n", took(t0, 0.2));
  /* Data that is there comes at once. */
  send(a, "x", 1, 0);
  t0 = now();
  printf("recv with data: %s", res(recv(b, buf, sizeof buf, 0)));
  printf(" after %s\n", took(t0, 0));

  /* A signal during a wait with a timeout: EINTR even under SA_RESTART (sock_intr_errno). */
  struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
  sigaction(SIGALRM, &sa, 0);
  timeo(b, SO_RCVTIMEO, 5, 0);
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, 0);
  t0 = now();
  printf("recv interrupted: %s", res(recv(b, buf, sizeof buf, 0)));
  printf(" after %s\n", took(t0, 0.1));

  /* A negative time: no wait at all; it reads back as 0 like "for ever". */
  printf("rcvtimeo -1s: %s\n", res(timeo(b, SO_RCVTIMEO, -1, 0)));
  gl = sizeof got;
  getsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &got, &gl);
  printf("get rcvtimeo: %ld %ld\n", (long)got.tv_sec, (long)got.tv_usec);
  t0 = now();
  printf("recv: %s", res(recv(b, buf, sizeof buf, 0)));
  printf(" after %s\n", took(t0, 0));
  close(a);
  close(b);

  int c, s, l;
  tcp_pair(&c, &s, &l);
  timeo(l, SO_RCVTIMEO, 0, 200000);
  t0 = now();
  printf("accept: %s", res(accept(l, 0, 0)));
  printf(" after %s\n", took(t0, 0.2));
  timeo(s, SO_RCVTIMEO, 0, 200000);
  send(c, "abc", 3, 0);
  t0 = now();
  long n = recv(s, buf, 8, MSG_WAITALL);
  printf("recv waitall of 8 with 3 there: %s after %s\n", res(n), took(t0, 0.2));
  close(c);
  close(s);
  close(l);
}

static void send_timeouts(void) {
  int c, s, l;
  tcp_pair(&c, &s, &l);
  int small = 4096;
  setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  printf("sndtimeo 0.2s: %s\n", res(timeo(c, SO_SNDTIMEO, 0, 200000)));
  size_t big = 8 << 20;
  char *buf = calloc(1, big);
  double t0 = now();
  long n = send(c, buf, big, 0);
  printf("send 8 MiB to a peer that never reads: %s after %s\n",
         n > 0 && (size_t)n < big ? "partial" : res(n), took(t0, 0.2));
  t0 = now();
  n = send(c, buf, big, 0);
  printf("send again: %s", res(n));
  printf(" after %s\n", took(t0, 0.2));
  t0 = now();
  n = write(c, buf, big);
  printf("write: %s", res(n));
  printf(" after %s\n", took(t0, 0.2));
  /* A signal during the wait: EINTR, not a restart. */
  timeo(c, SO_SNDTIMEO, 5, 0);
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, 0);
  t0 = now();
  n = write(c, buf, big);
  printf("write interrupted: %s", res(n));
  printf(" after %s\n", took(t0, 0.1));
  free(buf);
  close(c);
  close(s);
  close(l);

  /* A listener whose accept queue is full drops the next SYN: connect waits, and SO_SNDTIMEO
   * ends the wait with EINPROGRESS (the attempt goes on). */
  struct sockaddr_in a;
  int first, rc;
  l = full_listener(&a, &first, &rc);
  printf("connect to fill the queue: %s\n", res(rc));
  int late = socket(AF_INET, SOCK_STREAM, 0);
  timeo(late, SO_SNDTIMEO, 0, 300000);
  t0 = now();
  printf("connect to a full queue: %s", res(connect(late, (void *)&a, sizeof a)));
  printf(" after %s\n", took(t0, 0.3));
  printf("connect again: %s\n", res(connect(late, (void *)&a, sizeof a)));
  close(late);
  close(first);
  close(l);
}

/* A blocking write(2), writev(2) and send(2) of 8 MiB to a peer that reads slowly return only
 * once all of it is sent (tcp_sendmsg), however little the socket buffer holds at a time. */
static void whole_writes(void) {
  int c, s, l;
  tcp_pair(&c, &s, &l);
  pid_t p = fork();
  if (p == 0) {
    close(c);
    static char in[65536];
    long total = 0, n;
    usleep(50000);
    while ((n = read(s, in, sizeof in)) > 0) total += n;
    printf("peer read %ld\n", total);
    _exit(0);
  }
  close(s);
  size_t big = 8 << 20;
  char *buf = calloc(1, big);
  printf("write 8 MiB: %s\n", res(write(c, buf, big)));
  struct iovec iov[2] = {{buf, big / 2}, {buf + big / 2, big / 2}};
  printf("writev 8 MiB: %s\n", res(writev(c, iov, 2)));
  printf("send 8 MiB: %s\n", res(send(c, buf, big, 0)));
  free(buf);
  close(c);
  waitpid(p, 0, 0);
  close(l);
}

static void print_cmsgs(struct msghdr *m) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    printf(" [%d %d %zu]", c->cmsg_level, c->cmsg_type, (size_t)(c->cmsg_len - CMSG_LEN(0)));
  }
}

static void timestamps(void) {
  int a, b;
  udp_pair(AF_INET, &a, &b);
  int on = 1;
  printf("SO_TIMESTAMP: %s\n", res(setsockopt(b, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on)));
  send(a, "ts", 2, 0);
  char buf[16];
  union {
    char c[256];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {buf, sizeof buf};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.c, .msg_controllen = sizeof ctl};
  struct timeval before;
  gettimeofday(&before, 0);
  long n = recvmsg(b, &m, 0);
  printf("recvmsg: %s flags %d", res(n), m.msg_flags);
  print_cmsgs(&m);
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  if (c && c->cmsg_type == SCM_TIMESTAMP) {
    struct timeval tv;
    memcpy(&tv, CMSG_DATA(c), sizeof tv);
    printf(" %s", labs(tv.tv_sec - before.tv_sec) <= 5 ? "now" : "not now");
  }
  printf("\n");
  on = 0;
  setsockopt(b, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on);
  on = 1;
  printf("SO_TIMESTAMPNS: %s\n", res(setsockopt(b, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on)));
  send(a, "ts", 2, 0);
  m.msg_controllen = sizeof ctl;
  n = recvmsg(b, &m, 0);
  printf("recvmsg: %s flags %d", res(n), m.msg_flags);
  print_cmsgs(&m);
  c = CMSG_FIRSTHDR(&m);
  if (c && c->cmsg_type == SCM_TIMESTAMPNS) {
    struct timespec ts;
    memcpy(&ts, CMSG_DATA(c), sizeof ts);
    printf(" %s", labs(ts.tv_sec - before.tv_sec) <= 5 && ts.tv_nsec < 1000000000 ? "now" : "not now");
  }
  printf("\n");
  /* Too little room: MSG_CTRUNC, as put_cmsg. */
  send(a, "ts", 2, 0);
  m.msg_controllen = CMSG_LEN(4);
  n = recvmsg(b, &m, 0);
  printf("recvmsg short control: %s flags %#x controllen %zu\n", res(n), m.msg_flags, (size_t)m.msg_controllen);
  close(a);
  close(b);
}

static void error_queue(int family) {
  /* A port nobody listens on: bind one, note it, close it. */
  int a, b;
  udp_pair(family, &a, &b);
  close(b);
  int on = 1;
  int level = family == AF_INET ? SOL_IP : SOL_IPV6;
  int opt = family == AF_INET ? IP_RECVERR : IPV6_RECVERR;
  printf("%s recverr: %s\n", family == AF_INET ? "IP" : "IPV6", res(setsockopt(a, level, opt, &on, sizeof on)));
  char buf[64];
  union {
    char c[512];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {buf, sizeof buf};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.c, .msg_controllen = sizeof ctl};
  printf("errqueue empty: %s\n", res(recvmsg(a, &m, MSG_ERRQUEUE)));
  send(a, "lost", 4, 0);
  struct pollfd p = {a, POLLIN, 0};
  int r = poll(&p, 1, 2000);
  printf("poll: %d revents %#x\n", r, p.revents);
  printf("recv: %s\n", res(recv(a, buf, sizeof buf, MSG_DONTWAIT)));
  /* The queued error shows in poll, but a blocking receive still waits for data. */
  p.revents = 0;
  r = poll(&p, 1, 0);
  printf("poll again: %d revents %#x\n", r, p.revents);
  timeo(a, SO_RCVTIMEO, 0, 400000);
  double t0 = now();
  printf("blocking recv: %s", res(recv(a, buf, sizeof buf, 0)));
  printf(" after %s\n", took(t0, 0.4));
  timeo(a, SO_RCVTIMEO, 0, 0);
  struct sigaction sa = {.sa_handler = on_alarm};
  sigaction(SIGALRM, &sa, 0);
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, 0);
  t0 = now();
  printf("blocking read: %s", res(read(a, buf, sizeof buf)));
  printf(" after %s\n", took(t0, 0.1));
  m.msg_controllen = sizeof ctl;
  long n = recvmsg(a, &m, MSG_ERRQUEUE);
  printf("errqueue: %s flags %#x payload %.*s", res(n), m.msg_flags, n > 0 ? (int)n : 0, buf);
  print_cmsgs(&m);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level == level && c->cmsg_type == opt) {
      struct sock_extended_err e;
      memcpy(&e, CMSG_DATA(c), sizeof e);
      printf(" errno %s origin %d type %d code %d", strerrorname_np(e.ee_errno), e.ee_origin, e.ee_type,
             e.ee_code);
    }
  }
  printf("\n");
  m.msg_controllen = sizeof ctl;
  printf("errqueue again: %s\n", res(recvmsg(a, &m, MSG_ERRQUEUE)));
  printf("recv after: %s\n", res(recv(a, buf, sizeof buf, MSG_DONTWAIT)));
  close(a);
}

static long send_cmsg(int fd, int level, int type, const void *data, size_t len, size_t cmsg_len) {
  union {
    char c[256];
    struct cmsghdr align;
  } ctl = {0};
  struct cmsghdr *c = (void *)ctl.c;
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = cmsg_len ? cmsg_len : CMSG_LEN(len);
  memcpy(CMSG_DATA(c), data, len);
  struct iovec iov = {"cm", 2};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.c, .msg_controllen = CMSG_SPACE(len)};
  return sendmsg(fd, &m, 0);
}

static void refused_cmsgs(void) {
  int a, b;
  udp_pair(AF_INET, &a, &b);
  int fds[2] = {0, 1};
  printf("udp SCM_RIGHTS: %s\n", res(send_cmsg(a, SOL_SOCKET, SCM_RIGHTS, fds, sizeof fds, 0)));
  struct ucred cr = {getpid(), getuid(), getgid()};
  printf("udp SCM_CREDENTIALS: %s\n", res(send_cmsg(a, SOL_SOCKET, SCM_CREDENTIALS, &cr, sizeof cr, 0)));
  int ttl = 9;
  printf("udp cmsg_len 8: %s\n", res(send_cmsg(a, SOL_IP, IP_TTL, &ttl, sizeof ttl, 8)));
  printf("udp cmsg_len past the buffer: %s\n", res(send_cmsg(a, SOL_IP, IP_TTL, &ttl, sizeof ttl, 64)));
  printf("udp unknown level: %s\n", res(send_cmsg(a, 1234, 1, &ttl, sizeof ttl, 0)));
  printf("udp unknown SOL_IP type: %s\n", res(send_cmsg(a, SOL_IP, 4321, &ttl, sizeof ttl, 0)));
  char big[1];
  struct iovec iov = {"x", 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = big, .msg_controllen = 1 << 20};
  printf("udp 1 MiB of control: %s\n", res(sendmsg(a, &m, 0)));
  m.msg_controllen = 8;
  printf("udp 8 bytes of control: %s\n", res(sendmsg(a, &m, 0)));
  char buf[8];
  int got = 0;
  while (recv(b, buf, sizeof buf, MSG_DONTWAIT) > 0) got++;
  printf("udp datagrams that went: %d\n", got);
  close(a);
  close(b);

  int c, s, l;
  tcp_pair(&c, &s, &l);
  printf("tcp SCM_RIGHTS: %s\n", res(send_cmsg(c, SOL_SOCKET, SCM_RIGHTS, fds, sizeof fds, 0)));
  printf("tcp SOL_IP cmsg (ignored): %s\n", res(send_cmsg(c, SOL_IP, 4321, &ttl, sizeof ttl, 0)));
  printf("tcp read: %s\n", res(recv(s, buf, sizeof buf, MSG_DONTWAIT)));
  /* SO_LINGER {1, 0}: close resets the connection. */
  struct linger lg = {1, 0};
  printf("linger 1 0: %s\n", res(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg)));
  close(c);
  struct pollfd p = {s, POLLIN, 0};
  poll(&p, 1, 2000);
  printf("peer read after reset: %s\n", res(recv(s, buf, sizeof buf, 0)));
  close(s);
  close(l);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  receive_timeouts();
  send_timeouts();
  whole_writes();
  timestamps();
  error_queue(AF_INET);
  error_queue(AF_INET6);
  refused_cmsgs();
  return 0;
}
