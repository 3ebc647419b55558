/* Edge-triggered epoll on datagram sockets, natively in a fresh network namespace and under
 * tsvisor (dgram-epollet.test.ts). Linux wakes a socket's waiters at every datagram it queues
 * (sk_data_ready) and every error it reports (sk_error_report), and ep_poll_callback puts an
 * EPOLLET item back on the ready list at each wake-up, readiness bits changed or not: a second
 * datagram wakes an edge-triggered waiter again while the first is still unread, and a read
 * wakes nobody. For UDP (IPv4, IPv6), raw, ping, AF_UNIX datagram and packet sockets, and for a
 * UDP socket's ICMP errors with IP_RECVERR, it prints what epoll_wait reports after each step.
 * The same wake-up sends O_ASYNC's signal (sock_def_readable): three datagrams in a row to a
 * UDP, raw and ping socket, unread, give three. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int ep;

static void report(const char *what, int ms) {
  struct epoll_event ev[2];
  int n = epoll_wait(ep, ev, 2, ms);
  printf("  %s: %d", what, n);
  if (n > 0)
    printf("%s%s%s", ev[0].events & EPOLLIN ? " EPOLLIN" : "", ev[0].events & EPOLLERR ? " EPOLLERR" : "",
           ev[0].events & ~(EPOLLIN | EPOLLERR) ? " other" : "");
  printf("\n");
}

/* `fd` (which receives what `send_one` sends) under EPOLLIN | EPOLLET: two datagrams, then a read. */
static void run(const char *name, int fd, void (*send_one)(int), int arg) {
  printf("%s:\n", name);
  if (fd < 0) {
    printf("  socket: %s\n", strerrorname_np(errno));
    return;
  }
  ep = epoll_create1(0);
  struct epoll_event e = {.events = EPOLLIN | EPOLLET};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  report("idle", 0);
  send_one(arg);
  report("first datagram", 1000);
  report("again", 100);
  send_one(arg);
  report("second datagram, the first unread", 1000);
  char buf[256];
  printf("  read: %s\n", recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0 ? "ok" : strerrorname_np(errno));
  report("after the read", 100);
  close(ep);
}

static struct sockaddr_in lo4 = {.sin_family = AF_INET};
static struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};

static void send4(int fd) {
  if (sendto(fd, "datagram", 8, 0, (struct sockaddr *)&lo4, sizeof lo4) != 8) printf("send: %s\n", strerrorname_np(errno));
}
static void send6(int fd) {
  if (sendto(fd, "datagram", 8, 0, (struct sockaddr *)&lo6, sizeof lo6) != 8) printf("send: %s\n", strerrorname_np(errno));
}
static void send_echo(int fd) {
  static unsigned short seq;
  struct icmphdr h = {.type = ICMP_ECHO, .un.echo.sequence = htons(++seq)};
  if (sendto(fd, &h, sizeof h, 0, (struct sockaddr *)&lo4, sizeof lo4) != sizeof h)
    printf("send: %s\n", strerrorname_np(errno));
}
static volatile int signals, codes;

static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  signals++;
  if (si->si_code != POLL_IN) codes++;
}

/* Three datagrams to `fd`, armed with O_ASYNC and F_SETSIG, that it does not read. */
static void sigio(const char *name, int fd, void (*send_one)(int), int arg) {
  fcntl(fd, F_SETOWN, getpid());
  fcntl(fd, F_SETSIG, SIGRTMIN);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
  usleep(20000);
  signals = codes = 0;
  for (int i = 0; i < 3; i++) send_one(arg);
  usleep(50000);
  printf("%s: three datagrams in a row, %d signals, %d not POLL_IN\n", name, signals, codes);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_ASYNC);
}

static void send_fd(int fd) {
  if (send(fd, "datagram", 8, 0) != 8) printf("send: %s\n", strerrorname_np(errno));
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int f = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (f < 0 || write(f, "0 0", 3) != 3) printf("ping_group_range: %s\n", strerrorname_np(errno));
  close(f);

  lo4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t l = sizeof lo4;
  int u4 = socket(AF_INET, SOCK_DGRAM, 0), s4 = socket(AF_INET, SOCK_DGRAM, 0);
  bind(u4, (struct sockaddr *)&lo4, sizeof lo4);
  getsockname(u4, (struct sockaddr *)&lo4, &l);
  run("udp4", u4, send4, s4);

  l = sizeof lo6;
  int u6 = socket(AF_INET6, SOCK_DGRAM, 0), s6 = socket(AF_INET6, SOCK_DGRAM, 0);
  bind(u6, (struct sockaddr *)&lo6, sizeof lo6);
  getsockname(u6, (struct sockaddr *)&lo6, &l);
  run("udp6", u6, send6, s6);

  /* A raw socket receives what it sends of its own protocol. */
  lo4.sin_port = 0;
  int r = socket(AF_INET, SOCK_RAW, 253);
  run("raw4", r, send4, r);

  int p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  run("ping4", p, send_echo, p);

  int sv[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  run("unix dgram", sv[0], send_fd, sv[1]);

  /* A packet socket on lo sees each UDP datagram sent to u4 as lo receives it. */
  int pk = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = if_nametoindex("lo")};
  bind(pk, (struct sockaddr *)&ll, sizeof ll);
  l = sizeof lo4;
  getsockname(u4, (struct sockaddr *)&lo4, &l);
  run("packet", pk, send4, s4);
  while (recv(u4, (char[64]){0}, 64, MSG_DONTWAIT) >= 0) continue;

  /* ICMP errors: a UDP socket with IP_RECVERR sends to a port nobody listens on. */
  printf("udp4 errors:\n");
  int e = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
  setsockopt(e, SOL_IP, IP_RECVERR, &one, sizeof one);
  close(u4);
  ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
  epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
  send4(e);
  report("first error", 1000);
  report("again", 100);
  /* SO_ERROR takes the pending error (the next send would report it); the queued one stays. */
  int err = 0;
  socklen_t el = sizeof err;
  getsockopt(e, SOL_SOCKET, SO_ERROR, &err, &el);
  printf("  SO_ERROR: %s\n", strerrorname_np(err));
  send4(e);
  report("second error, the first unread", 1000);
  char b[64];
  printf("  errqueue read: %s\n", recv(e, b, sizeof b, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0 ? "ok" : strerrorname_np(errno));
  report("after the read", 100);

  struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
  sigaction(SIGRTMIN, &sa, NULL);
  printf("O_ASYNC:\n");
  l = sizeof lo4;
  u4 = socket(AF_INET, SOCK_DGRAM, 0);
  lo4.sin_port = 0;
  bind(u4, (struct sockaddr *)&lo4, sizeof lo4);
  getsockname(u4, (struct sockaddr *)&lo4, &l);
  sigio("  udp4", u4, send4, s4);
  lo4.sin_port = 0;
  sigio("  raw4", r, send4, r);
  sigio("  ping4", p, send_echo, p);
  return 0;
}
