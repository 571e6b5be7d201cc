#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# File handles (issue 15): handles (name_to_handle_at) of a file, a
# directory, a subdirectory and a file in it open (open_by_handle_at) what
# they named after the kernel dropped its caches and after a remount (a new
# daemon), with the directories' "..": the daemon's FUSE export support and
# its lookups of "." (any inode, read from disk) and ".."; a deleted file's
# handle gives ESTALE, and so does it when its inode number is used again.
# tests/fuse/ptool.c does the handle work (the kernel module's VM test runs
# the same program).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || fail "needs root (open_by_handle_at needs CAP_DAC_READ_SEARCH; drop_caches)"
PT=$CFS_BIN/ptool
[ -x "$PT" ] || fail "$PT is missing (make san)"
mkimg "$IMG" 64M
mount_fs "$IMG" "$MNT"
mkdir -p "$MNT/d/sub" || fail mkdir
echo top >"$MNT/top" && echo hello >"$MNT/d/sub/f" && echo bye >"$MNT/gone" &&
	head -c 300000 /dev/urandom >"$MNT/d/big" || fail "writing the files"
for x in top d d/sub d/sub/f d/big gone; do
	n=$(echo "$x" | tr / _)
	"$PT" fh save "$MNT/$x" "$T/h.$n" >"$T/fh.$n" || fail "fh save $x: $(cat "$T/fh.$n")"
done
cat "$T"/fh.*

# fh_check WHEN X...: each handle opens what it named when saved (a
# directory's line has the inode of its "..")
fh_check() {
	_w=$1; shift
	for _x in "$@"; do
		_n=$(echo "$_x" | tr / _)
		_got=$("$PT" fh open "$MNT" "$T/h.$_n") || fail "ptool fh open $_x: $_got"
		[ "$_got" = "$(cat "$T/fh.$_n")" ] ||
			fail "the handle of $_x $_w opens '$_got', saved as '$(cat "$T/fh.$_n")'"
	done
	note "file handles $_w: $*"
}
fh_check "while cached" top d d/sub d/sub/f d/big
sync
echo 3 >/proc/sys/vm/drop_caches
fh_check "after drop_caches" top d d/sub d/sub/f d/big
gone_ino=$(stat -c %i "$MNT/gone")
rm "$MNT/gone"
got=$("$PT" fh open "$MNT" "$T/h.gone")
[ "$got" = ESTALE ] || fail "the handle of a deleted file opens '$got', not ESTALE"
remount_fs "$IMG" "$MNT"
fh_check "after a remount" top d d/sub d/sub/f d/big
echo 3 >/proc/sys/vm/drop_caches
fh_check "after a remount and drop_caches" d/sub/f d/sub d top
got=$("$PT" fh open "$MNT" "$T/h.gone")
[ "$got" = ESTALE ] || fail "after a remount the handle of a deleted file opens '$got', not ESTALE"
note "a deleted file's handle: ESTALE"
# the number of the deleted file used again: another generation
i=0
while [ $i -lt 50 ]; do
	echo new >"$MNT/reuse$i"
	[ "$(stat -c %i "$MNT/reuse$i")" = "$gone_ino" ] && break
	i=$((i + 1))
done
[ $i -lt 50 ] || fail "inode $gone_ino was not used again in 50 creates"
got=$("$PT" fh open "$MNT" "$T/h.gone")
[ "$got" = ESTALE ] || fail "the handle of a deleted file whose number was used again opens '$got', not ESTALE"
note "its inode number used again (another generation): ESTALE"
umount_fs "$MNT"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn"; }
echo "PASS: $TEST_NAME"
