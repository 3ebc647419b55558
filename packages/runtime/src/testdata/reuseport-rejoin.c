/* Where SO_REUSEPORT members go when they stop and start again, read through the group's array
 * (a classic BPF program returning i picks the member in slot i):
 * - a TCP listener shut down for reading (SHUT_RD, SHUT_RDWR) or disconnected (connect with
 *   AF_UNSPEC) leaves its group, the last member taking its slot (tcp_disconnect: inet_unhash,
 *   reuseport_detach_sock); it is an unconnected socket again, still bound; listening again puts
 *   it at the end (reuseport_add_sock); SHUT_WR leaves a listener as it is;
 * - a UDP socket that connects leaves its group (udp_lib_hash4, or udp_lib_rehash when it was
 *   bound to the wildcard address), so the program and the hash pick among the others for
 *   other senders while the peer reaches the connected socket; UDP-Lite bound to the wildcard
 *   address too, but a UDP-Lite socket bound to an address stays (ip4_datagram_connect): the hash
 *   passes over it, and the program may pick it even for a datagram from another sender.
 * Runs natively in a fresh network namespace and under tsvisor --network none; both must print
 * the same. */
#define _GNU_SOURCE
#include "sock-util.h"
#include <linux/filter.h>
#include <unistd.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define LISTENERS 4
#define MEMBERS 4

static struct sock_filter first_byte[] = {BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_A, 0)};

static int attach(int fd, struct sock_filter *f, unsigned n) {
  struct sock_fprog p = {.len = n, .filter = f};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &p, sizeof p);
}

static int attach_ret(int fd, unsigned k) {
  struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, k)};
  return attach(fd, f, 1);
}

static void reuseport(int fd) {
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
}

/* ---- TCP ---- */

static int l[LISTENERS];
/* Whether l[i] listens (the others are left out of the wait for a connection). */
static int listening[LISTENERS];

/* Connects to loopback `port`; the index of the listener of l that accepted it (-1: none, -2:
 * several). */
static int tcp_to(int port) {
  struct sockaddr_storage ss;
  socklen_t sl = loopback(AF_INET, port, &ss);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&ss, sl) < 0) printf("connect: %s\n", err());
  struct pollfd p[LISTENERS];
  for (int i = 0; i < LISTENERS; i++) p[i] = (struct pollfd){.fd = listening[i] ? l[i] : -1, .events = POLLIN};
  poll(p, LISTENERS, 2000);
  int who = -1, got = 0;
  for (int i = 0; i < LISTENERS; i++) {
    int a;
    while (listening[i] && (a = accept(l[i], NULL, NULL)) >= 0) {
      got++;
      who = i;
      close(a);
    }
  }
  close(c);
  return got > 1 ? -2 : who;
}

/* Prints the group's array on `port` as listener numbers, `n` slots, the programs attached by
 * `via` (a listening member). */
static void slots(const char *what, int via, int n, int port) {
  printf("%s:", what);
  for (int i = 0; i < n; i++) {
    if (attach_ret(l[via], i) < 0) printf(" (attach: %s)", err());
    printf(" l%d", tcp_to(port));
  }
  printf("\n");
}

static const char *name_of(int fd) {
  static char buf[64];
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &al);
  snprintf(buf, sizeof buf, "%s:%d", inet_ntoa(a.sin_addr), ntohs(a.sin_port));
  return buf;
}

static void tcp(void) {
  printf("-- tcp\n");
  const int port = 7470;
  struct sockaddr_storage ss;
  socklen_t sl = loopback(AF_INET, port, &ss);
  for (int i = 0; i < LISTENERS; i++) {
    l[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    reuseport(l[i]);
    if (bind(l[i], (struct sockaddr *)&ss, sl) < 0) printf("bind: %s\n", err());
    if (listen(l[i], 16) < 0) printf("listen: %s\n", err());
    listening[i] = 1;
  }
  slots("group", 0, 4, port);

  printf("shutdown(l1, SHUT_RD): %s\n", res_rc(shutdown(l[1], SHUT_RD)));
  listening[1] = 0;
  printf("accept on it: %s\n", res_rc(accept(l[1], NULL, NULL)));
  struct pollfd p = {.fd = l[1], .events = POLLIN | POLLOUT | POLLRDHUP};
  poll(&p, 1, 0);
  printf("poll: %#x, getsockname: %s\n", p.revents, name_of(l[1]));
  slots("group", 0, 3, port);
  printf("l1 listens again: %s\n", res_rc(listen(l[1], 16)));
  listening[1] = 1;
  slots("group", 0, 4, port);

  printf("shutdown(l0, SHUT_WR): %s\n", res_rc(shutdown(l[0], SHUT_WR)));
  slots("group (unchanged)", 0, 4, port);
  printf("shutdown(l0, SHUT_RDWR): %s\n", res_rc(shutdown(l[0], SHUT_RDWR)));
  listening[0] = 0;
  printf("again: %s\n", res_rc(shutdown(l[0], SHUT_RDWR)));
  slots("group", 2, 3, port);
  printf("l0 listens again: %s\n", res_rc(listen(l[0], 16)));
  listening[0] = 1;
  slots("group", 2, 4, port);

  printf("connect(l3, 127.0.0.1:%d): %s\n", port, res_rc(connect(l[3], (struct sockaddr *)&ss, sl)));
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  printf("connect(l3, AF_UNSPEC): %s\n", res_rc(connect(l[3], &unspec, sizeof unspec)));
  listening[3] = 0;
  printf("accept on it: %s, getsockname: %s\n", res_rc(accept(l[3], NULL, NULL)), name_of(l[3]));
  slots("group", 2, 3, port);
  printf("l3 listens again: %s\n", res_rc(listen(l[3], 16)));
  listening[3] = 1;
  slots("group", 2, 4, port);
  for (int i = 0; i < LISTENERS; i++) close(l[i]);

  /* A port listen(2) picked is released; getsockname still shows it. */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  listen(s, 4);
  char before[64];
  snprintf(before, sizeof before, "%s", name_of(s));
  printf("auto port: shutdown: %s\n", res_rc(shutdown(s, SHUT_RD)));
  printf("getsockname shows the same port: %d\n", strcmp(before, name_of(s)) == 0);
  printf("listens again: %s, ", res_rc(listen(s, 4)));
  struct sockaddr_in a;
  socklen_t al = sizeof a;
  getsockname(s, (struct sockaddr *)&a, &al);
  printf("on a port: %d\n", a.sin_port != 0);
  close(s);
}

/* ---- UDP ---- */

/* A socket of `family` and `proto` bound to `port` on loopback, or on the wildcard address. */
static int udp_socket(int family, int proto, int port, int wildcard, int reuse) {
  struct sockaddr_storage ss;
  socklen_t sl = loopback(family, port, &ss);
  if (wildcard && family == AF_INET) ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_ANY);
  if (wildcard && family == AF_INET6) ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
  int s = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, proto);
  if (reuse) reuseport(s);
  if (bind(s, (struct sockaddr *)&ss, sl) < 0) printf("bind: %s\n", err());
  return s;
}

/* Sends a datagram starting with `b` from `from` to loopback `port`; the index of the member of
 * m that got it (every member drained; -1: none, -2: several). */
static int udp_to(int family, int from, int port, const int *m, int n, unsigned char b) {
  struct sockaddr_storage ss;
  socklen_t sl = loopback(family, port, &ss);
  unsigned char buf[8] = {b, 'x', 'y', 'z'};
  sendto(from, buf, 4, 0, (struct sockaddr *)&ss, sl);
  struct pollfd p[8];
  for (int i = 0; i < n; i++) p[i] = (struct pollfd){.fd = m[i], .events = POLLIN};
  poll(p, n, 2000);
  int who = -1, got = 0;
  for (int i = 0; i < n; i++)
    while (m[i] >= 0 && recv(m[i], buf, sizeof buf, MSG_DONTWAIT) >= 0) {
      got++;
      who = i;
    }
  return got > 1 ? -2 : who;
}

static void udp(const char *title, int family, int proto, int wildcard, int port) {
  printf("-- %s\n", title);
  int sender = udp_socket(family, proto, port + 1, 0, 0);
  int peer = udp_socket(family, proto, port + 2, 0, 0);
  int m[MEMBERS + 1];
  for (int i = 0; i < MEMBERS; i++) m[i] = udp_socket(family, proto, port, wildcard, 1);
  printf("attach first payload byte: %s\n", res_rc(attach(m[0], first_byte, N(first_byte))));
  printf("first byte 0..3:");
  for (int b = 0; b < MEMBERS; b++) printf(" m%d", udp_to(family, sender, port, m, MEMBERS, b));
  printf("\n");
  struct sockaddr_storage ss;
  socklen_t sl = loopback(family, port + 2, &ss);
  printf("m1 connects to the peer: %s\n", res_rc(connect(m[1], (struct sockaddr *)&ss, sl)));
  printf("from the sender, first byte 0..2:");
  for (int b = 0; b < 3; b++) printf(" m%d", udp_to(family, sender, port, m, MEMBERS, b));
  printf("\n");
  printf("from the peer, first byte 0..3:");
  for (int b = 0; b < MEMBERS; b++) printf(" m%d", udp_to(family, peer, port, m, MEMBERS, b));
  printf("\n");
  int v = 0, connected = 0, lost = 0;
  printf("detach: %s\n", res_rc(setsockopt(m[0], SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &v, sizeof v)));
  for (int k = 0; k < 8; k++) {
    int s = socket(family, SOCK_DGRAM, proto);
    int i = udp_to(family, s, port, m, MEMBERS, 0);
    connected += i == 1;
    lost += i < 0;
    close(s);
  }
  printf("by the hash, 8 new senders: %d to the connected member, %d lost\n", connected, lost);
  attach(m[0], first_byte, N(first_byte));
  close(m[1]);
  m[1] = -1;
  m[MEMBERS] = udp_socket(family, proto, port, wildcard, 1);
  printf("m1 closed, m4 binds; first byte 3: m%d\n", udp_to(family, sender, port, m, MEMBERS + 1, 3));
  for (int k = 0; k <= MEMBERS; k++)
    if (m[k] >= 0) close(m[k]);
  close(sender);
  close(peer);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  tcp();
  udp("udp, bound to 127.0.0.1", AF_INET, 0, 0, 7480);
  udp("udp, bound to 0.0.0.0", AF_INET, 0, 1, 7484);
  udp("udp, bound to ::1", AF_INET6, 0, 0, 7488);
  udp("udp, bound to ::", AF_INET6, 0, 1, 7492);
  udp("udplite, bound to 0.0.0.0", AF_INET, IPPROTO_UDPLITE, 1, 7496);
  udp("udplite, bound to 127.0.0.1", AF_INET, IPPROTO_UDPLITE, 0, 7500);
  return 0;
}
