// Runs classic BPF programs on the host kernel for cbpf.test.ts. Each stdin line is
//   C <prog-hex>               attach the program to an AF_UNIX datagram socket: prints 0 or the errno
//   R <prog-hex> <payload-hex> attach it, send the payload through the socket pair and print the
//                              length received, D when the filter dropped it, or E<errno> when
//                              the attach failed
// where <prog-hex> is a struct sock_filter array in hex ("-" for an empty one).
#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static unsigned char prog[65536 * 8], payload[70000], buf[70000];

static size_t unhex(const char *s, unsigned char *out) {
  size_t n = 0;
  if (strcmp(s, "-") == 0) return 0;
  for (; s[0] && s[1]; s += 2) {
    unsigned v;
    sscanf(s, "%2x", &v);
    out[n++] = v;
  }
  return n;
}

int main(void) {
  static char line[2 * sizeof(prog) + 2 * sizeof(payload) + 16];
  while (fgets(line, sizeof line, stdin)) {
    char *op = strtok(line, " \n"), *p = strtok(NULL, " \n"), *d = strtok(NULL, " \n");
    if (!op || !p) continue;
    size_t plen = unhex(p, prog);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) return 1;
    struct sock_fprog fp = {.len = plen / 8, .filter = (struct sock_filter *)prog};
    int r = setsockopt(sv[1], SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp);
    if (op[0] == 'C') {
      printf("%d\n", r < 0 ? errno : 0);
    } else if (r < 0) {
      printf("E%d\n", errno);
    } else {
      size_t n = unhex(d ? d : "-", payload);
      if (send(sv[0], payload, n, 0) != (ssize_t)n) return 2;
      ssize_t got = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
      if (got < 0) printf("D\n");
      else printf("%zd\n", got);
    }
    close(sv[0]);
    close(sv[1]);
  }
  return 0;
}
