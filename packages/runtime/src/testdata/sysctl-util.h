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
/* recv(2) of one datagram of `r` into `buf` with `flags`, and its int control message (`level`,
 * `type`: IP_TTL, IPV6_HOPLIMIT) in `*v` (-1 if it had none); returns what recvmsg returned. */
static inline ssize_t recv_with_int_cmsg(int r, void *buf, size_t len, int flags, int level, int type, int *v) {
  char ctl[64];
  struct iovec iov = {buf, len};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  ssize_t n = recvmsg(r, &m, flags);
  *v = -1;
  if (n >= 0)
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == level && c->cmsg_type == type) memcpy(v, CMSG_DATA(c), sizeof *v);
  return n;
}
/* The int control message (`level`, `type`: IP_TTL, IPV6_HOPLIMIT) of the next datagram socket
 * `r` receives within a second, -1 if none came or it had none; closes `r`. */
static int recv_int_cmsg(int r, int level, int type) {
  char data[8];
  struct pollfd p = {r, POLLIN, 0};
  int v = -1;
  if (poll(&p, 1, 1000) == 1) recv_with_int_cmsg(r, data, sizeof data, 0, level, type, &v);
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
/* A UDP socket bound to ::1 that reports each datagram's hop limit (IPV6_RECVHOPLIMIT); its
 * address in `a`. */
static inline int hoplimit_receiver(struct sockaddr_in6 *a) {
  int r = socket(AF_INET6, SOCK_DGRAM, 0), one = 1;
  *a = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  socklen_t alen = sizeof *a;
  bind(r, (struct sockaddr *)a, sizeof *a);
  getsockname(r, (struct sockaddr *)a, &alen);
  setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
  return r;
}

/* A TCP segment a raw socket took in: its source port, its flags, its TTL or hop limit. */
struct segment {
  int sport, flags, hops;
};

/* Waits 100 ms, then takes in the TCP segments raw socket `raw` (SOCK_RAW of IPPROTO_TCP) of
 * `family` holds, at most `max`: an IPv4 one comes with its IP header, whose TTL it reads; an
 * IPv6 one without, its hop limit in IPV6_HOPLIMIT (the socket needs IPV6_RECVHOPLIMIT).
 * Returns how many. */
static inline int capture_segments(int raw, int family, struct segment *out, int max) {
  unsigned char p[1500];
  int n = 0, hops;
  ssize_t len;
  usleep(100000);
  while (n < max) {
    len = recv_with_int_cmsg(raw, p, sizeof p, MSG_DONTWAIT, IPPROTO_IPV6, IPV6_HOPLIMIT, &hops);
    if (len < 20) break; /* none left (EAGAIN) */
    int off = family == AF_INET ? (p[0] & 15) * 4 : 0;
    if (len < off + 20) continue;
    out[n++] = (struct segment){p[off] << 8 | p[off + 1], p[off + 13], family == AF_INET ? p[8] : hops};
  }
  return n;
}

/* The distinct TTLs or hop limits, ascending, as " 9 42", of the `n` segments `s` from port
 * `sport` whose flags include `flags` (how many segments a step takes is not what is compared),
 * in one of two buffers, so that a line may show two. */
static inline const char *segment_hops(const struct segment *s, int n, int sport, int flags) {
  static char out[2][64];
  static int turn;
  char *b = out[turn++ & 1];
  size_t len = 0;
  b[0] = 0;
  for (int hops = 1; hops < 256; hops++)
    for (int i = 0; i < n; i++)
      if (s[i].sport == sport && (s[i].flags & flags) == flags && s[i].hops == hops) {
        len += snprintf(b + len, sizeof out[0] - len, " %d", hops);
        break;
      }
  return b;
}
#endif
