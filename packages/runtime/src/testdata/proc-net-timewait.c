// What /proc/net/tcp and tcp6 show of connections this program closed first, for IPv4 and IPv6:
// `tw`, the server closes after it reads the EOF (the client's side stays in TIME_WAIT), and
// `fin2`, the server keeps its side open (the client's orphan waits in FIN_WAIT2, the server's
// side in CLOSE_WAIT). Each line of the pair is printed without what differs from run to run
// (slot, ports, timer value, kernel pointer, a live socket's inode), then the number of TIME_WAIT
// lines in each whole table. Run in a network namespace of its own with lo up (natively) or
// under tsvisor --network host: both must print the same.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(1);
}

static int port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) die("getsockname");
  return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                       : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A listener on the loopback address of `family`, a client connected to it, the accepted side. */
static void pair(int family, int *lfd, int *cfd, int *sfd) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  *lfd = socket(family, SOCK_STREAM, 0);
  if (*lfd < 0 || bind(*lfd, (struct sockaddr *)&ss, len) < 0 || listen(*lfd, 4) < 0) die("listen");
  len = sizeof ss;
  if (getsockname(*lfd, (struct sockaddr *)&ss, &len) < 0) die("getsockname");
  *cfd = socket(family, SOCK_STREAM, 0);
  if (*cfd < 0 || connect(*cfd, (struct sockaddr *)&ss, len) < 0) die("connect");
  *sfd = accept(*lfd, NULL, NULL);
  if (*sfd < 0) die("accept");
}

/* The lines of /proc/net/<file>; the caller frees them. */
static char **lines(const char *file, int *n) {
  char path[64];
  snprintf(path, sizeof path, "/proc/net/%s", file);
  FILE *f = fopen(path, "r");
  if (!f) die(path);
  char **out = NULL;
  *n = 0;
  char buf[512];
  if (!fgets(buf, sizeof buf, f)) die("header");
  while (fgets(buf, sizeof buf, f)) {
    out = realloc(out, (*n + 1) * sizeof *out);
    out[(*n)++] = strdup(buf);
  }
  fclose(f);
  return out;
}

/* The fields of a line, split on blanks (at most 20). */
static int fields(char *line, char **f) {
  int n = 0;
  for (char *t = strtok(line, " \n"); t && n < 20; t = strtok(NULL, " \n")) f[n++] = t;
  return n;
}

static int port_field(const char *addr) {
  const char *colon = strrchr(addr, ':');
  return colon ? (int)strtol(colon + 1, NULL, 16) : -1;
}

/* Whether an address field is the loopback address of its file. */
static int loopback(const char *addr) {
  return strncmp(addr, "0100007F:", 9) == 0 || strncmp(addr, "00000000000000000000000001000000:", 33) == 0;
}

/* Prints the lines of `file` between ports `a` (client) and `b` (listener), client's first. */
static void show(const char *file, const char *label, int a, int b) {
  int n;
  char **l = lines(file, &n);
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < n; i++) {
      char copy[512];
      snprintf(copy, sizeof copy, "%s", l[i]);
      char *f[20];
      int nf = fields(copy, f);
      if (nf < 12) continue;
      int lp = port_field(f[1]), rp = port_field(f[2]);
      int client = lp == a && rp == b, server = lp == b && rp == a;
      if (!(pass == 0 ? client : server)) continue;
      printf("%s %s %s %s", label, client ? "client" : "server",
             loopback(f[1]) && loopback(f[2]) ? "lo" : "not-lo", f[3]);
      if (strcmp(f[9], "0") != 0) {
        /* A live socket: its state (the rest is the socket's own). */
        printf(" live\n");
        continue;
      }
      /* tx:rx, the timer kind (not its value), retransmits, uid, timeout, inode, refcount, and
         what follows the pointer (the TCP figures of an orphan that is still a full socket). */
      char timer[3] = {f[5][0], f[5][1], 0};
      printf(" %s %s %s %s %s %s %s", f[4], timer, f[6], f[7], f[8], f[9], f[10]);
      for (int j = 12; j < nf; j++) printf(" %s", f[j]);
      printf(" (%d fields)\n", nf);
    }
  for (int i = 0; i < n; i++) free(l[i]);
  free(l);
}

static int time_waits(const char *file) {
  int n, count = 0;
  char **l = lines(file, &n);
  for (int i = 0; i < n; i++) {
    char *f[20];
    if (fields(l[i], f) >= 4 && strcmp(f[3], "06") == 0) count++;
    free(l[i]);
  }
  free(l);
  return count;
}

int main(void) {
  const int families[] = {AF_INET, AF_INET6};
  for (int i = 0; i < 2; i++) {
    int family = families[i];
    const char *file = family == AF_INET ? "tcp" : "tcp6";
    char label[16];

    int lfd, cfd, sfd;
    pair(family, &lfd, &cfd, &sfd);
    int lport = port_of(lfd), cport = port_of(cfd);
    snprintf(label, sizeof label, "%s tw", file);
    show(file, label, cport, lport);
    close(cfd);
    char c;
    if (read(sfd, &c, 1) != 0) die("read EOF");
    close(sfd);
    usleep(200 * 1000);
    show(file, label, cport, lport);

    int cfd2, sfd2;
    int lfd2;
    pair(family, &lfd2, &cfd2, &sfd2);
    lport = port_of(lfd2);
    cport = port_of(cfd2);
    snprintf(label, sizeof label, "%s fin2", file);
    close(cfd2);
    usleep(200 * 1000);
    show(file, label, cport, lport);
    close(lfd);
  }
  printf("tcp TIME_WAIT lines: %d\n", time_waits("tcp"));
  printf("tcp6 TIME_WAIT lines: %d\n", time_waits("tcp6"));
  return 0;
}
