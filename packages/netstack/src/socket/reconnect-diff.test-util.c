// Connecting again after a failed connect, on the host kernel (inside a fresh network namespace):
// refused (RST to the SYN), timed out (TCP_USER_TIMEOUT on a black-holed peer), reset after
// establishment, with SO_ERROR read or not, blocking or not, bound or not. One line per call.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "host-diff.test-util.h"

static void pollmask(const char *what, int fd) {
  struct pollfd p = {fd, REQ, 0};
  poll(&p, 1, 0);
  printf("%s %x\n", what, p.revents);
}
static void soerror(const char *what, int fd) {
  int v = 0;
  socklen_t l = sizeof v;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &l);
  printf("%s %s\n", what, v ? strerrorname_np(v) : "0");
}
static void conn(const char *what, int fd, struct sockaddr_in a) {
  printf("%s %s\n", what, res(connect(fd, SA(a), sizeof a)));
}
// Data both ways over an accepted connection: proves the reconnected socket works.
static void exchange(const char *what, int c, int l) {
  char buf[16] = {0};
  int a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
  printf("%s accept %s\n", what, a >= 0 ? "ok" : res(a));
  printf("%s send %s\n", what, res(send(c, "ping", 4, MSG_NOSIGNAL)));
  WAIT;
  long n = recv(a, buf, sizeof buf, 0);
  printf("%s server recv %s %.4s\n", what, res(n), n > 0 ? buf : "");
  close(a);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sockaddr_in p1 = sa("127.0.0.1", 7001);

  // 1. Non-blocking, refused; SO_ERROR read; connect again twice; then a listener appears.
  {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    conn("A connect", s, p1);
    WAIT;
    pollmask("A poll", s);
    name("A name", s, 0);
    name("A peer", s, 1);
    soerror("A so_error", s);
    soerror("A so_error again", s);
    name("A name after so_error", s, 0);
    conn("A connect 2", s, p1);
    name("A name after connect 2", s, 0);
    pollmask("A poll after connect 2", s);
    struct sockaddr_in any0 = sa("127.0.0.1", 0);
    printf("A bind after disconnect %s\n", res(bind(s, SA(any0), sizeof any0)));
    name("A name after bind", s, 0);
    conn("A connect 3", s, p1);
    WAIT;
    soerror("A so_error 3", s);
    conn("A connect 4", s, p1);
    int l = tcp_listener(7001);
    conn("A connect 5", s, p1);
    WAIT;
    pollmask("A poll 5", s);
    soerror("A so_error 5", s);
    name("A name 5", s, 0);
    name("A peer 5", s, 1);
    conn("A connect 6", s, p1);
    conn("A connect 7", s, p1);
    exchange("A", s, l);
    close(s);
    close(l);
    WAIT;
  }
  // 2. Non-blocking, refused; SO_ERROR not read: the next connect reports the error.
  {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    conn("B connect", s, p1);
    WAIT;
    conn("B connect 2", s, p1);
    soerror("B so_error", s);
    name("B name", s, 0);
    int l = tcp_listener(7001);
    conn("B connect 3", s, p1);
    WAIT;
    soerror("B so_error 3", s);
    exchange("B", s, l);
    close(s);
    close(l);
    WAIT;
  }
  // 3. Blocking: connect fails at once with the error, then works against a listener.
  {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    conn("C connect", s, p1);
    soerror("C so_error", s);
    name("C name", s, 0);
    name("C peer", s, 1);
    conn("C connect 2", s, p1);
    int l = tcp_listener(7001);
    conn("C connect 3", s, p1);
    name("C name 3", s, 0);
    name("C peer 3", s, 1);
    conn("C connect 4", s, p1);
    exchange("C", s, l);
    close(s);
    close(l);
    WAIT;
  }
  // 4. Explicitly bound: the port stays after the failure and is used again.
  {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in me = sa("127.0.0.1", 7100);
    printf("D bind %s\n", res(bind(s, SA(me), sizeof me)));
    conn("D connect", s, p1);
    WAIT;
    soerror("D so_error", s);
    name("D name", s, 0);
    conn("D connect 2", s, p1);
    name("D name 2", s, 0);
    int l = tcp_listener(7001);
    conn("D connect 3", s, p1);
    WAIT;
    soerror("D so_error 3", s);
    name("D name 3", s, 0);
    exchange("D", s, l);
    close(s);
    close(l);
    WAIT;
  }
  // 5. Bound to a port only (address 0.0.0.0): the address is reset, the port kept.
  {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in me = sa("0.0.0.0", 7101);
    printf("E bind %s\n", res(bind(s, SA(me), sizeof me)));
    conn("E connect", s, p1);
    WAIT;
    name("E name", s, 0);
    soerror("E so_error", s);
    conn("E connect 2", s, p1);
    name("E name 2", s, 0);
    close(s);
  }
  // 6. Established and connect() called again (0: the socket layer now says connected), then
  // reset by the peer: EISCONN until an AF_UNSPEC connect disconnects.
  {
    int l = tcp_listener(7001);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    conn("F connect", s, p1);
    WAIT;
    conn("F connect 2", s, p1);
    int a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    struct linger lg = {1, 0};
    setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(a);
    WAIT;
    pollmask("F poll", s);
    conn("F connect after rst", s, p1);
    soerror("F so_error", s);
    conn("F connect after so_error", s, p1);
    printf("F listen %s\n", res(listen(s, 1)));
    name("F name", s, 0);
    name("F peer", s, 1);
    struct sockaddr un = {0};
    un.sa_family = AF_UNSPEC;
    printf("F connect unspec %s\n", res(connect(s, &un, sizeof un)));
    name("F name after unspec", s, 0);
    name("F peer after unspec", s, 1);
    pollmask("F poll after unspec", s);
    soerror("F so_error after unspec", s);
    conn("F connect again", s, p1);
    WAIT;
    soerror("F so_error again", s);
    exchange("F", s, l);
    close(s);
    close(l);
    WAIT;
  }
  // 7. Established without a second connect() (the socket layer still says connecting), then
  // reset: the next connect reports ECONNRESET, the one after starts a new connection.
  {
    int l = tcp_listener(7001);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    conn("G connect", s, p1);
    WAIT;
    int a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    struct linger lg = {1, 0};
    setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(a);
    WAIT;
    pollmask("G poll", s);
    conn("G connect after rst", s, p1);
    name("G name", s, 0);
    pollmask("G poll after connect", s);
    conn("G connect again", s, p1);
    WAIT;
    soerror("G so_error again", s);
    exchange("G", s, l);
    close(s);
    close(l);
    WAIT;
  }
  // 8. Timed out: a listener whose accept queue is full drops the SYN; TCP_USER_TIMEOUT ends
  // the attempt with ETIMEDOUT. Accepting frees the queue and the next connect works.
  {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in p2 = sa("127.0.0.1", 7002);
    bind(l, SA(p2), sizeof p2);
    listen(l, 0);
    int filler = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    conn("H filler", filler, p2);
    WAIT;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    unsigned int ut = 300;
    setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut);
    conn("H connect", s, p2);
    usleep(100000);
    pollmask("H poll connecting", s);
    usleep(1400000);
    pollmask("H poll", s);
    soerror("H so_error", s);
    name("H name", s, 0);
    conn("H connect 2", s, p2);
    int f = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    printf("H accept filler %s\n", f >= 0 ? "ok" : res(f));
    close(f);
    close(filler);
    conn("H connect 3", s, p2);
    WAIT;
    soerror("H so_error 3", s);
    exchange("H", s, l);
    close(s);
    close(l);
  }
  // 9. AF_UNSPEC on a live connection: the peer is reset, the socket can connect again.
  {
    int l = tcp_listener(7001);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    conn("I connect", s, p1);
    WAIT;
    conn("I connect 2", s, p1);
    int a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    struct sockaddr un = {0};
    un.sa_family = AF_UNSPEC;
    printf("I connect unspec %s\n", res(connect(s, &un, sizeof un)));
    pollmask("I poll", s);
    soerror("I so_error", s);
    name("I name", s, 0);
    WAIT;
    char buf[8];
    printf("I server recv %s\n", res(recv(a, buf, sizeof buf, 0)));
    close(a);
    conn("I connect again", s, p1);
    WAIT;
    soerror("I so_error again", s);
    exchange("I", s, l);
    close(s);
    close(l);
  }
  return 0;
}
