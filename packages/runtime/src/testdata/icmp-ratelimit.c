/* ICMP rate limiting on lo, as Linux 6.18 does it (net/ipv4/icmp.c, net/ipv6/icmp.c): the six
 * sysctls (net.ipv4.icmp_ratelimit, icmp_ratemask, icmp_msgs_per_sec, icmp_msgs_burst,
 * net.ipv6.icmp.ratelimit and ratemask) with their defaults and what bad writes get; 200 UDP
 * datagrams to a closed port of 127.0.0.1 and of ::1, counted as the port unreachables a raw
 * socket sees and as counter deltas, at the defaults and with the global bucket emptied for good
 * (icmp_msgs_burst 0, icmp_msgs_per_sec 0) and the per-destination interval at its least: an
 * error about a packet that came in on lo is never held back. An echo reply is, when
 * icmp_ratemask names it: icmp_reply asks the global bucket whatever the link, which a fresh
 * namespace starts empty, so with icmp_msgs_per_sec 0 no reply goes, each counted in
 * OutRateLimitGlobal; ICMPv6's echo reply skips that bucket on lo. Only what Linux makes
 * deterministic is printed: the random cost of each message (0 to 2 credits) never shows,
 * since nothing here takes credits. Run natively in a fresh network namespace, and under
 * tsvisor --network none. */
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "proc-util.h"

#define DATAGRAMS 200
#define PINGS 20
#define CLOSED_PORT 9

/* ---- sysctls ---- */

/* Writes `value` to /proc/sys/net/`name`: "0", or the name of the errno the kernel gave. */
static const char *sysctl(const char *name, const char *value) {
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/%s", name);
  int fd = open(path, O_WRONLY);
  if (fd < 0) return strerrorname_np(errno);
  ssize_t n = write(fd, value, strlen(value));
  int e = errno;
  close(fd);
  return n == (ssize_t)strlen(value) ? "0" : n < 0 ? strerrorname_np(e) : "short";
}

/* /proc/sys/net/`name` without its newline, in one of two buffers (two may share a line). */
static const char *show(const char *name) {
  static char bufs[2][512];
  static int turn;
  char *b = bufs[turn++ & 1];
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/%s", name);
  int fd = open(path, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, b, 511);
  if (fd >= 0) close(fd);
  if (n < 0) return strerrorname_np(errno);
  b[n] = 0;
  b[strcspn(b, "\n")] = 0;
  return b;
}

/* ---- counters ---- */

/* "Group.Name" of /proc/net/snmp (a line of names, then one of values), or a "Name" of
 * /proc/net/snmp6 (one "Name value" per line); -1 when absent. */
static long long counter(const char *key) {
  const char *dot = strchr(key, '.');
  char *save = NULL;
  if (dot == NULL) {
    for (char *l = strtok_r(slurp("/proc/net/snmp6"), "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
      char n[64];
      long long v;
      if (sscanf(l, "%63s %lld", n, &v) == 2 && strcmp(n, key) == 0) return v;
    }
    return -1;
  }
  char group[32];
  snprintf(group, sizeof group, "%.*s:", (int)(dot - key), key);
  for (char *names = strtok_r(slurp("/proc/net/snmp"), "\n", &save); names; names = strtok_r(NULL, "\n", &save)) {
    char *values = strtok_r(NULL, "\n", &save);
    if (!values || strncmp(names, group, strlen(group)) != 0) continue;
    char *s1 = NULL, *s2 = NULL;
    char *n = strtok_r(names + strlen(group), " ", &s1), *v = strtok_r(values + strlen(group), " ", &s2);
    for (; n && v; n = strtok_r(NULL, " ", &s1), v = strtok_r(NULL, " ", &s2))
      if (strcmp(n, dot + 1) == 0) return atoll(v);
  }
  return -1;
}

static const char *const keys[] = {
    "Udp.NoPorts",          "Icmp.OutDestUnreachs",    "Icmp.InEchos",           "Icmp.OutEchoReps",
    "Icmp.OutRateLimitGlobal", "Icmp.OutRateLimitHost", "Udp6NoPorts",            "Icmp6OutDestUnreachs",
    "Icmp6InEchos",         "Icmp6OutEchoReplies",     "Icmp6OutRateLimitHost",
};
#define NKEYS (sizeof keys / sizeof keys[0])

struct snapshot {
  long long v[NKEYS];
};

static struct snapshot snap(void) {
  struct snapshot s;
  for (size_t i = 0; i < NKEYS; i++) s.v[i] = counter(keys[i]);
  return s;
}

/* The counters that moved since `before` (and the rate limit ones always). */
static void moved(const struct snapshot *before) {
  struct snapshot now = snap();
  printf("  counters:");
  for (size_t i = 0; i < NKEYS; i++)
    if (now.v[i] != before->v[i] || strstr(keys[i], "RateLimit"))
      printf(" %s %+lld", keys[i], now.v[i] - before->v[i]);
  printf("\n");
}

/* ---- sockets ---- */

static struct sockaddr_in lo4(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static struct sockaddr_in6 lo6(int port) {
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  return a;
}

static int must(int fd, const char *what) {
  if (fd < 0) {
    printf("%s: %s\n", what, strerrorname_np(errno));
    exit(1);
  }
  return fd;
}

/* Whether the ICMP message `m` (`n` bytes) is of `type` and `code`, and quotes a UDP header to
 * CLOSED_PORT `hl` bytes into what it quotes. */
static int is_unreach(const unsigned char *m, ssize_t n, int type, int code, int hl) {
  if (n < 8 + hl + 4 || m[0] != type || m[1] != code) return 0;
  const unsigned char *udp = m + 8 + hl;
  return udp[2] == 0 && udp[3] == CLOSED_PORT;
}

/* Reads what raw socket `raw` holds now, counting port unreachables; `family` says whether an
 * IP header comes first. */
static int drain(int raw, int family) {
  unsigned char b[2048];
  int seen = 0;
  for (;;) {
    ssize_t n = recv(raw, b, sizeof b, MSG_DONTWAIT);
    if (n < 0) return seen;
    if (family == AF_INET) {
      int ihl = (b[0] & 15) * 4;
      seen += is_unreach(b + ihl, n - ihl, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 20);
    } else {
      seen += is_unreach(b, n, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, 40);
    }
  }
}

/* Waits up to `ms` for `fd` to become readable. */
static int readable(int fd, int ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, ms) > 0;
}

/* DATAGRAMS one-byte datagrams to the closed port of lo (`family`), and how many port
 * unreachables a raw socket saw, with the counters that moved. */
static void burst(int family) {
  int raw = must(socket(family, SOCK_RAW, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6), "raw socket");
  int u = must(socket(family, SOCK_DGRAM, 0), "udp socket");
  struct sockaddr_in a4 = lo4(CLOSED_PORT);
  struct sockaddr_in6 a6 = lo6(CLOSED_PORT);
  struct sockaddr *to = family == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6;
  socklen_t tolen = family == AF_INET ? sizeof a4 : sizeof a6;
  struct snapshot before = snap();
  int seen = 0, sent = 0;
  for (int i = 0; i < DATAGRAMS; i++) {
    if (sendto(u, "x", 1, 0, to, tolen) == 1) sent++;
    seen += drain(raw, family);
  }
  // The last answers may still be on their way: wait while more come.
  while (seen < sent && readable(raw, 500)) seen += drain(raw, family);
  printf("  %s: %d datagrams sent, %d port unreachables seen\n", family == AF_INET ? "127.0.0.1" : "::1", sent,
         seen);
  moved(&before);
  close(u);
  close(raw);
}

/* PINGS echo requests from a raw socket to lo (`family`), and how many replies it saw. */
static void pings(int family) {
  int raw = must(socket(family, SOCK_RAW, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6), "raw socket");
  struct sockaddr_in a4 = lo4(0);
  struct sockaddr_in6 a6 = lo6(0);
  struct sockaddr *to = family == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6;
  socklen_t tolen = family == AF_INET ? sizeof a4 : sizeof a6;
  struct snapshot before = snap();
  int replies = 0;
  for (int i = 0; i < PINGS; i++) {
    unsigned char req[16] = {0};
    if (family == AF_INET) {
      struct icmphdr *h = (struct icmphdr *)req;
      h->type = ICMP_ECHO;
      h->un.echo.id = htons(0x4242);
      h->un.echo.sequence = htons(i);
      unsigned sum = 0;
      for (size_t k = 0; k < sizeof req; k += 2) sum += (req[k] << 8) | req[k + 1];
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      h->checksum = htons(~sum & 0xffff);
    } else {
      req[0] = ICMP6_ECHO_REQUEST; // the kernel fills in an ICMPv6 raw socket's checksum
      req[4] = 0x42;
      req[5] = 0x42;
      req[7] = i;
    }
    if (sendto(raw, req, sizeof req, 0, to, tolen) != sizeof req) printf("  sendto: %s\n", strerrorname_np(errno));
    // The request comes back to this socket, then the reply if one goes: wait for both.
    for (int got = 0; got < 2 && readable(raw, 100);) {
      unsigned char b[256];
      ssize_t n = recv(raw, b, sizeof b, MSG_DONTWAIT);
      if (n < 0) break;
      const unsigned char *m = family == AF_INET ? b + (b[0] & 15) * 4 : b;
      int reply = family == AF_INET ? m[0] == ICMP_ECHOREPLY : m[0] == ICMP6_ECHO_REPLY;
      got++;
      if (reply) {
        replies++;
        got++;
      }
    }
  }
  printf("  %s: %d echo requests, %d replies\n", family == AF_INET ? "127.0.0.1" : "::1", PINGS, replies);
  moved(&before);
  close(raw);
}

static void show_all(void) {
  printf("  ipv4: icmp_ratelimit %s", show("ipv4/icmp_ratelimit"));
  printf(" icmp_ratemask %s", show("ipv4/icmp_ratemask"));
  printf(" icmp_msgs_per_sec %s", show("ipv4/icmp_msgs_per_sec"));
  printf(" icmp_msgs_burst %s\n", show("ipv4/icmp_msgs_burst"));
  printf("  ipv6: icmp/ratelimit %s", show("ipv6/icmp/ratelimit"));
  printf(" icmp/ratemask %s\n", show("ipv6/icmp/ratemask"));
}

/* Writes `value` to `name` and shows what the kernel answered and what reads back. */
static void try(const char *name, const char *value) {
  const char *r = sysctl(name, value);
  printf("  %s <- \"%s\": %s, now %s\n", name, value, r, show(name));
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("defaults:\n");
  show_all();

  printf("sysctl writes:\n");
  try("ipv4/icmp_ratelimit", "1001");
  try("ipv4/icmp_ratelimit", "-1");
  try("ipv4/icmp_ratelimit", "1000");
  try("ipv4/icmp_ratemask", "-1");
  try("ipv4/icmp_ratemask", "2147483648");
  try("ipv4/icmp_ratemask", "0x1818");
  try("ipv4/icmp_msgs_per_sec", "-1");
  try("ipv4/icmp_msgs_burst", "-1");
  try("ipv4/icmp_msgs_burst", "50");
  try("ipv6/icmp/ratelimit", "5");
  try("ipv6/icmp/ratelimit", "100");
  try("ipv6/icmp/ratemask", "129-128");
  try("ipv6/icmp/ratemask", "3,1");
  try("ipv6/icmp/ratemask", "0-1,3-127");

  printf("a burst of port unreachables at the defaults:\n");
  burst(AF_INET);
  burst(AF_INET6);

  printf("the global bucket emptied for good, the per-destination interval one jiffy:\n");
  sysctl("ipv4/icmp_msgs_burst", "0");
  sysctl("ipv4/icmp_msgs_per_sec", "0");
  sysctl("ipv4/icmp_ratelimit", "4");
  sysctl("ipv6/icmp/ratelimit", "4");
  show_all();
  burst(AF_INET);
  burst(AF_INET6);

  printf("echo replies at the default ratemasks:\n");
  pings(AF_INET);
  pings(AF_INET6);

  printf("echo replies in the ratemasks (icmp_ratemask 0x1819, icmp/ratemask 0-255):\n");
  sysctl("ipv4/icmp_ratemask", "6169");
  sysctl("ipv6/icmp/ratemask", "0-255");
  show_all();
  pings(AF_INET);
  pings(AF_INET6);
  return 0;
}
