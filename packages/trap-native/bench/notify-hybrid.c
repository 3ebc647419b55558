// Measurement, not a test (see packages/runtime/bench/README.md, "fifth pass"): what a seccomp
// user-notification platform beside ptrace would cost per syscall on this machine. The child's
// filter sends getppid to the supervisor as a user notification and getpid as a RET_TRACE ptrace
// stop; the supervisor waits on the notification fd and on an eventfd that a SIGCHLD handler
// writes (nothing else tells a process blocked on the notification fd about a ptrace stop).
// SYNC_WAKE_UP is set with ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1UL): the flag is the ioctl's
// value, not a pointer.
//   gcc -O2 -o notify-hybrid notify-hybrid.c && taskset -c 1 ./notify-hybrid 20000 MODE
// MODE 0: notifications only; 1: ptrace stops only; 2: alternating.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int wake_fd;

static void on_sigchld(int sig) {
  (void)sig;
  uint64_t one = 1;
  int saved = errno;
  if (write(wake_fd, &one, sizeof one) < 0) {
  }
  errno = saved;
}

static void send_fd(int sock, int fd) {
  char byte = 'x';
  struct iovec io = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  sendmsg(sock, &m, 0);
}

static int recv_fd(int sock) {
  char byte;
  struct iovec io = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))];
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  if (recvmsg(sock, &m, 0) < 0) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
  return fd;
}

// The traced child: installs the filter, hands its listener fd over, then makes n calls.
static void child(int sock, int n, int mode) {
  ptrace(PTRACE_TRACEME, 0, 0, 0);
  raise(SIGSTOP);
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  int listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (listener < 0) _exit(1);
  send_fd(sock, listener);
  close(listener);
  char go;
  if (read(sock, &go, 1) != 1) _exit(2);
  long wrong = 0;
  for (int i = 0; i < n; i++) {
    if (mode == 0 || (mode == 2 && (i & 1)))
      wrong += syscall(SYS_getppid) != 42;
    else
      wrong += syscall(SYS_getpid) != 77;
  }
  _exit(wrong ? 3 : 0);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  int mode = argc > 2 ? atoi(argv[2]) : 0;
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  pid_t pid = fork();
  if (pid == 0) child(sv[1], n, mode);
  int status;
  waitpid(pid, &status, 0);
  ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL);
  wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct sigaction sa = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART};
  sigaction(SIGCHLD, &sa, 0);
  // SIGCHLD is blocked except inside ppoll, so none is lost between a check and the wait.
  sigset_t block, unblocked;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  sigprocmask(SIG_BLOCK, &block, &unblocked);
  ptrace(PTRACE_CONT, pid, 0, 0);
  int notify_fd = recv_fd(sv[0]);
  if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1UL) < 0) perror("SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP");
  if (write(sv[0], "g", 1) != 1) return 2;
  double t0 = now_us();
  long notified = 0, traced = 0;
  for (;;) {
    if (waitpid(pid, &status, __WALL | WNOHANG) == pid) {
      if (WIFEXITED(status) || WIFSIGNALED(status)) break;
      if ((status >> 8) == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))) {
        // Skip the call (orig_rax -1) and answer 77.
        traced++;
        ptrace(PTRACE_POKEUSER, pid, offsetof(struct user_regs_struct, orig_rax), -1L);
        ptrace(PTRACE_POKEUSER, pid, offsetof(struct user_regs_struct, rax), 77L);
      }
      ptrace(PTRACE_CONT, pid, 0, 0);
      continue;
    }
    struct pollfd fds[2] = {{notify_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    if (ppoll(fds, 2, NULL, &unblocked) < 0) continue;
    if (fds[1].revents) {
      uint64_t v;
      if (read(wake_fd, &v, sizeof v) < 0) {
      }
    }
    if (fds[0].revents & POLLIN) {
      struct seccomp_notif req;
      memset(&req, 0, sizeof req);
      if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
        notified++;
        struct seccomp_notif_resp resp = {.id = req.id, .val = 42};
        ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
      }
    }
  }
  printf("mode %d: %.2f us/call (%ld notified, %ld traced), child status %d\n", mode, (now_us() - t0) / n, notified,
         traced, WEXITSTATUS(status));
  return 0;
}
