/* /proc/sys/net helpers of the *-sysctls.c conformance programs: write a value and say what the
 * kernel answered, read one back (paths are relative to /proc/sys/net); and what they share to
 * look at the packets the sysctls shape: receivers that report a datagram's TTL or hop limit,
 * a raw socket's view of TCP segments, a listener's SYN-ACKs. */
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
#include <linux/filter.h>
#include <netinet/tcp.h>

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
static inline int recv_int_cmsg(int r, int level, int type) {
  char data[8];
  struct pollfd p = {r, POLLIN, 0};
  int v = -1;
  if (poll(&p, 1, 1000) == 1) recv_with_int_cmsg(r, data, sizeof data, 0, level, type, &v);
  close(r);
  return v;
}
/* A UDP socket bound to 127.0.0.1 that reports each datagram's TTL (IP_RECVTTL); its address in `a`. */
static inline int ttl_receiver(struct sockaddr_in *a) {
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

/* A TCP segment a raw socket took in: its source port, its flags, its TTL or hop limit, its TOS
 * or traffic class. */
struct segment {
  int sport, flags, hops, tos;
};

/* Waits 100 ms, then takes in the TCP segments raw socket `raw` (SOCK_RAW of IPPROTO_TCP) of
 * `family` holds, at most `max`: an IPv4 one comes with its IP header, whose TTL and TOS it
 * reads; an IPv6 one without, its hop limit in IPV6_HOPLIMIT and its traffic class in
 * IPV6_TCLASS (the socket needs IPV6_RECVHOPLIMIT and IPV6_RECVTCLASS; -1 without). Returns how
 * many. */
static inline int capture_segments(int raw, int family, struct segment *out, int max) {
  unsigned char p[1500];
  char ctl[128];
  int n = 0;
  usleep(100000);
  while (n < max) {
    struct iovec iov = {p, sizeof p};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    ssize_t len = recvmsg(raw, &m, MSG_DONTWAIT);
    if (len < 20) break; /* none left (EAGAIN) */
    int hops = -1, tclass = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) memcpy(&hops, CMSG_DATA(c), sizeof hops);
      else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) memcpy(&tclass, CMSG_DATA(c), sizeof tclass);
    int off = family == AF_INET ? (p[0] & 15) * 4 : 0;
    if (len < off + 20) continue;
    out[n++] = (struct segment){p[off] << 8 | p[off + 1], p[off + 13], family == AF_INET ? p[8] : hops,
                                family == AF_INET ? p[1] : tclass};
  }
  return n;
}

/* The distinct values of field `hops` or `tos` (`tos` set), ascending, as " 9 42" (TOS in hex:
 * " 0x20"), of the `n` segments `s` from port `sport` whose flags include `flags` (are exactly
 * `flags`, with `exact` set; how many segments a step takes is not what is compared), in one of
 * two buffers, so that a line may show two. */
static inline const char *segment_values(const struct segment *s, int n, int sport, int flags, int tos, int exact) {
  static char out[2][128];
  static int turn;
  char *b = out[turn++ & 1];
  size_t len = 0;
  b[0] = 0;
  for (int v = 0; v < 256; v++)
    for (int i = 0; i < n; i++)
      if (s[i].sport == sport && (exact ? s[i].flags : s[i].flags & flags) == flags &&
          (tos ? s[i].tos : s[i].hops) == v) {
        len += snprintf(b + len, sizeof out[0] - len, tos ? " 0x%x" : " %d", v);
        break;
      }
  return b;
}

/* The distinct TTLs or hop limits (see segment_values). */
static inline const char *segment_hops(const struct segment *s, int n, int sport, int flags) {
  return segment_values(s, n, sport, flags, 0, 0);
}

/* The distinct TOS bytes or traffic classes, as " 0x20" (see segment_values). */
static inline const char *segment_tos(const struct segment *s, int n, int sport, int flags) {
  return segment_values(s, n, sport, flags, 1, 0);
}

/* The loopback address of `family` with port `port` in `a`; returns its length. */
static inline socklen_t loopback_of(int family, int port, struct sockaddr_storage *a) {
  memset(a, 0, sizeof *a);
  if (family == AF_INET) {
    struct sockaddr_in *v4 = (struct sockaddr_in *)a;
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v4->sin_port = htons(port);
    return sizeof *v4;
  }
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)a;
  v6->sin6_family = AF_INET6;
  v6->sin6_addr = in6addr_loopback;
  v6->sin6_port = htons(port);
  return sizeof *v6;
}

/* The port socket `s` is bound to. */
static inline int bound_port(int s) {
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &len);
  return ntohs(a.ss_family == AF_INET ? ((struct sockaddr_in *)&a)->sin_port : ((struct sockaddr_in6 *)&a)->sin6_port);
}

/* Sets IP_TTL and IP_TOS of socket `s` of `family`, or IPV6_UNICAST_HOPS and IPV6_TCLASS. */
static inline void set_ttl_tos(int s, int family, int hops, int tos) {
  int v6 = family == AF_INET6;
  setsockopt(s, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, &hops, sizeof hops);
  setsockopt(s, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, &tos, sizeof tos);
}

/* A TCP listener of `family` on loopback with backlog 8 and its port in `*port`. */
static inline int loopback_listener(int family, int *port) {
  struct sockaddr_storage a;
  int l = socket(family, SOCK_STREAM, 0);
  bind(l, (struct sockaddr *)&a, loopback_of(family, 0, &a));
  listen(l, 8);
  *port = bound_port(l);
  return l;
}

/* A TCP socket connecting (without waiting) to `port` on loopback; `deaf`: a socket filter drops
 * all it receives, so that it answers no SYN-ACK (tcp_filter drops them unseen, without a RST). */
static inline int loopback_connect(int family, int port, int deaf) {
  static struct sock_filter drop[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog prog = {1, drop};
  struct sockaddr_storage a;
  int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (deaf) setsockopt(c, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
  connect(c, (struct sockaddr *)&a, loopback_of(family, port, &a));
  return c;
}

/* The connection listener `l` has ready within a second, -1 if none. */
static inline int accept_soon(int l) {
  struct pollfd p = {l, POLLIN, 0};
  return poll(&p, 1, 1000) == 1 ? accept(l, NULL, NULL) : -1;
}

/* Waits up to a second for `events` on socket `s`. */
static inline void wait_for(int s, short events) {
  struct pollfd p = {s, events, 0};
  poll(&p, 1, 1000);
}

/* A listener's SYN-ACKs and the connections it makes, of `family` over loopback as raw socket
 * `raw` sees them (see capture_segments), after IP_TTL and IP_TOS (IPV6_UNICAST_HOPS and
 * IPV6_TCLASS) of the listener change. Linux reads the listener's values whenever it sends a
 * SYN-ACK (tcp_v4_send_synack's ip_build_and_send_pkt, tcp_v6_send_synack's ip6_xmit): a
 * retransmission takes those of its time, a SYN cookie's SYN-ACK too; a connection copies the
 * listener when its handshake completes (inet_csk_clone_lock), which with TCP_DEFER_ACCEPT is
 * when its first data comes; -1 gives a SYN cookie's SYN-ACK the sysctl's TTL or hop limit. */
static inline void listener_synacks(int family, int raw) {
  static struct segment segs[256];
  const int synack = TH_SYN | TH_ACK;
  int n, lport, l = loopback_listener(family, &lport);
  set_ttl_tos(l, family, 21, 0x20);
  int c = loopback_connect(family, lport, 1);
  n = capture_segments(raw, family, segs, 256);
  printf("listener 21 0x20, a peer that never answers: SYN-ACK%s", segment_hops(segs, n, lport, synack));
  printf("%s", segment_tos(segs, n, lport, synack));
  set_ttl_tos(l, family, 22, 0x40);
  sleep(1); /* the first retransmission comes 1 s after the SYN-ACK (TCP_TIMEOUT_INIT) */
  n = capture_segments(raw, family, segs, 256);
  printf("; 22 0x40: retransmitted%s", segment_hops(segs, n, lport, synack));
  printf("%s\n", segment_tos(segs, n, lport, synack));
  close(c);
  close(l);

  int defer = 5;
  l = loopback_listener(family, &lport);
  setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
  set_ttl_tos(l, family, 30, 0x20);
  c = loopback_connect(family, lport, 0);
  n = capture_segments(raw, family, segs, 256);
  printf("TCP_DEFER_ACCEPT, listener 30 0x20: SYN-ACK%s", segment_hops(segs, n, lport, synack));
  printf("%s", segment_tos(segs, n, lport, synack));
  set_ttl_tos(l, family, 31, 0x40);
  send(c, "x", 1, 0);
  int s = accept_soon(l);
  char b;
  send(s, "y", 1, 0);
  wait_for(c, POLLIN);
  recv(c, &b, 1, MSG_DONTWAIT);
  n = capture_segments(raw, family, segs, 256);
  printf("; 31 0x40, then data: connection%s", segment_hops(segs, n, lport, TH_ACK));
  printf("%s\n", segment_tos(segs, n, lport, TH_ACK));
  close(s);
  close(c);
  close(l);

  /* Changed after the handshake, before accept(2): the connection was cloned already. */
  l = loopback_listener(family, &lport);
  set_ttl_tos(l, family, 40, 0x20);
  c = loopback_connect(family, lport, 0);
  wait_for(c, POLLOUT);
  usleep(20000);
  set_ttl_tos(l, family, 41, 0x40);
  s = accept_soon(l);
  capture_segments(raw, family, segs, 256); /* the handshake's, left out */
  send(s, "y", 1, 0);
  wait_for(c, POLLIN);
  recv(c, &b, 1, MSG_DONTWAIT);
  n = capture_segments(raw, family, segs, 256);
  printf("listener 40 0x20, 41 0x40 after the handshake: accepted connection%s", segment_hops(segs, n, lport, 0));
  printf("%s\n", segment_tos(segs, n, lport, 0));
  close(s);
  close(c);
  close(l);

  char was[16];
  snprintf(was, sizeof was, "%s", show("ipv4/tcp_syncookies"));
  l = loopback_listener(family, &lport);
  set_ttl_tos(l, family, 24, 0x60);
  printf("tcp_syncookies 2: %s", sysctl("ipv4/tcp_syncookies", "2"));
  c = loopback_connect(family, lport, 0);
  wait_for(c, POLLOUT);
  s = accept_soon(l);
  n = capture_segments(raw, family, segs, 256);
  printf(", listener 24 0x60: SYN-ACK%s", segment_hops(segs, n, lport, synack));
  printf("%s", segment_tos(segs, n, lport, synack));
  send(s, "y", 1, 0);
  wait_for(c, POLLIN);
  recv(c, &b, 1, MSG_DONTWAIT);
  n = capture_segments(raw, family, segs, 256);
  printf(", its connection%s", segment_hops(segs, n, lport, 0));
  printf("%s", segment_tos(segs, n, lport, 0));
  close(s);
  close(c);
  set_ttl_tos(l, family, -1, 0);
  c = loopback_connect(family, lport, 0);
  wait_for(c, POLLOUT);
  s = accept_soon(l);
  n = capture_segments(raw, family, segs, 256);
  printf("; -1 0: SYN-ACK%s", segment_hops(segs, n, lport, synack));
  printf("%s\n", segment_tos(segs, n, lport, synack));
  sysctl("ipv4/tcp_syncookies", was);
  close(s);
  close(c);
  close(l);
}
#endif
