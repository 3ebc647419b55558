// epoll over TCP and UDP sockets on 127.0.0.1 where Linux reports what a readiness watch on the
// host does not see by itself: every arrival of data is a new edge for an edge-triggered waiter,
// even while earlier data is unread (ep_poll_callback runs at each wakeup of the socket), and a
// read is none; a blocked wait for EPOLLRDNORM or EPOLLPRI alone wakes when the data comes; and
// poll(2)/select(2) of an epoll fd see at once what the program's own send made ready. Run
// natively and under tsvisor in network mode `host` (epoll-host.test.ts): the output must match.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static int lst;
static struct sockaddr_in addr;

static void die(const char *what) {
  perror(what);
  exit(2);
}

// A connected TCP pair: *c the client end, *s the accepted one, both non-blocking.
static void pair(int *c, int *s) {
  *c = socket(AF_INET, SOCK_STREAM, 0);
  if (*c < 0 || connect(*c, (struct sockaddr *)&addr, sizeof addr)) die("connect");
  *s = accept(lst, NULL, NULL);
  if (*s < 0) die("accept");
  fcntl(*c, F_SETFL, O_NONBLOCK);
  fcntl(*s, F_SETFL, O_NONBLOCK);
}

static int epoll_with(int fd, uint32_t events) {
  int ep = epoll_create1(0);
  struct epoll_event e = {.events = events, .data.u64 = 7};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e)) die("epoll_ctl");
  return ep;
}

// One epoll_wait: "n events" (with the events of the one reported).
static const char *wait1(int ep, int timeout) {
  static char buf[64];
  struct epoll_event ev[4];
  int n = epoll_wait(ep, ev, 4, timeout);
  if (n < 0) die("epoll_wait");
  if (n == 0) return "0";
  snprintf(buf, sizeof buf, "%d 0x%x", n, ev[0].events);
  return buf;
}

static void put(int fd, const char *s) {
  if (send(fd, s, strlen(s), 0) != (long)strlen(s)) die("send");
}

static long get(int fd, int n) {
  char buf[256];
  return recv(fd, buf, n, 0);
}

struct later {
  int fd;
  int flags;
};

// Sends one byte (with `flags`) 100 ms after it starts, while the main thread waits.
static void *send_later(void *arg) {
  struct later *l = arg;
  usleep(100 * 1000);
  if (send(l->fd, "u", 1, l->flags) != 1) die("send later");
  return NULL;
}

static const char *blocked_wait(int ep, int fd, int flags) {
  struct later l = {fd, flags};
  pthread_t t;
  pthread_create(&t, NULL, send_later, &l);
  const char *r = wait1(ep, 3000);
  pthread_join(t, NULL);
  return r;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lst = socket(AF_INET, SOCK_STREAM, 0);
  socklen_t al = sizeof addr;
  if (lst < 0 || bind(lst, (struct sockaddr *)&addr, sizeof addr) || listen(lst, 16) ||
      getsockname(lst, (struct sockaddr *)&addr, &al))
    die("listen");

  // TCP, edge-triggered: each arrival is an edge, unread data or not; reads are none.
  int c, s;
  pair(&c, &s);
  int ep = epoll_with(s, EPOLLIN | EPOLLET);
  printf("tcp idle: %s\n", wait1(ep, 0));
  put(c, "abc");
  printf("tcp 3 sent: %s\n", wait1(ep, 1000));
  printf("tcp again: %s\n", wait1(ep, 0));
  put(c, "de");
  printf("tcp 2 more, 3 unread: %s\n", wait1(ep, 1000));
  printf("tcp again: %s\n", wait1(ep, 0));
  long got = get(s, 1);
  printf("tcp read 1: %ld; wait %s\n", got, wait1(ep, 0));
  int edges = 0;
  for (int i = 0; i < 20; i++) {
    put(c, "x");
    if (strcmp(wait1(ep, 1000), "1 0x1") == 0) edges++;
    if (strcmp(wait1(ep, 0), "0") != 0) edges += 100;
  }
  printf("tcp 20 arrivals, none read: %d edges\n", edges);
  got = get(s, 256);
  printf("tcp read all: %ld; wait %s\n", got, wait1(ep, 0));
  put(c, "f");
  printf("tcp after a full read, 1 sent: %s\n", wait1(ep, 1000));
  shutdown(c, SHUT_WR);
  printf("tcp peer's FIN, 1 unread: %s\n", wait1(ep, 1000));
  printf("tcp again: %s\n", wait1(ep, 0));
  close(ep);

  // UDP, edge-triggered with EPOLLRDNORM too: each datagram is an edge.
  int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  al = sizeof ua;
  if (bind(u, (struct sockaddr *)&ua, sizeof ua) || getsockname(u, (struct sockaddr *)&ua, &al) ||
      connect(v, (struct sockaddr *)&ua, sizeof ua))
    die("udp");
  ep = epoll_with(u, EPOLLIN | EPOLLRDNORM | EPOLLET);
  edges = 0;
  for (int i = 0; i < 10; i++) {
    put(v, "datagram");
    if (strcmp(wait1(ep, 1000), "1 0x41") == 0) edges++;
    if (strcmp(wait1(ep, 0), "0") != 0) edges += 100;
  }
  printf("udp 10 datagrams, none read: %d edges\n", edges);
  close(ep);

  // A blocked wait for EPOLLRDNORM alone, then for EPOLLPRI alone (urgent data), level-triggered.
  int c2, s2;
  pair(&c2, &s2);
  ep = epoll_with(s2, EPOLLRDNORM);
  printf("rdnorm idle: %s\n", wait1(ep, 0));
  printf("rdnorm blocked, 1 sent: %s\n", blocked_wait(ep, c2, 0));
  got = get(s2, 1);
  printf("rdnorm read 1: %ld; wait %s\n", got, wait1(ep, 0));
  close(ep);
  ep = epoll_with(s2, EPOLLPRI);
  printf("pri idle: %s\n", wait1(ep, 0));
  printf("pri blocked, 1 urgent sent: %s\n", blocked_wait(ep, c2, MSG_OOB));
  close(ep);

  // poll and select of an epoll fd whose socket the program itself just made readable.
  int c3, s3;
  pair(&c3, &s3);
  ep = epoll_with(s3, EPOLLIN);
  int wrong = 0;
  for (int i = 0; i < 20; i++) {
    struct pollfd p = {.fd = ep, .events = POLLIN};
    if (poll(&p, 1, 0) != 0) wrong++;
    put(c3, "p");
    if (poll(&p, 1, 0) != 1 || p.revents != POLLIN) wrong++;
    if (get(s3, 16) != 1) wrong++;
    fd_set r;
    FD_ZERO(&r);
    FD_SET(ep, &r);
    struct timeval tv = {0, 0};
    if (select(ep + 1, &r, NULL, NULL, &tv) != 0) wrong++;
    put(c3, "s");
    FD_SET(ep, &r);
    tv.tv_usec = 0;
    if (select(ep + 1, &r, NULL, NULL, &tv) != 1 || !FD_ISSET(ep, &r)) wrong++;
    if (get(s3, 16) != 1) wrong++;
  }
  printf("poll and select of the epoll fd right after a send, 20 rounds: %d wrong\n", wrong);
  return 0;
}
