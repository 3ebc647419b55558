/* The errnos of mapping AF_PACKET rings (packet_mmap, and packet_set_ring while mapped), natively
 * in a fresh network namespace (lo up) and under tsvisor --network none
 * (packet-ring-map.test.ts): the outputs must match. Covered: mmap(2) without a ring, of another
 * size than the ring, at a nonzero offset, after the ring is torn down; PACKET_RX_RING again,
 * or tearing down (tp_block_nr 0), while any mapping of the ring lives (also a partial one, a
 * second one, and one a forked child inherited); tearing down with the other fields set; the
 * mapping still readable after the socket is closed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock-util.h"

static int packet_socket(int ver) {
  int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (setsockopt(s, SOL_PACKET, PACKET_VERSION, &ver, sizeof ver) != 0) printf("version: %s\n", res_rc(-1));
  return s;
}

static const struct tpacket_req RING = {.tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048, .tp_frame_nr = 4};
static const struct tpacket_req NONE = {0};

static const char *set_ring(int s, const struct tpacket_req *r) {
  return res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, r, sizeof *r));
}

/* mmap(2) of `len` bytes of the socket at `off`: "ok" or the errno; the mapping in *at. */
static const char *map(int s, size_t len, off_t off, uint8_t **at) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, s, off);
  if (p == MAP_FAILED) return res_rc(-1);
  if (at) *at = p;
  else munmap(p, len);
  return "ok";
}

static void sizes(void) {
  printf("-- sizes\n");
  int s = packet_socket(TPACKET_V2);
  printf("no ring: %s\n", map(s, 8192, 0, NULL));
  printf("ring: %s\n", set_ring(s, &RING));
  printf("one block: %s\n", map(s, 4096, 0, NULL));
  printf("three blocks: %s\n", map(s, 12288, 0, NULL));
  printf("not page sized: %s\n", map(s, 8000, 0, NULL));
  printf("at offset 4096: %s\n", map(s, 8192, 4096, NULL));
  printf("at offset 8192: %s\n", map(s, 8192, 8192, NULL));
  printf("whole: %s\n", map(s, 8192, 0, NULL));
  printf("teardown unmapped: %s\n", set_ring(s, &NONE));
  printf("after teardown: %s\n", map(s, 8192, 0, NULL));
  printf("teardown again: %s\n", set_ring(s, &NONE));
  struct tpacket_req odd = RING;
  odd.tp_block_nr = 0;
  odd.tp_frame_nr = 0;
  printf("ring: %s\n", set_ring(s, &RING));
  printf("teardown with sizes set: %s\n", set_ring(s, &odd));
  close(s);
}

static void busy(void) {
  printf("-- mapped\n");
  int s = packet_socket(TPACKET_V2);
  uint8_t *a = NULL, *b = NULL;
  printf("ring: %s\n", set_ring(s, &RING));
  printf("map: %s\n", map(s, 8192, 0, &a));
  printf("ring again: %s\n", set_ring(s, &RING));
  printf("teardown: %s\n", set_ring(s, &NONE));
  struct tpacket_req bad = {.tp_frame_nr = 4};
  printf("teardown with frames: %s\n", set_ring(s, &bad));
  int v = TPACKET_V3;
  printf("version: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_VERSION, &v, sizeof v)));
  printf("second map: %s\n", map(s, 8192, 0, &b));
  munmap(a, 8192);
  printf("one left, teardown: %s\n", set_ring(s, &NONE));
  printf("half unmapped: %d\n", munmap(b, 4096));
  printf("half left, teardown: %s\n", set_ring(s, &NONE));
  munmap(b + 4096, 4096);
  printf("unmapped, teardown: %s\n", set_ring(s, &NONE));
  printf("new ring: %s\n", set_ring(s, &RING));
  close(s);
}

static void inherited(void) {
  printf("-- inherited\n");
  int s = packet_socket(TPACKET_V2);
  uint8_t *a = NULL;
  printf("ring: %s\n", set_ring(s, &RING));
  printf("map: %s\n", map(s, 8192, 0, &a));
  int go[2], done[2];
  if (pipe(go) != 0 || pipe(done) != 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(go[1]);
    write(done[1], "m", 1);
    read(go[0], &c, 1);
    _exit(0);
  }
  char c;
  read(done[0], &c, 1);
  munmap(a, 8192);
  printf("child still maps it, teardown: %s\n", set_ring(s, &NONE));
  write(go[1], "x", 1);
  int st;
  waitpid(pid, &st, 0);
  printf("child gone, teardown: %s\n", set_ring(s, &NONE));
  close(s);
}

static void closed(void) {
  printf("-- closed\n");
  int s = packet_socket(TPACKET_V2);
  uint8_t *a = NULL;
  printf("ring: %s\n", set_ring(s, &RING));
  printf("map: %s\n", map(s, 8192, 0, &a));
  close(s);
  /* The pages stay with the mapping: the app may read and write them still. */
  a[100] = 7;
  printf("after close: status %u byte %u\n", ((struct tpacket2_hdr *)a)->tp_status, a[100]);
  munmap(a, 8192);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  sizes();
  busy();
  inherited();
  closed();
  return 0;
}
