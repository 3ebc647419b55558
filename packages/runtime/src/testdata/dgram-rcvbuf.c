/* How many datagrams a small SO_RCVBUF holds, natively in a fresh network namespace and under
 * tsvisor (dgram-rcvbuf.test.ts). Linux charges each queued datagram the memory of its sk_buff
 * (truesize: 832 bytes for a short one over lo, 2304 for 1000 bytes), not its payload, against
 * sk_rcvbuf: UDP drops one that would take a queue that is not empty over the limit
 * (__udp_enqueue_schedule_skb), raw, ping and packet sockets one arriving while the charge has
 * reached it (sock_queue_rcv_skb, packet_rcv). For UDP (IPv4, IPv6), raw IPv4, ping and packet
 * sockets with SO_RCVBUF 0 (the least, 2304) or a few sizes more, ten datagrams of 1, 100 and
 * 1000 bytes are sent to a socket that does not read; then it prints the queue's charge
 * (SO_MEMINFO, /proc/net's rx_queue), the drops (SO_MEMINFO, /proc/net's drops column,
 * /proc/net/snmp's RcvbufErrors and InErrors), FIONREAD (the next datagram's length; a ping
 * socket has no such ioctl), and how many datagrams can be read. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/sock_diag.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum kind { UDP4, UDP6, RAW4, PING4, PACKET };
static const char *names[] = {"udp4", "udp6", "raw4", "ping4", "packet"};
static const char *tables[] = {"/proc/net/udp", "/proc/net/udp6", "/proc/net/raw", "/proc/net/icmp", NULL};

/* A /proc/net/snmp counter: `group` ("Udp:") then `name` in its header line. */
static long snmp(const char *group, const char *name) {
  static char buf[16384];
  FILE *f = fopen("/proc/net/snmp", "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  size_t gl = strlen(group);
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    if (strncmp(line, group, gl) != 0) continue;
    char *values = strchr(line, '\n') + 1; /* the header line, then the values */
    int col = 0;
    for (char *h = line + gl; *h != '\n'; col++) {
      while (*h == ' ') h++;
      size_t l = strcspn(h, " \n");
      if (l == strlen(name) && strncmp(h, name, l) == 0) {
        char *v = values + gl;
        for (int i = 0; i < col; i++) v = strchr(v + 1, ' ');
        return strtol(v, NULL, 10);
      }
      h += l;
    }
    return -1;
  }
  return -1;
}

/* The rx_queue and drops columns of the socket with inode `ino` in /proc/net table `path`. */
static void proc_row(const char *path, unsigned long ino) {
  char line[512];
  FILE *f = fopen(path, "r");
  if (!f) {
    printf(" %s: %s", path, strerrorname_np(errno));
    return;
  }
  while (fgets(line, sizeof line, f)) {
    char *tok[32];
    int n = 0;
    for (char *t = strtok(line, " \n"); t && n < 32; t = strtok(NULL, " \n")) tok[n++] = t;
    if (n < 13 || strtoul(tok[9], NULL, 10) != ino) continue;
    char *rx = strchr(tok[4], ':');
    printf(" proc rx_queue %lu drops %s", rx ? strtoul(rx + 1, NULL, 16) : 0, tok[n - 1]);
    fclose(f);
    return;
  }
  printf(" proc: not listed");
  fclose(f);
}

static int open_kind(enum kind k) {
  switch (k) {
  case UDP4: return socket(AF_INET, SOCK_DGRAM, 0);
  case UDP6: return socket(AF_INET6, SOCK_DGRAM, 0);
  case RAW4: return socket(AF_INET, SOCK_RAW, 253);
  case PING4: return socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  case PACKET: return socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  }
  return -1;
}

/* Sends ten datagrams of `size` bytes to a socket of kind `k` with SO_RCVBUF `rcvbuf`. */
static void run(enum kind k, int rcvbuf, int size) {
  static unsigned char buf[2048];
  int r = open_kind(k);
  if (r < 0) {
    printf("%s: socket: %s\n", names[k], strerrorname_np(errno));
    return;
  }
  setsockopt(r, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int got = 0;
  socklen_t gl = sizeof got;
  getsockopt(r, SOL_SOCKET, SO_RCVBUF, &got, &gl);
  struct sockaddr_storage a = {0};
  socklen_t al = sizeof a;
  if (k == UDP6) {
    struct sockaddr_in6 *b = (struct sockaddr_in6 *)&a;
    b->sin6_family = AF_INET6;
    b->sin6_addr = in6addr_loopback;
    al = sizeof *b;
  } else {
    struct sockaddr_in *b = (struct sockaddr_in *)&a;
    b->sin_family = AF_INET;
    b->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    al = sizeof *b;
  }
  /* A ping socket sends echo requests to itself (lo answers them); the others get what a second
   * socket (UDP) or they themselves (raw, which receive their own protocol) send. */
  int s = r, u = -1;
  if (k == UDP4 || k == UDP6) {
    if (bind(r, (struct sockaddr *)&a, al) || getsockname(r, (struct sockaddr *)&a, &al)) return;
    s = socket(a.ss_family, SOCK_DGRAM, 0);
  } else if (k == PACKET) {
    /* On lo, where it sees each UDP datagram to `u` as lo receives it (a socket of one protocol
     * is not shown what goes out). */
    struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = if_nametoindex("lo")};
    bind(r, (struct sockaddr *)&ll, sizeof ll);
    u = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(u, (struct sockaddr *)&a, al) || getsockname(u, (struct sockaddr *)&a, &al)) return;
    s = socket(AF_INET, SOCK_DGRAM, 0);
  }
  long rcvbuf_errors = snmp("Udp:", "RcvbufErrors"), in_errors = snmp("Udp:", "InErrors");
  memset(buf, 'x', sizeof buf);
  int len = size;
  if (k == PING4) {
    struct icmphdr h = {.type = ICMP_ECHO};
    memcpy(buf, &h, sizeof h);
    len += sizeof h;
  }
  for (int i = 0; i < 10; i++) {
    if (k == PING4) ((struct icmphdr *)buf)->un.echo.sequence = htons(i);
    if (sendto(s, buf, len, 0, (struct sockaddr *)&a, al) != len) printf("send: %s\n", strerrorname_np(errno));
  }
  usleep(20000);
  unsigned mem[SK_MEMINFO_VARS] = {0};
  socklen_t ml = sizeof mem;
  getsockopt(r, SOL_SOCKET, SO_MEMINFO, mem, &ml);
  int inq = 0;
  const char *inq_err = ioctl(r, FIONREAD, &inq) ? strerrorname_np(errno) : NULL;
  char link[64], target[64] = "";
  snprintf(link, sizeof link, "/proc/self/fd/%d", r);
  ssize_t tl = readlink(link, target, sizeof target - 1);
  unsigned long ino = tl > 0 ? strtoul(strchr(target, '[') + 1, NULL, 10) : 0;
  printf("%s, %d-byte datagrams, SO_RCVBUF %d:", names[k], size, got);
  printf(" meminfo rmem %u drops %u", mem[SK_MEMINFO_RMEM_ALLOC], mem[SK_MEMINFO_DROPS]);
  if (tables[k]) proc_row(tables[k], ino);
  if (k == UDP4)
    printf(" snmp RcvbufErrors +%ld InErrors +%ld", snmp("Udp:", "RcvbufErrors") - rcvbuf_errors,
           snmp("Udp:", "InErrors") - in_errors);
  if (inq_err)
    printf(" FIONREAD %s\n", inq_err);
  else
    printf(" FIONREAD %d\n", inq);
  int n = 0;
  while (recv(r, buf, sizeof buf, MSG_DONTWAIT) >= 0) n++;
  const char *end = strerrorname_np(errno);
  ml = sizeof mem;
  getsockopt(r, SOL_SOCKET, SO_MEMINFO, mem, &ml);
  printf("  readable %d (%s), then rmem %u\n", n, end, mem[SK_MEMINFO_RMEM_ALLOC]);
  if (s != r) close(s);
  if (u >= 0) close(u);
  close(r);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (fd < 0 || write(fd, "0 0", 3) != 3) printf("ping_group_range: %s\n", strerrorname_np(errno));
  close(fd);
  static const int sizes[] = {1, 100, 1000};
  /* 2304 (SO_RCVBUF 0), then limits a datagram more or less away from the charge of the queue. */
  static const int bufs[] = {0, 1664, 2000};
  for (int k = UDP4; k <= PACKET; k++)
    for (unsigned b = 0; b < sizeof bufs / sizeof *bufs; b++)
      for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) run(k, bufs[b], sizes[i]);
  return 0;
}
