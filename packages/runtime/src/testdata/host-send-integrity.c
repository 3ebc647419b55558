/* Several processes send at once, each a byte pattern of its own, in writes larger than the
 * socket's buffer, to readers that take their time: each sender blocks in send(2) part way, while
 * the others send. Every reader checks every byte it gets. Natively and under tsvisor --network
 * host (host-network-conformance.test.ts), where the supervisor stages each send's bytes: a
 * blocked send must keep its own. Binds 127.0.0.1 only. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAIRS 3
#define TOTAL (4L << 20)
#define CHUNK (192 * 1024)

static unsigned char pattern(int id, long at) { return (unsigned char)(id * 77 + at / 5 + (at >> 12)); }

/* Sends TOTAL bytes of pair `id`'s pattern in CHUNK writes; exit status 0 when all went. */
static void sender(int id, struct sockaddr_in *a) {
  static unsigned char buf[CHUNK];
  int s = socket(AF_INET, SOCK_STREAM, 0), small = 32768;
  setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof small); /* far less than TOTAL */
  if (connect(s, (struct sockaddr *)a, sizeof *a) < 0) _exit(2);
  for (long at = 0; at < TOTAL;) {
    long n = TOTAL - at < CHUNK ? TOTAL - at : CHUNK;
    for (long i = 0; i < n; i++) buf[i] = pattern(id, at + i);
    ssize_t w = write(s, buf, n);
    if (w <= 0) _exit(3);
    at += w; /* a short write: the next one starts where this stopped */
  }
  close(s);
  _exit(0);
}

/* Reads pair `id`'s bytes, slowly at first; exit status 0 when TOTAL bytes came, all right. */
static void reader(int id, int l) {
  static unsigned char buf[65536];
  int c = accept(l, NULL, NULL);
  if (c < 0) _exit(2);
  long at = 0;
  for (int reads = 0;; reads++) {
    if (reads < 40) usleep(2000); /* the senders fill their buffers and block meanwhile */
    ssize_t n = read(c, buf, reads % 3 ? sizeof buf : 1000);
    if (n < 0) _exit(3);
    if (n == 0) break;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != pattern(id, at + i)) _exit(4);
    at += n;
  }
  _exit(at == TOTAL ? 0 : 5);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t senders[PAIRS], readers[PAIRS];
  for (int id = 0; id < PAIRS; id++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0), small = 32768;
    setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof small); /* the reader's, inherited */
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len)) {
      perror("listener");
      return 1;
    }
    if ((readers[id] = fork()) == 0) reader(id, l);
    close(l);
    if ((senders[id] = fork()) == 0) sender(id, &a);
  }
  for (int id = 0; id < PAIRS; id++) {
    int ss, rs;
    waitpid(senders[id], &ss, 0);
    waitpid(readers[id], &rs, 0);
    printf("pair %d: sender %d, reader %d (0: every byte of %ld in order)\n", id,
           WIFEXITED(ss) ? WEXITSTATUS(ss) : -1, WIFEXITED(rs) ? WEXITSTATUS(rs) : -1, TOTAL);
  }
  return 0;
}
