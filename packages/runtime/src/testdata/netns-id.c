/* RTM_GETNSID on rtnetlink (rtnl_net_getid, rtnl_net_dumpid) in a namespace that gave no ids:
 * the peer named by this process's pid is the namespace itself (NETNSA_NSID -1, not assigned),
 * other references fail with the errno Linux gives, and a dump lists nothing. Run in a fresh
 * network namespace and under tsvisor, the output must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int nl;
static unsigned seq;

/* Sends RTM_GETNSID with `flags` and up to two u32 attributes (type 0: none); prints the answer
 * (with NLM_F_ACK, up to the acknowledgement). */
static void ask(const char *what, int flags, int t1, unsigned v1, int t2, unsigned v2) {
  struct {
    struct nlmsghdr h;
    struct rtgenmsg g;
    char pad[3];
    struct nlattr a1;
    unsigned v1;
    struct nlattr a2;
    unsigned v2;
  } req;
  memset(&req, 0, sizeof req);
  int len = NLMSG_LENGTH(4);
  if (t1) {
    req.a1 = (struct nlattr){.nla_len = 8, .nla_type = t1};
    req.v1 = v1;
    len += 8;
  }
  if (t2) {
    req.a2 = (struct nlattr){.nla_len = 8, .nla_type = t2};
    req.v2 = v2;
    len += 8;
  }
  req.h = (struct nlmsghdr){.nlmsg_len = len, .nlmsg_type = RTM_GETNSID, .nlmsg_flags = NLM_F_REQUEST | flags, .nlmsg_seq = ++seq};
  req.g.rtgen_family = AF_UNSPEC;
  if (send(nl, &req, len, 0) != len) {
    perror("send");
    return;
  }
  printf("%s:", what);
  for (;;) {
    char buf[8192];
    ssize_t n = recv(nl, buf, sizeof buf, 0);
    if (n < 0) {
      printf(" recv %s\n", strerrorname_np(errno));
      return;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        printf(" error %s\n", e ? strerrorname_np(-e) : "0");
        return;
      }
      if (h->nlmsg_type == NLMSG_DONE) {
        printf(" done\n");
        return;
      }
      printf(" type %d", h->nlmsg_type);
      if (h->nlmsg_type == RTM_NEWNSID) {
        struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct rtgenmsg)));
        int left = h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg)));
        for (; left >= (int)sizeof *a && a->nla_len >= sizeof *a && a->nla_len <= left;
             left -= NLA_ALIGN(a->nla_len), a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))
          if (a->nla_type == NETNSA_NSID) printf(" nsid %d", *(int *)(a + 1));
      }
      if (!(h->nlmsg_flags & NLM_F_MULTI) && !(flags & NLM_F_ACK)) {
        printf("\n");
        return;
      }
    }
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl < 0) {
    perror("socket");
    return 1;
  }
  int devnull = open("/dev/null", O_RDONLY);
  ask("by this pid", 0, NETNSA_PID, getpid(), 0, 0);
  ask("by a pid nobody has", 0, NETNSA_PID, 999999, 0, 0);
  ask("by an id", 0, NETNSA_NSID, 7, 0, 0);
  ask("by a file that is no namespace", 0, NETNSA_FD, devnull, 0, 0);
  ask("by a closed fd", 0, NETNSA_FD, 999, 0, 0);
  ask("with a target id", 0, NETNSA_PID, getpid(), NETNSA_TARGET_NSID, 1);
  ask("without a reference", 0, 0, 0, 0, 0);
  ask("with an unknown attribute", 0, NETNSA_PID, getpid(), 9, 0);
  ask("with an ack asked", NLM_F_ACK, NETNSA_PID, getpid(), 0, 0);
  ask("dump", NLM_F_DUMP, 0, 0, 0, 0);
  return 0;
}
