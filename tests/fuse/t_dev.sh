#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Device nodes and set-id programs in a root mount (issue 15, point 7):
# `mount -t fuse.chunkfs` and an fstab line with `defaults`, through the
# helper installed as /sbin/mount.fuse.chunkfs, mount with dev,suid as
# ext4 does: mknod'ed character and block devices open and work (a
# /dev/null and /dev/zero alike, a loop device read through its node), a
# set-user-ID copy of id(1) run by another user says uid 0 (allow_other
# lets that user in); with -o
# nodev,nosuid the nodes refuse to open (EACCES) and the program runs as
# its caller.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "NOTE: t_dev needs root (mount(8), mknod); not run as uid $(id -u)"
	exit 77 # skipped: counted apart by tests/run-all.sh
fi
HELPER=$REPO/fuse/mount.fuse.chunkfs
SB=/sbin/mount.fuse.chunkfs
export CHUNKFS_FUSE="$CFS_BIN/chunkfs-fuse"
ID=$(command -v id) || fail "no id(1)"

mkimg "$IMG" 64M
add_cleanup "stop_holders '$IMG' '$MNT'"
install_sbin_helper "$HELPER" "$SB"
# a loop device over a file of known bytes, for the block device node
head -c 65536 /dev/urandom >"$T/blk.data"
LOOP=$(losetup -f --show -r "$T/blk.data") || fail "losetup"
add_cleanup "losetup -d '$LOOP'"
LMAJ=$(stat -c %t "$LOOP"); LMIN=$(stat -c %T "$LOOP")

# check MOUNTED_WITH: "dev" (nodes work, suid honoured) or "nodev"
check_mount() {
	grep " $MNT " /proc/mounts
	opts=$(awk -v d="$MNT" '$2 == d { print $4 }' /proc/mounts)
	case ",$opts," in
	*,nodev,*) [ "$1" = nodev ] || fail "mounted nodev: $opts" ;;
	*) [ "$1" = dev ] || fail "mounted without nodev: $opts" ;;
	esac
	case ",$opts," in
	*,nosuid,*) [ "$1" = nodev ] || fail "mounted nosuid: $opts" ;;
	*) [ "$1" = dev ] || fail "mounted without nosuid: $opts" ;;
	esac
	py "$MNT" "$1" "$T/blk.data" <<'EOF'
import errno, os, stat, sys
from cfs_util import *
M, how, data = sys.argv[1:]
for n, t, ma, mi in (("null", "c", 1, 3), ("zero", "c", 1, 5)):
    p = os.path.join(M, n)
    if not os.path.exists(p):
        os.mknod(p, 0o666 | stat.S_IFCHR, os.makedev(ma, mi))
    st = os.stat(p)
    eq((os.major(st.st_rdev), os.minor(st.st_rdev)), (ma, mi), n + ": device number")
if how == "dev":
    write_file(os.path.join(M, "null"), b"into the void" * 1000)
    eq(read_file(os.path.join(M, "null")), b"", "reading the null node")
    with open(os.path.join(M, "zero"), "rb") as f:
        eq(f.read(4096), bytes(4096), "reading the zero node")
    with open(os.path.join(M, "blk"), "rb") as f:
        eq(f.read(), read_file(data), "reading the block device through its node")
else:
    for n in ("null", "zero", "blk"):
        expect_errno(errno.EACCES, os.open, os.path.join(M, n), os.O_RDONLY)
log("device nodes: %s" % how)
EOF
	got=$(setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups "$MNT/suid-id" -u) ||
		fail "running the set-user-ID program"
	if [ "$1" = dev ]; then want=0; else want=$NOBODY_UID; fi
	[ "$got" = "$want" ] || fail "a set-user-ID root program run by uid $NOBODY_UID: euid $got, want $want"
	echo "set-user-ID program: euid $got"
}

note "mount -t fuse.chunkfs as root: dev,suid"
mkdir -p "$MNT"
mount -t fuse.chunkfs -o allow_other "$IMG" "$MNT" || fail "mount -t fuse.chunkfs failed"
mknod "$MNT/blk" b "$((0x$LMAJ))" "$((0x$LMIN))" || fail "mknod of a block device"
cp "$ID" "$MNT/suid-id" && chmod 4755 "$MNT/suid-id" || fail "the set-user-ID program"
chmod 755 "$MNT"
check_mount dev
umount "$MNT" || fail "umount"
wait_released "$IMG"

note "-o nodev,nosuid"
mount -t fuse.chunkfs -o nodev,nosuid,allow_other "$IMG" "$MNT" || fail "mount -t fuse.chunkfs -o nodev,nosuid failed"
check_mount nodev
umount "$MNT" || fail "umount"
wait_released "$IMG"

note "an fstab line with defaults"
printf '%s %s fuse.chunkfs defaults,allow_other 0 0\n' "$IMG" "$MNT" >"$T/fstab"
mount -T "$T/fstab" "$MNT" || fail "mount -T fstab (defaults) failed"
check_mount dev
umount "$MNT" || fail "umount"
wait_released "$IMG"
printf '%s %s fuse.chunkfs defaults,nodev,nosuid,allow_other 0 0\n' "$IMG" "$MNT" >"$T/fstab"
mount -T "$T/fstab" "$MNT" || fail "mount -T fstab (defaults,nodev,nosuid) failed"
check_mount nodev
umount "$MNT" || fail "umount"
wait_released "$IMG"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn"; }
echo "PASS: t_dev"
