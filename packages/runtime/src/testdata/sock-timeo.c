/* SO_RCVTIMEO/SO_SNDTIMEO on the sockets the sandbox serves itself (netstack: TCP, UDP on
 * 127.0.0.1; AF_UNIX stream, datagram and seqpacket): setsockopt's checks and rounding to jiffies
 * (both the old struct timeval and the 64-bit SO_*TIMEO_NEW forms), getsockopt's length handling,
 * the inheritance by accepted sockets, and the bounds on every blocking call: recv, recvfrom,
 * recvmsg, recvmmsg, read, readv and accept give EAGAIN after the time (a stream with MSG_WAITALL
 * what it gathered), send, sendto, sendmsg, sendmmsg, write and writev the bytes sent or EAGAIN,
 * connect to a full AF_UNIX backlog EAGAIN and to a full TCP accept queue EINPROGRESS, a negative
 * time does not wait, and a signal during a wait with a timeout (recv, send, accept) gives EINTR
 * even under SA_RESTART (sock_intr_errno). Prints the same lines
 * natively and under tsvisor (sock-options.test.ts); waits are printed as "about T" when they took
 * T seconds, give or take a loaded machine. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define OLD_RCV 20
#define OLD_SND 21
#define NEW_RCV 66
#define NEW_SND 67
#define WAIT 0.05
#define WAIT_US 50000

#include "sock-util.h"

/* setsockopt's checks and getsockopt's answers, on one socket. */
static void values(const char *what, int fd) {
  static const long cases[][2] = {{0, 1},       {0, 4000},      {0, 4001},        {0, 999999}, {1, 500},
                                  {2, 0},       {-1, 0},        {-5, 999999},     {0, 0},      {0, 1000000},
                                  {0, -1},      {-1, -1},       {1L << 60, 0},    {3600, 1}};
  printf("%s:", what);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct timeval tv = {cases[i][0], cases[i][1]};
    int r = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct timeval got = {-7, -7};
    socklen_t gl = sizeof got;
    getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &gl);
    printf(" {%ld,%ld}=%s>%ld.%06ld", cases[i][0], cases[i][1], r ? strerrorname_np(errno) : "0",
           (long)got.tv_sec, (long)got.tv_usec);
  }
  printf("\n");
  /* The 64-bit forms, and the two directions kept apart. */
  int64_t nv[2] = {0, 10001}, ng[2] = {-7, -7};
  socklen_t gl = sizeof ng;
  printf(" new set: %s", res(setsockopt(fd, SOL_SOCKET, NEW_SND, nv, sizeof nv)));
  long r = getsockopt(fd, SOL_SOCKET, NEW_SND, ng, &gl);
  printf(" new get: %s %lld.%06lld len %u", res(r), (long long)ng[0], (long long)ng[1], gl);
  struct timeval og;
  gl = sizeof og;
  getsockopt(fd, SOL_SOCKET, OLD_SND, &og, &gl);
  printf(" old snd: %ld.%06ld", (long)og.tv_sec, (long)og.tv_usec);
  gl = sizeof og;
  getsockopt(fd, SOL_SOCKET, NEW_RCV, &og, &gl);
  printf(" new rcv: %ld.%06ld\n", (long)og.tv_sec, (long)og.tv_usec);
  /* Lengths: short values are EINVAL, longer ones read 16 bytes; getsockopt cuts to *optlen. */
  struct {
    struct timeval tv;
    char pad[16];
  } big = {{1, 0}, {0}};
  static const int lens[] = {0, 4, 7, 8, 15, 16, 17, 32, -1};
  printf(" set optlen:");
  for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
    printf(" %d=%s", lens[i], res(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &big, lens[i])));
  printf("\n get optlen:");
  static const int glens[] = {0, 4, 7, 8, 15, 16, 17, 100};
  for (size_t i = 0; i < sizeof glens / sizeof glens[0]; i++) {
    unsigned char out[128];
    memset(out, 0xee, sizeof out);
    socklen_t l = glens[i];
    long r = getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, out, &l);
    printf(" %d=%s/%u/%02x%02x", glens[i], res(r), l, out[0], out[l < 100 ? l : 99]);
  }
  socklen_t neg = -1;
  printf(" -1=%s", res(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &og, &neg)));
  printf("\n bad pointers: set16=%s set8=%s get=%s\n", res(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, (void *)8, 16)),
         res(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, (void *)8, 8)),
         res(getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, (void *)8, &gl)));
}

static void all_values(void) {
  int c, s, l;
  tcp_pair(&c, &s, &l);
  values("tcp", c);
  /* An accepted TCP socket is a clone of its listener and keeps its timeouts. */
  timeo(l, SO_RCVTIMEO, 0, 300000);
  timeo(l, SO_SNDTIMEO, 1, 0);
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  getsockname(l, (void *)&a, &al);
  int c2 = socket(AF_INET, SOCK_STREAM, 0);
  connect(c2, (void *)&a, sizeof a);
  int s2 = accept(l, 0, 0);
  struct timeval r, w;
  socklen_t gl = sizeof r;
  getsockopt(s2, SOL_SOCKET, SO_RCVTIMEO, &r, &gl);
  getsockopt(s2, SOL_SOCKET, SO_SNDTIMEO, &w, &gl);
  printf(" accepted tcp: rcv %ld.%06ld snd %ld.%06ld\n", (long)r.tv_sec, (long)r.tv_usec, (long)w.tv_sec,
         (long)w.tv_usec);
  close(c);
  close(s);
  close(l);
  close(c2);
  close(s2);
  int u1, u2;
  udp_pair(AF_INET, &u1, &u2);
  values("udp", u1);
  close(u1);
  close(u2);
  static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  static const char *names[] = {"unix stream", "unix dgram", "unix seqpacket"};
  for (int i = 0; i < 3; i++) {
    int sv[2];
    socketpair(AF_UNIX, types[i], 0, sv);
    values(names[i], sv[0]);
    close(sv[0]);
    close(sv[1]);
  }
  /* An accepted AF_UNIX socket is a new socket: it waits for ever. */
  struct sockaddr_un ua = {.sun_family = AF_UNIX};
  snprintf(ua.sun_path, sizeof ua.sun_path, "/tmp/sock-timeo-%d", getpid());
  unlink(ua.sun_path);
  l = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(l, (void *)&ua, sizeof ua);
  listen(l, 4);
  timeo(l, SO_RCVTIMEO, 0, 300000);
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  connect(c, (void *)&ua, sizeof ua);
  s = accept(l, 0, 0);
  gl = sizeof r;
  getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &r, &gl);
  printf(" accepted unix: rcv %ld.%06ld\n", (long)r.tv_sec, (long)r.tv_usec);
  close(c);
  close(s);
  close(l);
  unlink(ua.sun_path);
}

/* Every receive call on `fd` (nothing queued) waits WAIT and gives EAGAIN. */
static void receives(const char *what, int fd) {
  char buf[16];
  printf("%s rcvtimeo: %s\n", what, res(timeo(fd, SO_RCVTIMEO, 0, WAIT_US)));
  double t0 = now();
  printf(" recv: %s", res(recv(fd, buf, sizeof buf, 0)));
  printf(" after %s\n", took(t0, WAIT));
  struct sockaddr_storage from;
  socklen_t fl = sizeof from;
  t0 = now();
  printf(" recvfrom: %s", res(recvfrom(fd, buf, sizeof buf, 0, (void *)&from, &fl)));
  printf(" after %s\n", took(t0, WAIT));
  struct iovec iov = {buf, sizeof buf};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  t0 = now();
  printf(" recvmsg: %s", res(recvmsg(fd, &m, 0)));
  printf(" after %s\n", took(t0, WAIT));
  struct mmsghdr mm = {.msg_hdr = m};
  t0 = now();
  printf(" recvmmsg: %s", res(recvmmsg(fd, &mm, 1, 0, 0)));
  printf(" after %s\n", took(t0, WAIT));
  t0 = now();
  printf(" read: %s", res(read(fd, buf, sizeof buf)));
  printf(" after %s\n", took(t0, WAIT));
  t0 = now();
  printf(" readv: %s", res(readv(fd, &iov, 1)));
  printf(" after %s\n", took(t0, WAIT));
  /* A negative time: no wait at all. */
  timeo(fd, SO_RCVTIMEO, -1, 0);
  t0 = now();
  printf(" recv with -1s: %s", res(recv(fd, buf, sizeof buf, 0)));
  printf(" after %s\n", took(t0, 0));
  timeo(fd, SO_RCVTIMEO, 0, WAIT_US);
}

static void on_alarm(int s) { (void)s; }

/* A signal during a wait with a timeout: EINTR even under SA_RESTART. */
static void interrupted(const char *what, int fd, int send_side) {
  struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
  sigaction(SIGALRM, &sa, 0);
  timeo(fd, send_side ? SO_SNDTIMEO : SO_RCVTIMEO, 5, 0);
  struct itimerval it = {{0, 0}, {0, WAIT_US}};
  setitimer(ITIMER_REAL, &it, 0);
  double t0 = now();
  static char buf[1 << 16];
  long r = send_side ? send(fd, buf, sizeof buf, 0) : recv(fd, buf, 16, 0);
  /* A TCP send may find a little room while it waits (a window probe took a byte): then the
   * signal ends it with that count, which Linux allows too. */
  if (send_side == 2 && (r > 0 || errno == EINTR)) printf("%s interrupted: EINTR or partial", what);
  else printf("%s interrupted: %s", what, res(r));
  printf(" after %s\n", took(t0, WAIT));
  timeo(fd, send_side ? SO_SNDTIMEO : SO_RCVTIMEO, 0, WAIT_US);
}

static void receive_timeouts(void) {
  int a, b;
  udp_pair(AF_INET, &a, &b);
  receives("udp", b);
  interrupted("udp recv", b, 0);
  close(a);
  close(b);
  static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  static const char *names[] = {"unix stream", "unix dgram", "unix seqpacket"};
  for (int i = 0; i < 3; i++) {
    int sv[2];
    socketpair(AF_UNIX, types[i], 0, sv);
    receives(names[i], sv[1]);
    interrupted(names[i], sv[1], 0);
    close(sv[0]);
    close(sv[1]);
  }
  int c, s, l;
  tcp_pair(&c, &s, &l);
  receives("tcp", s);
  interrupted("tcp recv", s, 0);
  timeo(l, SO_RCVTIMEO, 0, WAIT_US);
  double t0 = now();
  printf("tcp accept: %s", res(accept(l, 0, 0)));
  printf(" after %s\n", took(t0, WAIT));
  /* accept interrupted with a timeout set: EINTR (inet_csk_wait_for_connect). */
  timeo(l, SO_RCVTIMEO, 5, 0);
  struct itimerval it = {{0, 0}, {0, WAIT_US}};
  setitimer(ITIMER_REAL, &it, 0);
  t0 = now();
  printf("tcp accept interrupted: %s", res(accept(l, 0, 0)));
  printf(" after %s\n", took(t0, WAIT));
  /* MSG_WAITALL: what arrived before the time is up. */
  char buf[16];
  send(c, "abc", 3, 0);
  t0 = now();
  long n = recv(s, buf, 8, MSG_WAITALL);
  printf("tcp recv waitall of 8 with 3 there: %s after %s\n", res(n), took(t0, WAIT));
  close(c);
  close(s);
  close(l);

  struct sockaddr_un ua = {.sun_family = AF_UNIX};
  snprintf(ua.sun_path, sizeof ua.sun_path, "/tmp/sock-timeo-%d", getpid());
  unlink(ua.sun_path);
  l = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(l, (void *)&ua, sizeof ua);
  listen(l, 0);
  timeo(l, SO_RCVTIMEO, 0, WAIT_US);
  t0 = now();
  printf("unix accept: %s", res(accept(l, 0, 0)));
  printf(" after %s\n", took(t0, WAIT));
  timeo(l, SO_RCVTIMEO, 5, 0);
  setitimer(ITIMER_REAL, &it, 0);
  t0 = now();
  printf("unix accept interrupted: %s", res(accept(l, 0, 0)));
  printf(" after %s\n", took(t0, WAIT));
  /* A backlog of 0 holds one connection; the next connect waits for room, up to SO_SNDTIMEO. */
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  printf("unix connect: %s\n", res(connect(c, (void *)&ua, sizeof ua)));
  int late = socket(AF_UNIX, SOCK_STREAM, 0);
  timeo(late, SO_SNDTIMEO, 0, WAIT_US);
  t0 = now();
  printf("unix connect to a full backlog: %s", res(connect(late, (void *)&ua, sizeof ua)));
  printf(" after %s\n", took(t0, WAIT));
  s = accept(l, 0, 0);
  timeo(s, SO_RCVTIMEO, 0, WAIT_US);
  send(c, "abc", 3, 0);
  t0 = now();
  n = recv(s, buf, 8, MSG_WAITALL);
  printf("unix recv waitall of 8 with 3 there: %s after %s\n", res(n), took(t0, WAIT));
  close(late);
  close(c);
  close(s);
  close(l);
  unlink(ua.sun_path);
}

/* A stream send after the buffer filled: some bytes (TCP's buffer may grow) or EAGAIN, either
 * "short"; a datagram's EAGAIN as it is. */
static const char *sent(long n, size_t big, int stream) {
  if (stream && n >= 0 && (size_t)n < big) return "short";
  if (stream && n < 0 && errno == EAGAIN) return "short";
  return res(n);
}

/* Fills `fd` (whose peer never reads) with blocking sends bounded by SO_SNDTIMEO. */
static void sends(const char *what, int fd, int stream) {
  size_t big = stream ? 8 << 20 : 1024;
  char *buf = calloc(1, big);
  printf("%s sndtimeo: %s\n", what, res(timeo(fd, SO_SNDTIMEO, 0, WAIT_US)));
  if (stream) {
    double t0 = now();
    long n = send(fd, buf, big, 0);
    printf(" send %zu: %s after %s\n", big, n > 0 && (size_t)n < big ? "partial" : res(n), took(t0, WAIT));
  } else {
    /* Datagrams until the peer's queue is full. */
    int sent = 0;
    while (send(fd, buf, big, MSG_DONTWAIT) > 0) sent++;
    printf(" filled: %s\n", sent > 0 ? "yes" : "no");
    double t0 = now();
    printf(" send: %s", res(send(fd, buf, big, 0)));
    printf(" after %s\n", took(t0, WAIT));
  }
  double t0 = now();
  printf(" send again: %s", sent(send(fd, buf, big, 0), big, stream));
  printf(" after %s\n", took(t0, WAIT));
  t0 = now();
  printf(" sendto: %s", sent(sendto(fd, buf, big, 0, 0, 0), big, stream));
  printf(" after %s\n", took(t0, WAIT));
  struct iovec iov = {buf, big};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  t0 = now();
  printf(" sendmsg: %s", sent(sendmsg(fd, &m, 0), big, stream));
  printf(" after %s\n", took(t0, WAIT));
  struct mmsghdr mm = {.msg_hdr = m};
  t0 = now();
  long r = sendmmsg(fd, &mm, 1, 0);
  printf(" sendmmsg: %s", r == 1 ? sent(mm.msg_len, big, stream) : sent(r, big, stream));
  printf(" after %s\n", took(t0, WAIT));
  t0 = now();
  printf(" write: %s", sent(write(fd, buf, big), big, stream));
  printf(" after %s\n", took(t0, WAIT));
  t0 = now();
  printf(" writev: %s", sent(writev(fd, &iov, 1), big, stream));
  printf(" after %s\n", took(t0, WAIT));
  timeo(fd, SO_SNDTIMEO, -1, 0);
  t0 = now();
  printf(" send with -1s: %s", sent(send(fd, buf, big, 0), big, stream));
  printf(" after %s\n", took(t0, 0));
  timeo(fd, SO_SNDTIMEO, 0, WAIT_US);
  free(buf);
}

static void send_timeouts(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  sends("unix stream", sv[0], 1);
  interrupted("unix stream send", sv[0], 1);
  close(sv[0]);
  close(sv[1]);
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  sends("unix dgram", sv[0], 0);
  close(sv[0]);
  close(sv[1]);
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
  sends("unix seqpacket", sv[0], 0);
  close(sv[0]);
  close(sv[1]);
  int c, s, l;
  tcp_pair(&c, &s, &l);
  sends("tcp", c, 1);
  interrupted("tcp send", c, 2);
  close(c);
  close(s);
  close(l);

  /* A listener whose accept queue is full drops the next SYN: connect waits, and SO_SNDTIMEO
   * ends the wait with EINPROGRESS (the attempt goes on). */
  struct sockaddr_in a;
  int first, rc;
  l = full_listener(&a, &first, &rc);
  printf("tcp connect to fill the queue: %s\n", res(rc));
  int late = socket(AF_INET, SOCK_STREAM, 0);
  timeo(late, SO_SNDTIMEO, 0, WAIT_US);
  double t0 = now();
  printf("tcp connect to a full queue: %s", res(connect(late, (void *)&a, sizeof a)));
  printf(" after %s\n", took(t0, WAIT));
  close(late);
  close(first);
  close(l);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  all_values();
  receive_timeouts();
  send_timeouts();
  return 0;
}
