/* Helpers shared by the TIME_WAIT and TCP timestamp programs (tw-*.c, tcp-ts-clock.c): results,
 * IPv4 sysctls, loopback addresses and connections, a capture of lo, and the TIME_WAIT
 * connections /proc/net/tcp lists. */
#ifndef TW_UTIL_H
#define TW_UTIL_H
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TW_UTIL_UNUSED __attribute__((unused))

/* A call's result as printed: 0, or the errno's name. */
TW_UTIL_UNUSED static const char *res(int r) { return r == 0 ? "0" : strerrorname_np(errno); }

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
