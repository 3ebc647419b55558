// /proc/sys/net/ipv4 tunables and the sockets created after a write: the ephemeral port range
// (autobind of UDP and TCP, and what a full range gives) and the default congestion control.
// Run as root in a fresh network namespace with lo up; prints one line per step.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IPV4 "/proc/sys/net/ipv4/"

static void put(const char *name, const char *text) {
  int fd = open(name, O_WRONLY);
  if (fd < 0) {
    printf("open %s: %s\n", name, strerrorname_np(errno));
    return;
  }
  ssize_t n = write(fd, text, strlen(text));
  printf("write %s '%s': %s\n", name + sizeof(IPV4) - 1, text, n < 0 ? strerrorname_np(errno) : "ok");
  close(fd);
}

static void show(const char *name) {
  char buf[128];
  int fd = open(name, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n < 0) {
    printf("read %s: %s\n", name, strerrorname_np(errno));
    return;
  }
  buf[n] = 0;
  printf("%s = %s", name + sizeof(IPV4) - 1, buf);
}

static struct sockaddr_in lo(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
  return a;
}

static void local_port(const char *what, int fd, int rc) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  if (rc < 0) {
    printf("%s: %s\n", what, strerrorname_np(errno));
    return;
  }
  getsockname(fd, (struct sockaddr *)&a, &len);
  printf("%s: port %d\n", what, ntohs(a.sin_port));
}

int main(void) {
  show(IPV4 "ip_local_port_range");
  put(IPV4 "ip_local_port_range", "40001 40000");
  put(IPV4 "ip_local_port_range", "100 200");
  // Numbers are read with base 0 (strtoul_lenient): hex and octal; '+' is refused.
  put(IPV4 "ip_local_port_range", "0x9c41 0116101");
  show(IPV4 "ip_local_port_range");
  put(IPV4 "ip_local_port_range", "+40000 40000");
  put(IPV4 "ip_local_port_range", "40000 40000");
  show(IPV4 "ip_local_port_range");

  struct sockaddr_in dst = lo(9);
  int u1 = socket(AF_INET, SOCK_DGRAM, 0);
  local_port("udp connect", u1, connect(u1, (struct sockaddr *)&dst, sizeof dst));
  int u2 = socket(AF_INET, SOCK_DGRAM, 0);
  local_port("second udp connect", u2, connect(u2, (struct sockaddr *)&dst, sizeof dst));
  struct sockaddr_in any = lo(0);
  int u3 = socket(AF_INET, SOCK_DGRAM, 0);
  local_port("udp bind 0", u3, bind(u3, (struct sockaddr *)&any, sizeof any));

  // TCP has its own port space: a listener on 40000 fills the range for it.
  int l = socket(AF_INET, SOCK_STREAM, 0);
  local_port("tcp bind 0", l, bind(l, (struct sockaddr *)&any, sizeof any));
  listen(l, 4);
  int t2 = socket(AF_INET, SOCK_STREAM, 0);
  local_port("second tcp bind 0", t2, bind(t2, (struct sockaddr *)&any, sizeof any));
  struct sockaddr_in to_l = lo(40000);
  int t3 = socket(AF_INET, SOCK_STREAM, 0);
  local_port("tcp connect", t3, connect(t3, (struct sockaddr *)&to_l, sizeof to_l));

  put(IPV4 "tcp_congestion_control", "bogus");
  put(IPV4 "tcp_congestion_control", "reno");
  show(IPV4 "tcp_congestion_control");
  int c = socket(AF_INET, SOCK_STREAM, 0);
  char cc[16] = {0};
  socklen_t cclen = sizeof cc;
  if (getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cc, &cclen) < 0)
    printf("TCP_CONGESTION: %s\n", strerrorname_np(errno));
  else
    printf("new socket TCP_CONGESTION = %s\n", cc);

  put(IPV4 "tcp_sack", "010");
  show(IPV4 "tcp_sack");
  put(IPV4 "tcp_sack", "09");
  put(IPV4 "tcp_sack", "256");
  put(IPV4 "tcp_sack", "0");
  show(IPV4 "tcp_sack");
  return 0;
}
