// Edge-triggered epoll on a connected TCP pair over 127.0.0.1 (CPython's test_epoll
// test_control_and_wait): both ends report EPOLLOUT once, then nothing, then EPOLLIN|EPOLLOUT
// after each end sent to the other, in the same epoll_wait; after EPOLL_CTL_MOD to EPOLLOUT the
// writable end reports again. Run natively and under tsvisor (network mode host: the sockets are
// the host's, whose readiness the sandbox learns of later): the output must be the same. (In host
// mode the host's late notice of the data may add one more report of it afterwards; an
// edge-triggered reader reads until EAGAIN, so that costs a spurious wakeup, and no wait after
// the sends is printed here.)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int c, s;

static void report(const char *what, int ep, int timeout) {
  struct epoll_event ev[4];
  int n = epoll_wait(ep, ev, 4, timeout);
  unsigned client = 0, server = 0;
  for (int i = 0; i < n; i++) {
    if (ev[i].data.fd == c) client = ev[i].events;
    if (ev[i].data.fd == s) server = ev[i].events;
  }
  printf("%s: %d events, client %#x, server %#x\n", what, n, client, server);
}

static void add(int ep, int op, int fd, unsigned events) {
  struct epoll_event e = {.events = events, .data.fd = fd};
  epoll_ctl(ep, op, fd, &e);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len)) return 2;
  c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  connect(c, (struct sockaddr *)&a, sizeof a);
  s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
  usleep(50000);
  int ep = epoll_create1(0);
  add(ep, EPOLL_CTL_ADD, s, EPOLLIN | EPOLLOUT | EPOLLET);
  add(ep, EPOLL_CTL_ADD, c, EPOLLIN | EPOLLOUT | EPOLLET);
  report("writable", ep, 1000);
  report("then nothing", ep, 100);
  if (send(c, "Hello!", 6, 0) != 6 || send(s, "world!!!", 8, 0) != 8) return 3;
  report("after both sent", ep, 1000);
  add(ep, EPOLL_CTL_DEL, c, 0);
  add(ep, EPOLL_CTL_MOD, s, EPOLLOUT);
  report("after MOD to EPOLLOUT", ep, 1000);
  return 0;
}
