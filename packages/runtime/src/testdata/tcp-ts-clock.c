/* The clock of TCP timestamps on loopback, as Linux keeps it: a TSval counts the milliseconds of
 * CLOCK_MONOTONIC (tcp_clock_ms) plus the connection's offset. With net.ipv4.tcp_timestamps 2
 * there is no offset: the TSval of a SYN (kept by the listener's TCP_SAVE_SYN) and TCP_TIMESTAMP
 * of a socket not yet connected lie within the milliseconds clock_gettime(CLOCK_MONOTONIC) read
 * around them, and so does a listener's TCP_TIMESTAMP. With 1, the offset is a secret hash of the addresses and ports
 * (secure_tcp_seq_and_ts_off), so SYNs from two ports of one host to one server carry TSvals of
 * unrelated clocks. Run in a fresh network namespace (lo up) and under tsvisor, the output must
 * be the same. */
#define _GNU_SOURCE
#include <netinet/tcp.h>
#include <stdint.h>
#include <time.h>

#include "tw-util.h"

#define SERVER 6201
#define CLIENT 40501

/* CLOCK_MONOTONIC in ms, as a TSval holds it (mod 2^32). */
static uint32_t mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint32_t)((uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000);
}

/* `v` lies in [lo - 1, hi + 1] (mod 2^32): a millisecond of slack for rounding either way. */
static int within(uint32_t v, uint32_t lo, uint32_t hi) {
  return (int32_t)(v - (lo - 1)) >= 0 && (int32_t)(hi + 1 - v) >= 0;
}

/* The TSval of the SYN saved for accepted connection `s`; 0 and *found 0 when it has none. */
static uint32_t saved_syn_tsval(int s, int *found) {
  unsigned char b[512];
  socklen_t len = sizeof b;
  *found = 0;
  if (getsockopt(s, IPPROTO_TCP, TCP_SAVED_SYN, b, &len) || len < 20) return 0;
  unsigned ihl = (b[0] & 15) * 4u;
  if (len < ihl + 20) return 0;
  const unsigned char *t = b + ihl;
  unsigned doff = (t[12] >> 4) * 4u;
  for (unsigned i = 20; i < doff && ihl + i < len;) {
    if (t[i] == TCPOPT_EOL) break;
    if (t[i] == TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= doff || t[i + 1] < 2) break;
    if (t[i] == TCPOPT_TIMESTAMP && t[i + 1] == 10 && i + 10 <= doff) {
      *found = 1;
      return (uint32_t)t[i + 2] << 24 | (uint32_t)t[i + 3] << 16 | (uint32_t)t[i + 4] << 8 | t[i + 5];
    }
    i += t[i + 1];
  }
  return 0;
}

/* Connects from 127.0.0.1:`port` to listener `l` (SERVER); returns the TSval of its SYN, and the
 * monotonic ms read before the connection was made and after. */
static uint32_t syn_tsval(int l, int port, uint32_t *before, uint32_t *after, int *found) {
  *before = mono_ms();
  int c = connect_from(port, SERVER);
  *after = mono_ms();
  int s = accept(l, NULL, NULL);
  uint32_t v = saved_syn_tsval(s, found);
  close(s);
  close(c);
  return v;
}

static void clock_of(const char *mode, int port) {
  sysctl("tcp_timestamps", mode);
  int l = reuse_listener(SERVER), one = 1;
  setsockopt(l, IPPROTO_TCP, TCP_SAVE_SYN, &one, sizeof one);
  uint32_t b1, a1, b2, a2;
  int f1, f2;
  uint32_t t1 = syn_tsval(l, port, &b1, &a1, &f1), t2 = syn_tsval(l, port + 1, &b2, &a2, &f2);
  int32_t d = (int32_t)(t2 - t1);
  printf("tcp_timestamps %s: SYN TSvals %s", mode, f1 && f2 ? "yes" : "no");
  printf(", the first within CLOCK_MONOTONIC's ms around its connect %s", f1 && within(t1, b1, a1) ? "yes" : "no");
  printf(", from two ports within 1 s of each other %s\n", f1 && f2 && d >= 0 && d < 1000 ? "yes" : "no");
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int s = socket(AF_INET, SOCK_STREAM, 0), v = 0;
  socklen_t len = sizeof v;
  uint32_t before = mono_ms();
  int r = getsockopt(s, IPPROTO_TCP, TCP_TIMESTAMP, &v, &len);
  uint32_t after = mono_ms();
  printf("TCP_TIMESTAMP of a new socket: %s, low bit %d, within CLOCK_MONOTONIC's ms %s\n", res(r), v & 1,
         r == 0 && within((uint32_t)v, before & ~1u, after) ? "yes" : "no");
  close(s);
  /* A listener's offset is 0 whatever tcp_timestamps says: the bare clock. */
  int l = reuse_listener(SERVER);
  len = sizeof v;
  before = mono_ms();
  r = getsockopt(l, IPPROTO_TCP, TCP_TIMESTAMP, &v, &len);
  after = mono_ms();
  printf("TCP_TIMESTAMP of a listener: %s, low bit %d, within CLOCK_MONOTONIC's ms %s\n", res(r), v & 1,
         r == 0 && within((uint32_t)v, before & ~1u, after) ? "yes" : "no");
  close(l);
  clock_of("2", CLIENT);
  clock_of("1", CLIENT + 2);
  return 0;
}
