/* The files /proc/<pid>/ns links lead to (nsfs): each opens, stats as a read-only regular file
 * whose inode number is the one in the link text, reads EINVAL, answers the NS_GET_* ioctls,
 * works with setns(2) and names its network namespace in RTM_GETNSID (NETNSA_FD). Prints only
 * facts that do not depend on the host (comparisons, never the numbers): run in a fresh network
 * namespace and under tsvisor, the output must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const names[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
                                     "time", "time_for_children", "user", "uts"};

static const char *err(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

static const char *type_name(long t) {
  switch (t) {
  case CLONE_NEWCGROUP: return "CLONE_NEWCGROUP";
  case CLONE_NEWIPC: return "CLONE_NEWIPC";
  case CLONE_NEWNS: return "CLONE_NEWNS";
  case CLONE_NEWNET: return "CLONE_NEWNET";
  case CLONE_NEWPID: return "CLONE_NEWPID";
  case CLONE_NEWTIME: return "CLONE_NEWTIME";
  case CLONE_NEWUSER: return "CLONE_NEWUSER";
  case CLONE_NEWUTS: return "CLONE_NEWUTS";
  }
  return t < 0 ? strerrorname_np(errno) : "?";
}

/* The number in a link text such as `net:[4026531840]`. */
static unsigned long link_number(const char *path) {
  char buf[64];
  ssize_t n = readlink(path, buf, sizeof buf - 1);
  if (n < 0) return 0;
  buf[n] = 0;
  char *open = strchr(buf, '[');
  return open ? strtoul(open + 1, NULL, 10) : 0;
}

/* An ioctl returning an fd: "fd of <name>" when it is the caller's namespace of that name. */
static void related(const char *what, int fd, unsigned long req) {
  int got = ioctl(fd, req);
  printf(" %s=", what);
  if (got < 0) {
    printf("%s", strerrorname_np(errno));
    return;
  }
  struct stat a, b;
  fstat(got, &a);
  stat("/proc/self/ns/user", &b);
  int cloexec = fcntl(got, F_GETFD) & FD_CLOEXEC;
  printf("%s%s", a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "own-user" : "other",
         cloexec ? "+cloexec" : "");
  close(got);
}

/* In a child (another process of the same namespaces): its links lead where its parent's do. */
static int same_in_child(const char *name) {
  pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    char mine[64], theirs[64];
    snprintf(mine, sizeof mine, "/proc/self/ns/%s", name);
    snprintf(theirs, sizeof theirs, "/proc/%d/ns/%s", getppid(), name);
    struct stat a, b;
    _exit(getppid() == parent && stat(mine, &a) == 0 && stat(theirs, &b) == 0 && a.st_ino == b.st_ino &&
          a.st_dev == b.st_dev ? 0 : 1);
  }
  int status;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void one(const char *name, dev_t nsdev) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/ns/%s", name);
  struct stat st, lst;
  if (stat(path, &st) < 0) {
    printf("%s: stat %s\n", name, strerrorname_np(errno));
    return;
  }
  lstat(path, &lst);
  printf("%s: ino is the link's %s, mode %o nlink %lu size %ld, nsfs device %s, link %s, child %s\n", name,
         st.st_ino == link_number(path) ? "yes" : "no", st.st_mode, (unsigned long)st.st_nlink,
         (long)st.st_size, st.st_dev == nsdev ? "yes" : "no", S_ISLNK(lst.st_mode) ? "yes" : "no",
         same_in_child(name) ? "same" : "differs");

  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("  open %s\n", strerrorname_np(errno));
    return;
  }
  struct stat fst;
  fstat(fd, &fst);
  char buf[16];
  long r = read(fd, buf, sizeof buf);
  printf("  open ok, fstat %s, read %s", fst.st_ino == st.st_ino ? "same" : "differs", err(r));
  r = lseek(fd, 0, SEEK_SET);
  printf(", lseek %s", err(r));
  r = write(fd, "x", 1);
  printf(", write %s\n", err(r));

  char fdlink[64], text[64], want[64];
  snprintf(fdlink, sizeof fdlink, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(fdlink, text, sizeof text - 1);
  text[n < 0 ? 0 : n] = 0;
  n = readlink(path, want, sizeof want - 1);
  want[n < 0 ? 0 : n] = 0;
  printf("  fd link %s;", strcmp(text, want) == 0 ? "as the ns link" : "differs");

  printf(" NS_GET_NSTYPE=%s", type_name(ioctl(fd, NS_GET_NSTYPE)));
  related("NS_GET_USERNS", fd, NS_GET_USERNS);
  related("NS_GET_PARENT", fd, NS_GET_PARENT);
  unsigned uid = 12345;
  r = ioctl(fd, NS_GET_OWNER_UID, &uid);
  printf(" NS_GET_OWNER_UID=%s", err(r));
  if (r == 0) printf("(%u)", uid);
  r = ioctl(fd, _IO(0xb7, 0x7f));
  printf(" unknown=%s", err(r));
  r = ioctl(fd, FIONREAD, &uid);
  printf(" FIONREAD=%s(%u)\n", err(r), uid);
  close(fd);

  fd = open(path, O_PATH);
  fstat(fd, &fst);
  r = ioctl(fd, NS_GET_NSTYPE);
  printf("  O_PATH open %s, fstat %s, NS_GET_NSTYPE %s\n", fd < 0 ? "failed" : "ok",
         fst.st_ino == st.st_ino ? "same" : "differs", err(r));
  close(fd);
}

static int nl;
static unsigned seq;

/* RTM_GETNSID naming the peer by NETNSA_FD. */
static void nsid_by_fd(const char *what, int fd) {
  struct {
    struct nlmsghdr h;
    struct rtgenmsg g;
    char pad[3];
    struct nlattr a;
    int v;
  } req;
  memset(&req, 0, sizeof req);
  req.h = (struct nlmsghdr){.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETNSID, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = ++seq};
  req.a = (struct nlattr){.nla_len = 8, .nla_type = NETNSA_FD};
  req.v = fd;
  send(nl, &req, sizeof req, 0);
  char buf[4096];
  ssize_t n = recv(nl, buf, sizeof buf, 0);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  printf("RTM_GETNSID by %s:", what);
  if (n < (ssize_t)sizeof *h) {
    printf(" recv %s\n", strerrorname_np(errno));
  } else if (h->nlmsg_type == NLMSG_ERROR) {
    int e = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    printf(" error %s\n", e ? strerrorname_np(-e) : "0");
  } else {
    struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(h) + NLMSG_ALIGN(sizeof(struct rtgenmsg)));
    printf(" type %d attr %d nsid %d\n", h->nlmsg_type, a->nla_type, *(int *)(a + 1));
  }
}

static int nsfd(const char *name, int flags) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/ns/%s", name);
  return open(path, flags);
}

static void *idle(void *arg) {
  pause();
  return arg;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct stat net, proc;
  stat("/proc/self/ns/net", &net);
  stat("/proc/self", &proc);
  printf("nsfs device differs from procfs: %s\n", net.st_dev != proc.st_dev ? "yes" : "no");
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) one(names[i], net.st_dev);

  int netfd = nsfd("net", O_RDONLY), userfd = nsfd("user", O_RDONLY), pathfd = nsfd("net", O_PATH);
  int devnull = open("/dev/null", O_RDONLY);
  int pidfd = syscall(SYS_pidfd_open, getpid(), 0);
  printf("setns net 0: %s\n", err(setns(netfd, 0)));
  printf("setns net CLONE_NEWNET: %s\n", err(setns(netfd, CLONE_NEWNET)));
  printf("setns net CLONE_NEWUTS: %s\n", err(setns(netfd, CLONE_NEWUTS)));
  printf("setns net -1: %s\n", err(setns(netfd, -1)));
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    int fd = nsfd(names[i], O_RDONLY);
    printf("setns %s: %s\n", names[i], err(setns(fd, 0)));
    close(fd);
  }
  printf("setns O_PATH: %s\n", err(setns(pathfd, 0)));
  printf("setns /dev/null: %s\n", err(setns(devnull, 0)));
  printf("setns closed fd: %s\n", err(setns(999, 0)));
  printf("setns pidfd 0: %s\n", err(setns(pidfd, 0)));
  printf("setns pidfd net|uts|ipc: %s\n", err(setns(pidfd, CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC)));
  printf("setns pidfd net|user: %s\n", err(setns(pidfd, CLONE_NEWNET | CLONE_NEWUSER)));
  printf("setns pidfd unknown bit: %s\n", err(setns(pidfd, CLONE_NEWNET | CLONE_VM)));

  /* Joining the IPC namespace applies the process's SEM_UNDO adjustments (exit_sem). */
  int sem = semget(IPC_PRIVATE, 1, 0600);
  struct sembuf up = {0, 2, SEM_UNDO};
  semop(sem, &up, 1);
  int ipcfd = nsfd("ipc", O_RDONLY);
  int before = semctl(sem, 0, GETVAL);
  long joined = setns(ipcfd, CLONE_NEWIPC);
  printf("semaphore with undo: %d, setns ipc %s, then %d\n", before, err(joined), semctl(sem, 0, GETVAL));
  semctl(sem, 0, IPC_RMID);

  /* Joining the mount namespace moves root and cwd to its root, even out of a chroot. */
  int mntfd = nsfd("mnt", O_RDONLY);
  mkdir("/tmp/nsfs-jail", 0755);
  if (chroot("/tmp/nsfs-jail") == 0 && chdir("/") == 0) {
    printf("in the chroot, /proc/self: %s", access("/proc/self", F_OK) == 0 ? "seen" : "unseen");
    printf("; setns mnt: %s", err(setns(mntfd, CLONE_NEWNS)));
    char cwd[256];
    printf("; /proc/self: %s, cwd %s\n", access("/proc/self", F_OK) == 0 ? "seen" : "unseen",
           getcwd(cwd, sizeof cwd) ? cwd : strerrorname_np(errno));
  }
  rmdir("/tmp/nsfs-jail");

  nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int utsfd = nsfd("uts", O_RDONLY);
  nsid_by_fd("the net file", netfd);
  nsid_by_fd("the uts file", utsfd);
  nsid_by_fd("an O_PATH net file", pathfd);

  /* With a second thread: the time namespace refuses (EUSERS), the user namespace too (EINVAL). */
  pthread_t th;
  pthread_create(&th, NULL, idle, NULL);
  int timefd = nsfd("time", O_RDONLY);
  printf("threaded: setns time %s, net %s\n", err(setns(timefd, 0)), err(setns(netfd, 0)));

  /* Without privilege: EPERM for the others, the user namespace is EINVAL first. */
  pid_t child = fork();
  if (child == 0) {
    if (setuid(65534) < 0) _exit(1);
    printf("unprivileged: setns net %s, uts %s, user %s, NS_GET_USERNS %s\n", err(setns(netfd, 0)),
           err(setns(utsfd, 0)), err(setns(userfd, 0)), ioctl(netfd, NS_GET_USERNS) < 0 ? err(-1) : "ok");
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  return 0;
}
