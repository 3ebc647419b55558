/* splice(2) from a pipe into a TCP socket, natively in a fresh network namespace and under tsvisor
 * (splice-socket.test.ts): only what the socket took leaves the pipe. A non-blocking socket that
 * is full answers EAGAIN with the pipe untouched; every byte spliced arrives once, in order. Under
 * tsvisor the bytes were read out of the pipe first, and what the socket refused was lost (Go's
 * net TestSplice hung waiting for them). Prints only what does not depend on buffer sizes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

#define TOTAL (8 << 20)

static unsigned char pattern(long i) { return (unsigned char)(i * 31 + (i >> 13)); }

static void pair(int *a, int *b) {
  int l;
  tcp_pair(a, b, &l);
  close(l);
}

/* Reads what is available on `b` (non-blocking), checking the pattern; returns the new total. */
static long drain(int b, long got, int *bad) {
  unsigned char buf[65536];
  for (;;) {
    ssize_t n = recv(b, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return got;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != pattern(got + i)) *bad = 1;
    got += n;
  }
}

static void run(int nonblocking) {
  int a, b, p[2];
  pair(&a, &b);
  if (pipe(p) != 0) exit(1);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  if (nonblocking) fcntl(a, F_SETFL, O_NONBLOCK);
  long into_pipe = 0, spliced = 0, got = 0;
  int eagain = 0, pipe_kept = 1, bad = 0, rounds = 0;
  unsigned char chunk[4096];
  while (spliced < TOTAL && rounds < 1000000) {
    rounds++;
    /* Keep the pipe full of the next bytes of the pattern. */
    while (into_pipe < TOTAL) {
      long k = TOTAL - into_pipe < (long)sizeof chunk ? TOTAL - into_pipe : (long)sizeof chunk;
      for (long i = 0; i < k; i++) chunk[i] = pattern(into_pipe + i);
      ssize_t w = write(p[1], chunk, k);
      if (w <= 0) break;
      into_pipe += w;
    }
    ssize_t n = splice(p[0], NULL, a, NULL, 1 << 20, SPLICE_F_NONBLOCK);
    if (n > 0) {
      spliced += n;
    } else if (n < 0 && errno == EAGAIN) {
      eagain++;
      int left = -1;
      ioctl(p[0], FIONREAD, &left);
      if (left != into_pipe - spliced) pipe_kept = 0;
      got = drain(b, got, &bad);
    } else {
      printf("splice: %zd %s\n", n, strerrorname_np(errno));
      break;
    }
    if (!nonblocking) got = drain(b, got, &bad);
  }
  shutdown(a, SHUT_WR);
  fcntl(b, F_SETFL, 0);
  for (;;) {
    unsigned char buf[65536];
    ssize_t n = recv(b, buf, sizeof buf, 0);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != pattern(got + i)) bad = 1;
    got += n;
  }
  printf("%s socket: spliced %ld of %d, received %ld, in order %s, EAGAIN seen %s, pipe kept its bytes on EAGAIN %s\n",
         nonblocking ? "non-blocking" : "blocking", spliced, TOTAL, got, bad ? "no" : "yes",
         nonblocking ? (eagain > 0 ? "yes" : "no") : (eagain > 0 ? "yes (unexpected)" : "n/a"),
         pipe_kept ? "yes" : "no");
  close(a);
  close(b);
  close(p[0]);
  close(p[1]);
}

int main(void) {
  run(1);
  return 0;
}
