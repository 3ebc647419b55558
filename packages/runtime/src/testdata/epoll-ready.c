/*
 * The order and bookkeeping of epoll's ready list, compared with Linux: level-triggered
 * interests in the order their events came and back at the end after each report,
 * edge-triggered ones once per event, EPOLLONESHOT until EPOLL_CTL_MOD, closed files gone, and
 * a set holding thousands of idle pipes around the busy ones.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#define N 6

static int pipes[N][2];

static void show(const char *what, int ep, int max) {
  struct epoll_event ev[16];
  int n = epoll_wait(ep, ev, max, 0);
  printf("%s:", what);
  if (n < 0) printf(" %s", strerror(errno));
  for (int i = 0; i < n; i++) printf(" p%d/%x", (int)ev[i].data.u32, ev[i].events);
  printf("\n");
}

static void fill(int i) {
  if (write(pipes[i][1], "xy", 2) != 2) perror("write");
}

static void empty(int i) {
  char b[64];
  while (read(pipes[i][0], b, sizeof b) > 0) {
  }
}

static int add(int ep, int i, unsigned events) {
  struct epoll_event e = {.events = events, .data.u32 = (unsigned)i};
  return epoll_ctl(ep, EPOLL_CTL_ADD, pipes[i][0], &e);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 0; i < N; i++)
    if (pipe2(pipes[i], O_NONBLOCK)) return 1;

  /* Level-triggered: the order of the events, then each reported one moves to the end. */
  int ep = epoll_create1(0);
  for (int i = 0; i < N; i++) add(ep, i, EPOLLIN);
  show("none ready", ep, 8);
  fill(3);
  fill(1);
  fill(5);
  show("lt max 2", ep, 2);
  show("lt max 2 again", ep, 2);
  show("lt max 8", ep, 8);
  empty(1);
  show("after draining p1", ep, 8);
  fill(0);
  show("p0 joins at the end", ep, 8);
  for (int i = 0; i < N; i++) empty(i);
  show("all drained", ep, 8);
  close(ep);

  /* Edge-triggered: one report per event; a partial read is no new event. */
  ep = epoll_create1(0);
  add(ep, 2, EPOLLIN | EPOLLET);
  add(ep, 4, EPOLLIN | EPOLLET);
  fill(2);
  fill(4);
  fill(2);
  show("et first", ep, 8);
  show("et again", ep, 8);
  char b;
  if (read(pipes[2][0], &b, 1) != 1) return 1;
  show("et after a partial read", ep, 8);
  fill(4);
  show("et after a new write", ep, 8);
  empty(2);
  empty(4);
  close(ep);

  /* One-shot: disarmed after its report until EPOLL_CTL_MOD, which re-arms and re-checks. */
  ep = epoll_create1(0);
  add(ep, 0, EPOLLIN | EPOLLONESHOT);
  fill(0);
  show("oneshot", ep, 8);
  show("oneshot disarmed", ep, 8);
  struct epoll_event e = {.events = EPOLLIN | EPOLLONESHOT, .data.u32 = 10};
  epoll_ctl(ep, EPOLL_CTL_MOD, pipes[0][0], &e);
  show("oneshot after MOD", ep, 8);
  empty(0);
  close(ep);

  /* A closed file leaves the set; its fd number reused by another file is a new interest. */
  ep = epoll_create1(0);
  add(ep, 1, EPOLLIN);
  fill(1);
  int keep = pipes[1][0];
  int dup1 = dup(keep);
  close(keep);
  show("closed fd, file still open through a dup", ep, 8);
  close(dup1);
  show("file closed", ep, 8);
  if (pipe2(pipes[1], O_NONBLOCK)) return 1;
  printf("new pipe reuses the fd: %d\n", pipes[1][0] == keep);
  printf("add it again: %d\n", add(ep, 1, EPOLLIN));
  fill(1);
  show("the new file", ep, 8);
  empty(1);
  close(ep);

  /* Thousands of idle pipes around two busy ones. */
  struct rlimit rl = {8192, 8192};
  setrlimit(RLIMIT_NOFILE, &rl);
  ep = epoll_create1(0);
  int idle = 0;
  for (int i = 0; i < 1500; i++) {
    int p[2];
    if (pipe2(p, O_NONBLOCK)) break;
    struct epoll_event ie = {.events = i % 2 ? EPOLLIN : EPOLLIN | EPOLLET, .data.u32 = 100 + (unsigned)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ie)) break;
    idle++;
    if (i % 3 == 0) close(p[0]); /* closed files leave the set */
  }
  printf("idle pipes added: %d\n", idle);
  add(ep, 4, EPOLLIN);
  add(ep, 5, EPOLLIN | EPOLLET);
  show("idle set, nothing ready", ep, 16);
  for (int round = 0; round < 3; round++) {
    fill(5);
    fill(4);
    show("idle set, busy ones", ep, 16);
    empty(4);
    empty(5);
  }
  show("idle set, drained", ep, 16);
  return 0;
}
