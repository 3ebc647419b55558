// Prints what glibc's resolver reads from /etc/resolv.conf (res_ninit): the timeout, the
// attempts and each nameserver with its port. The test bind-mounts its own resolv.conf over
// /etc/resolv.conf in a private mount namespace and compares with the gateway's parse.
#include <arpa/inet.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  struct __res_state st;
  memset(&st, 0, sizeof st);
  if (res_ninit(&st) != 0) return 1;
  printf("timeout %d attempts %d\n", st.retrans, st.retry);
  for (int i = 0; i < st.nscount; i++) {
    char buf[INET6_ADDRSTRLEN];
    if (st.nsaddr_list[i].sin_family == AF_INET)
      printf("ns %s %d\n", inet_ntop(AF_INET, &st.nsaddr_list[i].sin_addr, buf, sizeof buf),
             ntohs(st.nsaddr_list[i].sin_port));
    else if (st._u._ext.nsaddrs[i])
      printf("ns %s %d\n", inet_ntop(AF_INET6, &st._u._ext.nsaddrs[i]->sin6_addr, buf, sizeof buf),
             ntohs(st._u._ext.nsaddrs[i]->sin6_port));
  }
  return 0;
}
