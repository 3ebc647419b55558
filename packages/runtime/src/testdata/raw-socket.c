/* Raw IP sockets (SOCK_RAW), natively in a fresh network namespace (lo up) and under tsvisor
 * --network none (raw-socket.test.ts): the outputs must match. Go's net tests open them
 * ("listen ip4:icmp 127.0.0.1"), which tsvisor refused with ESOCKTNOSUPPORT. Covered: EPERM
 * without CAP_NET_RAW, EPROTONOSUPPORT for protocol 0, an ICMP socket that sees its own echo
 * request and the reply (IP header included), ICMP_FILTER, IP_HDRINCL with the fields the kernel
 * fills in, a UDP-protocol socket seeing a datagram beside the UDP socket, ICMPv6 (payload only,
 * checksum by the kernel, ICMP6_FILTER), bind/getsockname as Go uses them, and SO_RCVBUF.
 * Checksums and IP ids are never printed, only whether they are right. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock-util.h"

static uint16_t csum(const void *p, size_t n) {
  const uint8_t *b = p;
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(b[i] << 8 | b[i + 1]);
  if (n & 1) s += (uint32_t)(b[n - 1] << 8);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

static struct sockaddr_in v4(const char *ip) {
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

/** Waits up to `ms` for a datagram; returns its length or -1 (none). */
static long recv_wait(int fd, void *buf, size_t len, int ms, struct sockaddr *from, socklen_t *fl) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, ms) <= 0) return -1;
  return recvfrom(fd, buf, len, 0, from, fl);
}

static int by_text(const void *a, const void *b) { return strcmp(a, b); }

/** /proc/net/raw or raw6: the header, then each socket's addresses and state (not the hash
 * bucket, queue sizes in truesize, inode), sorted, as Linux lists them in hash order. Then
 * sockstat's RAW line. */
static void proc_raw(const char *file) {
  char path[64], line[512], rows[8][160];
  int n = 0;
  snprintf(path, sizeof path, "/proc/net/%s", file);
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("%s: %s\n", path, strerrorname_np(errno));
    return;
  }
  for (int i = 0; fgets(line, sizeof line, f); i++) {
    char local[64], remote[64], st[8];
    if (i == 0) printf("%s header: %s", file, line);
    else if (n < 8 && sscanf(line, "%*s %63s %63s %7s", local, remote, st) == 3)
      snprintf(rows[n++], sizeof rows[0], "%s: %s %s %s", file, local, remote, st);
  }
  fclose(f);
  qsort(rows, (size_t)n, sizeof rows[0], by_text);
  for (int i = 0; i < n; i++) printf("%s\n", rows[i]);
  f = fopen(strcmp(file, "raw") == 0 ? "/proc/net/sockstat" : "/proc/net/sockstat6", "r");
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "RAW", 3) == 0) printf("%s", line);
  if (f) fclose(f);
}

static void echo_request(uint8_t *m, size_t len, uint16_t id, uint16_t seq) {
  memset(m, 0, len);
  m[0] = ICMP_ECHO;
  m[4] = id >> 8, m[5] = id & 0xff, m[6] = seq >> 8, m[7] = seq & 0xff;
  for (size_t i = 8; i < len; i++) m[i] = (uint8_t)i;
  uint16_t c = csum(m, len);
  m[2] = c >> 8, m[3] = c & 0xff;
}

static void show_icmp4(const char *what, const uint8_t *p, long n, const struct sockaddr_in *from) {
  int ihl = (p[0] & 15) * 4;
  const uint8_t *icmp = p + ihl;
  char ip[32];
  inet_ntop(AF_INET, &from->sin_addr, ip, sizeof ip);
  printf("%s: len %ld, version %d, ihl %d, protocol %d, ttl %d, type %d, code %d, id %#x, seq %d, "
         "header checksum ok %d, from %s port %d\n",
         what, n, p[0] >> 4, ihl, p[9], p[8], icmp[0], icmp[1], icmp[4] << 8 | icmp[5],
         icmp[6] << 8 | icmp[7], csum(p, (size_t)ihl) == 0, ip, ntohs(from->sin_port));
}

static void no_cap(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setuid(65534) != 0) _exit(2);
    printf("unprivileged socket(AF_INET, SOCK_RAW, ICMP): %s\n", res_rc(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)));
    printf("unprivileged socket(AF_INET6, SOCK_RAW, ICMPV6): %s\n",
           res_rc(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)));
    printf("unprivileged socket(AF_INET, SOCK_RAW, 0): %s\n", res_rc(socket(AF_INET, SOCK_RAW, 0)));
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void icmp(void) {
  printf("socket(AF_INET, SOCK_RAW, 0): %s\n", res_rc(socket(AF_INET, SOCK_RAW, 0)));
  printf("socket(AF_INET6, SOCK_RAW, 0): %s\n", res_rc(socket(AF_INET6, SOCK_RAW, 0)));
  int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  printf("socket(AF_INET, SOCK_RAW, ICMP): %s\n", s >= 0 ? "ok" : res_rc(s));
  int v = 0;
  socklen_t vl = sizeof v;
  getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl);
  printf("SO_TYPE %d", v);
  getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &vl);
  printf(", SO_PROTOCOL %d\n", v);
  struct pollfd p = {.fd = s, .events = POLLIN | POLLOUT};
  poll(&p, 1, 0);
  printf("fresh poll %#x\n", p.revents);
  uint8_t m[64];
  echo_request(m, sizeof m, 0x4242, 1);
  struct sockaddr_in lo = v4("127.0.0.1");
  printf("sendto echo request: %s\n", res_rc(sendto(s, m, sizeof m, 0, (struct sockaddr *)&lo, sizeof lo)));
  uint8_t buf[2048];
  poll(&p, 1, 2000);
  printf("poll after send %#x\n", p.revents);
  printf("peek|trunc into 4 bytes: %s\n", res_rc(recv(s, buf, 4, MSG_PEEK | MSG_TRUNC)));
  for (int i = 0; i < 2; i++) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    long n = recv_wait(s, buf, sizeof buf, 2000, (struct sockaddr *)&from, &fl);
    if (n < 0) {
      printf("datagram %d: none\n", i);
      continue;
    }
    show_icmp4(i == 0 ? "first" : "second", buf, n, &from);
  }
  close(s);

  s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  struct icmp_filter f = {.data = 1u << ICMP_ECHOREPLY};
  printf("ICMP_FILTER echo reply: %s\n", res_rc(setsockopt(s, SOL_RAW, ICMP_FILTER, &f, sizeof f)));
  struct icmp_filter g = {0};
  socklen_t gl = sizeof g;
  int r = getsockopt(s, SOL_RAW, ICMP_FILTER, &g, &gl);
  printf("getsockopt ICMP_FILTER: %s, %#x len %u\n", res_rc(r), g.data, gl);
  echo_request(m, 16, 0x4343, 2);
  sendto(s, m, 16, 0, (struct sockaddr *)&lo, sizeof lo);
  for (;;) {
    long n = recv_wait(s, buf, sizeof buf, 300, NULL, NULL);
    if (n < 0) break;
    printf("filtered socket got type %d\n", buf[(buf[0] & 15) * 4]);
  }
  int u = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  printf("ICMP_FILTER on a UDP raw socket: %s\n", res_rc(setsockopt(u, SOL_RAW, ICMP_FILTER, &f, sizeof f)));
  close(u);

  // SO_RCVBUF at its minimum: ten 1 KB requests do not all fit.
  int small = 0;
  setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  uint8_t big[1008];
  for (int i = 0; i < 10; i++) {
    echo_request(big, sizeof big, 0x4444, (uint16_t)i);
    sendto(s, big, sizeof big, 0, (struct sockaddr *)&lo, sizeof lo);
  }
  int got = 0;
  while (recv_wait(s, buf, sizeof buf, 300, NULL, NULL) >= 0) got++;
  printf("small SO_RCVBUF kept some but not all: %d\n", got > 0 && got < 10);
  close(s);
}

static void hdrincl(void) {
  int rx = socket(AF_INET, SOCK_RAW, 253);
  int tx = socket(AF_INET, SOCK_RAW, 253);
  int on = 1, v = 0;
  socklen_t vl = sizeof v;
  getsockopt(tx, IPPROTO_IP, IP_HDRINCL, &v, &vl);
  printf("IP_HDRINCL default %d\n", v);
  printf("IP_HDRINCL on: %s\n", res_rc(setsockopt(tx, IPPROTO_IP, IP_HDRINCL, &on, sizeof on)));
  uint8_t pkt[24] = {0x45, 0, 0, 0, 0, 0, 0, 0, 9, 253, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1, 'a', 'b', 'c', 'd'};
  struct sockaddr_in lo = v4("127.0.0.1");
  printf("sendto own header: %s\n", res_rc(sendto(tx, pkt, sizeof pkt, 0, (struct sockaddr *)&lo, sizeof lo)));
  printf("sendto 12-byte header: %s\n", res_rc(sendto(tx, pkt, 12, 0, (struct sockaddr *)&lo, sizeof lo)));
  uint8_t buf[256];
  long n = recv_wait(rx, buf, sizeof buf, 2000, NULL, NULL);
  if (n < 0) {
    printf("hdrincl: nothing received\n");
  } else {
    char src[32];
    inet_ntop(AF_INET, buf + 12, src, sizeof src);
    printf("received %ld: total length %d, id set %d, checksum ok %d, source %s, ttl %d, protocol %d, "
           "payload %.4s\n",
           n, buf[2] << 8 | buf[3], (buf[4] | buf[5]) != 0, csum(buf, 20) == 0, src, buf[8], buf[9],
           (char *)buf + 20);
  }
  int r255 = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  vl = sizeof v;
  getsockopt(r255, IPPROTO_IP, IP_HDRINCL, &v, &vl);
  printf("IPPROTO_RAW IP_HDRINCL %d\n", v);
  close(r255);
  close(tx);
  close(rx);
}

static void udp(void) {
  int r = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = v4("127.0.0.1");
  at.sin_port = htons(9999);
  bind(u, (struct sockaddr *)&at, sizeof at);
  int c = socket(AF_INET, SOCK_DGRAM, 0);
  sendto(c, "hello", 5, 0, (struct sockaddr *)&at, sizeof at);
  uint8_t buf[256];
  long n = recv_wait(r, buf, sizeof buf, 2000, NULL, NULL);
  if (n < 0) printf("udp raw: nothing\n");
  else
    printf("udp raw: len %ld, protocol %d, dst port %d, udp length %d, data %.5s\n", n, buf[9],
           buf[22] << 8 | buf[23], buf[24] << 8 | buf[25], (char *)buf + 28);
  n = recv_wait(u, buf, sizeof buf, 2000, NULL, NULL);
  printf("udp socket still got %ld bytes\n", n);
  close(c);
  close(u);
  close(r);
}

static void icmp6(void) {
  int s = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  printf("socket(AF_INET6, SOCK_RAW, ICMPV6): %s\n", s >= 0 ? "ok" : res_rc(s));
  struct icmp6_filter f;
  ICMP6_FILTER_SETBLOCKALL(&f);
  ICMP6_FILTER_SETPASS(ICMP6_ECHO_REQUEST, &f);
  ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
  printf("ICMP6_FILTER: %s\n", res_rc(setsockopt(s, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f)));
  int v = 0;
  socklen_t vl = sizeof v;
  getsockopt(s, IPPROTO_IPV6, IPV6_CHECKSUM, &v, &vl);
  printf("IPV6_CHECKSUM %d\n", v);
  v = 4;
  printf("IPV6_CHECKSUM set on ICMPv6: %s\n", res_rc(setsockopt(s, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof v)));
  uint8_t m[24] = {ICMP6_ECHO_REQUEST, 0, 0, 0, 0x12, 0x34, 0, 5};
  for (int i = 8; i < 24; i++) m[i] = (uint8_t)i;
  struct sockaddr_in6 lo = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  printf("sendto echo request: %s\n", res_rc(sendto(s, m, sizeof m, 0, (struct sockaddr *)&lo, sizeof lo)));
  for (int i = 0; i < 2; i++) {
    uint8_t buf[256];
    struct sockaddr_in6 from;
    socklen_t fl = sizeof from;
    long n = recv_wait(s, buf, sizeof buf, 2000, (struct sockaddr *)&from, &fl);
    if (n < 0) {
      printf("icmp6 %d: none\n", i);
      continue;
    }
    char ip[64];
    inet_ntop(AF_INET6, &from.sin6_addr, ip, sizeof ip);
    printf("icmp6 %d: len %ld, type %d, code %d, id %#x, seq %d, from %s port %d\n", i, n, buf[0], buf[1],
           buf[4] << 8 | buf[5], buf[6] << 8 | buf[7], ip, ntohs(from.sin6_port));
  }
  int u = socket(AF_INET6, SOCK_RAW, IPPROTO_UDP);
  v = 3;
  printf("IPV6_CHECKSUM odd: %s\n", res_rc(setsockopt(u, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof v)));
  v = 6;
  printf("IPV6_CHECKSUM 6: %s\n", res_rc(setsockopt(u, IPPROTO_IPV6, IPV6_CHECKSUM, &v, sizeof v)));
  printf("ICMP6_FILTER on UDP: %s\n", res_rc(setsockopt(u, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f)));
  struct sockaddr_in6 port = lo;
  port.sin6_port = htons(5353);
  printf("raw6 sendto port 5353: %s\n", res_rc(sendto(u, m, 8, 0, (struct sockaddr *)&port, sizeof port)));
  port.sin6_port = htons(IPPROTO_UDP);
  printf("raw6 sendto port 17: %s\n", res_rc(sendto(u, m, 8, 0, (struct sockaddr *)&port, sizeof port)));
  proc_raw("raw6");
  close(u);
  close(s);
}

static void go_listen(void) {
  // net.ListenPacket("ip4:icmp", "127.0.0.1"): socket, bind, getsockname.
  int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP);
  struct sockaddr_in a = v4("10.1.2.3");
  printf("bind 10.1.2.3: %s\n", res_rc(bind(s, (struct sockaddr *)&a, sizeof a)));
  a = v4("127.0.0.1");
  printf("bind 127.0.0.1: %s\n", res_rc(bind(s, (struct sockaddr *)&a, sizeof a)));
  struct sockaddr_in n;
  socklen_t nl = sizeof n;
  getsockname(s, (struct sockaddr *)&n, &nl);
  char ip[32];
  inet_ntop(AF_INET, &n.sin_addr, ip, sizeof ip);
  printf("getsockname %s port %d len %u\n", ip, ntohs(n.sin_port), nl);
  nl = sizeof n;
  printf("getpeername: %s\n", res_rc(getpeername(s, (struct sockaddr *)&n, &nl)));
  a = v4("127.0.0.1");
  printf("connect 127.0.0.1: %s\n", res_rc(connect(s, (struct sockaddr *)&a, sizeof a)));
  nl = sizeof n;
  printf("getpeername after connect to port 0: %s\n", res_rc(getpeername(s, (struct sockaddr *)&n, &nl)));
  uint8_t m[16];
  echo_request(m, sizeof m, 0x4545, 9);
  printf("send on connected: %s\n", res_rc(send(s, m, sizeof m, 0)));
  uint8_t buf[256];
  int got = 0;
  while (recv_wait(s, buf, sizeof buf, 300, NULL, NULL) >= 0) got++;
  printf("connected socket got %d\n", got);
  printf("listen: %s\n", res_rc(listen(s, 1)));
  a.sin_port = htons(77);
  printf("connect 127.0.0.1 port 77: %s\n", res_rc(connect(s, (struct sockaddr *)&a, sizeof a)));
  nl = sizeof n;
  memset(&n, 0, sizeof n);
  int r = getpeername(s, (struct sockaddr *)&n, &nl);
  inet_ntop(AF_INET, &n.sin_addr, ip, sizeof ip);
  printf("getpeername: %s, %s port %d\n", res_rc(r), ip, ntohs(n.sin_port));
  int u = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  proc_raw("raw");
  close(u);
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  no_cap();
  icmp();
  hdrincl();
  udp();
  icmp6();
  go_listen();
  return 0;
}
