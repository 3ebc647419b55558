/* msg_flags after recvmsg(2), natively in a fresh network namespace and under tsvisor
 * (recvmsg-flags.test.ts): Linux starts msg_flags from the caller's MSG_CMSG_CLOEXEC
 * (____sys_recvmsg), so it comes back set whenever it was passed, on every socket type; Go's
 * ReadMsgUnix checks for it (syscall TestSCMCredentials failed under tsvisor). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static void check(const char *what, int rd, int wr) {
  const int flags[] = {0, MSG_CMSG_CLOEXEC, MSG_CMSG_CLOEXEC | MSG_PEEK, MSG_CMSG_CLOEXEC | MSG_DONTWAIT};
  for (unsigned i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    send(wr, "abcdef", 6, 0);
    char b[4], c[64];
    struct iovec v = {b, sizeof b};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c};
    long n = recvmsg(rd, &m, flags[i]);
    char rest[16];
    while (recv(rd, rest, sizeof rest, MSG_DONTWAIT) > 0) {
    }
    printf("%s, flags %#x: n %ld, msg_flags %#x\n", what, flags[i], n, m.msg_flags);
  }
}

int main(void) {
  int sv[2];
  const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  const char *const names[] = {"unix stream", "unix dgram", "unix seqpacket"};
  for (int i = 0; i < 3; i++) {
    socketpair(AF_UNIX, types[i], 0, sv);
    check(names[i], sv[0], sv[1]);
    close(sv[0]);
    close(sv[1]);
  }
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  bind(u, (void *)&a, sizeof a);
  getsockname(u, (void *)&a, &len);
  int w = socket(AF_INET, SOCK_DGRAM, 0);
  connect(w, (void *)&a, sizeof a);
  check("udp", u, w);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = 0;
  bind(l, (void *)&a, sizeof a);
  listen(l, 1);
  len = sizeof a;
  getsockname(l, (void *)&a, &len);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (void *)&a, sizeof a);
  int s = accept(l, NULL, NULL);
  check("tcp", s, c);
  return 0;
}
