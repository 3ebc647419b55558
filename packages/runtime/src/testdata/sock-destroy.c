/* SOCK_DESTROY over NETLINK_SOCK_DIAG (inet_diag's destroy, tcp_abort), natively in a fresh network
 * namespace (lo up) and under tsvisor --network none (sock-destroy.test.ts): which requests find
 * a connection (its 4-tuple, the cookie when one is given), the errnos of the others, what the
 * application of a destroyed connection sees (ECONNABORTED once, then a closed stream, a blocked
 * reader woken) and what its peer sees (the RST: ECONNRESET), and iproute2's `ss -K`. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock-destroy-util.h"

#define PORT 5001
/* INET_DIAG_NOCOOKIE in both words of idiag_cookie: no cookie to check. */
#define NOCOOKIE (~0ULL)

/* Sends SOCK_DESTROY for the TCP connection from `src` to `dst` (as that side sees them) with
 * `cookie` (INET_DIAG_NOCOOKIE: any); returns the errno of the netlink ACK (0: destroyed). */
static int destroy(int protocol, const struct sockaddr_in *src, const struct sockaddr_in *dst, unsigned long long cookie) {
  struct destroy_req req = destroy_req();
  req.r.sdiag_family = AF_INET;
  req.r.sdiag_protocol = protocol;
  req.r.id.idiag_sport = src->sin_port;
  req.r.id.idiag_dport = dst->sin_port;
  req.r.id.idiag_src[0] = src->sin_addr.s_addr;
  req.r.id.idiag_dst[0] = dst->sin_addr.s_addr;
  req.r.id.idiag_cookie[0] = (unsigned)cookie;
  req.r.id.idiag_cookie[1] = (unsigned)(cookie >> 32);
  return destroy_send(&req);
}

static struct sockaddr_in local(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  getsockname(fd, (void *)&a, &len);
  return a;
}

static struct sockaddr_in peer(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  getpeername(fd, (void *)&a, &len);
  return a;
}

static int listener(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(l, (void *)&a, sizeof a) < 0 || listen(l, 8) < 0) perror("listener");
  return l;
}

static void pair(int l, int *c, int *s) {
  struct sockaddr_in a = local(l);
  *c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(*c, (void *)&a, sizeof a) < 0) perror("connect");
  *s = accept(l, NULL, NULL);
}

static const char *rd(int fd) {
  char b[16];
  static char out[64];
  ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
  if (n < 0) return name(errno);
  snprintf(out, sizeof out, "%zd", n);
  return out;
}

static const char *wr(int fd) {
  return send(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? name(errno) : "1";
}

/* Runs `ss -K -H dst 127.0.0.1:PORT` and prints its output, blanks squeezed and the client's
 * (ephemeral) port `eport` shown as E. */
static void ss_kill(int eport) {
  int p[2];
  if (pipe(p) < 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    char dst[32];
    snprintf(dst, sizeof dst, "127.0.0.1:%d", PORT);
    execl("/usr/bin/ss", "ss", "-K", "-H", "-t", "dst", dst, (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  char buf[4096], out[4096], eps[16];
  size_t len = 0, o = 0;
  ssize_t r;
  while ((r = read(p[0], buf + len, sizeof buf - 1 - len)) > 0) len += r;
  buf[len] = 0;
  close(p[0]);
  int status;
  waitpid(pid, &status, 0);
  snprintf(eps, sizeof eps, ":%d", eport);
  for (size_t i = 0; i < len && o < sizeof out - 4; i++) {
    if (buf[i] == ' ' && o > 0 && out[o - 1] == ' ') continue;
    if (strncmp(buf + i, eps, strlen(eps)) == 0 && (buf[i + strlen(eps)] < '0' || buf[i + strlen(eps)] > '9')) {
      memcpy(out + o, ":E", 2);
      o += 2;
      i += strlen(eps) - 1;
      continue;
    }
    out[o++] = buf[i];
  }
  out[o] = 0;
  printf("$ ss -K -H -t dst 127.0.0.1:%d (exit %d)\n%s", PORT, WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int l = listener(PORT);
  int c, s;

  /* The client's connection, by its 4-tuple (no cookie). */
  pair(l, &c, &s);
  struct sockaddr_in cl = local(c), cp = peer(c);
  struct sockaddr_in none = cp;
  none.sin_port = htons(PORT + 7);
  printf("no such connection: %s\n", name(destroy(IPPROTO_TCP, &cl, &none, NOCOOKIE)));
  printf("by tuple: %s\n", name(destroy(IPPROTO_TCP, &cl, &cp, NOCOOKIE)));
  usleep(50000);
  /* One call per printf: C leaves the order of a call's arguments open. */
  printf("destroyed: poll %s", events(c));
  printf(", SO_ERROR %s", name(so_error(c)));
  printf(", then %s\n", name(so_error(c)));
  printf("destroyed: read %s", rd(c));
  printf(", write %s", wr(c));
  printf(", read %s\n", rd(c));
  printf("peer: poll %s", events(s));
  printf(", read %s", rd(s));
  printf(", read %s", rd(s));
  printf(", write %s\n", wr(s));
  printf("again: %s\n", name(destroy(IPPROTO_TCP, &cl, &cp, NOCOOKIE)));
  close(c);
  close(s);

  /* The server's side of a connection, by tuple and cookie; the error is read by read(2). */
  pair(l, &c, &s);
  struct sockaddr_in sl = local(s), sp = peer(s);
  unsigned long long ck = cookie_of(s);
  printf("other cookie: %s\n", name(destroy(IPPROTO_TCP, &sl, &sp, cookie_of(c))));
  printf("own cookie: %s\n", name(destroy(IPPROTO_TCP, &sl, &sp, ck)));
  usleep(50000);
  printf("destroyed server: read %s", rd(s));
  printf(", read %s\n", rd(s));
  printf("its client: read %s", rd(c));
  printf(", SO_ERROR %s\n", name(so_error(c)));
  close(c);
  close(s);

  /* A reader blocked in read(2) wakes with ECONNABORTED. */
  pair(l, &c, &s);
  cl = local(c);
  cp = peer(c);
  pid_t kid = fork();
  if (kid == 0) {
    char b[8];
    alarm(5);
    ssize_t n = read(c, b, sizeof b);
    printf("blocked reader: %s\n", n < 0 ? name(errno) : "data");
    _exit(0);
  }
  usleep(100000);
  const char *destroyed = name(destroy(IPPROTO_TCP, &cl, &cp, NOCOOKIE));
  waitpid(kid, NULL, 0); // the woken reader says its part first: stdout is not raced for
  printf("under a blocked reader: %s\n", destroyed);
  close(c);
  close(s);

  /* Without CAP_NET_ADMIN: a connection found is EPERM, none found ENOENT. */
  pair(l, &c, &s);
  cl = local(c);
  cp = peer(c);
  kid = fork();
  if (kid == 0) {
    if (setuid(65534) < 0) perror("setuid");
    printf("unprivileged: %s", name(destroy(IPPROTO_TCP, &cl, &cp, NOCOOKIE)));
    struct sockaddr_in none = cp;
    none.sin_port = htons(PORT + 7);
    printf("; no such connection: %s\n", name(destroy(IPPROTO_TCP, &cl, &none, NOCOOKIE)));
    _exit(0);
  }
  waitpid(kid, NULL, 0);
  printf("after the unprivileged try: read %s\n", rd(c));
  close(c);
  close(s);

  /* A connection still in SYN_SENT: aborted without a RST. */
  int fl = listener(PORT + 1);
  struct sock_filter drop[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog prog = {1, drop};
  if (setsockopt(fl, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) perror("SO_ATTACH_FILTER");
  int sc = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in fa = local(fl);
  connect(sc, (void *)&fa, sizeof fa);
  struct sockaddr_in scl = local(sc);
  printf("syn_sent: %s\n", name(destroy(IPPROTO_TCP, &scl, &fa, NOCOOKIE)));
  printf("syn_sent destroyed: poll %s", events(sc));
  printf(", SO_ERROR %s", name(so_error(sc)));
  printf(", read %s\n", rd(sc));
  close(sc);
  close(fl);

  /* A TIME_WAIT connection (the side that closed first) just ends: once destroyed, it is gone. */
  pair(l, &c, &s);
  cl = local(c);
  cp = peer(c);
  close(c);
  usleep(50000);
  printf("time_wait: peer read %s", rd(s));
  close(s);
  usleep(50000);
  printf(", destroy %s", name(destroy(IPPROTO_TCP, &cl, &cp, NOCOOKIE)));
  printf(", again %s\n", name(destroy(IPPROTO_TCP, &cl, &cp, NOCOOKIE)));

  /* iproute2's ss -K: it dumps the matching connections and destroys each; the client's side
   * (destination PORT) goes, the server's stays. */
  pair(l, &c, &s);
  ss_kill(ntohs(local(c).sin_port));
  usleep(50000);
  printf("after ss -K: client read %s", rd(c));
  printf(", server read %s\n", rd(s));
  close(c);
  close(s);
  close(l);
  return 0;
}
