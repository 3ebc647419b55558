/* Runs `tcpdump -i DEV -n -t -l -c COUNT [EXPR]` (tcpdump's path, DEV, COUNT are argv[1..3],
 * by default lo and 8; EXPR is argv[5], a filter libpcap compiles into classic BPF that the
 * kernel runs) and makes traffic for it once it says it is listening: UDP datagrams over IPv4
 * and IPv6 from fixed ports to closed ports (answered with ICMP port unreachables) and a ping
 * (an ICMP echo request from a raw socket, answered by the kernel); with argv[4] (other than
 * "-"), two datagrams to that IPv4 address's port 9999 instead. Prints what tcpdump printed,
 * stdout then stderr, so a run natively in a fresh network namespace and one under tsvisor can
 * be compared line for line (packet-tcpdump.test.ts). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void udp4(int from, int to, const char *msg) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(from), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) perror("bind");
  a.sin_port = htons(to);
  if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) < 0) perror("sendto");
  close(s);
}

static void udp4to(const char *ip, int from, int to, const char *msg) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(from)};
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) perror("bind");
  a.sin_port = htons(to);
  inet_pton(AF_INET, ip, &a.sin_addr);
  if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) < 0) perror("sendto");
  close(s);
}

static void udp6(int from, int to, const char *msg) {
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(from), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) perror("bind6");
  a.sin6_port = htons(to);
  if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) < 0) perror("sendto6");
  close(s);
}

static void ping(void) {
  int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  unsigned char m[24] = {8, 0, 0, 0, 0x12, 0x34, 0, 1};
  memcpy(m + 8, "tcpdump ping 16b", 16);
  uint32_t sum = 0;
  for (size_t i = 0; i < sizeof m; i += 2) sum += (uint32_t)(m[i] << 8 | m[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  m[2] = (uint8_t)(~sum >> 8);
  m[3] = (uint8_t)~sum;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (sendto(s, m, sizeof m, 0, (struct sockaddr *)&a, sizeof a) < 0) perror("ping");
  char buf[256];
  recv(s, buf, sizeof buf, 0); /* our own request (a raw socket sees it) */
  recv(s, buf, sizeof buf, 0); /* the reply */
  close(s);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *dev = argc > 2 ? argv[2] : "lo";
  const char *count = argc > 3 ? argv[3] : "8";
  int out[2], err[2];
  if (pipe(out) != 0 || pipe(err) != 0) return 2;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]);
    close(err[0]);
    if (argc > 5)
      execl(argv[1], "tcpdump", "-i", dev, "-n", "-t", "-l", "-c", count, argv[5], (char *)NULL);
    else
      execl(argv[1], "tcpdump", "-i", dev, "-n", "-t", "-l", "-c", count, (char *)NULL);
    perror("exec");
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  FILE *e = fdopen(err[0], "r");
  char line[512];
  /* Wait until tcpdump captures. */
  while (fgets(line, sizeof line, e)) {
    printf("stderr: %s", line);
    if (strncmp(line, "listening on", 12) == 0) break;
  }
  fflush(stdout);
  if (argc > 4 && strcmp(argv[4], "-") != 0) {
    /* Off the host: datagrams to argv[4] (by the link's default route). */
    udp4to(argv[4], 40000, 9999, "hello");
    udp4to(argv[4], 40001, 9999, "again");
  } else {
    udp4(40000, 7777, "hello");
    udp4(40001, 7778, "nobody listens");
    ping();
    udp6(40002, 7779, "over ipv6");
  }
  /* tcpdump ends after its count; a missing packet would leave it waiting: stop it then. */
  int st, waited = 0;
  while (waitpid(pid, &st, WNOHANG) == 0) {
    if (++waited == 500) {
      printf("tcpdump still running: interrupting it\n");
      kill(pid, SIGINT);
    }
    usleep(10000);
  }
  FILE *o = fdopen(out[0], "r");
  while (fgets(line, sizeof line, o)) printf("stdout: %s", line);
  while (fgets(line, sizeof line, e)) printf("stderr: %s", line);
  printf("tcpdump exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return 0;
}
