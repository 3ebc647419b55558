// epoll against Linux: nesting (ELOOP for a loop or a chain longer than EP_MAX_NESTS, counted
// below the added instance and above the one added to), EPOLLEXCLUSIVE's rules in do_epoll_ctl's
// order, and files leaving every epoll set when their last descriptor closes (a dup keeps them,
// under the closed fd's data). Run natively and under tsvisor: the output must be the same.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
static void show(const char *what, int r) { printf("%s = %s\n", what, r < 0 ? strerrorname_np(errno) : "0"); }
static int add(int ep, int fd, unsigned ev) { struct epoll_event e = {.events = ev, .data.fd = fd}; return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e); }
int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int e[8];
  for (int i = 0; i < 8; i++) e[i] = epoll_create1(0);
  char buf[64];
  // A chain e0 <- e1 <- e2 ...: e[i] added into e[i+1].
  for (int i = 0; i < 7; i++) { snprintf(buf, sizeof buf, "add e%d into e%d", i, i + 1); show(buf, add(e[i + 1], e[i], EPOLLIN)); }
  // a cycle
  int a = epoll_create1(0), b = epoll_create1(0);
  show("add a into b", add(b, a, EPOLLIN));
  show("add b into a (cycle)", add(a, b, EPOLLIN));
  show("add a into a", add(a, a, EPOLLIN));
  // chain built from the top: x1 into x0 first, then x2 into x1, ...
  int x[8];
  for (int i = 0; i < 8; i++) x[i] = epoll_create1(0);
  for (int i = 0; i < 7; i++) { snprintf(buf, sizeof buf, "add x%d into x%d", i + 1, i); show(buf, add(x[i], x[i + 1], EPOLLIN)); }
  // EPOLLEXCLUSIVE rules
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  int c = epoll_create1(0), d = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE};
  show("MOD EPOLLEXCLUSIVE of a fd not added", epoll_ctl(c, EPOLL_CTL_MOD, sv[0], &ev));
  show("ADD EPOLLEXCLUSIVE of an epoll fd", add(c, d, EPOLLIN | EPOLLEXCLUSIVE));
  show("ADD EPOLLEXCLUSIVE|EPOLLPRI", add(c, sv[0], EPOLLPRI | EPOLLEXCLUSIVE));
  show("ADD EPOLLEXCLUSIVE|EPOLLONESHOT", add(c, sv[0], EPOLLIN | EPOLLONESHOT | EPOLLEXCLUSIVE));
  show("ADD EPOLLEXCLUSIVE|EPOLLIN|EPOLLOUT|EPOLLET", add(c, sv[0], EPOLLIN | EPOLLOUT | EPOLLET | EPOLLEXCLUSIVE));
  ev.events = EPOLLIN;
  show("MOD of an exclusive interest", epoll_ctl(c, EPOLL_CTL_MOD, sv[0], &ev));
  show("ADD again", add(c, sv[0], EPOLLIN));
  // closing the last descriptor of a file removes it from every epoll set
  int f = epoll_create1(0);
  for (int i = 0; i < 3; i++) {
    int p[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, p);
    add(f, p[0], EPOLLIN);
    close(p[0]);
    close(p[1]);
  }
  struct epoll_event out[8];
  printf("ready after closing every watched file: %d\n", epoll_wait(f, out, 8, 0));
  int q[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, q);
  add(f, q[0], EPOLLIN);
  int dupd = dup(q[0]);
  close(q[0]);
  if (write(q[1], "x", 1) != 1) return 1;
  int n = epoll_wait(f, out, 8, 0);
  printf("a closed fd whose file lives on in a dup still reports: %d (data is the closed fd: %d)\n", n,
         n == 1 && out[0].data.fd == q[0]);
  show("DEL of the closed fd", epoll_ctl(f, EPOLL_CTL_DEL, q[0], &ev));
  close(dupd);
  printf("ready after the dup closed too: %d\n", epoll_wait(f, out, 8, 0));
  return 0;
}
