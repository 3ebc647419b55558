/* SO_REUSEPORT on TCP and UDP: sockets that all set it share a port, one that does not is
 * refused, and the option reads back. Run natively, the output is what
 * sys-socket-reuseport.test.ts expects of tsvisor. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *res(int r) { return r >= 0 ? "ok" : strerrorname_np(errno); }

static void run(int type, const char *name) {
  int one = 1, v = 0;
  socklen_t vl = sizeof v;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  int s1 = socket(AF_INET, type, 0), s2 = socket(AF_INET, type, 0), s3 = socket(AF_INET, type, 0);
  printf("%s set: %s\n", name, res(setsockopt(s1, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)));
  getsockopt(s1, SOL_SOCKET, SO_REUSEPORT, &v, &vl);
  printf("%s get: %d\n", name, v);
  setsockopt(s2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  bind(s1, (void *)&a, sizeof a);
  getsockname(s1, (void *)&a, &al);
  if (type == SOCK_STREAM) printf("%s listen first: %s\n", name, res(listen(s1, 1)));
  printf("%s second bind: %s\n", name, res(bind(s2, (void *)&a, sizeof a)));
  if (type == SOCK_STREAM) printf("%s listen second: %s\n", name, res(listen(s2, 1)));
  printf("%s bind without the option: %s\n", name, res(bind(s3, (void *)&a, sizeof a)));
  close(s1);
  close(s2);
  close(s3);
}

int main(void) {
  run(SOCK_STREAM, "tcp");
  run(SOCK_DGRAM, "udp");
  return 0;
}
