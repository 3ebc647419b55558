/* IP-level ancillary data on UDP and UDP-Lite sockets (RFC 3542 for IPv6, IP_* for IPv4):
 * the cmsgs recvmsg reports, put_cmsg's truncation, the cmsgs sendmsg accepts and the
 * IP_TOS/IPV6_TCLASS options. sys-socket-ip-cmsg.test.ts runs the same steps under tsvisor
 * and compares the output with this program's native output. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

static const char *err(int r) {
  static char b[32];
  if (r >= 0) snprintf(b, sizeof b, "%d", r);
  else snprintf(b, sizeof b, "errno %d", errno);
  return b;
}

static int geti(int fd, int level, int name) {
  int v = -12345;
  socklen_t l = sizeof v;
  if (getsockopt(fd, level, name, &v, &l) < 0) return -errno;
  return v;
}

static const char *seti(int fd, int level, int name, int v) {
  return err(setsockopt(fd, level, name, &v, sizeof v));
}

/* Sends "hi" from s to the address `to` with `n` control messages (level, type, value, len). */
struct c { int level, type, value, len; };
static const char *sendc(int s, struct sockaddr *to, socklen_t tolen, const struct c *cs, int n) {
  unsigned char ctl[256];
  memset(ctl, 0, sizeof ctl);
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    struct cmsghdr *h = (struct cmsghdr *)(ctl + off);
    h->cmsg_len = CMSG_LEN(cs[i].len);
    h->cmsg_level = cs[i].level;
    h->cmsg_type = cs[i].type;
    if (cs[i].len == 1) CMSG_DATA(h)[0] = (unsigned char)cs[i].value;
    else if (cs[i].len >= 4) memcpy(CMSG_DATA(h), &cs[i].value, 4);
    else memcpy(CMSG_DATA(h), &cs[i].value, cs[i].len);
    off += CMSG_SPACE(cs[i].len);
  }
  struct iovec iov = {"hi", 2};
  struct msghdr m = {to, tolen, &iov, 1, n ? ctl : NULL, off, 0};
  return err(sendmsg(s, &m, 0));
}

/* Sends an IPV6_PKTINFO/IP_PKTINFO cmsg with the given raw payload. */
static const char *sendraw(int s, struct sockaddr *to, socklen_t tolen, int level, int type,
                           const void *data, int len) {
  unsigned char ctl[128];
  memset(ctl, 0, sizeof ctl);
  struct cmsghdr *h = (struct cmsghdr *)ctl;
  h->cmsg_len = CMSG_LEN(len);
  h->cmsg_level = level;
  h->cmsg_type = type;
  memcpy(CMSG_DATA(h), data, len);
  struct iovec iov = {"hi", 2};
  struct msghdr m = {to, tolen, &iov, 1, ctl, CMSG_SPACE(len), 0};
  return err(sendmsg(s, &m, 0));
}

/* Receives one datagram with `ctllen` bytes of control buffer and prints what came. */
static void recvc(const char *what, int r, int ctllen) {
  unsigned char ctl[512];
  memset(ctl, 0xee, sizeof ctl);
  char data[16];
  struct iovec iov = {data, sizeof data};
  struct msghdr m = {NULL, 0, &iov, 1, ctl, (size_t)ctllen, 0};
  int n = recvmsg(r, &m, MSG_DONTWAIT);
  printf("%s: ret %s flags %#x controllen %d", what, err(n), n < 0 ? 0 : m.msg_flags & ~MSG_EOR,
         n < 0 ? 0 : (int)m.msg_controllen);
  size_t off = 0;
  while (n >= 0 && off + sizeof(struct cmsghdr) <= m.msg_controllen) {
    struct cmsghdr *h = (struct cmsghdr *)(ctl + off);
    int dlen = (int)h->cmsg_len - (int)sizeof(struct cmsghdr);
    int avail = (int)m.msg_controllen - (int)off - (int)sizeof(struct cmsghdr);
    if (dlen > avail) dlen = avail;
    printf(" [%d %d %d:", h->cmsg_level, h->cmsg_type, (int)h->cmsg_len);
    for (int i = 0; i < dlen; i++) printf("%02x", CMSG_DATA(h)[i]);
    printf("]");
    off += CMSG_ALIGN(h->cmsg_len);
  }
  printf("\n");
}

static void v6(int proto) {
  printf("== AF_INET6 proto %d\n", proto);
  int r = socket(AF_INET6, SOCK_DGRAM, proto), s = socket(AF_INET6, SOCK_DGRAM, proto);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  socklen_t al = sizeof a;
  bind(r, (struct sockaddr *)&a, sizeof a);
  getsockname(r, (struct sockaddr *)&a, &al);
  struct sockaddr *to = (struct sockaddr *)&a;
  printf("tclass default %d", geti(s, SOL_IPV6, IPV6_TCLASS));
  printf(" recvhoplimit %d", geti(r, SOL_IPV6, IPV6_RECVHOPLIMIT));
  printf(" recvtclass %d", geti(r, SOL_IPV6, IPV6_RECVTCLASS));
  printf(" recvpktinfo %d\n", geti(r, SOL_IPV6, IPV6_RECVPKTINFO));
  printf("set tclass 256 %s", seti(s, SOL_IPV6, IPV6_TCLASS, 256));
  printf(", -2 %s", seti(s, SOL_IPV6, IPV6_TCLASS, -2));
  printf(", -1 %s", seti(s, SOL_IPV6, IPV6_TCLASS, -1));
  printf(" -> %d", geti(s, SOL_IPV6, IPV6_TCLASS));
  printf(", 0x128 %s", seti(s, SOL_IPV6, IPV6_TCLASS, 0x128));
  printf(", 0x28 %s", seti(s, SOL_IPV6, IPV6_TCLASS, 0x28));
  printf(" -> %d\n", geti(s, SOL_IPV6, IPV6_TCLASS));
  seti(s, SOL_IPV6, IPV6_TCLASS, 0);

  /* Nothing asked for: no control messages at all. */
  printf("send plain %s\n", sendc(s, to, sizeof a, NULL, 0));
  recvc("recv none asked", r, 256);

  seti(r, SOL_IPV6, IPV6_RECVHOPLIMIT, 1);
  seti(r, SOL_IPV6, IPV6_RECVTCLASS, 1);
  seti(r, SOL_IPV6, IPV6_RECVPKTINFO, 1);
  printf("recv flags now %d", geti(r, SOL_IPV6, IPV6_RECVHOPLIMIT));
  printf(" %d", geti(r, SOL_IPV6, IPV6_RECVTCLASS));
  printf(" %d\n", geti(r, SOL_IPV6, IPV6_RECVPKTINFO));
  struct c both[] = {{SOL_IPV6, IPV6_HOPLIMIT, 2, 4}, {SOL_IPV6, IPV6_TCLASS, 0x20, 4}};
  printf("send hoplimit 2 tclass 0x20 %s\n", sendc(s, to, sizeof a, both, 2));
  recvc("recv all", r, 256);

  /* put_cmsg's truncation: no room, a header only, part of the data, one whole and one cut. */
  int sizes[] = {0, 8, 16, 17, 35, 36, 40, 56, 59, 60, 72, 76, 80};
  for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    char what[32];
    sendc(s, to, sizeof a, both, 2);
    snprintf(what, sizeof what, "recv ctl %d", sizes[i]);
    recvc(what, r, sizes[i]);
  }
  /* A NULL control buffer with a length. */
  sendc(s, to, sizeof a, both, 2);
  {
    char data[16];
    struct iovec iov = {data, sizeof data};
    struct msghdr m = {NULL, 0, &iov, 1, NULL, 64, 0};
    int n = recvmsg(r, &m, MSG_DONTWAIT);
    printf("recv null control: %s flags %#x controllen %d\n", err(n), m.msg_flags,
           (int)m.msg_controllen);
  }

  /* Socket values, and -1 in a cmsg for the socket's value. */
  seti(s, SOL_IPV6, IPV6_TCLASS, 0x40);
  seti(s, SOL_IPV6, IPV6_UNICAST_HOPS, 9);
  sendc(s, to, sizeof a, NULL, 0);
  recvc("recv sticky", r, 256);
  struct c dflt[] = {{SOL_IPV6, IPV6_HOPLIMIT, -1, 4}, {SOL_IPV6, IPV6_TCLASS, -1, 4}};
  printf("send -1 -1 %s\n", sendc(s, to, sizeof a, dflt, 2));
  recvc("recv -1", r, 256);
  seti(r, SOL_IPV6, IPV6_RECVPKTINFO, 0);

  struct c bad1[] = {{SOL_IPV6, IPV6_HOPLIMIT, 256, 4}};
  struct c bad2[] = {{SOL_IPV6, IPV6_HOPLIMIT, 3, 2}};
  struct c bad3[] = {{SOL_IPV6, IPV6_TCLASS, -2, 4}};
  struct c bad4[] = {{SOL_IPV6, 9999, 1, 4}};
  struct c skip[] = {{SOL_IP, IP_TTL, 3, 4}, {6, 1, 1, 4}};
  struct c zero[] = {{SOL_IPV6, IPV6_HOPLIMIT, 0, 4}};
  printf("send hoplimit 256 %s", sendc(s, to, sizeof a, bad1, 1));
  printf(", short %s", sendc(s, to, sizeof a, bad2, 1));
  printf(", tclass -2 %s", sendc(s, to, sizeof a, bad3, 1));
  printf(", type 9999 %s", sendc(s, to, sizeof a, bad4, 1));
  printf(", SOL_IP %s", sendc(s, to, sizeof a, skip, 1));
  printf(", SOL_TCP %s\n", sendc(s, to, sizeof a, skip + 1, 1));
  recvc("recv SOL_IP", r, 256);
  recvc("recv SOL_TCP", r, 256);
  printf("send hoplimit 0 %s\n", sendc(s, to, sizeof a, zero, 1));
  recvc("recv hoplimit 0", r, 256);

  struct in6_pktinfo pi = {.ipi6_addr = IN6ADDR_LOOPBACK_INIT, .ipi6_ifindex = 0};
  printf("send pktinfo ::1 %s", sendraw(s, to, sizeof a, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof pi));
  recvc("", r, 256);
  inet_pton(AF_INET6, "2001:db8::7", &pi.ipi6_addr);
  printf("send pktinfo non-local %s\n",
         sendraw(s, to, sizeof a, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof pi));
  printf("send pktinfo short %s\n", sendraw(s, to, sizeof a, SOL_IPV6, IPV6_PKTINFO, &pi, 16));
  pi.ipi6_addr = in6addr_any;
  pi.ipi6_ifindex = 9999;
  printf("send pktinfo bad ifindex %s\n",
         sendraw(s, to, sizeof a, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof pi));
  recvc("recv leftovers", r, 256);
  close(r);
  close(s);
}

static void v4(int proto) {
  printf("== AF_INET proto %d\n", proto);
  int r = socket(AF_INET, SOCK_DGRAM, proto), s = socket(AF_INET, SOCK_DGRAM, proto);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  bind(r, (struct sockaddr *)&a, sizeof a);
  getsockname(r, (struct sockaddr *)&a, &al);
  struct sockaddr *to = (struct sockaddr *)&a;
  printf("tos default %d", geti(s, SOL_IP, IP_TOS));
  printf(" recvttl %d", geti(r, SOL_IP, IP_RECVTTL));
  printf(" recvtos %d", geti(r, SOL_IP, IP_RECVTOS));
  printf(" pktinfo %d\n", geti(r, SOL_IP, IP_PKTINFO));
  printf("set tos 0x128 %s", seti(s, SOL_IP, IP_TOS, 0x128));
  printf(" -> %d", geti(s, SOL_IP, IP_TOS));
  printf(", 0x28 %s", seti(s, SOL_IP, IP_TOS, 0x28));
  printf(" -> %d\n", geti(s, SOL_IP, IP_TOS));
  seti(s, SOL_IP, IP_TOS, 0);
  seti(r, SOL_IP, IP_RECVTTL, 1);
  seti(r, SOL_IP, IP_RECVTOS, 1);
  seti(r, SOL_IP, IP_PKTINFO, 1);
  struct c both[] = {{SOL_IP, IP_TTL, 7, 4}, {SOL_IP, IP_TOS, 0x10, 1}};
  printf("send ttl 7 tos 0x10 %s\n", sendc(s, to, sizeof a, both, 2));
  recvc("recv all", r, 256);
  int sizes[] = {0, 16, 20, 28, 32, 48, 52};
  for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    char what[32];
    sendc(s, to, sizeof a, both, 2);
    snprintf(what, sizeof what, "recv ctl %d", sizes[i]);
    recvc(what, r, sizes[i]);
  }
  seti(s, SOL_IP, IP_TOS, 0x28);
  seti(s, SOL_IP, IP_TTL, 5);
  sendc(s, to, sizeof a, NULL, 0);
  recvc("recv sticky", r, 256);
  struct c intTos[] = {{SOL_IP, IP_TOS, 0x08, 4}};
  printf("send int tos %s\n", sendc(s, to, sizeof a, intTos, 1));
  recvc("recv int tos", r, 256);
  struct c bad1[] = {{SOL_IP, IP_TTL, 0, 4}};
  struct c bad2[] = {{SOL_IP, IP_TTL, 256, 4}};
  struct c bad3[] = {{SOL_IP, IP_TOS, 1, 2}};
  struct c bad4[] = {{SOL_IP, 9999, 1, 4}};
  struct c bad5[] = {{SOL_IP, IP_TOS, 256, 4}};
  struct c skip[] = {{SOL_IPV6, IPV6_HOPLIMIT, 3, 4}};
  printf("send ttl 0 %s", sendc(s, to, sizeof a, bad1, 1));
  printf(", ttl 256 %s", sendc(s, to, sizeof a, bad2, 1));
  printf(", tos len 2 %s", sendc(s, to, sizeof a, bad3, 1));
  printf(", type 9999 %s", sendc(s, to, sizeof a, bad4, 1));
  printf(", tos 256 %s", sendc(s, to, sizeof a, bad5, 1));
  printf(", SOL_IPV6 %s\n", sendc(s, to, sizeof a, skip, 1));
  recvc("recv leftovers", r, 256);
  struct in_pktinfo pi = {.ipi_ifindex = 0, .ipi_spec_dst.s_addr = htonl(INADDR_LOOPBACK)};
  printf("send pktinfo 127.0.0.1 %s", sendraw(s, to, sizeof a, SOL_IP, IP_PKTINFO, &pi, sizeof pi));
  recvc("", r, 256);
  printf("send pktinfo short %s\n", sendraw(s, to, sizeof a, SOL_IP, IP_PKTINFO, &pi, 8));
  close(r);
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  v6(0);
  v6(IPPROTO_UDPLITE);
  v4(0);
  v4(IPPROTO_UDPLITE);
  return 0;
}
