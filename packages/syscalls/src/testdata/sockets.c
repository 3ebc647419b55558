// Socket conformance: AF_UNIX pairs, a unix stream server across fork, SCM_RIGHTS passing a
// pipe, TCP echo and UDP over 127.0.0.1, and error cases. Prints deterministic lines; the
// output must be the same natively and under tsvisor.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *label, long r) {
  if (r < 0)
    printf("%s = -1 %s\n", label, strerrorname_np(errno));
  else
    printf("%s = %ld\n", label, r);
  fflush(stdout);
}
#define CHECK(label, expr)                                                                         \
  do {                                                                                             \
    errno = 0;                                                                                     \
    show(label, (long)(expr));                                                                     \
  } while (0)

static volatile int sigpipes;
static void on_sigpipe(int sig) {
  (void)sig;
  sigpipes++;
}

static socklen_t unix_addr(struct sockaddr_un *a, const char *path, int abstract) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (abstract) {
    strcpy(a->sun_path + 1, path);
    return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path);
  }
  strcpy(a->sun_path, path);
  return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static void pairs(void) {
  int sv[2];
  char buf[64];
  CHECK("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  CHECK("send ping", send(sv[0], "ping", 4, 0));
  CHECK("recv peek", recv(sv[1], buf, sizeof buf, MSG_PEEK));
  int n = 0;
  CHECK("FIONREAD", ioctl(sv[1], FIONREAD, &n));
  printf("FIONREAD value = %d\n", n);
  memset(buf, 0, sizeof buf);
  CHECK("recv", recv(sv[1], buf, sizeof buf, 0));
  printf("got '%s'\n", buf);
  CHECK("recv dontwait empty", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
  struct pollfd p = {.fd = sv[1], .events = POLLIN | POLLOUT};
  CHECK("poll writable", poll(&p, 1, 0));
  printf("revents = %#x\n", p.revents);
  CHECK("shutdown wr", shutdown(sv[0], SHUT_WR));
  CHECK("recv after shutdown", recv(sv[1], buf, sizeof buf, 0));
  CHECK("send after shutdown", send(sv[0], "x", 1, MSG_NOSIGNAL));
  close(sv[0]);
  close(sv[1]);

  CHECK("socketpair seqpacket", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
  CHECK("send 6", send(sv[0], "abcdef", 6, 0));
  CHECK("send 3", send(sv[0], "ghi", 3, 0));
  CHECK("recv 2 with MSG_TRUNC", recv(sv[1], buf, 2, MSG_TRUNC));
  struct iovec iov = {.iov_base = buf, .iov_len = 2};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  CHECK("recvmsg 2 of 3", recvmsg(sv[1], &m, 0));
  printf("msg_flags MSG_TRUNC = %d\n", (m.msg_flags & MSG_TRUNC) != 0);
  close(sv[0]);
  CHECK("recv after peer close", recv(sv[1], buf, sizeof buf, 0));
  close(sv[1]);

  CHECK("socketpair dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
  CHECK("send d1", send(sv[0], "one", 3, 0));
  CHECK("send d2", send(sv[0], "three", 5, 0));
  CHECK("recv d1", recv(sv[1], buf, sizeof buf, 0));
  CHECK("recv d2", recv(sv[1], buf, sizeof buf, 0));
  close(sv[0]);
  close(sv[1]);
}

static void unix_server(void) {
  char path[108];
  snprintf(path, sizeof path, "/tmp/tsvisor-sock-%d", (int)getpid());
  unlink(path);
  struct sockaddr_un a;
  socklen_t len = unix_addr(&a, path, 0);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK("unix connect before bind", ({
          int c = socket(AF_UNIX, SOCK_STREAM, 0);
          int r = connect(c, (struct sockaddr *)&a, len);
          int e = errno;
          close(c);
          errno = e;
          r;
        }));
  CHECK("unix bind", bind(s, (struct sockaddr *)&a, len));
  struct stat st;
  CHECK("stat socket node", stat(path, &st));
  printf("is socket = %d\n", S_ISSOCK(st.st_mode));
  CHECK("unix bind again", bind(s, (struct sockaddr *)&a, len));
  int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
  CHECK("unix bind in use", bind(s2, (struct sockaddr *)&a, len));
  close(s2);
  CHECK("unix listen", listen(s, 4));
  pid_t child = fork();
  if (child == 0) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, len) != 0) _exit(2);
    if (send(c, "hello", 5, 0) != 5) _exit(3);
    char b[16] = {0};
    if (recv(c, b, 5, MSG_WAITALL) != 5 || memcmp(b, "HELLO", 5) != 0) _exit(4);
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 || cr.pid != getppid()) _exit(5);
    _exit(0);
  }
  struct sockaddr_un peer;
  socklen_t plen = sizeof peer;
  int c = accept(s, (struct sockaddr *)&peer, &plen);
  show("unix accept", c < 0 ? -1 : 0);
  printf("accepted peer addrlen = %d\n", (int)plen);
  struct ucred cr;
  socklen_t cl = sizeof cr;
  CHECK("SO_PEERCRED", getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl));
  printf("peer pid is child = %d, uid matches = %d\n", cr.pid == child, cr.uid == geteuid());
  char b[16] = {0};
  CHECK("unix recv waitall", recv(c, b, 5, MSG_WAITALL));
  for (int i = 0; i < 5; i++) b[i] = (char)(b[i] - 32);
  CHECK("unix send", send(c, b, 5, 0));
  int status;
  waitpid(child, &status, 0);
  printf("client exit = %d\n", WEXITSTATUS(status));
  CHECK("recv eof", recv(c, b, sizeof b, 0));
  close(c);
  close(s);
  unlink(path);
}

static void pass_pipe(void) {
  int sv[2], pfd[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  pipe(pfd);
  char data = 'x';
  struct iovec iov = {.iov_base = &data, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &pfd[0], sizeof(int));
  CHECK("sendmsg SCM_RIGHTS", sendmsg(sv[0], &m, 0));
  close(pfd[0]);
  CHECK("write pipe", write(pfd[1], "via-fd", 6));
  close(pfd[1]);
  memset(&u, 0, sizeof u);
  struct msghdr r = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  CHECK("recvmsg SCM_RIGHTS", recvmsg(sv[1], &r, MSG_CMSG_CLOEXEC));
  struct cmsghdr *rc = CMSG_FIRSTHDR(&r);
  printf("cmsg level/type = %d/%d len = %d\n", rc ? rc->cmsg_level : -1, rc ? rc->cmsg_type : -1,
         rc ? (int)rc->cmsg_len : -1);
  int fd = -1;
  if (rc) memcpy(&fd, CMSG_DATA(rc), sizeof fd);
  char b[16] = {0};
  CHECK("read passed pipe", read(fd, b, sizeof b));
  printf("passed pipe says '%s'\n", b);
  close(fd);

  // A bad fd in SCM_RIGHTS, and truncated control space.
  int bad = 999;
  memcpy(CMSG_DATA(c), &bad, sizeof(int));
  CHECK("sendmsg bad fd", sendmsg(sv[0], &m, 0));
  close(sv[0]);
  close(sv[1]);
}

static void tcp_echo(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int one = 1;
  CHECK("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
  CHECK("tcp bind port 0", bind(s, (struct sockaddr *)&a, sizeof a));
  socklen_t al = sizeof a;
  CHECK("tcp getsockname", getsockname(s, (struct sockaddr *)&a, &al));
  printf("port assigned = %d\n", ntohs(a.sin_port) != 0);
  CHECK("tcp listen", listen(s, 8));
  pid_t child = fork();
  if (child == 0) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) _exit(2);
    char msg[3000];
    for (int i = 0; i < 3000; i++) msg[i] = (char)('a' + i % 26);
    if (send(c, msg, sizeof msg, 0) != (long)sizeof msg) _exit(3);
    char back[3000];
    if (recv(c, back, sizeof back, MSG_WAITALL) != 3000 || memcmp(msg, back, 3000) != 0) _exit(4);
    _exit(0);
  }
  int c = accept(s, NULL, NULL);
  show("tcp accept", c < 0 ? -1 : 0);
  char buf[3000];
  CHECK("tcp recv waitall", recv(c, buf, sizeof buf, MSG_WAITALL));
  CHECK("tcp send back", send(c, buf, sizeof buf, 0));
  int status;
  waitpid(child, &status, 0);
  printf("tcp client exit = %d\n", WEXITSTATUS(status));
  CHECK("tcp recv eof", recv(c, buf, sizeof buf, 0));
  close(c);
  struct sockaddr_in none = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(1)};
  int r = socket(AF_INET, SOCK_STREAM, 0);
  CHECK("tcp connect refused", connect(r, (struct sockaddr *)&none, sizeof none));
  close(r);
  close(s);
}

static void udp(void) {
  int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct sockaddr_in sb = sa;
  bind(a, (struct sockaddr *)&sa, sizeof sa);
  bind(b, (struct sockaddr *)&sb, sizeof sb);
  socklen_t l = sizeof sa;
  getsockname(a, (struct sockaddr *)&sa, &l);
  getsockname(b, (struct sockaddr *)&sb, &l);
  CHECK("udp sendto", sendto(b, "datagram", 8, 0, (struct sockaddr *)&sa, sizeof sa));
  struct pollfd p = {.fd = a, .events = POLLIN};
  CHECK("udp poll", poll(&p, 1, 1000));
  char buf[64];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  CHECK("udp recvfrom", recvfrom(a, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl));
  printf("from matches sender = %d, addrlen = %d\n", from.sin_port == sb.sin_port, (int)fl);
  CHECK("udp recv empty dontwait", recv(a, buf, sizeof buf, MSG_DONTWAIT));
  close(a);
  close(b);
}

static void errors(void) {
  int pfd[2];
  pipe(pfd);
  char b[8];
  CHECK("socket bad family", socket(99, SOCK_STREAM, 0));
  CHECK("socket bad type", socket(AF_UNIX, 4, 0));
  CHECK("socket bad flags", socket(AF_UNIX, SOCK_STREAM | 0x100, 0));
  CHECK("socket bad protocol", socket(AF_UNIX, SOCK_STREAM, 6));
  int unused[2] = {-1, -1};
  CHECK("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, unused));
  printf("socketpair inet still stored fds = %d\n", unused[0] >= 0 && unused[1] > unused[0]);
  CHECK("listen on pipe", listen(pfd[0], 1));
  CHECK("listen on bad fd", listen(999, 1));
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a;
  socklen_t len = unix_addr(&a, "tsvisor-none", 1);
  CHECK("connect abstract refused", connect(s, (struct sockaddr *)&a, len));
  CHECK("bind bad addrlen", bind(s, (struct sockaddr *)&a, 200));
  CHECK("bind bad family", ({
          struct sockaddr_in in = {.sin_family = AF_INET};
          bind(s, (struct sockaddr *)&in, sizeof in);
        }));
  CHECK("send unconnected", send(s, "x", 1, MSG_NOSIGNAL));
  CHECK("recv unconnected", recv(s, b, 1, MSG_DONTWAIT));
  CHECK("accept not listening", accept(s, NULL, NULL));
  CHECK("getpeername unconnected", ({
          struct sockaddr_un p;
          socklen_t pl = sizeof p;
          getpeername(s, (struct sockaddr *)&p, &pl);
        }));
  CHECK("shutdown unconnected", shutdown(s, SHUT_RDWR));
  CHECK("listen unbound", listen(s, 1));
  CHECK("accept4 bad flags", accept4(s, NULL, NULL, 1));
  int d = socket(AF_UNIX, SOCK_DGRAM, 0);
  CHECK("listen dgram", listen(d, 1));
  CHECK("send dgram unconnected", send(d, "x", 1, 0));
  CHECK("autobind", bind(d, (struct sockaddr *)&a, sizeof(sa_family_t)));
  struct sockaddr_un got;
  socklen_t gl = sizeof got;
  CHECK("getsockname autobound", getsockname(d, (struct sockaddr *)&got, &gl));
  printf("autobind addrlen = %d, abstract = %d\n", (int)gl, got.sun_path[0] == 0);
  close(s);
  close(d);
  signal(SIGPIPE, on_sigpipe);
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  close(sv[1]);
  CHECK("send to closed peer", send(sv[0], "x", 1, 0));
  CHECK("send to closed peer nosignal", send(sv[0], "x", 1, MSG_NOSIGNAL));
  printf("SIGPIPE count = %d\n", sigpipes);
  close(sv[0]);
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  send(sv[0], "unread", 6, 0);
  close(sv[0]);
  CHECK("recv after peer closed with unread data", recv(sv[1], b, sizeof b, 0));
  close(sv[1]);
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  send(sv[0], "unread", 6, 0);
  close(sv[1]);
  CHECK("send after peer closed unread", send(sv[0], "x", 1, MSG_NOSIGNAL));
  CHECK("recv after peer left our data unread", recv(sv[0], b, sizeof b, 0));
  CHECK("recv again", recv(sv[0], b, sizeof b, 0));
  close(sv[0]);
  close(pfd[0]);
  close(pfd[1]);
}

static void more(void) {
  int sv[2];
  char buf[256];
  // Credentials across fork: the receiver sees the sending child's pid.
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  int on = 1;
  CHECK("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
  pid_t child = fork();
  if (child == 0) {
    send(sv[0], "c", 1, 0);
    _exit(0);
  }
  waitpid(child, NULL, 0);
  union {
    char b[CMSG_SPACE(sizeof(struct ucred))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
  CHECK("recvmsg creds", recvmsg(sv[1], &m, 0));
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  struct ucred cr = {0};
  if (c && c->cmsg_type == SCM_CREDENTIALS) memcpy(&cr, CMSG_DATA(c), sizeof cr);
  printf("creds type = %d, pid is child = %d, uid ok = %d\n", c ? c->cmsg_type : -1, cr.pid == child,
         cr.uid == getuid());
  // Rights with no room for them: MSG_CTRUNC, and the fd is not installed.
  int pfd[2];
  pipe(pfd);
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } r;
  memset(&r, 0, sizeof r);
  struct msghdr sm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = r.b, .msg_controllen = sizeof r.b};
  iov.iov_len = 1;
  struct cmsghdr *rc = CMSG_FIRSTHDR(&sm);
  rc->cmsg_level = SOL_SOCKET;
  rc->cmsg_type = SCM_RIGHTS;
  rc->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(rc), &pfd[0], sizeof(int));
  CHECK("sendmsg rights", sendmsg(sv[0], &sm, 0));
  on = 0;
  setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
  struct msghdr nm = {.msg_iov = &iov, .msg_iovlen = 1};
  CHECK("recvmsg without control", recvmsg(sv[1], &nm, 0));
  printf("MSG_CTRUNC = %d\n", (nm.msg_flags & MSG_CTRUNC) != 0);
  int probe = dup(0);
  printf("next fd is pfd[1]+1 = %d\n", probe == pfd[1] + 1);
  close(probe);
  close(pfd[0]);
  close(pfd[1]);
  close(sv[0]);
  close(sv[1]);

  // Options.
  int s = socket(AF_UNIX, SOCK_STREAM, 0), v = 0;
  socklen_t l = sizeof v;
  CHECK("SO_TYPE", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l));
  printf("type = %d len = %d\n", v, (int)l);
  v = 10000;
  CHECK("set SO_SNDBUF", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
  l = sizeof v;
  CHECK("get SO_SNDBUF", getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l));
  printf("sndbuf = %d\n", v);
  CHECK("set short optlen", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, 2));
  CHECK("SO_REUSEADDR unix", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on));
  CHECK("unix SOL_IP option", setsockopt(s, IPPROTO_IP, 2, &on, sizeof on));
  l = sizeof v;
  CHECK("SO_ERROR", getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &l));
  close(s);

  // Non-blocking TCP connect.
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(srv, (struct sockaddr *)&a, sizeof a);
  l = sizeof a;
  getsockname(srv, (struct sockaddr *)&a, &l);
  listen(srv, 1);
  int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int r1 = connect(nb, (struct sockaddr *)&a, sizeof a);
  printf("nonblocking connect = %s\n", r1 == 0 ? "0" : strerrorname_np(errno));
  struct pollfd p = {.fd = nb, .events = POLLOUT};
  CHECK("poll connect", poll(&p, 1, 2000));
  l = sizeof v;
  getsockopt(nb, SOL_SOCKET, SO_ERROR, &v, &l);
  printf("SO_ERROR after connect = %d\n", v);
  CHECK("connect again", connect(nb, (struct sockaddr *)&a, sizeof a));
  close(nb);
  close(srv);

  // A big blocking write() on a unix stream socket goes through whole.
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  child = fork();
  if (child == 0) {
    close(sv[0]);
    static char big[1 << 20];
    long total = 0, n;
    while ((n = read(sv[1], big, sizeof big)) > 0) total += n;
    _exit(total == (1 << 20) ? 0 : 1);
  }
  close(sv[1]);
  static char big[1 << 20];
  CHECK("write 1 MiB", write(sv[0], big, sizeof big));
  close(sv[0]);
  int status;
  waitpid(child, &status, 0);
  printf("reader saw 1 MiB = %d\n", WEXITSTATUS(status) == 0);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pairs();
  unix_server();
  pass_pipe();
  tcp_echo();
  udp();
  errors();
  more();
  printf("done\n");
  return 0;
}
