/* The rest of Linux's local port rules. net.ipv4.ip_local_reserved_ports: a list of ports that
 * every ephemeral search skips (TCP's bind(2) of port 0 and listen(2)'s autobind, a TCP
 * connect(2)'s search, UDP's autobind) while an explicit bind(2) still takes them; written and
 * read back as proc_do_large_bitmap does. net.ipv4.ip_autobind_reuse: with 1, TCP's bind(2) of
 * port 0 may share a port whose holders all set SO_REUSEADDR, once no free port is left. And a
 * port bound to another specific address is free for bind(2) of port 0 (no conflict), while a
 * TCP connect(2) never takes a port that bind(2) made. Searches start at random, so what prints is
 * the set of ports each kind of socket got, sorted, and the errno that ended it. Run as root in a
 * fresh network namespace with lo up. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

#define MAX 16
/* A port outside every range below: the listener connect(2) goes to. */
#define SERVER_PORT 5000
#define RESERVED "/proc/sys/net/ipv4/ip_local_reserved_ports"
#define AUTOBIND_REUSE "/proc/sys/net/ipv4/ip_autobind_reuse"

static struct sockaddr_in addr(const char *ip, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

/* Writes `len` bytes of `text` to sysctl `path` in one write(2); "ok" or the errno. */
static const char *put(const char *path, const char *text, size_t len) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return strerrorname_np(errno);
  ssize_t n = write(fd, text, len);
  int err = errno;
  close(fd);
  return n < 0 ? strerrorname_np(err) : "ok";
}

/* The sysctl's text, newlines shown as \n. */
static void show(const char *path) {
  char buf[256];
  int fd = open(path, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n < 0) {
    printf("read: %s\n", strerrorname_np(errno));
    return;
  }
  buf[n] = 0;
  printf("'");
  for (char *c = buf; *c; c++)
    if (*c == '\n') printf("\\n");
    else putchar(*c);
  printf("'\n");
}

/* A write to ip_local_reserved_ports (its text shown with \n for newlines) and the read-back. */
static void reserve(const char *text) {
  printf("write '");
  for (const char *c = text; *c; c++)
    if (*c == '\n') printf("\\n");
    else putchar(*c);
  printf("': %s, now ", put(RESERVED, text, strlen(text)));
  show(RESERVED);
}

static void set_range(const char *text) {
  printf("ip_local_port_range %s: %s\n", text, put("/proc/sys/net/ipv4/ip_local_port_range", text, strlen(text)));
}

static void autobind_reuse(const char *text) {
  printf("ip_autobind_reuse %s: %s, now ", text, put(AUTOBIND_REUSE, text, strlen(text)));
  show(AUTOBIND_REUSE);
}

enum how { BIND, LISTEN, CONNECT, UDP_BIND, UDP_CONNECT };

/* A socket (UDP for UDP_*) with SO_REUSEADDR `reuse`, and SO_REUSEPORT `reuseport`. */
static int sock(enum how how, int reuse, int reuseport) {
  int fd = socket(AF_INET, how == UDP_BIND || how == UDP_CONNECT ? SOCK_DGRAM : SOCK_STREAM, 0);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &reuseport, sizeof reuseport);
  return fd;
}

/* Socket `fd` takes a port as `how` says, bind(2)s naming address `ip`; the port or -errno. */
static int take(int fd, enum how how, const char *ip) {
  struct sockaddr_in local = addr(ip, 0), server = addr("127.0.0.1", SERVER_PORT);
  int r;
  switch (how) {
  case BIND:
  case UDP_BIND:
    r = bind(fd, (struct sockaddr *)&local, sizeof local);
    break;
  case LISTEN:
    r = listen(fd, 1);
    break;
  default:
    r = connect(fd, (struct sockaddr *)&server, sizeof server);
  }
  return r < 0 ? -errno : port_of(fd);
}

/* Closes with a reset, so a connection leaves no FIN_WAIT or TIME_WAIT holding its port. */
static void drop(int fd) {
  struct linger l = {.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

static int by_value(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

/* Sockets take a port each until one fails: the ports, sorted, then that socket's errno. */
static void fill(const char *what, enum how how) {
  int fds[MAX], ports[MAX], k = 0, err = 0;
  for (; k < MAX; k++) {
    fds[k] = sock(how, 0, 0);
    int p = take(fds[k], how, "127.0.0.1");
    if (p < 0) {
      err = -p;
      close(fds[k]);
      break;
    }
    ports[k] = p;
  }
  qsort(ports, k, sizeof ports[0], by_value);
  printf("%s:", what);
  for (int i = 0; i < k; i++) printf(" %d", ports[i]);
  printf(" %s\n", err ? strerrorname_np(err) : "(no error)");
  for (int i = 0; i < k; i++) drop(fds[i]);
}

/* IPv6 sockets (TCP, or UDP with `udp`) bind(2) [::1]:0 until one fails: the ports, sorted, then
 * that errno. */
static void fill6(const char *what, int udp) {
  int fds[MAX], ports[MAX], k = 0, err = 0;
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  for (; k < MAX; k++) {
    fds[k] = socket(AF_INET6, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    socklen_t len = sizeof a;
    if (bind(fds[k], (struct sockaddr *)&a, sizeof a)) {
      err = errno;
      close(fds[k]);
      break;
    }
    struct sockaddr_in6 got;
    getsockname(fds[k], (struct sockaddr *)&got, &len);
    ports[k] = ntohs(got.sin6_port);
  }
  qsort(ports, k, sizeof ports[0], by_value);
  printf("%s:", what);
  for (int i = 0; i < k; i++) printf(" %d", ports[i]);
  printf(" %s\n", err ? strerrorname_np(err) : "(no error)");
  for (int i = 0; i < k; i++) close(fds[i]);
}

/* One socket's outcome, printed: the port or the errno. */
static void one(const char *what, int fd, enum how how, const char *ip) {
  int p = take(fd, how, ip);
  if (p < 0) printf("%s: %s\n", what, strerrorname_np(-p));
  else printf("%s: %d\n", what, p);
}

/* An explicit bind(2) of `port` on 127.0.0.1. */
static void bind_to(const char *what, enum how how, int port) {
  int fd = sock(how, 0, 0);
  struct sockaddr_in a = addr("127.0.0.1", port);
  printf("%s: %s\n", what, bind(fd, (struct sockaddr *)&a, sizeof a) ? strerrorname_np(errno) : "ok");
  close(fd);
}

/* Two sockets on a one-port range: the first bind(2)s port 0 (and listens if `listening`), then
 * the second takes a port as `how` says, each with the SO_REUSEADDR and SO_REUSEPORT given. */
static void pair(const char *what, enum how how, int reuse1, int reuseport1, int listening, int reuse2,
                 int reuseport2) {
  int a = sock(how, reuse1, reuseport1), b = sock(how, reuse2, reuseport2);
  int p = take(a, how == UDP_BIND ? UDP_BIND : BIND, "127.0.0.1");
  if (listening && p > 0 && listen(a, 1)) p = -errno;
  int q = take(b, how, "127.0.0.1");
  printf("%s: first %d, second ", what, p);
  if (q < 0) printf("%s\n", strerrorname_np(-q));
  else printf("%d\n", q);
  close(a);
  close(b);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int server = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = addr("127.0.0.1", SERVER_PORT);
  if (bind(server, (struct sockaddr *)&sa, sizeof sa) || listen(server, MAX * 4)) perror("server");

  printf("-- ip_local_reserved_ports: parsing and read-back\n");
  show(RESERVED);
  /* Ranges merge and collapse, in order, whatever order they came in. */
  reserve("9000-9010,8080");
  reserve("5,4,3,2,1,7");
  reserve("3-5,4-8,10,11,12");
  reserve("0,65535");
  reserve("0x1f90,010");
  reserve("8080\n9000\n");
  reserve("100,\n\n");
  /* An empty list (just a newline) clears it. */
  reserve("\n");
  reserve("1000");
  /* Malformed lists change nothing. */
  reserve("65536");
  reserve("10-5");
  reserve("1-");
  reserve("1-2-3");
  reserve("8080,,9000");
  reserve(",8080");
  reserve(" 8080");
  reserve("8080 ");
  reserve("-5");
  reserve("08");
  reserve("+8");
  reserve("abc");
  reserve("1-65536");
  /* A number of 21 characters or more is refused even when its value fits. */
  reserve("000000000000000000007");
  reserve("00000000000000000007");
  /* Two writes through one open file add up (proc_do_large_bitmap ORs a write past offset 0). */
  int fd = open(RESERVED, O_WRONLY);
  printf("two writes: %s", write(fd, "7000", 4) == 4 ? "ok" : strerrorname_np(errno));
  printf(" %s, now ", write(fd, "7002-7003", 9) == 9 ? "ok" : strerrorname_np(errno));
  close(fd);
  show(RESERVED);

  printf("-- ip_autobind_reuse\n");
  show(AUTOBIND_REUSE);
  autobind_reuse("2");
  autobind_reuse("-1");
  autobind_reuse("1");
  autobind_reuse("0");

  printf("-- reserved ports in a small range\n");
  set_range("40000 40009");
  reserve("40001,40003-40005,40008,50000");
  fill("tcp bind 0", BIND);
  fill("tcp listen", LISTEN);
  fill("tcp connect", CONNECT);
  fill("udp bind 0", UDP_BIND);
  fill("udp connect", UDP_CONNECT);
  /* The list is net.ipv4's, but IPv6 searches read it too. */
  fill6("tcp6 bind 0", 0);
  fill6("udp6 bind 0", 1);
  /* Only searches skip them. */
  bind_to("tcp bind 40001", BIND, 40001);
  bind_to("udp bind 40004", UDP_BIND, 40004);
  /* A reserved range covering the whole of ip_local_port_range leaves no ephemeral port. */
  reserve("39000-41000");
  fill("tcp bind 0", BIND);
  fill("tcp connect", CONNECT);
  fill("udp bind 0", UDP_BIND);
  reserve("\n");

  printf("-- ip_autobind_reuse on a one-port range\n");
  set_range("40000 40000");
  pair("tcp SO_REUSEADDR both, reuse 0", BIND, 1, 0, 0, 1, 0);
  autobind_reuse("1");
  pair("tcp SO_REUSEADDR both, reuse 1", BIND, 1, 0, 0, 1, 0);
  pair("tcp SO_REUSEADDR first only", BIND, 1, 0, 0, 0, 0);
  pair("tcp SO_REUSEADDR second only", BIND, 0, 0, 0, 1, 0);
  pair("tcp SO_REUSEADDR both, first listening", BIND, 1, 0, 1, 1, 0);
  pair("tcp SO_REUSEADDR and SO_REUSEPORT both", BIND, 1, 1, 0, 1, 1);
  pair("tcp SO_REUSEADDR both, SO_REUSEPORT first only", BIND, 1, 1, 0, 1, 0);
  pair("tcp SO_REUSEPORT both", BIND, 0, 1, 0, 0, 1);
  /* The second listens (autobind) while the first is bound only. */
  pair("tcp SO_REUSEADDR both, second listens", LISTEN, 1, 0, 0, 1, 0);
  autobind_reuse("0");
  pair("tcp SO_REUSEADDR both, second listens, reuse 0", LISTEN, 1, 0, 0, 1, 0);
  /* UDP's autobind shares what an explicit bind(2) may share, whatever ip_autobind_reuse says. */
  pair("udp SO_REUSEADDR both", UDP_BIND, 1, 0, 0, 1, 0);
  pair("udp SO_REUSEADDR first only", UDP_BIND, 1, 0, 0, 0, 0);
  pair("udp SO_REUSEPORT both", UDP_BIND, 0, 1, 0, 0, 1);

  printf("-- a port held on another specific address\n");
  for (int udp = 0; udp <= 1; udp++) {
    enum how how = udp ? UDP_BIND : BIND;
    printf("%s:\n", udp ? "udp" : "tcp");
    int a = sock(how, 0, 0), b = sock(how, 0, 0), c = sock(how, 0, 0), d = sock(how, 0, 0);
    one("  bind 127.0.0.2:0", a, how, "127.0.0.2");
    one("  bind 127.0.0.1:0", b, how, "127.0.0.1");
    one("  bind 127.0.0.3:0", c, how, "127.0.0.3");
    one("  bind 0.0.0.0:0", d, how, "0.0.0.0");
    close(a);
    close(b);
    close(c);
    close(d);
  }
  /* A wildcard holder conflicts with every address. */
  int w = sock(BIND, 0, 0), s = sock(BIND, 0, 0);
  one("tcp bind 0.0.0.0:0", w, BIND, "0.0.0.0");
  one("tcp bind 127.0.0.2:0", s, BIND, "127.0.0.2");
  close(w);
  close(s);
  /* Not only when the range is full: bind(2) of port 0 tries the odd offsets first, so of
   * 40000-40001 it takes 40001, held on 127.0.0.2, though 40000 is free. */
  set_range("40000 40001");
  int held = sock(BIND, 0, 0), b = sock(BIND, 0, 0);
  struct sockaddr_in two = addr("127.0.0.2", 40001);
  printf("tcp bind 127.0.0.2:40001: %s\n", bind(held, (struct sockaddr *)&two, sizeof two) ? strerrorname_np(errno) : "ok");
  one("tcp bind 127.0.0.1:0", b, BIND, "127.0.0.1");
  close(held);
  close(b);
  set_range("40000 40000");
  /* connect(2) takes no port that bind(2) made, whatever its address. */
  int h = sock(BIND, 0, 0), k = sock(CONNECT, 0, 0);
  one("tcp bind 127.0.0.2:0", h, BIND, "127.0.0.2");
  one("tcp connect", k, CONNECT, "127.0.0.1");
  close(h);
  drop(k);
  close(server);
  return 0;
}
