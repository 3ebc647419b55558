// net.ipv4.ping_group_range: who may open ping sockets (SOCK_DGRAM + IPPROTO_ICMP/ICMPV6), and
// how the sysctl reads and takes writes. Run as root in a fresh network namespace with lo up.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define RANGE "/proc/sys/net/ipv4/ping_group_range"

static const char *err(int e) {
  switch (e) {
    case 0: return "ok";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    default: return strerror(e);
  }
}

static void show(const char *what) {
  char buf[64] = {0};
  int fd = open(RANGE, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  if (n < 0) {
    printf("%s: read %s\n", what, err(errno));
    return;
  }
  for (char *p = buf; *p; p++)
    if (*p == '\t') *p = '|';
  printf("%s: %s", what, buf);
}

static void put(const char *text) {
  int fd = open(RANGE, O_WRONLY);
  int e = 0;
  if (fd < 0) e = errno;
  else if (write(fd, text, strlen(text)) < 0) e = errno;
  if (fd >= 0) close(fd);
  char label[80];
  snprintf(label, sizeof label, "write \"%.*s\" %s, now", (int)strcspn(text, "\n"), text, err(e));
  show(label);
}

/* In a child with the given egid and supplementary groups: open both ping sockets. */
static void probe(const char *label, gid_t egid, int ngroups, const gid_t *groups) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(ngroups, groups) != 0 || setresgid(egid, egid, egid) != 0) _exit(99);
    int a = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    int ea = a < 0 ? errno : 0;
    int b = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
    int eb = b < 0 ? errno : 0;
    printf("  %s: icmp %s, icmpv6 %s\n", label, err(ea), err(eb));
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) printf("  %s: child failed %d\n", label, st);
}

static void probes(void) {
  gid_t none[1] = {0};
  gid_t g150[1] = {150};
  gid_t g0[1] = {0};
  gid_t many[3] = {5, 300, 100};
  probe("egid 0", 0, 0, none);
  probe("egid 100", 100, 0, none);
  probe("egid 150", 150, 0, none);
  probe("egid 200", 200, 0, none);
  probe("egid 201", 201, 0, none);
  probe("egid 99 + 150", 99, 1, g150);
  probe("egid 1000 + 0", 1000, 1, g0);
  probe("egid 1000 + 5,300,100", 1000, 3, many);
}

/* A child that drops to uid 1000 (keeping gid 0) and tries to write the range. */
static void unprivileged_write(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setresuid(1000, 1000, 1000) != 0) _exit(99);
    int fd = open(RANGE, O_WRONLY);
    printf("uid 1000 open for write: %s\n", err(fd < 0 ? errno : 0));
    int r = open(RANGE, O_RDONLY);
    printf("uid 1000 open for read: %s\n", err(r < 0 ? errno : 0));
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
}

static unsigned short csum(const void *data, size_t len) {
  const unsigned char *p = data;
  unsigned long sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (unsigned)(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += (unsigned)(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((unsigned short)~sum);
}

/* An echo to 127.0.0.1 through a ping socket opened by a child of egid `egid`. */
static void echo(gid_t egid) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    gid_t none[1] = {0};
    if (setgroups(0, none) != 0 || setresgid(egid, egid, egid) != 0) _exit(99);
    int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (s < 0) {
      printf("echo as egid %u: socket %s\n", (unsigned)egid, err(errno));
      _exit(0);
    }
    unsigned char pkt[16] = {0};
    struct icmphdr *h = (struct icmphdr *)pkt;
    h->type = ICMP_ECHO;
    h->un.echo.sequence = htons(7);
    memcpy(pkt + 8, "pinggrp", 8);
    h->checksum = csum(pkt, sizeof pkt);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ssize_t n = sendto(s, pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to);
    printf("echo as egid %u: sent %zd\n", (unsigned)egid, n);
    unsigned char in[64];
    struct timeval tv = {.tv_sec = 5};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    n = recv(s, in, sizeof in, 0);
    if (n < 0) {
      printf("echo reply: %s\n", err(errno));
      _exit(0);
    }
    struct icmphdr *r = (struct icmphdr *)in;
    printf("echo reply: %zd bytes, type %d, seq %d, payload %s\n", n, r->type,
           ntohs(r->un.echo.sequence), n >= 16 ? (const char *)in + 8 : "?");
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  show("initial");
  printf("default range:\n");
  probes();
  echo(0);

  put("100 200\n");
  probes();
  echo(150);
  echo(300);

  put("0\t0");
  probe("egid 0", 0, 0, NULL);
  probe("egid 1", 1, 0, NULL);

  put("200 100");
  probes();
  put("7");
  put("5 6 7");
  put("  10   20  \n");
  put("0 4294967294");
  put("0 4294967295");
  put("0 2147483647");
  put("0 2147483648");
  put("-1 5");
  put("1 -1");
  put("abc");
  put("");
  put("3 x");
  put("40 30");
  put("0 4294967294");
  probe("egid 4000000000", 4000000000u, 0, NULL);
  unprivileged_write();
  put("1 0");
  probes();
  return 0;
}
