// Data sent to a TCP end that can no longer read it, on the host kernel (inside a fresh network
// namespace), one line per call. Linux's tcp_rcv_state_process answers new data with a RST when
// the receiving end has shut down reading and sent its FIN (FIN_WAIT_1/2 with RCV_SHUTDOWN):
// after close(), or shutdown(SHUT_RDWR) while the socket is still open. The sender's next send
// fails at once. After shutdown(SHUT_WR) alone the data is still taken and readable.
// (CPython's test_asyncio.test_streams test_drain_raises writes until its peer's close() makes
// a send fail; without the RST its writes filled the peer's window and it waited ~100 s.)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "host-diff.test-util.h"

static void snd(const char *what, int fd) {
  printf("%s send %s\n", what, res(send(fd, "data", 4, MSG_NOSIGNAL)));
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IONBF, 0);

  // C. The accepted end closes with nothing unread (a FIN, no RST); the client then writes.
  {
    int c, a, l;
    tcp_pair(7501, &c, &a, &l);
    close(a);
    WAIT;
    show_poll("C", c);
    show_proc_tcp("C closed", 7501);
    snd("C", c);
    WAIT;
    show_poll("C", c);
    show_proc_tcp("C data", 7501);
    show_soerror("C", c);
    snd("C", c);
    show_recv("C", c);
    show_poll("C", c);
    close(c);
    close(l);
  }
  // S. The same with shutdown(SHUT_RDWR) and the socket kept open: its owner sees the reset.
  {
    int c, a, l;
    tcp_pair(7502, &c, &a, &l);
    shutdown(a, SHUT_RDWR);
    WAIT;
    snd("S", c);
    WAIT;
    show_poll("S", c);
    show_soerror("S", c);
    snd("S", c);
    show_poll("S a", a);
    show_soerror("S a", a);
    show_recv("S a", a);
    close(a);
    close(c);
    close(l);
  }
  // W. shutdown(SHUT_WR) only: the data is taken and can be read.
  {
    int c, a, l;
    tcp_pair(7503, &c, &a, &l);
    shutdown(a, SHUT_WR);
    WAIT;
    snd("W", c);
    WAIT;
    show_poll("W", c);
    show_soerror("W", c);
    show_poll("W a", a);
    show_recv("W a", a);
    close(a);
    close(c);
    close(l);
  }
  // D. Writing until a send fails after the peer closed (test_drain_raises): the first send is
  // taken, the RST comes back, and the next one fails; never a send buffer filled up.
  {
    int c, a, l;
    tcp_pair(7504, &c, &a, &l);
    close(a);
    WAIT;
    int sent = 0;
    long r;
    while ((r = send(c, "foo\n", 4, MSG_NOSIGNAL)) > 0 && sent < 1000) {
      sent++;
      WAIT;
    }
    printf("D sends before the error %d, then %s\n", sent, res(r));
    close(c);
    close(l);
  }
  return 0;
}
