/* Helpers shared by the socket error queue programs (recv-err.c, raw-recv-err.c): errno names,
 * poll's revents, SO_ERROR, a loopback port nobody listens on, and one recvmsg(MSG_ERRQUEUE)
 * with its sock_extended_err cmsgs printed. Addresses and ports come from sock-util.h. */
#ifndef RECV_ERR_UTIL_H
#define RECV_ERR_UTIL_H
#include "sock-util.h"

#include <linux/errqueue.h> /* after sock-util.h's <time.h>: struct scm_timestamping uses timespec */
#include <unistd.h>

#define RECV_ERR_UTIL_UNUSED __attribute__((unused))

/* The errno's name, "0" for none. */
RECV_ERR_UTIL_UNUSED static const char *ename(int e) {
  switch (e) {
  case 0: return "0";
  case EAGAIN: return "EAGAIN";
  case ECONNREFUSED: return "ECONNREFUSED";
  case EHOSTUNREACH: return "EHOSTUNREACH";
  case EINVAL: return "EINVAL";
  case EMSGSIZE: return "EMSGSIZE";
  case ENOPROTOOPT: return "ENOPROTOOPT";
  default: {
    static char b[16];
    snprintf(b, sizeof b, "errno %d", e);
    return b;
  }
  }
}

RECV_ERR_UTIL_UNUSED static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
  nanosleep(&ts, 0);
}

/* poll's revents for POLLIN, waiting up to `timeout_ms`. */
RECV_ERR_UTIL_UNUSED static void revents(const char *what, int fd, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n = poll(&p, 1, timeout_ms);
  printf("  %s: poll %d%s%s%s\n", what, n, p.revents & POLLIN ? " POLLIN" : "",
         p.revents & POLLERR ? " POLLERR" : "", p.revents & POLLOUT ? " POLLOUT" : "");
}

RECV_ERR_UTIL_UNUSED static int so_error(int fd) {
  int e = -1;
  socklen_t len = sizeof e;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
  return e;
}

/* SO_ERROR once the next error is there (SO_ERROR clears it, so it is read once it is set; a UDP
 * send fails on a pending one). */
RECV_ERR_UTIL_UNUSED static int wait_error(int fd) {
  for (int i = 0; i < 400; i++) {
    int e = so_error(fd);
    if (e != 0) return e;
    sleep_ms(5);
  }
  return 0;
}

/* A UDP port of `family` on loopback nobody listens on: bound once, then released. */
RECV_ERR_UTIL_UNUSED static unsigned short closed_port(int family) {
  struct sockaddr_storage ss;
  socklen_t len = loopback(family, 0, &ss);
  int s = socket(family, SOCK_DGRAM, 0);
  bind(s, (struct sockaddr *)&ss, len);
  unsigned short port = port_of(s);
  close(s);
  return port;
}

/* An address as printed: "none" for an empty one (no offender). */
RECV_ERR_UTIL_UNUSED static void addr_str(const struct sockaddr *sa, char *out, size_t n) {
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, n);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, n);
  else if (sa->sa_family == AF_UNSPEC)
    snprintf(out, n, "none");
  else
    snprintf(out, n, "family %d", sa->sa_family);
}

/* One recvmsg(MSG_ERRQUEUE) and what it filled in besides the data. */
struct errqueue_msg {
  struct sockaddr_storage name;
  char control[256];
  struct iovec v;
  struct msghdr m;
  char addr[64]; /* msg_name as printed */
};

/* recvmsg(MSG_ERRQUEUE | `flags`) of up to `room` bytes into `buf`; prints the errno's name when it
 * fails. */
RECV_ERR_UTIL_UNUSED static long recv_errqueue(int fd, void *buf, size_t room, int flags, struct errqueue_msg *q) {
  memset(&q->name, 0, sizeof q->name);
  q->v = (struct iovec){buf, room};
  q->m = (struct msghdr){.msg_name = &q->name, .msg_namelen = sizeof q->name, .msg_iov = &q->v, .msg_iovlen = 1,
                         .msg_control = q->control, .msg_controllen = sizeof q->control};
  long n = recvmsg(fd, &q->m, MSG_ERRQUEUE | flags);
  if (n < 0)
    printf("  errqueue: %s\n", ename(errno));
  else
    addr_str((struct sockaddr *)&q->name, q->addr, sizeof q->addr);
  return n;
}

/* A line for each sock_extended_err cmsg; `pad_port` adds ee_pad and the offender's port. */
RECV_ERR_UTIL_UNUSED static void print_cmsgs(struct msghdr *m, int pad_port) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    const struct sock_extended_err *ee = (const void *)CMSG_DATA(c);
    const struct sockaddr *off = SO_EE_OFFENDER(ee);
    char a[64];
    addr_str(off, a, sizeof a);
    printf("    cmsg level %d type %d len %zu: ee_errno %s origin %u type %u code %u", c->cmsg_level, c->cmsg_type,
           (size_t)c->cmsg_len, ename(ee->ee_errno), ee->ee_origin, ee->ee_type, ee->ee_code);
    if (pad_port) printf(" pad %u", ee->ee_pad);
    printf(" info %u data %u offender %s", ee->ee_info, ee->ee_data, a);
    if (pad_port) printf(" port %d", port_in((const struct sockaddr_storage *)off));
    printf("\n");
  }
}

#endif
