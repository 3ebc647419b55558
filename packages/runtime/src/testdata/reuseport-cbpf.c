/* Classic BPF programs that pick an SO_REUSEPORT group's member (SO_ATTACH_REUSEPORT_CBPF,
 * SO_ATTACH_REUSEPORT_EBPF without a bpf(2) program, SO_DETACH_REUSEPORT_BPF): the errnos, which
 * member of a UDP group and of a TCP listener group each program chooses (the index it returns
 * in the group's array, which is join order with a closed member's slot taken by the last one;
 * an index out of range falls back to the flow hash), what the program sees (UDP: the payload;
 * TCP: the SYN's payload, none), and which group keeps a program when sockets join, close and
 * detach (a socket that attached before bind has a group of its own: it shares no port).
 * Runs natively in a fresh network namespace and under tsvisor --network none; both must print
 * the same. */
#define _GNU_SOURCE
#include "sock-util.h"
#include <fcntl.h>
#include <linux/filter.h>
#include <unistd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define RET(k) BPF_STMT(BPF_RET | BPF_K, (k))
#define RET_A BPF_STMT(BPF_RET | BPF_A, 0)
#define MEMBERS 4

static struct sock_filter first_byte[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), RET_A};
static struct sock_filter length_plus_one[] = {BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
                                               BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1), RET_A};
/* The last byte of the IPv4 destination (127.0.0.1: 1), through the network header. */
static struct sock_filter dst_last_byte[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + 19), RET_A};
static struct sock_filter ret0[] = {RET(0)};
static struct sock_filter ret1[] = {RET(1)};
static struct sock_filter ret2[] = {RET(2)};
static struct sock_filter ret3[] = {RET(3)};
static struct sock_filter ret9[] = {RET(9)};

static int attach(int fd, const struct sock_filter *f, unsigned n) {
  struct sock_fprog p = {.len = n, .filter = (struct sock_filter *)f};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &p, sizeof p);
}

static int detach(int fd) {
  int v = 0;
  return setsockopt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &v, sizeof v);
}

static int reuseport(int fd) {
  int one = 1;
  return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
}

/* A socket of `family` and `type` with SO_REUSEPORT bound to loopback `port` (listening if a
 * stream socket). */
static int member(int family, int type, int port) {
  struct sockaddr_storage ss;
  socklen_t len = loopback(family, port, &ss);
  int s = socket(family, type | SOCK_NONBLOCK, 0);
  reuseport(s);
  if (bind(s, (struct sockaddr *)&ss, len) < 0) printf("bind: %s\n", err());
  if (type == SOCK_STREAM && listen(s, 16) < 0) printf("listen: %s\n", err());
  return s;
}

/* Waits until one of `n` sockets of `fds` (-1: skipped) is readable; returns its index, or -1. */
static int readable(const int *fds, int n) {
  struct pollfd p[8];
  for (int i = 0; i < n; i++) p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
  if (poll(p, n, 2000) <= 0) return -1;
  for (int i = 0; i < n; i++)
    if (p[i].revents & POLLIN) return i;
  return -1;
}

/* Sends `len` bytes starting with `first` to loopback `port` from a fresh socket; returns the
 * index of the member of `fds` that received it (every member is drained). */
static int udp_to(int family, int port, const int *fds, int n, unsigned char first, int len) {
  struct sockaddr_storage ss;
  socklen_t sl = loopback(family, port, &ss);
  int c = socket(family, SOCK_DGRAM, 0);
  unsigned char buf[16] = {first, 'x', 'y', 'z'};
  sendto(c, buf, len, 0, (struct sockaddr *)&ss, sl);
  int who = readable(fds, n);
  int got = 0;
  for (int i = 0; i < n; i++)
    while (fds[i] >= 0 && recv(fds[i], buf, sizeof buf, MSG_DONTWAIT) >= 0) got++;
  close(c);
  return got == 1 ? who : -2;
}

static int accepted_checked;

/* Connects to loopback `port`; returns the index of the listener of `fds` that got it. The
 * first accepted connection also prints what the options say on it. */
static int tcp_to(int port, const int *fds, int n) {
  struct sockaddr_storage ss;
  socklen_t sl = loopback(AF_INET, port, &ss);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&ss, sl) < 0) printf("connect: %s\n", err());
  int who = readable(fds, n);
  int got = 0;
  for (int i = 0; i < n; i++) {
    int a;
    while (fds[i] >= 0 && (a = accept(fds[i], NULL, NULL)) >= 0) {
      got++;
      if (!accepted_checked++) {
        int v = -1;
        socklen_t vl = sizeof v;
        getsockopt(a, SOL_SOCKET, SO_REUSEPORT, &v, &vl);
        printf("accepted: SO_REUSEPORT %d, cbpf %s,", v, res_rc(attach(a, ret0, 1)));
        printf(" detach %s\n", res_rc(detach(a)));
      }
      close(a);
    }
  }
  close(c);
  return got == 1 ? who : -2;
}

/* "member i", or "a member by hash" for an index the program left to the hash (`hashed`). */
static const char *who(int i, int hashed) {
  static char buf[32];
  if (i < 0) snprintf(buf, sizeof buf, "%s", i == -1 ? "nobody" : "several");
  else if (hashed) snprintf(buf, sizeof buf, "a member by hash");
  else snprintf(buf, sizeof buf, "member %d", i);
  return buf;
}

static void errnos(void) {
  printf("-- errnos\n");
  int plain = socket(AF_INET, SOCK_DGRAM, 0);
  printf("cbpf without SO_REUSEPORT: %s\n", res_rc(attach(plain, ret0, 1)));
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  reuseport(r);
  struct sock_fprog p = {.len = 1, .filter = ret0};
  printf("cbpf optlen 8: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &p, 8)));
  printf("cbpf optlen 24: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &p, 24)));
  printf("cbpf optlen 0: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, NULL, 0)));
  printf("cbpf bad optval: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, (void *)8, sizeof p)));
  p.filter = NULL;
  printf("cbpf NULL program: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &p, sizeof p)));
  p.filter = ret0;
  p.len = 0;
  printf("cbpf empty program: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &p, sizeof p)));
  p.len = 4097;
  printf("cbpf 4097 instructions: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &p, sizeof p)));
  p.len = 1;
  p.filter = (void *)8;
  printf("cbpf bad program pointer: %s\n",
         res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &p, sizeof p)));
  struct sock_filter bad[] = {BPF_STMT(0xff, 0)};
  printf("cbpf invalid program: %s\n", res_rc(attach(r, bad, 1)));
  struct sock_filter no_ret[] = {BPF_STMT(BPF_LD | BPF_IMM, 1)};
  printf("cbpf program without a return: %s\n", res_rc(attach(r, no_ret, 1)));
  int v = 0;
  socklen_t vl = sizeof v;
  printf("detach NULL optval, optlen 0: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, NULL, 0)));
  printf("detach optlen 2: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &v, 2)));
  printf("detach bad optval: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, (void *)8, 4)));
  printf("detach without SO_REUSEPORT: %s\n", res_rc(detach(plain)));
  printf("detach, unbound, SO_REUSEPORT, nothing attached: %s\n", res_rc(detach(r)));
  printf("cbpf on an unbound SO_REUSEPORT socket: %s\n", res_rc(attach(r, ret0, 1)));
  printf("cbpf again (replaces): %s\n", res_rc(attach(r, ret1, 1)));
  printf("detach, unbound, attached: %s\n", res_rc(detach(r)));
  printf("detach again: %s\n", res_rc(detach(r)));
  printf("getsockopt cbpf: %s\n", res_rc(getsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &v, &vl)));
  printf("getsockopt ebpf: %s\n", res_rc(getsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &v, &vl)));
  printf("getsockopt detach: %s\n", res_rc(getsockopt(r, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &v, &vl)));

  int bound = member(AF_INET, SOCK_DGRAM, 7430);
  printf("detach, bound member, nothing attached: %s\n", res_rc(detach(bound)));
  printf("cbpf on a bound member: %s\n", res_rc(attach(bound, ret0, 1)));
  printf("detach, bound member, attached: %s\n", res_rc(detach(bound)));
  printf("detach again: %s\n", res_rc(detach(bound)));
  struct sockaddr_storage ss;
  socklen_t sl = loopback(AF_INET, 7431, &ss);
  int late = socket(AF_INET, SOCK_DGRAM, 0);
  bind(late, (struct sockaddr *)&ss, sl);
  reuseport(late);
  printf("cbpf, SO_REUSEPORT set after bind: %s\n", res_rc(attach(late, ret0, 1)));
  printf("detach, SO_REUSEPORT set after bind: %s\n", res_rc(detach(late)));
  int off = socket(AF_INET, SOCK_DGRAM, 0);
  reuseport(off);
  int zero = 0;
  setsockopt(off, SOL_SOCKET, SO_REUSEPORT, &zero, sizeof zero);
  printf("detach, SO_REUSEPORT set then cleared: %s\n", res_rc(detach(off)));

  int fd = -1;
  printf("ebpf fd -1: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &fd, sizeof fd)));
  fd = 1000;
  printf("ebpf closed fd: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &fd, sizeof fd)));
  fd = plain;
  printf("ebpf socket fd: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &fd, sizeof fd)));
  int dn = open("/dev/null", O_RDONLY);
  printf("ebpf /dev/null fd: %s\n", res_rc(setsockopt(plain, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &dn, sizeof dn)));
  printf("ebpf optlen 2: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &dn, 2)));
  long wide = dn;
  printf("ebpf optlen 8: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &wide, 8)));
  printf("ebpf bad optval: %s\n", res_rc(setsockopt(r, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, (void *)8, 4)));

  int locked = socket(AF_INET, SOCK_DGRAM, 0);
  reuseport(locked);
  int one = 1;
  setsockopt(locked, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one);
  printf("cbpf with SO_LOCK_FILTER: %s\n", res_rc(attach(locked, ret0, 1)));
  fd = -1;
  printf("ebpf fd -1 with SO_LOCK_FILTER: %s\n",
         res_rc(setsockopt(locked, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &fd, sizeof fd)));
  printf("detach with SO_LOCK_FILTER: %s\n", res_rc(detach(locked)));

  int t = socket(AF_INET, SOCK_STREAM, 0);
  printf("tcp: cbpf without SO_REUSEPORT: %s\n", res_rc(attach(t, ret0, 1)));
  reuseport(t);
  printf("tcp: cbpf, unbound: %s\n", res_rc(attach(t, ret0, 1)));
  int tb = socket(AF_INET, SOCK_STREAM, 0);
  reuseport(tb);
  sl = loopback(AF_INET, 7432, &ss);
  bind(tb, (struct sockaddr *)&ss, sl);
  printf("tcp: detach, bound, not listening: %s\n", res_rc(detach(tb)));
  printf("tcp: cbpf, bound, not listening: %s\n", res_rc(attach(tb, ret0, 1)));
  int tl = member(AF_INET, SOCK_STREAM, 7433);
  printf("tcp: detach, listening, nothing attached: %s\n", res_rc(detach(tl)));
  printf("tcp: cbpf, listening: %s\n", res_rc(attach(tl, ret0, 1)));
  printf("tcp: detach, listening, attached: %s\n", res_rc(detach(tl)));
  int u = socket(AF_UNIX, SOCK_DGRAM, 0);
  printf("unix: cbpf: %s\n", res_rc(attach(u, ret0, 1)));
  printf("unix: detach: %s\n", res_rc(detach(u)));
  int fds[] = {plain, r, bound, late, off, dn, locked, t, tb, tl, u};
  for (unsigned i = 0; i < N(fds); i++) close(fds[i]);
}

static void udp(void) {
  printf("-- udp\n");
  int m[8];
  for (int i = 0; i < MEMBERS; i++) m[i] = member(AF_INET, SOCK_DGRAM, 7440);
  printf("attach first payload byte on member 1: %s\n", res_rc(attach(m[1], first_byte, N(first_byte))));
  for (int b = 0; b < MEMBERS; b++) printf("first byte %d: %s\n", b, who(udp_to(AF_INET, 7440, m, MEMBERS, b, 4), 0));
  printf("first byte 200: %s\n", who(udp_to(AF_INET, 7440, m, MEMBERS, 200, 4), 1));
  printf("attach length + 1 on member 3: %s\n", res_rc(attach(m[3], length_plus_one, N(length_plus_one))));
  for (int len = 0; len < 3; len++) printf("%d bytes: %s\n", len, who(udp_to(AF_INET, 7440, m, MEMBERS, 0, len), 0));
  printf("attach network header's last destination byte on member 0: %s\n",
         res_rc(attach(m[0], dst_last_byte, N(dst_last_byte))));
  printf("to 127.0.0.1: %s\n", who(udp_to(AF_INET, 7440, m, MEMBERS, 0, 4), 0));
  printf("attach first payload byte on member 1 again: %s\n", res_rc(attach(m[1], first_byte, N(first_byte))));
  close(m[1]);
  m[1] = -1;
  printf("member 1 (which attached) closed; member 3 takes its slot\n");
  int slot[] = {0, 3, 2};
  for (int b = 0; b < 3; b++) {
    int i = udp_to(AF_INET, 7440, m, MEMBERS, b, 4);
    printf("first byte %d: %s (slot %d)\n", b, who(i, 0), b);
    if (i >= 0 && i != slot[b]) printf("  unexpected: slot %d holds member %d\n", b, slot[b]);
  }
  printf("first byte 3: %s\n", who(udp_to(AF_INET, 7440, m, MEMBERS, 3, 4), 1));
  m[4] = member(AF_INET, SOCK_DGRAM, 7440);
  printf("member 4 joins (slot 3)\n");
  printf("first byte 3: %s\n", who(udp_to(AF_INET, 7440, m, 5, 3, 4), 0));
  int joiner = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  reuseport(joiner);
  printf("an unbound socket attaches ret 0: %s\n", res_rc(attach(joiner, ret0, 1)));
  struct sockaddr_storage ss;
  socklen_t sl = loopback(AF_INET, 7440, &ss);
  printf("it cannot join the group: %s\n", res_rc(bind(joiner, (struct sockaddr *)&ss, sl)));
  printf("detach on it: %s\n", res_rc(detach(joiner)));
  printf("it still cannot join: %s\n", res_rc(bind(joiner, (struct sockaddr *)&ss, sl)));
  close(joiner);
  printf("first byte 2 (the group's program stays): %s\n", who(udp_to(AF_INET, 7440, m, 5, 2, 4), 0));
  printf("detach on member 0: %s\n", res_rc(detach(m[0])));
  printf("first byte 2: %s\n", who(udp_to(AF_INET, 7440, m, 5, 2, 4), 1));
  printf("detach again on member 4: %s\n", res_rc(detach(m[4])));
  printf("attach ret 9 (out of range) on member 2: %s\n", res_rc(attach(m[2], ret9, 1)));
  printf("first byte 0: %s\n", who(udp_to(AF_INET, 7440, m, 5, 0, 4), 1));
  printf("attach ret 2 on member 0: %s\n", res_rc(attach(m[0], ret2, 1)));
  printf("first byte 0: %s\n", who(udp_to(AF_INET, 7440, m, 5, 0, 4), 0));
  for (int i = 0; i < 5; i++)
    if (m[i] >= 0) close(m[i]);

  /* A program attached before bind by the socket that makes the group. */
  int a = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  reuseport(a);
  printf("unbound socket attaches ret 1: %s\n", res_rc(attach(a, ret1, 1)));
  sl = loopback(AF_INET, 7441, &ss);
  printf("it binds first: %s\n", res_rc(bind(a, (struct sockaddr *)&ss, sl)));
  int g[3] = {a, member(AF_INET, SOCK_DGRAM, 7441), member(AF_INET, SOCK_DGRAM, 7441)};
  for (int b = 0; b < 2; b++) printf("first byte %d: %s\n", b, who(udp_to(AF_INET, 7441, g, 3, b, 4), 0));
  close(g[0]);
  g[0] = -1;
  printf("the attaching socket closed (member 2 takes slot 0): %s\n", who(udp_to(AF_INET, 7441, g, 3, 0, 4), 0));
  printf("attach ret 0 on member 1: %s\n", res_rc(attach(g[1], ret0, 1)));
  printf("first byte 0: %s\n", who(udp_to(AF_INET, 7441, g, 3, 0, 4), 0));
  close(g[1]);
  close(g[2]);

  /* A socket that set SO_REUSEPORT after its bind has no group until another joins it. */
  sl = loopback(AF_INET, 7443, &ss);
  int h[2] = {socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), -1};
  bind(h[0], (struct sockaddr *)&ss, sl);
  reuseport(h[0]);
  printf("set after bind: cbpf: %s\n", res_rc(attach(h[0], ret1, 1)));
  h[1] = member(AF_INET, SOCK_DGRAM, 7443);
  printf("another member binds; cbpf ret 0 on it: %s\n", res_rc(attach(h[1], ret0, 1)));
  printf("first byte 0: %s\n", who(udp_to(AF_INET, 7443, h, 2, 0, 4), 0));
  printf("cbpf ret 1 on the first: %s\n", res_rc(attach(h[0], ret1, 1)));
  printf("first byte 0: %s\n", who(udp_to(AF_INET, 7443, h, 2, 0, 4), 0));
  close(h[0]);
  close(h[1]);

  /* IPv6. */
  int v6[MEMBERS];
  for (int i = 0; i < MEMBERS; i++) v6[i] = member(AF_INET6, SOCK_DGRAM, 7442);
  printf("ipv6: attach first payload byte: %s\n", res_rc(attach(v6[2], first_byte, N(first_byte))));
  for (int b = MEMBERS - 1; b >= 0; b--)
    printf("ipv6: first byte %d: %s\n", b, who(udp_to(AF_INET6, 7442, v6, MEMBERS, b, 4), 0));
  for (int i = 0; i < MEMBERS; i++) close(v6[i]);
}

static void tcp(void) {
  printf("-- tcp\n");
  int l[8];
  for (int i = 0; i < MEMBERS; i++) l[i] = member(AF_INET, SOCK_STREAM, 7450);
  printf("attach ret 2 on listener 0: %s\n", res_rc(attach(l[0], ret2, 1)));
  for (int k = 0; k < 3; k++) printf("connection: %s\n", who(tcp_to(7450, l, MEMBERS), 0));
  printf("attach first byte on listener 3: %s\n", res_rc(attach(l[3], first_byte, N(first_byte))));
  printf("connection (no byte to load: 0): %s\n", who(tcp_to(7450, l, MEMBERS), 0));
  printf("attach length + 1 on listener 1: %s\n", res_rc(attach(l[1], length_plus_one, N(length_plus_one))));
  printf("connection (a SYN's length: 0): %s\n", who(tcp_to(7450, l, MEMBERS), 0));
  printf("attach ret 9 on listener 2: %s\n", res_rc(attach(l[2], ret9, 1)));
  printf("connection: %s\n", who(tcp_to(7450, l, MEMBERS), 1));
  printf("attach ret 0 on listener 1: %s\n", res_rc(attach(l[1], ret0, 1)));
  close(l[0]);
  l[0] = -1;
  printf("listener 0 closed; listener 3 takes slot 0: %s\n", who(tcp_to(7450, l, MEMBERS), 0));
  printf("attach ret 3 on listener 2: %s\n", res_rc(attach(l[2], ret3, 1)));
  printf("connection (3 is out of range now): %s\n", who(tcp_to(7450, l, MEMBERS), 1));
  int late = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  reuseport(late);
  printf("a new socket attaches ret 0 before it binds: %s\n", res_rc(attach(late, ret0, 1)));
  struct sockaddr_storage ss;
  socklen_t sl = loopback(AF_INET, 7450, &ss);
  printf("it cannot bind the group's port: %s\n", res_rc(bind(late, (struct sockaddr *)&ss, sl)));
  close(late);
  l[4] = member(AF_INET, SOCK_STREAM, 7450);
  printf("listener 4 joins (slot 3)\n");
  printf("connection (ret 3): %s\n", who(tcp_to(7450, l, 5), 0));
  printf("detach on listener 3: %s\n", res_rc(detach(l[3])));
  printf("connection: %s\n", who(tcp_to(7450, l, 5), 1));
  printf("detach again: %s\n", res_rc(detach(l[4])));
  printf("attach ret 1 on listener 4: %s\n", res_rc(attach(l[4], ret1, 1)));
  printf("connection: %s\n", who(tcp_to(7450, l, 5), 0));
  for (int i = 0; i < 5; i++)
    if (l[i] >= 0) close(l[i]);

  int first = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  reuseport(first);
  printf("a socket attaches ret 1 before it listens first: %s\n", res_rc(attach(first, ret1, 1)));
  sl = loopback(AF_INET, 7451, &ss);
  bind(first, (struct sockaddr *)&ss, sl);
  listen(first, 16);
  int g[3] = {first, member(AF_INET, SOCK_STREAM, 7451), member(AF_INET, SOCK_STREAM, 7451)};
  printf("connection: %s\n", who(tcp_to(7451, g, 3), 0));
  printf("shutdown of listener 1: %s\n", res_rc(shutdown(g[1], SHUT_RDWR)));
  printf("connection (slot 1 is listener 2 now): %s\n", who(tcp_to(7451, g, 3), 0));
  printf("listener 1 listens again: %s\n", res_rc(listen(g[1], 16)));
  printf("connection: %s\n", who(tcp_to(7451, g, 3), 0));
  for (int i = 0; i < 3; i++) close(g[i]);

  /* A bound socket that attaches cannot listen once another socket is bound to its port. */
  sl = loopback(AF_INET, 7452, &ss);
  int b[2];
  for (int i = 0; i < 2; i++) {
    b[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    reuseport(b[i]);
    bind(b[i], (struct sockaddr *)&ss, sl);
  }
  printf("bound, not listening: cbpf: %s\n", res_rc(attach(b[0], ret1, 1)));
  printf("it listens: %s\n", res_rc(listen(b[0], 16)));
  printf("the other listens: %s\n", res_rc(listen(b[1], 16)));
  printf("connection: %s\n", who(tcp_to(7452, b, 2), 0));
  for (int i = 0; i < 2; i++) close(b[i]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  errnos();
  udp();
  tcp();
  return 0;
}
