/* net.ipv4.tcp_rfc1337 on loopback, as Linux's tcp_timewait_state_process reads it for each
 * segment: a RST exactly at RCV.NXT of a TIME_WAIT connection ends it with 0 (the default: TIME_WAIT
 * assassination, RFC 1337) and is ignored with 1; a RST out of the window is ignored either way.
 * The server closes first, so its end waits in TIME_WAIT; a packet socket on lo reads the client's
 * FIN (its sequence number plus one is the TIME_WAIT's RCV.NXT), and a raw TCP socket sends the
 * RSTs as the (closed) client. The sysctl file reads and writes as a u8. Run in a fresh network
 * namespace (lo up) and under tsvisor, the output must be the same. */
#define _GNU_SOURCE
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>

#include "tw-util.h"

#define SERVER 6301
#define CLIENT 40601

/* The sequence number of the FIN from `client` to SERVER, if lo carries one within a second. */
static int client_fin(int p, int client, uint32_t *seq) {
  struct seg s;
  while (next_seg(p, 1000, &s))
    if (s.sport == client && s.dport == SERVER && (s.flags & TH_FIN)) {
      *seq = s.seq;
      return 1;
    }
  return 0;
}

/* The contents of /proc/sys/net/ipv4/tcp_rfc1337, without its newline. */
static const char *rfc1337(void) {
  static char b[32];
  int fd = open("/proc/sys/net/ipv4/tcp_rfc1337", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof b - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return "?";
  b[n] = 0;
  b[strcspn(b, "\n")] = 0;
  return b;
}

/* What a write of `value` to the sysctl file gives: 0 or the errno's name. */
static const char *write_rfc1337(const char *value) {
  int fd = open("/proc/sys/net/ipv4/tcp_rfc1337", O_WRONLY);
  int r = fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value) ? -1 : 0;
  const char *what = res(r);
  if (fd >= 0) close(fd);
  return what;
}

/* A connection from `client` to SERVER that the server closes first; with tcp_rfc1337 `mode`,
 * a RST out of the window, then one at RCV.NXT, reach the server's TIME_WAIT. */
static void assassinate(const char *mode, int client) {
  sysctl("tcp_rfc1337", mode);
  int p = lo_capture(), r = raw_tcp();
  int l = reuse_listener(SERVER), eof = server_closes_first(l, connect_from(client, SERVER));
  uint32_t fin = 0;
  int seen = client_fin(p, client, &fin);
  printf("tcp_rfc1337 %s: EOF %s, client FIN seen %s, server TIME_WAIT %d", mode, eof ? "yes" : "no",
         seen ? "yes" : "no", time_waits(SERVER, client));
  send_bare(r, client, SERVER, fin + 100000, 0, TH_RST);
  usleep(100 * 1000);
  printf("; after a RST out of the window %d", time_waits(SERVER, client));
  send_bare(r, client, SERVER, fin + 1, 0, TH_RST);
  usleep(100 * 1000);
  printf(", after a RST at RCV.NXT %d\n", time_waits(SERVER, client));
  close(l);
  close(r);
  close(p);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("tcp_rfc1337 %s", rfc1337());
  printf("; write 256: %s", write_rfc1337("256"));
  printf(", write 2: %s", write_rfc1337("2"));
  printf(", reads %s\n", rfc1337());
  assassinate("0", CLIENT);
  assassinate("1", CLIENT + 1);
  return 0;
}
