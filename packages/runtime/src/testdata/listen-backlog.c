// How many connections a listen backlog lets wait for accept: for backlogs 0, 1 and 3 it makes
// backlog + 3 non-blocking loopback connections one after another, then prints which clients
// completed their handshake, how many connections accept() finds, and the TcpExt
// ListenOverflows/ListenDrops deltas. Linux: backlog + 1 wait; the SYNs of the others are dropped.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

int main(void) {
  const int backlogs[] = {0, 1, 3};
  for (int b = 0; b < 3; b++) {
    int backlog = backlogs[b];
    long over0 = tcpext("ListenOverflows"), drops0 = tcpext("ListenDrops");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, backlog) ||
        getsockname(l, (struct sockaddr *)&a, &len)) {
      perror("listen");
      return 1;
    }
    int n = backlog + 3, c[8];
    printf("backlog %d:", backlog);
    for (int i = 0; i < n; i++) {
      c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      int r = connect(c[i], (struct sockaddr *)&a, sizeof a);
      if (r != 0 && errno != EINPROGRESS) {
        perror("connect");
        return 1;
      }
      struct pollfd p = {c[i], POLLOUT, 0};
      int err = -1;
      socklen_t el = sizeof err;
      int ready = poll(&p, 1, 200) == 1 && getsockopt(c[i], SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0;
      printf(" %s", ready ? "connected" : "pending");
    }
    fcntl(l, F_SETFL, O_NONBLOCK);
    int accepted = 0;
    for (int s; (s = accept(l, NULL, NULL)) >= 0; accepted++) close(s);
    printf("; accepted %d; ListenOverflows +%ld ListenDrops +%ld\n", accepted, tcpext("ListenOverflows") - over0,
           tcpext("ListenDrops") - drops0);
    for (int i = 0; i < n; i++) close(c[i]);
    close(l);
  }
  return 0;
}
