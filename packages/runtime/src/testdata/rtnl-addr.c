/* RTM_NEWADDR and RTM_DELADDR on lo: what a process with CAP_NET_ADMIN may add and remove, the
 * errors (with their extended ACK messages) of duplicates, missing addresses, bad prefix
 * lengths, flags and a missing capability, and what an added address does: sockets bind to
 * it and reach it, on IPv4 the whole prefix is local on lo, and removing it leaves a TCP
 * connection on it alone. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/if_addr.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "rtnl-util.h"

static int nl;

/* An RTM_NEWADDR or RTM_DELADDR of `addr`/`plen` (IPv4 or IPv6 text) on ifindex `index`. */
static void addr_req(const char *what, int type, int flags, const char *addr, int plen, int index) {
  char body[256] = {0};
  struct ifaddrmsg *m = (void *)body;
  size_t off = NLMSG_ALIGN(sizeof *m);
  unsigned char a[16];
  int v6 = strchr(addr, ':') != NULL;
  inet_pton(v6 ? AF_INET6 : AF_INET, addr, a);
  m->ifa_family = v6 ? AF_INET6 : AF_INET;
  m->ifa_prefixlen = plen;
  m->ifa_index = index;
  rtnl_attr(body, &off, IFA_LOCAL, a, v6 ? 16 : 4);
  if (!v6) rtnl_attr(body, &off, IFA_ADDRESS, a, 4);
  rtnl_ask(nl, what, type, NLM_F_ACK | flags, body, off, sizeof *m);
}

static void add(const char *what, int flags, const char *addr, int plen) {
  addr_req(what, RTM_NEWADDR, flags, addr, plen, 1);
}

static void del(const char *what, const char *addr, int plen) { addr_req(what, RTM_DELADDR, 0, addr, plen, 1); }

/* Sets or clears CAP_NET_ADMIN in the effective set (the permitted set keeps it). */
static void net_admin(int on) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct d[2];
  syscall(SYS_capget, &h, d);
  if (on) d[0].effective |= 1u << CAP_NET_ADMIN;
  else d[0].effective &= ~(1u << CAP_NET_ADMIN);
  if (syscall(SYS_capset, &h, d) < 0) printf("capset: %s\n", strerrorname_np(errno));
}

static void sa(struct sockaddr_storage *ss, socklen_t *len, const char *addr, int port) {
  memset(ss, 0, sizeof *ss);
  if (strchr(addr, ':')) {
    struct sockaddr_in6 *s = (void *)ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    inet_pton(AF_INET6, addr, &s->sin6_addr);
    *len = sizeof *s;
  } else {
    struct sockaddr_in *s = (void *)ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    inet_pton(AF_INET, addr, &s->sin_addr);
    *len = sizeof *s;
  }
}

/* bind(2) of a UDP socket to `addr`, and a datagram from it to itself. */
static void udp_on(const char *addr) {
  /* Linux finishes an IPv6 address's setup (its DAD, skipped on lo) in a work item: let it. */
  usleep(50 * 1000);
  struct sockaddr_storage ss;
  socklen_t len;
  sa(&ss, &len, addr, 0);
  int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
  int r = bind(fd, (void *)&ss, len);
  printf("udp bind %s: %s", addr, r == 0 ? "0" : strerrorname_np(errno));
  if (r == 0) {
    getsockname(fd, (void *)&ss, &len);
    sendto(fd, "hi", 2, 0, (void *)&ss, len);
    struct timeval tv = {0, 300000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[8];
    long n = recv(fd, buf, sizeof buf, 0);
    printf(", to itself: %s", n < 0 ? strerrorname_np(errno) : n == 2 ? "received" : "short");
  }
  printf("\n");
  close(fd);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  nl = rtnl_open();
  if (nl < 0) {
    printf("socket: %s\n", strerrorname_np(errno));
    return 1;
  }
  net_admin(0);
  add("add without CAP_NET_ADMIN", NLM_F_CREATE | NLM_F_EXCL, "10.9.9.9", 24);
  net_admin(1);
  udp_on("10.9.9.9");
  add("add 10.9.9.9/24", NLM_F_CREATE | NLM_F_EXCL, "10.9.9.9", 24);
  add("add 10.9.9.9/24 again", NLM_F_CREATE | NLM_F_EXCL, "10.9.9.9", 24);
  add("add 10.9.9.9/24 again without NLM_F_EXCL", NLM_F_CREATE, "10.9.9.9", 24);
  add("add 10.9.9.9/24 again with NLM_F_REPLACE", NLM_F_CREATE | NLM_F_REPLACE, "10.9.9.9", 24);
  add("add 10.8.8.8/24 without NLM_F_CREATE", 0, "10.8.8.8", 24);
  add("add 10.9.9.9/33", NLM_F_CREATE | NLM_F_EXCL, "10.9.9.9", 33);
  addr_req("add 10.7.7.7/24 on ifindex 99", RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, "10.7.7.7", 24, 99);
  udp_on("10.9.9.9");
  udp_on("10.9.9.77");
  udp_on("10.8.8.8");

  /* A TCP connection on the address, which is then removed. */
  struct sockaddr_storage ss;
  socklen_t len;
  sa(&ss, &len, "10.9.9.9", 0);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  bind(l, (void *)&ss, len);
  listen(l, 1);
  getsockname(l, (void *)&ss, &len);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  printf("tcp connect 10.9.9.9: %s\n", connect(c, (void *)&ss, len) == 0 ? "0" : strerrorname_np(errno));
  int s = accept(l, 0, 0);

  del("del 10.1.1.1/24", "10.1.1.1", 24);
  del("del 10.9.9.9/16", "10.9.9.9", 16);
  del("del 10.9.9.9/24", "10.9.9.9", 24);
  del("del 10.9.9.9/24 again", "10.9.9.9", 24);
  udp_on("10.9.9.9");
  long n = send(s, "after", 5, 0);
  char buf[16];
  struct timeval tv = {0, 300000};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  long r = recv(c, buf, sizeof buf, 0);
  printf("tcp after the address went: send %ld, the peer's recv %s\n", n, r < 0 ? strerrorname_np(errno) : "got data");
  close(c);
  close(s);
  close(l);

  udp_on("2001:db8::1");
  add("add 2001:db8::1/64", NLM_F_CREATE | NLM_F_EXCL, "2001:db8::1", 64);
  add("add 2001:db8::1/64 again", NLM_F_CREATE | NLM_F_EXCL, "2001:db8::1", 64);
  add("add 2001:db8::1/48", NLM_F_CREATE | NLM_F_EXCL, "2001:db8::1", 48);
  add("add 2001:db8::1/64 with NLM_F_REPLACE", NLM_F_CREATE | NLM_F_REPLACE, "2001:db8::1", 64);
  add("add 2001:db8::2/129", NLM_F_CREATE | NLM_F_EXCL, "2001:db8::2", 129);
  add("add 2001:db8::3/0", NLM_F_CREATE | NLM_F_EXCL, "2001:db8::3", 0);
  udp_on("2001:db8::1");
  udp_on("2001:db8::5");
  del("del 2001:db8::2/64", "2001:db8::2", 64);
  del("del 2001:db8::1/64", "2001:db8::1", 64);
  del("del 2001:db8::3/0", "2001:db8::3", 0);
  udp_on("2001:db8::1");
  return 0;
}
