/* Helpers shared by the socket error queue programs (recv-err.c, raw-recv-err.c, recv-err-rfc4884.c,
 * pmtu.c, tcp-icmp-error.c): errno names, poll's revents, SO_ERROR, a loopback port nobody listens
 * on, one recvmsg(MSG_ERRQUEUE) with its sock_extended_err cmsgs printed, and the ICMP errors a raw
 * socket sends on lo quoting what a socket sent, with the SYN a raw TCP socket saw. Addresses and
 * ports come from sock-util.h. */
#ifndef RECV_ERR_UTIL_H
#define RECV_ERR_UTIL_H
#include "sock-util.h"

#include <linux/errqueue.h> /* after sock-util.h's <time.h>: struct scm_timestamping uses timespec */
#include <netinet/ip.h>
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

/* The Internet checksum of `n` bytes at `p`, in network order. */
RECV_ERR_UTIL_UNUSED static unsigned short csum(const void *p, size_t n) {
  const unsigned char *b = p;
  unsigned long s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += b[i] << 8 | b[i + 1];
  if (n & 1) s += b[n - 1] << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return htons(~s & 0xffff);
}

/* In `h`, an IPv4 header from 127.0.0.1 to `dst` of `proto`, total length `tot_len` and TTL `ttl`,
 * as an ICMP error quotes it. */
RECV_ERR_UTIL_UNUSED static void quoted_ip4(unsigned char h[20], in_addr_t dst, int proto, int tot_len, int ttl) {
  struct iphdr *ip = (struct iphdr *)h;
  memset(h, 0, 20);
  ip->version = 4;
  ip->ihl = 5;
  ip->tot_len = htons(tot_len);
  ip->ttl = ttl;
  ip->protocol = proto;
  ip->saddr = htonl(INADDR_LOOPBACK);
  ip->daddr = dst;
  ip->check = csum(h, 20);
}

/* In `h`, an IPv6 header from ::1 to ::1 of `proto` with payload length `payload_len`, as an
 * ICMPv6 error quotes it. */
RECV_ERR_UTIL_UNUSED static void quoted_ip6(unsigned char h[40], int proto, int payload_len) {
  memset(h, 0, 40);
  h[0] = 0x60;
  h[4] = payload_len >> 8;
  h[5] = payload_len & 0xff;
  h[6] = proto;
  h[7] = 64;
  h[23] = 1;
  h[39] = 1;
}

/* In `l4`, a UDP header from port `sport` to `dport` (network order) with length `len`, no checksum. */
RECV_ERR_UTIL_UNUSED static void udp_quote(unsigned char l4[8], unsigned short sport, unsigned short dport, int len) {
  memset(l4, 0, 8);
  memcpy(l4, &sport, 2);
  memcpy(l4 + 2, &dport, 2);
  l4[4] = len >> 8;
  l4[5] = len & 0xff;
}

/* In `l4`, the first 8 bytes of a TCP header: ports `sport` and `dport` (network order) and `seq`. */
RECV_ERR_UTIL_UNUSED static void tcp_quote(unsigned char l4[8], unsigned short sport, unsigned short dport,
                                           unsigned seq) {
  memcpy(l4, &sport, 2);
  memcpy(l4 + 2, &dport, 2);
  seq = htonl(seq);
  memcpy(l4 + 4, &seq, 4);
}

/* Sends ICMP message `m` (`n` bytes) on raw socket `raw` to loopback of `family`; waits 50 ms for
 * the stack to take it. */
RECV_ERR_UTIL_UNUSED static void send_icmp(int raw, int family, const unsigned char *m, size_t n) {
  struct sockaddr_storage to;
  socklen_t len = loopback(family, 0, &to);
  if (sendto(raw, m, n, 0, (struct sockaddr *)&to, len) != (long)n) printf("  raw send: %s\n", err());
  sleep_ms(50);
}

/* Sends on the raw ICMP socket `raw`, from and to 127.0.0.1, an ICMP error of `type` and `code`
 * with `info` in bytes 4 to 7 (a next-hop MTU), quoting an IPv4 header (127.0.0.1 to `dst`,
 * `proto`, total length `tot_len`, TTL `ttl`) and the 8 bytes `l4`. */
RECV_ERR_UTIL_UNUSED static void icmp4_error_ttl(int raw, int type, int code, unsigned info, in_addr_t dst,
                                                 int proto, int tot_len, int ttl, const unsigned char l4[8]) {
  unsigned char m[8 + 20 + 8] = {type, code};
  info = htonl(info);
  memcpy(m + 4, &info, 4);
  quoted_ip4(m + 8, dst, proto, tot_len, ttl);
  memcpy(m + 28, l4, 8);
  unsigned short c = csum(m, sizeof m);
  memcpy(m + 2, &c, 2);
  send_icmp(raw, AF_INET, m, sizeof m);
}

/* icmp4_error_ttl quoting TTL 64. */
RECV_ERR_UTIL_UNUSED static void icmp4_error(int raw, int type, int code, unsigned info, in_addr_t dst, int proto,
                                             int tot_len, const unsigned char l4[8]) {
  icmp4_error_ttl(raw, type, code, info, dst, proto, tot_len, 64, l4);
}

/* Sends on the raw ICMPv6 socket `raw6`, from and to ::1, an ICMPv6 error of `type` and `code` with
 * `info` in bytes 4 to 7 (an MTU), quoting an IPv6 header (::1 to ::1, `proto`, payload length
 * `payload_len`) and the 8 bytes `l4`. The kernel sums ICMPv6 messages of a raw socket. */
RECV_ERR_UTIL_UNUSED static void icmp6_error(int raw6, int type, int code, unsigned info, int proto, int payload_len,
                                             const unsigned char l4[8]) {
  unsigned char m[8 + 40 + 8] = {type, code};
  info = htonl(info);
  memcpy(m + 4, &info, 4);
  quoted_ip6(m + 8, proto, payload_len);
  memcpy(m + 48, l4, 8);
  send_icmp(raw6, AF_INET6, m, sizeof m);
}

/* The sequence number of the first SYN from local port `port` (network order) that the raw IPv4
 * TCP socket `sniff` sees; 0 when none comes. */
RECV_ERR_UTIL_UNUSED static unsigned syn_seq(int sniff, unsigned short port) {
  unsigned char p[128];
  for (int i = 0; i < 16; i++) {
    long n = recv(sniff, p, sizeof p, 0);
    if (n < 40) continue;
    int hl = (p[0] & 15) * 4;
    if (memcmp(p + hl, &port, 2) == 0 && (p[hl + 13] & 0x02)) return ntohl(*(unsigned *)(p + hl + 4));
  }
  return 0;
}

/* A TCP connection on loopback whose first SYN the raw IPv4 TCP socket `sniff` saw. */
struct sniffed_pair {
  int l, c, s;                  /* the listener (127.0.0.3), the client (127.0.0.1), the accepted end */
  struct sockaddr_in me, peer;  /* the client's address and the listener's */
  unsigned isn;                 /* the SYN's sequence number, 0 when none was seen */
};

/* Connects a new client at 127.0.0.1 to a new listener at 127.0.0.3 and takes the connection;
 * `sniff` (a raw IPv4 TCP socket made before) sees the SYN. */
RECV_ERR_UTIL_UNUSED static struct sniffed_pair sniffed_connect(int sniff) {
  struct sniffed_pair p = {.peer = {.sin_family = AF_INET, .sin_addr.s_addr = inet_addr("127.0.0.3")},
                           .me = {.sin_family = AF_INET, .sin_addr.s_addr = inet_addr("127.0.0.1")}};
  p.l = socket(AF_INET, SOCK_STREAM, 0);
  bind(p.l, (struct sockaddr *)&p.peer, sizeof p.peer);
  listen(p.l, 1);
  socklen_t al = sizeof p.peer;
  getsockname(p.l, (struct sockaddr *)&p.peer, &al);
  p.c = socket(AF_INET, SOCK_STREAM, 0);
  bind(p.c, (struct sockaddr *)&p.me, sizeof p.me);
  socklen_t ml = sizeof p.me;
  getsockname(p.c, (struct sockaddr *)&p.me, &ml);
  connect(p.c, (struct sockaddr *)&p.peer, sizeof p.peer);
  p.s = accept(p.l, NULL, NULL);
  p.isn = syn_seq(sniff, p.me.sin_port);
  return p;
}

#endif
