// The splice pump of Go's io.Copy between two TCP sockets (net.TestSplice), timed inside with
// CLOCK_MONOTONIC:
//   splice-loop tcp|unix BYTES [CHUNK]
//       a forked writer sends BYTES in CHUNK-byte writes (default 5 MiB, as Go's "big" case)
//       over loopback TCP or an AF_UNIX stream socket pair; the parent moves them
//       socket -> pipe -> TCP socket with splice(SPLICE_F_NONBLOCK | SPLICE_F_MOVE) through a
//       non-blocking 1 MiB pipe, waiting in an edge-triggered epoll on EAGAIN; a forked reader
//       counts them. Prints "<µs total> <bytes> <splice calls> <EAGAINs> <epoll waits>".
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static int listener(struct sockaddr_in *a) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a->sin_port = 0;
  socklen_t len = sizeof *a;
  if (bind(s, (struct sockaddr *)a, sizeof *a) || listen(s, 8) || getsockname(s, (struct sockaddr *)a, &len))
    die("listener");
  return s;
}

static int dial(const struct sockaddr_in *a) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (const struct sockaddr *)a, sizeof *a)) die("connect");
  return s;
}

static char buf[5 << 20];
static long calls, eagains, waits;

// Waits (edge-triggered) until `fd` reports `ev`; one epoll set per direction, as Go's netpoller
// registers a socket once for both with EPOLLET.
static void wait_for(int ep, int fd, unsigned ev) {
  struct epoll_event out[4];
  for (;;) {
    waits++;
    int n = epoll_wait(ep, out, 4, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++)
      if (out[i].data.fd == fd && (out[i].events & (ev | EPOLLERR | EPOLLHUP))) return;
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: splice-loop tcp|unix BYTES [CHUNK]\n");
    return 2;
  }
  int unix_src = strcmp(argv[1], "unix") == 0;
  long bytes = atol(argv[2]);
  long chunk = argc > 3 ? atol(argv[3]) : (long)sizeof buf;
  if (chunk <= 0 || chunk > (long)sizeof buf) chunk = sizeof buf;
  double t0 = now_us();
  struct sockaddr_in ain, aout;
  int lin = -1, lout = listener(&aout), pair[2] = {-1, -1};
  if (unix_src) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair)) die("socketpair");
  } else
    lin = listener(&ain);
  pid_t writer = fork();
  if (writer == 0) {
    if (unix_src) close(pair[0]);
    int s = unix_src ? pair[1] : dial(&ain);
    for (long left = bytes; left > 0;) {
      ssize_t n = write(s, buf, left < chunk ? left : chunk);
      if (n <= 0) die("writer");
      left -= n;
    }
    _exit(0);
  }
  pid_t reader = fork();
  if (reader == 0) {
    if (unix_src) close(pair[0]), close(pair[1]);
    int s = dial(&aout);
    long got = 0;
    for (;;) {
      ssize_t n = read(s, buf, sizeof buf);
      if (n < 0) die("reader");
      if (n == 0) break;
      got += n;
    }
    _exit(got == bytes ? 0 : 3);
  }
  if (unix_src) close(pair[1]);
  int src = unix_src ? pair[0] : accept4(lin, NULL, NULL, SOCK_NONBLOCK);
  int dst = accept4(lout, NULL, NULL, SOCK_NONBLOCK);
  if (src < 0 || dst < 0) die("accept");
  if (unix_src) fcntl(src, F_SETFL, O_NONBLOCK);
  int p[2];
  if (pipe2(p, O_NONBLOCK | O_CLOEXEC)) die("pipe2");
  fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  int ep = epoll_create1(0);
  struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET};
  e.data.fd = src;
  epoll_ctl(ep, EPOLL_CTL_ADD, src, &e);
  e.data.fd = dst;
  epoll_ctl(ep, EPOLL_CTL_ADD, dst, &e);
  const unsigned fl = SPLICE_F_NONBLOCK | SPLICE_F_MOVE;
  long moved = 0;
  for (;;) {
    calls++;
    ssize_t n = splice(src, NULL, p[1], NULL, 1 << 20, fl);
    if (n < 0 && errno == EAGAIN) {
      eagains++;
      wait_for(ep, src, EPOLLIN);
      continue;
    }
    if (n < 0) die("splice in");
    if (n == 0) break;
    for (ssize_t left = n; left > 0;) {
      calls++;
      ssize_t m = splice(p[0], NULL, dst, NULL, left, fl);
      if (m < 0 && errno == EAGAIN) {
        eagains++;
        wait_for(ep, dst, EPOLLOUT);
        continue;
      }
      if (m <= 0) die("splice out");
      left -= m;
      moved += m;
    }
  }
  close(dst);
  int st1, st2;
  waitpid(writer, &st1, 0);
  waitpid(reader, &st2, 0);
  if (moved != bytes || st1 != 0 || st2 != 0) {
    fprintf(stderr, "moved %ld of %ld, writer %d, reader %d\n", moved, bytes, st1, st2);
    return 1;
  }
  printf("%.0f %ld %ld %ld %ld\n", now_us() - t0, bytes, calls, eagains, waits);
  return 0;
}
