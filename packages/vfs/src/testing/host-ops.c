// Runs filesystem syscalls read from stdin against the real kernel and prints one result line
// per command, for the VFS differential tests. Usage: host-ops [-t] DIR
//   -t: mount a fresh tmpfs on DIR first (in a private mount namespace), so the reference is
//       Linux's own tmpfs.  -T DATA: the same with mount options (size=64k,nr_inodes=8,...).
// The process chroots into DIR, so absolute paths and symlinks mean the same as in the VFS.
// Strings (paths, data) are hex-encoded. Results: "E<errno>" or "OK[ value]".
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <unistd.h>

static int fds[4096];
static int nfds;
static char line[1 << 20];

static char *tok(char **s) {
  while (**s == ' ') (*s)++;
  if (!**s) return "";
  char *start = *s;
  while (**s && **s != ' ') (*s)++;
  if (**s) *(*s)++ = 0;
  return start;
}

static size_t unhex(const char *h, char *out) {
  size_t n = 0;
  out[0] = 0;
  if (h[0] == '-' && h[1] == 0) return 0;
  while (h[0] && h[1]) {
    unsigned v;
    sscanf(h, "%2x", &v);
    out[n++] = (char)v;
    h += 2;
  }
  out[n] = 0;
  return n;
}

static char p1[8192], p2[8192];
static char data[1 << 20];

static int res(long r) {
  if (r < 0) {
    printf("E%d\n", errno);
    return 1;
  }
  return 0;
}

static void pstat(struct stat *st) {
  printf("OK %o %lu %u %u %lld %llu %lld.%09ld %lld.%09ld\n", st->st_mode, (unsigned long)st->st_nlink, st->st_uid,
         st->st_gid, (long long)st->st_size, (unsigned long long)st->st_rdev, (long long)st->st_atim.tv_sec,
         st->st_atim.tv_nsec, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

static int H(const char *s) {
  long h = atol(s);
  if (h < 0 || h >= nfds) return -1;
  return fds[h];
}

int main(int argc, char **argv) {
  int tmpfs = 0;
  const char *lower = NULL;
  const char *tmpfs_data = NULL;
  int ai = 1;
  if (argc > 1 && strcmp(argv[1], "-t") == 0) {
    tmpfs = 1;
    ai++;
  } else if (argc > 2 && strcmp(argv[1], "-T") == 0) {
    tmpfs = 1;
    tmpfs_data = argv[2];
    ai += 2;
  } else if (argc > 2 && strcmp(argv[1], "-o") == 0) {
    lower = argv[2];
    ai += 2;
  }
  if (ai >= argc) return 2;
  const char *dir = argv[ai];
  static char root[8192];
  snprintf(root, sizeof root, "%s", dir);
  if (tmpfs || lower) {
    if (unshare(CLONE_NEWNS) < 0) { perror("unshare"); return 3; }
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) { perror("mount private"); return 3; }
    if (mount("tmpfs", dir, "tmpfs", 0, tmpfs_data) < 0) { perror("mount tmpfs"); return 3; }
  }
  if (lower) {
    // Linux overlayfs: lower = the given directory, upper and work on the fresh tmpfs.
    static char up[8192], work[8192], opts[32768];
    snprintf(up, sizeof up, "%s/u", dir);
    snprintf(work, sizeof work, "%s/w", dir);
    snprintf(root, sizeof root, "%s/m", dir);
    if (mkdir(up, 0755) < 0 || mkdir(work, 0755) < 0 || mkdir(root, 0755) < 0) { perror("mkdir"); return 3; }
    // HOST_OPS_REDIRECT_DIR=on: overlayfs's redirect_dir=on (renames of lower directories).
    const char *redirect = getenv("HOST_OPS_REDIRECT_DIR") ? getenv("HOST_OPS_REDIRECT_DIR") : "off";
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=%s,index=off,metacopy=off", lower, up, work, redirect);
    if (mount("overlay", root, "overlay", 0, opts) < 0) { perror("mount overlay"); return 3; }
  }
  if (chroot(root) < 0 || chdir("/") < 0) { perror("chroot"); return 3; }
  umask(022);
  // HOST_OPS_LINEBUF: answer each command at once (the step-by-step model tests talk to it).
  if (getenv("HOST_OPS_LINEBUF")) setvbuf(stdout, NULL, _IOLBF, 0);
  else setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char *s = line;
    char *op = tok(&s);
    errno = 0;
    if (!strcmp(op, "open")) {
      unhex(tok(&s), p1);
      int flags = atoi(tok(&s));
      int mode = (int)strtol(tok(&s), NULL, 10);
      int fd = open(p1, flags, mode);
      if (!res(fd)) { fds[nfds++] = fd; printf("OK\n"); }
    } else if (!strcmp(op, "openat")) {
      int d = H(tok(&s));
      unhex(tok(&s), p1);
      int flags = atoi(tok(&s));
      int mode = atoi(tok(&s));
      int fd = openat(d, p1, flags, mode);
      if (!res(fd)) { fds[nfds++] = fd; printf("OK\n"); }
    } else if (!strcmp(op, "openat2")) {
      // openat2 DIRH PATH FLAGS MODE RESOLVE: DIRH -100 is AT_FDCWD. Prints the opened file's
      // mode and size (so the test sees which file it reached) and closes it.
      const char *dh = tok(&s);
      int d = atoi(dh) == AT_FDCWD ? AT_FDCWD : H(dh);
      unhex(tok(&s), p1);
      struct open_how how = {0};
      how.flags = strtoull(tok(&s), NULL, 10);
      how.mode = strtoull(tok(&s), NULL, 10);
      how.resolve = strtoull(tok(&s), NULL, 10);
      int fd = (int)syscall(SYS_openat2, d, p1, &how, sizeof how);
      if (!res(fd)) {
        struct stat st;
        if (fstat(fd, &st) < 0) st.st_mode = 0, st.st_size = -1;
        printf("OK %o %lld\n", st.st_mode, S_ISREG(st.st_mode) ? (long long)st.st_size : 0LL);
        close(fd);
      }
    } else if (!strcmp(op, "statfs")) {
      // statfs PATH: block and inode counts.
      unhex(tok(&s), p1);
      struct statfs sf;
      if (!res(statfs(p1, &sf)))
        printf("OK %llu %llu %llu %llu %llu\n", (unsigned long long)sf.f_blocks, (unsigned long long)sf.f_bfree,
               (unsigned long long)sf.f_bavail, (unsigned long long)sf.f_files, (unsigned long long)sf.f_ffree);
    } else if (!strcmp(op, "mounttmpfs")) {
      // A fresh tmpfs (mode 0755) on PATH, for mount-crossing cases (needs -t: a private mount
      // namespace).
      unhex(tok(&s), p1);
      if (!res(mount("tmpfs", p1, "tmpfs", 0, "mode=755"))) printf("OK\n");
    } else if (!strcmp(op, "close")) {
      if (!res(close(H(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "read") || !strcmp(op, "pread")) {
      int fd = H(tok(&s));
      long n = atol(tok(&s));
      if (n > (long)sizeof data) n = sizeof data;
      long r = op[0] == 'p' ? pread(fd, data, n, atoll(tok(&s))) : read(fd, data, n);
      if (!res(r)) {
        printf("OK %ld ", r);
        for (long i = 0; i < r; i++) printf("%02x", (unsigned char)data[i]);
        printf("\n");
      }
    } else if (!strcmp(op, "write") || !strcmp(op, "pwrite")) {
      int fd = H(tok(&s));
      size_t n = unhex(tok(&s), data);
      long r = op[0] == 'p' ? pwrite(fd, data, n, atoll(tok(&s))) : write(fd, data, n);
      if (!res(r)) printf("OK %ld\n", r);
    } else if (!strcmp(op, "lseek")) {
      int fd = H(tok(&s));
      long long off = atoll(tok(&s));
      int wh = atoi(tok(&s));
      off_t r = lseek(fd, off, wh);
      if (!res(r)) printf("OK %lld\n", (long long)r);
    } else if (!strcmp(op, "stat")) {
      unhex(tok(&s), p1);
      int flags = atoi(tok(&s));
      struct stat st;
      if (!res(fstatat(AT_FDCWD, p1, &st, flags))) pstat(&st);
    } else if (!strcmp(op, "fstat")) {
      struct stat st;
      if (!res(fstat(H(tok(&s)), &st))) pstat(&st);
    } else if (!strcmp(op, "mkdir")) {
      unhex(tok(&s), p1);
      if (!res(mkdir(p1, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "mknod")) {
      unhex(tok(&s), p1);
      int mode = atoi(tok(&s));
      if (!res(mknod(p1, mode, atol(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "unlinkat")) {
      unhex(tok(&s), p1);
      if (!res(unlinkat(AT_FDCWD, p1, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "rename")) {
      unhex(tok(&s), p1);
      unhex(tok(&s), p2);
      if (!res(syscall(SYS_renameat2, AT_FDCWD, p1, AT_FDCWD, p2, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "symlink")) {
      unhex(tok(&s), p1);
      unhex(tok(&s), p2);
      if (!res(symlink(p1, p2))) printf("OK\n");
    } else if (!strcmp(op, "readlink")) {
      unhex(tok(&s), p1);
      ssize_t r = readlink(p1, p2, sizeof p2);
      if (!res(r)) {
        printf("OK ");
        for (ssize_t i = 0; i < r; i++) printf("%02x", (unsigned char)p2[i]);
        printf("\n");
      }
    } else if (!strcmp(op, "link")) {
      unhex(tok(&s), p1);
      unhex(tok(&s), p2);
      if (!res(linkat(AT_FDCWD, p1, AT_FDCWD, p2, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "access")) {
      unhex(tok(&s), p1);
      int mode = atoi(tok(&s));
      if (!res(syscall(SYS_faccessat2, AT_FDCWD, p1, mode, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "chmod")) {
      unhex(tok(&s), p1);
      if (!res(chmod(p1, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "fchmod")) {
      int fd = H(tok(&s));
      if (!res(fchmod(fd, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "chown")) {
      unhex(tok(&s), p1);
      int u = atoi(tok(&s));
      int g = atoi(tok(&s));
      if (!res(fchownat(AT_FDCWD, p1, u, g, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "truncate")) {
      unhex(tok(&s), p1);
      if (!res(truncate(p1, atoll(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "ftruncate")) {
      int fd = H(tok(&s));
      if (!res(ftruncate(fd, atoll(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "chdir")) {
      unhex(tok(&s), p1);
      if (!res(chdir(p1))) printf("OK\n");
    } else if (!strcmp(op, "fchdir")) {
      if (!res(fchdir(H(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "getcwd")) {
      long r = syscall(SYS_getcwd, p1, sizeof p1);
      if (!res(r)) printf("OK %s\n", p1);
    } else if (!strcmp(op, "utimens")) {
      unhex(tok(&s), p1);
      struct timespec ts[2];
      ts[0].tv_sec = atoll(tok(&s));
      ts[0].tv_nsec = atol(tok(&s));
      ts[1].tv_sec = atoll(tok(&s));
      ts[1].tv_nsec = atol(tok(&s));
      int nul = atoi(tok(&s));
      if (!res(utimensat(AT_FDCWD, p1, nul ? NULL : ts, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "getdents")) {
      int fd = H(tok(&s));
      char buf[65536];
      long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
      if (!res(n)) {
        printf("OK");
        for (long off = 0; off < n;) {
          struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d = (void *)(buf + off);
          printf(" %u:", d->type);
          for (char *c = d->name; *c; c++) printf("%02x", (unsigned char)*c);
          off += d->reclen;
        }
        printf("\n");
      }
    } else if (!strcmp(op, "ls")) {
      // ls PATH: every entry (getdents order) as type:hexname:mode:nlink:uid:gid:size, without
      // keeping a descriptor (directory sizes print as 0: they are filesystem-specific).
      unhex(tok(&s), p1);
      int fd = open(p1, O_RDONLY | O_DIRECTORY);
      if (!res(fd)) {
        char buf[65536];
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (!res(n)) {
          printf("OK");
          for (long off = 0; off < n;) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d = (void *)(buf + off);
            printf(" %u:", d->type);
            for (char *c = d->name; *c; c++) printf("%02x", (unsigned char)*c);
            struct stat st;
            if (strcmp(d->name, ".") && strcmp(d->name, "..") && fstatat(fd, d->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
              printf(":%o:%lu:%u:%u:%lld", st.st_mode, (unsigned long)st.st_nlink, st.st_uid, st.st_gid,
                     S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
            off += d->reclen;
          }
          printf("\n");
        }
        close(fd);
      }
    } else if (!strcmp(op, "umask")) {
      printf("OK %o\n", umask(atoi(tok(&s))));
    } else if (!strcmp(op, "capdrop")) {
      // Drop one capability from the effective set (the permitted set keeps it for "as 0").
      struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
      struct __user_cap_data_struct d[2];
      syscall(SYS_capget, &h, d);
      int cap = atoi(tok(&s));
      d[cap / 32].effective &= ~(1u << (cap % 32));
      if (!res(syscall(SYS_capset, &h, d))) printf("OK\n");
    } else if (!strcmp(op, "as")) {
      int u = atoi(tok(&s));
      int g = atoi(tok(&s));
      gid_t groups[64];
      int ng = 0;
      for (char *t = tok(&s); *t; t = tok(&s)) groups[ng++] = atoi(t);
      setfsuid(0);
      setfsgid(0);
      {
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2];
        syscall(SYS_capget, &h, d);
        d[0].effective = d[0].permitted;
        d[1].effective = d[1].permitted;
        syscall(SYS_capset, &h, d);
      }
      if (setgroups(ng, groups) < 0) { perror("setgroups"); return 4; }
      setfsgid(g);
      setfsuid(u);
      printf("OK\n");
    } else if (!strcmp(op, "pipe")) {
      int p[2];
      if (!res(pipe2(p, atoi(tok(&s))))) { fds[nfds++] = p[0]; fds[nfds++] = p[1]; printf("OK\n"); }
    } else if (!strcmp(op, "xset")) {
      unhex(tok(&s), p1);
      unhex(tok(&s), p2);
      size_t n = unhex(tok(&s), data);
      int flags = atoi(tok(&s));
      int follow = atoi(tok(&s));
      if (!res(follow ? setxattr(p1, p2, data, n, flags) : lsetxattr(p1, p2, data, n, flags))) printf("OK\n");
    } else if (!strcmp(op, "xget")) {
      unhex(tok(&s), p1);
      unhex(tok(&s), p2);
      int follow = atoi(tok(&s));
      ssize_t n = follow ? getxattr(p1, p2, data, sizeof data) : lgetxattr(p1, p2, data, sizeof data);
      if (!res(n)) {
        printf("OK ");
        for (ssize_t i = 0; i < n; i++) printf("%02x", (unsigned char)data[i]);
        printf("\n");
      }
    } else if (!strcmp(op, "xrm")) {
      unhex(tok(&s), p1);
      unhex(tok(&s), p2);
      int follow = atoi(tok(&s));
      if (!res(follow ? removexattr(p1, p2) : lremovexattr(p1, p2))) printf("OK\n");
    } else if (!strcmp(op, "xlist")) {
      unhex(tok(&s), p1);
      int follow = atoi(tok(&s));
      ssize_t n = follow ? listxattr(p1, data, sizeof data) : llistxattr(p1, data, sizeof data);
      if (!res(n)) {
        printf("OK");
        for (ssize_t i = 0; i < n; i += strlen(data + i) + 1) {
          printf(" ");
          for (char *c = data + i; *c; c++) printf("%02x", (unsigned char)*c);
        }
        printf("\n");
      }
    } else if (!strcmp(op, "falloc")) {
      int fd = H(tok(&s));
      int mode = atoi(tok(&s));
      long long off = atoll(tok(&s));
      if (!res(fallocate(fd, mode, off, atoll(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "flock")) {
      int fd = H(tok(&s));
      if (!res(flock(fd, atoi(tok(&s))))) printf("OK\n");
    } else if (!strcmp(op, "ofd")) {
      int fd = H(tok(&s));
      int cmd = atoi(tok(&s));
      struct flock fl = {0};
      fl.l_type = atoi(tok(&s));
      fl.l_whence = atoi(tok(&s));
      fl.l_start = atoll(tok(&s));
      fl.l_len = atoll(tok(&s));
      if (!res(fcntl(fd, cmd, &fl))) {
        if (cmd == F_OFD_GETLK) printf("OK %d %lld %lld %d\n", fl.l_type, (long long)fl.l_start, (long long)fl.l_len, fl.l_pid);
        else printf("OK\n");
      }
    } else if (!strcmp(op, "fcntl")) {
      int fd = H(tok(&s));
      int cmd = atoi(tok(&s));
      long r = fcntl(fd, cmd, atol(tok(&s)));
      if (!res(r)) printf("OK %ld\n", r);
    } else {
      printf("BAD %s\n", op);
    }
  }
  fflush(stdout);
  return 0;
}
