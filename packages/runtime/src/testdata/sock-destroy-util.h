/* Helpers shared by the SOCK_DESTROY programs (sock-destroy.c, sock-destroy-udp.c): what a
 * socket shows of an abort. */
#ifndef SOCK_DESTROY_UTIL_H
#define SOCK_DESTROY_UTIL_H
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>

/* SO_ERROR of `fd` (taking it), -1 when getsockopt fails. */
static int so_error(int fd) {
  int e = -1;
  socklen_t len = sizeof e;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
  return e;
}

/* SO_COOKIE of `fd` (0 when getsockopt fails). */
static unsigned long long cookie_of(int fd) {
  unsigned long long c = 0;
  socklen_t len = sizeof c;
  getsockopt(fd, SOL_SOCKET, SO_COOKIE, &c, &len);
  return c;
}

/* The poll(2) events of `fd` now, among IN, OUT, RDHUP, ERR and HUP, as words. */
static const char *events(int fd) {
  struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
  poll(&p, 1, 0);
  static char b[64];
  snprintf(b, sizeof b, "%s%s%s%s%s", p.revents & POLLIN ? "IN " : "", p.revents & POLLOUT ? "OUT " : "",
           p.revents & POLLRDHUP ? "RDHUP " : "", p.revents & POLLERR ? "ERR " : "", p.revents & POLLHUP ? "HUP" : "");
  return b;
}
#endif
