/* Classic BPF socket filters (SO_ATTACH_FILTER, SO_DETACH_FILTER, SO_LOCK_FILTER, SO_GET_FILTER,
 * SO_ATTACH_BPF without a bpf(2) program): the checker's errnos, and what a filter keeps of what
 * UDP, raw, ping, TCP, AF_UNIX and netlink sockets receive. Runs natively in a fresh network
 * namespace and under tsvisor --network none; both must print the same. */
#define _GNU_SOURCE
#include "sock-util.h"
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define RET(k) BPF_STMT(BPF_RET | BPF_K, (k))
#define RET_A BPF_STMT(BPF_RET | BPF_A, 0)

static int attach(int fd, const struct sock_filter *f, unsigned n) {
  struct sock_fprog p = {.len = n, .filter = (struct sock_filter *)f};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p);
}

static void show_attach(const char *what, int fd, const struct sock_filter *f, unsigned n) {
  printf("%s: %s\n", what, res_rc(attach(fd, f, n)));
}

/* Udp InErrors from /proc/net/snmp (-1 when it cannot be read). */
static long udp_in_errors(void) {
  FILE *f = fopen("/proc/net/snmp", "r");
  char line[512];
  long v[8], r = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "Udp: ", 5) == 0 && line[5] >= '0' && line[5] <= '9' &&
        sscanf(line + 5, "%ld %ld %ld", &v[0], &v[1], &v[2]) == 3)
      r = v[2];
  fclose(f);
  return r;
}

static void errnos(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sock_filter ok[] = {RET(0xffff)};
  struct sock_fprog p = {.len = 1, .filter = ok};
  printf("-- errnos\n");
  printf("optlen 8: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, 8)));
  printf("optlen 3: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, 3)));
  printf("optlen 24: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, 24)));
  printf("bad optval: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, (void *)8, sizeof p)));
  p.len = 0;
  printf("len 0: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p)));
  p.len = 4097;
  printf("len 4097: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p)));
  p.len = 1;
  p.filter = NULL;
  printf("NULL program: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p)));
  p.filter = (void *)8;
  printf("bad program pointer: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p)));
  /* A program running off the end of a mapping. */
  char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(page + 4096, 4096);
  memcpy(page + 4096 - 8, ok, 8);
  p.filter = (void *)(page + 4096 - 8);
  printf("one readable of 1: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p)));
  p.len = 2;
  printf("one readable of 2: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof p)));
  munmap(page, 4096);
  printf("detach: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &fd, sizeof fd)));
  printf("detach again: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &fd, sizeof fd)));
  printf("detach optlen 0: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &fd, 0)));

  struct {
    const char *what;
    struct sock_filter f[4];
    unsigned n;
  } bad[] = {
      {"unknown opcode", {BPF_STMT(0xff, 0), RET(1)}, 2},
      {"RET X", {BPF_STMT(BPF_RET | BPF_X, 0)}, 1},
      {"division by 0", {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), RET(1)}, 2},
      {"modulo by 0", {BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 0), RET(1)}, 2},
      {"shift by 32", {BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), RET(1)}, 2},
      {"jump past the end", {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), RET(1)}, 2},
      {"JA past the end", {BPF_STMT(BPF_JMP | BPF_JA, 1), RET(1)}, 2},
      {"unknown ancillary", {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + 64), RET(1)}, 2},
      {"last not a return", {RET(1), BPF_STMT(BPF_LD | BPF_IMM, 1)}, 2},
      {"M[16]", {BPF_STMT(BPF_ST, 16), RET(1)}, 2},
      {"uninitialised M[0]", {BPF_STMT(BPF_LD | BPF_MEM, 0), RET_A}, 2},
      {"M[0] set on one path",
       {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), BPF_STMT(BPF_ST, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), RET_A},
       4},
  };
  for (unsigned i = 0; i < N(bad); i++) show_attach(bad[i].what, fd, bad[i].f, bad[i].n);

  int ufd = -1;
  printf("SO_ATTACH_BPF -1: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &ufd, sizeof ufd)));
  ufd = 999;
  printf("SO_ATTACH_BPF closed fd: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &ufd, sizeof ufd)));
  ufd = fd;
  printf("SO_ATTACH_BPF socket fd: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &ufd, sizeof ufd)));
  printf("SO_ATTACH_BPF optlen 8: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &ufd, 8)));
  printf("SO_DETACH_BPF: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_DETACH_BPF, &ufd, sizeof ufd)));
  int v = 0;
  socklen_t l = sizeof v;
  printf("SO_BPF_EXTENSIONS: %s", res_rc(getsockopt(fd, SOL_SOCKET, SO_BPF_EXTENSIONS, &v, &l)));
  printf(" %d\n", v);
  close(fd);
}

static void get_and_lock(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sock_filter f[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'x', 0, 1),
                            RET(0x40000), RET(0)};
  struct sock_filter back[8];
  socklen_t l = 0;
  printf("-- SO_GET_FILTER\n");
  printf("none: %s", res_rc(getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, back, &l)));
  printf(" optlen %u\n", l);
  attach(fd, f, N(f));
  l = 0;
  printf("count: %s", res_rc(getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, back, &l)));
  printf(" optlen %u\n", l);
  l = 3;
  printf("too small: %s", res_rc(getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, back, &l)));
  printf(" optlen %u\n", l);
  l = 8;
  memset(back, 0, sizeof back);
  printf("whole: %s", res_rc(getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, back, &l)));
  printf(" optlen %u same %d\n", l, memcmp(back, f, sizeof f) == 0);
  l = 4;
  printf("bad buffer: %s\n", res_rc(getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, (void *)8, &l)));
  struct sock_filter g[] = {RET(7)};
  attach(fd, g, 1);
  l = 8;
  getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, back, &l);
  printf("replaced: optlen %u k %u\n", l, back[0].k);

  printf("-- SO_LOCK_FILTER\n");
  int v = -1;
  l = sizeof v;
  getsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &v, &l);
  printf("locked: %d\n", v);
  v = 1;
  printf("lock: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &v, sizeof v)));
  show_attach("attach locked", fd, f, N(f));
  printf("detach locked: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &v, sizeof v)));
  show_attach("bad program locked", fd, f, 0);
  int u = 0;
  printf("unlock: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &u, sizeof u)));
  printf("lock again: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &v, sizeof v)));
  l = sizeof v;
  getsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &v, &l);
  printf("locked: %d\n", v);
  l = 8;
  getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, back, &l);
  printf("kept: optlen %u k %u\n", l, back[0].k);
  close(fd);
}

/* Sends `n` bytes of `msg` from a to b and prints what b receives (up to 64 bytes). */
static void udp_through(const char *what, int a, int b, const char *msg, int n) {
  send(a, msg, n, 0);
  char buf[128];
  long r = recv(b, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
  if (r < 0) printf("%s: %s\n", what, err());
  else printf("%s: %ld \"%.*s\"\n", what, r, (int)(r > 64 ? 64 : r), buf);
}

static void udp(int family) {
  int a, b;
  udp_pair(family, &a, &b);
  const char *msg = "hello, filter";
  int n = (int)strlen(msg);
  printf("-- udp %s\n", family == AF_INET ? "ipv4" : "ipv6");
  struct sock_filter all[] = {RET(0xffffffff)};
  struct sock_filter none[] = {RET(0)};
  struct sock_filter prefix[] = {RET(8 + 5)};
  struct sock_filter tiny[] = {RET(3)};
  struct sock_filter srcport[] = {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0),
                                  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port_of(a), 0, 1), RET(0xffff), RET(0)};
  struct sock_filter byte[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8 + 7), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'f', 0, 1),
                               RET(0xffff), RET(0)};
  struct sock_filter ind[] = {BPF_STMT(BPF_LDX | BPF_IMM, 8), BPF_STMT(BPF_LD | BPF_B | BPF_IND, 1),
                              BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'e', 0, 1), RET(0xffff), RET(0)};
  struct sock_filter len[] = {BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 2), RET_A};
  struct sock_filter payoff[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PAY_OFFSET),
                                 BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 8), RET_A};
  struct sock_filter proto[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
                                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, family == AF_INET ? 0x0800 : 0x86dd, 0, 1),
                                RET(0xffff), RET(0)};
  struct sock_filter pkttype[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
                                  BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 8 + 1), RET_A};
  struct sock_filter ifindex[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_IFINDEX),
                                  BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 8 + 1), RET_A};
  struct sock_filter hatype[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_HATYPE),
                                 BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 772, 0, 1), RET(0xffff), RET(8 + 1)};
  int nh = family == AF_INET ? 9 : 6;
  struct sock_filter netoff[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + nh), RET_A};
  int hl = family == AF_INET ? 20 : 40;
  struct sock_filter netlen[] = {BPF_STMT(BPF_LDX | BPF_IMM, hl), BPF_STMT(BPF_LD | BPF_H | BPF_IND, SKF_NET_OFF + 4),
                                 BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 3), RET_A};
  /* On lo the checksum field holds the sender's partial sum (CHECKSUM_PARTIAL). */
  struct sock_filter csum[] = {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x3f),
                               BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 8), RET_A};
  struct sock_filter past[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8 + 100), RET(0xffff)};

  udp_through("no filter", a, b, msg, n);
  attach(b, all, 1);
  udp_through("accept all", a, b, msg, n);
  long e0 = udp_in_errors();
  attach(b, none, 1);
  udp_through("drop all", a, b, msg, n);
  long e1 = udp_in_errors();
  if (family == AF_INET) printf("InErrors +%ld\n", e1 - e0);
  attach(b, prefix, 1);
  udp_through("prefix 5", a, b, msg, n);
  char small[2];
  send(a, msg, n, 0);
  struct iovec iov = {small, sizeof small};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  long r = recvmsg(b, &mh, MSG_DONTWAIT);
  printf("prefix 5 into 2: %ld trunc %d\n", r, (mh.msg_flags & MSG_TRUNC) != 0);
  attach(b, tiny, 1);
  udp_through("ret 3 keeps the header", a, b, msg, n);
  attach(b, srcport, N(srcport));
  udp_through("source port", a, b, msg, n);
  int c, d;
  udp_pair(family, &c, &d);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  getsockname(b, (void *)&ss, &sl);
  sendto(c, msg, n, 0, (void *)&ss, sl);
  rd("other source port", b, 0);
  attach(b, byte, N(byte));
  udp_through("byte f", a, b, msg, n);
  udp_through("byte f (no)", a, b, "hello, world", 12);
  attach(b, ind, N(ind));
  udp_through("indirect e", a, b, msg, n);
  udp_through("indirect e (no)", a, b, "hallo", 5);
  attach(b, len, N(len));
  udp_through("len - 2", a, b, msg, n);
  attach(b, payoff, N(payoff));
  udp_through("pay offset + 8", a, b, "0123456789abcdefghijklmnopqrstuvwxyz!@#$%^&*()-=+[]{}<>,.?/~", 60);
  attach(b, proto, N(proto));
  udp_through("protocol", a, b, msg, n);
  attach(b, pkttype, N(pkttype));
  udp_through("pkttype + 1", a, b, msg, n);
  attach(b, ifindex, N(ifindex));
  udp_through("ifindex + 1", a, b, msg, n);
  attach(b, hatype, N(hatype));
  udp_through("hatype loopback", a, b, msg, n);
  attach(b, netoff, N(netoff));
  udp_through("net header protocol", a, b, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
  attach(b, netlen, N(netlen));
  udp_through("udp length via net - 3", a, b, msg, n);
  attach(b, csum, N(csum));
  udp_through("checksum low bits", a, b, "0123456789abcdefghijklmnopqrstuvwxyz!@#$%^&*()-=+[]{}<>,.?/~", 60);
  udp_through("checksum low bits 2", a, b, "0123456789abcdefghijklmnopqrstuvwxyz!@#$%^&*()-=+[]{}<>,.?/~", 40);
  attach(b, past, N(past));
  udp_through("load past the end", a, b, msg, n);
  close(a);
  close(b);
  close(c);
  close(d);
}

static unsigned short icmp_sum(const void *p, int n) {
  const unsigned short *w = p;
  unsigned s = 0;
  for (; n > 1; n -= 2) s += *w++;
  if (n) s += *(const unsigned char *)w;
  s = (s >> 16) + (s & 0xffff);
  s += s >> 16;
  return ~s;
}

static void raw(void) {
  printf("-- raw\n");
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct icmphdr h = {.type = ICMP_ECHO, .un.echo = {.id = htons(0x4242), .sequence = htons(1)}};
  char pkt[sizeof h + 12];
  /* Only echo replies (IP header 20 bytes, then the ICMP type), cut 4 bytes past the ICMP
   * header (SKF_AD_PAY_OFFSET: where the payload starts). */
  struct sock_filter replies[] = {BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
                                  BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),
                                  BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_ECHOREPLY, 0, 3),
                                  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PAY_OFFSET),
                                  BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 4),
                                  RET_A,
                                  RET(0)};
  show_attach("attach", fd, replies, N(replies));
  memcpy(pkt, &h, sizeof h);
  memcpy(pkt + sizeof h, "ping payload", 12);
  ((struct icmphdr *)pkt)->checksum = icmp_sum(pkt, sizeof pkt);
  sendto(fd, pkt, sizeof pkt, 0, (void *)&to, sizeof to);
  usleep(50000);
  char buf[256];
  for (int i = 0; i < 3; i++) {
    long r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0) {
      printf("raw %d: %s\n", i, err());
      break;
    }
    printf("raw %d: len %ld type %d payload \"%.*s\"\n", i, r, buf[20], (int)(r > 28 ? r - 28 : 0), buf + 28);
  }
  close(fd);

  /* IPv6: the filter sees the ICMPv6 message at 0 and the IPv6 header through SKF_NET_OFF. */
  fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  struct sockaddr_in6 to6 = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
  struct sock_filter replies6[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 129, 0, 5),
                                   BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + 6),
                                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 3),
                                   BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PAY_OFFSET),
                                   BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 4), RET_A, RET(0)};
  show_attach("attach6", fd, replies6, N(replies6));
  unsigned char echo6[8 + 12] = {128, 0, 0, 0, 0x42, 0x42, 0, 1};
  memcpy(echo6 + 8, "ping payload", 12);
  sendto(fd, echo6, sizeof echo6, 0, (void *)&to6, sizeof to6);
  usleep(50000);
  for (int i = 0; i < 3; i++) {
    long r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0) {
      printf("raw6 %d: %s\n", i, err());
      break;
    }
    printf("raw6 %d: len %ld type %d payload \"%.*s\"\n", i, r, (unsigned char)buf[0], (int)(r > 8 ? r - 8 : 0), buf + 8);
  }
  close(fd);
}

static void ping(void) {
  printf("-- ping\n");
  /* Ping sockets for everyone (root's group 0 included) in this network namespace. */
  FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "w");
  if (f) {
    fputs("0 2147483647", f);
    fclose(f);
  }
  int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  if (fd < 0) {
    printf("ping socket: %s\n", err());
    return;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  unsigned char echo[8 + 12] = {ICMP_ECHO, 0, 0, 0, 0, 0, 0, 1};
  memcpy(echo + 8, "ping payload", 12);
  /* The reply from its ICMP header: keep the header and 2 bytes when it is an echo reply. */
  struct sock_filter cut[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP_ECHOREPLY, 0, 1),
                              RET(8 + 2), RET(0)};
  struct sock_filter none[] = {RET(0)};
  char buf[64];
  show_attach("attach", fd, cut, N(cut));
  sendto(fd, echo, sizeof echo, 0, (void *)&to, sizeof to);
  usleep(50000);
  long r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  printf("reply cut: %s\n", res_rc(r));
  attach(fd, none, 1);
  sendto(fd, echo, sizeof echo, 0, (void *)&to, sizeof to);
  usleep(50000);
  printf("reply dropped: %s\n", res_rc(recv(fd, buf, sizeof buf, MSG_DONTWAIT)));
  close(fd);
}

static void tcp(void) {
  printf("-- tcp\n");
  int c, s, l;
  struct sock_filter all[] = {RET(0xffff)};
  struct sock_filter none[] = {RET(0)};
  struct sock_filter back[4];
  socklen_t bl = 4;
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  printf("listener attach: %s\n", res_rc(attach(lfd, all, 1)));
  close(lfd);
  tcp_pair(&c, &s, &l);
  printf("child of a filterless listener: %s", res_rc(getsockopt(s, SOL_SOCKET, SO_GET_FILTER, back, &bl)));
  printf(" optlen %u\n", bl);
  attach(s, none, 1);
  send(c, "abc", 3, 0);
  struct pollfd p = {.fd = s, .events = POLLIN};
  printf("poll while dropped: %d\n", poll(&p, 1, 400));
  printf("client outq: %ld\n", outq(c));
  setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, &c, sizeof c);
  printf("poll after detach: %d\n", poll(&p, 1, 3000));
  rd("server reads", s, 0);
  close(c);
  close(s);
  close(l);

  /* An accepted socket starts with its listener's filter. */
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  l = socket(AF_INET, SOCK_STREAM, 0);
  bind(l, (void *)&a, sizeof a);
  listen(l, 4);
  getsockname(l, (void *)&a, &al);
  struct sock_filter seven[] = {RET(0xffff), RET(0xffff), RET(7)};
  attach(l, seven, N(seven));
  c = socket(AF_INET, SOCK_STREAM, 0);
  printf("connect through the listener's filter: %s\n", res_rc(connect(c, (void *)&a, sizeof a)));
  s = accept(l, 0, 0);
  bl = 4;
  printf("child's filter: %s", res_rc(getsockopt(s, SOL_SOCKET, SO_GET_FILTER, back, &bl)));
  printf(" optlen %u\n", bl);
  send(c, "xyz", 3, 0);
  p.fd = s;
  poll(&p, 1, 1000);
  rd("child reads", s, 0);
  close(c);
  close(s);
  close(l);
}

static void unix_sockets(void) {
  int sv[2];
  struct sock_filter prefix[] = {RET(3)};
  struct sock_filter none[] = {RET(0)};
  struct sock_filter ind[] = {BPF_STMT(BPF_LDX | BPF_IMM, 1), BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),
                              BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'e', 0, 1), RET(0xffff), RET(0)};
  struct sock_filter len[] = {BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 1), RET_A};
  struct sock_filter proto[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL),
                                BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 2), RET_A};
  struct sock_filter payoff[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PAY_OFFSET),
                                 BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 2), RET_A};
  struct sock_filter nodev[] = {BPF_STMT(BPF_LD | BPF_IMM, 4), BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_IFINDEX),
                                RET(1)};

  printf("-- unix dgram\n");
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  attach(sv[1], prefix, 1);
  printf("send: %s\n", res_rc(send(sv[0], "hello", 5, 0)));
  rd("prefix 3", sv[1], 0);
  attach(sv[1], none, 1);
  printf("send dropped: %s\n", res_rc(send(sv[0], "hello", 5, 0)));
  rd("drop all", sv[1], 0);
  attach(sv[1], ind, N(ind));
  send(sv[0], "hello", 5, 0);
  send(sv[0], "hallo", 5, 0);
  rd("indirect 1", sv[1], 0);
  rd("indirect 2", sv[1], 0);
  attach(sv[1], len, N(len));
  send(sv[0], "hello", 5, 0);
  rd("len - 1", sv[1], 0);
  attach(sv[1], proto, N(proto));
  send(sv[0], "hello", 5, 0);
  rd("protocol + 2", sv[1], 0);
  attach(sv[1], payoff, N(payoff));
  send(sv[0], "hello", 5, 0);
  rd("pay offset + 2", sv[1], 0);
  attach(sv[1], nodev, N(nodev));
  send(sv[0], "hello", 5, 0);
  rd("ifindex without a device", sv[1], 0);
  /* The sender's own filter plays no part. */
  attach(sv[0], none, 1);
  setsockopt(sv[1], SOL_SOCKET, SO_DETACH_FILTER, sv, sizeof sv[0]);
  send(sv[0], "hello", 5, 0);
  rd("sender's filter", sv[1], 0);
  close(sv[0]);
  close(sv[1]);

  printf("-- unix seqpacket\n");
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
  attach(sv[1], prefix, 1);
  printf("send: %s\n", res_rc(send(sv[0], "hello", 5, 0)));
  rd("prefix 3", sv[1], 0);
  attach(sv[1], none, 1);
  printf("send dropped: %s\n", res_rc(send(sv[0], "hello", 5, 0)));
  rd("drop all", sv[1], 0);
  close(sv[0]);
  close(sv[1]);

  printf("-- unix stream\n");
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  show_attach("attach", sv[1], none, 1);
  printf("send: %s\n", res_rc(send(sv[0], "hello", 5, 0)));
  rd("drop all has no effect", sv[1], 0);
  struct sock_filter back[2];
  socklen_t bl = 2;
  getsockopt(sv[1], SOL_SOCKET, SO_GET_FILTER, back, &bl);
  printf("kept: optlen %u\n", bl);
  close(sv[0]);
  close(sv[1]);
}

/* Asks rtnetlink for its links (all, or lo's alone) and prints each datagram received: its
 * length (only whether it is over 32 bytes when `exact` is 0) and first message type. */
static void netlink_get(const char *what, int fd, int dump, int exact) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req = {.h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1},
           .i = {.ifi_family = AF_UNSPEC, .ifi_index = dump ? 0 : 1}};
  if (dump) req.h.nlmsg_flags |= NLM_F_DUMP;
  send(fd, &req, sizeof req, 0);
  char buf[16384];
  for (int i = 0; i < 4; i++) {
    long r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0) {
      printf("%s %d: %s\n", what, i, err());
      return;
    }
    if (exact) printf("%s %d: len %ld type %d\n", what, i, r, ((struct nlmsghdr *)buf)->nlmsg_type);
    else printf("%s %d: over 32 %d type %d\n", what, i, r > 32, ((struct nlmsghdr *)buf)->nlmsg_type);
  }
}

static void netlink(void) {
  printf("-- netlink\n");
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  struct sock_filter none[] = {RET(0)};
  /* Keep an RTM_NEWLINK up to its IFLA_IFNAME attribute (found with SKF_AD_NLATTR from the
   * start of its attributes), any other message whole. nlmsg_type is host order. */
  struct sock_filter upto[] = {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),
                               BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, RTM_NEWLINK << 8, 0, 4),
                               BPF_STMT(BPF_LD | BPF_IMM, NLMSG_HDRLEN + sizeof(struct ifinfomsg)),
                               BPF_STMT(BPF_LDX | BPF_IMM, IFLA_IFNAME),
                               BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_NLATTR),
                               RET_A,
                               RET(0xffff)};
  show_attach("attach", fd, none, 1);
  netlink_get("drop all", fd, 0, 1);
  printf("detach: %s\n", res_rc(setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &fd, sizeof fd)));
  netlink_get("no filter", fd, 0, 0);
  show_attach("attach", fd, upto, N(upto));
  netlink_get("up to IFLA_IFNAME", fd, 1, 1);
  netlink_get("one link up to IFLA_IFNAME", fd, 0, 1);
  close(fd);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  errnos();
  get_and_lock();
  udp(AF_INET);
  udp(AF_INET6);
  raw();
  ping();
  tcp();
  unix_sockets();
  netlink();
  return 0;
}
