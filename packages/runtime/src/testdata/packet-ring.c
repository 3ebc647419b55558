/* PACKET_RX_RING on AF_PACKET sockets, natively in a fresh network namespace (lo up) and under
 * tsvisor --network none (packet-ring.test.ts): the outputs must match. Covered: the geometry
 * checks of packet_set_ring and their errnos, EBUSY for options once a ring is set, mmap(2) of
 * the ring; TPACKET_V1's header; TPACKET_V2: frame headers (status, lengths, tp_mac/tp_net for
 * SOCK_RAW and SOCK_DGRAM with PACKET_RESERVE), the sockaddr_ll after them, the
 * TP_STATUS_KERNEL/USER handshake, poll readiness, drops when the app holds every frame,
 * TP_STATUS_LOSING and PACKET_STATISTICS; TPACKET_V3: blocks retired by tp_retire_blk_tov
 * (TP_STATUS_BLK_TMO) or when full, their descriptors, the packet chain inside, a frozen queue
 * and its counters. Timestamps are only checked to be near the current time. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sock-util.h"

/* The V3 block timeout (ms): long enough that two datagrams sent back to back share a block. */
#define TOV_MS 500

/* Status bits whose presence is printed; the timestamp source bits are left out. */
#define TS_BITS (TP_STATUS_TS_SOFTWARE | TP_STATUS_TS_RAW_HARDWARE)

static int packet_socket(int type, int ver) {
  int s = socket(AF_PACKET, type, htons(ETH_P_ALL));
  struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = 1};
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) printf("bind: %s\n", res_rc(-1));
  if (setsockopt(s, SOL_PACKET, PACKET_VERSION, &ver, sizeof ver) != 0) printf("version: %s\n", res_rc(-1));
  return s;
}

/* The port every datagram goes to: a socket is bound there, so no ICMP error comes back. */
#define SINK_PORT 6000

static void udp(size_t len) {
  static char payload[2048];
  memset(payload, 'u', sizeof payload);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(SINK_PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  sendto(u, payload, len, 0, (struct sockaddr *)&to, sizeof to);
  close(u);
}

static const char *pollin(int s, int ms) {
  struct pollfd p = {.fd = s, .events = POLLIN};
  poll(&p, 1, ms);
  return p.revents & POLLIN ? "POLLIN" : "-";
}

static int near_now(unsigned sec) {
  long d = (long)time(NULL) - (long)sec;
  return d >= -5 && d <= 5;
}

static void print_sll(const struct sockaddr_ll *l) {
  printf(" sll family %u protocol 0x%04x ifindex %d hatype %u pkttype %u halen %u", l->sll_family,
         ntohs(l->sll_protocol), l->sll_ifindex, l->sll_hatype, l->sll_pkttype, l->sll_halen);
}

static void geometry(void) {
  int s = packet_socket(SOCK_RAW, TPACKET_V2);
  struct tpacket_req r = {.tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048, .tp_frame_nr = 4};
  printf("short optlen: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, 8)));
  r.tp_block_size = 4000;
  printf("block not page aligned: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  r.tp_block_size = 4096;
  r.tp_frame_size = 48;
  printf("frame below header: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  r.tp_frame_size = 2040;
  printf("frame not aligned: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  r.tp_frame_size = 2048;
  r.tp_frame_nr = 5;
  printf("frame count mismatch: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  r.tp_frame_size = 8192;
  r.tp_frame_nr = 0;
  printf("frame above block: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  struct tpacket_req none = {.tp_frame_nr = 4};
  printf("no blocks, frames: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &none, sizeof none)));
  none.tp_frame_nr = 0;
  printf("no ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &none, sizeof none)));
  r.tp_frame_size = 2048;
  r.tp_frame_nr = 4;
  printf("ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  printf("ring again: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  int v = TPACKET_V3;
  printf("PACKET_VERSION with ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_VERSION, &v, sizeof v)));
  v = 8;
  printf("PACKET_RESERVE with ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RESERVE, &v, sizeof v)));
  printf("remove ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &none, sizeof none)));
  v = TPACKET_V1;
  printf("PACKET_VERSION after: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_VERSION, &v, sizeof v)));
  close(s);
  s = packet_socket(SOCK_RAW, TPACKET_V3);
  struct tpacket_req3 r3 = {.tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 2048, .tp_frame_nr = 2,
                            .tp_sizeof_priv = 4000};
  printf("v3 req too short: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r3, sizeof(struct tpacket_req))));
  printf("v3 priv too big: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r3, sizeof r3)));
  r3.tp_sizeof_priv = 0;
  printf("v3 ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r3, sizeof r3)));
  close(s);
}

/* One V2 frame: its header, sockaddr_ll and the UDP it carries. */
static void show_v2(const char *what, uint8_t *ring, int i, int frame_size, int link) {
  struct tpacket2_hdr *h = (struct tpacket2_hdr *)(ring + i * frame_size);
  printf("%s: frame %d status 0x%x len %u snaplen %u mac %u net %u ts %d vlan %u", what, i,
         h->tp_status & ~TS_BITS, h->tp_len, h->tp_snaplen, h->tp_mac, h->tp_net, near_now(h->tp_sec), h->tp_vlan_tci);
  print_sll((struct sockaddr_ll *)((uint8_t *)h + TPACKET_ALIGN(sizeof *h)));
  const uint8_t *ip = (uint8_t *)h + h->tp_net;
  if (h->tp_snaplen >= (unsigned)(link + 28))
    printf(" proto %u dport %u", ip[9], ip[22] << 8 | ip[23]);
  printf("\n");
}

static void v2(int type) {
  printf("-- TPACKET_V2 %s\n", type == SOCK_RAW ? "SOCK_RAW" : "SOCK_DGRAM");
  int s = packet_socket(type, TPACKET_V2);
  int reserve = type == SOCK_DGRAM ? 32 : 0;
  if (reserve) setsockopt(s, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof reserve);
  struct tpacket_req r = {.tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048, .tp_frame_nr = 4};
  printf("ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  uint8_t *ring = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  printf("mmap: %s\n", ring == MAP_FAILED ? res_rc(-1) : "ok");
  if (ring == MAP_FAILED) return;
  printf("idle: %s\n", pollin(s, 0));
  udp(10);
  printf("after a datagram: %s\n", pollin(s, 2000));
  int link = type == SOCK_RAW ? 14 : 0;
  show_v2("first", ring, 0, 2048, link);
  show_v2("second", ring, 1, 2048, link);
  ((struct tpacket2_hdr *)ring)->tp_status = TP_STATUS_KERNEL;
  ((struct tpacket2_hdr *)(ring + 2048))->tp_status = TP_STATUS_KERNEL;
  printf("returned: %s\n", pollin(s, 0));
  /* Six frames for four slots: the last two are dropped. A datagram too large for a frame is cut. */
  udp(2000);
  udp(20);
  udp(30);
  pollin(s, 2000);
  for (int i = 0; i < 4; i++) show_v2("full", ring, (i + 2) % 4, 2048, link);
  struct tpacket_stats st;
  socklen_t sl = sizeof st;
  for (int i = 0; i < 4; i++) ((struct tpacket2_hdr *)(ring + i * 2048))->tp_status = TP_STATUS_KERNEL;
  udp(40);
  pollin(s, 2000);
  show_v2("after drops", ring, 2, 2048, link);
  getsockopt(s, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
  printf("stats len %u packets %u drops %u\n", (unsigned)sl, st.tp_packets, st.tp_drops);
  for (int i = 0; i < 4; i++) ((struct tpacket2_hdr *)(ring + i * 2048))->tp_status = TP_STATUS_KERNEL;
  udp(50);
  pollin(s, 2000);
  show_v2("after stats", ring, 0, 2048, link);
  munmap(ring, 8192);
  close(s);
}

/* TPACKET_V1: the old header (an unsigned long status, microseconds) for one datagram. */
static void v1(void) {
  printf("-- TPACKET_V1 SOCK_RAW\n");
  int s = packet_socket(SOCK_RAW, TPACKET_V1);
  struct tpacket_req r = {.tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 1024, .tp_frame_nr = 4};
  printf("ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  uint8_t *ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  printf("mmap: %s\n", ring == MAP_FAILED ? res_rc(-1) : "ok");
  if (ring == MAP_FAILED) return;
  udp(1200);
  pollin(s, 2000);
  for (int i = 0; i < 3; i++) {
    struct tpacket_hdr *h = (struct tpacket_hdr *)(ring + i * 1024);
    printf("v1 frame %d: status 0x%lx len %u snaplen %u mac %u net %u ts %d usec<1e6 %d", i, h->tp_status & ~TS_BITS,
           h->tp_len, h->tp_snaplen, h->tp_mac, h->tp_net, near_now(h->tp_sec), h->tp_usec < 1000000);
    print_sll((struct sockaddr_ll *)((uint8_t *)h + TPACKET_ALIGN(sizeof *h)));
    printf("\n");
  }
  munmap(ring, 4096);
  close(s);
}

/* One V3 block: its descriptor, then every packet in it. */
static void show_block(uint8_t *ring, int b, int block_size) {
  struct tpacket_block_desc *d = (struct tpacket_block_desc *)(ring + b * block_size);
  struct tpacket_hdr_v1 *h = &d->hdr.bh1;
  printf("block %d: version %u priv %u status 0x%x pkts %u first %u len %u seq %llu ts %d %d\n", b, d->version,
         d->offset_to_priv, h->block_status & ~TS_BITS, h->num_pkts, h->offset_to_first_pkt, h->blk_len,
         (unsigned long long)h->seq_num, near_now(h->ts_first_pkt.ts_sec), near_now(h->ts_last_pkt.ts_sec));
  if (!(h->block_status & TP_STATUS_USER)) return;
  uint8_t *p = (uint8_t *)d + h->offset_to_first_pkt;
  for (unsigned i = 0; i < h->num_pkts; i++) {
    struct tpacket3_hdr *ph = (struct tpacket3_hdr *)p;
    const uint8_t *ip = p + ph->tp_net;
    printf("  pkt %u: next %u status 0x%x len %u snaplen %u mac %u net %u ts %d rxhash %u", i, ph->tp_next_offset,
           ph->tp_status & ~TS_BITS, ph->tp_len, ph->tp_snaplen, ph->tp_mac, ph->tp_net, near_now(ph->tp_sec),
           ph->hv1.tp_rxhash);
    print_sll((struct sockaddr_ll *)(p + TPACKET_ALIGN(sizeof *ph)));
    printf(" dport %u\n", ip[22] << 8 | ip[23]);
    p += ph->tp_next_offset;
  }
}

static void give_back(uint8_t *ring, int b, int block_size) {
  ((struct tpacket_block_desc *)(ring + b * block_size))->hdr.bh1.block_status = TP_STATUS_KERNEL;
}

static void v3(void) {
  printf("-- TPACKET_V3\n");
  int s = packet_socket(SOCK_RAW, TPACKET_V3);
  struct tpacket_req3 r = {.tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048, .tp_frame_nr = 4,
                           .tp_retire_blk_tov = TOV_MS};
  printf("ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &r, sizeof r)));
  uint8_t *ring = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  printf("mmap: %s\n", ring == MAP_FAILED ? res_rc(-1) : "ok");
  if (ring == MAP_FAILED) return;
  printf("idle: %s\n", pollin(s, 0));
  udp(10);
  printf("before the timeout: %s\n", pollin(s, 0));
  printf("after it: %s\n", pollin(s, 3000));
  show_block(ring, 0, 4096);
  show_block(ring, 1, 4096);
  give_back(ring, 0, 4096);
  /* Four packets of about 1.1 KB: three fill block 1, the fourth opens block 0 again and the
   * timeout hands it over. */
  udp(1000);
  udp(1000);
  printf("full block: %s\n", pollin(s, 0));
  show_block(ring, 1, 4096);
  pollin(s, 3000);
  usleep((TOV_MS + 300) * 1000);
  show_block(ring, 0, 4096);
  /* Both blocks held by the app: the queue freezes and packets are dropped. */
  udp(1000);
  udp(1000);
  usleep((TOV_MS + 300) * 1000);
  struct tpacket_stats_v3 st;
  socklen_t sl = sizeof st;
  getsockopt(s, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
  printf("stats len %u packets %u drops %u freezes %u\n", (unsigned)sl, st.tp_packets, st.tp_drops,
         st.tp_freeze_q_cnt);
  give_back(ring, 1, 4096);
  udp(10);
  pollin(s, 3000);
  usleep((TOV_MS + 300) * 1000);
  show_block(ring, 1, 4096);
  munmap(ring, 8192);
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int sink = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(SINK_PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(sink, (struct sockaddr *)&at, sizeof at) != 0) printf("sink: %s\n", res_rc(-1));
  int big = 1 << 20;
  setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  geometry();
  v1();
  v2(SOCK_RAW);
  v2(SOCK_DGRAM);
  v3();
  return 0;
}
