/* PACKET_TX_RING on AF_PACKET sockets, natively in a fresh network namespace (lo up) and under
 * tsvisor --network none (packet-tx-ring.test.ts): the outputs must match. Covered: the errnos of
 * setting a TX ring (again: EBUSY; TPACKET_V3 with block options: EINVAL), options once a TX
 * ring is set; frames written into the mapped ring with TP_STATUS_SEND_REQUEST and sent by
 * send(2) with a NULL buffer (TPACKET_V1 SOCK_RAW, V2 SOCK_DGRAM, V3), the status given back
 * (TP_STATUS_AVAILABLE), the ring wrapping, the frames reaching lo (a packet socket for ETH_P_IP
 * receives them, a sniffing one sees them both ways; the IP layer drops them, their source
 * 127.0.0.1 being martian on a packet without a route, so no UDP socket is asked); a bad frame (too long, shorter than the link header, a bad PACKET_TX_HAS_OFF
 * offset) stopping the call with its errno and TP_STATUS_WRONG_FORMAT, or skipped with
 * PACKET_LOSS; sending to an address or without a link; an RX and a TX ring in one mapping (RX
 * first); tearing down the RX ring purging the receive queue. */
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
#include <unistd.h>

#include "sock-util.h"

#define SINK_PORT 6000

static int rcvr, sniffer;

static int packet_socket(int type, int ver, int proto, int ifindex) {
  int s = socket(AF_PACKET, type, htons(proto));
  if (setsockopt(s, SOL_PACKET, PACKET_VERSION, &ver, sizeof ver) != 0) printf("version: %s\n", res_rc(-1));
  if (ifindex >= 0) {
    struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(proto), .sll_ifindex = ifindex};
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) printf("bind: %s\n", res_rc(-1));
  }
  return s;
}

static uint16_t csum(const uint8_t *p, int n) {
  uint32_t s = 0;
  for (int i = 0; i + 1 < n; i += 2) s += p[i] << 8 | p[i + 1];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

/* An IPv4/UDP datagram to the sink carrying `tag` (one byte repeated `payload` times) at `at`;
 * returns its length. */
static int udp_packet(uint8_t *at, char tag, int payload) {
  int len = 28 + payload;
  uint8_t h[28] = {0x45, 0, len >> 8, len & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
                   0x1f, 0x90, SINK_PORT >> 8, SINK_PORT & 0xff, (len - 20) >> 8, (len - 20) & 0xff, 0, 0};
  uint16_t c = csum(h, 20);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  memcpy(at, h, 28);
  memset(at + 28, tag, payload);
  return len;
}

/* What lo received since the last call (the receiving packet socket's IP packets): each one's
 * tag (its first payload byte) and length, in order. */
static void received(const char *what) {
  uint8_t buf[2048];
  printf("%s:", what);
  for (;;) {
    long n = recv(rcvr, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) break;
    printf(" %c%ld", n > 28 ? buf[28] : '-', n);
  }
  printf("\n");
}

/* How many frames the sniffer (ETH_P_ALL on lo) saw since the last call, by direction. */
static void sniffed(const char *what) {
  uint8_t buf[2048];
  int out = 0, in = 0;
  for (;;) {
    struct sockaddr_ll from;
    socklen_t l = sizeof from;
    long n = recvfrom(sniffer, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &l);
    if (n < 0) break;
    if (from.sll_pkttype == PACKET_OUTGOING) out++;
    else in++;
  }
  printf("%s: sniffed %d out %d in\n", what, out, in);
}

static const char *send_ring(int s) { return res_rc(send(s, NULL, 0, 0)); }

static void errnos(void) {
  printf("-- errnos\n");
  int s = packet_socket(SOCK_DGRAM, TPACKET_V2, ETH_P_IP, 1);
  struct tpacket_req r = {.tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 2048, .tp_frame_nr = 2};
  printf("short optlen: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r, 8)));
  r.tp_frame_size = 2040;
  printf("frame not aligned: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r, sizeof r)));
  r.tp_frame_size = 2048;
  printf("tx ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r, sizeof r)));
  printf("tx ring again: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r, sizeof r)));
  int v = TPACKET_V1;
  printf("version: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_VERSION, &v, sizeof v)));
  printf("reserve: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RESERVE, &v, sizeof v)));
  printf("loss: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_LOSS, &v, sizeof v)));
  v = 1;
  printf("tx has off: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_HAS_OFF, &v, sizeof v)));
  socklen_t l = sizeof v;
  getsockopt(s, SOL_PACKET, PACKET_TX_HAS_OFF, &v, &l);
  printf("tx has off now: %d\n", v);
  void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  printf("mmap: %s\n", m == MAP_FAILED ? res_rc(-1) : "ok");
  struct tpacket_req none = {0};
  printf("tx teardown while mapped: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &none, sizeof none)));
  printf("nothing requested: %s\n", send_ring(s));
  if (m != MAP_FAILED) munmap(m, 4096);
  printf("tx teardown: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &none, sizeof none)));
  printf("send without a ring: %s\n", send_ring(s));
  close(s);
  s = packet_socket(SOCK_DGRAM, TPACKET_V3, ETH_P_IP, 1);
  struct tpacket_req3 r3 = {.tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 2048, .tp_frame_nr = 2,
                            .tp_retire_blk_tov = 10};
  printf("v3 tx with a timeout: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r3, sizeof r3)));
  r3.tp_retire_blk_tov = 0;
  r3.tp_sizeof_priv = 16;
  printf("v3 tx with priv: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r3, sizeof r3)));
  r3.tp_sizeof_priv = 0;
  r3.tp_feature_req_word = 1;
  printf("v3 tx with features: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r3, sizeof r3)));
  r3.tp_feature_req_word = 0;
  printf("v3 tx: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r3, sizeof r3)));
  close(s);
}

static struct tpacket2_hdr *v2_frame(uint8_t *ring, int i) { return (struct tpacket2_hdr *)(ring + i * 2048); }

/* Frame `i` of a V2 SOCK_DGRAM ring: a datagram tagged `tag`, handed to the kernel. */
static void v2_put(uint8_t *ring, int i, char tag, int payload) {
  struct tpacket2_hdr *h = v2_frame(ring, i);
  h->tp_len = udp_packet((uint8_t *)h + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll), tag, payload);
  h->tp_status = TP_STATUS_SEND_REQUEST;
}

static void v2_status(const char *what, uint8_t *ring) {
  printf("%s:", what);
  for (int i = 0; i < 4; i++) printf(" %u", v2_frame(ring, i)->tp_status);
  printf("\n");
}

static void v2(void) {
  printf("-- TPACKET_V2 SOCK_DGRAM\n");
  int s = packet_socket(SOCK_DGRAM, TPACKET_V2, ETH_P_IP, 1);
  struct tpacket_req r = {.tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048, .tp_frame_nr = 4};
  printf("tx ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r, sizeof r)));
  uint8_t *ring = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  printf("mmap: %s\n", ring == MAP_FAILED ? res_rc(-1) : "ok");
  if (ring == MAP_FAILED) return;
  v2_status("fresh", ring);
  printf("nothing requested: %s\n", send_ring(s));
  v2_put(ring, 0, 'a', 10);
  v2_put(ring, 1, 'b', 20);
  v2_put(ring, 2, 'c', 30);
  printf("three frames: %s\n", send_ring(s));
  v2_status("after", ring);
  received("received");
  sniffed("three frames");
  /* The kernel goes on from frame 3 and wraps. */
  v2_put(ring, 0, 'e', 50);
  printf("frame 0 while the head is at 3: %s\n", send_ring(s));
  v2_put(ring, 3, 'd', 40);
  printf("frames 3 and 0: %s\n", send_ring(s));
  received("received");
  /* A frame too long for the ring stops the call: the frames before it were sent. */
  v2_put(ring, 1, 'f', 10);
  v2_put(ring, 2, 'g', 10);
  v2_frame(ring, 2)->tp_len = 2048;
  v2_put(ring, 3, 'h', 10);
  printf("too long: %s\n", send_ring(s));
  v2_status("after", ring);
  received("received");
  printf("stuck on it: %s\n", send_ring(s));
  v2_put(ring, 2, 'i', 10);
  printf("fixed: %s\n", send_ring(s));
  v2_status("after", ring);
  received("received");
  /* An address: another link is ENXIO, a short one EINVAL, lo is fine. */
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = 7};
  v2_put(ring, 0, 'j', 10);
  printf("to ifindex 7: %s\n", res_rc(sendto(s, NULL, 0, 0, (struct sockaddr *)&to, sizeof to)));
  printf("short address: %s\n", res_rc(sendto(s, NULL, 0, 0, (struct sockaddr *)&to, 12)));
  to.sll_ifindex = 1;
  to.sll_halen = 6;
  printf("to lo: %s\n", res_rc(sendto(s, NULL, 0, 0, (struct sockaddr *)&to, sizeof to)));
  received("received");
  /* write(2) sends the ring too, whatever it is given. */
  v2_put(ring, 1, 'k', 10);
  printf("write: %s\n", res_rc(write(s, "ignored", 7)));
  received("received");
  struct pollfd p = {.fd = s, .events = POLLOUT};
  poll(&p, 1, 0);
  printf("poll: 0x%x\n", p.revents);
  munmap(ring, 8192);
  close(s);
  sniffed("the rest");
}

static void loss(void) {
  printf("-- PACKET_LOSS\n");
  int s = packet_socket(SOCK_DGRAM, TPACKET_V2, ETH_P_IP, 1);
  int one = 1;
  printf("loss: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_LOSS, &one, sizeof one)));
  struct tpacket_req r = {.tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048, .tp_frame_nr = 4};
  setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r, sizeof r);
  uint8_t *ring = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  if (ring == MAP_FAILED) return;
  v2_put(ring, 0, 'a', 10);
  v2_put(ring, 1, 'b', 10);
  v2_frame(ring, 1)->tp_len = 4000;
  v2_put(ring, 2, 'c', 10);
  printf("a bad frame among good ones: %s\n", send_ring(s));
  v2_status("after", ring);
  received("received");
  munmap(ring, 8192);
  close(s);
}

/* TPACKET_V1 on SOCK_RAW: the frames carry lo's header; one shorter than it is refused. */
static void v1_raw(void) {
  printf("-- TPACKET_V1 SOCK_RAW\n");
  int s = packet_socket(SOCK_RAW, TPACKET_V1, ETH_P_IP, 1);
  struct tpacket_req r = {.tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 1024, .tp_frame_nr = 4};
  printf("tx ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r, sizeof r)));
  uint8_t *ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  if (ring == MAP_FAILED) return;
  for (int i = 0; i < 2; i++) {
    struct tpacket_hdr *h = (struct tpacket_hdr *)(ring + i * 1024);
    uint8_t *d = (uint8_t *)h + TPACKET_HDRLEN - sizeof(struct sockaddr_ll);
    memset(d, 0, 14);
    d[12] = 0x08;
    h->tp_len = 14 + udp_packet(d + 14, 'r' + i, 10 * (i + 1));
    h->tp_status = TP_STATUS_SEND_REQUEST;
  }
  printf("two frames: %s\n", send_ring(s));
  printf("status: %lu %lu\n", ((struct tpacket_hdr *)ring)->tp_status, ((struct tpacket_hdr *)(ring + 1024))->tp_status);
  received("received");
  struct tpacket_hdr *h = (struct tpacket_hdr *)(ring + 2 * 1024);
  h->tp_len = 10;
  h->tp_status = TP_STATUS_SEND_REQUEST;
  printf("shorter than the link header: %s\n", send_ring(s));
  printf("status: %lu\n", h->tp_status);
  munmap(ring, 4096);
  close(s);
}

/* TPACKET_V3 frames (the V3 header, tp_next_offset 0) and PACKET_TX_HAS_OFF's offsets. */
static void v3(void) {
  printf("-- TPACKET_V3 SOCK_DGRAM, PACKET_TX_HAS_OFF\n");
  int s = packet_socket(SOCK_DGRAM, TPACKET_V3, ETH_P_IP, 1);
  int one = 1;
  printf("tx has off: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_HAS_OFF, &one, sizeof one)));
  struct tpacket_req3 r = {.tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 1024, .tp_frame_nr = 4};
  printf("tx ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r, sizeof r)));
  uint8_t *ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  if (ring == MAP_FAILED) return;
  struct tpacket3_hdr *h = (struct tpacket3_hdr *)ring;
  h->tp_net = 200;
  h->tp_len = udp_packet(ring + 200, 'v', 10);
  h->tp_status = TP_STATUS_SEND_REQUEST;
  const char *r1 = send_ring(s);
  printf("data at 200: %s status %u\n", r1, h->tp_status);
  h = (struct tpacket3_hdr *)(ring + 1024);
  h->tp_net = 20;
  h->tp_len = udp_packet(ring + 1024 + 48, 'w', 10);
  h->tp_status = TP_STATUS_SEND_REQUEST;
  const char *r2 = send_ring(s);
  printf("data inside the header: %s status %u\n", r2, h->tp_status);
  h->tp_net = 48;
  h->tp_next_offset = 64;
  h->tp_status = TP_STATUS_SEND_REQUEST;
  const char *r3 = send_ring(s);
  printf("a next offset: %s status %u\n", r3, h->tp_status);
  h->tp_next_offset = 0;
  h->tp_status = TP_STATUS_SEND_REQUEST;
  const char *r4 = send_ring(s);
  printf("fixed: %s status %u\n", r4, h->tp_status);
  received("received");
  munmap(ring, 4096);
  close(s);
}

/* An RX and a TX ring on one socket, mapped together: RX first. The socket receives on its RX
 * ring what it sends through its TX ring (lo hands it back). */
static void both(void) {
  printf("-- RX and TX\n");
  int s = packet_socket(SOCK_DGRAM, TPACKET_V2, ETH_P_IP, 1);
  struct tpacket_req rx = {.tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048, .tp_frame_nr = 4};
  struct tpacket_req tx = {.tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 2048, .tp_frame_nr = 2};
  printf("tx ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &tx, sizeof tx)));
  printf("rx ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &rx, sizeof rx)));
  printf("rx size only: %s\n", res_rc(mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0) == MAP_FAILED ? -1 : 0));
  uint8_t *m = mmap(NULL, 12288, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  printf("both: %s\n", m == MAP_FAILED ? res_rc(-1) : "ok");
  if (m == MAP_FAILED) return;
  uint8_t *txr = m + 8192;
  v2_put(txr, 0, 'x', 33);
  const char *r = send_ring(s);
  printf("send: %s tx status %u\n", r, v2_frame(txr, 0)->tp_status);
  struct pollfd p = {.fd = s, .events = POLLIN};
  poll(&p, 1, 2000);
  struct tpacket2_hdr *h = v2_frame(m, 0);
  printf("rx frame 0: status 0x%x len %u first byte %c\n", h->tp_status & (TP_STATUS_USER | TP_STATUS_LOSING), h->tp_len,
         *((uint8_t *)h + h->tp_net + 28));
  received("received");
  printf("teardown while mapped: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &(struct tpacket_req){0}, sizeof tx)));
  munmap(m, 12288);
  printf("tx teardown: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_TX_RING, &(struct tpacket_req){0}, sizeof tx)));
  /* The RX ring kept what it had through the TX ring's teardown. */
  m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  printf("rx alone: %s", m == MAP_FAILED ? res_rc(-1) : "ok");
  if (m != MAP_FAILED) {
    printf(" frame 0 status 0x%x len %u\n", v2_frame(m, 0)->tp_status & TP_STATUS_USER, v2_frame(m, 0)->tp_len);
    munmap(m, 8192);
  } else printf("\n");
  close(s);
}

/* Without a bound link, sending needs an address (ENXIO); tearing the RX ring down (even with
 * none set) drops what waits in the receive queue. */
static void misc(void) {
  printf("-- misc\n");
  int s = packet_socket(SOCK_DGRAM, TPACKET_V2, ETH_P_IP, -1);
  struct tpacket_req r = {.tp_block_size = 4096, .tp_block_nr = 1, .tp_frame_size = 2048, .tp_frame_nr = 2};
  setsockopt(s, SOL_PACKET, PACKET_TX_RING, &r, sizeof r);
  uint8_t *ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
  if (ring == MAP_FAILED) return;
  v2_put(ring, 0, 'u', 10);
  const char *r1 = send_ring(s);
  printf("unbound: %s status %u\n", r1, v2_frame(ring, 0)->tp_status);
  munmap(ring, 4096);
  close(s);
  s = packet_socket(SOCK_DGRAM, TPACKET_V2, ETH_P_IP, 1);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(SINK_PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  sendto(u, "q", 1, 0, (struct sockaddr *)&at, sizeof at);
  close(u);
  int n = 0;
  ioctl(s, FIONREAD, &n);
  printf("queued: %d\n", n);
  struct tpacket_req none = {0};
  printf("rx teardown without a ring: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RX_RING, &none, sizeof none)));
  n = -1;
  ioctl(s, FIONREAD, &n);
  printf("queued after: %d\n", n);
  close(s);
  received("received");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int sink = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(SINK_PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(sink, (struct sockaddr *)&at, sizeof at) != 0) printf("sink: %s\n", res_rc(-1));
  rcvr = packet_socket(SOCK_DGRAM, TPACKET_V1, ETH_P_IP, 1);
  sniffer = packet_socket(SOCK_RAW, TPACKET_V1, ETH_P_ALL, 1);
  errnos();
  v2();
  loss();
  v1_raw();
  v3();
  both();
  misc();
  return 0;
}
