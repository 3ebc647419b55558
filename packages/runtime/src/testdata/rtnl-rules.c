/* RTM_GETRULE: the policy routing rules of a fresh network namespace as fib_nl_dumprule dumps
 * them (IPv4: local, main, default; IPv6: local, main), per family and for AF_UNSPEC, and the
 * errors of a request that is not a dump and of a family without rules. */
#define _GNU_SOURCE
#include <linux/fib_rules.h>

#include "rtnl-util.h"

static void dump(int fd, const char *what, int family, int flags) {
  struct fib_rule_hdr r = {.family = family};
  rtnl_ask(fd, what, RTM_GETRULE, flags, &r, sizeof r, sizeof r);
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  int fd = rtnl_open();
  if (fd < 0) {
    printf("socket: %s\n", strerrorname_np(errno));
    return 1;
  }
  dump(fd, "dump AF_INET", AF_INET, NLM_F_DUMP);
  dump(fd, "dump AF_INET6", AF_INET6, NLM_F_DUMP);
  dump(fd, "dump AF_UNSPEC", AF_UNSPEC, NLM_F_DUMP);
  dump(fd, "dump AF_PACKET", AF_PACKET, NLM_F_DUMP);
  dump(fd, "get AF_INET without NLM_F_DUMP", AF_INET, NLM_F_ACK);
  /* A dump request whose body is shorter than struct fib_rule_hdr. */
  struct fib_rule_hdr r = {.family = AF_INET};
  rtnl_ask(fd, "dump with a 1-byte body", RTM_GETRULE, NLM_F_DUMP, &r, 1, sizeof r);
  close(fd);
  return 0;
}
