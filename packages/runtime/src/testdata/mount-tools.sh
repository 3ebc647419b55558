# busybox and util-linux mount/umount against mount(2): run as root in a private mount namespace
# with an empty directory as $1. Prints results with the directory shown as BASE and mountinfo
# without its ids and superblock options (the host's tmpfs lists its own).
B=$1
info() {
  grep " $B/" /proc/self/mountinfo | cut -d' ' -f4- | sed -e "s|$B|BASE|g" -e 's/ - \([^ ]*\) \([^ ]*\) .*/ - \1 \2/'
}
mkdir -p $B/bb $B/ul
echo "== busybox"
busybox mount -t tmpfs -o size=1m,mode=0700,nosuid bbfs $B/bb; echo "mount tmpfs: $?"
busybox stat -c '%a' $B/bb
mkdir $B/bb/x $B/bb/y $B/bb/z
busybox mount --bind $B/bb/x $B/bb/y; echo "bind: $?"
busybox mount -o remount,bind,ro $B/bb/y; echo "remount ro: $?"
busybox touch $B/bb/y/f 2>&1 | sed "s|$B|BASE|g"
busybox touch $B/bb/x/g; echo "touch rw: $?"
busybox ls $B/bb/y
busybox mount --make-unbindable $B/bb/y; echo "unbindable: $?"
busybox mount --rbind $B/bb $B/bb/z; echo "rbind: $?"
info
busybox mount -t ext4 /dev/nosuchdisk $B/bb/x 2>&1 | sed "s|$B|BASE|g"
busybox mount -t nosuchfs none $B/bb/x 2>&1 | sed "s|$B|BASE|g"
busybox umount $B/bb 2>&1 | sed "s|$B|BASE|g"
busybox umount $B/bb/z; echo "umount z: $?"
busybox umount $B/bb/y; echo "umount y: $?"
busybox umount $B/bb; echo "umount bb: $?"
echo "== util-linux"
mount -t tmpfs -o noexec,nodev ulfs $B/ul; echo "mount tmpfs: $?"
mkdir $B/ul/a $B/ul/b
mount --bind -o ro $B/ul/a $B/ul/b; echo "bind ro: $?"
mount -o remount,ro,bind $B/ul/b; echo "remount ro: $?"
touch $B/ul/b/f 2>&1 | sed "s|$B|BASE|g"
mount --make-private $B/ul; echo "private: $?"
mount --move $B/ul/b $B/ul/a 2>&1 | sed "s|$B|BASE|g"; echo "move: $?"
info
cd $B/ul/a
umount $B/ul 2>&1 | sed "s|$B|BASE|g"
umount -l $B/ul; echo "lazy: $?"
cd /
info
echo end
