/* The socket error queue of raw and ping sockets, natively in a fresh network namespace and under
 * tsvisor (raw-recv-err.test.ts). A raw IPPROTO_UDP socket sends a UDP datagram to a loopback
 * port nobody listens on; the port unreachable that answers it reaches the raw sockets whose
 * bound and connected addresses match the quoted datagram (raw_icmp_error, raw6_icmp_error):
 * with IP_RECVERR / IPV6_RECVERR on the error queue (the payload from the UDP header on, or from
 * the IP header with IP_HDRINCL), as the pending error with the option or, for a hard error,
 * when connected. Then the local errors of raw and ping sockets (sends too large for IP, or for
 * lo's MTU where they may not be fragmented), a second error waking an EPOLLET waiter again, and
 * how many errors a small SO_RCVBUF holds. Ports are random: only whether they are the
 * destination's is printed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/epoll.h>

#include "recv-err-util.h"

#define SPORT 45678

/* Waits up to `ms` for POLLERR alone (a raw socket is readable at once with its own datagram). */
static void wait_err(int fd, int ms) {
  struct pollfd p = {.fd = fd, .events = 0};
  poll(&p, 1, ms);
}

/* One recvmsg(MSG_ERRQUEUE), every field printed; the payload's first `ip` bytes are an IP
 * header (its version and protocol printed), then a UDP header (its ports), then text. */
static void read_queue(int fd, int ip, unsigned short dport) {
  unsigned char buf[128] = {0};
  struct errqueue_msg q;
  long n = recv_errqueue(fd, buf, sizeof buf, MSG_DONTWAIT, &q);
  if (n < 0) return;
  printf("  errqueue: n %ld", n);
  if (n >= ip + 8) {
    if (ip) printf(" ip version %u protocol %u", buf[0] >> 4, buf[ip == 20 ? 9 : 6]);
    unsigned sp = buf[ip] << 8 | buf[ip + 1], dp = buf[ip + 2] << 8 | buf[ip + 3];
    printf(" udp sport %u dport %s data \"%.*s\"", sp, dp == dport ? "= destination" : "other",
           (int)(n - ip - 8), buf + ip + 8);
  }
  printf(" msg_flags%s%s namelen %u name %s port %d\n", q.m.msg_flags & MSG_ERRQUEUE ? " ERRQUEUE" : "",
         q.m.msg_flags & MSG_TRUNC ? " TRUNC" : "", q.m.msg_namelen, q.addr, port_in(&q.name));
  print_cmsgs(&q.m, 0);
}

/* Reads every queued datagram; prints how many and their lengths. */
static void drain(int fd) {
  unsigned char b[256];
  int count = 0;
  printf("  received:");
  for (;;) {
    long n = recv(fd, b, sizeof b, MSG_DONTWAIT);
    if (n < 0) {
      printf(" %s\n", ename(errno));
      return;
    }
    printf(" %ld", n);
    if (++count > 8) break;
  }
  printf("\n");
}

static struct sockaddr_in lo4(const char *ip, unsigned short port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static struct sockaddr_in6 lo6(unsigned short port) {
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_loopback};
  return a;
}

/* A UDP header to `dport` and `text`, checksum 0 (none for IPv4, the kernel's for IPv6). */
static size_t udp_datagram(unsigned char *out, unsigned short dport, const char *text) {
  size_t n = 8 + strlen(text);
  out[0] = SPORT >> 8, out[1] = SPORT & 0xff, out[2] = dport >> 8, out[3] = dport & 0xff;
  out[4] = n >> 8, out[5] = n & 0xff, out[6] = out[7] = 0;
  memcpy(out + 8, text, n - 8);
  return n;
}

static int raw_udp(int family, int recverr) {
  int s = socket(family, SOCK_RAW, IPPROTO_UDP);
  if (family == AF_INET6) {
    int off = 6;
    setsockopt(s, SOL_IPV6, IPV6_CHECKSUM, &off, sizeof off);
  }
  if (recverr) {
    int one = 1;
    if (family == AF_INET)
      setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof one);
    else
      setsockopt(s, SOL_IPV6, IPV6_RECVERR, &one, sizeof one);
  }
  return s;
}

static long send_udp(int s, int family, unsigned short dport, const char *text, int connected) {
  unsigned char d[64];
  size_t n = udp_datagram(d, dport, text);
  struct sockaddr_in a4 = lo4("127.0.0.1", 0);
  struct sockaddr_in6 a6 = lo6(0);
  long r;
  if (connected)
    r = send(s, d, n, 0);
  else if (family == AF_INET)
    r = sendto(s, d, n, 0, (struct sockaddr *)&a4, sizeof a4);
  else
    r = sendto(s, d, n, 0, (struct sockaddr *)&a6, sizeof a6);
  return r < 0 ? -errno : r;
}

static void scenario(int family, int recverr, int connected) {
  unsigned short dport = closed_port(family);
  printf("raw%d udp %s, %s:\n", family == AF_INET ? 4 : 6, connected ? "connected" : "unconnected",
         recverr ? "with RECVERR" : "without");
  int s = raw_udp(family, recverr);
  if (connected) {
    struct sockaddr_in a4 = lo4("127.0.0.1", 0);
    struct sockaddr_in6 a6 = lo6(0);
    int r = family == AF_INET ? connect(s, (struct sockaddr *)&a4, sizeof a4)
                              : connect(s, (struct sockaddr *)&a6, sizeof a6);
    printf("  connect: %d\n", r);
  }
  printf("  send: %ld\n", send_udp(s, family, dport, "first", connected));
  /* Without the option an unconnected socket learns nothing: the wait runs out. */
  wait_err(s, recverr || connected ? 2000 : 300);
  revents("after the error", s, 0);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  revents("after SO_ERROR", s, 0);
  read_queue(s, 0, dport);
  drain(s);
  if (!recverr) {
    close(s);
    return;
  }
  /* A pending error does not stop the next send (ip_append_data without a transport header
   * allocates no send buffer, so sock_error is not asked); two errors queue in order. */
  printf("  send: %ld\n", send_udp(s, family, dport, "second", connected));
  wait_err(s, 2000);
  printf("  send: %ld\n", send_udp(s, family, dport, "third!", connected));
  sleep_ms(100);
  wait_err(s, 2000);
  read_queue(s, 0, dport);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  read_queue(s, 0, dport);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  revents("one datagram unread", s, 0);
  drain(s);
  revents("drained", s, 0);
  read_queue(s, 0, dport);
  /* Turning the option off purges the queue. */
  printf("  send: %ld\n", send_udp(s, family, dport, "fourth", connected));
  wait_err(s, 2000);
  int zero = 0;
  printf("  setsockopt off: %d\n", family == AF_INET ? setsockopt(s, SOL_IP, IP_RECVERR, &zero, sizeof zero)
                                                      : setsockopt(s, SOL_IPV6, IPV6_RECVERR, &zero, sizeof zero));
  read_queue(s, 0, dport);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  close(s);
}

/* Every raw socket of the protocol whose addresses match the quoted datagram takes the error. */
static void fan_out(void) {
  unsigned short dport = closed_port(AF_INET);
  printf("raw4 udp, who hears of the error:\n");
  const char *what[] = {"sender (unbound)", "bound 127.0.0.1", "bound 127.0.0.2", "connected 127.0.0.1",
                        "connected 127.0.0.2", "icmp protocol", "without RECVERR", "connected, without RECVERR"};
  int s[8];
  for (int i = 0; i < 8; i++) {
    s[i] = i == 5 ? socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) : raw_udp(AF_INET, i < 6);
    if (i == 5) {
      int one = 1;
      setsockopt(s[i], SOL_IP, IP_RECVERR, &one, sizeof one);
    }
    struct sockaddr_in a = lo4(i == 2 || i == 4 ? "127.0.0.2" : "127.0.0.1", 0);
    if (i == 1 || i == 2) bind(s[i], (struct sockaddr *)&a, sizeof a);
    if (i == 3 || i == 4 || i == 7) connect(s[i], (struct sockaddr *)&a, sizeof a);
  }
  printf("  send: %ld\n", send_udp(s[0], AF_INET, dport, "fan", 0));
  wait_err(s[0], 2000);
  wait_err(s[7], 2000);
  for (int i = 0; i < 8; i++) {
    printf(" %s:\n", what[i]);
    revents("poll", s[i], 0);
    printf("  SO_ERROR: %s\n", ename(so_error(s[i])));
    read_queue(s[i], 0, dport);
    drain(s[i]);
    close(s[i]);
  }
}

/* With IP_HDRINCL the queued payload starts at the quoted IP header; the send after an error
 * allocates a send buffer, so it reports the pending error (raw_send_hdrinc). */
static void hdrincl(void) {
  unsigned short dport = closed_port(AF_INET);
  printf("raw4 udp with IP_HDRINCL:\n");
  int s = raw_udp(AF_INET, 1), one = 1;
  printf("  IP_HDRINCL: %d\n", setsockopt(s, SOL_IP, IP_HDRINCL, &one, sizeof one));
  unsigned char d[64] = {0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, IPPROTO_UDP, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1};
  size_t n = 20 + udp_datagram(d + 20, dport, "hdr");
  struct sockaddr_in a = lo4("127.0.0.1", 0);
  long r = sendto(s, d, n, 0, (struct sockaddr *)&a, sizeof a);
  printf("  send: %ld\n", r < 0 ? -errno : r);
  wait_err(s, 2000);
  r = sendto(s, d, n, 0, (struct sockaddr *)&a, sizeof a);
  printf("  send with the error pending: %ld %s\n", r, ename(r < 0 ? errno : 0));
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  read_queue(s, 20, dport);
  read_queue(s, 20, dport);
  drain(s);
  close(s);
}

static char big[65600];

static long send_big(int s, int family, size_t n) {
  struct sockaddr_in a4 = lo4("127.0.0.1", 0);
  struct sockaddr_in6 a6 = lo6(0);
  big[0] = family == AF_INET ? 8 : 128; /* an echo request */
  long r = family == AF_INET ? sendto(s, big, n, 0, (struct sockaddr *)&a4, sizeof a4)
                             : sendto(s, big, n, 0, (struct sockaddr *)&a6, sizeof a6);
  return r < 0 ? -errno : r;
}

/* ip_local_error / ipv6_local_error from raw and ping sockets: EMSGSIZE queued with the MTU. */
static void local_errors(int family, int type) {
  int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6, one = 1;
  printf("%s%d local errors:\n", type == SOCK_RAW ? "raw" : "ping", family == AF_INET ? 4 : 6);
  int s = socket(family, type, proto);
  if (s < 0) {
    printf("  socket: %s\n", ename(errno));
    return;
  }
  if (family == AF_INET) {
    /* Over IP's limit, not over the 64 KiB a send may be: queued; over that: not. */
    printf("  send 65516 without RECVERR: %ld\n", send_big(s, family, 65516));
    read_queue(s, 0, 0);
    setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof one);
    printf("  send 65516: %ld\n", send_big(s, family, 65516));
    printf("  send 65535: %ld\n", send_big(s, family, 65535));
    printf("  send 65536: %ld\n", send_big(s, family, 65536));
    revents("queued", s, 0);
    printf("  SO_ERROR: %s\n", ename(so_error(s)));
    read_queue(s, 0, 0);
    read_queue(s, 0, 0);
    read_queue(s, 0, 0);
  } else {
    setsockopt(s, SOL_IPV6, IPV6_RECVERR, &one, sizeof one);
    printf("  send 65536: %ld\n", send_big(s, family, 65536));
    read_queue(s, 0, 0);
    setsockopt(s, SOL_IPV6, IPV6_DONTFRAG, &one, sizeof one);
    printf("  IPV6_DONTFRAG, send 65497: %ld\n", send_big(s, family, 65497));
    read_queue(s, 0, 0);
    read_queue(s, 0, 0);
  }
  close(s);
}

/* Each error queued wakes an EPOLLET waiter, although POLLERR was already set (sk_error_report
 * each time). SO_ERROR is read after each, else the UDP socket's next send would fail with it. */
static void edge_triggered(int type) {
  unsigned short dport = closed_port(AF_INET);
  sleep_ms(60);
  printf("%s, EPOLLET:\n", type == SOCK_RAW ? "raw4 udp" : "udp4");
  int s = type == SOCK_RAW ? raw_udp(AF_INET, 1) : socket(AF_INET, SOCK_DGRAM, 0), one = 1;
  setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof one);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLET | (type == SOCK_RAW ? 0 : EPOLLIN)};
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  struct sockaddr_in a = lo4("127.0.0.1", dport);
  for (int i = 0; i < 2; i++) {
    if (type == SOCK_RAW)
      send_udp(s, AF_INET, dport, "edge", 0);
    else
      sendto(s, "edge", 4, 0, (struct sockaddr *)&a, sizeof a);
    int n = epoll_wait(ep, &ev, 1, 2000);
    printf("  error %d: epoll_wait %d%s%s, SO_ERROR %s\n", i + 1, n, n > 0 && ev.events & EPOLLIN ? " EPOLLIN" : "",
           n > 0 && ev.events & EPOLLERR ? " EPOLLERR" : "", ename(so_error(s)));
  }
  int n = epoll_wait(ep, &ev, 1, 200);
  printf("  nothing new: epoll_wait %d\n", n);
  close(ep);
  close(s);
}

/* The error queue shares the receive buffer: an error is dropped once the memory Linux charges
 * for it (its skb's truesize, larger for a longer ICMP message) would reach SO_RCVBUF; it still
 * becomes the pending error. Each batch starts after a pause: ICMP errors are rate limited
 * (net.ipv4.icmp_msgs_per_sec), and the pause lets the kernel refill its budget for the batch. */
static void bounded(int family, int size, int rcv) {
  unsigned short dport = closed_port(family);
  sleep_ms(60);
  int s = socket(family, SOCK_DGRAM, 0), one = 1;
  if (family == AF_INET)
    setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof one);
  else
    setsockopt(s, SOL_IPV6, IPV6_RECVERR, &one, sizeof one);
  setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  socklen_t len = sizeof rcv;
  getsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, &len);
  struct sockaddr_in a4 = lo4("127.0.0.1", dport);
  struct sockaddr_in6 a6 = lo6(dport);
  int errors = 0;
  for (int i = 0; i < 10; i++) {
    if (family == AF_INET)
      sendto(s, big, size, 0, (struct sockaddr *)&a4, sizeof a4);
    else
      sendto(s, big, size, 0, (struct sockaddr *)&a6, sizeof a6);
    errors += wait_error(s) == ECONNREFUSED;
  }
  int count = 0;
  char b[8];
  while (recv(s, b, sizeof b, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) count++;
  printf("udp%d, %d-byte datagrams, SO_RCVBUF %d: %d errors, %d queued\n", family == AF_INET ? 4 : 6, size, rcv,
         errors, count);
  close(s);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (fd < 0 || write(fd, "0 0", 3) != 3) printf("ping_group_range: %s\n", ename(errno));
  if (fd >= 0) close(fd);
  const int families[] = {AF_INET, AF_INET6};
  for (int f = 0; f < 2; f++)
    for (int recverr = 1; recverr >= 0; recverr--)
      for (int connected = 0; connected < 2; connected++) scenario(families[f], recverr, connected);
  fan_out();
  hdrincl();
  for (int f = 0; f < 2; f++) {
    local_errors(families[f], SOCK_RAW);
    local_errors(families[f], SOCK_DGRAM);
  }
  edge_triggered(SOCK_DGRAM);
  edge_triggered(SOCK_RAW);
  bounded(AF_INET, 1, 0);
  bounded(AF_INET, 168, 1256);
  bounded(AF_INET, 176, 1256);
  bounded(AF_INET, 1000, 4000);
  bounded(AF_INET6, 1, 0);
  bounded(AF_INET6, 1000, 4000);
  return 0;
}
