# util-linux and busybox mount/umount/findmnt with file binds and propagation, against mount(2):
# run as root in a private mount namespace with an empty directory as $1. Prints results with the
# directory shown as BASE and findmnt's table (target, root in the filesystem, propagation,
# source) sorted, as mount ids, which order mountinfo, differ.
B=$1
table() {
  echo "-- $1"
  findmnt -n -l -o TARGET,FSROOT,PROPAGATION,SOURCE -R $B | sed "s|$B|BASE|g" | sort
}
mkdir -p $B
mount -t tmpfs tools $B; echo "mount base: $?"
mkdir $B/a $B/b $B/c $B/d $B/a/x $B/a/y
echo a-file > $B/a/file
touch $B/target $B/target2
echo "== util-linux"
mount --make-rshared $B; echo "make-rshared: $?"
mount --bind $B/a $B/b; echo "bind a b: $?"
mount --bind $B/a $B/c; echo "bind a c: $?"
mount --make-slave $B/c; echo "make-slave c: $?"
mount -t tmpfs under-b $B/b/x; echo "tmpfs b/x: $?"
mount -t tmpfs under-c $B/c/y; echo "tmpfs c/y: $?"
table "peers and a slave"
umount $B/a/x; echo "umount a/x: $?"
mount --bind $B/a/file $B/target; echo "bind file: $?"
cat $B/target
mount --bind $B/a $B/target 2>&1 | sed "s|$B|BASE|g"
rm $B/target 2>&1 | sed "s|$B|BASE|g"
table "file bind"
umount $B/target; echo "umount file: $?"
cat $B/target; echo "target after umount: $?"
echo "== busybox"
busybox mount --make-unbindable $B/c; echo "make-unbindable c: $?"
busybox mount --bind $B/c $B/d 2>&1 | sed "s|$B|BASE|g"
busybox mount --make-rprivate $B/b; echo "make-rprivate b: $?"
busybox mount -t tmpfs under-a $B/a/x; echo "tmpfs a/x: $?"
busybox ls $B/b/x $B/c/x 2>&1 | sed "s|$B|BASE|g"
busybox mount --bind $B/a/file $B/target2; echo "busybox bind file: $?"
busybox cat $B/target2
table "busybox"
busybox umount $B/target2; echo "umount target2: $?"
umount -R $B; echo "umount -R: $?"
echo end
