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
# a remount; relatime's one-day rule with the daemon's clock a day on.
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

note "relatime's one-day rule: the daemon's clock a day on"
# An atime newer than the mtime and ctime is updated by relatime only
# once it is a day old: the daemon runs with its wall clock 23 hours on
# (no update), then 25 hours on (one update, then none).  The clock is
# the process's alone (tests/fuse/timeshift.c, LD_PRELOAD after the
# sanitiser's runtime); the machine's is left alone.
SHIFT_SO=${CFS_TIMESHIFT_SO:-$CFS_BIN/../lib/timeshift.so}
[ -r "$SHIFT_SO" ] || fail "$SHIFT_SO is missing (make san)"
ASAN_SO=$(ldd "$CFS_BIN/chunkfs-fuse" | awk '/libasan/ { print $3 }')
mount_fs "$IMG" "$MNT"
mkdir "$MNT/dday" && echo "a day" >"$MNT/day" && touch "$MNT/dday/x" || fail "files for the one-day rule"
cat "$MNT/day" >/dev/null && ls "$MNT/dday" >/dev/null || fail "reading them"
# the atime is now newer than the mtime and ctime: relatime leaves it
r=$("$PT" times "$MNT/day"); rd=$("$PT" times "$MNT/dday")
cat "$MNT/day" >/dev/null; ls "$MNT/dday" >/dev/null
[ "$("$PT" times "$MNT/day") $("$PT" times "$MNT/dday")" = "$r $rd" ] ||
	fail "relatime: an atime newer than mtime and ctime changed at once"
umount_fs "$MNT"
# day_read SHIFT: a read and a listing with the daemon's clock SHIFT
# seconds on; prints the atimes (ns) before and after
day_read() {
	CFS_TIMESHIFT=$1 LD_PRELOAD="${ASAN_SO:+$ASAN_SO }$SHIFT_SO"
	export CFS_TIMESHIFT LD_PRELOAD
	mount_fs "$IMG" "$MNT"
	unset CFS_TIMESHIFT LD_PRELOAD
	py "$MNT" "$1" "$2" <<'PYEOF'
import os, sys, time
from cfs_util import *
M, shift, want = sys.argv[1], int(sys.argv[2]), sys.argv[3]
f, d = os.path.join(M, "day"), os.path.join(M, "dday")
for p, acc in ((f, read_file), (d, os.listdir)):
    st = os.stat(p)
    check(st.st_atime_ns > max(st.st_mtime_ns, st.st_ctime_ns), "%s: atime not newer than mtime, ctime" % p)
    a0 = st.st_atime_ns
    t0 = time.time_ns() + shift * 10**9
    acc(p)
    a1 = os.stat(p).st_atime_ns
    if want == "updated":
        check(a1 >= t0 - 10**9, "relatime, the daemon %ds on: %s: atime %d not updated (%d)" % (shift, p, a0, a1))
        acc(p)
        eq(os.stat(p).st_atime_ns, a1, "relatime, the daemon %ds on: %s: the second access" % (shift, p))
    else:
        eq(a1, a0, "relatime, the daemon %ds on: %s: atime less than a day old" % (shift, p))
log("the daemon %d hours on: atime %s" % (shift // 3600, want))
PYEOF
	umount_fs "$MNT"
}
day_read $((23 * 3600)) unchanged
day_read $((25 * 3600)) updated
# (and the atime a day later, shown to a daemon on the machine's clock:
# newer than now, not a day old: left)
day_read 0 unchanged

"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn"; }
echo "PASS: $TEST_NAME"
