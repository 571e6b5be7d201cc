#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Direct I/O and the page cache (issue 15): asynchronous direct writes
# (io_submit on an O_DIRECT descriptor) and O_DIRECT pwrite from two
# threads into one file while two threads read the blocks being written
# through the page cache; after each write, a buffered read of its block
# returns the new bytes, and every byte of the file read through the page
# cache matches the model now and then and at the end (ptool dio; the
# kernel module's VM test runs the same program).  Then the file is read
# again after a remount.
. "$(dirname "$0")/lib.sh"

PT=$CFS_BIN/ptool
[ -x "$PT" ] || fail "$PT is missing (make san)"
mkimg "$IMG" 64M
mount_fs "$IMG" "$MNT"
r=$("$PT" dio "$MNT/dio" 2048 15 1)
echo "$r"
case $r in *": ok") ;; *) fail "direct writes and buffered reads: $r" ;; esac
sum=$(md5sum <"$MNT/dio")
remount_fs "$IMG" "$MNT"
[ "$(md5sum <"$MNT/dio")" = "$sum" ] || fail "the file differs after a remount"
umount_fs "$MNT"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn"; }
echo "PASS: $TEST_NAME"
