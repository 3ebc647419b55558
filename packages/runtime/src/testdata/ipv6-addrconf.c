// IPv6 address configuration as user space sees it: the DAD sysctls of /proc/sys/net/ipv6
// (values, writes and their errors), and an address added with `noprefixroute`, whose prefix
// gets no route (connect(2) to a neighbour in it: ENETUNREACH) while one added without it does;
// the same for IPv4, where fib_add_ifaddr honours the flag too.
// Run as root in a fresh network namespace with lo up; prints one line per step.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IPV6 "/proc/sys/net/ipv6/"

static void show(const char *name) {
  char buf[64];
  int fd = open(name, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n < 0) {
    printf("read %s: %s\n", name + sizeof(IPV6) - 1, strerrorname_np(errno));
    return;
  }
  buf[n] = 0;
  printf("%s = %s", name + sizeof(IPV6) - 1, buf);
}

/** Writes `text` in one write(2) and shows what the file holds afterwards. */
static void put(const char *name, const char *text) {
  int fd = open(name, O_WRONLY);
  if (fd < 0) {
    printf("open %s: %s\n", name + sizeof(IPV6) - 1, strerrorname_np(errno));
    return;
  }
  ssize_t n = write(fd, text, strlen(text));
  printf("write '%s': %s; ", text, n < 0 ? strerrorname_np(errno) : "ok");
  close(fd);
  show(name);
}

static void try_connect(const char *what, int type, const char *addr) {
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
  inet_pton(AF_INET6, addr, &a.sin6_addr);
  int fd = socket(AF_INET6, type | SOCK_NONBLOCK, 0);
  int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
  printf("%s connect %s: %s\n", what, addr, rc == 0 ? "0" : strerrorname_np(errno));
  close(fd);
}

static void try_connect4(const char *addr) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
  inet_pton(AF_INET, addr, &a.sin_addr);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
  printf("udp connect %s: %s\n", addr, rc == 0 ? "0" : strerrorname_np(errno));
  close(fd);
}

static void try_sendto(const char *addr) {
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
  inet_pton(AF_INET6, addr, &a.sin6_addr);
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  ssize_t n = sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
  printf("udp sendto %s: %s\n", addr, n == 1 ? "1" : strerrorname_np(errno));
  close(fd);
}

int main(void) {
  static const char *files[] = {
      IPV6 "idgen_retries",          IPV6 "idgen_delay",         IPV6 "conf/all/dad_transmits",
      IPV6 "conf/all/enhanced_dad",  IPV6 "conf/default/dad_transmits", IPV6 "conf/default/enhanced_dad",
      IPV6 "conf/lo/dad_transmits",  IPV6 "conf/lo/enhanced_dad",
  };
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) show(files[i]);
  // proc_dointvec: base 0, a leading '-' but no '+', the first of several numbers, C int range.
  static const char *ints[] = {"3", "-1", "0x10", "010", "+3", "7x", "5 6", "2147483648", "-2147483648", "0"};
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) put(IPV6 "conf/lo/dad_transmits", ints[i]);
  put(IPV6 "conf/all/enhanced_dad", "0");
  put(IPV6 "conf/default/dad_transmits", "2");
  put(IPV6 "idgen_retries", "-5");
  // proc_dointvec_jiffies: seconds up to INT_MAX / HZ either way.
  static const char *delays[] = {"4", "-1", "8589934", "8589935", "-8589935"};
  for (size_t i = 0; i < sizeof delays / sizeof *delays; i++) put(IPV6 "idgen_delay", delays[i]);
  // Writing `all` changes no device.
  show(IPV6 "conf/lo/enhanced_dad");
  put(IPV6 "conf/nosuch/dad_transmits", "1");

  fflush(stdout);
  if (system("ip -6 addr add 2001:db8:7::1/64 dev lo noprefixroute && "
             "ip -6 addr add 2001:db8:8::1/64 dev lo && sleep 0.2 && "
             "ip -6 route show table main && ip -6 addr show dev lo | grep -c noprefixroute") != 0)
    printf("ip failed\n");
  fflush(stdout);
  try_connect("udp", SOCK_DGRAM, "2001:db8:7::2");
  try_connect("tcp", SOCK_STREAM, "2001:db8:7::2");
  try_sendto("2001:db8:7::2");
  try_connect("udp", SOCK_DGRAM, "2001:db8:7::1");
  try_connect("udp", SOCK_DGRAM, "2001:db8:8::2");
  fflush(stdout);
  // The route `ip -6 route add` gives the prefix makes its neighbours reachable.
  if (system("ip -6 route add 2001:db8:7::/64 dev lo") != 0) printf("ip route add failed\n");
  try_connect("udp", SOCK_DGRAM, "2001:db8:7::2");

  fflush(stdout);
  if (system("ip addr add 10.7.0.1/24 dev lo noprefixroute && ip addr add 10.8.0.1/24 dev lo && "
             "ip -4 addr show dev lo && ip -4 route show table all && cat /proc/net/route") != 0)
    printf("ip failed\n");
  fflush(stdout);
  try_connect4("10.7.0.2");
  try_connect4("10.7.0.1");
  try_connect4("10.8.0.2");
  return 0;
}
