#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Remount through mount(8) (issue 15): `mount -o remount,ro DIR` and
# `remount,rw` of a chunkfs-fuse mount, as root (a fuseblk.chunkfs mount:
# the helper's name mount.fuseblk.chunkfs) and with noblkdev (fuse.chunkfs),
# and of a mount made read-only.  Read-only is refused with EBUSY while a
# file is open for writing (as for ext4); after it, everything is
# committed (the superblock clean, fsck.chunkfs -fn clean while mounted,
# the image unchanged by the unmount that follows), writers get EROFS and
# reads work; read-write again takes writes; the data is there after a
# new mount; acl/noacl (fixed at the mount) and errors=repair with ro are
# refused before the kernel's remount changed anything.  The test runs
# in a mount namespace of its own, with fuse/mount.fuse.chunkfs (and
# the fuseblk name) put in /sbin by an overlay mount there only: nothing
# of the machine changes.
if [ -z "${CFS_REMOUNT_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "FAIL: t_remount: needs root (mount namespaces, mount(8))" >&2; exit 1; }
	CFS_REMOUNT_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

PT=$CFS_BIN/ptool
[ -x "$PT" ] || fail "$PT is missing (make san)"
HELPER=$REPO/fuse/mount.fuse.chunkfs
SBIN=$(readlink -f /sbin)
mkdir -p "$T/sbin"
cp "$HELPER" "$T/sbin/mount.fuse.chunkfs" && chmod 755 "$T/sbin/mount.fuse.chunkfs" &&
	ln -s mount.fuse.chunkfs "$T/sbin/mount.fuseblk.chunkfs" || fail "helper copies"
mount -t overlay overlay -o "lowerdir=$T/sbin:$SBIN" "$SBIN" || fail "overlay on $SBIN"
add_cleanup "umount -l '$SBIN' 2>/dev/null"
[ "$(readlink /sbin/mount.fuseblk.chunkfs)" = mount.fuse.chunkfs ] || fail "the helper is not in /sbin"
# mount(8) gives its helpers a PATH of its own; the helper honours this
export CHUNKFS_FUSE="$CFS_BIN/chunkfs-fuse"
add_cleanup "stop_holders '$IMG' '$MNT'"
mkimg "$IMG" 64M
mkdir -p "$MNT"

# writes N: files w1..wN of random data, and their sums
writes() {
	py "$MNT" "$1" "$T/sums" <<'PYEOF'
import os, sys, hashlib
M, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(out, "a") as s:
    for i in range(n):
        name = "w%d-%d" % (os.getpid(), i)
        data = os.urandom(4096 * (1 + i % 37))
        with open(os.path.join(M, name), "wb") as f:
            f.write(data)
        s.write("%s %s\n" % (name, hashlib.sha256(data).hexdigest()))
PYEOF
}
# sums_check: every file written so far has its data
sums_check() {
	py "$MNT" "$T/sums" "$1" <<'PYEOF'
import os, sys, hashlib
from cfs_util import *
M, sums, what = sys.argv[1:4]
n = 0
for line in open(sums):
    name, h = line.split()
    eq(hashlib.sha256(read_file(os.path.join(M, name))).hexdigest(), h, "%s %s" % (what, name))
    n += 1
print("%d files %s" % (n, what))
PYEOF
}
erofs_check() {
	py "$MNT" <<'PYEOF'
import os, sys, errno
from cfs_util import *
M = sys.argv[1]
p = lambda *a: os.path.join(M, *a)
expect_errno(errno.EROFS, os.open, p("new"), os.O_CREAT | os.O_WRONLY)
expect_errno(errno.EROFS, os.open, p("top"), os.O_WRONLY)
expect_errno(errno.EROFS, os.mkdir, p("nd"))
expect_errno(errno.EROFS, os.unlink, p("top"))
expect_errno(errno.EROFS, os.utime, p("top"), ns=(1, 1))
check(os.statvfs(M).f_flag & os.ST_RDONLY, "statvfs: no ST_RDONLY after remount,ro")
read_file(p("top"))
PYEOF
}
kind() { awk -v d="$MNT" '$2 == d { print $3 " " $4 }' /proc/mounts; }

# remount_cycle OPTS: mount with OPTS, remount ro and rw
remount_cycle() {
	note "mount -t fuse.chunkfs ${1:+-o $1}"
	mount -t fuse.chunkfs ${1:+-o "$1"} "$IMG" "$MNT" || fail "mount -t fuse.chunkfs ${1:+-o $1}"
	echo "mounted: $(kind)"
	echo top >"$MNT/top" || fail "write top"
	writes 20
	exec 3>>"$MNT/top"
	if mount -o remount,ro "$MNT" 2>"$T/err"; then
		fail "remount,ro with a file open for writing succeeded"
	fi
	cat "$T/err"
	grep -qi busy "$T/err" || fail "remount,ro with a writer: not EBUSY: $(cat "$T/err")"
	case $(kind) in *" rw,"*) ;; *) fail "after the refused remount,ro: $(kind)" ;; esac
	echo "still written" >&3
	exec 3>&-
	writes 20   # (not committed yet: commit=5)
	mount -o remount,ro "$MNT" || fail "remount,ro"
	echo "remounted: $(kind)"
	case $(kind) in *" ro,"*) ;; *) fail "remount,ro: $(kind)" ;; esac
	set -- $("$PT" sb "$IMG")
	[ "$1 $2" = "state 1" ] || fail "after remount,ro the superblock says $*"
	"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn while mounted read-only"; }
	sum=$(sha256sum <"$IMG")
	erofs_check
	sums_check "read-only"
	[ "$(tail -n 1 "$MNT/top")" = "still written" ] || fail "the writer's last line"
	mount -o remount,rw "$MNT" || fail "remount,rw"
	case $(kind) in *" rw,"*) ;; *) fail "remount,rw: $(kind)" ;; esac
	writes 10
	echo again >>"$MNT/top" || fail "writing after remount,rw"
	mount -o remount,ro "$MNT" || fail "remount,ro (second)"
	sum=$(sha256sum <"$IMG")
	umount "$MNT" || fail "umount"
	wait_released "$IMG"
	[ "$(sha256sum <"$IMG")" = "$sum" ] || fail "the unmount after remount,ro wrote to the image"
	"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn"; }
	mount_fs "$IMG" "$MNT" ro
	sums_check "after a new mount"
	umount_fs "$MNT"
}
remount_cycle ""
remount_cycle noblkdev

note "what only a mount may choose: refused before anything changed"
# ACLs (the kernel's FUSE client takes them at the mount; ext4 could
# change them) and errors=repair on a read-only mount: mount(8) fails,
# the mount stays read-write and as it was, ACLs work as before
mount -t fuse.chunkfs "$IMG" "$MNT" || fail "mount -t fuse.chunkfs"
echo acl >"$MNT/acl" || fail "write acl"
for o in ro,noacl noacl ro,errors=repair; do
	if mount -o "remount,$o" "$MNT" 2>"$T/err"; then fail "remount,$o succeeded"; fi
	cat "$T/err"
	case $(kind) in *" rw,"*) ;; *) fail "after the refused remount,$o: $(kind)" ;; esac
	echo "after $o" >>"$MNT/acl" || fail "writing after the refused remount,$o"
done
grep -q "only at mount" "$T/err" || grep -q "errors=repair needs a read-write mount" "$T/err" ||
	fail "the refusal does not say why: $(cat "$T/err")"
setfacl -m u:1000:r "$MNT/acl" && getfacl -cpn "$MNT/acl" | grep -qx "user:1000:r--" || fail "ACLs after the refused remounts"
mount -o remount,ro,acl "$MNT" || fail "remount,ro,acl (acl as mounted)"
case $(kind) in *" ro,"*) ;; *) fail "remount,ro,acl: $(kind)" ;; esac
umount "$MNT" || fail "umount"
wait_released "$IMG"
mount -t fuse.chunkfs -o noacl "$IMG" "$MNT" || fail "mount -o noacl"
if mount -o remount,acl "$MNT" 2>"$T/err"; then fail "remount,acl of a noacl mount succeeded"; fi
cat "$T/err"
mount -o remount,ro,noacl "$MNT" || fail "remount,ro,noacl of a noacl mount"
umount "$MNT" || fail "umount"
wait_released "$IMG"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn after the refusals"; }

note "a read-only mount remounted read-write"
for o in ro ro,noblkdev; do
	mount -t fuse.chunkfs -o "$o" "$IMG" "$MNT" || fail "mount -o $o"
	erofs_check
	mount -o remount,rw "$MNT" || fail "remount,rw of a -o $o mount"
	case $(kind) in *" rw,"*) ;; *) fail "remount,rw of -o $o: $(kind)" ;; esac
	writes 10
	umount "$MNT" || fail "umount"
	wait_released "$IMG"
	"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn after -o $o, remount,rw"; }
done
mount_fs "$IMG" "$MNT" ro
sums_check "at the end"
umount_fs "$MNT"
echo "PASS: $TEST_NAME"
