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
# (ptool dio); GNU cp -a, getfacl and setfacl beside a tmpfs (ACLs); a
# file capability removed as ext4 removes it.
# ptool is tests/fuse/ptool.c, the checks the FUSE tests
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
# a change first, so that relatime updates the atimes at the reads below
# (an atime already newer than the ctime in the same second would stay:
# the comparison below is in seconds), then the reads two seconds later
chmod 644 $P/top && touch $P/d/day && rm $P/d/day || fail "atime: changes before the one-day rule"
sleep 2
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

# ---- GNU cp -a, getfacl and setfacl (issue 15, point 1) ----
# The same tree on the module's mount and on a tmpfs (the kernel's own
# ACL code, which ext4 shares): modes 755/644/700/600/2775/4755, owners,
# ACLs and default ACLs set by setfacl; getfacl of every path equal;
# cp -a within each, from tmpfs into chunkfs and back, and by uid 1000
# of its own tree, keeps every mode, owner and ACL; getfacl's dump
# restored (setfacl --restore) onto a copy made without them gives the
# tree back.  The GNU tools come with their libraries under /gnu.
mount -t chunkfs $PX_DEV $P || fail "acl tools: mount"
mkdir -p /ref && mount -t tmpfs -o mode=755 tmpfs /ref || fail "acl tools: tmpfs"
# mktree ROOT: the tree under ROOT/src
mktree() {
	s=$1/src
	mkdir -p $s/d755/sub $s/d700 $s/sg/in $s/acl/dd && echo a >$s/d755/f644 && echo b >$s/d755/x755 &&
		echo c >$s/d700/f600 && echo d >$s/acl/f && echo e >$s/sg/g && echo f >$s/d755/suid &&
		echo g >$s/acl/dd/old || return 1
	chmod 755 $s $s/d755 $s/d755/sub $s/d755/x755 && chmod 644 $s/d755/f644 && chmod 700 $s/d700 &&
		chmod 600 $s/d700/f600 && chown 0:4242 $s/sg $s/sg/in && chmod 2775 $s/sg $s/sg/in &&
		chown 1000:4242 $s/sg/g && chmod 2750 $s/sg/g && chmod 4755 $s/d755/suid || return 1
	/gnu/setfacl -m u:1001:r,g:4242:rw $s/acl/f && /gnu/setfacl -m u:1000:rwx,g:4242:rx,m::rwx,o::x $s/acl &&
		/gnu/setfacl -m d:u:1000:rx,d:g:4242:rwx,d:o::- $s/acl/dd &&
		echo h >$s/acl/dd/new && mkdir $s/acl/dd/newd && /gnu/setfacl -m m::r $s/acl/dd/new
}
# state DIR: mode, owner and getfacl of every path under DIR
state() {
	(cd "$1" && find . | sort | while read -r p; do
		stat -c '%n %A %u %g' "$p"; /gnu/getfacl -cpn "$p" | grep -v '^$'
	done) 2>&1
}
# same A B WHAT: the states of A and B are equal
same() {
	state "$1" >/tmp/sa; state "$2" >/tmp/sb
	cmp -s /tmp/sa /tmp/sb && return 0
	echo "$3: $1 and $2 differ:"; diff /tmp/sa /tmp/sb | head -n 20; return 1
}
acl=ok
(umask 022; mktree $P) || { echo "the tree on chunkfs"; acl=bad; }
(umask 022; mktree /ref) || { echo "the tree on tmpfs"; acl=bad; }
same $P/src /ref/src "setfacl, getfacl" || acl=bad
grep -q "^./acl/dd/new -rw-r-----" /tmp/sa && grep -qx "user:1000:r-x" /tmp/sa || { echo "the tree's ACLs: $(cat /tmp/sa)"; acl=bad; }
[ $acl = ok ] && pass "acl tools: setfacl and getfacl as on tmpfs (inheritance, the mask, named entries)" ||
	fail "acl tools: setfacl, getfacl"
acl=ok
/gnu/cp -a $P/src $P/copy && /gnu/cp -a /ref/src /ref/copy || { echo "cp -a within"; acl=bad; }
same $P/src $P/copy "cp -a within chunkfs" && same /ref/copy $P/copy "cp -a (tmpfs, chunkfs)" || acl=bad
/gnu/cp -a /ref/src $P/fromref && same /ref/src $P/fromref "cp -a from tmpfs" || acl=bad
/gnu/cp -a $P/copy /ref/back && same $P/src /ref/back "cp -a back to tmpfs" || acl=bad
grep -q "^./d755 drwxr-xr-x 0 0" /tmp/sa && grep -q "^./d755/f644 -rw-r--r-- 0 0" /tmp/sa || { echo "755/644 not there"; acl=bad; }
mkdir -m 777 $P/u && /bin/kt as 1000 1000 - /bin/sh -c "umask 077; mkdir $P/u/t $P/u/t/d && echo x >$P/u/t/d/f && chmod 755 $P/u/t/d && chmod 644 $P/u/t/d/f && /gnu/cp -a $P/u/t $P/u/c" &&
	[ "$(stat -c '%a %u' $P/u/c/d $P/u/c/d/f | tr '\n' ' ')" = "755 1000 644 1000 " ] || { echo "cp -a by uid 1000: $(stat -c '%n %a %u' $P/u/c/d $P/u/c/d/f)"; acl=bad; }
[ $acl = ok ] && pass "acl tools: cp -a keeps modes (755/644...), owners and ACLs, within, in, out, by a user" ||
	fail "acl tools: cp -a"
acl=ok
(cd $P/src && /gnu/getfacl -Rpn . >/tmp/dump) && (umask 077; cp -r $P/src $P/bare) || { echo "getfacl -R, cp -r"; acl=bad; }
state $P/bare | grep -q "^./d755 drwx------" || { echo "the bare copy has its modes already"; acl=bad; }
(cd $P/bare && /gnu/setfacl --restore=/tmp/dump) && same $P/src $P/bare "setfacl --restore" || acl=bad
umount $P || acl=bad
mount -t chunkfs $PX_DEV $P && same /ref/src $P/src "after a remount" && same $P/src $P/bare "after a remount" || acl=bad
[ $acl = ok ] && pass "acl tools: getfacl -R and setfacl --restore round trip, kept across a remount" ||
	fail "acl tools: round trip"
# ACLs off and on again by a remount, as ext4's remount,noacl / remount,acl
acl=ok
echo r >$P/racl && /gnu/setfacl -m u:1000:r $P/racl || { echo "setfacl before the remount"; acl=bad; }
mount -o remount,noacl $P && grep " $P " /proc/mounts | grep -q noacl || { echo "remount,noacl: $(grep " $P " /proc/mounts)"; acl=bad; }
/gnu/setfacl -m u:1001:r $P/racl 2>/tmp/e && { echo "setfacl on a remount,noacl"; acl=bad; }
grep -q "not supported" /tmp/e || { echo "setfacl on a remount,noacl: $(cat /tmp/e)"; acl=bad; }
(umask 077; mkdir $P/acl-off) && [ "$(stat -c %a $P/acl-off)" = 700 ] || { echo "the umask on remount,noacl"; acl=bad; }
mount -o remount,acl $P && ! grep " $P " /proc/mounts | grep -q noacl || { echo "remount,acl: $(grep " $P " /proc/mounts)"; acl=bad; }
/gnu/setfacl -m u:1001:r $P/racl && /gnu/getfacl -cpn $P/racl | grep -qx "user:1000:r--" &&
	/gnu/getfacl -cpn $P/racl | grep -qx "user:1001:r--" || { echo "ACLs after remount,acl: $(/gnu/getfacl -cpn $P/racl)"; acl=bad; }
[ $acl = ok ] && pass "acl tools: remount,noacl turns ACLs off (EOPNOTSUPP, the umask), remount,acl on again" ||
	fail "acl tools: remount,noacl and remount,acl"
rm -rf $P/src $P/copy $P/fromref $P/bare $P/u $P/racl $P/acl-off
umount $P; umount /ref

# ---- file capabilities (security.capability), as ext4 ----
# removed by a write (root's, a user's), truncate, O_TRUNC, fallocate and
# chown (also to -1:-1); kept by a chmod, a read and a mapping's write
# (the VFS's file_remove_privs and chown through the module's xattrs)
mount -t chunkfs $PX_DEV $P || fail "caps: mount"
caps=ok; n=0
CAPV=hex:0100000200200000000000000000000000000000 # v2, effective, cap_net_raw
for op in write user truncate otrunc fallocate chown chownsame chmod read mmap; do
	f=$P/cap-$op
	echo "some data" >$f && chmod 757 $f && /bin/kt xset $f security.capability $CAPV >/dev/null &&
		/bin/kt xlist $f | grep -qx security.capability || { echo "caps: setting it on $f"; caps=bad; }
	case $op in
	user) r=$(/bin/kt as 1000 1000 - /bin/kt op $f write) ;;
	chown) r=$(/bin/kt op $f chown 1000 1000) ;;
	chownsame) r=$(/bin/kt op $f chown -1 -1) ;;
	chmod) chmod 750 $f && r=ok ;;
	read) cat $f >/dev/null && r=ok ;;
	*) r=$(/bin/kt op $f $op) ;;
	esac
	if /bin/kt xlist $f | grep -qx security.capability; then got=kept; else got=removed; fi
	case $op in chmod|read|mmap) w=kept ;; *) w=removed ;; esac
	[ "$r" = ok ] && [ $got = $w ] || { echo "caps: $op: $r, the capability $got, want $w"; caps=bad; }
	n=$((n + 1))
done
umount $P || caps=bad
[ $caps = ok ] && pass "caps: a file capability removed by writes, truncates, fallocate, chown; kept by chmod, reads, a mapping ($n cases)" ||
	fail "caps: file capabilities"

# ---- a buffered read after a direct write ----
mount -t chunkfs $PX_DEV $P || fail "dio: mount"
r=$(/bin/ptool dio $P/dio 1024 20 7); echo "$r"
case "$r" in *": ok") pass "direct writes and buffered reads coherent" ;; *) fail "dio: $r" ;; esac
rm -f $P/dio
umount $P && pass "posix: umount" || fail "posix: umount"
