/* SO_PEEK_OFF on TCP, UDP and unix stream sockets, natively and under tsvisor
 * (sock-peek-off.test.ts): -1 (the default) peeks from the front; an offset >= 0 makes MSG_PEEK
 * start there and move on by what it copied, and a read moves it back by what it consumed (never
 * below 0); a blocking peek past the queued bytes waits for more. On UDP the offset runs across
 * the queued datagrams (__skb_try_recv_from_queue skips whole ones). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock-util.h"

static int fd_;

static void getoff(void) {
  int v = -99;
  socklen_t len = sizeof v;
  long r = getsockopt(fd_, SOL_SOCKET, SO_PEEK_OFF, &v, &len);
  if (r < 0) printf(" off=%s", res(r));
  else printf(" off=%d", v);
}

static void setoff(int v) {
  printf("set %d: %s", v, res(setsockopt(fd_, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof v)));
  getoff();
  printf("\n");
}

/* recv of up to `n` bytes with `flags` (MSG_DONTWAIT added): what came, the flags, the offset. */
static void rx(const char *what, int n, int flags) {
  char buf[64];
  struct iovec iov = {buf, (size_t)n};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  long r = recvmsg(fd_, &m, flags | MSG_DONTWAIT);
  printf("%s %d: %s", what, n, res(r));
  if (r > 0) printf(" \"%.*s\"", (int)(r < n ? r : n), buf);
  if (r >= 0 && m.msg_flags & MSG_TRUNC) printf(" TRUNC");
  getoff();
  printf("\n");
}

static int pollin(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void tcp(void) {
  int c, s, l;
  tcp_pair(&c, &s, &l);
  fd_ = s;
  printf("tcp:");
  getoff();
  printf("\n");
  send(c, "abcdefghij", 10, 0);
  usleep(20000);
  rx("peek", 3, MSG_PEEK);
  setoff(0);
  rx("peek", 3, MSG_PEEK);
  rx("peek", 3, MSG_PEEK);
  rx("recv", 2, 0);
  rx("peek", 3, MSG_PEEK);
  rx("peek", 10, MSG_PEEK);
  rx("peek", 10, MSG_PEEK);
  printf("pollin with the offset at the end: %d\n", pollin(s));
  send(c, "KLM", 3, 0);
  usleep(20000);
  rx("peek", 10, MSG_PEEK);
  rx("recv", 100, 0);
  rx("recv", 100, 0);
  send(c, "nopq", 4, 0);
  usleep(20000);
  setoff(2);
  rx("peek", 10, MSG_PEEK);
  rx("recv", 1, 0);
  setoff(-1);
  rx("peek", 10, MSG_PEEK);
  setoff(-5);
  rx("peek", 2, MSG_PEEK);
  setoff(100);
  rx("peek", 2, MSG_PEEK);
  rx("recv", 2, 0);
  /* A blocking peek with the offset at the end waits for more bytes, though POLLIN is set. */
  setoff(1);
  rx("peek", 10, MSG_PEEK);
  if (fork() == 0) {
    usleep(50000);
    send(c, "Z", 1, 0);
    _exit(0);
  }
  {
    char buf[8];
    double t0 = now();
    long r = recv(s, buf, sizeof buf, MSG_PEEK);
    printf("blocking peek at the end: %s \"%.*s\" after more than 0.04s: %s", res(r), r > 0 ? (int)r : 0, buf,
           now() - t0 > 0.04 ? "yes" : "no");
    getoff();
    printf("\n");
    wait(NULL);
  }
  close(c);
  close(s);
  close(l);
  /* A listener's offset is accepted sockets' too. */
  int v = 3;
  tcp_pair(&c, &s, &l);
  setsockopt(l, SOL_SOCKET, SO_PEEK_OFF, &v, sizeof v);
  int c2 = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  getsockname(l, (void *)&a, &al);
  connect(c2, (void *)&a, sizeof a);
  fd_ = accept(l, 0, 0);
  printf("accepted from a listener with 3:");
  getoff();
  printf("\n");
  close(fd_);
  close(c2);
  close(c);
  close(s);
  close(l);
}

static void udp(void) {
  int a, b;
  udp_pair(AF_INET, &a, &b);
  fd_ = b;
  printf("udp:");
  getoff();
  printf("\n");
  send(a, "12345", 5, 0);
  send(a, "abcdefgh", 8, 0);
  send(a, "XY", 2, 0);
  usleep(20000);
  setoff(0);
  rx("peek", 3, MSG_PEEK);
  rx("peek", 10, MSG_PEEK);
  rx("peek", 10, MSG_PEEK);
  rx("peek", 4, MSG_PEEK);
  rx("peek", 4, MSG_PEEK);
  printf("pollin with the offset past the queue: %d\n", pollin(b));
  rx("recv", 100, 0);
  rx("recv", 3, 0);
  rx("peek", 4, MSG_PEEK);
  setoff(0);
  rx("peek", 1, MSG_PEEK);
  rx("peek", 1, MSG_PEEK | MSG_TRUNC);
  rx("peek", 1, MSG_PEEK);
  send(a, "", 0, 0);
  send(a, "st", 2, 0);
  usleep(20000);
  setoff(2);
  rx("peek", 10, MSG_PEEK);
  rx("peek", 10, MSG_PEEK);
  rx("peek", 10, MSG_PEEK);
  setoff(0);
  rx("peek", 10, MSG_PEEK);
  rx("peek", 10, MSG_PEEK);
  rx("peek", 10, MSG_PEEK);
  rx("recv", 10, MSG_TRUNC);
  rx("recv", 10, 0);
  rx("recv", 10, 0);
  rx("recv", 10, 0);
  setoff(-1);
  close(a);
  close(b);
}

/* A unix stream socket: read(2) consumes from the front whatever SO_PEEK_OFF says (under tsvisor
 * its read peeked at the offset first: "cde" for "abc"). */
static void unix_stream(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return;
  char buf[16];
  int off = 0;
  socklen_t len = sizeof off;
  write(sv[1], "abcdef", 6);
  setsockopt(sv[0], SOL_SOCKET, SO_PEEK_OFF, &off, sizeof off);
  long n = recv(sv[0], buf, 2, MSG_PEEK);
  getsockopt(sv[0], SOL_SOCKET, SO_PEEK_OFF, &off, &len);
  printf("unix peek 2: %ld \"%.*s\" off=%d\n", n, (int)n, buf, off);
  n = read(sv[0], buf, 3);
  getsockopt(sv[0], SOL_SOCKET, SO_PEEK_OFF, &off, &len);
  printf("unix read 3: %ld \"%.*s\" off=%d\n", n, (int)n, buf, off);
  n = recv(sv[0], buf, sizeof buf, MSG_PEEK);
  printf("unix peek: %ld \"%.*s\"\n", n, (int)n, buf);
  close(sv[0]);
  close(sv[1]);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  tcp();
  udp();
  unix_stream();
  return 0;
}
