/* PACKET_FANOUT on AF_PACKET sockets, natively in a fresh network namespace (lo up) and under
 * tsvisor --network none (packet-fanout.test.ts): the outputs must match. Covered: the errnos of
 * joining (unknown mode, ROLLOVER with the rollover flag, a socket not running, a second join,
 * another mode, flags, protocol or device than the group's, UNIQUEID with an id, a full group,
 * max_num_members above PACKET_FANOUT_MAX or differing, a bad optlen), bind(2) once in a group,
 * getsockopt(PACKET_FANOUT), PACKET_FANOUT_DATA and PACKET_ROLLOVER_STATS without what they
 * need, a group outliving a member and ending with its last, UNIQUEID's fresh id; and where
 * known UDP datagrams on lo go in modes whose outcome does not depend on chance: LB (round
 * robin), CPU (pinned to CPU 0), QM (lo's one queue), CBPF (the program's answer), ROLLOVER and
 * the ROLLOVER flag (rings of 4 frames filling up), HASH (every flow sticks to one socket), RND
 * (every datagram goes somewhere), DEFRAG (fragments handed out once, whole), ETH_P_ALL groups
 * (a member's own frames not handed back, IGNORE_OUTGOING), the order of members after a ring
 * change. The sockets are mostly bound to ETH_P_IP on lo, so each datagram is
 * seen once (when lo receives it). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

#define SINK_PORT 6000
#define MAX_SOCKS 4

/* A packet socket for `proto` bound to lo (ifindex 1), or to every link with ifindex 0. */
static int packet_socket(int proto, int ifindex) {
  int s = socket(AF_PACKET, SOCK_DGRAM, htons(proto));
  struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(proto), .sll_ifindex = ifindex};
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) printf("bind: %s\n", res_rc(-1));
  return s;
}

static const char *join(int s, int id, int mode_flags) {
  int v = id | mode_flags << 16;
  return res_rc(setsockopt(s, SOL_PACKET, PACKET_FANOUT, &v, sizeof v));
}

static const char *join_args(int s, int id, int mode_flags, unsigned max) {
  struct fanout_args a = {.id = id, .type_flags = mode_flags, .max_num_members = max};
  return res_rc(setsockopt(s, SOL_PACKET, PACKET_FANOUT, &a, sizeof a));
}

static unsigned fanout_of(int s) {
  unsigned v = 0;
  socklen_t l = sizeof v;
  if (getsockopt(s, SOL_PACKET, PACKET_FANOUT, &v, &l) != 0) return 0xffffffff;
  return v;
}

/* One UDP datagram of `len` bytes from `sport` (0: any) to the sink. */
static void udp_from(int sport, size_t len) {
  static char payload[1500];
  memset(payload, 'u', sizeof payload);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (sport) {
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(sport), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(u, (struct sockaddr *)&from, sizeof from) != 0) printf("udp bind: %s\n", res_rc(-1));
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(SINK_PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  sendto(u, payload, len, 0, (struct sockaddr *)&to, sizeof to);
  close(u);
}

/* How many datagrams wait on `s` (read non-blocking); the source ports seen in `ports`. */
static int drain(int s, int *ports, int max) {
  int n = 0;
  uint8_t buf[2048];
  for (;;) {
    long r = recv(s, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0) break;
    if (ports && n < max && r >= 28) ports[n] = buf[20] << 8 | buf[21];
    n++;
  }
  return n;
}

static void errnos(void) {
  printf("-- errnos\n");
  int a = packet_socket(ETH_P_IP, 1);
  printf("unknown mode: %s\n", join(a, 1, 8));
  printf("rollover with the flag: %s\n", join(a, 1, PACKET_FANOUT_ROLLOVER | PACKET_FANOUT_FLAG_ROLLOVER));
  int v = 1;
  printf("optlen 2: %s\n", res_rc(setsockopt(a, SOL_PACKET, PACKET_FANOUT, &v, 2)));
  printf("optlen 12: %s\n", res_rc(setsockopt(a, SOL_PACKET, PACKET_FANOUT, &v, 12)));
  printf("max members 65537: %s\n", join_args(a, 1, PACKET_FANOUT_HASH, 65537));
  printf("uniqueid with an id: %s\n", join(a, 5, PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_UNIQUEID));
  printf("data without a group: %s\n", res_rc(setsockopt(a, SOL_PACKET, PACKET_FANOUT_DATA, &v, sizeof v)));
  struct tpacket_rollover_stats rs;
  socklen_t rl = sizeof rs;
  printf("rollover stats without rollover: %s\n", res_rc(getsockopt(a, SOL_PACKET, PACKET_ROLLOVER_STATS, &rs, &rl)));
  printf("fanout before: 0x%x\n", fanout_of(a));
  int idle = socket(AF_PACKET, SOCK_DGRAM, 0);
  printf("not running: %s\n", join(idle, 1, PACKET_FANOUT_HASH));
  printf("join: %s\n", join(a, 1, PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG));
  printf("fanout: 0x%x\n", fanout_of(a));
  printf("join again: %s\n", join(a, 1, PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG));
  printf("join another: %s\n", join(a, 2, PACKET_FANOUT_LB));
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = 1};
  printf("bind in a group: %s\n", res_rc(bind(a, (struct sockaddr *)&to, sizeof to)));
  printf("data in a hash group: %s\n", res_rc(setsockopt(a, SOL_PACKET, PACKET_FANOUT_DATA, &v, sizeof v)));
  int b = packet_socket(ETH_P_IP, 1);
  printf("other mode: %s\n", join(b, 1, PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_DEFRAG));
  printf("other flags: %s\n", join(b, 1, PACKET_FANOUT_HASH));
  printf("other max members: %s\n", join_args(b, 1, PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG, 10));
  int c = packet_socket(ETH_P_IPV6, 1);
  printf("other protocol: %s\n", join(c, 1, PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG));
  int d = packet_socket(ETH_P_IP, 0);
  printf("other device: %s\n", join(d, 1, PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG));
  printf("member: %s\n", join(b, 1, PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG));
  printf("member fanout: 0x%x\n", fanout_of(b));
  close(a);
  printf("after the first left: 0x%x\n", fanout_of(b));
  printf("other mode while one is left: %s\n", join(c, 1, PACKET_FANOUT_LB));
  close(b);
  printf("after the last left, other mode: %s\n", join(d, 1, PACKET_FANOUT_LB));
  close(c);
  close(d);
  close(idle);

  /* A group of at most one. */
  int e = packet_socket(ETH_P_IP, 1), f = packet_socket(ETH_P_IP, 1);
  printf("max 1: %s\n", join_args(e, 3, PACKET_FANOUT_CPU, 1));
  printf("second of max 1: %s\n", join(f, 3, PACKET_FANOUT_CPU));
  printf("second of max 1, same max: %s\n", join_args(f, 3, PACKET_FANOUT_CPU, 1));
  close(e);
  close(f);

  /* UNIQUEID: a fresh id, which others then join without the flag. */
  int g = packet_socket(ETH_P_IP, 1), h = packet_socket(ETH_P_IP, 1);
  printf("uniqueid: %s\n", join(g, 0, PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_UNIQUEID));
  unsigned got = fanout_of(g);
  printf("uniqueid fanout: mode %u flags 0x%x\n", got >> 16 & 0xff, got >> 24);
  printf("join the unique id: %s\n", join(h, got & 0xffff, PACKET_FANOUT_LB));
  printf("same: %d\n", fanout_of(h) == got);
  close(g);
  close(h);

  /* PACKET_ROLLOVER_STATS of a member with rollover. */
  int r = packet_socket(ETH_P_IP, 1);
  printf("rollover flag: %s\n", join(r, 4, PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_ROLLOVER));
  rl = sizeof rs;
  memset(&rs, 0xff, sizeof rs);
  const char *got_rs = res_rc(getsockopt(r, SOL_PACKET, PACKET_ROLLOVER_STATS, &rs, &rl));
  printf("rollover stats: %s len %u all %llu huge %llu failed %llu\n", got_rs, (unsigned)rl,
         (unsigned long long)rs.tp_all, (unsigned long long)rs.tp_huge, (unsigned long long)rs.tp_failed);
  close(r);
}

/* `n` sockets in group `id` with `mode_flags`; datagrams sent by `send`; each socket's count. */
static void counts(const char *what, int n, int id, int mode_flags, void (*send)(void)) {
  int s[MAX_SOCKS];
  for (int i = 0; i < n; i++) {
    s[i] = packet_socket(ETH_P_IP, 1);
    const char *r = join(s[i], id, mode_flags);
    if (strcmp(r, "0") != 0) printf("%s join %d: %s\n", what, i, r);
  }
  send();
  printf("%s:", what);
  for (int i = 0; i < n; i++) printf(" %d", drain(s[i], NULL, 0));
  printf("\n");
  for (int i = 0; i < n; i++) close(s[i]);
}

static void ten(void) {
  for (int i = 0; i < 10; i++) udp_from(0, 10);
}

static void modes(void) {
  printf("-- modes\n");
  counts("lb 3 sockets, 10 datagrams", 3, 10, PACKET_FANOUT_LB, ten);
  counts("lb 2 sockets, 10 datagrams", 2, 11, PACKET_FANOUT_LB, ten);
  counts("cpu on CPU 0", 3, 12, PACKET_FANOUT_CPU, ten);
  counts("qm", 3, 13, PACKET_FANOUT_QM, ten);
  counts("rollover, room everywhere", 2, 14, PACKET_FANOUT_ROLLOVER, ten);
  counts("lb with the rollover flag, room everywhere", 2, 15, PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_ROLLOVER, ten);
}

/* CBPF: the program's answer, modulo the group's size, picks the socket. */
static void cbpf(void) {
  printf("-- cbpf\n");
  int s[3];
  for (int i = 0; i < 3; i++) {
    s[i] = packet_socket(ETH_P_IP, 1);
    const char *r = join(s[i], 20, PACKET_FANOUT_CBPF);
    if (strcmp(r, "0") != 0) printf("cbpf join %d: %s\n", i, r);
  }
  printf("before a program:");
  ten();
  for (int i = 0; i < 3; i++) printf(" %d", drain(s[i], NULL, 0));
  printf("\n");
  /* The UDP source port (from the network header: skb->data there on receive). */
  struct sock_filter code[] = {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20), BPF_STMT(BPF_RET | BPF_A, 0)};
  struct sock_fprog prog = {.len = 2, .filter = code};
  printf("short fprog: %s\n", res_rc(setsockopt(s[0], SOL_PACKET, PACKET_FANOUT_DATA, &prog, 8)));
  struct sock_fprog empty = {.len = 0, .filter = code};
  printf("empty fprog: %s\n", res_rc(setsockopt(s[0], SOL_PACKET, PACKET_FANOUT_DATA, &empty, sizeof empty)));
  struct sock_filter bad[] = {BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20)};
  struct sock_fprog badp = {.len = 1, .filter = bad};
  printf("bad program: %s\n", res_rc(setsockopt(s[0], SOL_PACKET, PACKET_FANOUT_DATA, &badp, sizeof badp)));
  printf("program: %s\n", res_rc(setsockopt(s[1], SOL_PACKET, PACKET_FANOUT_DATA, &prog, sizeof prog)));
  /* Source ports 7000..7008: port % 3 is the socket. */
  for (int p = 7000; p < 7009; p++) udp_from(p, 10);
  for (int i = 0; i < 3; i++) {
    int ports[16];
    int n = drain(s[i], ports, 16);
    printf("socket %d:", i);
    for (int k = 0; k < n && k < 16; k++) printf(" %d", ports[k]);
    printf("\n");
  }
  int one = 1;
  printf("lock the filter: %s\n", res_rc(setsockopt(s[2], SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one)));
  printf("program on a locked socket: %s\n", res_rc(setsockopt(s[2], SOL_PACKET, PACKET_FANOUT_DATA, &prog, sizeof prog)));
  unsigned fd = 0;
  printf("ebpf data in a cbpf group: %s\n", res_rc(setsockopt(s[0], SOL_PACKET, PACKET_FANOUT_DATA, &fd, sizeof fd)));
  for (int i = 0; i < 3; i++) close(s[i]);
}

/* A socket with a TPACKET_V2 ring of 4 frames (2 per block), mapped; frames counted from the ring. */
struct ringed {
  int s;
  uint8_t *ring;
};

static struct ringed ringed_socket(int id, int mode_flags) {
  struct ringed r = {packet_socket(ETH_P_IP, 1), NULL};
  int v = TPACKET_V2;
  setsockopt(r.s, SOL_PACKET, PACKET_VERSION, &v, sizeof v);
  struct tpacket_req req = {.tp_block_size = 4096, .tp_block_nr = 2, .tp_frame_size = 2048, .tp_frame_nr = 4};
  if (setsockopt(r.s, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) printf("ring: %s\n", res_rc(-1));
  r.ring = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, r.s, 0);
  const char *j = join(r.s, id, mode_flags);
  if (strcmp(j, "0") != 0) printf("join: %s\n", j);
  return r;
}

static int ring_frames(struct ringed r) {
  int n = 0;
  for (int i = 0; i < 4; i++) n += (((struct tpacket2_hdr *)(r.ring + i * 2048))->tp_status & TP_STATUS_USER) != 0;
  return n;
}

static void rollover_stats(const char *what, int s) {
  struct tpacket_rollover_stats rs;
  socklen_t rl = sizeof rs;
  if (getsockopt(s, SOL_PACKET, PACKET_ROLLOVER_STATS, &rs, &rl) != 0) printf("%s rollover stats: %s\n", what, res_rc(-1));
  else
    printf("%s rollover stats: all %llu huge %llu failed %llu\n", what, (unsigned long long)rs.tp_all,
           (unsigned long long)rs.tp_huge, (unsigned long long)rs.tp_failed);
}

static void drops(const char *what, int s) {
  struct tpacket_stats st;
  socklen_t sl = sizeof st;
  getsockopt(s, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
  printf("%s stats: packets %u drops %u\n", what, st.tp_packets, st.tp_drops);
}

static void rollover(void) {
  printf("-- rollover with rings\n");
  struct ringed a = ringed_socket(30, PACKET_FANOUT_ROLLOVER), b = ringed_socket(30, PACKET_FANOUT_ROLLOVER);
  for (int i = 0; i < 10; i++) udp_from(0, 10);
  printf("rollover: %d %d\n", ring_frames(a), ring_frames(b));
  rollover_stats("first", a.s);
  rollover_stats("second", b.s);
  drops("first", a.s);
  drops("second", b.s);
  close(a.s);
  close(b.s);
  munmap(a.ring, 8192);
  munmap(b.ring, 8192);

  struct ringed c = ringed_socket(31, PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_ROLLOVER),
                d = ringed_socket(31, PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_ROLLOVER);
  for (int i = 0; i < 10; i++) udp_from(0, 10);
  printf("lb with the rollover flag: %d %d\n", ring_frames(c), ring_frames(d));
  rollover_stats("first", c.s);
  rollover_stats("second", d.s);
  drops("first", c.s);
  drops("second", d.s);
  close(c.s);
  close(d.s);
  munmap(c.ring, 8192);
  munmap(d.ring, 8192);
}

/* HASH: four flows (source ports) of five datagrams each over two sockets; each flow's datagrams
 * all land on one socket. */
static void hash(void) {
  printf("-- hash\n");
  int s[2] = {packet_socket(ETH_P_IP, 1), packet_socket(ETH_P_IP, 1)};
  for (int i = 0; i < 2; i++) printf("join: %s\n", join(s[i], 40, PACKET_FANOUT_HASH));
  for (int round = 0; round < 5; round++)
    for (int p = 8000; p < 8004; p++) udp_from(p, 10);
  int seen[2][4] = {{0}};
  int total = 0;
  for (int i = 0; i < 2; i++) {
    int ports[32];
    int n = drain(s[i], ports, 32);
    total += n;
    for (int k = 0; k < n && k < 32; k++)
      if (ports[k] >= 8000 && ports[k] < 8004) seen[i][ports[k] - 8000]++;
  }
  printf("total %d\n", total);
  for (int p = 0; p < 4; p++)
    printf("flow %d: %s\n", p, (seen[0][p] == 5 && seen[1][p] == 0) || (seen[0][p] == 0 && seen[1][p] == 5) ? "sticks" : "split");
  close(s[0]);
  close(s[1]);

  int r[3];
  for (int i = 0; i < 3; i++) {
    r[i] = packet_socket(ETH_P_IP, 1);
    join(r[i], 41, PACKET_FANOUT_RND);
  }
  ten();
  int sum = 0;
  for (int i = 0; i < 3; i++) sum += drain(r[i], NULL, 0);
  printf("rnd total %d\n", sum);
  for (int i = 0; i < 3; i++) close(r[i]);
}

/* ETH_P_ALL groups on lo see a datagram twice (sent and received); a frame a member sends itself
 * is not handed back to the group (only lo's receiving copy is); PACKET_FANOUT_FLAG_IGNORE_OUTGOING
 * (0x4000) leaves the sent copies out. */
static void outgoing(void) {
  printf("-- outgoing\n");
  int s[2] = {packet_socket(ETH_P_ALL, 1), packet_socket(ETH_P_ALL, 1)};
  for (int i = 0; i < 2; i++) printf("join: %s\n", join(s[i], 50, PACKET_FANOUT_LB));
  udp_from(0, 10);
  printf("lb, one datagram: %d %d\n", drain(s[0], NULL, 0), drain(s[1], NULL, 0));
  uint8_t ip[28] = {0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x40, 0x17, 0x70, 0, 8, 0, 0};
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = 1};
  printf("member sends: %s\n", res_rc(sendto(s[0], ip, sizeof ip, 0, (struct sockaddr *)&to, sizeof to)));
  int a = drain(s[0], NULL, 0), b = drain(s[1], NULL, 0);
  printf("after a member's frame: %d in all\n", a + b);
  int other = socket(AF_PACKET, SOCK_DGRAM, 0);
  printf("another socket sends: %s\n", res_rc(sendto(other, ip, sizeof ip, 0, (struct sockaddr *)&to, sizeof to)));
  a = drain(s[0], NULL, 0);
  b = drain(s[1], NULL, 0);
  printf("after another's frame: %d in all\n", a + b);
  close(other);
  close(s[0]);
  close(s[1]);
  int g = packet_socket(ETH_P_ALL, 1);
  printf("join ignoring outgoing: %s\n", join(g, 51, PACKET_FANOUT_LB | 0x4000));
  printf("fanout: 0x%x\n", fanout_of(g));
  udp_from(0, 10);
  printf("ignoring outgoing, one datagram: %d\n", drain(g, NULL, 0));
  close(g);
}

/* A member that sets a ring leaves its place and takes the last one (packet_set_ring unhooks and
 * rehooks the socket): round robin then reaches the members in the new order. */
static void reorder(void) {
  printf("-- reorder\n");
  int s[3];
  for (int i = 0; i < 3; i++) {
    s[i] = packet_socket(ETH_P_IP, 1);
    join(s[i], 60, PACKET_FANOUT_LB);
  }
  struct tpacket_req none = {0};
  printf("ring teardown on the first: %s\n", res_rc(setsockopt(s[0], SOL_PACKET, PACKET_RX_RING, &none, sizeof none)));
  /* Members now [2, 1, 0]: datagram k goes to member k % 3, for k from 1. */
  for (int k = 1; k <= 4; k++) {
    udp_from(0, 10);
    printf("datagram %d:", k);
    for (int i = 0; i < 3; i++) printf(" %d", drain(s[i], NULL, 0));
    printf("\n");
  }
  for (int i = 0; i < 3; i++) close(s[i]);
}

/* An IPv4 fragment to the sink (127.0.0.1, UDP) sent through a packet socket on lo: id `id`,
 * data offset `off` (bytes, a multiple of 8), `len` bytes of data, more fragments or not. */
static void fragment(int tx, int id, int off, int len, int more) {
  uint8_t p[128] = {0x45, 0, 0, 0, id >> 8, id & 0xff, (more ? 0x20 : 0) | (off / 8) >> 8, (off / 8) & 0xff, 64, 17, 0, 0,
                    127, 0, 0, 1, 127, 0, 0, 1};
  int tot = 20 + len;
  p[2] = tot >> 8;
  p[3] = tot & 0xff;
  memset(p + 20, 'f', len);
  if (off == 0) {
    /* The UDP header: port 8080 to the sink, the length of the whole datagram (48), no checksum. */
    uint8_t udp[8] = {0x1f, 0x90, SINK_PORT >> 8, SINK_PORT & 0xff, 0, 48, 0, 0};
    memcpy(p + 20, udp, 8);
  }
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += p[i] << 8 | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  p[10] = ~sum >> 8 & 0xff;
  p[11] = ~sum & 0xff;
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = 1};
  if (sendto(tx, p, tot, 0, (struct sockaddr *)&to, sizeof to) != tot) printf("fragment: %s\n", res_rc(-1));
}

/* The lengths of the packets waiting on `s`. */
static void lengths(const char *what, int s) {
  uint8_t buf[2048];
  printf("%s:", what);
  for (;;) {
    long n = recv(s, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) break;
    printf(" %ld", n);
    if (n >= 20) printf("(off 0x%02x%02x)", buf[6], buf[7]);
  }
  printf("\n");
}

/* PACKET_FANOUT_FLAG_DEFRAG: a group with it gets a fragmented datagram once, whole; one
 * without it gets each fragment. */
static void defrag(void) {
  printf("-- defrag\n");
  int tx = socket(AF_PACKET, SOCK_DGRAM, 0);
  int d[2], n[2];
  for (int i = 0; i < 2; i++) {
    d[i] = packet_socket(ETH_P_IP, 1);
    n[i] = packet_socket(ETH_P_IP, 1);
    join(d[i], 70, PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_DEFRAG);
    join(n[i], 71, PACKET_FANOUT_LB);
  }
  fragment(tx, 0x1234, 0, 32, 1);
  fragment(tx, 0x1234, 32, 16, 0);
  lengths("defrag, first", d[0]);
  lengths("defrag, second", d[1]);
  lengths("plain, first", n[0]);
  lengths("plain, second", n[1]);
  /* Only a first fragment: the defragmenting group holds it. */
  fragment(tx, 0x4321, 0, 32, 1);
  lengths("a lone fragment, defrag", d[0]);
  lengths("a lone fragment, defrag", d[1]);
  lengths("a lone fragment, plain", n[0]);
  lengths("a lone fragment, plain", n[1]);
  for (int i = 0; i < 2; i++) {
    close(d[i]);
    close(n[i]);
  }
  close(tx);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(0, &cpus);
  if (sched_setaffinity(0, sizeof cpus, &cpus) != 0) printf("affinity: %s\n", res_rc(-1));
  int sink = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(SINK_PORT), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(sink, (struct sockaddr *)&at, sizeof at) != 0) printf("sink: %s\n", res_rc(-1));
  int big = 1 << 20;
  setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  errnos();
  modes();
  cbpf();
  rollover();
  hash();
  outgoing();
  reorder();
  defrag();
  return 0;
}
