// epoll over many idle TCP connections (127.0.0.1) plus busy ones, level- and edge-triggered:
// what a server with keep-alive clients sees. Run natively and under tsvisor in network mode
// `host`, where every socket is the host's and the sandbox hears of the host's changes from a
// readiness watch: the output must be the same. Each phase leaves the set quiet (drained, or the
// socket deleted) so the next one sees only its own events; no idle connection reports anything
// after the first wait (edge-triggered ones report their writability there, once).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define IDLE 300

static int ep, lst;
static struct sockaddr_in addr;
static long idleReports; // events of idle connections after the first wait

static void die(const char *what) {
  perror(what);
  exit(2);
}

// A connected pair: *c the client end, *s the accepted one, both non-blocking.
static void pair(int *c, int *s) {
  *c = socket(AF_INET, SOCK_STREAM, 0);
  if (*c < 0 || connect(*c, (struct sockaddr *)&addr, sizeof addr)) die("connect");
  *s = accept(lst, NULL, NULL);
  if (*s < 0) die("accept");
  fcntl(*c, F_SETFL, O_NONBLOCK);
  fcntl(*s, F_SETFL, O_NONBLOCK);
}

static void add(int op, int fd, uint32_t events, uint64_t data) {
  struct epoll_event e = {.events = events, .data.u64 = data};
  if (epoll_ctl(ep, op, fd, &e)) die("epoll_ctl");
}

// One epoll_wait; the events of `data` (0 when not reported) through *events; the count of
// events returned. Events of idle connections are counted in idleReports.
static int wait1(int timeout, uint64_t data, uint32_t *events) {
  struct epoll_event ev[64];
  int n = epoll_wait(ep, ev, 64, timeout);
  if (n < 0) die("epoll_wait");
  *events = 0;
  for (int i = 0; i < n; i++) {
    if (ev[i].data.u64 < IDLE) idleReports++;
    if (ev[i].data.u64 == data) *events = ev[i].events;
  }
  return n;
}

static void put(int fd, int n) {
  char b[8] = {0};
  if (write(fd, b, n) != n) die("write");
}

// Reads exactly n bytes (one read), or everything up to EAGAIN when n is 0; bytes read.
static int take(int fd, int n) {
  char b[256];
  if (n > 0) return (int)read(fd, b, n);
  int got = 0;
  for (;;) {
    ssize_t r = read(fd, b, sizeof b);
    if (r <= 0) return r < 0 && errno != EAGAIN ? -1 : got;
    got += r;
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  lst = socket(AF_INET, SOCK_STREAM, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(lst, (struct sockaddr *)&addr, sizeof addr) || listen(lst, IDLE + 64) ||
      getsockname(lst, (struct sockaddr *)&addr, &len))
    die("listener");
  ep = epoll_create1(0);

  // Idle connections: even ones level-triggered for input, odd ones edge-triggered for both.
  for (int i = 0; i < IDLE; i++) {
    int c, s;
    pair(&c, &s);
    if (i % 2 == 0) add(EPOLL_CTL_ADD, s, EPOLLIN | EPOLLRDHUP, i);
    else add(EPOLL_CTL_ADD, s, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, i);
  }
  struct epoll_event all[IDLE + 8];
  int n = epoll_wait(ep, all, IDLE + 8, 0), outs = 0, others = 0;
  for (int i = 0; i < n; i++) {
    if (all[i].data.u64 % 2 == 1 && all[i].events == EPOLLOUT) outs++;
    else others++;
  }
  printf("idle %d: first wait %d events, %d writable edge-triggered, %d others\n", IDLE, n, outs, others);
  uint32_t ev;
  printf("then: %d events\n", wait1(0, 0, &ev));

  // A busy level-triggered connection: each message reported alone, at once.
  int bc, bs, wrong = 0;
  pair(&bc, &bs);
  add(EPOLL_CTL_ADD, bs, EPOLLIN, 1000);
  for (int k = 0; k < 200; k++) {
    put(bc, 1);
    if (wait1(-1, 1000, &ev) != 1 || ev != EPOLLIN) wrong++;
    if (take(bs, 0) != 1) wrong++;
    if (wait1(0, 1000, &ev) != 0) wrong++;
  }
  printf("level-triggered busy: 200 rounds, %d wrong\n", wrong);

  // A busy edge-triggered one: reported once per arrival; read exactly what came (no EAGAIN),
  // then new data is a new edge; read to EAGAIN, then silence until the next arrival.
  int ec, es;
  pair(&ec, &es);
  add(EPOLL_CTL_ADD, es, EPOLLIN | EPOLLRDHUP | EPOLLET, 2000);
  wrong = 0;
  for (int k = 0; k < 100; k++) {
    put(ec, 2);
    if (wait1(-1, 2000, &ev) != 1 || ev != EPOLLIN) wrong++;
    if (wait1(0, 2000, &ev) != 0) wrong++;
    if (take(es, 2) != 2) wrong++;
    put(ec, 1);
    if (wait1(-1, 2000, &ev) != 1 || ev != EPOLLIN) wrong++;
    if (take(es, 0) != 1) wrong++;
    if (wait1(0, 2000, &ev) != 0) wrong++;
  }
  printf("edge-triggered busy: 100 rounds, %d wrong\n", wrong);

  // Two connections made ready by this process just before the wait: one wait reports both
  // (the host has the data at once; tsvisor lets its watches report first).
  int p1c, p1s, p2c, p2s;
  pair(&p1c, &p1s);
  pair(&p2c, &p2s);
  add(EPOLL_CTL_ADD, p1s, EPOLLIN | EPOLLET, 3001);
  add(EPOLL_CTL_ADD, p2s, EPOLLIN, 3002);
  wrong = 0;
  for (int k = 0; k < 50; k++) {
    struct epoll_event two[8];
    put(p1c, 1);
    put(p2c, 1);
    int m = epoll_wait(ep, two, 8, 1000);
    if (m != 2 || two[0].data.u64 + two[1].data.u64 != 6003) wrong++;
    take(p1s, 0);
    take(p2s, 0);
    // Found drained by a wait: both are off the ready list until their watches report.
    if (wait1(0, 0, &ev) != 0) wrong++;
  }
  printf("two sent to at once: 50 rounds, %d wrong\n", wrong);

  // The peer closes: input and read hang-up, level-triggered while it lasts, edge-triggered once.
  int hc, hs, gc, gs;
  pair(&hc, &hs);
  pair(&gc, &gs);
  add(EPOLL_CTL_ADD, hs, EPOLLIN | EPOLLRDHUP, 4001);
  add(EPOLL_CTL_ADD, gs, EPOLLIN | EPOLLRDHUP | EPOLLET, 4002);
  close(hc);
  n = wait1(1000, 4001, &ev);
  printf("peer closed, level-triggered: %d events, %#x;", n, ev);
  n = wait1(0, 4001, &ev);
  printf(" again: %d events, %#x\n", n, ev);
  add(EPOLL_CTL_DEL, hs, 0, 0);
  close(gc);
  n = wait1(1000, 4002, &ev);
  printf("peer closed, edge-triggered: %d events, %#x;", n, ev);
  n = wait1(0, 4002, &ev);
  printf(" again: %d events\n", n);

  // The peer resets the connection: an error.
  int rc, rs;
  pair(&rc, &rs);
  add(EPOLL_CTL_ADD, rs, EPOLLIN, 5000);
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(rc, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(rc);
  n = wait1(1000, 5000, &ev);
  printf("peer reset: %d events, %#x\n", n, ev);
  add(EPOLL_CTL_DEL, rs, 0, 0);

  // One-shot: one report until EPOLL_CTL_MOD re-arms it.
  int oc, os;
  pair(&oc, &os);
  add(EPOLL_CTL_ADD, os, EPOLLIN | EPOLLONESHOT, 6000);
  put(oc, 1);
  n = wait1(1000, 6000, &ev);
  printf("one-shot: %d events, %#x;", n, ev);
  put(oc, 1);
  printf(" then %d events;", wait1(0, 6000, &ev));
  add(EPOLL_CTL_MOD, os, EPOLLIN | EPOLLONESHOT, 6000);
  n = wait1(0, 6000, &ev);
  printf(" re-armed: %d events, %#x\n", n, ev);
  add(EPOLL_CTL_DEL, os, 0, 0);

  // A connection closed while ready leaves the set.
  int xc, xs;
  pair(&xc, &xs);
  add(EPOLL_CTL_ADD, xs, EPOLLIN, 7000);
  put(xc, 1);
  close(xs);
  printf("closed while readable: %d events\n", wait1(0, 7000, &ev));

  // A blocking wait wakes when another process sends.
  int wc, ws;
  pair(&wc, &ws);
  add(EPOLL_CTL_ADD, ws, EPOLLIN | EPOLLEXCLUSIVE, 8000);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(100000);
    put(wc, 1);
    _exit(0);
  }
  n = wait1(-1, 8000, &ev);
  printf("woken by another process (exclusive): %d events, %#x\n", n, ev);
  waitpid(pid, NULL, 0);
  take(ws, 0);

  printf("idle again: %d events; idle connections reported after the first wait: %ld\n", wait1(0, 0, &ev),
         idleReports);
  return 0;
}
