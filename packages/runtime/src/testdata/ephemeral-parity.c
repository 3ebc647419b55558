/* The parity of the ephemeral ports Linux picks. TCP's bind(2) of port 0 and listen(2)'s
 * autobind (inet_csk_find_open_port) try the ports at an odd offset from the range's low end
 * first, then the others; a TCP connect(2) of an unbound socket (__inet_hash_connect) tries the
 * even offsets first. With the default range (32768-60999, an even low end) bind gives odd ports
 * and connect even ones. SO_REUSEADDR makes bind try the lower half of the range first. UDP
 * (udp_lib_get_port) has no preference and starts each search at a random port. A per-socket
 * IP_LOCAL_PORT_RANGE keeps bind's preference; connect drops its own there (it steps by one port
 * from a random offset, so only the range's bounds show). Each port prints as o (odd) or e (even),
 * with L or H for the half of the range it lies in where that matters; the random start of a TCP
 * search never shows. Run as root in a fresh network namespace with lo up. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

#define MAX 64
/* A port no range below includes: the listener connect(2) goes to. */
#define SERVER_PORT 5000

static struct sockaddr_in lo(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return a;
}

static void set_range(const char *text) {
  int fd = open("/proc/sys/net/ipv4/ip_local_port_range", O_WRONLY);
  ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));
  printf("ip_local_port_range %s: %s\n", text, n < 0 ? strerrorname_np(errno) : "ok");
  if (fd >= 0) close(fd);
}

/* How a socket takes its port: connect goes to the listener on SERVER_PORT. */
enum how { BIND, LISTEN, CONNECT, UDP_BIND, UDP_CONNECT };

/* One socket's ephemeral port, or -errno. */
static int take(enum how how, int reuse, unsigned own_range, int *fd) {
  *fd = socket(AF_INET, how == UDP_BIND || how == UDP_CONNECT ? SOCK_DGRAM : SOCK_STREAM, 0);
  setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  if (own_range) setsockopt(*fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &own_range, sizeof own_range);
  struct sockaddr_in any = lo(0), server = lo(SERVER_PORT);
  int r;
  switch (how) {
  case BIND:
  case UDP_BIND:
    r = bind(*fd, (struct sockaddr *)&any, sizeof any);
    break;
  case LISTEN:
    r = listen(*fd, 1);
    break;
  default:
    r = connect(*fd, (struct sockaddr *)&server, sizeof server);
  }
  return r < 0 ? -errno : port_of(*fd);
}

/* Closes with a reset, so a connection leaves no FIN_WAIT or TIME_WAIT holding its port. */
static void drop(int fd) {
  struct linger l = {.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

/* `n` sockets taking a port each, all kept open: their parities in order, then the first error
 * (the search stops there). With `half`, each port also says which half of [low, high] it is in
 * (inet_csk_find_open_port's split). */
static void row(const char *what, enum how how, int n, int reuse, unsigned own_range, int low, int high, int half) {
  int fds[MAX], k = 0, err = 0;
  printf("%s:", what);
  for (; k < n; k++) {
    int p = take(how, reuse, own_range, &fds[k]);
    if (p < 0) {
      err = -p;
      close(fds[k]);
      break;
    }
    if (p < low || p > high) printf(" %d out of range", p);
    else if (half) printf(" %c%c", p & 1 ? 'o' : 'e', p < low + (((high + 1 - low) >> 2) << 1) ? 'L' : 'H');
    else printf(" %c", p & 1 ? 'o' : 'e');
  }
  if (err) printf(" %s", strerrorname_np(err));
  printf("\n");
  for (int i = 0; i < k; i++) drop(fds[i]);
}

/* `n` sockets whose parities Linux leaves to chance: whether both showed, and whether the ports
 * were distinct and in [low, high]; in a wide range also whether each port mostly followed the
 * last (a rotating search) or they scattered (udp_lib_get_port starts at random each time). */
static void spread(const char *what, enum how how, int n, unsigned own_range, int low, int high) {
  int fds[MAX], ports[MAX], odd = 0, even = 0, bad = 0, next = 0, k = 0;
  for (; k < n; k++) {
    int p = take(how, 0, own_range, &fds[k]);
    if (p < 0) {
      printf("%s: %s after %d\n", what, strerrorname_np(-p), k);
      close(fds[k]);
      break;
    }
    ports[k] = p;
    next += k > 0 && p == ports[k - 1] + 1;
    for (int i = 0; i < k; i++) bad += ports[i] == p;
    bad += p < low || p > high;
    if (p & 1) odd++;
    else even++;
  }
  printf("%s: %s parities, %s%s\n", what, odd && even ? "both" : "one",
         bad ? "a port reused or out of range" : "distinct ports in range",
         high - low < 1000 ? "" : 2 * next > k - 1 ? ", in sequence" : ", scattered");
  for (int i = 0; i < k; i++) drop(fds[i]);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int server = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = lo(SERVER_PORT);
  if (bind(server, (struct sockaddr *)&sa, sizeof sa) || listen(server, MAX * 4)) perror("server");

  printf("-- default range 32768-60999\n");
  row("tcp bind 0", BIND, 20, 0, 0, 32768, 60999, 0);
  row("tcp listen", LISTEN, 20, 0, 0, 32768, 60999, 0);
  row("tcp connect", CONNECT, 20, 0, 0, 32768, 60999, 0);
  row("tcp bind 0, SO_REUSEADDR", BIND, 20, 1, 0, 32768, 60999, 1);
  spread("udp bind 0 x40", UDP_BIND, 40, 0, 32768, 60999);
  spread("udp connect x40", UDP_CONNECT, 40, 0, 32768, 60999);

  /* Ten ports: each parity runs out in turn. */
  printf("-- small range\n");
  set_range("40000 40009");
  row("tcp bind 0", BIND, 12, 0, 0, 40000, 40009, 0);
  row("tcp listen", LISTEN, 12, 0, 0, 40000, 40009, 0);
  row("tcp bind 0, SO_REUSEADDR", BIND, 12, 1, 0, 40000, 40009, 1);
  row("tcp connect", CONNECT, 12, 0, 0, 40000, 40009, 0);
  spread("udp bind 0 x11", UDP_BIND, 11, 0, 40000, 40009);

  /* An odd low end: offsets count from it, so bind takes the even ports first. */
  set_range("40001 40006");
  row("tcp bind 0", BIND, 7, 0, 0, 40001, 40006, 0);
  row("tcp connect", CONNECT, 7, 0, 0, 40001, 40006, 0);
  /* Three ports: both searches cover an even count of ports from the low end, so the third is
   * never reached. */
  set_range("40001 40003");
  row("tcp bind 0", BIND, 3, 0, 0, 40001, 40003, 0);
  row("tcp connect", CONNECT, 3, 0, 0, 40001, 40003, 0);

  /* A per-socket range inside the system's one. */
  printf("-- IP_LOCAL_PORT_RANGE 40100-40109 in 40000-49999\n");
  set_range("40000 49999");
  unsigned own = 40100 | 40109u << 16;
  row("tcp bind 0", BIND, 12, 0, own, 40100, 40109, 0);
  spread("tcp connect x11", CONNECT, 11, own, 40100, 40109);
  /* Three ports again: bind still covers two of them, connect all three. */
  own = 40101 | 40103u << 16;
  row("tcp bind 0 in 40101-40103", BIND, 3, 0, own, 40101, 40103, 0);
  spread("tcp connect x4 in 40101-40103", CONNECT, 4, own, 40101, 40103);
  close(server);
  return 0;
}
