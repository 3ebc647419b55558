/* /proc/sys/net helpers of the *-sysctls.c conformance programs: write a value and say what the
 * kernel answered, read one back. Paths are relative to /proc/sys/net. */
#ifndef SYSCTL_UTIL_H
#define SYSCTL_UTIL_H
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* "0" for a call that returned 0, else the name of errno. */
static const char *res(int r) {
  return r == 0 ? "0" : strerrorname_np(errno);
}

/* What writing `value` to /proc/sys/net/`name` gives: 0 or the errno's name. */
static const char *sysctl(const char *name, const char *value) {
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/%s", name);
  int fd = open(path, O_WRONLY);
  int r = fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value) ? -1 : 0;
  const char *what = res(r);
  if (fd >= 0) close(fd);
  return what;
}

/* /proc/sys/net/`name` without its newline ("?" if unreadable), in one of two buffers, so that a
 * line may show two. */
static const char *show(const char *name) {
  static char bufs[2][64];
  static int turn;
  char *b = bufs[turn++ & 1];
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/%s", name);
  int fd = open(path, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, b, 63);
  if (fd >= 0) close(fd);
  if (n <= 0) return "?";
  b[n] = 0;
  b[strcspn(b, "\n")] = 0;
  return b;
}
/* The int control message (`level`, `type`: IP_TTL, IPV6_HOPLIMIT) of the next datagram socket
 * `r` receives within a second, -1 if none came or it had none; closes `r`. */
static int recv_int_cmsg(int r, int level, int type) {
  char data[8], ctl[64];
  struct iovec iov = {data, sizeof data};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  struct pollfd p = {r, POLLIN, 0};
  int v = -1;
  if (poll(&p, 1, 1000) == 1 && recvmsg(r, &m, 0) >= 0)
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == level && c->cmsg_type == type) memcpy(&v, CMSG_DATA(c), sizeof v);
  close(r);
  return v;
}
/* A UDP socket bound to 127.0.0.1 that reports each datagram's TTL (IP_RECVTTL); its address in `a`. */
static int ttl_receiver(struct sockaddr_in *a) {
  int r = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
  *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof *a;
  bind(r, (struct sockaddr *)a, sizeof *a);
  getsockname(r, (struct sockaddr *)a, &alen);
  setsockopt(r, IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
  return r;
}
#endif
