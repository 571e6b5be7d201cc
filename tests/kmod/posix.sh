# SPDX-License-Identifier: GPL-2.0
# What a Linux user expects of ext4 (issue 15), through the kernel
# module, sourced by init.sh inside the VM on a fresh image:
# file handles that resolve after drop_caches, after a remount and for
# a directory's parent, ESTALE for a deleted file's; remount read-only
# (refused while a file is open for writing; then everything committed:
# the superblock clean and nothing written at the unmount; EROFS to
# writers) and read-write again (rw.sh remounts a read-only mount
# read-write with a file open); access times under relatime (its one-day
# rule with the VM's clock moved on), strictatime and noatime, written
# lazily (no commit per read) and kept across a remount; a buffered
# read after an asynchronous or O_DIRECT write returns the new bytes
# (ptool dio).  ptool is tests/fuse/ptool.c, the checks the FUSE tests
# run.  The host runs fsck.chunkfs -fn on the image afterwards.  The
# device is $PX_DEV (init.sh: /dev/vdg, or /dev/vda with kt=posix).
P=/p
mkdir -p $P
if mount -t chunkfs $PX_DEV $P; then pass "posix: mount"; else fail "posix: mount $PX_DEV"; return; fi

# ---- file handles ----
mkdir -p $P/d/sub && echo top >$P/top && echo hello >$P/d/sub/f && echo bye >$P/gone || fail "posix: files"
for x in top d d/sub d/sub/f gone; do
	n=$(echo $x | tr / _)
	/bin/ptool fh save $P/$x /tmp/h.$n >/tmp/fh.$n || fail "fh save $x: $(cat /tmp/fh.$n)"
done
# fh_check WHEN X...: each handle opens what it named when saved
fh_check() {
	w=$1; shift; bad=0
	for x in "$@"; do
		n=$(echo $x | tr / _)
		got=$(/bin/ptool fh open $P /tmp/h.$n)
		[ "$got" = "$(cat /tmp/fh.$n)" ] || { echo "fh $x $w: '$got', saved '$(cat /tmp/fh.$n)'"; bad=1; }
	done
	[ $bad = 0 ] && pass "file handles $w ($*)" || fail "file handles $w"
}
fh_check "while cached" top d d/sub d/sub/f
echo 3 >/proc/sys/vm/drop_caches
fh_check "after drop_caches" top d d/sub d/sub/f
gone_ino=$(stat -c %i $P/gone)
rm $P/gone
umount $P && mount -t chunkfs $PX_DEV $P || fail "posix: remount for the handles"
fh_check "after a remount" top d d/sub d/sub/f
got=$(/bin/ptool fh open $P /tmp/h.gone)
[ "$got" = ESTALE ] && pass "file handle of a deleted file: ESTALE" || fail "file handle of a deleted file: $got"
# its number used again (another generation): still ESTALE
i=0
while [ $i -lt 50 ]; do
	echo new >$P/reuse$i
	[ "$(stat -c %i $P/reuse$i)" = "$gone_ino" ] && break
	i=$((i + 1))
done
if [ $i -lt 50 ]; then
	got=$(/bin/ptool fh open $P /tmp/h.gone)
	[ "$got" = ESTALE ] && pass "file handle of a deleted file whose number was used again: ESTALE" ||
		fail "file handle of a reused inode number: $got"
else
	fail "posix: inode $gone_ino not used again in 50 creates"
fi
rm -f $P/reuse*

# ---- remount read-only and read-write ----
exec 3>>$P/top
mount -o remount,ro $P 2>/tmp/e && fail "remount ro with a file open for writing" ||
	{ grep -qi busy /tmp/e && pass "remount ro refused while a file is open for writing (EBUSY)" ||
	  fail "remount ro with a writer: $(cat /tmp/e)"; }
exec 3>&-
dd if=/dev/urandom of=/tmp/late bs=4096 count=100 2>/dev/null
cp /tmp/late $P/late && echo appended >>$P/top || fail "posix: writes before remount ro"
mount -o remount,ro $P && grep -q " $P chunkfs ro" /proc/mounts && pass "remount ro" || fail "remount ro: $(grep " $P " /proc/mounts)"
set -- $(/bin/ptool sb $PX_DEV)
[ "$1 $2" = "state 1" ] && pass "remount ro: the superblock says clean" || fail "remount ro: superblock $*"
s1=$(md5sum <$PX_DEV)
touch $P/nope 2>/tmp/e && fail "touch on a read-only remount" ||
	{ grep -qi 'read-only' /tmp/e && pass "remount ro: writers get EROFS" || fail "remount ro: touch: $(cat /tmp/e)"; }
cmp /tmp/late $P/late && [ "$(tail -n 1 $P/top)" = appended ] && pass "remount ro: data readable" || fail "remount ro: data"
umount $P || fail "posix: umount ro"
[ "$(md5sum <$PX_DEV)" = "$s1" ] && pass "remount ro had committed everything (the unmount wrote nothing)" ||
	fail "the unmount after remount ro wrote to the device"
mount -t chunkfs $PX_DEV $P || fail "posix: mount again"
cmp /tmp/late $P/late && pass "remount ro: data after a new mount" || fail "remount ro: data after a new mount"
mount -o remount,ro $P && mount -o remount,rw $P && echo more >>$P/top && [ "$(tail -n 1 $P/top)" = more ] &&
	pass "remount rw again" || fail "remount rw again"
umount $P || fail "posix: umount"

# ---- access times ----
# atime_mode OPTS MODE: a mount with OPTS, the rules of MODE
atime_mode() {
	mount -t chunkfs ${1:+-o $1} $PX_DEV $P || { fail "atime: mount -o $1"; return; }
	r=$(/bin/ptool atime $2 $P/top $P/d); echo "$r"
	[ "$r" = "atime $2: ok" ] && pass "atime: $2 (mount -o ${1:-defaults})" || fail "atime: $2: $r"
	umount $P || fail "atime: umount"
}
atime_mode "" relatime
atime_mode strictatime strictatime
atime_mode noatime noatime
# the mode changes with a remount
mount -t chunkfs $PX_DEV $P && mount -o remount,strictatime $P || fail "atime: remount strictatime"
r=$(/bin/ptool atime strictatime $P/top $P/d)
[ "$r" = "atime strictatime: ok" ] && pass "atime: strictatime after a remount" || fail "atime: remount strictatime: $r"
umount $P
# written lazily: reads under strictatime commit nothing (commit=0: no
# periodic commit), the next commit (sync) takes the new atime, which a
# new mount reads back
mount -t chunkfs -o strictatime,commit=0 $PX_DEV $P || fail "atime: mount commit=0"
cat $P/top >/dev/null
set -- $(/bin/ptool sb $PX_DEV); g1=$4
a0=$(/bin/ptool times $P/top)
i=0; while [ $i -lt 50 ]; do cat $P/top >/dev/null; i=$((i + 1)); done
a1=$(/bin/ptool times $P/top)
set -- $(/bin/ptool sb $PX_DEV); g2=$4
[ "$a0" != "$a1" ] && [ "$g1" = "$g2" ] && pass "atime: 50 reads updated it and committed nothing (commit group $g1)" ||
	fail "atime: lazy: $a0 -> $a1, commit group $g1 -> $g2"
sync
set -- $(/bin/ptool sb $PX_DEV); g3=$4
[ "$g3" -gt "$g1" ] && pass "atime: committed by sync (commit group $g3)" || fail "atime: sync committed nothing ($g3)"
umount $P && mount -t chunkfs -o noatime $PX_DEV $P || fail "atime: remount"
a2=$(/bin/ptool times $P/top)
[ "$a2" = "$a1" ] && pass "atime: kept across a remount ($a2)" || fail "atime: after a remount $a2, before $a1"
umount $P

# relatime's one-day rule: an atime newer than the mtime and ctime is
# left while it is less than a day old and updated once after; the VM's
# clock is moved 23 and then 25 hours on (and back)
mount -t chunkfs $PX_DEV $P || fail "atime: mount for the one-day rule"
cat $P/top >/dev/null; ls $P/d >/dev/null; cat $P/top >/dev/null; ls $P/d >/dev/null
f0=$(stat -c %X $P/top); d0=$(stat -c %X $P/d); t0=$(date +%s)
day=ok
[ "$f0" -gt "$(stat -c %Z $P/top)" ] && [ "$d0" -gt "$(stat -c %Z $P/d)" ] || { echo "atime not newer than ctime: $f0 $d0"; day=bad; }
date -u -s @$((t0 + 23 * 3600)) >/dev/null
cat $P/top >/dev/null; ls $P/d >/dev/null
[ "$(stat -c %X $P/top) $(stat -c %X $P/d)" = "$f0 $d0" ] || { echo "23 hours on: $(stat -c %X $P/top) $(stat -c %X $P/d), were $f0 $d0"; day=bad; }
date -u -s @$((t0 + 25 * 3600)) >/dev/null
cat $P/top >/dev/null; ls $P/d >/dev/null
f1=$(stat -c %X $P/top); d1=$(stat -c %X $P/d)
[ "$f1" -ge $((t0 + 25 * 3600)) ] && [ "$d1" -ge $((t0 + 25 * 3600)) ] || { echo "25 hours on: $f1 $d1, were $f0 $d0"; day=bad; }
cat $P/top >/dev/null; ls $P/d >/dev/null
[ "$(stat -c %X $P/top) $(stat -c %X $P/d)" = "$f1 $d1" ] || { echo "25 hours on, again: changed"; day=bad; }
date -u -s @$((t0 + 2)) >/dev/null
umount $P && mount -t chunkfs -o noatime $PX_DEV $P || fail "atime: remount after the one-day rule"
[ "$(stat -c %X $P/top) $(stat -c %X $P/d)" = "$f1 $d1" ] || { echo "one-day rule: the atimes after a remount"; day=bad; }
umount $P
[ $day = ok ] && pass "atime: relatime's one-day rule (not 23 hours on, once 25 hours on, kept)" || fail "atime: relatime's one-day rule"

# ---- a buffered read after a direct write ----
mount -t chunkfs $PX_DEV $P || fail "dio: mount"
r=$(/bin/ptool dio $P/dio 1024 20 7); echo "$r"
case "$r" in *": ok") pass "direct writes and buffered reads coherent" ;; *) fail "dio: $r" ;; esac
rm -f $P/dio
umount $P && pass "posix: umount" || fail "posix: umount"
