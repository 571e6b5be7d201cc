# SPDX-License-Identifier: GPL-2.0
# The write side of the kernel module test, sourced by init.sh inside the
# VM.  /dev/vdc holds an image that chunkfs-fuse wrote on the host (the
# tree of /manifest); here it is mounted read-write through chunkfs.ko,
# checked, changed by every operation the module offers, remounted and
# checked again.  At the end the tree is listed on the console ("KTF md5
# path", "KTL path target", "KTD path") for the host to compare with what
# chunkfs-fuse reads from the same image afterwards.
W=/w
mkdir -p $W
# expect WANT CMD...: CMD's output must be WANT (kt prints errno names)
expect() { w=$1; shift; got=$("$@" 2>&1); [ "$got" = "$w" ]; }

if mount -t chunkfs /dev/vdc $W; then pass "rw mount"; else fail "rw mount of /dev/vdc"; return; fi
grep -q " $W chunkfs rw" /proc/mounts && pass "mounted-rw" || fail "mounted-rw: $(grep " $W " /proc/mounts)"
grep " $W " /proc/mounts
check_manifest $W fuse-written
st0=$(/bin/kt statfs $W)

# ---- file data ----
dd if=/dev/urandom of=/tmp/big bs=65536 count=160 2>/dev/null
cp /tmp/big $W/big10 && cmp /tmp/big $W/big10 && pass "write 10 MiB" || fail "write 10 MiB"
i=0; : >/tmp/app
while [ $i -lt 300 ]; do echo "line $i of the appended file" >>$W/app; echo "line $i of the appended file" >>/tmp/app; i=$((i + 1)); done
cmp /tmp/app $W/app && pass "appends (300)" || fail "appends"
dd if=/dev/urandom of=/tmp/patch bs=1000 count=7 2>/dev/null
cp /tmp/big /tmp/big2
dd if=/tmp/patch of=/tmp/big2 bs=1 seek=123457 conv=notrunc 2>/dev/null
dd if=/tmp/patch of=$W/big10 bs=1 seek=123457 conv=notrunc 2>/dev/null
cmp /tmp/big2 $W/big10 && pass "overwrite in the middle" || fail "overwrite in the middle"
echo 3 >/proc/sys/vm/drop_caches
cmp /tmp/big2 $W/big10 && pass "overwrite after drop_caches" || fail "overwrite after drop_caches"
# sparse: a write far beyond the end
printf 'far' | dd of=$W/sparse bs=1 seek=5000000 2>/dev/null
[ "$(stat -c %s $W/sparse)" = 5000003 ] && [ "$(stat -c %b $W/sparse)" -lt 100 ] &&
	[ "$(dd if=$W/sparse bs=1 skip=5000000 2>/dev/null)" = far ] &&
	[ "$(dd if=$W/sparse bs=4096 count=1 2>/dev/null | tr -d '\0' | wc -c)" = 0 ] &&
	pass "sparse write" || fail "sparse write: $(stat -c '%s %b' $W/sparse)"
# truncate
truncate -s 1000 $W/app && [ "$(stat -c %s $W/app)" = 1000 ] && head -c 1000 /tmp/app | cmp - $W/app &&
	truncate -s 9000 $W/app && [ "$(stat -c %s $W/app)" = 9000 ] &&
	[ "$(tail -c 8000 $W/app | tr -d '\0' | wc -c)" = 0 ] && pass truncate || fail "truncate: $(stat -c %s $W/app)"
# random writes, truncates, fallocate modes, mmap and O_DIRECT writes,
# SEEK_DATA/SEEK_HOLE, against a model
r=$(/bin/kt fops $W/fops1 1 300); echo "$r"
case "$r" in "fops: 300 steps ok"*) pass "fops (seed 1)" ;; *) fail "fops (seed 1): $r" ;; esac
r=$(/bin/kt fops $W/a/fops2 2 200); echo "$r"
case "$r" in "fops: 200 steps ok"*) pass "fops (seed 2)" ;; *) fail "fops (seed 2): $r" ;; esac
# an unlinked file stays readable while open
cp /tmp/patch $W/open-unlinked
exec 3<$W/open-unlinked
rm $W/open-unlinked
[ ! -e $W/open-unlinked ] && cmp /tmp/patch - <&3 && pass "open unlinked file" || fail "open unlinked file"
exec 3<&-

# ---- the namespace ----
mkdir -p $W/d1/d2/d3 && [ -d $W/d1/d2/d3 ] && [ "$(stat -c %h $W/d1)" = 3 ] && pass mkdir || fail "mkdir: nlink $(stat -c %h $W/d1)"
mknod $W/d1/null c 1 3 && mkfifo $W/d1/fifo && mknod $W/d1/blk b 8 1 &&
	[ "$(stat -c '%F %t %T' $W/d1/null)" = "character special file 1 3" ] && [ -p $W/d1/fifo ] &&
	[ "$(stat -c '%F %t %T' $W/d1/blk)" = "block special file 8 1" ] && pass mknod || fail mknod
ln -s ../big10 $W/d1/sym && [ "$(readlink $W/d1/sym)" = ../big10 ] && cmp $W/d1/sym /tmp/big2 && pass symlink || fail symlink
long=$(printf '%0900d' 7); ln -s "$long" $W/d1/longsym && [ "$(readlink $W/d1/longsym)" = "$long" ] && pass "long symlink" || fail "long symlink"
ln $W/big10 $W/d1/d2/hard && [ "$(stat -c %h $W/big10)" = 2 ] &&
	[ "$(stat -c %i $W/big10)" = "$(stat -c %i $W/d1/d2/hard)" ] && pass "hard link" || fail "hard link"
echo one >$W/d1/x; echo two >$W/d1/y
expect EEXIST /bin/kt rename $W/d1/x $W/d1/y noreplace && pass "rename noreplace" || fail "rename noreplace"
expect ok /bin/kt rename $W/d1/x $W/d1/y exchange && [ "$(cat $W/d1/x)" = two ] && [ "$(cat $W/d1/y)" = one ] &&
	pass "rename exchange" || fail "rename exchange: $(cat $W/d1/x) $(cat $W/d1/y)"
expect EINVAL /bin/kt rename $W/d1/x $W/d1/z whiteout && pass "rename whiteout refused" || fail "rename whiteout"
mv $W/d1/x $W/d1/y && [ ! -e $W/d1/x ] && [ "$(cat $W/d1/y)" = two ] && pass "rename over a file" || fail "rename over a file"
mv $W/d1/d2/d3 $W/d3moved && [ -d $W/d3moved ] && [ "$(stat -c %h $W/d1/d2)" = 2 ] && pass "rename a directory" || fail "rename a directory"
rm $W/d1/d2/hard && [ "$(stat -c %h $W/big10)" = 1 ] && pass unlink || fail "unlink: nlink $(stat -c %h $W/big10)"
rmdir $W/d1 2>/dev/null && fail "rmdir of a non-empty directory" || pass "rmdir ENOTEMPTY"
rmdir $W/d3moved && [ ! -e $W/d3moved ] && pass rmdir || fail rmdir
expect ENOENT /bin/kt rename $W/d1/y $W/d1/y2 exchange && pass "exchange with nothing refused" || fail "exchange with nothing"
# a directory continues into other chunks when its own chunk is full:
# big10 and fops filled chunk 0 (4 MiB chunks)
mkdir $W/spread; i=0
while [ $i -lt 40 ]; do dd if=/dev/urandom of=$W/spread/f$i bs=65536 count=4 2>/dev/null; i=$((i + 1)); done
dchunk=$(( $(stat -c %i $W/spread) >> 32 )); other=0
for f in $W/spread/*; do [ $(( $(stat -c %i $f) >> 32 )) != $dchunk ] && other=$((other + 1)); done
[ $other -gt 0 ] && pass "files of a directory in other chunks ($other of 40)" || fail "no file of /spread outside chunk $dchunk"
ls $W/spread | wc -l | grep -qx 40 && pass "directory continuation listing" || fail "directory continuation listing"

# ---- attributes ----
chmod 4751 $W/d1/y && [ "$(stat -c %a $W/d1/y)" = 4751 ] && pass chmod || fail "chmod: $(stat -c %a $W/d1/y)"
# chown clears the setuid bit
chown 1234:5678 $W/d1/y && [ "$(stat -c '%u %g %a' $W/d1/y)" = "1234 5678 751" ] && pass chown || fail "chown: $(stat -c '%u %g %a' $W/d1/y)"
touch -d '2001-02-03 04:05:06' $W/d1/y && [ "$(stat -c %Y $W/d1/y)" = "$(date -d '2001-02-03 04:05:06' +%s)" ] && pass utimes || fail "utimes: $(stat -c %Y $W/d1/y)"
expect ok /bin/kt xset $W/d1/y user.k v1 && expect EEXIST /bin/kt xset $W/d1/y user.k v2 create &&
	expect ok /bin/kt xset $W/d1/y user.k v3 replace && [ "$(/bin/kt xget $W/d1/y user.k)" = v3 ] &&
	expect ENODATA /bin/kt xset $W/d1/y user.none v replace && pass "xattr set" || fail "xattr set"
expect ok /bin/kt xset $W/d1 user.dir yes && expect ok /bin/kt xset $W/d1/sym trusted.t lnk && pass "xattr on dir and symlink" || fail "xattr on dir and symlink"
expect ok /bin/kt xrm $W/d1/y user.k && ! /bin/kt xlist $W/d1/y | grep -q user.k && expect ENODATA /bin/kt xrm $W/d1/y user.k &&
	pass "xattr remove" || fail "xattr remove"
st1=$(/bin/kt statfs $W)
set -- $st0; f0=$4; set -- $st1
[ "$4" -lt "$f0" ] && pass "statfs: free blocks $f0 -> $4" || fail "statfs: free blocks $f0 -> $4"
sync && pass sync || fail sync

# ---- the ioctls (fs/chunkfs_ioctl.h), on a file and on a directory ----
h=$(/bin/kt ioctl health $W/d1/y); echo "$h" | head -n 3
echo "$h" | head -n 1 | grep -q '^health: 16 chunks, flags 0' && [ "$(echo "$h" | grep -c '^chunk ')" = 16 ] &&
	pass "health ioctl" || fail "health ioctl: $(echo "$h" | head -n 1)"
r=$(/bin/kt ioctl scrub $W 3); echo "$r"
case "$r" in "scrub: chunk 3 found 0 fixed 0 state 1 "*) pass "scrub ioctl (clean chunk)" ;; *) fail "scrub ioctl: $r" ;; esac
expect EINVAL /bin/kt ioctl scrub $W 99 && pass "scrub ioctl: no such chunk" || fail "scrub ioctl: no such chunk"
/bin/kt ioctl events $W | grep -q 'code 6 chunk 3: chunk 3 scrubbed: clean' && pass "events ioctl" || fail "events ioctl: $(/bin/kt ioctl events $W | tail -n 3)"

# ---- remounts ----
mount -o remount,ro $W && grep -q " $W chunkfs ro" /proc/mounts && ! touch $W/nope 2>/dev/null && pass "remount ro" || fail "remount ro"
expect EROFS /bin/kt ioctl scrub-repair $W 3 && /bin/kt ioctl health $W | head -n 1 | grep -q 'flags 1' &&
	pass "read-only: no repair, health says so" || fail "read-only: scrub-repair or health flags"
mount -o remount,rw $W && touch $W/yes && pass "remount rw" || fail "remount rw"
mount -o remount,commit=1,errors=remount-ro $W && grep " $W " /proc/mounts | grep -q 'commit=1,errors=remount-ro' && pass "remount options" || fail "remount options: $(grep " $W " /proc/mounts)"
umount $W && pass "umount rw" || fail "umount rw"
mount -t chunkfs -o ro /dev/vdc $W || fail "mount -o ro"
# read-only to read-write in place, with a file in use (as ext4)
exec 3<$W/big10
mount -o remount,rw $W && echo after >$W/after-ro-rw && [ "$(cat $W/after-ro-rw)" = after ] &&
	cmp /tmp/big2 - <&3 && pass "ro mount remounted rw with a file open" || fail "ro mount remounted rw"
exec 3<&-
cmp /tmp/big2 $W/big10 && pass "data after remount" || fail "data after remount"
[ "$(cat $W/d1/y)" = two ] && [ "$(readlink $W/d1/longsym)" = "$long" ] && [ ! -e $W/d3moved ] && [ -p $W/d1/fifo ] &&
	[ "$(stat -c %a $W/d1/y)" = 751 ] && pass "namespace after remount" ||
	fail "namespace after remount: $(cat $W/d1/y) $(stat -c %a $W/d1/y) $(ls $W/d1)"

# ---- a full filesystem: ENOSPC to the writer, then room again ----
dd if=/dev/zero of=$W/fill bs=1M 2>/tmp/dderr
grep -q 'No space left' /tmp/dderr && pass "ENOSPC to the writer ($(stat -c %s $W/fill) bytes written)" || fail "ENOSPC: $(cat /tmp/dderr)"
rm $W/fill && sync && echo room >$W/after-full && [ "$(cat $W/after-full)" = room ] && pass "writable after ENOSPC" || fail "writable after ENOSPC"

# ---- COLLAPSE_RANGE / INSERT_RANGE on a fragmented file (issue 16): in
# rounds, none bigger than a journal (asked below, CHUNKFS_IOC_JOURNAL);
# the file stays for the host to read through chunkfs-fuse ----
r=$(/bin/kt shift $W/shifted 24); echo "$r"
case "$r" in "shift: "*" operations ok "*) pass "collapse/insert on a fragmented file" ;; *) fail "collapse/insert on a fragmented file: $r" ;; esac

# ---- what losing a chunk would cost: CHUNKFS_IOC_CHUNK_FILES and _PATH,
# printed for the host to compare with `chunkfs paths` of the image ----
oc=
for f in $W/spread/*; do c=$(( $(stat -c %i $f) >> 32 )); [ $c != $dchunk ] && { oc=$c; of=$f; break; }; done
if [ -n "$oc" ] && /bin/kt paths $W $oc >/tmp/ktp1 && /bin/kt paths $W/d1 $dchunk >/tmp/ktp2; then
	cat /tmp/ktp1 /tmp/ktp2
	grep -qx "KTP $oc $(stat -c %i $W/spread) entries /spread" /tmp/ktp1 &&
		grep -qx "KTP $oc $(stat -c %i $of) inode,data /spread/$(basename $of)" /tmp/ktp1 &&
		grep -qx "KTP $dchunk $(stat -c %i $W/spread) inode,entries /spread" /tmp/ktp2 &&
		pass "chunk files and path ioctls (chunks $oc, $dchunk)" ||
		fail "chunk files and path ioctls: $(head -n 3 /tmp/ktp1)"
else
	fail "chunk files ioctl (chunk $oc): $(tail -n 1 /tmp/ktp1)"
fi
echo "KTPCHUNKS $oc $dchunk"

# ---- the tree, for the host ----
(cd $W && find . | sort | while read -r p; do
	if [ -L "$p" ]; then echo "KTL $p $(readlink "$p" | md5sum | cut -c1-32)"
	elif [ -f "$p" ]; then echo "KTF $p $(md5sum <"$p" | cut -c1-32) $(stat -c '%s %a' "$p")"
	elif [ -d "$p" ]; then echo "KTD $p"
	else echo "KTO $p $(stat -c %F "$p")"; fi
done)
# no transaction outgrew its journal (issue 16): asked on the live mount
# (CHUNKFS_IOC_JOURNAL), then the module's unmount line in the kernel log
j=$(/bin/kt ioctl journal $W); echo "$j"
set -- $j
jc=${2:-0}
[ "$#" = 8 ] && [ "$2" -gt 0 ] && [ "$6" = 0 ] && pass "journal ioctl: $2 commits, $4 splits, none in place" ||
	fail "journal ioctl: $j"
umount $W && pass "final umount" || fail "final umount"
j=$(dmesg | grep -o 'chunkfs (vdc): journal: .*' | tail -n 1); echo "$j"
set -- $j
[ "$#" = 10 ] && [ "$4" -ge "$jc" ] && [ "$8" = 0 ] && pass "unmount line: $4 commits, none in place" ||
	fail "unmount line: $j"
