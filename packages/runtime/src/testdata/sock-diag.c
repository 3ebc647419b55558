/* NETLINK_SOCK_DIAG (what `ss` speaks), natively in a fresh network namespace (lo up) and under
 * tsvisor --network none (sock-diag.test.ts): the outputs must match. Known sockets are made
 * (a TCP listener with a connection waiting for accept, an established pair with unread data, a
 * TIME_WAIT connection, IPv6 listeners, UDP bound and connected, AF_UNIX listener with a pending
 * connection, a connected pair, datagram sockets), then dumped with inet_diag and unix_diag
 * requests: states masks, extension attributes, exact lookups by cookie (and a stale one),
 * bytecode filters, malformed requests and their errnos, SOCK_DESTROY on AF_UNIX, and a dump
 * spread over several datagrams.
 * Only stable fields are printed: ports relative to the first listener's, ephemeral ports as E,
 * cookies by the name of the socket whose SO_COOKIE they equal, inode numbers as whether they
 * are the socket's own (fstat), memory figures as zero or not. A dump's lines are sorted, since
 * the order is the kernel's hash order. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock-util.h"

enum { ESTAB = 1, FIN_WAIT2 = 5, TIME_WAIT = 6, CLOSE_WAIT = 8, LISTEN = 10 };

#define UNIX_PATH "/tmp/tsvisor-sock-diag.sock"

static int base_port;
/* Whether the dump being printed is UDP's. */
static int cur_udp;
static int nl;
static unsigned seq = 1;

/* Known sockets: name, fd (cookie and inode come from it). */
struct known {
  const char *name;
  int fd;
  uint64_t cookie;
  ino_t ino;
};
static struct known known[32];
static int nknown;

static void know(const char *name, int fd) {
  struct known *k = &known[nknown++];
  k->name = name;
  k->fd = fd;
  socklen_t len = sizeof k->cookie;
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &k->cookie, &len) < 0) k->cookie = 0;
  struct stat st;
  k->ino = fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static const char *cookie_name(const uint32_t c[2]) {
  uint64_t v = (uint64_t)c[0] | (uint64_t)c[1] << 32;
  for (int i = 0; i < nknown; i++)
    if (known[i].cookie == v) return known[i].name;
  return "other";
}

static const char *ino_name(unsigned ino) {
  if (ino == 0) return "0";
  for (int i = 0; i < nknown; i++)
    if (known[i].ino == ino) return known[i].name;
  return "other";
}

static const char *port_text(unsigned port) {
  static char buf[4][16];
  static int n;
  char *b = buf[n++ % 4];
  if (port == 0) return "0";
  if (port >= (unsigned)base_port && port < (unsigned)base_port + 20)
    snprintf(b, 16, "P+%u", port - base_port);
  else snprintf(b, 16, "E");
  return b;
}

static const char *addr_text(int family, const uint32_t *a) {
  static char buf[2][INET6_ADDRSTRLEN];
  static int n;
  char *b = buf[n++ % 2];
  inet_ntop(family, a, b, INET6_ADDRSTRLEN);
  return b;
}

#define MAXLINES 64
static char lines[MAXLINES][1024];
static int nlines;

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

static void flush(const char *what) {
  qsort(lines, nlines, sizeof lines[0], cmp);
  printf("%s: %d\n", what, nlines);
  for (int i = 0; i < nlines; i++) printf("  %s\n", lines[i]);
  nlines = 0;
}

static const char *const tcp_states[] = {"?",        "ESTAB",    "SYN-SENT",  "SYN-RECV", "FIN-WAIT-1",
                                         "FIN-WAIT-2", "TIME-WAIT", "CLOSE", "CLOSE-WAIT", "LAST-ACK",
                                         "LISTEN",   "CLOSING",  "NEW-SYN-RECV"};

/* One inet_diag_msg with its attributes, as a line. */
static void inet_line(struct nlmsghdr *h) {
  struct inet_diag_msg *m = NLMSG_DATA(h);
  char *l = lines[nlines++];
  /* UDP's queues are memory (skb truesize), which only Linux's allocator decides: zero or not. */
  char rq[16];
  if (cur_udp) snprintf(rq, sizeof rq, "%s", m->idiag_rqueue ? "+" : "0");
  else snprintf(rq, sizeof rq, "%u", m->idiag_rqueue);
  int n = snprintf(l, 1024, "%s %s %s:%s -> %s:%s if=%u timer=%u%s rq=%s wq=%u uid=%u ino=%s cookie=%s",
                   m->idiag_family == AF_INET ? "v4" : "v6",
                   m->idiag_state < 13 ? tcp_states[m->idiag_state] : "?",
                   addr_text(m->idiag_family, m->id.idiag_src), port_text(ntohs(m->id.idiag_sport)),
                   addr_text(m->idiag_family, m->id.idiag_dst), port_text(ntohs(m->id.idiag_dport)),
                   m->id.idiag_if, m->idiag_timer, m->idiag_expires ? "+" : "", rq,
                   m->idiag_wqueue, m->idiag_uid, ino_name(m->idiag_inode), cookie_name(m->id.idiag_cookie));
  int rem = NLMSG_PAYLOAD(h, sizeof *m);
  for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
    unsigned char *d = RTA_DATA(a);
    int len = RTA_PAYLOAD(a);
    n += snprintf(l + n, 1024 - n, " %d", a->rta_type);
    switch (a->rta_type) {
    case INET_DIAG_SHUTDOWN:
    case INET_DIAG_TOS:
    case INET_DIAG_TCLASS:
    case INET_DIAG_SKV6ONLY:
    case INET_DIAG_PROTOCOL:
      n += snprintf(l + n, 1024 - n, "=%u", d[0]);
      break;
    case INET_DIAG_CLASS_ID:
      n += snprintf(l + n, 1024 - n, "=%u", *(uint32_t *)d);
      break;
    case INET_DIAG_CONG:
      n += snprintf(l + n, 1024 - n, "=%.*s", len, d);
      break;
    case INET_DIAG_SOCKOPT:
      n += snprintf(l + n, 1024 - n, "=%02x%02x", d[0], d[1]);
      break;
    case INET_DIAG_MEMINFO: {
      uint32_t *v = (uint32_t *)d;
      /* rmem and wmem as zero or not (netstack charges no forward allocation: fmem is not shown). */
      n += snprintf(l + n, 1024 - n, "[%d]%c%c", len, v[0] ? 'r' : '-', v[1] ? 'w' : '-');
      break;
    }
    case INET_DIAG_SKMEMINFO: {
      uint32_t *v = (uint32_t *)d;
      /* The send buffer is left out: Linux autotunes a connection's. */
      n += snprintf(l + n, 1024 - n, "[%d]rcv=%u,rmem=%s", len, v[SK_MEMINFO_RCVBUF],
                    v[SK_MEMINFO_RMEM_ALLOC] ? "+" : "0");
      break;
    }
    case INET_DIAG_INFO: {
      struct tcp_info *t = (struct tcp_info *)d;
      n += snprintf(l + n, 1024 - n, "[%d]st=%u,ca=%u,opt=%x", len, t->tcpi_state, t->tcpi_ca_state,
                    t->tcpi_options);
      break;
    }
    default:
      n += snprintf(l + n, 1024 - n, "[%d]", len);
    }
  }
}

/* One unix_diag_msg with its attributes, as a line. */
static void unix_line(struct nlmsghdr *h) {
  struct unix_diag_msg *m = NLMSG_DATA(h);
  char *l = lines[nlines++];
  int n = snprintf(l, 1024, "unix type=%u st=%u ino=%s cookie=%s", m->udiag_type, m->udiag_state,
                   ino_name(m->udiag_ino), cookie_name(m->udiag_cookie));
  int rem = NLMSG_PAYLOAD(h, sizeof *m);
  for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
    unsigned char *d = RTA_DATA(a);
    int len = RTA_PAYLOAD(a);
    n += snprintf(l + n, 1024 - n, " %d", a->rta_type);
    switch (a->rta_type) {
    case UNIX_DIAG_NAME:
      n += snprintf(l + n, 1024 - n, "=%s%.*s", d[0] ? "" : "@", d[0] ? len : len - 1, d[0] ? d : d + 1);
      break;
    case UNIX_DIAG_VFS: {
      /* The node bind(2) made: its inode and the kernel's dev_t of its filesystem. */
      struct unix_diag_vfs *v = (struct unix_diag_vfs *)d;
      struct stat st;
      int ok = stat(UNIX_PATH, &st) == 0;
      n += snprintf(l + n, 1024 - n, "[%d]ino=%s,dev=%s", len, ok && v->udiag_vfs_ino == st.st_ino ? "same" : "other",
                    ok && v->udiag_vfs_dev == (major(st.st_dev) << 20 | minor(st.st_dev)) ? "same" : "other");
      break;
    }
    case UNIX_DIAG_PEER:
      n += snprintf(l + n, 1024 - n, "=%s", ino_name(*(uint32_t *)d));
      break;
    case UNIX_DIAG_ICONS:
      n += snprintf(l + n, 1024 - n, "=");
      for (int i = 0; i + 4 <= len; i += 4) n += snprintf(l + n, 1024 - n, "%s,", ino_name(*(uint32_t *)(d + i)));
      break;
    case UNIX_DIAG_RQLEN: {
      struct unix_diag_rqlen *q = (struct unix_diag_rqlen *)d;
      n += snprintf(l + n, 1024 - n, "=%u/%u", q->udiag_rqueue, q->udiag_wqueue);
      break;
    }
    case UNIX_DIAG_SHUTDOWN:
      n += snprintf(l + n, 1024 - n, "=%u", d[0]);
      break;
    case UNIX_DIAG_UID:
      n += snprintf(l + n, 1024 - n, "=%u", *(uint32_t *)d);
      break;
    case UNIX_DIAG_MEMINFO: {
      uint32_t *v = (uint32_t *)d;
      n += snprintf(l + n, 1024 - n, "[%d]rmem=%s", len, v[SK_MEMINFO_RMEM_ALLOC] ? "+" : "0");
      break;
    }
    default:
      n += snprintf(l + n, 1024 - n, "[%d]", len);
    }
  }
}

/* Sends one request (a header of `type` and `flags` then `body` of `len` bytes) and prints
 * every answer until NLMSG_DONE, or the NLMSG_ERROR's errno. `rcvlen` is the recv buffer. */
static void ask(const char *what, int type, int flags, const void *body, size_t len, size_t rcvlen) {
  char req[1024];
  struct nlmsghdr *h = (struct nlmsghdr *)req;
  memset(req, 0, sizeof req);
  h->nlmsg_len = NLMSG_LENGTH(len);
  h->nlmsg_type = type;
  h->nlmsg_flags = flags;
  h->nlmsg_seq = ++seq;
  memcpy(NLMSG_DATA(h), body, len);
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  if (sendto(nl, req, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0) {
    printf("%s: send %s\n", what, err());
    return;
  }
  static char buf[65536];
  int datagrams = 0, done = 0;
  /* Everything the request brought: the kernel answers (or fills the next dump datagram)
   * before a non-blocking recvmsg returns, so the queue is drained when it reports EAGAIN. */
  for (;;) {
    struct iovec iov = {buf, rcvlen};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t r = recvmsg(nl, &mh, MSG_DONTWAIT);
    if (r < 0) {
      if (errno != EAGAIN) printf("%s: recv %s\n", what, err());
      break;
    }
    datagrams++;
    if (mh.msg_flags & MSG_TRUNC) {
      printf("%s: datagram %d truncated to %zd bytes\n", what, datagrams, r);
      continue;
    }
    for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, r); m = NLMSG_NEXT(m, r)) {
      if (m->nlmsg_seq != h->nlmsg_seq) printf("%s: seq %u\n", what, m->nlmsg_seq);
      if (m->nlmsg_type == NLMSG_DONE) {
        done++;
        continue;
      }
      if (m->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(m);
        printf("%s: error %s flags=%x len=%u\n", what, e->error ? strerrorname_np(-e->error) : "0",
               m->nlmsg_flags, m->nlmsg_len);
        continue;
      }
      if (m->nlmsg_type != SOCK_DIAG_BY_FAMILY && m->nlmsg_type != type) {
        printf("%s: type %u\n", what, m->nlmsg_type);
        continue;
      }
      if (nlines >= MAXLINES) continue;
      if (((struct inet_diag_msg *)NLMSG_DATA(m))->idiag_family == AF_UNIX) unix_line(m);
      else inet_line(m);
      if (m->nlmsg_type != SOCK_DIAG_BY_FAMILY) {
        char *l = lines[nlines - 1];
        char tagged[1024];
        snprintf(tagged, sizeof tagged, "[type %u] %s", m->nlmsg_type, l);
        memcpy(l, tagged, sizeof tagged);
      }
    }
  }
  if (nlines > 0 || done) flush(what);
  if (done) printf("%s: done x%d\n", what, done);
}

static void inet_dump(const char *what, int family, int proto, unsigned states, unsigned ext) {
  struct inet_diag_req_v2 r = {.sdiag_family = family, .sdiag_protocol = proto, .idiag_ext = ext,
                               .idiag_states = states};
  cur_udp = proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE;
  ask(what, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &r, sizeof r, 32768);
}

/* A dump with a bytecode filter of `n` bytes. */
static void bc_dump(const char *what, int family, int proto, const void *bc, int n) {
  char body[512];
  struct inet_diag_req_v2 r = {.sdiag_family = family, .sdiag_protocol = proto, .idiag_states = ~0u};
  memcpy(body, &r, sizeof r);
  struct rtattr *a = (struct rtattr *)(body + sizeof r);
  a->rta_type = INET_DIAG_REQ_BYTECODE;
  a->rta_len = RTA_LENGTH(n);
  memcpy(RTA_DATA(a), bc, n);
  ask(what, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, body, sizeof r + RTA_ALIGN(a->rta_len), 32768);
}

/* A bytecode op. */
static struct inet_diag_bc_op op(int code, int yes, int no) {
  return (struct inet_diag_bc_op){.code = code, .yes = yes, .no = no};
}

/* The exact-lookup request for the inet socket `fd` (from its own point of view). */
static struct inet_diag_req_v2 exact_req(int fd, uint64_t cookie) {
  struct sockaddr_in a, b;
  socklen_t la = sizeof a, lb = sizeof b;
  getsockname(fd, (struct sockaddr *)&a, &la);
  getpeername(fd, (struct sockaddr *)&b, &lb);
  struct inet_diag_req_v2 r = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u,
                               .idiag_ext = 1 << (INET_DIAG_INFO - 1)};
  r.id.idiag_sport = a.sin_port;
  r.id.idiag_dport = b.sin_port;
  r.id.idiag_src[0] = a.sin_addr.s_addr;
  r.id.idiag_dst[0] = b.sin_addr.s_addr;
  r.id.idiag_cookie[0] = (uint32_t)cookie;
  r.id.idiag_cookie[1] = cookie == INET_DIAG_NOCOOKIE ? INET_DIAG_NOCOOKIE : (uint32_t)(cookie >> 32);
  return r;
}

/* The congestion control the host defaults to (bbr, cubic) would show in INET_DIAG_CONG. */
static void cubic(int s) {
  if (setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5) < 0) printf("TCP_CONGESTION: %s\n", err());
}

static int tcp_listener(int family, const char *ip, int port, int v6only) {
  int s = socket(family, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  cubic(s);
  struct sockaddr_storage ss = {0};
  socklen_t len;
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, ip, &a->sin_addr);
    len = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    len = sizeof *a;
  }
  if (bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 8) < 0) printf("listener: %s\n", err());
  return s;
}

static int tcp_connect(int port) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  cubic(c);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) printf("connect: %s\n", err());
  return c;
}

static int unix_socket(int type, const char *abstract_name, int listen_too) {
  int s = socket(AF_UNIX, type, 0);
  if (abstract_name) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path + 1, abstract_name, strlen(abstract_name));
    if (bind(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract_name)) < 0)
      printf("unix bind: %s\n", err());
  }
  if (listen_too && listen(s, 4) < 0) printf("unix listen: %s\n", err());
  return s;
}

static void unix_connect(int s, const char *abstract_name) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  memcpy(a.sun_path + 1, abstract_name, strlen(abstract_name));
  if (connect(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract_name)) < 0)
    printf("unix connect: %s\n", err());
}

static void unix_dump(const char *what, unsigned states, unsigned show) {
  struct unix_diag_req r = {.sdiag_family = AF_UNIX, .udiag_states = states, .udiag_show = show};
  ask(what, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &r, sizeof r, 32768);
}

int main(void) {
  nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) {
    printf("socket: %s\n", err());
    return 1;
  }
  int proto = -1;
  socklen_t plen = sizeof proto;
  getsockopt(nl, SOL_SOCKET, SO_PROTOCOL, &proto, &plen);
  printf("SO_PROTOCOL %d\n", proto);

  /* TCP: a listener, an established pair with unread data, a TIME_WAIT connection (the client
   * closes first), one waiting for accept. */
  /* Fixed ports below the ephemeral range, so no client's port falls among them. */
  base_port = 5000;
  int lst = tcp_listener(AF_INET, "127.0.0.1", base_port, 0);
  int cli = tcp_connect(base_port);
  int srv = accept(lst, NULL, NULL);
  if (write(cli, "hello", 5) != 5) printf("write: %s\n", err());
  char got[8];
  if (read(srv, got, sizeof got) != 5) printf("read: %s\n", err());
  int twc = tcp_connect(base_port);
  int tws = accept(lst, NULL, NULL);
  int waiting = tcp_connect(base_port);
  if (write(waiting, "abc", 3) != 3) printf("write: %s\n", err());
  if (shutdown(cli, SHUT_WR) < 0) printf("shutdown: %s\n", err());
  int tos = 0x10;
  setsockopt(srv, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  int lst2 = tcp_listener(AF_INET, "127.0.0.2", base_port + 1, 0);
  int lst6 = tcp_listener(AF_INET6, "::1", base_port + 2, 1);
  int lst6any = tcp_listener(AF_INET6, "::", base_port + 3, 0);
  /* UDP: bound, and connected to it. */
  int ub = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons(base_port + 4)};
  inet_pton(AF_INET, "127.0.0.1", &ua.sin_addr);
  if (bind(ub, (struct sockaddr *)&ua, sizeof ua) < 0) printf("udp bind: %s\n", err());
  int uc = socket(AF_INET, SOCK_DGRAM, 0);
  if (connect(uc, (struct sockaddr *)&ua, sizeof ua) < 0) printf("udp connect: %s\n", err());
  if (send(uc, "x", 1, 0) != 1) printf("udp send: %s\n", err());
  /* IPv6: a connection over ::1 to lst6, and an IPv4 one to the dual-stack lst6any (its
   * accepted end is an AF_INET6 socket with IPv4-mapped addresses). A UDP-Lite socket. */
  int c6 = socket(AF_INET6, SOCK_STREAM, 0);
  cubic(c6);
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(base_port + 2), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  if (connect(c6, (struct sockaddr *)&a6, sizeof a6) < 0) printf("connect6: %s\n", err());
  int s6 = accept(lst6, NULL, NULL);
  int cm = tcp_connect(base_port + 3);
  int sm = accept(lst6any, NULL, NULL);
  int ul4 = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE);
  struct sockaddr_in ula = {.sin_family = AF_INET, .sin_port = htons(base_port + 6)};
  inet_pton(AF_INET, "127.0.0.1", &ula.sin_addr);
  if (bind(ul4, (struct sockaddr *)&ula, sizeof ula) < 0) printf("udplite bind: %s\n", err());
  int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 u6a = {.sin6_family = AF_INET6, .sin6_port = htons(base_port + 5)};
  if (bind(u6, (struct sockaddr *)&u6a, sizeof u6a) < 0) printf("udp6 bind: %s\n", err());
  /* AF_UNIX: a listener with a pending connection, an accepted one, a pair, datagram sockets. */
  int ul = unix_socket(SOCK_STREAM, "tsvisor-diag-listener", 1);
  int uconn = unix_socket(SOCK_STREAM, NULL, 0);
  unix_connect(uconn, "tsvisor-diag-listener");
  int upend = unix_socket(SOCK_STREAM, NULL, 0);
  unix_connect(upend, "tsvisor-diag-listener");
  int uacc = accept(ul, NULL, NULL);
  int upair[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, upair);
  if (write(upair[0], "abc", 3) != 3) printf("unix write: %s\n", err());
  shutdown(upair[1], SHUT_RD);
  int ud = unix_socket(SOCK_DGRAM, "tsvisor-diag-dgram", 0);
  /* A socket bound to a path: UNIX_DIAG_NAME is the path, UNIX_DIAG_VFS its node. */
  unlink(UNIX_PATH);
  int upath = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un pa = {.sun_family = AF_UNIX, .sun_path = UNIX_PATH};
  if (bind(upath, (struct sockaddr *)&pa, sizeof pa) < 0) printf("unix path bind: %s\n", err());
  int udc = unix_socket(SOCK_DGRAM, NULL, 0);
  unix_connect(udc, "tsvisor-diag-dgram");
  if (send(udc, "1234", 4, 0) != 4) printf("unix dgram send: %s\n", err());
  usleep(100000);
  if (read(srv, got, sizeof got) != 0) printf("read: not EOF\n");
  close(twc);
  usleep(50000);
  close(tws);
  usleep(100000);

  know("lst", lst);
  know("cli", cli);
  know("srv", srv);
  know("waiting", waiting);
  know("lst2", lst2);
  know("lst6", lst6);
  know("lst6any", lst6any);
  know("ub", ub);
  know("uc", uc);
  know("u6", u6);
  know("ul", ul);
  know("uconn", uconn);
  know("upend", upend);
  know("uacc", uacc);
  know("upair0", upair[0]);
  know("upair1", upair[1]);
  know("ud", ud);
  know("udc", udc);
  know("upath", upath);
  know("c6", c6);
  know("s6", s6);
  know("cm", cm);
  know("sm", sm);
  know("ul4", ul4);

  /* inet_diag dumps. */
  inet_dump("tcp4 all", AF_INET, IPPROTO_TCP, ~0u, 0);
  /* The connection waiting for accept is taken now: the dumps with extensions describe sockets
   * a program holds. */
  int wacc = accept(lst, NULL, NULL);
  know("wacc", wacc);
  inet_dump("tcp4 listen ext", AF_INET, IPPROTO_TCP, 1 << LISTEN, 0xff);
  inet_dump("tcp4 estab ext", AF_INET, IPPROTO_TCP, (1 << ESTAB) | (1 << FIN_WAIT2) | (1 << CLOSE_WAIT), 0xff);
  inet_dump("tcp4 timewait", AF_INET, IPPROTO_TCP, 1 << TIME_WAIT, 0xff);
  inet_dump("tcp4 none", AF_INET, IPPROTO_TCP, 0, 0);
  inet_dump("tcp6 all ext", AF_INET6, IPPROTO_TCP, ~0u, 0xff);
  inet_dump("udp4 all ext", AF_INET, IPPROTO_UDP, ~0u, 0xff);
  inet_dump("udp4 estab", AF_INET, IPPROTO_UDP, 1 << ESTAB, 0);
  {
    struct inet_diag_req_v2 u = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_UDP, .idiag_states = ~0u};
    struct sockaddr_in a, b;
    socklen_t la = sizeof a, lb = sizeof b;
    getsockname(uc, (struct sockaddr *)&a, &la);
    getpeername(uc, (struct sockaddr *)&b, &lb);
    /* udp_dump_one looks up the socket a datagram from src:sport to dst:dport would reach. */
    u.id.idiag_sport = b.sin_port;
    u.id.idiag_dport = a.sin_port;
    u.id.idiag_src[0] = b.sin_addr.s_addr;
    u.id.idiag_dst[0] = a.sin_addr.s_addr;
    u.id.idiag_cookie[0] = (uint32_t)known[8].cookie;
    u.id.idiag_cookie[1] = (uint32_t)(known[8].cookie >> 32);
    cur_udp = 1;
    ask("udp exact uc", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &u, sizeof u, 32768);
    u.id.idiag_cookie[0] += 1000;
    ask("udp exact stale", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &u, sizeof u, 32768);
    u.id.idiag_dport = htons(9);
    ask("udp exact nobody", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &u, sizeof u, 32768);
    cur_udp = 0;
  }
  inet_dump("udp6 all ext", AF_INET6, IPPROTO_UDP, ~0u, 0xff);
  inet_dump("udplite4", AF_INET, IPPROTO_UDPLITE, ~0u, 0xff);
  inet_dump("tcp6 estab", AF_INET6, IPPROTO_TCP, 1 << ESTAB, 0);
  {
    /* The protocol in INET_DIAG_REQ_PROTOCOL (u32) rather than sdiag_protocol. */
    struct {
      struct inet_diag_req_v2 r;
      struct rtattr a;
      uint32_t proto;
    } pr = {{.sdiag_family = AF_INET6, .sdiag_protocol = 0, .idiag_states = 1 << ESTAB},
            {RTA_LENGTH(4), INET_DIAG_REQ_PROTOCOL},
            IPPROTO_TCP};
    ask("tcp6 estab by attribute", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &pr, sizeof pr, 32768);
    /* An exact lookup of the IPv6 connection, from its client's side. */
    struct inet_diag_req_v2 x = {.sdiag_family = AF_INET6, .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u};
    struct sockaddr_in6 me, peer;
    socklen_t ml = sizeof me, pl = sizeof peer;
    getsockname(c6, (struct sockaddr *)&me, &ml);
    getpeername(c6, (struct sockaddr *)&peer, &pl);
    x.id.idiag_sport = me.sin6_port;
    x.id.idiag_dport = peer.sin6_port;
    memcpy(x.id.idiag_src, &me.sin6_addr, 16);
    memcpy(x.id.idiag_dst, &peer.sin6_addr, 16);
    x.id.idiag_cookie[0] = x.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    ask("exact c6", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &x, sizeof x, 32768);
  }
  inet_dump("unspec tcp", AF_UNSPEC, IPPROTO_TCP, ~0u, 0);

  /* Exact lookups by cookie. */
  struct inet_diag_req_v2 r = exact_req(srv, known[2].cookie);
  ask("exact srv", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &r, sizeof r, 32768);
  r = exact_req(srv, INET_DIAG_NOCOOKIE);
  r.idiag_ext = 0;
  ask("exact srv nocookie", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &r, sizeof r, 32768);
  r = exact_req(srv, known[2].cookie + 1000);
  ask("exact srv stale cookie", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &r, sizeof r, 32768);
  r = exact_req(srv, known[2].cookie);
  r.id.idiag_dport = htons(1);
  ask("exact nobody", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &r, sizeof r, 32768);
  r = exact_req(srv, known[2].cookie);
  ask("exact srv ack", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_ACK, &r, sizeof r, 32768);
  r = exact_req(srv, known[2].cookie);
  ask("exact srv small buffer", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &r, sizeof r, 64);
  r = exact_req(srv, known[2].cookie);
  ask("destroy short", SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, &r, 0, 32768);

  /* Bytecode filters (what ss compiles). */
  {
    struct inet_diag_bc_op f[4];
    f[0] = op(INET_DIAG_BC_S_GE, 8, 16);
    f[1].code = 0, f[1].yes = 0, f[1].no = base_port;
    f[2] = op(INET_DIAG_BC_S_LE, 8, 12);
    f[3].code = 0, f[3].yes = 0, f[3].no = base_port;
    bc_dump("bc sport = P", AF_INET, IPPROTO_TCP, f, sizeof f);
    f[0] = op(INET_DIAG_BC_D_GE, 8, 16);
    f[2] = op(INET_DIAG_BC_D_LE, 8, 12);
    bc_dump("bc dport = P", AF_INET, IPPROTO_TCP, f, sizeof f);
  }
  {
    struct inet_diag_bc_op f[2] = {op(INET_DIAG_BC_S_EQ, 8, 12), {0, 0, base_port + 1}};
    bc_dump("bc sport eq P+1", AF_INET, IPPROTO_TCP, f, sizeof f);
    f[0] = op(INET_DIAG_BC_D_EQ, 8, 12);
    f[1].no = base_port;
    bc_dump("bc dport eq P", AF_INET, IPPROTO_TCP, f, sizeof f);
  }
  {
    /* src 127.0.0.2/32 (any port), then NOT (the JMP trick ss uses for "!"). */
    char buf[64];
    struct inet_diag_bc_op *o = (struct inet_diag_bc_op *)buf;
    struct inet_diag_hostcond *hc = (struct inet_diag_hostcond *)(o + 1);
    int len = sizeof *o + sizeof *hc + 4;
    *o = op(INET_DIAG_BC_S_COND, len, len + 4);
    hc->family = AF_INET;
    hc->prefix_len = 32;
    hc->port = -1;
    inet_pton(AF_INET, "127.0.0.2", hc->addr);
    bc_dump("bc src 127.0.0.2", AF_INET, IPPROTO_TCP, buf, len);
    hc->prefix_len = 8;
    inet_pton(AF_INET, "127.0.0.0", hc->addr);
    hc->port = base_port;
    *o = op(INET_DIAG_BC_D_COND, len, len + 4);
    bc_dump("bc dst 127/8:P", AF_INET, IPPROTO_TCP, buf, len);
    hc->family = AF_UNSPEC;
    hc->prefix_len = 0;
    hc->port = -1;
    *o = op(INET_DIAG_BC_S_COND, len, len + 4);
    bc_dump("bc src any family", AF_INET6, IPPROTO_TCP, buf, len);
    /* An IPv4 condition on AF_INET6 sockets: matches the IPv4-mapped connection only. */
    hc->family = AF_INET;
    hc->prefix_len = 32;
    inet_pton(AF_INET, "127.0.0.1", hc->addr);
    bc_dump("bc v4 src on tcp6", AF_INET6, IPPROTO_TCP, buf, len);
    /* An IPv6 prefix. */
    char buf6[64];
    struct inet_diag_bc_op *o6 = (struct inet_diag_bc_op *)buf6;
    struct inet_diag_hostcond *h6 = (struct inet_diag_hostcond *)(o6 + 1);
    int len6 = sizeof *o6 + sizeof *h6 + 16;
    *o6 = op(INET_DIAG_BC_D_COND, len6, len6 + 4);
    h6->family = AF_INET6;
    h6->prefix_len = 128;
    h6->port = -1;
    inet_pton(AF_INET6, "::1", h6->addr);
    bc_dump("bc dst ::1", AF_INET6, IPPROTO_TCP, buf6, len6);
    hc->family = AF_INET;
    hc->prefix_len = 33;
    bc_dump("bc bad prefix", AF_INET, IPPROTO_TCP, buf, len);
    hc->prefix_len = 32;
    bc_dump("bc short hostcond", AF_INET, IPPROTO_TCP, buf, sizeof *o + 4);
  }
  {
    struct inet_diag_bc_op f[1] = {op(INET_DIAG_BC_AUTO, 4, 8)};
    bc_dump("bc auto", AF_INET, IPPROTO_TCP, f, sizeof f);
    struct inet_diag_bc_op nop[3] = {op(INET_DIAG_BC_NOP, 4, 0), op(INET_DIAG_BC_JMP, 4, 8), op(INET_DIAG_BC_S_GE, 4, 8)};
    bc_dump("bc nop jmp", AF_INET, IPPROTO_TCP, nop, 8);
    struct inet_diag_bc_op g[2] = {op(INET_DIAG_BC_DEV_COND, 8, 12), {0, 0, 0}};
    uint32_t ifidx = 1;
    memcpy(&g[1], &ifidx, 4);
    bc_dump("bc dev lo", AF_INET, IPPROTO_TCP, g, sizeof g);
    struct {
      struct inet_diag_bc_op o;
      struct inet_diag_markcond m;
    } mk = {op(INET_DIAG_BC_MARK_COND, 12, 16), {0, 0}};
    bc_dump("bc mark 0", AF_INET, IPPROTO_TCP, &mk, sizeof mk);
    struct inet_diag_bc_op bad[1] = {op(99, 4, 8)};
    bc_dump("bc bad op", AF_INET, IPPROTO_TCP, bad, sizeof bad);
    struct inet_diag_bc_op jmp[2] = {op(INET_DIAG_BC_S_GE, 2, 8), {0, 0, 1}};
    bc_dump("bc bad yes", AF_INET, IPPROTO_TCP, jmp, sizeof jmp);
    struct inet_diag_bc_op back[1] = {op(INET_DIAG_BC_JMP, 4, 0)};
    bc_dump("bc jmp no 0", AF_INET, IPPROTO_TCP, back, sizeof back);
    struct inet_diag_bc_op nothing[1] = {op(INET_DIAG_BC_S_GE, 4, 8)};
    bc_dump("bc S_GE without port", AF_INET, IPPROTO_TCP, nothing, sizeof nothing);
  }

  /* Malformed requests. */
  {
    struct inet_diag_req_v2 ok = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u};
    ask("short req", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &ok, 10, 32768);
    ask("tiny req", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &ok, 1, 32768);
    struct inet_diag_req_v2 fam = ok;
    fam.sdiag_family = 99;
    ask("family 99", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &fam, sizeof fam, 32768);
    fam.sdiag_family = AF_MAX;
    ask("family AF_MAX", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &fam, sizeof fam, 32768);
    fam.sdiag_family = AF_PACKET + 1;
    ask("family 18", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &fam, sizeof fam, 32768);
    struct inet_diag_req_v2 pr = ok;
    pr.sdiag_protocol = IPPROTO_SCTP;
    ask("protocol sctp", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &pr, sizeof pr, 32768);
    pr.sdiag_protocol = 200;
    ask("protocol 200", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &pr, sizeof pr, 32768);
    ask("type 22", 22, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, &ok, sizeof ok, 32768);
    ask("type 18 (TCPDIAG_GETSOCK) v2 body", 18, NLM_F_REQUEST | NLM_F_DUMP, &ok, sizeof ok, 32768);
    /* The old request (struct inet_diag_req): both families at once, answers of its type. */
    struct inet_diag_req old = {.idiag_family = AF_INET, .idiag_ext = 1 << (INET_DIAG_CONG - 1),
                                .idiag_states = (1 << LISTEN)};
    ask("TCPDIAG_GETSOCK dump", TCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP, &old, sizeof old, 32768);
    ask("DCCPDIAG_GETSOCK dump", DCCPDIAG_GETSOCK, NLM_F_REQUEST | NLM_F_DUMP, &old, sizeof old, 32768);
    struct inet_diag_req_v2 l = exact_req(lst2, INET_DIAG_NOCOOKIE);
    old.id = l.id;
    old.idiag_states = ~0u;
    ask("TCPDIAG_GETSOCK exact lst2", TCPDIAG_GETSOCK, NLM_F_REQUEST, &old, sizeof old, 32768);
    old.idiag_family = AF_UNSPEC;
    ask("TCPDIAG_GETSOCK exact unspec", TCPDIAG_GETSOCK, NLM_F_REQUEST, &old, sizeof old, 32768);
    ask("type 19", 19, NLM_F_REQUEST | NLM_F_DUMP, &ok, sizeof ok, 32768);
    ask("type 16", 16, NLM_F_REQUEST | NLM_F_ACK, &ok, sizeof ok, 32768);
    ask("no request flag", SOCK_DIAG_BY_FAMILY, NLM_F_DUMP, &ok, sizeof ok, 32768);
    ask("dump ack", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, &ok, sizeof ok, 32768);
    ask("dump small buffer", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &ok, sizeof ok, 100);
  }

  /* A dump over several datagrams: 60 more UDP sockets, read through a fresh diag socket (whose
   * dump datagrams are NLMSG_GOODSIZE: it has not read with a bigger buffer yet) 4 KiB at a
   * time. Each datagram holds as many messages as fit. */
  {
    int many[60];
    for (int i = 0; i < 60; i++) {
      many[i] = socket(AF_INET, SOCK_DGRAM, 0);
      struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(base_port + 100 + i)};
      inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
      if (bind(many[i], (struct sockaddr *)&a, sizeof a) < 0) printf("bind many: %s\n", err());
    }
    int fresh = socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
    struct {
      struct nlmsghdr h;
      struct inet_diag_req_v2 r;
    } req = {{sizeof req, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 7, 0},
             {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_UDP, .idiag_states = ~0u}};
    if (send(fresh, &req, sizeof req, 0) < 0) printf("send: %s\n", err());
    char b[4096];
    int peeked = recv(fresh, b, 16, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    printf("multipart: first datagram %s, peeked %d\n", peeked > 16 ? "longer than 16" : "short", peeked);
    for (int d = 1;; d++) {
      struct iovec iov = {b, sizeof b};
      struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
      ssize_t r = recvmsg(fresh, &mh, MSG_DONTWAIT);
      if (r < 0) {
        printf("multipart: then %s\n", err());
        break;
      }
      int msgs = 0, done = 0;
      ssize_t left = r;
      for (struct nlmsghdr *m = (struct nlmsghdr *)b; NLMSG_OK(m, left); m = NLMSG_NEXT(m, left)) {
        if (m->nlmsg_type == NLMSG_DONE) done++;
        else msgs++;
      }
      printf("multipart: datagram %d: %zd bytes, %d messages%s%s\n", d, r, msgs, done ? ", done" : "",
             mh.msg_flags & MSG_TRUNC ? ", truncated" : "");
      if (done) break;
    }
    close(fresh);
    for (int i = 0; i < 60; i++) close(many[i]);
  }

  /* unix_diag. */
  unix_dump("unix all show", ~0u, UDIAG_SHOW_NAME | UDIAG_SHOW_VFS | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS |
                                      UDIAG_SHOW_RQLEN | UDIAG_SHOW_MEMINFO | UDIAG_SHOW_UID);
  unix_dump("unix listen", 1 << LISTEN, UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN);
  unix_dump("unix estab bare", 1 << ESTAB, 0);
  {
    struct unix_diag_req u = {.sdiag_family = AF_UNIX, .udiag_ino = known[14].ino,
                              .udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN};
    u.udiag_cookie[0] = (uint32_t)known[14].cookie;
    u.udiag_cookie[1] = (uint32_t)(known[14].cookie >> 32);
    ask("unix exact upair0", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &u, sizeof u, 32768);
    u.udiag_cookie[0] ^= 0x55;
    ask("unix exact stale", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &u, sizeof u, 32768);
    u.udiag_cookie[0] = u.udiag_cookie[1] = ~0u;
    ask("unix exact nocookie", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &u, sizeof u, 32768);
    u.udiag_ino = 1;
    ask("unix exact ino 1", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &u, sizeof u, 32768);
    ask("unix short", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, &u, 8, 32768);
    ask("unix destroy", SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, &u, sizeof u, 32768);
  }

  /* The peer closes: cli goes to TIME_WAIT (its file's socket is closed, a timewait sock
   * takes its place: the request is made first, getpeername fails after). Then cli is closed. */
  r = exact_req(cli, known[1].cookie);
  struct inet_diag_req_v2 gone = r;
  close(srv);
  usleep(50000);
  ask("exact cli after peer close", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &r, sizeof r, 32768);
  close(cli);
  usleep(50000);
  ask("exact closed cli", SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, &gone, sizeof gone, 32768);
  unlink(UNIX_PATH);
  return 0;
}
