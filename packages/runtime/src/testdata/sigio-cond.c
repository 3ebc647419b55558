// When signal-driven I/O (O_ASYNC) signals, and when it does not: each case arms one file
// (F_SETOWN to this process, F_SETSIG SIGRTMIN+1, O_ASYNC), does one thing, and prints how many
// signals came with their si_code and si_band. Linux is selective: sockets signal POLL_IN for
// data, a peer's SHUT_WR or a new connection, POLL_OUT only once a send found no room (or a poll
// found the socket not writable), POLL_HUP when the peer of a stream goes away; pipes signal the
// read end's owner on writes and the write end's owner on reads; eventfd never signals, and
// O_ASYNC sticks only to files that can signal.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define MAXSIG 16
static volatile int count, plain;
static volatile int codes[MAXSIG], bands[MAXSIG], fds[MAXSIG];
static int armed = -1;

static void on_rt(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  if (count < MAXSIG) {
    codes[count] = si->si_code;
    bands[count] = (int)si->si_band;
    fds[count] = si->si_fd;
  }
  count++;
}

static void on_sigio(int sig) {
  (void)sig;
  plain++;
}

// Lets signals caused by the last step arrive (TCP segments cross loopback meanwhile).
static void settle(void) { usleep(10000); }

// Waits while the child `pid` runs (state R in /proc/<pid>/stat), for at most 2 s: until it is
// asleep in its read, where an arrival does not signal (SOCKWQ_ASYNC_WAITDATA). A fixed 100 ms
// was too short on a loaded host: the child had not reached its read yet, and the arrival
// signalled.
static void wait_asleep(pid_t pid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  for (int i = 0; i < 1000; i++) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *end = strrchr(buf, ')');
    if (end && end[1] == ' ' && end[2] != 'R') return;
    usleep(2000);
  }
}

// Makes `fd` signal this process with SIGRTMIN+1, then forgets earlier signals.
static void arm(int fd) {
  fcntl(fd, F_SETOWN, getpid());
  fcntl(fd, F_SETSIG, SIGRTMIN + 1);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
  armed = fd;
  settle();
  count = 0;
  plain = 0;
}

static void reset(void) {
  settle();
  count = 0;
  plain = 0;
}

static const char *code_name(int c) {
  switch (c) {
  case POLL_IN: return "POLL_IN";
  case POLL_OUT: return "POLL_OUT";
  case POLL_MSG: return "POLL_MSG";
  case POLL_ERR: return "POLL_ERR";
  case POLL_PRI: return "POLL_PRI";
  case POLL_HUP: return "POLL_HUP";
  default: return "?";
  }
}

static void report(const char *name) {
  settle();
  int n = count;
  printf("%s: %d", name, n);
  for (int i = 0; i < n && i < MAXSIG; i++)
    printf(" %s/%#x%s", code_name(codes[i]), bands[i], fds[i] == armed ? "" : "(other fd)");
  if (plain) printf(" +%d SIGIO", plain);
  printf("\n");
  fflush(stdout);
  count = 0;
  plain = 0;
}

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Reads a non-blocking `fd` until nothing more comes.
static void drain(int fd) {
  char buf[4096];
  for (;;) {
    if (read(fd, buf, sizeof buf) > 0) continue;
    settle();
    if (read(fd, buf, sizeof buf) <= 0) return;
  }
}

static int fill(int fd) {
  static char buf[1024];
  int n = 0;
  while (write(fd, buf, sizeof buf) > 0) n++;
  return n;
}

static int writable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

static const char *tname(int type) {
  return type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "dgram" : "seqpacket";
}

// One socketpair case: sv[0] is armed, sv[1] is its peer.
static void pair_case(int type, int how) {
  int sv[2];
  char b[64] = {0}, name[80];
  if (socketpair(AF_UNIX, type, 0, sv) != 0) {
    perror("socketpair");
    exit(1);
  }
  const char *what = "?";
  int keep[2] = {1, 1};
  arm(sv[0]);
  switch (how) {
  case 0: what = "peer writes"; write(sv[1], "x", 1); break;
  case 1: what = "peer writes twice"; write(sv[1], "x", 1); settle(); write(sv[1], "y", 1); break;
  case 2: what = "own write"; write(sv[0], "x", 1); break;
  case 3:
    what = "own write read by the peer";
    write(sv[0], b, 32);
    settle();
    read(sv[1], b, 32);
    break;
  case 4:
    what = "own read of the peer's data";
    write(sv[1], "x", 1);
    reset();
    read(sv[0], b, 1);
    break;
  case 5: what = "peer closes"; close(sv[1]); keep[1] = 0; break;
  case 6: what = "peer SHUT_WR"; shutdown(sv[1], SHUT_WR); break;
  case 7: what = "peer SHUT_RD"; shutdown(sv[1], SHUT_RD); break;
  case 8: what = "peer SHUT_RDWR"; shutdown(sv[1], SHUT_RDWR); break;
  case 9: what = "own SHUT_RD"; shutdown(sv[0], SHUT_RD); break;
  case 10: what = "own SHUT_WR"; shutdown(sv[0], SHUT_WR); break;
  case 11: what = "own SHUT_RDWR"; shutdown(sv[0], SHUT_RDWR); break;
  case 12: {
    what = "a child closes its copy of the peer";
    pid_t p = fork();
    if (p == 0) {
      close(sv[1]);
      _exit(0);
    }
    waitpid(p, 0, 0);
    break;
  }
  case 13:
    what = "peer SHUT_RDWR then closes";
    shutdown(sv[1], SHUT_RDWR);
    settle();
    close(sv[1]);
    keep[1] = 0;
    break;
  case 14:
    what = "own sends until EAGAIN, peer drains";
    nonblock(sv[0]);
    nonblock(sv[1]);
    fill(sv[0]);
    reset();
    drain(sv[1]);
    break;
  case 15:
    what = "own sends until poll says full, peer drains";
    nonblock(sv[0]);
    nonblock(sv[1]);
    for (int i = 0; i < 100000 && writable(sv[0]); i++) write(sv[0], b, 64);
    reset();
    drain(sv[1]);
    break;
  case 16:
    what = "own sends a little, peer drains";
    nonblock(sv[1]);
    write(sv[0], b, 64);
    write(sv[0], b, 64);
    reset();
    drain(sv[1]);
    break;
  case 17:
    what = "own sends until EAGAIN, peer drains, sends again, peer drains";
    nonblock(sv[0]);
    nonblock(sv[1]);
    fill(sv[0]);
    drain(sv[1]);
    write(sv[0], b, 64);
    drain(sv[1]);
    break;
  case 18: {
    what = "peer writes while a child blocks reading";
    pid_t p = fork();
    if (p == 0) {
      read(sv[0], b, 1);
      _exit(0);
    }
    wait_asleep(p);
    write(sv[1], "x", 1);
    waitpid(p, 0, 0);
    break;
  }
  case 20: {
    what = "peer writes while a child blocks in recv";
    pid_t p = fork();
    if (p == 0) {
      recv(sv[0], b, 1, 0);
      _exit(0);
    }
    wait_asleep(p);
    write(sv[1], "x", 1);
    waitpid(p, 0, 0);
    break;
  }
  case 19: what = "peer closes with own data unread"; write(sv[0], b, 8); reset(); close(sv[1]); keep[1] = 0; break;
  }
  snprintf(name, sizeof name, "%s: %s", tname(type), what);
  report(name);
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) & ~O_ASYNC);
  close(sv[0]);
  if (keep[1]) close(sv[1]);
}

static int tcp_listener(int *port) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1, small = 16384;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  setsockopt(l, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 8) != 0) {
    perror("listen");
    exit(1);
  }
  socklen_t len = sizeof a;
  getsockname(l, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  return l;
}

static int tcp_client(int port, int async) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  int small = 16384;
  setsockopt(c, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  setsockopt(c, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (async) {
    arm(c);
    nonblock(c);
  }
  if (connect(c, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
    perror("connect");
    exit(1);
  }
  if (async) {
    struct pollfd p = {.fd = c, .events = POLLOUT};
    poll(&p, 1, 1000);
  }
  return c;
}

// One TCP case over loopback: the accepted socket `s` is armed, `c` is its peer.
static void tcp_case(int how) {
  int port, l = tcp_listener(&port);
  char b[64] = {0}, name[80];
  const char *what = "?";
  if (how == 0) {
    arm(l);
    int c = tcp_client(port, 0);
    report("tcp: a connection arrives at the listener");
    int s = accept(l, 0, 0);
    report("tcp: the listener accepts");
    int c2 = tcp_client(port, 0);
    report("tcp: another connection arrives after the accept");
    close(accept(l, 0, 0));
    close(c2);
    close(s);
    close(c);
    close(l);
    return;
  }
  if (how == 1) {
    int c = tcp_client(port, 1);
    report("tcp: own non-blocking connect completes");
    close(c);
    close(l);
    return;
  }
  int c = tcp_client(port, 0);
  int s = accept(l, 0, 0);
  close(l);
  int keep = 1;
  arm(s);
  switch (how) {
  case 2: what = "peer sends"; write(c, "x", 1); break;
  case 3: what = "peer sends twice"; write(c, "x", 1); settle(); write(c, "y", 1); break;
  case 4: what = "own send read by the peer"; write(s, b, 32); settle(); read(c, b, 32); break;
  case 5: what = "peer SHUT_WR (FIN)"; shutdown(c, SHUT_WR); break;
  case 6: what = "peer SHUT_RD"; shutdown(c, SHUT_RD); break;
  case 7: {
    what = "peer resets (RST)";
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(c);
    keep = 0;
    break;
  }
  case 8: what = "own SHUT_WR"; shutdown(s, SHUT_WR); break;
  case 9:
    what = "own sends until EAGAIN, peer drains";
    nonblock(s);
    nonblock(c);
    fill(s);
    reset();
    drain(c);
    break;
  case 10:
    what = "own sends a little, peer drains";
    nonblock(c);
    write(s, b, 64);
    reset();
    drain(c);
    break;
  case 11: what = "peer closes"; close(c); keep = 0; break;
  case 15: what = "peer sends and closes"; write(c, "x", 1); close(c); keep = 0; break;
  case 13:
  case 14: {
    what = how == 13 ? "peer sends while a child blocks reading" : "peer sends while a child blocks in recv";
    pid_t p = fork();
    if (p == 0) {
      if (how == 13) read(s, b, 1);
      else recv(s, b, 1, 0);
      _exit(0);
    }
    wait_asleep(p);
    write(c, "x", 1);
    waitpid(p, 0, 0);
    break;
  }
  case 12:
    what = "own SHUT_WR after EAGAIN, peer drains";
    nonblock(s);
    nonblock(c);
    fill(s);
    shutdown(s, SHUT_WR);
    reset();
    drain(c);
    break;
  }
  snprintf(name, sizeof name, "tcp: %s", what);
  report(name);
  fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_ASYNC);
  close(s);
  if (keep) close(c);
}

// A loopback address of `family` (AF_INET or AF_INET6) with `port`, in `ss`; returns its length.
static socklen_t loopback(int family, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    return sizeof *a;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sizeof *a;
}

// A socket of `family` and `type` bound to loopback; its port in *port.
static int bound(int family, int type, int *port) {
  struct sockaddr_storage ss;
  int fd = socket(family, type, 0);
  socklen_t len = loopback(family, 0, &ss);
  if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0 || (type == SOCK_STREAM && listen(fd, 8) != 0)) {
    perror("bind");
    exit(1);
  }
  getsockname(fd, (struct sockaddr *)&ss, &len);
  *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
  return fd;
}

static int connected(int family, int type, int port) {
  struct sockaddr_storage ss;
  int fd = socket(family, type, 0);
  socklen_t len = loopback(family, port, &ss);
  if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
    perror("connect");
    exit(1);
  }
  return fd;
}

// Arrivals that queue behind one not yet read, each of which Linux signals (sock_def_readable
// per datagram, per connection, tcp_data_ready per segment), and a FIN that comes with data.
static void arrival_case(int family, int how) {
  const char *fam = family == AF_INET6 ? "6" : "";
  char b[64] = {0}, name[96];
  const char *what = "?";
  int port;
  if (how == 0) {
    int u = bound(family, SOCK_DGRAM, &port), c = connected(family, SOCK_DGRAM, port);
    arm(u);
    for (int i = 0; i < 3; i++) send(c, "x", 1, 0);
    snprintf(name, sizeof name, "udp%s: three datagrams in a row", fam);
    report(name);
    close(c);
    close(u);
    return;
  }
  int l = bound(family, SOCK_STREAM, &port);
  if (how == 1) {
    arm(l);
    int c[3];
    for (int i = 0; i < 3; i++) c[i] = connected(family, SOCK_STREAM, port);
    snprintf(name, sizeof name, "tcp%s: three connections queued on the listener", fam);
    report(name);
    for (int i = 0; i < 3; i++) {
      close(accept(l, 0, 0));
      close(c[i]);
    }
    close(l);
    return;
  }
  int c = connected(family, SOCK_STREAM, port), s = accept(l, 0, 0), one = 1;
  close(l);
  arm(s);
  switch (how) {
  case 2:
    what = "peer writes three times before a read";
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (int i = 0; i < 3; i++) write(c, "x", 1);
    break;
  case 3:
    what = "peer writes, then SHUT_WR";
    write(c, b, 8);
    shutdown(c, SHUT_WR);
    break;
  case 4:
    what = "peer corks, writes, SHUT_WR (data and FIN in one segment)";
    setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
    write(c, b, 8);
    shutdown(c, SHUT_WR);
    break;
  case 5:
    what = "peer sends MSG_MORE, SHUT_WR (data and FIN in one segment)";
    send(c, b, 8, MSG_MORE);
    shutdown(c, SHUT_WR);
    break;
  case 6:
    what = "own SHUT_WR, peer corks, writes, SHUT_WR";
    shutdown(s, SHUT_WR);
    reset();
    setsockopt(c, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
    write(c, b, 8);
    shutdown(c, SHUT_WR);
    break;
  }
  snprintf(name, sizeof name, "tcp%s: %s", fam, what);
  report(name);
  fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_ASYNC);
  close(s);
  close(c);
}

static void pipe_case(int how) {
  int p[2], extra = -1;
  char b[64] = {0};
  const char *what = "?";
  pipe(p);
  int rd = p[0], wr = p[1];
  switch (how) {
  case 0: arm(rd); what = "read end armed, a write"; write(wr, "x", 1); break;
  case 1: arm(rd); what = "read end armed, two writes"; write(wr, "x", 1); settle(); write(wr, "y", 1); break;
  case 2: arm(wr); what = "write end armed, a write"; write(wr, "x", 1); break;
  case 3: write(wr, "xy", 2); arm(wr); what = "write end armed, a read"; read(rd, b, 1); break;
  case 4: arm(rd); what = "read end armed, a read"; write(wr, "x", 1); reset(); read(rd, b, 1); break;
  case 5: arm(rd); what = "read end armed, the writer closes"; close(wr); wr = -1; break;
  case 6: arm(wr); what = "write end armed, the reader closes"; close(rd); rd = -1; break;
  case 7:
    extra = dup(wr);
    arm(rd);
    what = "read end armed, one of two writers closes";
    close(extra);
    extra = -1;
    break;
  case 8:
    arm(wr);
    nonblock(rd);
    what = "write end armed, a read of the empty pipe";
    read(rd, b, 1);
    break;
  case 9:
    nonblock(wr);
    fill(wr);
    arm(rd);
    what = "read end armed, a write to the full pipe";
    write(wr, b, 1);
    break;
  case 10:
    close(wr);
    wr = -1;
    arm(rd);
    what = "read end armed, a read at end of file";
    read(rd, b, 1);
    break;
  case 11: {
    arm(wr);
    signal(SIGPIPE, SIG_IGN);
    close(rd);
    rd = -1;
    reset();
    what = "write end armed, a write without readers";
    write(wr, "x", 1);
    break;
  }
  case 12: arm(wr); what = "write end armed, a zero-length read"; read(rd, b, 0); break;
  case 13: {
    static char big[100000];
    nonblock(wr);
    arm(rd);
    what = "read end armed, a non-blocking write larger than the room";
    write(wr, big, sizeof big);
    break;
  }
  }
  char name[80];
  snprintf(name, sizeof name, "pipe: %s", what);
  report(name);
  if (rd >= 0) close(rd);
  if (wr >= 0) close(wr);
  if (extra >= 0) close(extra);
}

static void fifo_cases(const char *dir) {
  char path[256];
  char b[8];
  snprintf(path, sizeof path, "%s/fifo", dir);
  unlink(path);
  if (mkfifo(path, 0600) != 0) {
    perror("mkfifo");
    exit(1);
  }
  int rd = open(path, O_RDONLY | O_NONBLOCK);
  arm(rd);
  int wr = open(path, O_WRONLY);
  report("fifo: read end armed, a writer opens");
  write(wr, "x", 1);
  report("fifo: read end armed, a write");
  close(wr);
  report("fifo: read end armed, the writer closes");
  close(rd);
  int rw = open(path, O_RDWR | O_NONBLOCK);
  arm(rw);
  wr = open(path, O_WRONLY);
  write(wr, "x", 1);
  report("fifo: O_RDWR end armed, another fd writes");
  read(rw, b, 1);
  report("fifo: O_RDWR end armed, its own read");
  close(wr);
  report("fifo: O_RDWR end armed, the other writer closes");
  close(rw);
  unlink(path);
}

// A pty moves bytes to the other side later (the flip buffer's work item): wait until they are
// there before counting, or a loaded host reports the signal one step late.
static void await_in(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  poll(&p, 1, 2000);
}

static void pty_cases(void) {
  char b[64];
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  grantpt(m);
  unlockpt(m);
  int sl = open(ptsname(m), O_RDWR | O_NOCTTY);
  struct termios tio;
  tcgetattr(sl, &tio);
  cfmakeraw(&tio);
  tcsetattr(sl, TCSANOW, &tio);
  nonblock(m);
  nonblock(sl);
  arm(m);
  write(sl, "x", 1);
  await_in(m);
  report("pty: master armed, the slave writes");
  read(m, b, sizeof b);
  report("pty: master armed, its own read");
  write(m, "y", 1);
  await_in(sl);
  report("pty: master armed, its own write");
  read(sl, b, sizeof b);
  report("pty: master armed, the slave reads");
  fcntl(m, F_SETFL, fcntl(m, F_GETFL) & ~O_ASYNC);
  arm(sl);
  write(m, "z", 1);
  await_in(sl);
  report("pty: slave armed, the master writes");
  read(sl, b, sizeof b);
  report("pty: slave armed, its own read");
  write(sl, "w", 1);
  await_in(m);
  report("pty: slave armed, its own write");
  read(m, b, sizeof b);
  report("pty: slave armed, the master reads");
  fill(sl);
  reset();
  drain(m);
  report("pty: slave armed, writes until EAGAIN, the master drains");
  fcntl(sl, F_SETFL, fcntl(sl, F_GETFL) & ~O_ASYNC);
  arm(m);
  fill(m);
  reset();
  drain(sl);
  report("pty: master armed, writes until EAGAIN, the slave drains");
  close(sl);
  report("pty: master armed, the slave closes");
  close(m);
}

static void inotify_cases(const char *dir) {
  char path[256], b[4096];
  snprintf(path, sizeof path, "%s/watched", dir);
  int fd = inotify_init1(IN_NONBLOCK);
  inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE | IN_MODIFY);
  arm(fd);
  int f = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  report("inotify: a file is created");
  write(f, "x", 1);
  write(f, "y", 1);
  report("inotify: it is written twice");
  close(f);
  unlink(path);
  report("inotify: it is removed");
  read(fd, b, sizeof b);
  report("inotify: the events are read");
  close(fd);
}

// Whether O_ASYNC sticks (Linux: only where the file has ->fasync), by FIOASYNC and by F_SETFL.
static void async_kind(const char *name, int fd) {
  int on = 1;
  if (fd < 0) {
    printf("%s: cannot open: %s\n", name, strerror(errno));
    return;
  }
  errno = 0;
  int r = ioctl(fd, FIOASYNC, &on);
  int err = errno;
  int by_ioctl = (fcntl(fd, F_GETFL) & O_ASYNC) != 0;
  on = 0;
  ioctl(fd, FIOASYNC, &on);
  int r2 = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
  printf("%s: FIOASYNC = %d%s, O_ASYNC kept: %d; F_SETFL = %d, O_ASYNC kept: %d\n", name, r,
         r < 0 && err == ENOTTY ? " ENOTTY" : "", by_ioctl, r2, (fcntl(fd, F_GETFL) & O_ASYNC) != 0);
  close(fd);
}

static void eventfd_cases(const char *self) {
  sigset_t none;
  sigemptyset(&none);
  async_kind("regular file", open(self, O_RDONLY));
  async_kind("directory", open("/", O_RDONLY | O_DIRECTORY));
  async_kind("/dev/null", open("/dev/null", O_RDWR));
  async_kind("/dev/urandom", open("/dev/urandom", O_RDONLY));
  async_kind("/dev/ptmx", open("/dev/ptmx", O_RDWR | O_NOCTTY));
  async_kind("timerfd", timerfd_create(CLOCK_MONOTONIC, 0));
  async_kind("signalfd", signalfd(-1, &none, 0));
  async_kind("epoll", epoll_create1(0));
  async_kind("inotify", inotify_init1(0));
  async_kind("eventfd", eventfd(0, 0));
  // An eventfd never signals, whatever was asked.
  int e = eventfd(0, EFD_NONBLOCK);
  fcntl(e, F_SETOWN, getpid());
  fcntl(e, F_SETSIG, SIGRTMIN + 1);
  fcntl(e, F_SETFL, fcntl(e, F_GETFL) | O_ASYNC);
  armed = e;
  reset();
  uint64_t one = 1;
  write(e, &one, sizeof one);
  report("eventfd: a write");
  read(e, &one, sizeof one);
  report("eventfd: a read");
  close(e);
}

int main(int argc, char **argv) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_rt;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGRTMIN + 1, &sa, 0);
  signal(SIGIO, on_sigio);
  setvbuf(stdout, 0, _IOLBF, 0);
  const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  for (int t = 0; t < 3; t++)
    for (int how = 0; how < 21; how++) pair_case(types[t], how);
  for (int how = 0; how < 16; how++) tcp_case(how);
  for (int how = 0; how < 7; how++) {
    arrival_case(AF_INET, how);
    arrival_case(AF_INET6, how);
  }
  for (int how = 0; how < 14; how++) pipe_case(how);
  fifo_cases(argc > 1 ? argv[1] : "/tmp");
  pty_cases();
  inotify_cases(argc > 1 ? argv[1] : "/tmp");
  eventfd_cases(argv[0]);
  return 0;
}
