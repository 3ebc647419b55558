/* SO_SNDBUF/SO_RCVBUF and their FORCE variants on UDP sockets: what getsockopt reports after
 * each setsockopt (run as root, so the FORCE variants are allowed). buffer-size.test.ts does the
 * same on InetSocket with the host's net.core.{r,w}mem_max. */
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>

int main(void) {
  int vals[] = {0, 1, 1000, 5000, 100000, 1 << 30, -1, -5000};
  int names[] = {SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE};
  int fams[] = {AF_INET, AF_INET6};
  for (int f = 0; f < 2; f++) {
    int s = socket(fams[f], SOCK_DGRAM, 0);
    int v;
    socklen_t l = sizeof v;
    getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l);
    printf("family %d default snd %d", fams[f], v);
    getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l);
    printf(" rcv %d\n", v);
    for (int n = 0; n < 4; n++)
      for (unsigned i = 0; i < sizeof vals / sizeof *vals; i++) {
        v = vals[i];
        int r = setsockopt(s, SOL_SOCKET, names[n], &v, sizeof v);
        int get = (names[n] == SO_SNDBUF || names[n] == SO_SNDBUFFORCE) ? SO_SNDBUF : SO_RCVBUF;
        getsockopt(s, SOL_SOCKET, get, &v, &l);
        printf("opt %d set %d -> %d %d\n", names[n], vals[i], r, v);
      }
  }
  return 0;
}
