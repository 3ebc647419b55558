/* Helpers shared by the TIME_WAIT and TCP timestamp programs (tw-*.c, tcp-ts-clock.c),
 * sender-sws.c and ack-on-read.c: results, lo's segmentation offloads,
 * IPv4 sysctls, loopback addresses and connections, a capture of lo and the TCP segments in it,
 * bare segments sent through a raw socket, and the TIME_WAIT connections /proc/net/tcp lists. */
#ifndef TW_UTIL_H
#define TW_UTIL_H
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TW_UTIL_UNUSED __attribute__((unused))

/* A call's result as printed: 0, or the errno's name. */
TW_UTIL_UNUSED static const char *res(int r) { return r == 0 ? "0" : strerrorname_np(errno); }

/* Turns off lo's TCP segmentation offloads where the host has them (not an error where there are
 * none, as in netstack), so that a capture of lo shows the segments TCP makes. */
TW_UTIL_UNUSED static void lo_offloads_off(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  for (int i = 0; i < 2; i++) {
    struct ethtool_value v = {.cmd = i == 0 ? ETHTOOL_STSO : ETHTOOL_SGSO, .data = 0};
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    ifr.ifr_data = (void *)&v;
    ioctl(fd, SIOCETHTOOL, &ifr);
  }
  close(fd);
}

/* Writes /proc/sys/net/ipv4/`name`; exits on failure. */
TW_UTIL_UNUSED static void sysctl(const char *name, const char *value) {
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/ipv4/%s", name);
  int fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value)) {
    perror(path);
    exit(1);
  }
  close(fd);
}

/* 127.0.0.1:`port`. */
TW_UTIL_UNUSED static struct sockaddr_in lo(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return a;
}

/* A listener on 127.0.0.1:`port` with SO_REUSEADDR; exits on failure. */
TW_UTIL_UNUSED static int reuse_listener(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = lo(port);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 16)) {
    perror("listener");
    exit(1);
  }
  return l;
}

/* A TCP socket bound with SO_REUSEADDR to 127.0.0.1:`port` and connected to 127.0.0.1:`server`;
 * exits on failure. */
TW_UTIL_UNUSED static int connect_from(int port, int server) {
  int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = lo(port);
  if (bind(c, (struct sockaddr *)&a, sizeof a)) {
    perror("bind");
    exit(1);
  }
  a = lo(server);
  if (connect(c, (struct sockaddr *)&a, sizeof a)) {
    perror("connect");
    exit(1);
  }
  return c;
}

/* A packet socket on lo that reads IPv4 packets (one copy of each: what lo receives). */
TW_UTIL_UNUSED static int lo_capture(void) {
  int p = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = if_nametoindex("lo")};
  if (p < 0 || bind(p, (struct sockaddr *)&a, sizeof a)) {
    perror("packet socket");
    exit(1);
  }
  return p;
}

/* A TCP segment from one of lo_capture's packets. */
struct seg {
  uint32_t daddr, seq, ack, tsval;
  int sport, dport, flags, has_ts, len; /* len: the payload's bytes */
};

/* The next TCP segment lo received (capture `p`) within `ms` milliseconds; 0 when none came. */
TW_UTIL_UNUSED static int next_seg(int p, int ms, struct seg *s) {
  unsigned char b[2048];
  for (;;) {
    struct pollfd pfd = {.fd = p, .events = POLLIN};
    if (poll(&pfd, 1, ms) <= 0) return 0;
    struct sockaddr_ll from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(p, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
    if (n < (ssize_t)sizeof(struct iphdr) || from.sll_pkttype == PACKET_OUTGOING) continue;
    struct iphdr *ip = (struct iphdr *)b;
    size_t ihl = ip->ihl * 4u;
    if (ip->protocol != IPPROTO_TCP || (size_t)n < ihl + sizeof(struct tcphdr)) continue;
    struct tcphdr *th = (struct tcphdr *)(b + ihl);
    size_t doff = th->doff * 4u;
    s->daddr = ip->daddr;
    s->sport = ntohs(th->source);
    s->dport = ntohs(th->dest);
    s->seq = ntohl(th->seq);
    s->ack = ntohl(th->ack_seq);
    s->flags = b[ihl + 13];
    s->len = (int)ntohs(ip->tot_len) - (int)ihl - (int)doff;
    s->has_ts = 0;
    for (size_t i = sizeof *th; i < doff && ihl + i < (size_t)n;) {
      unsigned char kind = b[ihl + i];
      if (kind == TCPOPT_EOL) break;
      if (kind == TCPOPT_NOP) {
        i++;
        continue;
      }
      unsigned char len = b[ihl + i + 1];
      if (len < 2) break;
      if (kind == TCPOPT_TIMESTAMP && len == 10) {
        uint32_t v;
        memcpy(&v, b + ihl + i + 2, 4);
        s->tsval = ntohl(v);
        s->has_ts = 1;
      }
      i += len;
    }
    return 1;
  }
}

/* A raw TCP socket (IPPROTO_TCP: it sends TCP headers, the kernel adds IP's); exits on failure. */
TW_UTIL_UNUSED static int raw_tcp(void) {
  int r = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
  if (r < 0) {
    perror("raw socket");
    exit(1);
  }
  return r;
}

/* Sends through raw socket `r` a TCP header without options, flags `flags` (TH_ACK, TH_RST...), from
 * 127.0.0.1:`sport` to 127.0.0.1:`dport`; with TH_ACK a window of 1000. */
TW_UTIL_UNUSED static void send_bare(int r, int sport, int dport, uint32_t seq, uint32_t ack, int flags) {
  struct tcphdr th = {.source = htons(sport), .dest = htons(dport), .seq = htonl(seq), .ack_seq = htonl(ack)};
  th.doff = sizeof th / 4;
  ((unsigned char *)&th)[13] = (unsigned char)flags;
  if (flags & TH_ACK) th.window = htons(1000);
  uint32_t sum = 0x7f00 + 0x0001 + 0x7f00 + 0x0001 + IPPROTO_TCP + sizeof th;
  const uint16_t *w = (const uint16_t *)&th;
  for (size_t i = 0; i < sizeof th / 2; i++) sum += ntohs(w[i]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  th.check = htons((uint16_t)~sum);
  struct sockaddr_in to = lo(dport);
  if (sendto(r, &th, sizeof th, 0, (struct sockaddr *)&to, sizeof to) != sizeof th) perror("raw sendto");
}

/* Accepts client `c`'s connection on listener `l` and closes the server's end first, then `c`:
 * whether `c` read end of file, so that the server's end waits in TIME_WAIT. */
TW_UTIL_UNUSED static int server_closes_first(int l, int c) {
  char b;
  close(accept(l, NULL, NULL));
  int eof = read(c, &b, 1) == 0;
  close(c);
  return eof;
}

/* The TIME_WAIT connections of local port `local` (to remote port `remote`, or any when -1) that
 * /proc/net/tcp lists; -1 when it cannot be read. */
TW_UTIL_UNUSED static int time_waits(int local, int remote) {
  FILE *f = fopen("/proc/net/tcp", "r");
  char line[256];
  int n = 0;
  unsigned lport, rport, st;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, " %*d: %*x:%x %*x:%x %x", &lport, &rport, &st) == 3 && lport == (unsigned)local &&
        (remote < 0 || rport == (unsigned)remote) && st == 6)
      n++;
  fclose(f);
  return n;
}

#endif
