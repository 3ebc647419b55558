/* The SO_BINDTODEVICE matrix shared by netstack's bind-device-diff.test-util.c and runtime's
 * testdata/sock-bind-device.c, run in a network namespace (or a sandbox) with `lo` and `eth0`:
 * which datagrams and connections reach a server bound to each device from a client bound to
 * each device, to 127.0.0.1 and to eth0's address; which second bind of a port succeeds; an
 * index no device has. The includer defines SA(x), WAIT and res(), which decide how results
 * are printed (each side prints them as its twin does). */
#ifndef BIND_DEVICE_TEST_UTIL_H
#define BIND_DEVICE_TEST_UTIL_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *DEVS[] = {"", "lo", "eth0"};

static void bdev(int fd, const char *d) {
  if (*d) setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, d, strlen(d));
}

/* host-diff.test-util.h has the same sa(); the runtime's program does not include that one. */
#ifndef TEST_UTIL_SA
#define TEST_UTIL_SA
static struct sockaddr_in sa(const char *ip, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}
#endif

/* Prints the matrix; `ips` are the destinations (127.0.0.1, eth0's address) and `shown` how
 * each is printed. */
static void bind_device_matrix(const char *const ips[2], const char *const shown[2]) {
  int port = 4000;
  for (int sd = 0; sd < 3; sd++)
    for (int cd = 0; cd < 3; cd++)
      for (int ip = 0; ip < 2; ip++) {
        port++;
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        bdev(s, DEVS[sd]);
        struct sockaddr_in a = sa("0.0.0.0", port);
        bind(s, SA(a), sizeof a);
        int c = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        bdev(c, DEVS[cd]);
        struct sockaddr_in d = sa(ips[ip], port);
        printf("udp srv=%s cli=%s dst=%s: send %s", DEVS[sd], DEVS[cd], shown[ip], res(sendto(c, "x", 1, 0, SA(d), sizeof d)));
        WAIT;
        char b[8];
        printf(" recv %s\n", res(recv(s, b, sizeof b, 0)));
        close(s);
        close(c);
      }
  for (int sd = 0; sd < 3; sd++)
    for (int cd = 0; cd < 3; cd++)
      for (int ip = 0; ip < 2; ip++) {
        port++;
        int l = socket(AF_INET, SOCK_STREAM, 0);
        bdev(l, DEVS[sd]);
        struct sockaddr_in a = sa("0.0.0.0", port);
        bind(l, SA(a), sizeof a);
        listen(l, 4);
        int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        bdev(c, DEVS[cd]);
        struct sockaddr_in d = sa(ips[ip], port);
        printf("tcp srv=%s cli=%s dst=%s: connect %s", DEVS[sd], DEVS[cd], shown[ip], res(connect(c, SA(d), sizeof d)));
        struct pollfd p = {c, POLLOUT, 0};
        poll(&p, 1, 300);
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
        printf(" then %s\n", err ? strerrorname_np(err) : p.revents & POLLOUT ? "ok" : "pending");
        close(l);
        close(c);
      }
  for (int t = 0; t < 2; t++)
    for (int x = 0; x < 3; x++)
      for (int y = 0; y < 3; y++)
        for (int ra = 0; ra < 2; ra++) {
          port++;
          int ty = t ? SOCK_STREAM : SOCK_DGRAM, one = 1;
          int a1 = socket(AF_INET, ty, 0), a2 = socket(AF_INET, ty, 0);
          if (ra) {
            setsockopt(a1, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            setsockopt(a2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
          }
          bdev(a1, DEVS[x]);
          bdev(a2, DEVS[y]);
          struct sockaddr_in a = sa("0.0.0.0", port);
          bind(a1, SA(a), sizeof a);
          if (t) listen(a1, 1);
          printf("%s bind %s then %s reuse %d: %s\n", t ? "tcp" : "udp", DEVS[x], DEVS[y], ra, res(bind(a2, SA(a), sizeof a)));
          close(a1);
          close(a2);
        }
  /* SO_BINDTOIFINDEX takes an index no device has; routing through it is ENODEV. */
  int fd = socket(AF_INET, SOCK_DGRAM, 0), idx = 77;
  printf("udp bindtoifindex 77: %s", res(setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &idx, sizeof idx)));
  struct sockaddr_in d = sa("127.0.0.1", 9);
  printf(" sendto %s", res(sendto(fd, "x", 1, 0, SA(d), sizeof d)));
  printf(" connect %s\n", res(connect(fd, SA(d), sizeof d)));
  int t = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(t, SOL_SOCKET, SO_BINDTOIFINDEX, &idx, sizeof idx);
  printf("tcp bindtoifindex 77: connect %s\n", res(connect(t, SA(d), sizeof d)));
}
#endif
