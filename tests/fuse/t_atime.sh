#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Access times (issue 15), as ext4 keeps them: relatime by default (a read
# updates an atime older than the mtime or ctime, once, and not again
# within a day), strictatime (every read), noatime (never), for reads of a
# file and listings of a directory (ptool atime; the kernel module's VM
# test runs the same program); nodiratime; O_NOATIME; a read by another
# user (allow_other) changes it too; the mode changed by a remount
# (chunkfs-fuse -o remount,..., what mount(8)'s helper runs); written
# lazily: fifty reads under strictatime commit nothing (the superblock's
# commit group stays), an fsync commits them, and the atime is there after
# a remount.
. "$(dirname "$0")/lib.sh"

PT=$CFS_BIN/ptool
[ -x "$PT" ] || fail "$PT is missing (make san)"
mkimg "$IMG" 64M
mount_fs "$IMG" "$MNT"
mkdir "$MNT/d" && echo "some data" >"$MNT/top" || fail "files"
umount_fs "$MNT"

# mode_check OPTS MODE: the rules of MODE on a mount with OPTS
mode_check() {
	mount_fs "$IMG" "$MNT" "$1"
	_r=$("$PT" atime "$2" "$MNT/top" "$MNT/d")
	echo "$_r"
	[ "$_r" = "atime $2: ok" ] || fail "mount -o ${1:-(defaults)}: $_r"
	umount_fs "$MNT"
}
mode_check "" relatime
mode_check relatime relatime
mode_check strictatime strictatime
mode_check noatime noatime
mode_check norelatime strictatime

note "nodiratime: file reads change atime, directory listings do not"
mount_fs "$IMG" "$MNT" nodiratime
py "$MNT" <<'PYEOF'
import os, sys, time
from cfs_util import *
M = sys.argv[1]
f, d = os.path.join(M, "top"), os.path.join(M, "d")
old = time.time_ns() - 3600 * 10**9
for p in (f, d):
    os.utime(p, ns=(old, old + 10**10))
time.sleep(0.05)
read_file(f)
os.listdir(d)
check(os.stat(f).st_atime_ns > old + 10**11, "nodiratime: a file read did not change its atime")
eq(os.stat(d).st_atime_ns, old, "nodiratime: a listing changed the directory's atime")
PYEOF
umount_fs "$MNT"

note "O_NOATIME, and a read by another user (allow_other)"
mount_fs "$IMG" "$MNT" strictatime,allow_other,default_permissions
chmod 755 "$MNT" "$MNT/d" && chmod 644 "$MNT/top" || fail chmod
py "$MNT" <<'EOF'
import os, sys, time
from cfs_util import *
f = os.path.join(sys.argv[1], "top")
old = time.time_ns() - 3600 * 10**9
os.utime(f, ns=(old, old + 10**10))
fd = os.open(f, os.O_RDONLY | os.O_NOATIME)
os.read(fd, 100)
os.close(fd)
eq(os.stat(f).st_atime_ns, old, "strictatime: a read with O_NOATIME changed the atime")
EOF
a0=$("$PT" times "$MNT/top")
sleep 0.05
py_as_nobody "$MNT/top" <<'EOF'
import sys
open(sys.argv[1], "rb").read()
EOF
a1=$("$PT" times "$MNT/top")
[ "$a0" != "$a1" ] || fail "a read by uid $NOBODY_UID did not change the atime ($a0)"
umount_fs "$MNT"

note "the mode changed by a remount"
[ "$(id -u)" = 0 ] || fail "needs root (a remount is mount(2))"
mount_fs "$IMG" "$MNT"
"$CFS_BIN/chunkfs-fuse" -o remount,strictatime "$IMG" "$MNT" || fail "chunkfs-fuse -o remount,strictatime"
r=$("$PT" atime strictatime "$MNT/top" "$MNT/d")
[ "$r" = "atime strictatime: ok" ] || fail "after remount,strictatime: $r"
"$CFS_BIN/chunkfs-fuse" -o remount,noatime "$IMG" "$MNT" || fail "chunkfs-fuse -o remount,noatime"
grep " $MNT " /proc/mounts | grep -q noatime || fail "remount,noatime: $(grep " $MNT " /proc/mounts)"
r=$("$PT" atime noatime "$MNT/top" "$MNT/d")
[ "$r" = "atime noatime: ok" ] || fail "after remount,noatime: $r"
umount_fs "$MNT"

note "lazily written: no commit per read; kept across a remount"
mount_fs "$IMG" "$MNT" strictatime,commit=0
cat "$MNT/top" >/dev/null
g1=$("$PT" sb "$IMG")
a0=$("$PT" times "$MNT/top")
i=0
while [ $i -lt 50 ]; do cat "$MNT/top" >/dev/null; i=$((i + 1)); done
a1=$("$PT" times "$MNT/top")
g2=$("$PT" sb "$IMG")
echo "before: $a0 ($g1); after 50 reads: $a1 ($g2)"
[ "$a0" != "$a1" ] || fail "strictatime: 50 reads did not change the atime ($a0)"
[ "$g1" = "$g2" ] || fail "reads committed something: $g1 -> $g2"
py "$MNT/top" <<'PYEOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.fsync(fd)
os.close(fd)
PYEOF
g3=$("$PT" sb "$IMG")
[ "$g3" != "$g2" ] || fail "fsync committed nothing ($g3)"
umount_fs "$MNT"
mount_fs "$IMG" "$MNT" noatime
a2=$("$PT" times "$MNT/top")
[ "$a2" = "$a1" ] || fail "the atime after a remount is $a2, before it was $a1"
note "atime $a2 kept across the remount"
umount_fs "$MNT"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn"; }
echo "PASS: $TEST_NAME"
