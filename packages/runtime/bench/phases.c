// The first 1 MiB of net-loop.c's transfer in a fresh sandbox, timed step by step with
// CLOCK_MONOTONIC: socket, bind+listen, fork (a child that accepts and reads everything), connect,
// the first 64 KiB write, the other writes, close and wait. Prints "step=µs ... total=µs".
// Not part of a benchmark table: it shows where a sandbox's first calls spend their time.
//   gcc -O1 -static -o /var/tmp/phases bench/phases.c
//   tsvisor do --network none -- /var/tmp/phases [BYTES]     runsc --network=none do /var/tmp/phases
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static double now_us(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3; }
static char buf[1 << 16];
int main(int argc, char **argv) {
  long bytes = argc > 1 ? atol(argv[1]) : 1 << 20;
  double t[10]; int k = 0;
  t[k++] = now_us();
  int l = socket(AF_INET, SOCK_STREAM, 0);
  t[k++] = now_us();
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (bind(l, (void *)&a, sizeof a) || listen(l, 128) || getsockname(l, (void *)&a, &len)) return 2;
  t[k++] = now_us();
  pid_t pid = fork();
  if (pid == 0) {
    int c = accept(l, NULL, NULL);
    for (;;) { ssize_t n = read(c, buf, sizeof buf); if (n <= 0) break; }
    _exit(0);
  }
  t[k++] = now_us();
  close(l);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (void *)&a, sizeof a)) return 2;
  t[k++] = now_us();
  memset(buf, 'x', sizeof buf);
  if (write(s, buf, sizeof buf) != sizeof buf) return 3;
  t[k++] = now_us();
  for (long sent = sizeof buf; sent < bytes; sent += sizeof buf) if (write(s, buf, sizeof buf) != sizeof buf) return 3;
  t[k++] = now_us();
  close(s);
  int st; waitpid(pid, &st, 0);
  t[k++] = now_us();
  const char *names[] = {"socket", "bind+listen", "fork", "connect", "write1", "rest", "close+wait"};
  for (int i = 1; i < k; i++) printf("%s=%.0f ", names[i - 1], t[i] - t[i - 1]);
  printf("total=%.0f\n", t[k - 1] - t[0]);
  return 0;
}
