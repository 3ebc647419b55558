/* rtnetlink helpers of the rtnl-*.c conformance programs: send one request and print every
 * message of the answer (header, fixed part and attributes in hex), so that the program's output
 * is what the kernel said, byte for byte, apart from port ids and sequence numbers. */
#ifndef RTNL_UTIL_H
#define RTNL_UTIL_H
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RTNL_UTIL_UNUSED __attribute__((unused))

static unsigned rtnl_seq = 100;
/* Set: RTA_CACHEINFO's rta_lastuse, the ticks since a cached route was made, is printed as x's
 * (it depends on how fast the program runs). */
static int rtnl_hide_lastuse;

/* A NETLINK_ROUTE socket (bound to an automatic port id). */
RTNL_UTIL_UNUSED static int rtnl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  struct sockaddr_nl a = {.nl_family = AF_NETLINK};
  int on = 1;
  if (fd < 0) return fd;
  bind(fd, (void *)&a, sizeof a);
  /* As iproute2 asks: extended ACKs, with the request echoed by its header only. */
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  return fd;
}

/* Sends a request of `type` and `flags` (NLM_F_REQUEST added) whose body (fixed part and
 * attributes) is `body`; returns its sequence number, or -1 with errno. */
RTNL_UTIL_UNUSED static long rtnl_send(int fd, int type, int flags, const void *body, size_t len) {
  char buf[4096];
  struct nlmsghdr *h = (void *)buf;
  memset(buf, 0, sizeof buf);
  h->nlmsg_len = NLMSG_LENGTH(len);
  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | flags;
  h->nlmsg_seq = ++rtnl_seq;
  memcpy(NLMSG_DATA(h), body, len);
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  if (sendto(fd, buf, h->nlmsg_len, 0, (void *)&k, sizeof k) < 0) return -1;
  return h->nlmsg_seq;
}

/* Appends attribute `type` with `len` bytes of `data` to the body in `buf` of length `*off`. */
RTNL_UTIL_UNUSED static void rtnl_attr(char *buf, size_t *off, int type, const void *data, size_t len) {
  struct rtattr *a = (void *)(buf + *off);
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  *off += RTA_ALIGN(a->rta_len);
}

static void rtnl_hex(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
}

/* Prints one message: its type and flags, for NLMSG_ERROR the errno's name, else `fixed` bytes
 * of its fixed part and its attributes (nested ones as raw bytes). */
static void rtnl_print(const struct nlmsghdr *h, size_t fixed, unsigned seq, unsigned pid) {
  printf("  type %d flags 0x%x%s%s", h->nlmsg_type, h->nlmsg_flags, h->nlmsg_seq == seq ? "" : " (other seq)",
         h->nlmsg_pid == pid || h->nlmsg_pid == 0 ? "" : " (other pid)");
  if (h->nlmsg_type == NLMSG_ERROR) {
    const struct nlmsgerr *e = NLMSG_DATA(h);
    printf(" error %s", e->error == 0 ? "0 (ack)" : strerrorname_np(-e->error));
    /* Extended ACK attributes (NETLINK_EXT_ACK) after the echoed request (its header alone
     * with NLM_F_CAPPED). */
    if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
      size_t off = sizeof(int) + (h->nlmsg_flags & NLM_F_CAPPED ? sizeof(struct nlmsghdr) : e->msg.nlmsg_len);
      const unsigned char *body = NLMSG_DATA(h);
      size_t len = h->nlmsg_len - NLMSG_HDRLEN;
      off = NLMSG_ALIGN(off);
      while (off + sizeof(struct nlattr) <= len) {
        const struct nlattr *a = (const void *)(body + off);
        if (a->nla_len < sizeof *a || off + a->nla_len > len) break;
        if (a->nla_type == NLMSGERR_ATTR_MSG) printf(" msg \"%s\"", (const char *)(a + 1));
        else if (a->nla_type == NLMSGERR_ATTR_OFFS) printf(" offs %u", *(const unsigned *)(a + 1));
        else if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_POLICY) {
          printf(" policy ");
          rtnl_hex((const unsigned char *)(a + 1), a->nla_len - sizeof *a);
        } else printf(" tlv %d", a->nla_type);
        off += NLA_ALIGN(a->nla_len);
      }
    }
    printf("\n");
    return;
  }
  if (h->nlmsg_type == NLMSG_DONE) {
    int v = 0;
    if (h->nlmsg_len >= NLMSG_LENGTH(4)) memcpy(&v, NLMSG_DATA(h), 4);
    printf(" done %d\n", v);
    return;
  }
  const unsigned char *body = NLMSG_DATA(h);
  size_t len = h->nlmsg_len - NLMSG_HDRLEN;
  if (fixed > len) fixed = len;
  printf(" fixed ");
  rtnl_hex(body, fixed);
  printf("\n");
  size_t off = NLMSG_ALIGN(fixed);
  while (off + sizeof(struct rtattr) <= len) {
    const struct rtattr *a = (const void *)(body + off);
    if (a->rta_len < sizeof *a || off + a->rta_len > len) break;
    printf("    attr %d len %d: ", a->rta_type, a->rta_len);
    if (rtnl_hide_lastuse && h->nlmsg_type == RTM_NEWROUTE && a->rta_type == RTA_CACHEINFO &&
        RTA_PAYLOAD(a) >= 8) {
      rtnl_hex(RTA_DATA(a), 4);
      printf("xxxxxxxx");
      rtnl_hex((const unsigned char *)RTA_DATA(a) + 8, RTA_PAYLOAD(a) - 8);
    } else
      rtnl_hex(RTA_DATA(a), RTA_PAYLOAD(a));
    printf("\n");
    off += RTA_ALIGN(a->rta_len);
  }
}

/* Receives and prints the answer to request `seq` until NLMSG_DONE, an NLMSG_ERROR, or (no ACK
 * asked for) nothing more; each message's fixed part is `fixed` bytes long. */
RTNL_UTIL_UNUSED static void rtnl_answer(int fd, unsigned seq, size_t fixed) {
  static char buf[65536];
  struct sockaddr_nl me;
  socklen_t ml = sizeof me;
  getsockname(fd, (void *)&me, &ml);
  for (;;) {
    long n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN) printf("  recv: %s\n", strerrorname_np(errno));
      return;
    }
    int end = 0;
    for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      rtnl_print(h, fixed, seq, me.nl_pid);
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) end = 1;
    }
    if (end) return;
  }
}

/* Sends a request and prints its answer under the heading `what`. */
RTNL_UTIL_UNUSED static void rtnl_ask(int fd, const char *what, int type, int flags, const void *body, size_t len,
                                      size_t fixed) {
  printf("%s:\n", what);
  long seq = rtnl_send(fd, type, flags, body, len);
  if (seq < 0) {
    printf("  send: %s\n", strerrorname_np(errno));
    return;
  }
  rtnl_answer(fd, seq, fixed);
}
/* Calls `each` for every message monitoring socket `fd` got since the last call, in order,
 * after a pause for announcements still on their way. */
RTNL_UTIL_UNUSED static void rtnl_drain(int fd, void (*each)(const struct nlmsghdr *h)) {
  static char buf[65536];
  usleep(20 * 1000);
  for (;;) {
    long n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN) printf("  monitor recv: %s\n", strerrorname_np(errno));
      return;
    }
    for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) each(h);
  }
}
/* A socket that joined the link, address and route groups, for rtnl_drain; -1 on failure. */
RTNL_UTIL_UNUSED static int rtnl_monitor(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -1;
  struct sockaddr_nl me = {.nl_family = AF_NETLINK};
  bind(fd, (void *)&me, sizeof me);
  int groups[] = {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE};
  for (size_t i = 0; i < sizeof groups / sizeof *groups; i++)
    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i], sizeof groups[i]);
  return fd;
}
#endif
