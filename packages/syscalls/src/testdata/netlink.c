// AF_NETLINK/NETLINK_ROUTE conformance: errnos, port ids, and the shape of replies (types, flags,
// sequence numbers, ACKs and errors) without depending on which interfaces exist. The same
// program runs natively and under tsvisor; both must print netlink.expected.txt.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0)
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else
    printf("%s = %ld\n", what, r);
}

static struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
static char buf[1 << 16];

static long request(int fd, int type, int flags, unsigned seq, const void *body, size_t len) {
  char msg[256];
  struct nlmsghdr *h = (struct nlmsghdr *)msg;
  memset(msg, 0, sizeof msg);
  h->nlmsg_len = NLMSG_LENGTH(len);
  h->nlmsg_type = type;
  h->nlmsg_flags = flags;
  h->nlmsg_seq = seq;
  memcpy(NLMSG_DATA(h), body, len);
  return sendto(fd, msg, h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
}

/** Reads replies until NLMSG_DONE or NLMSG_ERROR; prints a summary of what came. */
static void replies(int fd, const char *what, unsigned seq, unsigned pid, int family) {
  int count = 0, ok = 1, datagrams = 0, done = 0;
  while (!done) {
    struct sockaddr_nl from;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
    if (n < 0) {
      printf("%s: recvmsg -1 %s after %d messages\n", what, strerrorname_np(errno), count);
      return;
    }
    datagrams++;
    ok &= m.msg_namelen == sizeof from && from.nl_family == AF_NETLINK && from.nl_pid == 0;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      ok &= h->nlmsg_seq == seq && h->nlmsg_pid == pid;
      if (h->nlmsg_type == NLMSG_DONE) {
        printf("%s: %s messages, done flags=%#x len=%u error=%d, from the kernel: %d\n", what, count > 0 ? "some" : "no",
               h->nlmsg_flags, h->nlmsg_len, *(int *)NLMSG_DATA(h), ok);
        done = 1;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        printf("%s: %d messages, error %s flags=%#x len=%u echoed type=%d seq=%u, from the kernel: %d\n", what, count,
               e->error ? strerrorname_np(-e->error) : "0", h->nlmsg_flags, h->nlmsg_len, e->msg.nlmsg_type,
               e->msg.nlmsg_seq, ok);
        done = 1;
        break;
      }
      if (family >= 0) {
        // The first byte of ifinfomsg, ifaddrmsg and rtmsg is the family.
        ok &= family == 0 || *(unsigned char *)NLMSG_DATA(h) == family;
      }
      if (count == 0) printf("%s: first type=%d flags=%#x\n", what, h->nlmsg_type, h->nlmsg_flags);
      count++;
    }
  }
  (void)datagrams;
}

static unsigned portid(int fd) {
  struct sockaddr_nl a;
  socklen_t len = sizeof a;
  memset(&a, 0xff, sizeof a);
  if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) return 0xdead;
  if (len != sizeof a || a.nl_family != AF_NETLINK) return 0xbad;
  return a.nl_pid;
}

static int intopt(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) != 0) return -errno;
  return v;
}

int main(void) {
  show("socket SOCK_STREAM", socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE));
  show("socket SOCK_SEQPACKET", socket(AF_NETLINK, SOCK_SEQPACKET, NETLINK_ROUTE));
  show("socket protocol 32", socket(AF_NETLINK, SOCK_RAW, 32));
  show("socket protocol -1", socket(AF_NETLINK, SOCK_RAW, -1));
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int fd2 = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
  int fd3 = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
  printf("sockets: %d\n", fd >= 0 && fd2 >= 0 && fd3 >= 0);
  printf("unbound port id: %u\n", portid(fd));
  printf("SO_TYPE %d SO_PROTOCOL %d SO_DOMAIN %d\n", intopt(fd, SOL_SOCKET, SO_TYPE), intopt(fd, SOL_SOCKET, SO_PROTOCOL),
         intopt(fd, SOL_SOCKET, SO_DOMAIN));
  int v = 32768;
  show("setsockopt SO_RCVBUF", setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
  printf("SO_RCVBUF %d\n", intopt(fd, SOL_SOCKET, SO_RCVBUF));
  v = 1;
  show("setsockopt NETLINK_EXT_ACK", setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &v, sizeof v));
  printf("NETLINK_EXT_ACK %d NETLINK_CAP_ACK %d\n", intopt(fd, SOL_NETLINK, NETLINK_EXT_ACK),
         intopt(fd, SOL_NETLINK, NETLINK_CAP_ACK));
  show("setsockopt short", setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &v, 2));
  printf("getsockopt unknown: %d\n", intopt(fd, SOL_NETLINK, 99));

  struct sockaddr_nl a = {.nl_family = AF_NETLINK};
  show("bind short", bind(fd, (struct sockaddr *)&a, 8));
  a.nl_family = AF_INET;
  show("bind AF_INET", bind(fd, (struct sockaddr *)&a, sizeof a));
  a.nl_family = AF_NETLINK;
  show("bind pid 0", bind(fd, (struct sockaddr *)&a, sizeof a));
  unsigned pid = portid(fd);
  printf("port id is the pid: %d\n", pid == (unsigned)getpid());
  show("bind pid 0 again", bind(fd, (struct sockaddr *)&a, sizeof a));
  a.nl_pid = pid + 1;
  show("bind another pid when bound", bind(fd, (struct sockaddr *)&a, sizeof a));
  a.nl_pid = pid;
  show("bind a taken pid", bind(fd3, (struct sockaddr *)&a, sizeof a));
  a.nl_pid = 0;
  show("autobind second", bind(fd2, (struct sockaddr *)&a, sizeof a));
  unsigned pid2 = portid(fd2);
  printf("second port id is negative: %d\n", (int)pid2 < 0);
  struct sockaddr_nl peer;
  socklen_t plen = sizeof peer;
  memset(&peer, 0xff, sizeof peer);
  show("getpeername", getpeername(fd, (struct sockaddr *)&peer, &plen));
  printf("  len %u family %d pid %u groups %u\n", plen, peer.nl_family, peer.nl_pid, peer.nl_groups);
  show("listen", listen(fd, 1));
  show("accept", accept(fd, NULL, NULL));
  show("shutdown", shutdown(fd, SHUT_RDWR));
  show("recv on empty", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
  struct pollfd p = {fd, POLLIN | POLLOUT, 0};
  show("poll empty", poll(&p, 1, 0));
  printf("  revents %#x\n", p.revents);

  struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
  show("request GETLINK dump", request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 10, &g, sizeof g));
  p.revents = 0;
  show("poll ready", poll(&p, 1, 0));
  printf("  revents %#x\n", p.revents);
  long peek = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
  printf("peek length positive: %d\n", peek > 0);
  long small = recv(fd, buf, 16, MSG_PEEK);
  printf("short peek: %ld\n", small);
  replies(fd, "link dump", 10, pid, -1);

  struct ifaddrmsg ia = {.ifa_family = AF_INET};
  request(fd, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 11, &ia, sizeof ia);
  replies(fd, "IPv4 address dump", 11, pid, AF_INET);
  ia.ifa_family = AF_INET6;
  request(fd, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 12, &ia, sizeof ia);
  replies(fd, "IPv6 address dump", 12, pid, AF_INET6);
  struct rtmsg rt = {.rtm_family = AF_INET};
  request(fd, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 13, &rt, sizeof rt);
  replies(fd, "IPv4 route dump", 13, pid, AF_INET);

  struct ifinfomsg ii = {.ifi_family = AF_UNSPEC, .ifi_index = 1};
  request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, 14, &ii, sizeof ii);
  replies(fd, "GETLINK index 1 with ACK", 14, pid, -1);
  request(fd, RTM_GETLINK, NLM_F_REQUEST, 15, &ii, sizeof ii);
  long n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  printf("GETLINK index 1: one message %d type %d flags %#x\n", n > 0 && (long)h->nlmsg_len == n, h->nlmsg_type,
         h->nlmsg_flags);
  show("  then nothing", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
  ii.ifi_index = 9999;
  request(fd, RTM_GETLINK, NLM_F_REQUEST, 16, &ii, sizeof ii);
  replies(fd, "GETLINK index 9999", 16, pid, -1);
  v = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &v, sizeof v);
  request(fd, RTM_GETLINK, NLM_F_REQUEST, 17, &ii, sizeof ii);
  replies(fd, "GETLINK index 9999, NETLINK_CAP_ACK", 17, pid, -1);
  v = 0;
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &v, sizeof v);
  request(fd, RTM_GETLINK, NLM_F_REQUEST, 18, &g, sizeof g);
  replies(fd, "GETLINK without ifinfomsg", 18, pid, -1);
  request(fd, 250, NLM_F_REQUEST | NLM_F_ACK, 19, &g, sizeof g);
  replies(fd, "type 250", 19, pid, -1);
  request(fd, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 20, &g, sizeof g);
  replies(fd, "NLMSG_NOOP with ACK", 20, pid, -1);
  request(fd, RTM_GETLINK, NLM_F_DUMP, 21, &g, sizeof g);
  show("no NLM_F_REQUEST: no answer", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
  request(fd, RTM_GETLINK, NLM_F_DUMP | NLM_F_REQUEST | NLM_F_ACK, 22, &g, sizeof g);
  replies(fd, "dump with ACK", 22, pid, -1);
  show("  then nothing", recv(fd, buf, sizeof buf, MSG_DONTWAIT));
  show("send a short message", sendto(fd, buf, 10, 0, (struct sockaddr *)&kernel, sizeof kernel));
  show("  no answer", recv(fd, buf, sizeof buf, MSG_DONTWAIT));

  // Two requests in one datagram: both answered, in order.
  char two[64];
  memset(two, 0, sizeof two);
  struct nlmsghdr *h1 = (struct nlmsghdr *)two, *h2 = (struct nlmsghdr *)(two + 32);
  h1->nlmsg_len = h2->nlmsg_len = 32;
  h1->nlmsg_type = h2->nlmsg_type = RTM_GETLINK;
  h1->nlmsg_flags = h2->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h1->nlmsg_seq = 30;
  h2->nlmsg_seq = 31;
  ((struct ifinfomsg *)NLMSG_DATA(h1))->ifi_index = 9998;
  ((struct ifinfomsg *)NLMSG_DATA(h2))->ifi_index = 9997;
  show("send two requests", sendto(fd, two, sizeof two, 0, (struct sockaddr *)&kernel, sizeof kernel));
  replies(fd, "first", 30, pid, -1);
  replies(fd, "second", 31, pid, -1);

  // Unicast between two user sockets.
  struct sockaddr_nl to = {.nl_family = AF_NETLINK, .nl_pid = pid2};
  show("sendto a user socket", sendto(fd, "hello", 5, 0, (struct sockaddr *)&to, sizeof to));
  struct sockaddr_nl from;
  socklen_t flen = sizeof from;
  n = recvfrom(fd2, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
  printf("  received %ld from the sender: %d\n", n, from.nl_pid == pid);
  to.nl_pid = 0x7ffffff0;
  show("sendto a missing port id", sendto(fd, "hello", 5, 0, (struct sockaddr *)&to, sizeof to));
  show("connect", connect(fd, (struct sockaddr *)&kernel, sizeof kernel));
  show("send after connect", request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 40, &g, sizeof g));
  replies(fd, "link dump after connect", 40, pid, -1);
  close(fd);
  close(fd2);
  close(fd3);
  return 0;
}
