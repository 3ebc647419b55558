/*
 * SO_REUSEPORT groups share a port's traffic, as on Linux: four UDP sockets bound to one address
 * and port each get some of the datagrams of 64 senders, and a sender's datagrams all reach the
 * same socket; four TCP listeners each accept some of 64 connections; after one listener closes,
 * the other three take all new connections; a socket without the option cannot join.
 * (Which member gets a flow depends on a secret hash, so only these properties are compared.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MEMBERS 4
#define FLOWS 64

static struct sockaddr_in at(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return a;
}

static int member(int type, int port, int reuse) {
  int s = socket(AF_INET, type | SOCK_NONBLOCK, 0);
  int one = 1;
  if (reuse) setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_in a = at(port);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = errno;
    close(s);
    errno = e;
    return -1;
  }
  if (type == SOCK_STREAM && listen(s, 128) < 0) return -1;
  return s;
}

static void udp(void) {
  int r[MEMBERS], got[MEMBERS] = {0};
  for (int i = 0; i < MEMBERS; i++) r[i] = member(SOCK_DGRAM, 7411, 1);
  int lone = member(SOCK_DGRAM, 7411, 0);
  printf("udp: a socket without SO_REUSEPORT joins: %s\n", lone < 0 ? strerrorname_np(errno) : "yes");
  int same = 1;
  for (int f = 0; f < FLOWS; f++) {
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = at(7411);
    int first = -1;
    for (int k = 0; k < 2; k++) {
      sendto(c, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
      usleep(1000);
      for (int i = 0; i < MEMBERS; i++) {
        char b[4];
        if (recv(r[i], b, sizeof b, 0) == 1) {
          got[i]++;
          if (k == 0) first = i;
          else if (i != first) same = 0;
        }
      }
    }
    close(c);
  }
  int all = 1, total = 0;
  for (int i = 0; i < MEMBERS; i++) {
    all &= got[i] > 0;
    total += got[i];
  }
  printf("udp: %d datagrams received, every member got some: %d, each sender kept its member: %d\n", total, all, same);
  for (int i = 0; i < MEMBERS; i++) close(r[i]);
}

static int drain(int l) {
  int n = 0, c;
  while ((c = accept(l, NULL, NULL)) >= 0) {
    close(c);
    n++;
  }
  return n;
}

static void tcp(void) {
  int l[MEMBERS], got[MEMBERS] = {0};
  for (int i = 0; i < MEMBERS; i++) l[i] = member(SOCK_STREAM, 7412, 1);
  int lone = member(SOCK_STREAM, 7412, 0);
  printf("tcp: a listener without SO_REUSEPORT joins: %s\n", lone < 0 ? strerrorname_np(errno) : "yes");
  for (int f = 0; f < FLOWS; f++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = at(7412);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) printf("tcp: connect: %s\n", strerrorname_np(errno));
    close(c);
  }
  usleep(20000);
  int all = 1, total = 0;
  for (int i = 0; i < MEMBERS; i++) {
    got[i] = drain(l[i]);
    all &= got[i] > 0;
    total += got[i];
  }
  printf("tcp: %d connections accepted, every listener got some: %d\n", total, all);
  close(l[0]);
  int rest = 0, others = 1;
  for (int f = 0; f < FLOWS; f++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = at(7412);
    if (connect(c, (struct sockaddr *)&a, sizeof a) < 0) printf("tcp: connect after close: %s\n", strerrorname_np(errno));
    close(c);
  }
  usleep(20000);
  for (int i = 1; i < MEMBERS; i++) {
    int n = drain(l[i]);
    others &= n > 0;
    rest += n;
  }
  printf("tcp: after one listener closed, the other three accepted %d, each some: %d\n", rest, others);
  for (int i = 1; i < MEMBERS; i++) close(l[i]);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  udp();
  tcp();
  return 0;
}
