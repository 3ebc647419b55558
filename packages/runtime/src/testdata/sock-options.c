/* Every SOL_SOCKET option a program may ask of the sockets the sandbox serves itself (TCP and UDP
 * on 127.0.0.1; AF_UNIX stream, datagram and seqpacket): for each, what getsockopt answers on a
 * fresh socket, what setsockopt answers for the int 1 (the device name "lo" for SO_BINDTODEVICE,
 * lo's index for SO_BINDTOIFINDEX), and what getsockopt answers after. Values that differ from
 * run to run (cookies, pids) are printed as what they must be, not as numbers. Then the options
 * with an effect: SO_RCVLOWAT on a stream (recv and poll wait for that many bytes), SO_PEEK_OFF on
 * AF_UNIX, SO_PEERCRED. Prints the same lines natively and under tsvisor (sock-options.test.ts). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sock-util.h"

struct opt {
  int name;
  const char *label;
  int unstable; /* the value differs between runs: print only whether it is 0 (1) or its length (2) */
};
static const struct opt OPTS[] = {
    {1, "DEBUG", 0},           {2, "REUSEADDR", 0},      {3, "TYPE", 0},           {4, "ERROR", 0},
    {5, "DONTROUTE", 0},       {6, "BROADCAST", 0},      {9, "KEEPALIVE", 0},      {10, "OOBINLINE", 0},
    {11, "NO_CHECK", 0},       {12, "PRIORITY", 0},      {14, "BSDCOMPAT", 0},     {15, "REUSEPORT", 0},
    {16, "PASSCRED", 0},       {18, "RCVLOWAT", 0},      {19, "SNDLOWAT", 0},      {25, "BINDTODEVICE", 0},
    {28, "PEERNAME", 0},       {29, "TIMESTAMP", 0},     {30, "ACCEPTCONN", 0},    {31, "PEERSEC", 0},
    {34, "PASSSEC", 0},        {35, "TIMESTAMPNS", 0},   {36, "MARK", 0},          {37, "TIMESTAMPING", 0},
    {38, "PROTOCOL", 0},       {39, "DOMAIN", 0},        {40, "RXQ_OVFL", 0},      {41, "WIFI_STATUS", 0},
    {42, "PEEK_OFF", 0},       {43, "NOFCS", 0},         {44, "LOCK_FILTER", 0},   {45, "SELECT_ERR_QUEUE", 0},
    {46, "BUSY_POLL", 0},      {47, "MAX_PACING_RATE", 0}, {49, "INCOMING_CPU", 2}, {53, "CNX_ADVICE", 0},
    {56, "INCOMING_NAPI_ID", 0}, {57, "COOKIE", 1},      {59, "PEERGROUPS", 0},    {60, "ZEROCOPY", 0},
    {62, "BINDTOIFINDEX", 0},  {69, "PREFER_BUSY_POLL", 0}, {70, "BUSY_POLL_BUDGET", 0}, {71, "NETNS_COOKIE", 1},
    {72, "BUF_LOCK", 0},       {74, "TXREHASH", 0},      {75, "RCVMARK", 0},       {76, "PASSPIDFD", 0},
};

static void get(int fd, const struct opt *o) {
  unsigned char buf[64];
  memset(buf, 0, sizeof buf);
  socklen_t len = sizeof buf;
  long r = getsockopt(fd, SOL_SOCKET, o->name, buf, &len);
  if (r < 0) {
    printf(" %s", strerrorname_np(errno));
    return;
  }
  int32_t v;
  memcpy(&v, buf, 4);
  if (o->unstable == 2) {
    printf(" ?/%u", len);
  } else if (o->unstable) {
    int nz = 0;
    for (socklen_t i = 0; i < len && i < sizeof buf; i++) nz |= buf[i];
    printf(" %s/%u", nz ? "nz" : "z", len);
  } else if (o->name == 25) {
    printf(" \"%.*s\"/%u", (int)len, buf, len);
  } else {
    printf(" %d/%u", len >= 4 ? v : buf[0], len);
  }
}

static void probe(const char *what, int fd) {
  printf("%s\n", what);
  for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
    const struct opt *o = &OPTS[i];
    printf(" %s:", o->label);
    get(fd, o);
    long r;
    if (o->name == 25) {
      r = setsockopt(fd, SOL_SOCKET, o->name, "lo", 3);
    } else {
      int v = o->name == 62 ? (int)if_nametoindex("lo") : 1;
      r = setsockopt(fd, SOL_SOCKET, o->name, &v, sizeof v);
    }
    printf(" set %s", res(r));
    get(fd, o);
    printf("\n");
  }
}

/* SO_RCVLOWAT on a stream: poll reports POLLIN, and a blocking recv returns, only once that many
 * bytes are queued. */
static void rcvlowat(const char *what, int a, int b) {
  int lowat = 4;
  printf("%s rcvlowat 4: %s", what, res(setsockopt(b, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat)));
  send(a, "ab", 2, 0);
  usleep(20000);
  struct pollfd p = {b, POLLIN, 0};
  int r = poll(&p, 1, 0);
  printf(" poll with 2: %d %#x", r, p.revents);
  send(a, "cd", 2, 0);
  usleep(20000);
  p.revents = 0;
  r = poll(&p, 1, 0);
  printf(" poll with 4: %d %#x", r, p.revents);
  char buf[8];
  printf(" recv: %s", res(recv(b, buf, sizeof buf, 0)));
  /* A blocking receive waits for 4 bytes; with 2 there it returns them when SO_RCVTIMEO ends
   * the wait. */
  struct timeval tv = {0, 50000};
  setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  send(a, "ef", 2, 0);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long n = recv(b, buf, sizeof buf, 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double d = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf(" recv with 2: %s %s", res(n), d >= 0.045 && d < 1 ? "after the timeout" : "at once");
  /* read(2) is a recvmsg too. */
  send(a, "gh", 2, 0);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  n = read(b, buf, sizeof buf);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  d = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf(" read with 2: %s %s", res(n), d >= 0.045 && d < 1 ? "after the timeout" : "at once");
  /* Two writes of 2 while the reader waits: the second one wakes it. (Not bytes already copied
   * out and 2 more: TCP then sleeps on until the time is up, as only queued bytes count.) */
  pid_t kid = fork();
  if (kid == 0) {
    usleep(20000);
    send(a, "ij", 2, 0);
    usleep(20000);
    send(a, "kl", 2, 0);
    _exit(0);
  }
  tv.tv_sec = 5;
  setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  n = read(b, buf, sizeof buf);
  printf(" read waits for 4: %s %.*s\n", res(n), n > 0 ? (int)n : 0, buf);
  waitpid(kid, 0, 0);
}

static void effects(void) {
  int c, s, l;
  tcp_pair(&c, &s, &l);
  rcvlowat("tcp", c, s);
  close(c);
  close(s);
  close(l);
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  rcvlowat("unix stream", sv[0], sv[1]);
  /* SO_PEEK_OFF: MSG_PEEK reads on from the offset, which moves on with each peek. */
  int off = 1;
  printf("peek_off 1: %s", res(setsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off)));
  send(sv[0], "wxyz", 4, 0);
  char buf[8] = {0};
  long n = recv(sv[1], buf, 2, MSG_PEEK);
  printf(" peek: %s %.*s", res(n), n > 0 ? (int)n : 0, buf);
  n = recv(sv[1], buf, 2, MSG_PEEK);
  printf(" peek: %s %.*s", res(n), n > 0 ? (int)n : 0, buf);
  socklen_t ol = sizeof off;
  getsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &off, &ol);
  printf(" offset %d", off);
  n = recv(sv[1], buf, 3, 0);
  printf(" recv: %s %.*s", res(n), n > 0 ? (int)n : 0, buf);
  getsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &off, &ol);
  printf(" offset %d\n", off);
  /* SO_PEERCRED: the peer's pid and ids. */
  struct ucred cr;
  socklen_t cl = sizeof cr;
  long r = getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &cl);
  printf("peercred: %s len %u pid %s uid %s gid %s\n", res(r), cl, cr.pid == getpid() ? "self" : "other",
         cr.uid == getuid() ? "self" : "other", cr.gid == getgid() ? "self" : "other");
  close(sv[0]);
  close(sv[1]);
}

/* SO_TIMESTAMP(NS), old and 64-bit forms: a control message with the time on each datagram. */
static void stamp(const char *what, int a, int b, int opt) {
  int on = 1;
  printf("%s %d: %s", what, opt, res(setsockopt(b, SOL_SOCKET, opt, &on, sizeof on)));
  send(a, "ts", 2, 0);
  char buf[16];
  union {
    char c[256];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {buf, sizeof buf};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.c, .msg_controllen = sizeof ctl};
  struct timespec before;
  clock_gettime(CLOCK_REALTIME, &before);
  long n = recvmsg(b, &m, 0);
  printf(" recvmsg: %s flags %d", res(n), m.msg_flags);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    int64_t t[2];
    memcpy(t, CMSG_DATA(c), sizeof t);
    int ns = c->cmsg_type == SO_TIMESTAMPNS || c->cmsg_type == 64;
    printf(" [%d %d %zu] %s", c->cmsg_level, c->cmsg_type, (size_t)(c->cmsg_len - CMSG_LEN(0)),
           llabs(t[0] - before.tv_sec) <= 5 && t[1] >= 0 && t[1] < (ns ? 1000000000 : 1000000) ? "now" : "not now");
  }
  on = 0;
  setsockopt(b, SOL_SOCKET, opt, &on, sizeof on);
  printf("\n");
}

static void timestamps(void) {
  struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof s;
  int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
  bind(b, (void *)&s, len);
  getsockname(b, (void *)&s, &len);
  connect(a, (void *)&s, len);
  static const int opts[] = {SO_TIMESTAMP, SO_TIMESTAMPNS, 63, 64};
  for (int i = 0; i < 4; i++) stamp("udp", a, b, opts[i]);
  /* Too little room: MSG_CTRUNC, as put_cmsg. */
  int on = 1;
  setsockopt(b, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on);
  send(a, "ts", 2, 0);
  char buf[16], ctl[CMSG_LEN(4)];
  struct iovec iov = {buf, sizeof buf};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  long n = recvmsg(b, &m, 0);
  printf("udp short control: %s flags %#x controllen %zu\n", res(n), m.msg_flags, (size_t)m.msg_controllen);
  close(a);
  close(b);
  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  stamp("unix dgram", sv[0], sv[1], SO_TIMESTAMP);
  close(sv[0]);
  close(sv[1]);
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
  stamp("unix seqpacket", sv[0], sv[1], SO_TIMESTAMPNS);
  close(sv[0]);
  close(sv[1]);
}

/* What an unprivileged socket may not set, in a child that gave up root. */
static void unprivileged(void) {
  pid_t p = fork();
  if (p == 0) {
    if (setgid(65534) || setuid(65534)) _exit(1);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int v = 7;
    printf("unprivileged: priority 7 %s", res(setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &v, sizeof v)));
    v = 6;
    printf(" priority 6 %s", res(setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &v, sizeof v)));
    v = -1;
    printf(" priority -1 %s", res(setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &v, sizeof v)));
    v = 1;
    printf(" mark %s", res(setsockopt(fd, SOL_SOCKET, SO_MARK, &v, sizeof v)));
    printf(" debug %s", res(setsockopt(fd, SOL_SOCKET, SO_DEBUG, &v, sizeof v)));
    printf(" prefer_busy_poll %s", res(setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &v, sizeof v)));
    v = 10;
    printf(" busy_poll %s", res(setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof v)));
    printf(" busy_poll_budget %s", res(setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &v, sizeof v)));
    v = 0;
    printf(" busy_poll 0 %s", res(setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &v, sizeof v)));
    printf(" bindtodevice lo %s", res(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3)));
    printf(" again %s\n", res(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3)));
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
}

/* Details of single options: their interplay and the lengths they insist on. */
static void details(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int on = 1, v;
  long r;
  socklen_t l = sizeof v;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  getsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &v, &l);
  printf("timestampns then timestamp: %d", v);
  getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &v, &l);
  printf(" timestampns %d", v);
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on);
  getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &v, &l);
  printf(" after timestamp: timestampns %d", v);
  getsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &v, &l);
  printf(" timestamp %d\n", v);
  char name[32];
  l = 15;
  r = getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &l);
  printf("bindtodevice get len 15: %s %u", res(r), l);
  printf(" set nosuch: %s", res(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "nosuch0", 8)));
  printf(" set lo: %s", res(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2)));
  l = sizeof name;
  getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &l);
  printf(" get: %s/%u", name, l);
  printf(" set empty: %s", res(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "", 0)));
  l = sizeof name;
  getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &l);
  printf(" get: %u", l);
  setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2);
  l = 15;
  printf(" bound, len 15: %s", res(getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &l)));
  v = 77;
  printf(" ifindex 77: %s", res(setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &v, sizeof v)));
  v = -1;
  printf(" ifindex -1: %s\n", res(setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &v, sizeof v)));
  uint64_t c1 = 0, c2 = 0, c3 = 0;
  l = 8;
  getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c1, &l);
  getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c2, &l);
  int other = socket(AF_UNIX, SOCK_STREAM, 0);
  getsockopt(other, SOL_SOCKET, SO_COOKIE, &c3, &l);
  l = 4;
  printf("cookie: %s %s, len 4: %s", c1 == c2 ? "stable" : "changes", c1 != c3 ? "distinct" : "shared",
         res(getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c1, &l)));
  l = 4;
  printf(" max_pacing_rate len 4: %s", res(getsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &v, &l)));
  printf(" %d/%u", v, l);
  uint64_t rate = 1ULL << 40;
  printf(" set u64: %s", res(setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &rate, sizeof rate)));
  l = 4;
  getsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &v, &l);
  rate = 0;
  socklen_t l8 = 8;
  getsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &rate, &l8);
  printf(" get %d/%u %llu/%u\n", v, l, (unsigned long long)rate, l8);
  v = 2;
  printf("zerocopy 2: %s", res(setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &v, sizeof v)));
  v = 4;
  printf(" buf_lock 4: %s", res(setsockopt(fd, SOL_SOCKET, SO_BUF_LOCK, &v, sizeof v)));
  v = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
  l = sizeof v;
  getsockopt(fd, SOL_SOCKET, SO_BUF_LOCK, &v, &l);
  printf(" after rcvbuf: %d", v);
  v = 1;
  setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &v, sizeof v);
  v = 0;
  printf(" lock_filter off: %s", res(setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &v, sizeof v)));
  v = 1 << 20;
  printf(" timestamping bad: %s\n", res(setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &v, sizeof v)));
  close(other);
  close(fd);

  int c, s, ls;
  tcp_pair(&c, &s, &ls);
  struct sockaddr_in peer;
  l = sizeof peer;
  r = getsockopt(c, SOL_SOCKET, SO_PEERNAME, &peer, &l);
  printf("tcp peername len 16: %s %u %s", res(r), l, peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? "lo" : "?");
  l = 8;
  r = getsockopt(c, SOL_SOCKET, SO_PEERNAME, &peer, &l);
  printf(" len 8: %s %u", res(r), l);
  v = 2;
  printf(" txrehash 2: %s", res(setsockopt(c, SOL_SOCKET, SO_TXREHASH, &v, sizeof v)));
  v = -1;
  printf(" -1: %s", res(setsockopt(c, SOL_SOCKET, SO_TXREHASH, &v, sizeof v)));
  l = sizeof v;
  getsockopt(c, SOL_SOCKET, SO_TXREHASH, &v, &l);
  printf(" -> %d", v);
  struct ucred cr;
  l = sizeof cr;
  getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &l);
  printf(" peercred %d %d %d\n", cr.pid, cr.uid, cr.gid);
  close(c);
  close(s);
  /* A TCP socket from accept starts with its listener's options; an AF_UNIX one does not. */
  v = 3;
  setsockopt(ls, SOL_SOCKET, SO_PRIORITY, &v, sizeof v);
  v = 2;
  setsockopt(ls, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v);
  setsockopt(ls, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  l = sizeof peer;
  getsockname(ls, (void *)&peer, &l);
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (void *)&peer, sizeof peer);
  s = accept(ls, 0, 0);
  int prio = -1, lowat = -1, tsns = -1;
  l = sizeof v;
  getsockopt(s, SOL_SOCKET, SO_PRIORITY, &prio, &l);
  getsockopt(s, SOL_SOCKET, SO_RCVLOWAT, &lowat, &l);
  getsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &tsns, &l);
  printf("accepted tcp: priority %d rcvlowat %d timestampns %d", prio, lowat, tsns);
  close(c);
  close(s);
  close(ls);
  struct sockaddr_un ua = {.sun_family = AF_UNIX};
  snprintf(ua.sun_path, sizeof ua.sun_path, "/tmp/sock-options-%d", getpid());
  unlink(ua.sun_path);
  ls = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(ls, (void *)&ua, sizeof ua);
  listen(ls, 1);
  v = 3;
  setsockopt(ls, SOL_SOCKET, SO_PRIORITY, &v, sizeof v);
  c = socket(AF_UNIX, SOCK_STREAM, 0);
  connect(c, (void *)&ua, sizeof ua);
  s = accept(ls, 0, 0);
  getsockopt(s, SOL_SOCKET, SO_PRIORITY, &prio, &l);
  printf(" accepted unix: priority %d\n", prio);
  close(c);
  close(s);
  close(ls);
  unlink(ua.sun_path);

  /* SO_PEEK_OFF on datagrams: whole messages are skipped, then bytes into one. */
  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  send(sv[0], "abc", 3, 0);
  send(sv[0], "defgh", 5, 0);
  int off = 4;
  setsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
  char buf[16] = {0};
  long n = recv(sv[1], buf, sizeof buf, MSG_PEEK);
  printf("dgram peek_off 4: %s %.*s", res(n), n > 0 ? (int)n : 0, buf);
  l = sizeof off;
  getsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &off, &l);
  printf(" offset %d", off);
  n = recv(sv[1], buf, sizeof buf, 0);
  printf(" recv %s %.*s", res(n), n > 0 ? (int)n : 0, buf);
  getsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &off, &l);
  printf(" offset %d", off);
  /* The offset is past the one message left: a peek finds nothing. */
  n = recv(sv[1], buf, 1, MSG_PEEK | MSG_DONTWAIT);
  printf(" peek past the end %s", res(n));
  off = 1;
  setsockopt(sv[1], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
  n = recv(sv[1], buf, 1, MSG_PEEK | MSG_TRUNC);
  printf(" peek trunc at 1: %s %.1s\n", res(n), buf);
  close(sv[0]);
  close(sv[1]);

  /* SO_PEERGROUPS: the peer's supplementary groups at connect time. */
  gid_t gs[2] = {5, 7};
  printf("setgroups: %s", res(setgroups(2, gs)));
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  gid_t got[8] = {0};
  l = 4;
  r = getsockopt(sv[0], SOL_SOCKET, SO_PEERGROUPS, got, &l);
  printf(" peergroups len 4: %s %u", res(r), l);
  l = sizeof got;
  r = getsockopt(sv[0], SOL_SOCKET, SO_PEERGROUPS, got, &l);
  printf(" len 32: %s %u %u %u", res(r), l, got[0], got[1]);
  setgroups(0, 0);
  close(sv[0]);
  close(sv[1]);
  int lone = socket(AF_UNIX, SOCK_STREAM, 0);
  l = sizeof got;
  printf(" unconnected: %s\n", res(getsockopt(lone, SOL_SOCKET, SO_PEERGROUPS, got, &l)));
  close(lone);
}

/* IP_TOS moves SO_PRIORITY to the TOS byte's priority, but only when the byte changes. */
static void tos_priority(void) {
  static const int tos[] = {0x00, 0x02, 0x04, 0x08, 0x10, 0x12, 0x18, 0x1c, 0xb8};
  for (int type = SOCK_STREAM; type <= SOCK_DGRAM; type++)
    for (int i = 0; i < 9; i++) {
      int s = socket(AF_INET, type, 0), t = tos[i], prio = -1, got = -1;
      socklen_t l = sizeof prio;
      setsockopt(s, IPPROTO_IP, IP_TOS, &t, sizeof t);
      getsockopt(s, SOL_SOCKET, SO_PRIORITY, &prio, &l);
      getsockopt(s, IPPROTO_IP, IP_TOS, &got, &l);
      printf("%s tos %#x: tos %#x priority %d\n", type == SOCK_STREAM ? "tcp" : "udp", t, got, prio);
      close(s);
    }
  int s = socket(AF_INET, SOCK_DGRAM, 0), p = 3, t = 0, prio = -1;
  socklen_t l = sizeof prio;
  setsockopt(s, SOL_SOCKET, SO_PRIORITY, &p, sizeof p);
  setsockopt(s, IPPROTO_IP, IP_TOS, &t, sizeof t);
  getsockopt(s, SOL_SOCKET, SO_PRIORITY, &prio, &l);
  printf("priority 3 then the same tos 0: priority %d\n", prio);
  t = 0x10;
  setsockopt(s, IPPROTO_IP, IP_TOS, &t, sizeof t);
  p = 1;
  setsockopt(s, SOL_SOCKET, SO_PRIORITY, &p, sizeof p);
  setsockopt(s, IPPROTO_IP, IP_TOS, &t, sizeof t);
  getsockopt(s, SOL_SOCKET, SO_PRIORITY, &prio, &l);
  printf("tos 0x10, priority 1, tos 0x10 again: priority %d\n", prio);
  close(s);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  int c, s, l;
  tcp_pair(&c, &s, &l);
  probe("tcp", c);
  probe("tcp listener", l);
  close(c);
  close(s);
  close(l);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  probe("udp", u);
  close(u);
  static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  static const char *names[] = {"unix stream", "unix dgram", "unix seqpacket"};
  for (int i = 0; i < 3; i++) {
    int sv[2];
    socketpair(AF_UNIX, types[i], 0, sv);
    probe(names[i], sv[0]);
    close(sv[0]);
    close(sv[1]);
  }
  effects();
  details();
  tos_priority();
  timestamps();
  unprivileged();
  return 0;
}
