// Loopback TCP between two processes of one sandbox, timed inside with CLOCK_MONOTONIC:
//   net-loop tcp BYTES   a forked server reads BYTES sent by the client in 64 KiB writes;
//                        prints "<µs total> <bytes>" (socket setup, connect and teardown included)
//   net-loop connect MS  a forked server accepts and closes; the client connects and closes for
//                        MS milliseconds; prints "<µs per connection> <connections>"
//   net-loop connect-idle N MS
//                        the same with N idle connections open on the listener's port first:
//                        what a server's thousands of keep-alive clients cost its new ones
//   net-loop tcp-again BYTES N
//                        the tcp transfer N times in a row in one process (a fresh server each
//                        time); prints the last one's line: the steady state of a sandbox whose
//                        supervisor has run the same paths before
//   net-loop idle N ROUNDS
//                        N idle connections whose server ends sit in an epoll set with one
//                        more, over which a forked echo server (waiting in epoll_wait) and the
//                        client exchange 1-byte messages ROUNDS times; prints "<µs per round
//                        trip> <rounds>": what a server's idle connections cost its busy one
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int listener(struct sockaddr_in *a) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a->sin_port = 0;
  socklen_t len = sizeof *a;
  if (bind(s, (struct sockaddr *)a, sizeof *a) || listen(s, 128) || getsockname(s, (struct sockaddr *)a, &len)) {
    perror("listener");
    exit(2);
  }
  return s;
}

static char buf[1 << 16];

// One transfer; its time in µs through *us. Returns 0, or the exit status on failure.
static int bulk1(long bytes, double *us) {
  double t0 = now_us();
  struct sockaddr_in a;
  int l = listener(&a);
  pid_t pid = fork();
  if (pid == 0) {
    int c = accept(l, NULL, NULL);
    long got = 0;
    for (;;) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      got += n;
    }
    _exit(got == bytes ? 0 : 3);
  }
  close(l);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr *)&a, sizeof a)) {
    perror("connect");
    return 2;
  }
  memset(buf, 'x', sizeof buf);
  for (long sent = 0; sent < bytes;) {
    long want = bytes - sent < (long)sizeof buf ? bytes - sent : (long)sizeof buf;
    ssize_t n = write(s, buf, want);
    if (n <= 0) {
      perror("write");
      return 2;
    }
    sent += n;
  }
  close(s);
  int status;
  waitpid(pid, &status, 0);
  double t1 = now_us();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "server saw the wrong byte count\n");
    return 2;
  }
  *us = t1 - t0;
  return 0;
}

static int bulk(long bytes, int times) {
  double us = 0;
  for (int i = 0; i < times; i++) {
    int r = bulk1(bytes, &us);
    if (r) return r;
  }
  printf("%.1f %ld\n", us, bytes);
  return 0;
}

static int connections(int idle, long ms) {
  struct sockaddr_in a;
  int l = listener(&a);
  struct rlimit rl = {2 * (rlim_t)idle + 64, 2 * (rlim_t)idle + 64};
  if (idle > 0 && setrlimit(RLIMIT_NOFILE, &rl)) {
    perror("connect-idle: RLIMIT_NOFILE");
    return 2;
  }
  for (int i = 0; i < idle; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) || accept(l, NULL, NULL) < 0) {
      perror("connect-idle: an idle connection");
      return 2;
    }
  }
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) {
      int c = accept(l, NULL, NULL);
      if (c < 0) _exit(0);
      char b;
      // Wait for the client's close, so the connection is complete on both sides.
      if (read(c, &b, 1) != 0) _exit(4);
      close(c);
    }
  }
  close(l);
  double t0 = now_us(), t = t0;
  long n = 0;
  while (t - t0 < ms * 1000.0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) {
      perror("connect");
      return 2;
    }
    close(s);
    n++;
    t = now_us();
  }
  kill(pid, 9);
  waitpid(pid, NULL, 0);
  printf("%.2f %ld\n", (t - t0) / n, n);
  return 0;
}

static int idle(int n, long rounds) {
  struct sockaddr_in a;
  int l = listener(&a);
  int ep = epoll_create1(0), one = 1;
  for (int i = 0; i <= n; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a)) {
      perror("idle: connect");
      return 2;
    }
    int s = accept(l, NULL, NULL);
    struct epoll_event e = {.events = EPOLLIN, .data.fd = s};
    if (s < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s, &e)) {
      perror("idle: accept");
      return 2;
    }
    if (i < n) continue;
    // The last connection is the busy one.
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pid_t pid = fork();
    char b = 0;
    if (pid == 0) {
      struct epoll_event ev[8];
      for (long k = 0; k < rounds + 100; k++) {
        if (epoll_wait(ep, ev, 8, -1) != 1 || ev[0].data.fd != s) _exit(3);
        if (read(s, &b, 1) != 1 || write(s, &b, 1) != 1) _exit(4);
      }
      _exit(0);
    }
    for (int k = 0; k < 100; k++) /* warm up */
      if (write(c, &b, 1) != 1 || read(c, &b, 1) != 1) return 2;
    double t0 = now_us();
    for (long k = 0; k < rounds; k++)
      if (write(c, &b, 1) != 1 || read(c, &b, 1) != 1) return 2;
    double t = now_us() - t0;
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "idle: the echo server failed\n");
      return 2;
    }
    printf("%.2f %ld\n", t / rounds, rounds);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "tcp") == 0) return bulk(atol(argv[2]), 1);
  if (argc == 4 && strcmp(argv[1], "tcp-again") == 0 && atoi(argv[3]) > 0) return bulk(atol(argv[2]), atoi(argv[3]));
  if (argc == 3 && strcmp(argv[1], "connect") == 0) return connections(0, atol(argv[2]));
  if (argc == 4 && strcmp(argv[1], "connect-idle") == 0) return connections(atoi(argv[2]), atol(argv[3]));
  if (argc == 4 && strcmp(argv[1], "idle") == 0) return idle(atoi(argv[2]), atol(argv[3]));
  fprintf(stderr, "usage: net-loop tcp BYTES | net-loop tcp-again BYTES N | net-loop connect MS | net-loop connect-idle N MS | net-loop idle N ROUNDS\n");
  return 1;
}
