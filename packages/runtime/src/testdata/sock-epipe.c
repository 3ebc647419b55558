/* EPIPE and SIGPIPE on sockets, natively in a fresh network namespace and under tsvisor
 * (sock-epipe.test.ts). Linux raises SIGPIPE with EPIPE on stream sockets only (TCP's
 * sk_stream_error, unix_stream_sendmsg), for send, sendto and write alike, never on datagram or
 * seqpacket sockets; a UDP socket shut for writing checks its destination first (EDESTADDRREQ
 * without one, EINVAL for port 0) and meets SEND_SHUTDOWN only when the datagram's buffer is
 * allocated (EPIPE). Under tsvisor every EPIPE raised SIGPIPE, and a UDP send without a
 * destination answered EPIPE (found by netstack's socket model test). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t pipes;
static void on_pipe(int sig) {
  (void)sig;
  pipes++;
}

static void show(const char *what, long r) {
  printf("%s: %ld %s, SIGPIPE %d\n", what, r, r < 0 ? strerrorname_np(errno) : "ok", (int)pipes);
  pipes = 0;
}

int main(void) {
  signal(SIGPIPE, on_pipe);
  const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  const char *const names[] = {"unix stream", "unix dgram", "unix seqpacket"};
  char line[96];
  for (int i = 0; i < 3; i++) {
    int sv[2];
    if (socketpair(AF_UNIX, types[i], 0, sv) != 0) return 1;
    shutdown(sv[0], SHUT_WR);
    snprintf(line, sizeof line, "%s, own SHUT_WR, send", names[i]);
    show(line, send(sv[0], "x", 1, 0));
    snprintf(line, sizeof line, "%s, own SHUT_WR, send MSG_NOSIGNAL", names[i]);
    show(line, send(sv[0], "x", 1, MSG_NOSIGNAL));
    snprintf(line, sizeof line, "%s, own SHUT_WR, write", names[i]);
    show(line, write(sv[0], "x", 1));
    close(sv[0]);
    snprintf(line, sizeof line, "%s, peer closed, send", names[i]);
    show(line, send(sv[1], "x", 1, 0));
    close(sv[1]);
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct sockaddr_in port0 = to;
  port0.sin_port = 0;
  for (int connected = 0; connected < 2; connected++) {
    const char *how = connected ? "udp connected" : "udp unconnected";
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (connected) connect(s, (void *)&to, sizeof to);
    snprintf(line, sizeof line, "%s, shutdown SHUT_WR", how);
    show(line, shutdown(s, SHUT_WR));
    snprintf(line, sizeof line, "%s, send", how);
    show(line, send(s, "x", 1, 0));
    snprintf(line, sizeof line, "%s, sendto", how);
    show(line, sendto(s, "x", 1, 0, (void *)&to, sizeof to));
    snprintf(line, sizeof line, "%s, sendto port 0", how);
    show(line, sendto(s, "x", 1, 0, (void *)&port0, sizeof port0));
    snprintf(line, sizeof line, "%s, send MSG_OOB", how);
    show(line, send(s, "x", 1, MSG_OOB));
    snprintf(line, sizeof line, "%s, send MSG_MORE", how);
    show(line, send(s, "x", 1, MSG_MORE));
    snprintf(line, sizeof line, "%s, write", how);
    show(line, write(s, "x", 1));
    close(s);
  }
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof any;
  bind(l, (void *)&any, sizeof any);
  listen(l, 1);
  getsockname(l, (void *)&any, &len);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (void *)&any, sizeof any);
  shutdown(c, SHUT_WR);
  show("tcp, own SHUT_WR, send", send(c, "x", 1, 0));
  show("tcp, own SHUT_WR, send MSG_NOSIGNAL", send(c, "x", 1, MSG_NOSIGNAL));
  show("tcp, own SHUT_WR, write", write(c, "x", 1));
  close(c);
  close(l);
  return 0;
}
