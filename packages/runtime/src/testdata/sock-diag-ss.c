/* iproute2's `ss` over NETLINK_SOCK_DIAG, natively in a fresh network namespace (lo up) and under
 * tsvisor --network none (sock-diag.test.ts): the same sockets are made, `ss` is run on them and
 * its output must match. The output is normalized so that only what the kernel decides shows:
 * runs of blanks become one (column widths follow the numbers), socket inodes are replaced by
 * the name of the socket they belong to, client ports (ephemeral) by E, pids by N, and the
 * lines after the header are sorted (the kernel lists sockets in hash order). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock-util.h"

#define PORT 5000

struct known {
  const char *name;
  ino_t ino;
};
static struct known known[32];
static int nknown;

static void know(const char *name, int fd) {
  struct stat st;
  known[nknown].name = name;
  known[nknown++].ino = fstat(fd, &st) == 0 ? st.st_ino : 0;
}

/* One token of ss's output, normalized; `prev` is the token before it. */
static void token(const char *t, const char *prev, char *out, size_t cap) {
  char *end;
  unsigned long v = strtoul(t, &end, 10);
  /* An AF_UNIX socket's inode follows its address: *, @abstract or a path. */
  int after_addr = prev && (strcmp(prev, "*") == 0 || *prev == '@' || *prev == '/');
  if (after_addr && *t && isdigit((unsigned char)*t) && *end == 0) {
    for (int i = 0; i < nknown; i++)
      if (known[i].ino == v) {
        snprintf(out, cap, "<%s>", known[i].name);
        return;
      }
  }
  /* addr:port with an ephemeral port */
  const char *colon = strrchr(t, ':');
  if (colon && colon[1]) {
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end == 0 && port >= 32768 && port <= 60999) {
      snprintf(out, cap, "%.*s:E", (int)(colon - t), t);
      return;
    }
  }
  /* pid=123 -> pid=N, everywhere in the token */
  size_t o = 0;
  for (const char *c = t; *c && o + 1 < cap;) {
    if (strncmp(c, "pid=", 4) == 0) {
      o += snprintf(out + o, cap - o, "pid=N");
      c += 4;
      while (isdigit((unsigned char)*c)) c++;
    } else out[o++] = *c++;
  }
  out[o < cap ? o : cap - 1] = 0;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs ss with `args` and prints its normalized output. */
static void ss(const char *const *args) {
  int p[2];
  if (pipe(p) < 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    /* ss sees the sockets as this process's only. */
    for (int fd = 3; fd < 256; fd++) close(fd);
    char *argv[16] = {"ss"};
    int n = 1;
    for (; args[n - 1]; n++) argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    execv("/usr/bin/ss", argv);
    _exit(127);
  }
  close(p[1]);
  static char buf[65536];
  size_t len = 0;
  ssize_t r;
  while ((r = read(p[0], buf + len, sizeof buf - 1 - len)) > 0) len += r;
  buf[len] = 0;
  close(p[0]);
  int status;
  waitpid(pid, &status, 0);
  printf("$ ss");
  for (int i = 0; args[i]; i++) printf(" %s", args[i]);
  printf(" (exit %d)\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  static char *lines[256];
  int nlines = 0;
  for (char *save, *line = strtok_r(buf, "\n", &save); line && nlines < 256; line = strtok_r(NULL, "\n", &save)) {
    /* A line that starts with a blank continues the socket's line (-m, -i, -e details). */
    int more = (*line == ' ' || *line == '\t') && nlines > 0;
    char *norm = more ? lines[--nlines] : malloc(2048);
    size_t used = more ? strlen(norm) : 0;
    if (!more) norm[0] = 0;
    if (more) used += snprintf(norm + used, 2048 - used, " |");
    int global = 0;
    const char *prev = NULL;
    for (char *s2, *t = strtok_r(line, " \t", &s2); t; prev = t, t = strtok_r(NULL, " \t", &s2)) {
      char tok[256];
      token(t, prev, tok, sizeof tok);
      /* ss -s: sockets_in_use, tcp alloc and orphans are counted for the whole host, not the
       * network namespace: they are not the sandbox's to match. */
      if (global) snprintf(tok, sizeof tok, "-%s", strchr(t, ',') ? "," : "");
      global = strcmp(t, "Total:") == 0 || strcmp(t, "TCP:") == 0 || strcmp(t, "closed") == 0 ||
               strcmp(t, "orphaned") == 0;
      if (strcmp(tok, "Address:PortProcess") == 0) snprintf(tok, sizeof tok, "Address:Port Process");
      used += snprintf(norm + used, 2048 - used, "%s%s", used ? " " : "", tok);
      if (used >= 2048) break;
    }
    lines[nlines++] = norm;
  }
  if (nlines > 1) qsort(lines + 1, nlines - 1, sizeof lines[0], cmp);
  for (int i = 0; i < nlines; i++) {
    printf("  %s\n", lines[i]);
    free(lines[i]);
  }
}

static int tcp_connect(int port) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) printf("connect: %s\n", err());
  return c;
}

static socklen_t abstract(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  memcpy(a->sun_path + 1, name, strlen(name));
  return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

int main(void) {
  /* TCP: a listener, an established pair with data in flight both ways, a TIME_WAIT
   * connection, one waiting for accept; a second listener on another port. */
  int lst = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(lst, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5);
  struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons(PORT)};
  inet_pton(AF_INET, "127.0.0.1", &la.sin_addr);
  if (bind(lst, (struct sockaddr *)&la, sizeof la) < 0 || listen(lst, 16) < 0) printf("listen: %s\n", err());
  int lst2 = socket(AF_INET6, SOCK_STREAM, 0);
  setsockopt(lst2, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5);
  struct sockaddr_in6 la6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT + 1)};
  if (bind(lst2, (struct sockaddr *)&la6, sizeof la6) < 0 || listen(lst2, 4) < 0) printf("listen6: %s\n", err());
  int cli = tcp_connect(PORT);
  int srv = accept(lst, NULL, NULL);
  if (write(cli, "hello", 5) != 5 || write(srv, "hi", 2) != 2) printf("write: %s\n", err());
  int twc = tcp_connect(PORT);
  int tws = accept(lst, NULL, NULL);
  int waiting = tcp_connect(PORT);
  /* UDP: bound, and a connected one. */
  int ub = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons(PORT + 2)};
  inet_pton(AF_INET, "127.0.0.1", &ua.sin_addr);
  if (bind(ub, (struct sockaddr *)&ua, sizeof ua) < 0) printf("udp bind: %s\n", err());
  int uc = socket(AF_INET, SOCK_DGRAM, 0);
  if (connect(uc, (struct sockaddr *)&ua, sizeof ua) < 0) printf("udp connect: %s\n", err());
  /* AF_UNIX: a listener with an accepted and a pending connection, a pair, datagram sockets. */
  struct sockaddr_un sa;
  socklen_t sl = abstract(&sa, "tsvisor-ss-listener");
  int ul = socket(AF_UNIX, SOCK_STREAM, 0);
  if (bind(ul, (struct sockaddr *)&sa, sl) < 0 || listen(ul, 4) < 0) printf("unix listen: %s\n", err());
  int uconn = socket(AF_UNIX, SOCK_STREAM, 0);
  int upend = socket(AF_UNIX, SOCK_STREAM, 0);
  if (connect(uconn, (struct sockaddr *)&sa, sl) < 0 || connect(upend, (struct sockaddr *)&sa, sl) < 0)
    printf("unix connect: %s\n", err());
  int uacc = accept(ul, NULL, NULL);
  int pair[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
  if (write(pair[0], "abc", 3) != 3) printf("unix write: %s\n", err());
  socklen_t dl = abstract(&sa, "tsvisor-ss-dgram");
  int ud = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (bind(ud, (struct sockaddr *)&sa, dl) < 0) printf("unix dgram bind: %s\n", err());
  int udc = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (connect(udc, (struct sockaddr *)&sa, dl) < 0) printf("unix dgram connect: %s\n", err());
  usleep(100000);
  close(twc);
  usleep(50000);
  close(tws);
  usleep(100000);
  know("lst", lst);
  know("lst2", lst2);
  know("cli", cli);
  know("srv", srv);
  know("waiting", waiting);
  know("ub", ub);
  know("uc", uc);
  know("ul", ul);
  know("uconn", uconn);
  know("upend", upend);
  know("uacc", uacc);
  know("pair0", pair[0]);
  know("pair1", pair[1]);
  know("ud", ud);
  know("udc", udc);
  fflush(stdout);

  ss((const char *const[]){"-tan", NULL});
  ss((const char *const[]){"-tln", NULL});
  ss((const char *const[]){"-uan", NULL});
  ss((const char *const[]){"-xa", NULL});
  ss((const char *const[]){"-xlp", NULL});
  ss((const char *const[]){"-tn", "state", "established", "( dport = :5000 )", NULL});
  ss((const char *const[]){"-tn", "state", "established", "( sport = :5000 )", NULL});
  ss((const char *const[]){"-tan", "dst", "127.0.0.1", "and", "sport", ">", ":5000", NULL});
  ss((const char *const[]){"-tan", "state", "time-wait", NULL});
  ss((const char *const[]){"-tan", "state", "listening", "src", "[::]", NULL});
  ss((const char *const[]){"-ta", "-m", "state", "listening", NULL});
  ss((const char *const[]){"-tlnpi", NULL});
  ss((const char *const[]){"-s", NULL});
  return 0;
}
