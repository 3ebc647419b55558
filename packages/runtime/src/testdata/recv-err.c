/* IP_RECVERR / IPV6_RECVERR and the socket error queue, natively in a fresh network namespace
 * and under tsvisor (recv-err.test.ts): UDP sockets, IPv4 and IPv6, connected or not, with and
 * without the option, send to a loopback port nobody listens on and print what the ICMP port
 * unreachable did: poll's revents, SO_ERROR, and each recvmsg(MSG_ERRQUEUE) field (errno,
 * origin, type, code, info, offender, payload, msg_flags, msg_name); then the queue's order and
 * SO_ERROR as it drains, EAGAIN on an empty queue, and the option turned off. Then local errors
 * (ip_local_error, ipv6_local_error): sends too large for IP, or for lo's MTU where they may not
 * be fragmented, queued with the MTU, and their order against ICMP errors; an AF_INET6 socket
 * sending to an IPv4-mapped address. Ports are random, so only whether msg_name names the
 * destination port (or 0) is printed. */
#define _GNU_SOURCE
#include "recv-err-util.h"

/* One recvmsg(MSG_ERRQUEUE) with a `room`-byte buffer, every field printed. */
static void read_queue(int fd, size_t room, unsigned short dport) {
  char buf[64] = {0};
  struct errqueue_msg q;
  long n = recv_errqueue(fd, buf, room, 0, &q);
  if (n < 0) return;
  int port = port_in(&q.name);
  printf("  errqueue: n %ld payload \"%.*s\" msg_flags%s%s%s namelen %u name %s port %s\n", n, (int)n, buf,
         q.m.msg_flags & MSG_ERRQUEUE ? " ERRQUEUE" : "", q.m.msg_flags & MSG_TRUNC ? " TRUNC" : "",
         q.m.msg_flags & MSG_CTRUNC ? " CTRUNC" : "", q.m.msg_namelen, q.addr,
         port == dport ? "= destination"
         : port == 0   ? "0"
                       : "other");
  print_cmsgs(&q.m, 1);
}

/* A loopback destination of `family` whose port nobody listens on; returns its length. */
static socklen_t closed_dest(int family, struct sockaddr_storage *dst, unsigned short *dport) {
  *dport = closed_port(family);
  return loopback(family, *dport, dst);
}

static void scenario(int family, int recverr, int connected) {
  struct sockaddr_storage ss;
  unsigned short dport;
  socklen_t len = closed_dest(family, &ss, &dport);
  printf("%s %s, %s:\n", family == AF_INET ? "udp4" : "udp6", connected ? "connected" : "unconnected",
         recverr ? "with RECVERR" : "without");
  int s = socket(family, SOCK_DGRAM, 0);
  int level = family == AF_INET ? SOL_IP : SOL_IPV6, name = family == AF_INET ? IP_RECVERR : IPV6_RECVERR;
  if (recverr) {
    int one = 1;
    printf("  setsockopt: %d\n", setsockopt(s, level, name, &one, sizeof one));
    int v = -1;
    socklen_t vl = sizeof v;
    getsockopt(s, level, name, &v, &vl);
    printf("  getsockopt: %d (len %u)\n", v, vl);
  }
  if (connected) connect(s, (struct sockaddr *)&ss, len);
  long n = connected ? send(s, "first", 5, 0) : sendto(s, "first", 5, 0, (struct sockaddr *)&ss, len);
  printf("  send: %ld\n", n);
  /* Without the option an unconnected socket learns nothing: poll waits out its timeout. */
  revents("after the error", s, recverr || connected ? 2000 : 300);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  revents("after SO_ERROR", s, 0);
  read_queue(s, 64, dport);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  char b[8];
  n = recv(s, b, sizeof b, MSG_DONTWAIT);
  printf("  recv: %ld %s\n", n, ename(n < 0 ? errno : 0));
  if (!recverr) {
    close(s);
    return;
  }
  /* Two errors queued: read in order, SO_ERROR taking the next one's errno, then none. */
  n = connected ? send(s, "second", 6, 0) : sendto(s, "second", 6, 0, (struct sockaddr *)&ss, len);
  printf("  send: %ld, SO_ERROR %s\n", n, ename(wait_error(s)));
  n = connected ? send(s, "third!", 6, 0) : sendto(s, "third!", 6, 0, (struct sockaddr *)&ss, len);
  printf("  send: %ld, SO_ERROR %s\n", n, ename(wait_error(s)));
  read_queue(s, 3, dport);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  read_queue(s, 64, dport);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  revents("drained", s, 0);
  /* Blocking or not, an empty queue answers EAGAIN at once. */
  read_queue(s, 64, dport);
  /* Turning the option off with an error queued. */
  n = connected ? send(s, "fourth", 6, 0) : sendto(s, "fourth", 6, 0, (struct sockaddr *)&ss, len);
  printf("  send: %ld, SO_ERROR %s\n", n, ename(wait_error(s)));
  int zero = 0;
  printf("  setsockopt off: %d\n", setsockopt(s, level, name, &zero, sizeof zero));
  revents("option off", s, 0);
  read_queue(s, 64, dport);
  close(s);
}

/* An AF_INET6 socket sending to an IPv4-mapped address: IP_RECVERR, not IPV6_RECVERR, queues
 * the ICMP error, which reads as an IPV6_RECVERR message with mapped addresses. */
static void dual_stack(void) {
  struct sockaddr_storage d4;
  unsigned short port;
  closed_dest(AF_INET, &d4, &port);
  struct sockaddr_in6 d = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
  d.sin6_addr.s6_addr[10] = d.sin6_addr.s6_addr[11] = 0xff;
  memcpy(&d.sin6_addr.s6_addr[12], &((struct sockaddr_in *)&d4)->sin_addr, 4);
  int one = 1;
  for (int opt = 0; opt < 2; opt++) {
    printf("udp6 to a mapped address, %s:\n", opt ? "IP_RECVERR" : "IPV6_RECVERR");
    int s = socket(AF_INET6, SOCK_DGRAM, 0);
    setsockopt(s, opt ? SOL_IP : SOL_IPV6, opt ? IP_RECVERR : IPV6_RECVERR, &one, sizeof one);
    printf("  send: %ld\n", (long)sendto(s, "mapped", 6, 0, (struct sockaddr *)&d, sizeof d));
    revents("after the error", s, opt ? 2000 : 300);
    read_queue(s, 64, port);
    close(s);
  }
}

static char big[65536];

static long send_to(int s, const void *p, size_t n, const struct sockaddr_storage *dst, socklen_t len) {
  long r = sendto(s, p, n, 0, (const struct sockaddr *)dst, len);
  return r < 0 ? -errno : r;
}

static void local_errors(void) {
  struct sockaddr_storage d4, d6;
  unsigned short p4, p6;
  socklen_t l4 = closed_dest(AF_INET, &d4, &p4), l6 = closed_dest(AF_INET6, &d6, &p6);
  int one = 1, dont = IP_PMTUDISC_DONT, dofrag = IP_PMTUDISC_DO;

  printf("udp4 local errors:\n");
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  /* Over IP's limit without the option: nothing queued. */
  printf("  send 65508 without RECVERR: %ld\n", send_to(s, big, 65508, &d4, l4));
  revents("after it", s, 0);
  setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof one);
  setsockopt(s, SOL_IP, IP_MTU_DISCOVER, &dont, sizeof dont);
  printf("  send 65507: %ld\n", send_to(s, big, 65507, &d4, l4) > 0 ? 65507L : -1L);
  wait_error(s);
  read_queue(s, 8, p4);
  printf("  send 65508: %ld\n", send_to(s, big, 65508, &d4, l4));
  printf("  send 65535: %ld\n", send_to(s, big, 65535, &d4, l4));
  printf("  send 65536: %ld\n", send_to(s, big, 65536, &d4, l4));
  revents("local errors queued", s, 0);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  read_queue(s, 8, p4);
  read_queue(s, 8, p4);
  read_queue(s, 8, p4);
  /* An ICMP error behind a local one becomes the pending error when the local one is read. */
  printf("  send 65508: %ld\n", send_to(s, big, 65508, &d4, l4));
  printf("  send 4: %ld, SO_ERROR %s\n", send_to(s, "late", 4, &d4, l4), ename(wait_error(s)));
  read_queue(s, 8, p4);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  read_queue(s, 8, p4);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  /* A pending ICMP error waits behind the size check; reading the ICMP error before a local one clears it. */
  send_to(s, "icmp", 4, &d4, l4);
  revents("ICMP error", s, 2000);
  printf("  send 65508: %ld\n", send_to(s, big, 65508, &d4, l4));
  read_queue(s, 8, p4);
  printf("  SO_ERROR: %s\n", ename(so_error(s)));
  read_queue(s, 8, p4);
  /* Connected, the destination port is named; IP_PMTUDISC_DO keeps sends within lo's MTU too. */
  connect(s, (struct sockaddr *)&d4, l4);
  setsockopt(s, SOL_IP, IP_MTU_DISCOVER, &dofrag, sizeof dofrag);
  printf("  connected, send 65508: %ld\n", (long)(send(s, big, 65508, 0) < 0 ? -errno : 0));
  read_queue(s, 8, p4);
  close(s);

  printf("udp6 local errors:\n");
  s = socket(AF_INET6, SOCK_DGRAM, 0);
  setsockopt(s, SOL_IPV6, IPV6_RECVERR, &one, sizeof one);
  printf("  send 65528: %ld\n", send_to(s, big, 65528, &d6, l6));
  read_queue(s, 8, p6);
  int pdo = IPV6_PMTUDISC_DO;
  setsockopt(s, SOL_IPV6, IPV6_MTU_DISCOVER, &pdo, sizeof pdo);
  printf("  IPV6_PMTUDISC_DO, send 65489: %ld\n", send_to(s, big, 65489, &d6, l6));
  read_queue(s, 8, p6);
  int pdont = IPV6_PMTUDISC_DONT;
  setsockopt(s, SOL_IPV6, IPV6_MTU_DISCOVER, &pdont, sizeof pdont);
  setsockopt(s, SOL_IPV6, IPV6_DONTFRAG, &one, sizeof one);
  printf("  IPV6_DONTFRAG, send 65489: %ld\n", send_to(s, big, 65489, &d6, l6));
  read_queue(s, 8, p6);
  read_queue(s, 8, p6);
  close(s);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  const int families[] = {AF_INET, AF_INET6};
  for (int f = 0; f < 2; f++)
    for (int recverr = 1; recverr >= 0; recverr--)
      for (int connected = 0; connected < 2; connected++) scenario(families[f], recverr, connected);
  local_errors();
  dual_stack();
  /* IP_RECVERR takes a byte, as the other SOL_IP int options; IPV6_RECVERR needs an int. */
  int s4 = socket(AF_INET, SOCK_DGRAM, 0), s6 = socket(AF_INET6, SOCK_DGRAM, 0);
  unsigned char one = 1;
  int r = setsockopt(s4, SOL_IP, IP_RECVERR, &one, 1);
  printf("IP_RECVERR as a byte: %d %s\n", r, ename(r ? errno : 0));
  r = setsockopt(s6, SOL_IPV6, IPV6_RECVERR, &one, 1);
  printf("IPV6_RECVERR as a byte: %d %s\n", r, ename(r ? errno : 0));
  int on = 1;
  r = setsockopt(s4, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
  printf("IPV6_RECVERR on AF_INET: %d %s\n", r, ename(r ? errno : 0));
  return 0;
}
