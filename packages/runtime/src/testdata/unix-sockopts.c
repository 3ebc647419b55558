/* SOL_SOCKET options of AF_UNIX sockets, natively and under tsvisor (unix-sockopts.test.ts);
 * both must print the same:
 * - the defaults of SO_LINGER, SO_GET_FILTER, SO_BPF_EXTENSIONS, SO_MEMINFO, SO_TXTIME,
 *   SO_RESERVE_MEM, SO_PEERPIDFD, SO_RCVPRIORITY, SO_PASSRIGHTS and SO_PASSPIDFD on stream,
 *   datagram and seqpacket sockets, their round trips and errnos;
 * - SO_PEERPIDFD on a socketpair, on both ends of connect/accept and on a connected datagram
 *   socket: a close-on-exec pidfd whose fdinfo Pid is the peer's pid as the peer sees it, that
 *   polls readable once the peer exits, takes pidfd_send_signal, and still comes after the peer
 *   was reaped (Pid -1, ESRCH);
 * - SO_PASSRIGHTS off: a sender of SCM_RIGHTS to that socket gets EPERM, plain data goes; an
 *   accepted socket takes its listener's setting;
 * - SO_PASSPIDFD: received messages carry SCM_PIDFD (after SCM_CREDENTIALS and SCM_RIGHTS) for
 *   the sender's process, one that has been reaped too; a stream read does not join bytes of
 *   two senders; it autobinds a connecting datagram socket as SO_PASSCRED does; SCM_CREDENTIALS
 *   naming another process gives that one's pidfd (ESRCH for a pid that names none);
 * - SO_MEMINFO with data queued: the sender is charged the queued buffers, the receiver none.
 * Pids and descriptor numbers differ between runs, so only comparisons with them are printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sock-util.h"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif
#define SO_RCVPRIORITY_ 82
#define SO_PASSRIGHTS_ 83

static const int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
static const char *const tnames[3] = {"stream", "dgram", "seqpacket"};

/* getsockopt with a buffer of `len` bytes: the length and the value as ints. */
static void get(int s, int opt, const char *name, socklen_t len) {
  unsigned char b[64];
  memset(b, 0xaa, sizeof b);
  errno = 0;
  int r = getsockopt(s, SOL_SOCKET, opt, b, &len);
  if (r < 0) {
    printf(" %s %s", name, strerrorname_np(errno));
    return;
  }
  printf(" %s len %u [", name, len);
  for (unsigned i = 0; i + 4 <= len; i += 4) {
    int v;
    memcpy(&v, b + i, 4);
    printf("%s%d", i ? " " : "", v);
  }
  if (len % 4) printf("%s%u bytes", len > 4 ? " +" : "", len % 4);
  printf("]");
}

static void set(int s, int opt, const char *name, const void *v, socklen_t len) {
  errno = 0;
  int r = setsockopt(s, SOL_SOCKET, opt, v, len);
  printf(" set %s/%u %s", name, len, res(r));
}

static void seti(int s, int opt, const char *name, int v, socklen_t len) {
  char label[48];
  snprintf(label, sizeof label, "%s=%d", name, v);
  set(s, opt, label, &v, len);
}

/* The defaults; SO_PEERPIDFD only where it has no descriptor to give (peerpidfds() does the rest). */
static void defaults(int s, int peer) {
  get(s, SO_LINGER, "linger", 64);
  get(s, SO_GET_FILTER, "filter", 64);
  get(s, SO_BPF_EXTENSIONS, "bpfext", 64);
  get(s, SO_MEMINFO, "meminfo", 64);
  get(s, SO_TXTIME, "txtime", 64);
  get(s, SO_RESERVE_MEM, "resmem", 64);
  if (!peer) get(s, SO_PEERPIDFD, "peerpidfd", 64);
  get(s, SO_RCVPRIORITY_, "rcvprio", 64);
  get(s, SO_PASSRIGHTS_, "passrights", 64);
  get(s, SO_PASSPIDFD, "passpidfd", 64);
  printf("\n");
}

static void roundtrips(int s) {
  struct linger lg = {1, 5};
  set(s, SO_LINGER, "linger{1,5}", &lg, sizeof lg);
  get(s, SO_LINGER, "linger", 64);
  lg = (struct linger){0, 9};
  set(s, SO_LINGER, "linger{0,9}", &lg, sizeof lg);
  get(s, SO_LINGER, "linger", 64);
  lg = (struct linger){7, -3};
  set(s, SO_LINGER, "linger{7,-3}", &lg, sizeof lg);
  get(s, SO_LINGER, "linger", 64);
  get(s, SO_LINGER, "linger", 4);
  lg = (struct linger){1, 12};
  set(s, SO_LINGER, "linger{1,12}", &lg, 16);
  get(s, SO_LINGER, "linger", 64);
  set(s, SO_LINGER, "linger", &lg, 4);
  set(s, SO_LINGER, "linger", &lg, 0);
  printf("\n");
  struct {
    int clockid;
    unsigned flags;
  } tx = {CLOCK_MONOTONIC, 0};
  set(s, SO_TXTIME, "txtime{mono,0}", &tx, sizeof tx);
  get(s, SO_TXTIME, "txtime", 64);
  tx.clockid = CLOCK_TAI;
  tx.flags = 3;
  set(s, SO_TXTIME, "txtime{tai,3}", &tx, sizeof tx);
  get(s, SO_TXTIME, "txtime", 64);
  get(s, SO_TXTIME, "txtime", 4);
  tx.clockid = CLOCK_BOOTTIME;
  tx.flags = 0;
  set(s, SO_TXTIME, "txtime{boottime,0}", &tx, sizeof tx);
  tx.clockid = CLOCK_REALTIME;
  tx.flags = 4;
  set(s, SO_TXTIME, "txtime{realtime,4}", &tx, sizeof tx);
  set(s, SO_TXTIME, "txtime", &tx, 4);
  set(s, SO_TXTIME, "txtime", &tx, 12);
  tx.flags = 0;
  set(s, SO_TXTIME, "txtime{realtime,0}", &tx, sizeof tx);
  get(s, SO_TXTIME, "txtime", 64);
  printf("\n");
  seti(s, SO_RESERVE_MEM, "resmem", 4096, 4);
  seti(s, SO_RESERVE_MEM, "resmem", 0, 4);
  seti(s, SO_RESERVE_MEM, "resmem", -1, 4);
  seti(s, SO_RESERVE_MEM, "resmem", 1, 2);
  get(s, SO_RESERVE_MEM, "resmem", 64);
  seti(s, SO_RCVPRIORITY_, "rcvprio", 5, 4);
  get(s, SO_RCVPRIORITY_, "rcvprio", 64);
  seti(s, SO_RCVPRIORITY_, "rcvprio", 0, 2);
  seti(s, SO_RCVPRIORITY_, "rcvprio", 0, 4);
  get(s, SO_RCVPRIORITY_, "rcvprio", 64);
  printf("\n");
  seti(s, SO_PASSRIGHTS_, "passrights", 0, 4);
  get(s, SO_PASSRIGHTS_, "passrights", 64);
  seti(s, SO_PASSRIGHTS_, "passrights", 7, 4);
  get(s, SO_PASSRIGHTS_, "passrights", 64);
  get(s, SO_PASSRIGHTS_, "passrights", 2);
  seti(s, SO_PASSRIGHTS_, "passrights", 0, 2);
  seti(s, SO_PASSPIDFD, "passpidfd", 3, 4);
  get(s, SO_PASSPIDFD, "passpidfd", 64);
  seti(s, SO_PASSPIDFD, "passpidfd", 0, 4);
  printf("\n");
  seti(s, SO_PEERPIDFD, "peerpidfd", 1, 4);
  seti(s, SO_BPF_EXTENSIONS, "bpfext", 1, 4);
  seti(s, SO_MEMINFO, "meminfo", 1, 4);
  get(s, SO_BPF_EXTENSIONS, "bpfext", 2);
  get(s, SO_MEMINFO, "meminfo", 8);
  get(s, SO_GET_FILTER, "filter", 0);
  get(s, SO_PEERPIDFD, "peerpidfd", 2);
  printf("\n");
}

/* The Pid line of a pidfd's fdinfo. */
static long fdinfo_pid(int fd) {
  char p[64], buf[1024];
  snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
  int f = open(p, O_RDONLY);
  if (f < 0) return -1000;
  int n = read(f, buf, sizeof buf - 1);
  close(f);
  buf[n > 0 ? n : 0] = 0;
  char *q = strstr(buf, "\nPid:\t");
  return q ? strtol(q + 6, NULL, 10) : -2000;
}

/* SO_PEERPIDFD: prints how it went and whether the pidfd names `want`; returns the pidfd. */
static int peerpidfd(int s, const char *what, pid_t want) {
  int fd = -1;
  socklen_t len = 8;
  errno = 0;
  if (getsockopt(s, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) < 0) {
    printf("%s: peerpidfd %s\n", what, strerrorname_np(errno));
    return -1;
  }
  long pid = fdinfo_pid(fd);
  printf("%s: peerpidfd len %u cloexec %d pid %s", what, len, (fcntl(fd, F_GETFD) & FD_CLOEXEC) ? 1 : 0,
         pid == want ? "peer" : pid == -1 ? "-1" : "other");
  if (pid != want && pid != -1) printf(" (%ld, want %d)", pid, (int)want);
  errno = 0;
  printf(" signal0 %s\n", res(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0)));
  return fd;
}

static int poll_in(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int r = poll(&p, 1, ms);
  return r < 0 ? -1 : p.revents & (POLLIN | POLLHUP);
}

static socklen_t abstract(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strcpy(a->sun_path + 1, name);
  return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static void peerpidfds(void) {
  for (int i = 0; i < 3; i++) {
    int sv[2];
    socketpair(AF_UNIX, types[i], 0, sv);
    char what[64];
    snprintf(what, sizeof what, "%s pair", tnames[i]);
    int fd = peerpidfd(sv[0], what, getpid());
    close(fd);
    close(sv[0]);
    close(sv[1]);
  }
  /* A connected datagram socket has no peer credentials. */
  struct sockaddr_un a;
  socklen_t al = abstract(&a, "tsvisor-sockopts-dgram");
  int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
  bind(d1, (struct sockaddr *)&a, al);
  printf("dgram connect %s\n", res(connect(d2, (struct sockaddr *)&a, al)));
  peerpidfd(d2, "dgram connected", 0);
  peerpidfd(d1, "dgram bound", 0);
  close(d1);
  close(d2);
  /* connect/accept: a child connects and reports, the parent watches it exit. */
  for (int i = 0; i < 3; i += 2) {
    al = abstract(&a, "tsvisor-sockopts-listen");
    int ls = socket(AF_UNIX, types[i], 0);
    bind(ls, (struct sockaddr *)&a, al);
    listen(ls, 4);
    int go[2];
    if (pipe(go) < 0) return;
    /* The child's line comes first though both print while it lives: stdout (not a terminal) is
     * fully buffered, and this process's lines reach it only at the fflush after waitpid. */
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
      int s = socket(AF_UNIX, types[i], 0);
      if (connect(s, (struct sockaddr *)&a, al) < 0) _exit(1);
      char what[64];
      snprintf(what, sizeof what, "%s connected (child)", tnames[i]);
      peerpidfd(s, what, getppid());
      fflush(stdout);
      char x;
      if (read(go[0], &x, 1) < 0) _exit(2);
      _exit(0);
    }
    int as = accept(ls, NULL, NULL);
    char what[64];
    snprintf(what, sizeof what, "%s accepted", tnames[i]);
    int fd = peerpidfd(as, what, c);
    printf(" poll before exit %d\n", poll_in(fd, 0));
    if (write(go[1], "x", 1) < 0) return;
    printf(" poll for exit %d\n", poll_in(fd, 5000));
    peerpidfd(as, " exited, not reaped", c);
    int st;
    waitpid(c, &st, 0);
    printf(" child status %d\n", st);
    printf(" old pidfd pid %ld poll %d\n", fdinfo_pid(fd), poll_in(fd, 0));
    int fd2 = peerpidfd(as, " reaped", c);
    if (fd2 >= 0) printf(" poll %d\n", poll_in(fd2, 0));
    close(fd);
    close(fd2);
    close(as);
    close(ls);
    close(go[0]);
    close(go[1]);
  }
}

/* Sends "hi" (non-blocking) with one SOL_SOCKET control message of `type` holding `len` bytes. */
static long send_with(int s, int type, const void *data, size_t len) {
  union {
    char b[CMSG_SPACE(sizeof(struct ucred))];
    struct cmsghdr align;
  } cb;
  memset(&cb, 0, sizeof cb);
  struct iovec io = {"hi", 2};
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cb.b, .msg_controllen = CMSG_SPACE(len)};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(len);
  memcpy(CMSG_DATA(c), data, len);
  errno = 0;
  return sendmsg(s, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Sends "hi" with one SCM_RIGHTS descriptor (stdin). */
static long send_rights(int s) {
  int fd = 0;
  return send_with(s, SCM_RIGHTS, &fd, sizeof fd);
}

/* Receives one message: its length, then the control messages in order. */
static void recv_print(int s, size_t room, int control) {
  char buf[64];
  union {
    char b[256];
    struct cmsghdr align;
  } cb;
  memset(&cb, 0, sizeof cb);
  struct iovec io = {buf, room};
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1};
  if (control) {
    m.msg_control = cb.b;
    m.msg_controllen = sizeof cb.b;
  }
  errno = 0;
  long n = recvmsg(s, &m, MSG_DONTWAIT);
  printf(" recv %s", res(n));
  if (n < 0) {
    printf("\n");
    return;
  }
  printf(" \"%.*s\"%s", (int)n, buf, m.msg_flags & MSG_CTRUNC ? " CTRUNC" : "");
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    if (c->cmsg_type == SCM_PIDFD) {
      long pid = fdinfo_pid(fd);
      printf(" PIDFD(cloexec %d, pid %s)", (fcntl(fd, F_GETFD) & FD_CLOEXEC) ? 1 : 0,
             pid == getpid() ? "self" : pid > 0 ? "other" : "none");
      close(fd);
    } else if (c->cmsg_type == SCM_CREDENTIALS) {
      struct ucred u;
      memcpy(&u, CMSG_DATA(c), sizeof u);
      printf(" CREDENTIALS(pid %s)", u.pid == getpid() ? "self" : "other");
    } else if (c->cmsg_type == SCM_RIGHTS) {
      printf(" RIGHTS(%s)", fcntl(fd, F_GETFD) >= 0 ? "open" : "closed");
      close(fd);
    } else {
      printf(" cmsg %d/%d", c->cmsg_level, c->cmsg_type);
    }
  }
  printf("\n");
}

/* Sends "hi" with SCM_CREDENTIALS naming `pid` (and our ids). */
static long send_creds(int s, pid_t pid) {
  struct ucred u = {pid, getuid(), getgid()};
  return send_with(s, SCM_CREDENTIALS, &u, sizeof u);
}

/* SCM_CREDENTIALS naming another process (we are root): SCM_PIDFD names that process. */
static void creds_of_other(void) {
  int sv[2], on = 1, go[2];
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  setsockopt(sv[1], SOL_SOCKET, SO_PASSPIDFD, &on, sizeof on);
  printf("credentials of pid 999999: %s", res(send_creds(sv[0], 999999)));
  printf(" pid 0: %s\n", res(send_creds(sv[0], 0)));
  if (pipe(go) < 0) return;
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    char x;
    if (read(go[0], &x, 1) < 0) _exit(2);
    _exit(0);
  }
  printf("credentials of a child: %s", res(send_creds(sv[0], c)));
  int fd = -1;
  union {
    char b[64];
    struct cmsghdr align;
  } cb;
  char buf[8];
  struct iovec io = {buf, sizeof buf};
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = cb.b, .msg_controllen = sizeof cb.b};
  long n = recvmsg(sv[1], &m, MSG_DONTWAIT);
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  if (n == 2 && h && h->cmsg_type == SCM_PIDFD) memcpy(&fd, CMSG_DATA(h), sizeof fd);
  printf(" recv %s pidfd pid %s\n", res(n), fd >= 0 && fdinfo_pid(fd) == c ? "child" : "other");
  if (write(go[1], "x", 1) < 0) return;
  waitpid(c, NULL, 0);
  close(fd);
  close(go[0]);
  close(go[1]);
  close(sv[0]);
  close(sv[1]);
}

static void passrights(void) {
  for (int i = 0; i < 3; i++) {
    int sv[2], off = 0, on = 1;
    socketpair(AF_UNIX, types[i], 0, sv);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSRIGHTS_, &off, sizeof off);
    printf("%s passrights off at the receiver: rights %s", tnames[i], res(send_rights(sv[0])));
    errno = 0;
    printf(" plain %s\n", res(send(sv[0], "ok", 2, MSG_DONTWAIT)));
    recv_print(sv[1], sizeof "ok" - 1, 1);
    printf(" reverse (the sender's own option does not matter): %s\n", res(send_rights(sv[1])));
    recv_print(sv[0], 64, 1);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSRIGHTS_, &on, sizeof on);
    printf(" back on: %s\n", res(send_rights(sv[0])));
    recv_print(sv[1], 64, 1);
    close(sv[0]);
    close(sv[1]);
  }
  /* An accepted socket starts with its listener's SO_PASSRIGHTS. */
  struct sockaddr_un a;
  socklen_t al = abstract(&a, "tsvisor-sockopts-rights");
  int ls = socket(AF_UNIX, SOCK_STREAM, 0), off = 0;
  setsockopt(ls, SOL_SOCKET, SO_PASSRIGHTS_, &off, sizeof off);
  bind(ls, (struct sockaddr *)&a, al);
  listen(ls, 4);
  int c = socket(AF_UNIX, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&a, al);
  int as = accept(ls, NULL, NULL);
  printf("accepted from a listener with passrights 0:");
  get(as, SO_PASSRIGHTS_, "passrights", 64);
  printf(" send rights %s\n", res(send_rights(c)));
  close(c);
  close(as);
  close(ls);
}

/* "ab" from this process, then "cd" from a child: two senders on one socket. */
static void send_from_two(int fd) {
  send(fd, "ab", 2, 0);
  fflush(stdout);
  pid_t c = fork();
  if (c == 0) {
    send(fd, "cd", 2, 0);
    _exit(0);
  }
  waitpid(c, NULL, 0);
}

static void passpidfd(void) {
  int on = 1;
  for (int i = 0; i < 3; i++) {
    int sv[2];
    socketpair(AF_UNIX, types[i], 0, sv);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSPIDFD, &on, sizeof on);
    printf("%s passpidfd:", tnames[i]);
    send(sv[0], "hi", 2, 0);
    recv_print(sv[1], 64, 1);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    printf(" with passcred:");
    send(sv[0], "hi", 2, 0);
    recv_print(sv[1], 64, 1);
    printf(" no control buffer:");
    send(sv[0], "hi", 2, 0);
    recv_print(sv[1], 64, 0);
    printf(" with rights:");
    send_rights(sv[0]);
    recv_print(sv[1], 64, 1);
    /* From another process: its pidfd, not ours; bytes of two senders are not joined. */
    send_from_two(sv[0]);
    printf(" two senders:");
    recv_print(sv[1], 64, 1);
    printf(" then:");
    recv_print(sv[1], 64, 1);
    close(sv[0]);
    close(sv[1]);
  }
  /* Without SO_PASSPIDFD (or SO_PASSCRED) a stream read joins them. */
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  send_from_two(sv[0]);
  printf("stream without passpidfd, two senders:");
  recv_print(sv[1], 64, 1);
  close(sv[0]);
  close(sv[1]);
  /* SO_PASSPIDFD autobinds a datagram socket when it connects, as SO_PASSCRED does. */
  struct sockaddr_un a, got;
  socklen_t al = abstract(&a, "tsvisor-sockopts-autobind");
  int d1 = socket(AF_UNIX, SOCK_DGRAM, 0), d2 = socket(AF_UNIX, SOCK_DGRAM, 0);
  bind(d1, (struct sockaddr *)&a, al);
  setsockopt(d2, SOL_SOCKET, SO_PASSPIDFD, &on, sizeof on);
  connect(d2, (struct sockaddr *)&a, al);
  socklen_t gl = sizeof got;
  getsockname(d2, (struct sockaddr *)&got, &gl);
  printf("dgram with passpidfd connected: name length %u\n", gl);
  close(d1);
  close(d2);
}

static void meminfo(int s, const char *who) {
  unsigned m[9];
  socklen_t len = sizeof m;
  if (getsockopt(s, SOL_SOCKET, SO_MEMINFO, m, &len) < 0) {
    printf(" %s %s", who, strerrorname_np(errno));
    return;
  }
  printf(" %s", who);
  for (int i = 0; i < 9; i++) printf(" %u", m[i]);
}

static void meminfos(void) {
  for (int i = 0; i < 3; i++) {
    int sv[2];
    socketpair(AF_UNIX, types[i], 0, sv);
    int sndbuf = 50000;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    char d[5000] = {0};
    send(sv[0], d, 100, 0);
    send(sv[0], d, 1000, 0);
    send(sv[0], d, 5000, 0);
    printf("%s meminfo:", tnames[i]);
    meminfo(sv[0], "sender");
    meminfo(sv[1], "receiver");
    char b[5000];
    recv(sv[1], b, 50, 0);
    printf("\n after a read of 50:");
    meminfo(sv[0], "sender");
    meminfo(sv[1], "receiver");
    printf("\n");
    close(sv[0]);
    close(sv[1]);
  }
}

int main(void) {
  for (int i = 0; i < 3; i++) {
    int s = socket(AF_UNIX, types[i], 0);
    printf("%s defaults:", tnames[i]);
    defaults(s, 0);
    printf("%s:", tnames[i]);
    roundtrips(s);
    close(s);
    int sv[2];
    socketpair(AF_UNIX, types[i], 0, sv);
    printf("%s pair defaults:", tnames[i]);
    defaults(sv[0], 1);
    close(sv[0]);
    close(sv[1]);
  }
  peerpidfds();
  passrights();
  passpidfd();
  creds_of_other();
  meminfos();
  return 0;
}
