/* A listener on a port bind(2) named, with an accepted connection still on that port, shut down
 * for reading (tcp_disconnect: it stops listening but keeps its port) and asked to listen again:
 * Linux's inet_csk_listen_start takes the port again through get_port, which finds the accepted
 * connection in its bucket: EADDRINUSE without SO_REUSEADDR on both, 0 with it. Once the
 * connection is gone (closed by the peer first, so no TIME_WAIT stays on the port) it listens on
 * the same port. An automatic port is given up instead: listen picks another. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *err(int r) { return r == 0 ? "0" : strerrorname_np(errno); }

static unsigned short port_of(int s) {
  struct sockaddr_in a;
  socklen_t l = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &l);
  return ntohs(a.sin_port);
}

static void run(int reuse, int named) {
  printf("-- SO_REUSEADDR %d, %s port\n", reuse, named ? "named" : "automatic");
  int l = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (named) {
    /* A port found free first, then named. */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    bind(probe, (struct sockaddr *)&a, sizeof a);
    a.sin_port = htons(port_of(probe));
    close(probe);
    if (bind(l, (struct sockaddr *)&a, sizeof a)) perror("bind");
  }
  if (listen(l, 4)) perror("listen");
  unsigned short p = port_of(l);
  a.sin_port = htons(p);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&a, sizeof a)) perror("connect");
  int s = accept(l, NULL, NULL);
  printf("shutdown(SHUT_RD): %s\n", err(shutdown(l, SHUT_RD)));
  int r = listen(l, 4);
  printf("listen again with the connection open: %s, %s port\n", err(r), port_of(l) == p ? "same" : "another");
  if (r == 0) printf("shutdown again: %s\n", err(shutdown(l, SHUT_RD)));
  /* The peer closes first: its side waits in TIME_WAIT, on its own port. */
  close(c);
  char b;
  struct pollfd pf = {.fd = s, .events = POLLIN};
  poll(&pf, 1, 1000);
  printf("read on the accepted end: %zd\n", read(s, &b, 1));
  close(s);
  usleep(100000);
  r = listen(l, 4);
  printf("listen again after it closed: %s, %s port\n", err(r), port_of(l) == p ? "same" : "another");
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  run(0, 1);
  run(1, 1);
  run(0, 0);
  return 0;
}
