// What /proc/net/sockstat, sockstat6, ipv6_route, arp, raw, raw6, udplite, udplite6, icmp, icmp6,
// netlink, packet, anycast6 and psched show of a fixed set of sockets on the loopback: a TCP
// listener, a connection to it (both ends) for IPv4 and for IPv6, a connection left waiting for
// accept, two connections that end in TIME_WAIT, a bound UDP, UDP6, UDP-Lite and UDP-Lite6
// socket, a ping socket of each family and two NETLINK_ROUTE sockets (one bound). Printed is
// what is the namespace's own and stable from run to run: the inuse counts, tw, FRAG, the
// headers and line counts of the socket tables, the udp-format rows without slot, port, inode and
// pointer, ipv6_route without its reference counts (Linux adds cached lookups' ones), arp and
// psched whole, the program's own netlink row, and how much `sockets: used` grew (Linux's figure
// also counts sockets of the namespace's own). TCP orphan, alloc and mem and UDP mem count the whole
// host on Linux (tcp_orphan_count is global: another process's closing connection shows) and are
// left out. Run in a fresh network namespace with lo up (natively) or under
// tsvisor --network none: both must print the same.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(1);
}

static socklen_t loopback(int family, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
  a->sin6_family = AF_INET6;
  a->sin6_addr = in6addr_loopback;
  return sizeof *a;
}

/* A listener on the loopback address of `family`, a client connected to it, the accepted side. */
static void pair(int family, int *lfd, int *cfd, int *sfd) {
  struct sockaddr_storage ss;
  socklen_t len = loopback(family, &ss);
  *lfd = socket(family, SOCK_STREAM, 0);
  if (*lfd < 0 || bind(*lfd, (struct sockaddr *)&ss, len) < 0 || listen(*lfd, 4) < 0) die("listen");
  len = sizeof ss;
  if (getsockname(*lfd, (struct sockaddr *)&ss, &len) < 0) die("getsockname");
  *cfd = socket(family, SOCK_STREAM, 0);
  if (*cfd < 0 || connect(*cfd, (struct sockaddr *)&ss, len) < 0) die("connect");
  *sfd = accept(*lfd, NULL, NULL);
  if (*sfd < 0) die("accept");
}

/* A datagram socket of `family` and `protocol` bound to the loopback, port chosen. */
static int bound(int family, int protocol) {
  struct sockaddr_storage ss;
  socklen_t len = loopback(family, &ss);
  int fd = socket(family, SOCK_DGRAM, protocol);
  if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0) die("bind");
  return fd;
}

/* The whole of /proc/net/<file> in a static buffer. */
static const char *slurp(const char *file) {
  static char buf[65536];
  char path[64];
  snprintf(path, sizeof path, "/proc/net/%s", file);
  FILE *f = fopen(path, "r");
  if (!f) die(path);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* The number after `key` on the line starting with `line` of /proc/net/<file>, or -1. */
static long field(const char *file, const char *line, const char *key) {
  const char *t = slurp(file);
  size_t ll = strlen(line);
  for (const char *p = t; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
    if (strncmp(p, line, ll) != 0) continue;
    const char *end = strchr(p, '\n');
    char row[256];
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n >= sizeof row) n = sizeof row - 1;
    memcpy(row, p, n);
    row[n] = 0;
    char pat[64];
    snprintf(pat, sizeof pat, " %s ", key);
    char *k = strstr(row, pat);
    return k ? strtol(k + strlen(pat), NULL, 10) : -1;
  }
  return -1;
}

/* The header line of /proc/net/<file>, trailing blanks kept, and how many lines follow it. */
static void table(const char *file) {
  const char *t = slurp(file);
  const char *nl = strchr(t, '\n');
  int rows = 0;
  for (const char *p = nl ? nl + 1 : t + strlen(t); *p; p++)
    if (*p == '\n') rows++;
  printf("%s header [%.*s] rows %d\n", file, nl ? (int)(nl - t) : (int)strlen(t), t, rows);
}

/*
 * The rows of a udp-format table (udplite, icmp, icmp6) without what differs from run to run:
 * the slot, the local port (an ephemeral port or echo identifier), the inode and the pointer.
 */
static void rows(const char *file) {
  char text[65536];
  strcpy(text, slurp(file));
  char *nl = strchr(text, '\n');
  for (char *line = nl ? strtok(nl + 1, "\n") : NULL; line; line = strtok(NULL, "\n")) {
    size_t len = strlen(line);
    char f[13][80];
    if (sscanf(line, "%79s %79s %79s %79s %79s %79s %79s %79s %79s %79s %79s %79s %79s", f[0], f[1], f[2],
               f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12]) != 13) {
      printf("%s bad row [%s]\n", file, line);
      continue;
    }
    char *port = strrchr(f[1], ':');
    if (port) *port = 0;
    /* A padded line has a fixed length; an unpadded one grows with its inode's digits. */
    int padded = line[len - 1] == ' ';
    printf("%s row %s:port %s %s %s %s %s uid %s %s inode ref %s ptr drops %s %s %zu\n", file, f[1], f[2],
           f[3], f[4], f[5], f[6], f[7], f[8], f[10], f[12], padded ? "padded to" : "length without inode",
           padded ? len : len - strlen(f[9]));
  }
}

/*
 * /proc/net/netlink's header, whether the kernel's NETLINK_ROUTE socket (port 0) is listed, and
 * the row of a NETLINK_ROUTE socket of this program bound to port 0 (autobound) and group 1,
 * without its pointer and inode; the port must be what getsockname says.
 */
static void netlink(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("netlink bind");
  socklen_t len = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) die("netlink getsockname");
  int unbound = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  if (unbound < 0) die("netlink socket");
  char text[65536];
  strcpy(text, slurp("netlink"));
  char *nl = strchr(text, '\n');
  if (nl) *nl = 0;
  printf("netlink header [%s]\n", text);
  int kernel = 0, mine = 0, others = 0;
  for (char *line = nl ? strtok(nl + 1, "\n") : NULL; line; line = strtok(NULL, "\n")) {
    char ptr[32];
    unsigned proto, pid, groups, rmem, wmem, dump, locks, drops;
    if (sscanf(line, "%31s %u %u %x %u %u %u %u %u", ptr, &proto, &pid, &groups, &rmem, &wmem, &dump, &locks,
               &drops) != 9) {
      printf("netlink bad row [%s]\n", line);
      continue;
    }
    if (proto == NETLINK_ROUTE && pid == 0)
      kernel++;
    else if (pid == sa.nl_pid) {
      mine++;
      printf("netlink mine: proto %u groups %08x rmem %u wmem %u dump %u locks %u drops %u\n", proto, groups,
             rmem, wmem, dump, locks, drops);
    } else if (proto == NETLINK_ROUTE)
      others++;
  }
  printf("netlink rtnl kernel %d mine %d other rtnl %d\n", kernel, mine, others);
  close(fd);
  close(unbound);
}

/* sockstat and sockstat6 as this program checks them. */
static void counts(const char *when) {
  printf("%s: TCP inuse %ld tw %ld UDP inuse %ld UDPLITE inuse %ld RAW inuse %ld", when,
         field("sockstat", "TCP:", "inuse"), field("sockstat", "TCP:", "tw"), field("sockstat", "UDP:", "inuse"),
         field("sockstat", "UDPLITE:", "inuse"), field("sockstat", "RAW:", "inuse"));
  printf(" FRAG inuse %ld memory %ld\n", field("sockstat", "FRAG:", "inuse"),
         field("sockstat", "FRAG:", "memory"));
  printf("%s: TCP6 inuse %ld UDP6 inuse %ld UDPLITE6 inuse %ld RAW6 inuse %ld FRAG6 inuse %ld memory %ld\n",
         when, field("sockstat6", "TCP6:", "inuse"), field("sockstat6", "UDP6:", "inuse"),
         field("sockstat6", "UDPLITE6:", "inuse"), field("sockstat6", "RAW6:", "inuse"),
         field("sockstat6", "FRAG6:", "inuse"), field("sockstat6", "FRAG6:", "memory"));
}

int main(void) {
  counts("empty");
  long before = field("sockstat", "sockets:", "used");
  int l4, c4, s4, l6, c6, s6;
  pair(AF_INET, &l4, &c4, &s4);
  pair(AF_INET6, &l6, &c6, &s6);
  int u4 = bound(AF_INET, 0), u6 = bound(AF_INET6, 0);
  int ul4 = bound(AF_INET, IPPROTO_UDPLITE), ul6 = bound(AF_INET6, IPPROTO_UDPLITE);
  int ping = bound(AF_INET, IPPROTO_ICMP), ping6 = bound(AF_INET6, IPPROTO_ICMPV6);
  counts("open");
  printf("used grew by %ld (sockets made 12)\n", field("sockstat", "sockets:", "used") - before);

  /* A connection the listener holds for accept: a socket of the namespace, not an orphan. */
  {
    struct sockaddr_storage ss;
    socklen_t len = loopback(AF_INET, &ss);
    int lq = socket(AF_INET, SOCK_STREAM, 0);
    if (lq < 0 || bind(lq, (struct sockaddr *)&ss, len) < 0 || listen(lq, 4) < 0) die("listen");
    len = sizeof ss;
    if (getsockname(lq, (struct sockaddr *)&ss, &len) < 0) die("getsockname");
    long used = field("sockstat", "sockets:", "used");
    int cq = socket(AF_INET, SOCK_STREAM, 0);
    if (cq < 0 || connect(cq, (struct sockaddr *)&ss, len) < 0) die("connect");
    counts("queued");
    printf("queued: used grew by %ld (a client and the connection it made)\n",
           field("sockstat", "sockets:", "used") - used);
    int sq = accept(lq, NULL, NULL);
    if (sq < 0) die("accept");
    close(sq);
    close(cq);
    close(lq);
  }

  /* One more connection that the client closes first: it ends in TIME_WAIT. */
  int l, c, s;
  pair(AF_INET, &l, &c, &s);
  close(c);
  char b;
  if (read(s, &b, 1) != 0) die("read EOF");
  close(s);
  close(l);
  long tw = 0;
  /* Two: this one and the queued connection's server side, which closed first too. */
  for (int i = 0; i < 200 && (tw = field("sockstat", "TCP:", "tw")) != 2; i++) usleep(10000);
  counts("time-wait");

  table("raw");
  table("raw6");
  table("udplite");
  table("udplite6");
  table("arp");
  table("icmp");
  table("packet");
  table("anycast6");
  netlink();
  table("icmp6");
  rows("udplite");
  rows("udplite6");
  rows("icmp");
  rows("icmp6");
  printf("psched %s", slurp("psched"));

  /* ipv6_route without the reference count (the 7th field). */
  const char *r = slurp("ipv6_route");
  char route[65536];
  strcpy(route, r);
  for (char *line = strtok(route, "\n"); line; line = strtok(NULL, "\n")) {
    char f[10][64];
    if (sscanf(line, "%63s %63s %63s %63s %63s %63s %63s %63s %63s %63s", f[0], f[1], f[2], f[3], f[4],
               f[5], f[6], f[7], f[8], f[9]) != 10) {
      printf("ipv6_route bad line [%s]\n", line);
      continue;
    }
    printf("ipv6_route %s %s %s %s %s %s - %s %s %s len %zu\n", f[0], f[1], f[2], f[3], f[4], f[5], f[7],
           f[8], f[9], strlen(line));
  }

  close(l4), close(c4), close(s4), close(l6), close(c6), close(s6);
  close(u4), close(u6), close(ul4), close(ul6), close(ping), close(ping6);
  return 0;
}
