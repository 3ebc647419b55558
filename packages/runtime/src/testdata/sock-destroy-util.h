/* Helpers shared by the SOCK_DESTROY programs (sock-destroy.c, sock-destroy-udp.c): what a
 * socket shows of an abort, and the request itself. */
#ifndef SOCK_DESTROY_UTIL_H
#define SOCK_DESTROY_UTIL_H
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

/* The name of errno `e` ("ok" for 0) as the programs print it. */
static const char *name(int e) {
  switch (e) {
  case 0: return "ok";
  case ENOENT: return "ENOENT";
  case EPERM: return "EPERM";
  case EINVAL: return "EINVAL";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  case ECONNABORTED: return "ECONNABORTED";
  case ECONNRESET: return "ECONNRESET";
  case ECONNREFUSED: return "ECONNREFUSED";
  case EPIPE: return "EPIPE";
  case EAGAIN: return "EAGAIN";
  case ENOTCONN: return "ENOTCONN";
  case EDESTADDRREQ: return "EDESTADDRREQ";
  case EADDRINUSE: return "EADDRINUSE";
  case ESTALE: return "ESTALE";
  case EACCES: return "EACCES";
  default: {
    static char b[32];
    snprintf(b, sizeof b, "errno %d", e);
    return b;
  }
  }
}

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
/* A SOCK_DESTROY request: the header, and inet_diag_req_v2 with every state; the caller names
 * the socket (family, protocol, id). */
struct destroy_req {
  struct nlmsghdr h;
  struct inet_diag_req_v2 r;
};

static struct destroy_req destroy_req(void) {
  struct destroy_req req = {0};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = SOCK_DESTROY;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.h.nlmsg_seq = 1;
  req.r.idiag_states = ~0u;
  return req;
}

/* Sends `req` on a NETLINK_SOCK_DIAG socket of its own: the errno of the ACK (0: destroyed), the
 * errno of send(2), or -1 when no ACK came. */
static int destroy_send(const struct destroy_req *req) {
  int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (send(nl, req, sizeof *req, 0) < 0) {
    int e = errno;
    close(nl);
    return e;
  }
  char buf[4096];
  ssize_t n = recv(nl, buf, sizeof buf, 0);
  close(nl);
  struct nlmsghdr *h = (void *)buf;
  if (n < (ssize_t)sizeof *h || h->nlmsg_type != NLMSG_ERROR) return -1;
  return -((struct nlmsgerr *)NLMSG_DATA(h))->error;
}
#endif
