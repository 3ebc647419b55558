/* The IPPROTO_TCP options beyond the everyday ones (TCP_MAXSEG, TCP_SYNCNT, TCP_DEFER_ACCEPT,
 * TCP_WINDOW_CLAMP, TCP_INQ, TCP_RTO_MIN_US/MAX_MS, the fast open and repair families, ...) on
 * IPv4 and IPv6 TCP sockets over loopback: what getsockopt answers on a fresh socket, set/get
 * round trips with their bounds and errnos, and the effects: the MSS a peer sees, a deferred
 * accept, a clamped window, the TCP_CM_INQ control message. Values that are the host's own (the
 * timestamp clock, the system's congestion control) are printed as what they must be. Runs in a
 * fresh network namespace natively and under tsvisor (tcp-sockopts.test.ts); both must print
 * the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS 44
#endif
#ifndef TCP_RTO_MIN_US
#define TCP_RTO_MIN_US 45
#endif
#ifndef TCP_IS_MPTCP
#define TCP_IS_MPTCP 43
#endif

struct opt {
  int name;
  const char *label;
};
static const struct opt INT_OPTS[] = {
    {TCP_MAXSEG, "MAXSEG"},
    {TCP_SYNCNT, "SYNCNT"},
    {TCP_DEFER_ACCEPT, "DEFER_ACCEPT"},
    {TCP_WINDOW_CLAMP, "WINDOW_CLAMP"},
    {TCP_THIN_LINEAR_TIMEOUTS, "THIN_LINEAR_TIMEOUTS"},
    {TCP_THIN_DUPACK, "THIN_DUPACK"},
    {TCP_REPAIR, "REPAIR"},
    {TCP_REPAIR_QUEUE, "REPAIR_QUEUE"},
    {TCP_QUEUE_SEQ, "QUEUE_SEQ"},
    {TCP_FASTOPEN, "FASTOPEN"},
    {TCP_SAVE_SYN, "SAVE_SYN"},
    {TCP_FASTOPEN_CONNECT, "FASTOPEN_CONNECT"},
    {TCP_FASTOPEN_NO_COOKIE, "FASTOPEN_NO_COOKIE"},
    {TCP_INQ, "INQ"},
    {TCP_TX_DELAY, "TX_DELAY"},
    {TCP_IS_MPTCP, "IS_MPTCP"},
    {TCP_RTO_MAX_MS, "RTO_MAX_MS"},
    {TCP_RTO_MIN_US, "RTO_MIN_US"},
};

static const char *geti(int fd, int name) {
  static char buf[48];
  int v = -12345;
  socklen_t len = sizeof v;
  if (getsockopt(fd, IPPROTO_TCP, name, &v, &len) < 0) return strerrorname_np(errno);
  snprintf(buf, sizeof buf, "%d", v);
  return buf;
}

static const char *seti(int fd, int name, int v) {
  return setsockopt(fd, IPPROTO_TCP, name, &v, sizeof v) < 0 ? strerrorname_np(errno) : "ok";
}

/* setsockopt of `v`, then getsockopt: "result/value" (two calls in this order; C leaves the
 * order of a printf's arguments open). */
static const char *st(int fd, int name, int v) {
  static char buf[8][64];
  static int slot;
  char *b = buf[slot++ % 8];
  const char *r = seti(fd, name, v);
  char rb[24];
  snprintf(rb, sizeof rb, "%s", r);
  snprintf(b, 64, "%s/%s", rb, geti(fd, name));
  return b;
}

/* getsockopt with a buffer of `len` bytes: the length it reports, or the errno. */
static const char *getlen(int fd, int name, socklen_t len) {
  static char buf[48];
  unsigned char b[512];
  memset(b, 0, sizeof b);
  if (getsockopt(fd, IPPROTO_TCP, name, b, &len) < 0) return strerrorname_np(errno);
  snprintf(buf, sizeof buf, "len %u", len);
  return buf;
}

static int fam_socket(int family) { return socket(family, SOCK_STREAM, 0); }

/* A listener on loopback with the options `prep` sets; its address in `ss`. */
static int listener(int family, struct sockaddr_storage *ss, socklen_t *sl, void (*prep)(int)) {
  int l = fam_socket(family);
  *sl = loopback(family, 0, ss);
  if (prep) prep(l);
  bind(l, (void *)ss, *sl);
  listen(l, 8);
  getsockname(l, (void *)ss, sl);
  return l;
}

static struct tcp_info info(int fd) {
  struct tcp_info ti;
  memset(&ti, 0, sizeof ti);
  socklen_t len = sizeof ti;
  getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
  return ti;
}

static void defaults(int family, const char *name) {
  int fd = fam_socket(family);
  printf("%s fresh:", name);
  for (size_t i = 0; i < sizeof INT_OPTS / sizeof INT_OPTS[0]; i++)
    printf(" %s=%s", INT_OPTS[i].label, geti(fd, INT_OPTS[i].name));
  printf("\n");
  int v;
  socklen_t len = sizeof v;
  int r = getsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &v, &len);
  printf("%s TIMESTAMP: %s even %d\n", name, r < 0 ? strerrorname_np(errno) : "ok", r == 0 && (v & 1) == 0);
  printf("%s ULP %s SAVED_SYN %s FASTOPEN_KEY %s REPAIR_WINDOW(20) %s REPAIR_WINDOW(4) %s\n", name,
         getlen(fd, TCP_ULP, 16), getlen(fd, TCP_SAVED_SYN, 256), getlen(fd, TCP_FASTOPEN_KEY, 32),
         getlen(fd, TCP_REPAIR_WINDOW, 20), getlen(fd, TCP_REPAIR_WINDOW, 4));
  struct tcp_info ti;
  socklen_t il = 1024;
  unsigned char big[1024];
  getsockopt(fd, IPPROTO_TCP, TCP_INFO, big, &il);
  (void)ti;
  printf("%s INFO len %u\n", name, il);
  close(fd);
}

static void round_trips(int family, const char *name) {
  int fd = fam_socket(family);
  printf("%s MAXSEG:", name);
  int maxseg[] = {87, 88, 32767, 32768, -1, 0, 1000};
  for (size_t i = 0; i < sizeof maxseg / sizeof *maxseg; i++)
    printf(" %d %s", maxseg[i], st(fd, TCP_MAXSEG, maxseg[i]));
  printf("\n%s SYNCNT:", name);
  int syncnt[] = {0, 1, 127, 128, -1, 3};
  for (size_t i = 0; i < sizeof syncnt / sizeof *syncnt; i++)
    printf(" %d %s", syncnt[i], st(fd, TCP_SYNCNT, syncnt[i]));
  printf("\n%s DEFER_ACCEPT:", name);
  int defer[] = {1, 2, 3, 4, 7, 8, 100, 1000, 100000, -5, 0};
  for (size_t i = 0; i < sizeof defer / sizeof *defer; i++)
    printf(" %d %s", defer[i], st(fd, TCP_DEFER_ACCEPT, defer[i]));
  printf("\n%s WINDOW_CLAMP:", name);
  int clamp[] = {1, 1152, 1153, 70000, -1, 0};
  for (size_t i = 0; i < sizeof clamp / sizeof *clamp; i++)
    printf(" %d %s", clamp[i], st(fd, TCP_WINDOW_CLAMP, clamp[i]));
  printf("\n%s THIN:", name);
  int thin[] = {2, -1, 1, 0};
  for (size_t i = 0; i < sizeof thin / sizeof *thin; i++)
    printf(" %d %s %s", thin[i], st(fd, TCP_THIN_LINEAR_TIMEOUTS, thin[i]), st(fd, TCP_THIN_DUPACK, thin[i]));
  printf("\n%s INQ:", name);
  int inq[] = {2, -1, 1, 0};
  for (size_t i = 0; i < sizeof inq / sizeof *inq; i++)
    printf(" %d %s", inq[i], st(fd, TCP_INQ, inq[i]));
  printf("\n%s TX_DELAY:", name);
  int delay[] = {-1, 1 << 28, (1 << 28) - 1, 0};
  for (size_t i = 0; i < sizeof delay / sizeof *delay; i++)
    printf(" %d %s", delay[i], st(fd, TCP_TX_DELAY, delay[i]));
  printf("\n%s RTO_MAX_MS:", name);
  int rmax[] = {999, 1000, 1001, 120000, 120001, 5000};
  for (size_t i = 0; i < sizeof rmax / sizeof *rmax; i++)
    printf(" %d %s", rmax[i], st(fd, TCP_RTO_MAX_MS, rmax[i]));
  printf("\n%s RTO_MIN_US:", name);
  int rmin[] = {0, 4000, 4001, 8000, 10001, 200000, 200001, -1, 50000};
  for (size_t i = 0; i < sizeof rmin / sizeof *rmin; i++)
    printf(" %d %s", rmin[i], st(fd, TCP_RTO_MIN_US, rmin[i]));
  printf("\n%s SAVE_SYN:", name);
  int save[] = {3, -1, 2, 1, 0};
  for (size_t i = 0; i < sizeof save / sizeof *save; i++)
    printf(" %d %s", save[i], st(fd, TCP_SAVE_SYN, save[i]));
  printf("\n%s FASTOPEN:", name);
  int fo[] = {-1, 5, 100000, 0};
  for (size_t i = 0; i < sizeof fo / sizeof *fo; i++)
    printf(" %d %s", fo[i], st(fd, TCP_FASTOPEN, fo[i]));
  printf("\n%s FASTOPEN_CONNECT:", name);
  int foc[] = {2, -1, 1, 0};
  for (size_t i = 0; i < sizeof foc / sizeof *foc; i++)
    printf(" %d %s %s", foc[i], st(fd, TCP_FASTOPEN_CONNECT, foc[i]),
           st(fd, TCP_FASTOPEN_NO_COOKIE, foc[i]));
  /* Repair mode is not built in tsvisor: TCP_REPAIR answers EPERM (as for a caller without
   * CAP_NET_ADMIN) where root's Linux turns it on. */
  int rep = setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &(int){1}, sizeof(int));
  printf("\n%s REPAIR: 1 %s", name, rep == 0 || errno == EPERM ? "ok or EPERM" : strerrorname_np(errno));
  setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &(int){0}, sizeof(int));
  printf(" then 0: %s", geti(fd, TCP_REPAIR));
  printf(", REPAIR_QUEUE 1 %s", seti(fd, TCP_REPAIR_QUEUE, 1));
  printf(", QUEUE_SEQ 5 %s", seti(fd, TCP_QUEUE_SEQ, 5));
  printf(", TIMESTAMP 8 %s", seti(fd, TCP_TIMESTAMP, 8));
  printf(", REPAIR_WINDOW %s\n", seti(fd, TCP_REPAIR_WINDOW, 0));
  printf("%s IS_MPTCP set %s\n", name, seti(fd, TCP_IS_MPTCP, 1));
  printf("%s ULP:", name);
  printf(" tls %s", setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", 3) < 0 ? strerrorname_np(errno) : "ok");
  printf(" empty %s", setsockopt(fd, IPPROTO_TCP, TCP_ULP, "", 0) < 0 ? strerrorname_np(errno) : "ok");
  printf(" nosuch %s", setsockopt(fd, IPPROTO_TCP, TCP_ULP, "nosuch", 6) < 0 ? strerrorname_np(errno) : "ok");
  printf(" then %s\n", getlen(fd, TCP_ULP, 16));
  unsigned char key[32];
  for (int i = 0; i < 32; i++) key[i] = (unsigned char)(i * 7 + 1);
  printf("%s FASTOPEN_KEY:", name);
  printf(" 5 %s", setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_KEY, key, 5) < 0 ? strerrorname_np(errno) : "ok");
  int r16 = setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_KEY, key, 16);
  printf(" 16 %s", r16 < 0 ? strerrorname_np(errno) : "ok");
  unsigned char got[64];
  socklen_t gl = sizeof got;
  int g = getsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_KEY, got, &gl);
  printf(" get %s len %u same %d", g < 0 ? strerrorname_np(errno) : "ok", gl, gl == 16 && !memcmp(got, key, 16));
  int r32 = setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_KEY, key, 32);
  printf(" 32 %s", r32 < 0 ? strerrorname_np(errno) : "ok");
  gl = sizeof got;
  g = getsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_KEY, got, &gl);
  printf(" get %s len %u same %d\n", g < 0 ? strerrorname_np(errno) : "ok", gl, gl == 32 && !memcmp(got, key, 32));
  if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5) == 0)
    printf("%s CC_INFO with cubic: %s\n", name, getlen(fd, TCP_CC_INFO, 64));
  if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4) == 0)
    printf("%s CC_INFO with reno: %s\n", name, getlen(fd, TCP_CC_INFO, 64));
  close(fd);
}

static int g_listener_mss;
static void set_listener_mss(int l) { setsockopt(l, IPPROTO_TCP, TCP_MAXSEG, &g_listener_mss, sizeof(int)); }

/* A connection over loopback, the client's TCP_MAXSEG set to `cmss` and the listener's to `lmss`
 * (0: not set): what each side reports. */
static void mss(int family, const char *name, int cmss, int lmss) {
  struct sockaddr_storage ss;
  socklen_t sl;
  g_listener_mss = lmss;
  int l = listener(family, &ss, &sl, lmss ? set_listener_mss : NULL);
  int c = fam_socket(family);
  if (cmss) setsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &cmss, sizeof cmss);
  connect(c, (void *)&ss, sl);
  int s = accept(l, NULL, NULL);
  struct tcp_info ci = info(c), si = info(s);
  int cm, sm, lm;
  socklen_t len = sizeof cm;
  getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &cm, &len);
  getsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &sm, &len);
  getsockopt(l, IPPROTO_TCP, TCP_MAXSEG, &lm, &len);
  printf("%s mss client %d listener %d:", name, cmss, lmss);
  if (cmss || lmss) {
    /* A side's advmss is its TCP_MAXSEG less the timestamps when it set one, else its route's
     * (loopback's MTU: not compared). */
    char ca[16] = "route", sa[16] = "route";
    if (cmss) snprintf(ca, sizeof ca, "%u", ci.tcpi_advmss);
    if (lmss) snprintf(sa, sizeof sa, "%u", si.tcpi_advmss);
    printf(" client maxseg %d snd_mss %u advmss %s, server maxseg %d snd_mss %u advmss %s, listener %d\n", cm,
           ci.tcpi_snd_mss, ca, sm, si.tcpi_snd_mss, sa, lm);
  } else {
    /* The MSS as Linux reports it is bounded to half the largest window the peer offered
     * (tcp_bound_to_half_wnd); the windows themselves are each stack's own. */
    unsigned cfull = ci.tcpi_advmss, sfull = si.tcpi_advmss; /* timestamps already off */
    unsigned cwant = ci.tcpi_snd_wnd / 2 < cfull ? ci.tcpi_snd_wnd / 2 : cfull;
    unsigned swant = si.tcpi_snd_wnd / 2 < sfull ? si.tcpi_snd_wnd / 2 : sfull;
    printf(" client maxseg is min(mss, window/2) %d, server %d, snd_mss the same %d %d, listener %d\n",
           cm == (int)cwant, sm == (int)swant, ci.tcpi_snd_mss == (unsigned)cm, si.tcpi_snd_mss == (unsigned)sm,
           lm);
  }
  /* The data really goes in segments of at most that size: a 3000-byte write to a peer with
   * MSS 1000 arrives in pieces, and TCP_INFO's rcv_mss on the receiver shows the size. */
  if (cmss) {
    char buf[3000];
    memset(buf, 'x', sizeof buf);
    write(s, buf, sizeof buf);
    usleep(50000);
    int n = 0;
    struct pollfd p = {.fd = c, .events = POLLIN};
    while (poll(&p, 1, 100) > 0) {
      int r = read(c, buf, sizeof buf);
      if (r <= 0) break;
      n += r;
      if (n >= 3000) break;
    }
    struct tcp_info ci2 = info(c);
    printf("%s  received %d, client rcv_mss %u\n", name, n, ci2.tcpi_rcv_mss);
  }
  close(c);
  close(s);
  close(l);
}

static int g_defer;
static void set_defer(int l) { setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &g_defer, sizeof(int)); }

/* TCP_DEFER_ACCEPT: the listener keeps a connection without data from accept. */
static void defer_accept(int family, const char *name) {
  struct sockaddr_storage ss;
  socklen_t sl;
  g_defer = 1;
  int l = listener(family, &ss, &sl, set_defer);
  int c = fam_socket(family);
  int cr = connect(c, (void *)&ss, sl);
  struct pollfd p = {.fd = l, .events = POLLIN};
  int before = poll(&p, 1, 300);
  write(c, "hello", 5);
  double t0 = now();
  int after = poll(&p, 1, 2000);
  double waited = now() - t0;
  int s = accept(l, NULL, NULL);
  char buf[16] = {0};
  int n = read(s, buf, sizeof buf);
  printf("%s defer_accept: connect %d, ready before data %d, after data %d (%s), accepted read %d %.*s\n",
         name, cr, before, after, waited < 0.2 ? "at once" : "late", n, n > 0 ? n : 0, buf);
  close(c);
  close(s);
  /* No data: the connection is handed out once the deferral is over (1 s for 1 retransmit). */
  int c2 = fam_socket(family);
  connect(c2, (void *)&ss, sl);
  t0 = now();
  int ready = poll(&p, 1, 5000);
  double d = now() - t0;
  printf("%s defer_accept without data: ready %d after %s\n", name, ready,
         d < 0.5 ? "less than 0.5s" : d < 4.0 ? "0.5 to 4 s" : "more than 4 s");
  close(c2);
  close(l);
}

/* TCP_WINDOW_CLAMP on a socket before it connects bounds the window its SYN and first ACK
 * offer (later, Linux's receive autotuning raises the clamp with the buffer: not compared). */
static void window_clamp(int family, const char *name) {
  struct sockaddr_storage ss;
  socklen_t sl;
  int l = listener(family, &ss, &sl, NULL);
  int c = fam_socket(family);
  printf("%s window_clamp 5000 before connect %s", name, st(c, TCP_WINDOW_CLAMP, 5000));
  connect(c, (void *)&ss, sl);
  int s = accept(l, NULL, NULL);
  struct tcp_info si = info(s);
  printf(", peer sees a window <= 5000 %d, set 0 when connected %s\n", si.tcpi_snd_wnd <= 5000,
         seti(c, TCP_WINDOW_CLAMP, 0));
  close(c);
  close(s);
  close(l);
}

/* TCP_INQ: recvmsg reports the bytes still queued in a TCP_CM_INQ control message. */
static void inq(int family, const char *name) {
  int c, s, l;
  struct sockaddr_storage ss;
  socklen_t sl;
  l = listener(family, &ss, &sl, NULL);
  c = fam_socket(family);
  connect(c, (void *)&ss, sl);
  s = accept(l, NULL, NULL);
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_INQ, &one, sizeof one);
  write(c, "0123456789", 10);
  usleep(50000);
  for (int round = 0; round < 3; round++) {
    char data[4];
    union {
      char buf[CMSG_SPACE(sizeof(int)) * 2];
      struct cmsghdr align;
    } u;
    struct iovec iov = {data, sizeof data};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    int n = recvmsg(s, &m, MSG_DONTWAIT);
    printf("%s inq recvmsg %s", name, res(n));
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
      int v;
      memcpy(&v, CMSG_DATA(h), sizeof v);
      printf(" cmsg level %d type %d len %zu value %d", h->cmsg_level, h->cmsg_type, (size_t)h->cmsg_len, v);
    }
    printf(" flags %#x\n", m.msg_flags);
  }
  /* recvmsg without a control buffer, and read(2): the data alone. */
  write(c, "abcdef", 6);
  usleep(50000);
  char data[4];
  struct iovec iov = {data, sizeof data};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  int n = recvmsg(s, &m, MSG_DONTWAIT);
  printf("%s inq recvmsg without control %s flags %#x, read %s\n", name, res(n), m.msg_flags,
         res(read(s, data, sizeof data)));
  /* After the peer's FIN with nothing left, TCP_CM_INQ says 1 (tcp_inq_hint). */
  close(c);
  usleep(50000);
  {
    union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } u;
    struct msghdr e = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    int r = recvmsg(s, &e, MSG_DONTWAIT);
    int v = -1;
    if (e.msg_controllen > 0) memcpy(&v, CMSG_DATA(CMSG_FIRSTHDR(&e)), sizeof v);
    printf("%s inq at end of stream: recvmsg %s inq %d\n", name, res(r), v);
  }
  close(s);
  close(l);
}

/* TCP_RTO_MIN_US lowers the retransmission timeout TCP_INFO reports. */
static void rto_min(int family, const char *name) {
  int c, s, l;
  struct sockaddr_storage ss;
  socklen_t sl;
  l = listener(family, &ss, &sl, NULL);
  c = fam_socket(family);
  int v = 10000;
  setsockopt(c, IPPROTO_TCP, TCP_RTO_MIN_US, &v, sizeof v);
  connect(c, (void *)&ss, sl);
  s = accept(l, NULL, NULL);
  char buf[100];
  for (int i = 0; i < 5; i++) {
    write(c, "ping", 4);
    read(s, buf, sizeof buf);
    write(s, "pong", 4);
    read(c, buf, sizeof buf);
  }
  struct tcp_info ci = info(c), si = info(s);
  printf("%s rto_min 10ms: client rto below 100 ms %d, server (default 200 ms) at least 200 ms %d\n", name,
         ci.tcpi_rto < 100000, si.tcpi_rto >= 200000);
  close(c);
  close(s);
  close(l);
}

/* MSG_FASTOPEN and TCP_FASTOPEN_CONNECT with no fast open cookie cached (a fresh network
 * namespace): the send connects first and its data follows the handshake. */
static void fastopen(int family, const char *name) {
  struct sockaddr_storage ss;
  socklen_t sl;
  int l = listener(family, &ss, &sl, NULL);
  int c = fam_socket(family);
  printf("%s MSG_FASTOPEN sendto %s", name, res(sendto(c, "hello", 5, MSG_FASTOPEN, (void *)&ss, sl)));
  int s = accept(l, NULL, NULL);
  char buf[16] = {0};
  int n = read(s, buf, sizeof buf);
  printf(", server read %d %.*s", n, n > 0 ? n : 0, buf);
  printf(", again on the connection %s", res(sendto(c, "x", 1, MSG_FASTOPEN, (void *)&ss, sl)));
  printf(", connect %s, send %s\n", res(connect(c, (void *)&ss, sl)), res(send(c, "y", 1, 0)));
  close(c);
  close(s);
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  c = fam_socket(family);
  printf("%s MSG_FASTOPEN to AF_UNSPEC %s", name, res(sendto(c, "x", 1, MSG_FASTOPEN, &unspec, sizeof unspec)));
  printf(", no address %s\n", res(sendto(c, "x", 1, MSG_FASTOPEN, NULL, 0)));
  close(c);
  /* Non-blocking: EINPROGRESS, then the socket connects and takes data. */
  c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  printf("%s MSG_FASTOPEN non-blocking %s", name, res(sendto(c, "hello", 5, MSG_FASTOPEN, (void *)&ss, sl)));
  struct pollfd p = {.fd = c, .events = POLLOUT};
  printf(", poll %d, send %s", poll(&p, 1, 2000), res(send(c, "abc", 3, 0)));
  s = accept(l, NULL, NULL);
  usleep(50000);
  n = read(s, buf, sizeof buf);
  printf(", server read %d %.*s\n", n, n > 0 ? n : 0, buf);
  close(c);
  close(s);
  for (int nocookie = 0; nocookie < 2; nocookie++) {
    c = fam_socket(family);
    int one = 1;
    printf("%s FASTOPEN_CONNECT%s %s", name, nocookie ? " NO_COOKIE" : "",
           setsockopt(c, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof one) ? strerrorname_np(errno) : "ok");
    if (nocookie) setsockopt(c, IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, &one, sizeof one);
    printf(", connect %s", res(connect(c, (void *)&ss, sl)));
    printf(", write %s", res(write(c, "hi", 2)));
    s = accept(l, NULL, NULL);
    n = read(s, buf, sizeof buf);
    printf(", server read %d %.*s\n", n, n > 0 ? n : 0, buf);
    close(c);
    close(s);
  }
  close(l);
}

/* A listener's TCP_INFO: its state, a fresh socket's cwnd and reordering, and in tcpi_unacked and
 * tcpi_sacked the connections ready for accept and the backlog (tcp_get_info). */
static void listener_info(int family, const char *name) {
  struct sockaddr_storage ss;
  socklen_t sl;
  int l = listener(family, &ss, &sl, NULL);
  struct tcp_info ti = info(l);
  printf("%s listener INFO: state %u cwnd %u reordering %u unacked %u sacked %u", name, ti.tcpi_state,
         ti.tcpi_snd_cwnd, ti.tcpi_reordering, ti.tcpi_unacked, ti.tcpi_sacked);
  int c = fam_socket(family);
  connect(c, (void *)&ss, sl);
  struct pollfd p = {l, POLLIN, 0};
  poll(&p, 1, 2000);
  ti = info(l);
  printf("; one waiting: unacked %u sacked %u\n", ti.tcpi_unacked, ti.tcpi_sacked);
  close(c);
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int fams[] = {AF_INET, AF_INET6};
  const char *names[] = {"tcp4", "tcp6"};
  for (int i = 0; i < 2; i++) defaults(fams[i], names[i]);
  for (int i = 0; i < 2; i++) listener_info(fams[i], names[i]);
  for (int i = 0; i < 2; i++) round_trips(fams[i], names[i]);
  for (int i = 0; i < 2; i++) {
    mss(fams[i], names[i], 0, 0);
    mss(fams[i], names[i], 1000, 0);
    mss(fams[i], names[i], 0, 700);
    mss(fams[i], names[i], 600, 900);
  }
  for (int i = 0; i < 2; i++) inq(fams[i], names[i]);
  for (int i = 0; i < 2; i++) rto_min(fams[i], names[i]);
  for (int i = 0; i < 2; i++) window_clamp(fams[i], names[i]);
  for (int i = 0; i < 2; i++) fastopen(fams[i], names[i]);
  for (int i = 0; i < 2; i++) defer_accept(fams[i], names[i]);
  return 0;
}
