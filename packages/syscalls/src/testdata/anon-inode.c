/* fstat and /proc/self/fd of eventfd and epoll descriptors: anon_inodefs' shared inode. */
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void show(const char *what, int fd) {
  struct stat st;
  char path[64], link[128];
  if (fstat(fd, &st) != 0) {
    printf("%s fstat failed\n", what);
    return;
  }
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, link, sizeof link - 1);
  link[n < 0 ? 0 : n] = 0;
  printf("%s mode=%o nlink=%lu uid=%u gid=%u size=%ld blksize=%ld blocks=%ld rdev=%lu dev_major=%u link=%s\n",
         what, st.st_mode, (unsigned long)st.st_nlink, st.st_uid, st.st_gid, (long)st.st_size,
         (long)st.st_blksize, (long)st.st_blocks, (unsigned long)st.st_rdev, major(st.st_dev), link);
}

int main(void) {
  int efd = eventfd(0, 0), epfd = epoll_create1(0);
  show("eventfd", efd);
  show("epoll", epfd);
  struct stat a, b, root;
  fstat(efd, &a);
  fstat(epfd, &b);
  stat("/", &root);
  printf("same inode = %d, own device = %d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev,
         a.st_dev != root.st_dev);
  return 0;
}
