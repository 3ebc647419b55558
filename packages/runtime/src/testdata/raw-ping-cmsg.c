/* Receive control messages on raw and ping sockets, natively in a fresh network namespace (lo up)
 * and under tsvisor --network none (raw-ping-cmsg.test.ts): the outputs must match. ping -6
 * asks for IPV6_RECVHOPLIMIT to print "ttl=", which tsvisor's raw and ping sockets never
 * reported. Each socket (raw ICMP, raw ICMPv6, ping IPv4, ping IPv6) sends an echo request to
 * loopback with one option on (then all of them), and prints the control messages that came
 * with the reply: IP_PKTINFO, IP_RECVTTL, IP_RECVTOS; IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT,
 * IPV6_RECVTCLASS. Last, a control buffer too short for the message: MSG_CTRUNC. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* `icmp`: the ICMP header of the datagram, whose checksum ORIGDSTADDR's port is compared with. */
static void print_cmsgs(struct msghdr *m, const unsigned char *icmp) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    size_t len = c->cmsg_len - CMSG_LEN(0);
    unsigned char *d = CMSG_DATA(c);
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    int v;
    printf("  level %d type %d len %zu: ", c->cmsg_level, c->cmsg_type, len);
    if (len < 4) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && len == 1) printf("IP_TOS %d\n", d[0]);
      else printf("short\n");
      continue;
    }
    if ((c->cmsg_type == IP_PKTINFO && len < sizeof(struct in_pktinfo)) ||
        (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO && len < sizeof(struct in6_pktinfo))) {
      printf("cut\n");
      continue;
    }
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo p;
      memcpy(&p, d, sizeof p);
      printf("IP_PKTINFO ifindex %d spec_dst %s addr %s\n", p.ipi_ifindex,
             inet_ntop(AF_INET, &p.ipi_spec_dst, a, sizeof a), inet_ntop(AF_INET, &p.ipi_addr, b, sizeof b));
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
      memcpy(&v, d, 4);
      printf("IP_TTL %d\n", v);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo p;
      memcpy(&p, d, sizeof p);
      printf("IPV6_PKTINFO ifindex %d addr %s\n", p.ipi6_ifindex, inet_ntop(AF_INET6, &p.ipi6_addr, a, sizeof a));
    } else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_ORIGDSTADDR) ||
               (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR)) {
      /* The port is read where a UDP header has its destination port: a ping socket's id makes
       * the checksum differ from run to run, so only whether they are equal is printed. */
      unsigned short port, sum;
      memcpy(&port, d + 2, 2);
      memcpy(&sum, icmp + 2, 2);
      if (c->cmsg_level == IPPROTO_IP) {
        struct sockaddr_in sin;
        memcpy(&sin, d, sizeof sin);
        printf("IP_ORIGDSTADDR family %d addr %s", sin.sin_family, inet_ntop(AF_INET, &sin.sin_addr, a, sizeof a));
      } else {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, d, sizeof sin6);
        printf("IPV6_ORIGDSTADDR family %d addr %s flowinfo %u scope %u", sin6.sin6_family,
               inet_ntop(AF_INET6, &sin6.sin6_addr, a, sizeof a), sin6.sin6_flowinfo, sin6.sin6_scope_id);
      }
      if (port == sum) printf(" port: the ICMP checksum\n");
      else printf(" port %u, ICMP checksum %u\n", ntohs(port), ntohs(sum));
    } else if (c->cmsg_level == IPPROTO_IPV6 && (c->cmsg_type == IPV6_HOPLIMIT || c->cmsg_type == IPV6_TCLASS)) {
      memcpy(&v, d, 4);
      printf("%s %d\n", c->cmsg_type == IPV6_HOPLIMIT ? "IPV6_HOPLIMIT" : "IPV6_TCLASS", v);
    } else {
      printf("?\n");
    }
  }
}

struct kind {
  const char *name;
  int family, type, proto;
};

/* Sends an echo request on a new socket of `k` with options `opts` on (each an int 1 at
 * `level`), the traffic class or TOS set to 0x20 so it shows, and prints what recvmsg gives for
 * the reply with a control buffer of `space` bytes. */
static void echo(const struct kind *k, int level, const int *opts, int nopts, size_t space) {
  int s = socket(k->family, k->type, k->proto);
  if (s < 0) {
    printf("%s: socket: %s\n", k->name, strerrorname_np(errno));
    return;
  }
  int one = 1, tc = 0x20;
  for (int i = 0; i < nopts; i++)
    if (setsockopt(s, level, opts[i], &one, sizeof one) < 0) printf("  setsockopt %d: %s\n", opts[i], strerrorname_np(errno));
  if (k->family == AF_INET) setsockopt(s, IPPROTO_IP, IP_TOS, &tc, sizeof tc);
  else setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &tc, sizeof tc);

  unsigned char req[16] = {0};
  req[0] = k->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
  req[4] = 0x12, req[5] = 0x34, req[7] = 9;
  memcpy(req + 8, "cmsgtest", 8);
  if (k->family == AF_INET && k->type == SOCK_RAW) {
    /* The kernel computes no ICMP checksum on IPv4 raw sockets. */
    unsigned sum = 0;
    for (int i = 0; i < 16; i += 2) sum += req[i] << 8 | req[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    req[2] = ~sum >> 8, req[3] = ~sum & 0xff;
  }
  struct sockaddr_storage to = {0};
  socklen_t tolen;
  if (k->family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&to;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    tolen = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    tolen = sizeof *a;
  }
  if (sendto(s, req, sizeof req, 0, (struct sockaddr *)&to, tolen) < 0) printf("  sendto: %s\n", strerrorname_np(errno));

  /* A raw socket sees its own request too: read until the reply. */
  for (int tries = 0; tries < 4; tries++) {
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, 2000) != 1) {
      printf("  no reply\n");
      break;
    }
    unsigned char buf[256];
    union {
      char b[256];
      struct cmsghdr align;
    } ctl;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = space ? ctl.b : NULL, .msg_controllen = space};
    ssize_t n = recvmsg(s, &m, 0);
    if (n < 0) {
      printf("  recvmsg: %s\n", strerrorname_np(errno));
      break;
    }
    int off = k->family == AF_INET && k->type == SOCK_RAW ? (buf[0] & 15) * 4 : 0;
    int type = buf[off];
    if (type == ICMP_ECHO || type == ICMP6_ECHO_REQUEST) continue;
    printf("  reply: %zd bytes, type %d, flags%s%s, controllen %zu\n", n, type, m.msg_flags & MSG_CTRUNC ? " CTRUNC" : "",
           m.msg_flags & MSG_TRUNC ? " TRUNC" : "", (size_t)m.msg_controllen);
    print_cmsgs(&m, buf + off);
    break;
  }
  close(s);
}

/* A raw socket of protocol 253 (for experiments, RFC 3692) with IP_RECVORIGDSTADDR (or its
 * IPv6 twin) sends itself `len` bytes over loopback and reads them into `space` bytes: the port
 * comes from bytes 2 and 3 of the payload, whatever the buffer holds, and a payload shorter than
 * 4 bytes gives no ORIGDSTADDR. */
static void short_transport(int family, size_t len, size_t space) {
  printf("raw %d proto 253, %zu bytes into %zu:\n", family == AF_INET ? 4 : 6, len, space);
  int s = socket(family, SOCK_RAW, 253), one = 1;
  if (s < 0) {
    printf("  socket: %s\n", strerrorname_np(errno));
    return;
  }
  if (family == AF_INET) setsockopt(s, IPPROTO_IP, IP_RECVORIGDSTADDR, &one, sizeof one);
  else setsockopt(s, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof one);
  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  const unsigned char payload[] = {0xab, 0xcd, 0x12, 0x34, 0x56};
  if (sendto(s, payload, len, 0, family == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6,
             family == AF_INET ? sizeof a4 : sizeof a6) < 0)
    printf("  sendto: %s\n", strerrorname_np(errno));
  struct pollfd p = {.fd = s, .events = POLLIN};
  if (poll(&p, 1, 2000) != 1) {
    printf("  nothing\n");
    close(s);
    return;
  }
  unsigned char buf[64];
  union {
    char b[256];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {buf, space};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
  ssize_t n = recvmsg(s, &m, 0);
  if (n < 0) printf("  recvmsg: %s\n", strerrorname_np(errno));
  printf("  %zd bytes, flags%s, controllen %zu\n", n, m.msg_flags & MSG_TRUNC ? " TRUNC" : "", (size_t)m.msg_controllen);
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    unsigned short port;
    memcpy(&port, CMSG_DATA(c) + 2, 2);
    printf("  level %d type %d len %zu port %#x\n", c->cmsg_level, c->cmsg_type, (size_t)(c->cmsg_len - CMSG_LEN(0)),
           ntohs(port));
  }
  close(s);
}

int main(void) {
  /* Ping sockets for root: a fresh namespace lets no group in. */
  int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (fd < 0 || write(fd, "0 0", 3) != 3) printf("ping_group_range: %s\n", strerrorname_np(errno));
  if (fd >= 0) close(fd);

  const struct kind kinds[] = {
      {"raw icmp", AF_INET, SOCK_RAW, IPPROTO_ICMP},
      {"ping icmp", AF_INET, SOCK_DGRAM, IPPROTO_ICMP},
      {"raw icmpv6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6},
      {"ping icmpv6", AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6},
  };
  const int v4[] = {IP_PKTINFO, IP_RECVTTL, IP_RECVTOS};
  const int v6[] = {IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    const struct kind *k = &kinds[i];
    int level = k->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    const int *opts = k->family == AF_INET ? v4 : v6;
    printf("%s, no option:\n", k->name);
    echo(k, level, opts, 0, 256);
    for (int j = 0; j < 3; j++) {
      printf("%s, option %d:\n", k->name, opts[j]);
      echo(k, level, &opts[j], 1, 256);
    }
    printf("%s, all:\n", k->name);
    echo(k, level, opts, 3, 256);
    printf("%s, all, control space for one int:\n", k->name);
    echo(k, level, opts, 3, CMSG_SPACE(sizeof(int)));
    printf("%s, all, no control buffer:\n", k->name);
    echo(k, level, opts, 3, 0);
    const int orig[] = {k->family == AF_INET ? IP_RECVORIGDSTADDR : IPV6_RECVORIGDSTADDR, opts[0], opts[1], opts[2]};
    printf("%s, ORIGDSTADDR:\n", k->name);
    echo(k, level, orig, 1, 256);
    printf("%s, ORIGDSTADDR and all:\n", k->name);
    echo(k, level, orig, 4, 256);
  }
  for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
    short_transport(family, 5, 64);
    short_transport(family, 4, 64);
    short_transport(family, 3, 64);
    short_transport(family, 4, 1);
  }
  return 0;
}
