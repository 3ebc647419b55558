/* When a TCP connection to a peer that stopped answering gives up, on lo natively in a fresh
 * network namespace and under tsvisor (tcp-write-timeout.test.ts). The accepted end drops every
 * segment (a socket filter that accepts nothing), so the connecting end retransmits its 100
 * bytes until TCP_USER_TIMEOUT ends it. Printed: tcpi_retransmits and tcpi_backoff as they
 * change, and the error with the time from the first retransmission in a coarse bucket: Linux
 * counts the user timeout from there (retrans_stamp), not from the send, and never gives up
 * before a first retransmission, however short the timeout (100 ms here, below the RTO). Then a
 * connect nobody answers, with TCP_SYNCNT 2: Linux 6.18 keeps the initial RTO (1 s) for its first
 * 4 timeouts (tcp_syn_linear_timeouts), and gives up when the time that 2 backed-off
 * retransmissions take (7 s) has passed. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "sock-util.h"

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The time from the first retransmission to the error, in a bucket coarse enough for timer slack. */
static const char *bucket(long ms) {
  return ms < 50 ? "under 0.05 s" : ms < 300 ? "0.05 to 0.3 s" : ms < 900 ? "0.3 to 0.9 s" : ms < 1200 ? "0.9 to 1.2 s" : "1.2 s or more";
}

/* A connection whose peer drops everything, with TCP_USER_TIMEOUT `ut` ms, sends 100 bytes. */
static void dead_peer(int ut) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 1);
  socklen_t al = sizeof a;
  getsockname(l, (struct sockaddr *)&a, &al);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) printf("connect: %s\n", err());
  int s = accept(l, NULL, NULL);
  struct sock_filter drop[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  struct sock_fprog prog = {1, drop};
  setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
  setsockopt(c, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof ut);
  printf("TCP_USER_TIMEOUT %d:\n", ut);
  char b[100] = {0};
  send(c, b, sizeof b, 0);
  long t0 = now_ms(), first = 0;
  int last = 0;
  for (;;) {
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &tl);
    if (ti.tcpi_retransmits != last) {
      printf("  tcpi_retransmits %d tcpi_backoff %d\n", ti.tcpi_retransmits, ti.tcpi_backoff);
      if (!last) first = now_ms();
      last = ti.tcpi_retransmits;
    }
    struct pollfd p = {.fd = c, .events = POLLIN};
    if (poll(&p, 1, 2) > 0 && (p.revents & POLLERR)) break;
    if (now_ms() - t0 > 5000) {
      printf("  no error after 5 s\n");
      break;
    }
  }
  int e = 0;
  socklen_t el = sizeof e;
  getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
  printf("  SO_ERROR %s", e ? strerrorname_np(e) : "0");
  if (first) printf(", %s after the first retransmission\n", bucket(now_ms() - first));
  else printf(" without a retransmission\n");
  close(c);
  close(s);
  close(l);
}

/* A connect with TCP_SYNCNT 2 to a listener whose filter drops its SYNs: when (to the nearest
 * second) tcpi_retransmits and tcpi_backoff change, and when the error comes. */
static void unanswered_connect(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 1);
  socklen_t al = sizeof a;
  getsockname(l, (struct sockaddr *)&a, &al);
  struct sock_filter drop[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  struct sock_fprog prog = {1, drop};
  setsockopt(l, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int syncnt = 2;
  setsockopt(c, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof syncnt);
  long t0 = now_ms();
  if (connect(c, (struct sockaddr *)&a, sizeof a) == 0 || errno != EINPROGRESS) printf("connect: %s\n", err());
  printf("connect, TCP_SYNCNT 2:\n");
  int last = 0;
  for (;;) {
    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &tl);
    if (ti.tcpi_retransmits != last) {
      printf("  %ld s: tcpi_retransmits %d tcpi_backoff %d\n", (now_ms() - t0 + 500) / 1000, ti.tcpi_retransmits,
             ti.tcpi_backoff);
      last = ti.tcpi_retransmits;
    }
    struct pollfd p = {.fd = c, .events = POLLOUT};
    if (poll(&p, 1, 5) > 0) break;
    if (now_ms() - t0 > 12000) {
      printf("  nothing after 12 s\n");
      break;
    }
  }
  int e = 0;
  socklen_t el = sizeof e;
  getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
  printf("  %ld s: SO_ERROR %s\n", (now_ms() - t0 + 500) / 1000, e ? strerrorname_np(e) : "0");
  close(c);
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  dead_peer(1000);
  dead_peer(100);
  unanswered_connect();
  return 0;
}
