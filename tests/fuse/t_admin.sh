#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The administrator's tools on a chunkfs mount, as root, through the real
# commands (mount(8) with the helper installed as /sbin/mount.fuse.chunkfs
# for the duration of the test, umount(8), fusermount3, fsck(8)):
#   (a) one damaged inode in a directory: `ls -l` lists every other entry
#       (readdirplus) and only the damaged one fails (EIO).
#   (b) mount failures exit 32 (mount(8)'s "mount failure"), bad usage 1.
#   (c) umount is synchronous: `umount DIR && fsck.chunkfs -fy IMAGE` and
#       `umount DIR; mount ...` at once, 24 times over, and the same after
#       `fusermount3 -u`; the data written is on disk each time.  (With the
#       plain FUSE mount of before, -o noblkdev, this fails in most runs.)
#   (d) fsck(8) runs fsck.chunkfs for fstab lines of type fuse.chunkfs and
#       chunkfs (a temporary fstab through FSTAB_FILE, the checkers found
#       in PATH as `make install` lays them out): fsck -A -p checks
#       (0 clean, 1 corrected, 4 needs a person), fsck MOUNTPOINT too.
#   (e) on 300 chunks: a full scrub's 300 "clean" events do not push the
#       warnings and problem events of a damaged chunk out; status -x is
#       one line when healthy, else UUID, label and the chunk; Prometheus
#       metrics; a scrub refused to a user claims nothing; events --follow
#       lets umount through and exits 1 when the filesystem goes.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || fail "needs root (mount(8), fuseblk, loop devices)"
FSCK=$CFS_BIN/fsck.chunkfs
HELPER=$REPO/fuse/mount.fuse.chunkfs
export CHUNKFS_FUSE="$CFS_BIN/chunkfs-fuse"

SB=/sbin/mount.fuse.chunkfs
install_sbin_helper "$HELPER" "$SB"
add_cleanup "mountpoint -q '$MNT' && umount '$MNT'"

# ---- (a) ----
note "(a) ls -l of a directory with one damaged inode"
mkdir -p "$T/src/d"
i=0
while [ $i -lt 40 ]; do echo "$i" >"$T/src/d/f$i"; i=$((i + 1)); done
"$CFS_BIN/mkfs.chunkfs" -q -C 4M -d "$T/src" "$IMG" 32M || fail "mkfs -d"
"$CFS_BIN/chunkfs" inject "$IMG" --chunk 0 --what inode --seed 2 >"$T/inj" ||
	fail "inject"
cat "$T/inj"
mount_fs "$IMG" "$MNT"
n=$(ls "$MNT/d" | wc -l)
[ "$n" = 40 ] || fail "(a) ls lists $n names, not 40"
ls -l "$MNT/d" >"$T/ls.out" 2>"$T/ls.err"
st=$?
cat "$T/ls.err"
good=$(grep -c '^-rw-r--r-- .* f[0-9]*$' "$T/ls.out")
[ "$good" = 39 ] || { cat "$T/ls.out"; fail "(a) ls -l lists $good good files, not 39"; }
grep -q 'Input/output error' "$T/ls.err" ||
	fail "(a) ls -l does not report the damaged entry's error"
[ "$(wc -l <"$T/ls.err")" = 1 ] || fail "(a) ls -l reports more than one error"
[ "$st" != 0 ] || fail "(a) ls -l exited 0 with a damaged entry"
umount_fs "$MNT"

# ---- (b) ----
note "(b) exit codes of mount(8) through the helper"
"$CFS_BIN/mkfs.chunkfs" -q -F -C 4M "$IMG" 64M || fail "mkfs"
mkdir -p "$MNT" "$T/mnt2"
mount -t fuse.chunkfs "$T/no-such-image" "$MNT" 2>"$T/err"
st=$?
cat "$T/err"
[ "$st" = 32 ] || fail "(b) mount of a missing image exited $st, not 32"
head -c 1048576 /dev/zero >"$T/zero"
mount -t fuse.chunkfs "$T/zero" "$MNT" 2>"$T/err"
st=$?
cat "$T/err"
[ "$st" = 32 ] || fail "(b) mount of a file that is not chunkfs exited $st, not 32"
mount -t fuse.chunkfs "$IMG" "$MNT" || fail "(b) mount"
grep " $MNT fuseblk.chunkfs " /proc/mounts ||
	fail "(b) root's mount is not fuseblk: $(grep " $MNT " /proc/mounts)"
mount -t fuse.chunkfs "$IMG" "$T/mnt2" 2>"$T/err"
st=$?
cat "$T/err"
[ "$st" = 32 ] || fail "(b) a second mount of a mounted image exited $st, not 32"
mountpoint -q "$T/mnt2" && fail "(b) the second mount mounted"
"$SB" 2>"$T/err"
st=$?
[ "$st" = 1 ] || fail "(b) the helper without arguments exited $st, not 1"
umount "$MNT" || fail "(b) umount"

# ---- (c) ----
note "(c) umount returns once the image is written and free"
i=0
while [ $i -lt 24 ]; do
	mount -t fuse.chunkfs "$IMG" "$MNT" ||
		fail "(c) round $i: mount right after umount failed"
	head -c 300000 /dev/urandom >"$T/data"
	cp "$T/data" "$MNT/r$i" || fail "(c) round $i: write"
	if [ $((i % 3)) = 2 ]; then
		fusermount3 -u "$MNT" || fail "(c) round $i: fusermount3 -u"
	else
		umount "$MNT" || fail "(c) round $i: umount"
	fi
	# at once: no wait, no retry
	if [ $((i % 3)) != 1 ]; then
		"$FSCK" -fy "$IMG" >"$T/fsck.out" 2>&1 || {
			cat "$T/fsck.out"
			fail "(c) round $i: fsck.chunkfs -fy right after umount failed"
		}
		"$CFS_BIN/chunkfs" stat "$IMG" "/r$i" >"$T/stat.out" 2>&1 || {
			cat "$T/stat.out"
			fail "(c) round $i: /r$i is not on disk after umount"
		}
	fi
	i=$((i + 1))
done
mount -t fuse.chunkfs "$IMG" "$MNT" || fail "(c) mount at the end"
cmp "$T/data" "$MNT/r23" || fail "(c) the last file differs"
umount "$MNT" || fail "(c) umount at the end"
[ -z "$(holder_pids "$IMG")" ] || fail "(c) a process holds the image after umount"
losetup -j "$IMG" | grep -q . && fail "(c) a loop device still holds the image: $(losetup -j "$IMG")"

# ---- (d) ----
note "(d) fsck(8) with a temporary fstab"
mkdir -p "$T/sbin"
ln -s "$FSCK" "$T/sbin/fsck.chunkfs"
ln -s fsck.chunkfs "$T/sbin/fsck.fuse.chunkfs"
printf '%s %s fuse.chunkfs defaults,noauto 0 2\n' "$IMG" "$MNT" >"$T/fstab"
runfsck() { # EXPECTED-STATUS ARGS...
	_want=$1; shift
	FSTAB_FILE=$T/fstab PATH="$T/sbin:$PATH" fsck "$@" >"$T/fsck.out" 2>&1
	_st=$?
	cat "$T/fsck.out"
	[ "$_st" = "$_want" ] || fail "(d) fsck $* exited $_st, not $_want"
	grep -q "Checking $IMG" "$T/fsck.out" ||
		fail "(d) fsck $* did not run fsck.chunkfs on $IMG"
}
runfsck 0 -A -p
runfsck 0 -A -f -p
"$CFS_BIN/chunkfs" inject "$IMG" --chunk 2 --what free-maps --seed 3 >/dev/null ||
	fail "inject free-maps"
runfsck 1 -A -f -p
runfsck 0 -A -f -p
runfsck 0 -f "$MNT"
"$CFS_BIN/chunkfs" inject "$IMG" --chunk 0 --what inode --seed 2 >/dev/null ||
	fail "inject inode"
runfsck 4 -A -f -p
grep -q 'UNEXPECTED INCONSISTENCY' "$T/fsck.out" || fail "(d) no UNEXPECTED INCONSISTENCY"
runfsck 1 -f -y "$MNT"
# the kernel module's type
printf '%s %s chunkfs defaults,noauto 0 2\n' "$IMG" "$MNT" >"$T/fstab"
runfsck 0 -A -f -p
# ---- (e) ----
note "(e) alerts last, events --follow keeps nothing busy, status -x, Prometheus"
IMG2=$T/big
"$CFS_BIN/mkfs.chunkfs" -q -C 4M -L admin-test "$IMG2" 1200M || fail "mkfs of 300 chunks"
"$CFS_BIN/chunkfs" inject "$IMG2" --chunk 7 --what inode --seed 1 >/dev/null || fail "inject"
mount -t fuse.chunkfs -o allow_other "$IMG2" "$MNT" || fail "(e) mount"
"$CFS_BIN/chunkfs" status -x "$MNT" >"$T/x.out" || fail "(e) status -x"
cat "$T/x.out"
[ "$(wc -l <"$T/x.out")" = 1 ] && grep -q "all 300 chunks healthy" "$T/x.out" ||
	fail "(e) status -x of a healthy filesystem is not one line"
# a check-only scrub of the damaged chunk: warnings, then a full scrub of
# 300 chunks (300 'scrubbed: clean' events, more than a ring holds)
"$CFS_BIN/chunkfs" scrub "$MNT" --chunk 7 >"$T/s.out" 2>&1
[ $? = 4 ] || { cat "$T/s.out"; fail "(e) scrub of the damaged chunk: problems left expected"; }
"$CFS_BIN/chunkfs" scrub "$MNT" >"$T/s.out" 2>&1
grep -q "300 of 300 chunks scrubbed" "$T/s.out" || { cat "$T/s.out"; fail "(e) full scrub"; }
"$CFS_BIN/chunkfs" events "$MNT" >"$T/ev.out" || fail "(e) events"
grep -q "problems .*chunk 7 scrubbed: [0-9]* problems found (check only)" "$T/ev.out" ||
	{ tail -5 "$T/ev.out"; fail "(e) the warning of chunk 7 was pushed out by 'clean' events"; }
grep -q "problem .*chunk 7: inode_bad .* -- not fixed" "$T/ev.out" ||
	fail "(e) the problem events of chunk 7 were pushed out"
[ "$(grep -c "scrubbed .*scrubbed: clean" "$T/ev.out")" -gt 250 ] ||
	fail "(e) the routine events are not kept beside them"
"$CFS_BIN/chunkfs" status -x "$MNT" >"$T/x.out"
cat "$T/x.out"
grep -q "1 of 300 chunks not healthy" "$T/x.out" && grep -q "label: 'admin-test'" "$T/x.out" &&
	grep -q "UUID: [0-9a-f-]\{36\}" "$T/x.out" && grep -q "^ *7  suspect" "$T/x.out" ||
	fail "(e) status -x does not name the suspect chunk, UUID and label"
[ "$(grep -c '^ *[0-9][0-9]*  [a-z]' "$T/x.out")" = 1 ] || fail "(e) status -x lists healthy chunks"
"$CFS_BIN/chunkfs" status --prometheus "$MNT" >"$T/prom" || fail "(e) --prometheus"
grep -q '^chunkfs_chunks{uuid="[0-9a-f-]*",label="admin-test",mountpoint="'"$MNT"'",state="suspect"} 1$' "$T/prom" &&
	grep -q 'state="clean"} 299$' "$T/prom" &&
	grep -q '^chunkfs_errors_total{.*kind="found"} [0-9]*$' "$T/prom" &&
	grep -q '^chunkfs_last_scrub_timestamp_seconds{.*} [1-9][0-9]*$' "$T/prom" ||
	{ cat "$T/prom"; fail "(e) Prometheus metrics"; }
# every line is a comment or "name{labels} value"
grep -v '^#' "$T/prom" | grep -v '^chunkfs_[a-z_]*{[^}]*} [0-9]*$' && fail "(e) a malformed metric line"
# not root: the scrub is refused and says so, and claims nothing
setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups \
	"$CFS_BIN/chunkfs" scrub "$MNT" --chunk 0 >"$T/o" 2>&1
st=$?
cat "$T/o"
[ "$st" = 8 ] && grep -q "Operation not permitted" "$T/o" || fail "(e) scrub as nobody: exit $st"
grep -q "scrubbed" "$T/o" && fail "(e) a refused scrub claims it scrubbed something"
# events --follow: umount works while it runs, and it exits 1 then
"$CFS_BIN/chunkfs" events "$MNT" --follow >"$T/follow.out" 2>&1 &
FPID=$!
sleep 1
kill -0 "$FPID" 2>/dev/null || { cat "$T/follow.out"; fail "(e) events --follow exited early"; }
umount "$MNT" || fail "(e) umount while events --follow runs (the mount is kept busy)"
n=0
while kill -0 "$FPID" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
kill -0 "$FPID" 2>/dev/null && { kill "$FPID"; fail "(e) events --follow still runs after the umount"; }
wait "$FPID"
st=$?
cat "$T/follow.out"
[ "$st" = 1 ] || fail "(e) events --follow exited $st when the filesystem went away, not 1"
grep -q "went away" "$T/follow.out" || fail "(e) events --follow does not say why it stopped"
echo "PASS: t_admin"
