/* Network namespaces made by the program itself: unshare(CLONE_NEWNET) and clone(CLONE_NEWNET)
 * give a stack of its own, whose lo is down and unreachable until brought up, and where the
 * parent's listener, ports and abstract AF_UNIX names are not (path-bound sockets are: they are
 * the filesystem's); /proc/<pid>/net shows each process's namespace; setns(2) through an nsfs
 * file opened before goes back, while a socket made in the new namespace stays there; a
 * namespace held only by an nsfs file keeps its state; unshare and setns need CAP_SYS_ADMIN; a
 * thread's unshare moves that thread alone. A new UTS namespace (unshare, clone) starts with
 * its parent's names and keeps its own; setns goes back to the parent's. Run as root in a fresh
 * network namespace (lo up) and under tsvisor, the output must be the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int port;

static const char *err(int r) { return r == 0 ? "ok" : strerrorname_np(errno); }

static struct sockaddr_in loopback(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* connect(2) of a new TCP socket to the listener's address. */
static const char *try_connect(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = loopback();
  const char *r = err(connect(s, (struct sockaddr *)&a, sizeof a));
  close(s);
  return r;
}

static void lo_flags(const char *when) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq r = {0};
  strcpy(r.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &r) < 0) {
    printf("%s: SIOCGIFFLAGS %s\n", when, strerrorname_np(errno));
  } else {
    short f = r.ifr_flags;
    printf("%s: lo%s%s%s\n", when, f & IFF_UP ? " UP" : "", f & IFF_LOOPBACK ? " LOOPBACK" : "",
           f & IFF_RUNNING ? " RUNNING" : "");
  }
  close(s);
}

static void lo_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq r = {0};
  strcpy(r.ifr_name, "lo");
  ioctl(s, SIOCGIFFLAGS, &r);
  r.ifr_flags |= IFF_UP;
  printf("bring lo up: %s\n", err(ioctl(s, SIOCSIFFLAGS, &r)));
  close(s);
}

static ino_t ns_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* Whether /proc/.../net/tcp lists a socket listening on the port (state 0A). */
static const char *listed(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return strerrorname_np(errno);
  char line[512], want[32];
  snprintf(want, sizeof want, ":%04X 00000000:0000 0A", port);
  int found = 0;
  while (fgets(line, sizeof line, f))
    if (strstr(line, want)) found = 1;
  fclose(f);
  return found ? "listed" : "not listed";
}

static const struct sockaddr_un abstract = {.sun_family = AF_UNIX, .sun_path = "\0h100-netns"};
static const struct sockaddr_un path = {.sun_family = AF_UNIX, .sun_path = "/tmp/h100-netns.sock"};
#define ABSTRACT_LEN (offsetof(struct sockaddr_un, sun_path) + 11)

static int unix_listener(const struct sockaddr_un *a, socklen_t len, const char **r) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  *r = err(bind(s, (const struct sockaddr *)a, len));
  listen(s, 1);
  return s;
}

static const char *unix_connect(const struct sockaddr_un *a, socklen_t len) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  const char *r = err(connect(s, (const struct sockaddr *)a, len));
  close(s);
  return r;
}

static void in_new_namespace(int parent_ns) {
  ino_t parent = ns_of("/proc/self/ns/net");
  printf("unshare(CLONE_NEWNET): %s\n", err(unshare(CLONE_NEWNET)));
  printf("ns link differs from the parent's: %s\n", ns_of("/proc/self/ns/net") != parent ? "yes" : "no");
  lo_flags("new namespace");
  printf("connect with lo down: %s\n", try_connect());
  lo_up();
  lo_flags("after up");
  printf("connect with lo up: %s\n", try_connect());
  int early = socket(AF_INET, SOCK_STREAM, 0);
  printf("listener in /proc/net/tcp: %s\n", listed("/proc/net/tcp"));
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/net/tcp", getppid());
  printf("listener in /proc/<parent>/net/tcp: %s\n", listed(p));
  const char *r;
  int mine = unix_listener(&abstract, ABSTRACT_LEN, &r);
  printf("bind the parent's abstract name: %s\n", r);
  close(mine);
  printf("connect to the parent's abstract name: %s\n", unix_connect(&abstract, ABSTRACT_LEN));
  printf("connect to the parent's path socket: %s\n", unix_connect(&path, sizeof path));
  int inner = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  printf("NS_GET_NSTYPE is CLONE_NEWNET: %s\n", ioctl(inner, NS_GET_NSTYPE) == CLONE_NEWNET ? "yes" : "no");
  printf("setns back: %s\n", err(setns(parent_ns, CLONE_NEWNET)));
  printf("ns link is the parent's again: %s\n", ns_of("/proc/self/ns/net") == parent ? "yes" : "no");
  printf("connect after setns: %s\n", try_connect());
  struct sockaddr_in a = loopback();
  printf("connect of a socket made before setns: %s\n", err(connect(early, (struct sockaddr *)&a, sizeof a)));
  close(early);
  /* Now only the nsfs file holds the made namespace: joining it again finds lo as it was left. */
  printf("setns into the made namespace again: %s\n", err(setns(inner, 0)));
  lo_flags("rejoined");
  printf("connect there: %s\n", try_connect());
  printf("setns back: %s\n", err(setns(parent_ns, 0)));
  if (setuid(65534) != 0) perror("setuid");
  printf("unshare(CLONE_NEWNET) without CAP_SYS_ADMIN: %s\n", err(unshare(CLONE_NEWNET)));
  printf("setns without CAP_SYS_ADMIN: %s\n", err(setns(inner, 0)));
}

static ino_t thread_ns;
static void *thread_unshare(void *arg) {
  (void)arg;
  printf("unshare(CLONE_NEWNET) in a thread: %s\n", err(unshare(CLONE_NEWNET)));
  char p[64];
  snprintf(p, sizeof p, "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
  thread_ns = ns_of(p);
  return NULL;
}

static void hostname_is(const char *who, const char *want) {
  char name[65] = {0}, proc[80] = {0};
  gethostname(name, sizeof name);
  FILE *f = fopen("/proc/sys/kernel/hostname", "r");
  if (f) {
    if (!fgets(proc, sizeof proc, f)) proc[0] = 0;
    fclose(f);
  }
  proc[strcspn(proc, "\n")] = 0;
  printf("%s: hostname %s, /proc/sys/kernel/hostname %s\n", who, strcmp(name, want) ? "differs" : "as expected",
         strcmp(proc, want) ? "differs" : "as expected");
}

/* UTS namespaces: a child's new one starts with the parent's names and keeps its own. */
static void uts(void) {
  char parent_name[65] = {0};
  gethostname(parent_name, sizeof parent_name);
  ino_t parent = ns_of("/proc/self/ns/uts");
  int parent_uts = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    printf("unshare(CLONE_NEWUTS): %s\n", err(unshare(CLONE_NEWUTS)));
    printf("uts link differs: %s\n", ns_of("/proc/self/ns/uts") != parent ? "yes" : "no");
    hostname_is("new uts namespace", parent_name);
    printf("sethostname: %s\n", err(sethostname("h100-child", 10)));
    hostname_is("after sethostname", "h100-child");
    printf("setns to the parent's: %s\n", err(setns(parent_uts, CLONE_NEWUTS)));
    hostname_is("back in the parent's", parent_name);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  hostname_is("parent after the child", parent_name);
  pid = (pid_t)syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    printf("clone(CLONE_NEWUTS) child: uts link differs: %s\n", ns_of("/proc/self/ns/uts") != parent ? "yes" : "no");
    hostname_is("clone child", parent_name);
    sethostname("h100-clone", 10);
    _exit(0);
  }
  waitpid(pid, &st, 0);
  hostname_is("parent after the clone child", parent_name);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int parent_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  ino_t parent = ns_of("/proc/self/ns/net");
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 8) || getsockname(l, (struct sockaddr *)&a, &alen)) {
    perror("listener");
    return 1;
  }
  port = ntohs(a.sin_port);
  const char *r;
  unix_listener(&abstract, ABSTRACT_LEN, &r);
  printf("parent binds an abstract name: %s\n", r);
  unlink(path.sun_path);
  unix_listener(&path, sizeof path, &r);
  printf("parent binds a path socket: %s\n", r);

  pid_t pid = fork();
  if (pid == 0) {
    in_new_namespace(parent_ns);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("child exited: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

  /* clone(CLONE_NEWNET) as a fork. */
  pid = (pid_t)syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    printf("clone(CLONE_NEWNET) child: ns link differs: %s\n", ns_of("/proc/self/ns/net") != parent ? "yes" : "no");
    lo_flags("clone child");
    printf("clone child connect: %s\n", try_connect());
    _exit(0);
  }
  if (pid < 0) printf("clone(CLONE_NEWNET): %s\n", strerrorname_np(errno));
  waitpid(pid, &st, 0);
  printf("parent still in its namespace: %s\n", ns_of("/proc/self/ns/net") == parent ? "yes" : "no");

  pthread_t th;
  pthread_create(&th, NULL, thread_unshare, NULL);
  pthread_join(th, NULL);
  printf("the thread's ns differs: %s; the main thread's is unchanged: %s\n", thread_ns != parent ? "yes" : "no",
         ns_of("/proc/self/ns/net") == parent ? "yes" : "no");
  printf("connect from the main thread: %s\n", try_connect());
  unlink(path.sun_path);
  uts();
  return 0;
}
