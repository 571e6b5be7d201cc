#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the kernel module test VM (tests/kmod/run.sh builds the
# initramfs).  /dev/vda: the test image; /dev/vdb: FUZZ_N fuzzed images
# back to back, FUZZ_SIZE bytes each.  Results go to the console as
# "KT PASS name", "KT FAIL name: why"; "KT END" last.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
. /params
pass() { echo "KT PASS $*"; }
fail() { echo "KT FAIL $*"; }
finish() { echo "KT END"; sync; poweroff -f; }

for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	 virtio_pci virtio_blk loop; do
	insmod /lib/modules/$m.ko || fail "insmod-$m"
done
i=0
while [ ! -b /dev/vdb ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vda ] && [ -b /dev/vdb ] || { fail "disks: no /dev/vda, /dev/vdb"; finish; }

if insmod /chunkfs.ko; then pass insmod; else fail "insmod chunkfs.ko"; finish; fi
grep -q chunkfs /proc/filesystems && pass "registered" || fail "registered: not in /proc/filesystems"

mkdir -p /mnt /f
# a read-write mount is refused with EROFS by this read-only stage of the
# module; mount(8) then retries read-only, as for a write-protected disk
if mount -t chunkfs /dev/vda /mnt 2>/dev/null; then
	if grep -q ' /mnt chunkfs ro' /proc/mounts; then pass "rw-gives-ro"
	else fail "rw-gives-ro: $(grep /mnt /proc/mounts)"; fi
	umount /mnt || fail "rw-gives-ro: umount"
else
	pass "rw-gives-ro (refused)"
fi
if mount -t chunkfs -o ro /dev/vda /mnt; then pass mount; else fail "mount -o ro /dev/vda"; finish; fi
grep ' /mnt chunkfs ro' /proc/mounts >/dev/null && pass "mounted-ro" || fail "mounted-ro: $(grep /mnt /proc/mounts)"

echo "--- ls -laR (first lines)"
ls -laR /mnt | head -n 40
echo "---"

# every path, nothing more (lost+found is mkfs's own)
( cd /mnt && find . | sed 's|^\./||' | grep -v '^\.$' | grep -v '^lost+found' | sort ) >/tmp/found
if cmp -s /tmp/found /paths; then pass "listing ($(wc -l </tmp/found) paths)"; else
	fail "listing differs:"; diff /paths /tmp/found | head -n 20; fi
[ -d /mnt/lost+found ] && pass lost+found || fail "lost+found missing"

nf=0; nd=0; nl=0; nh=0; nn=0; nx=0
while read -r k p a b c; do
	case $k in
	f)	s=$(md5sum "/mnt/$p" | cut -d' ' -f1)
		sz=$(stat -c %s "/mnt/$p")
		if [ "$s" = "$a" ] && [ "$sz" = "$b" ]; then nf=$((nf + 1)); else
			fail "file $p: md5 $s size $sz, want $a $b"; fi ;;
	d)	if [ -d "/mnt/$p" ] && [ ! -L "/mnt/$p" ]; then nd=$((nd + 1)); else fail "dir $p"; fi ;;
	l)	t=$(readlink "/mnt/$p")
		if [ -L "/mnt/$p" ] && [ "$t" = "$a" ]; then nl=$((nl + 1)); else fail "symlink $p -> '$t', want '$a'"; fi ;;
	h)	i1=$(stat -c %i "/mnt/$p"); i2=$(stat -c %i "/mnt/$a"); l1=$(stat -c %h "/mnt/$p")
		if [ "$i1" = "$i2" ] && [ "$l1" -ge 2 ]; then nh=$((nh + 1)); else fail "hard link $p: ino $i1 vs $i2, nlink $l1"; fi ;;
	c|b)	t=$(stat -c %F "/mnt/$p"); mm=$(stat -c '%t %T' "/mnt/$p")
		want=$(printf '%x %x' "$a" "$b")
		case "$k$t" in
		c*character*|b*block*) [ "$mm" = "$want" ] && nn=$((nn + 1)) || fail "device $p: $mm, want $want" ;;
		*) fail "device $p: type $t" ;;
		esac ;;
	p)	[ -p "/mnt/$p" ] && nn=$((nn + 1)) || fail "fifo $p" ;;
	x)	v=$(/bin/kt xget "/mnt/$p" "$a")
		if [ "$v" = "$b" ]; then nx=$((nx + 1)); else fail "xattr $p $a: '$v'"; fi
		/bin/kt xlist "/mnt/$p" | grep -qx "$a" || fail "xattr list $p: no $a" ;;
	esac
done </manifest
pass "files ($nf read, md5 and size)"
pass "dirs ($nd)"
pass "symlinks ($nl)"
pass "hardlinks ($nh)"
pass "special ($nn)"
pass "xattrs ($nx)"

# the same data through mmap as through read(2)
for p in big.bin medium.bin sparse.bin a/b/c/odd.bin; do
	/bin/kt mmapcmp "/mnt/$p" >/dev/null || fail "mmap $p"
done
pass "mmap"
# a regular file's blocks: stat's size and a sane block count
[ "$(stat -c %b /mnt/big.bin)" -ge 12000 ] && pass "blocks" || fail "blocks: $(stat -c %b /mnt/big.bin)"
# reading the big file twice (page cache dropped in between) gives the same
s1=$(md5sum /mnt/big.bin | cut -d' ' -f1)
echo 3 >/proc/sys/vm/drop_caches
s2=$(md5sum /mnt/big.bin | cut -d' ' -f1)
[ "$s1" = "$s2" ] && pass "reread" || fail "reread: $s1 $s2"

# statfs
st=$(/bin/kt statfs /mnt)
echo "statfs: $st"
set -- $st
if [ "$1" = 53534643 ] && [ "$2" = 4096 ] && [ "$3" -gt 0 ] && [ "$4" -le "$3" ] && [ "$8" = 255 ]; then
	pass statfs; else fail "statfs: $st"; fi
df /mnt | tail -n 1
# the tree with errors ignored: counts only (no errors expected here)
w=$(/bin/kt walk /mnt)
echo "$w"
case "$w" in *" 0 errors"*) pass walk ;; *) fail "walk: $w" ;; esac
# a name that is not there, one too long
[ ! -e /mnt/nothere ] && pass enoent || fail enoent
ls "/mnt/$(printf '%0300d' 0)" 2>/tmp/e; grep -q 'too long' /tmp/e && pass enametoolong || fail "enametoolong: $(cat /tmp/e)"

if umount /mnt; then pass umount; else fail umount; fi

# fuzzed images: a mount failure or EIO is fine; an oops is not (the
# runner reads the console)
i=0; mounted=0
while [ $i -lt "$FUZZ_N" ]; do
	losetup -r -o $((i * FUZZ_SIZE)) /dev/loop0 /dev/vdb || { fail "losetup $i"; break; }
	if mount -t chunkfs -o ro /dev/loop0 /f 2>/dev/null; then
		mounted=$((mounted + 1))
		[ $i -lt 6 ] && fail "fuzz $i: a hostile superblock was mounted"
		echo "fuzz $i: mounted; $(/bin/kt walk /f 20)"
		umount /f || fail "fuzz $i: umount"
	else
		echo "fuzz $i: mount refused"
	fi
	losetup -d /dev/loop0
	i=$((i + 1))
done
pass "fuzz ($FUZZ_N images, $mounted mounted)"

if rmmod chunkfs; then pass rmmod; else fail rmmod; fi
finish
