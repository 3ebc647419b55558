/* UDP-Lite (RFC 3828) sockets over loopback: IPPROTO_UDPLITE, the coverage options, datagrams
 * with partial coverage, and a receiver that requires more coverage than a datagram has. Run
 * natively, the output is what sys-socket-udplite.test.ts expects of tsvisor. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11

static const char *res(long r) {
  static char b[32];
  if (r < 0) return strerrorname_np(errno);
  snprintf(b, sizeof b, "%ld", r);
  return b;
}
static int get(int fd, int level, int name) {
  int v = -1;
  socklen_t l = sizeof v;
  return getsockopt(fd, level, name, &v, &l) < 0 ? -errno : v;
}

int main(void) {
  int a = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDPLITE);
  int b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDPLITE);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  printf("socket: %s\n", a >= 0 ? "ok" : strerrorname_np(errno));
  printf("protocol: %d\n", get(a, SOL_SOCKET, SO_PROTOCOL));
  int v = 3;
  printf("send cscov 3: %s", res(setsockopt(a, IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, &v, 4)));
  printf(" -> %d\n", get(a, IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV));
  v = 100000;
  printf("recv cscov big: %s", res(setsockopt(b, IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, &v, 4)));
  printf(" -> %d\n", get(b, IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV));
  printf("recv cscov via SOL_UDP: %d\n", get(b, IPPROTO_UDP, UDPLITE_RECV_CSCOV));
  /* RECV_CSCOV set to 0 takes only fully covered datagrams. */
  v = 0;
  setsockopt(b, IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, &v, 4);
  printf("udp set cscov: %s\n", res(setsockopt(u, IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, &v, 4)));
  printf("udp get cscov: %d\n", get(u, IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV));
  printf("udp get via SOL_UDP: %d\n", get(a, IPPROTO_UDP, UDPLITE_SEND_CSCOV));

  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t sl = sizeof sa;
  bind(b, (void *)&sa, sizeof sa);
  getsockname(b, (void *)&sa, &sl);
  char buf[100];
  printf("send: %s\n", res(sendto(a, "hello udplite", 13, 0, (void *)&sa, sizeof sa)));
  usleep(10000);
  long n = recv(b, buf, sizeof buf, 0);
  printf("recv partial with cscov 0: %s\n", res(n));
  /* A receiver that never set the option takes it. */
  int c = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDPLITE);
  struct sockaddr_in ca = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t cl = sizeof ca;
  bind(c, (void *)&ca, sizeof ca);
  getsockname(c, (void *)&ca, &cl);
  sendto(a, "hello udplite", 13, 0, (void *)&ca, sizeof ca);
  usleep(10000);
  n = recv(c, buf, sizeof buf, 0);
  printf("recv partial: %s %.*s\n", res(n), n > 0 ? (int)n : 0, buf);
  /* A plain UDP socket on the same port number does not see UDP-Lite traffic. */
  struct sockaddr_in ua = sa;
  printf("udp bind same port: %s\n", res(bind(u, (void *)&ua, sizeof ua)));
  /* A receiver that needs 20 covered bytes drops a datagram covered by 8 (the header). */
  v = 20;
  setsockopt(b, IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, &v, 4);
  sendto(a, "partially covered", 17, 0, (void *)&sa, sizeof sa);
  usleep(10000);
  printf("recv under-covered: %s\n", res(recv(b, buf, sizeof buf, 0)));
  v = 0;
  setsockopt(a, IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, &v, 4);
  sendto(a, "fully covered", 13, 0, (void *)&sa, sizeof sa);
  usleep(10000);
  n = recv(b, buf, sizeof buf, 0);
  printf("recv covered: %s %.*s\n", res(n), n > 0 ? (int)n : 0, buf);
  return 0;
}
