#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the kernel module test VM (tests/kmod/run.sh builds the
# initramfs).  /dev/vda: the test image (mounted read-only: it must not
# change); /dev/vdb: FUZZ_N fuzzed images back to back, FUZZ_SIZE bytes
# each; /dev/vdc: an image written through chunkfs-fuse on the host, which
# rw.sh mounts read-write, checks and changes; /dev/vdd: an image with a
# damaged chunk, which damage.sh reads and repairs online; /dev/vde: a
# fresh image for evict.sh (mmap-written data and inode eviction);
# /dev/vdf: an image with ACLs chunkfs-fuse wrote, for perm.sh (ACLs,
# set-id bits, device nodes).
# /dev/vdg: a fresh image for posix.sh (file handles, remount, access
# times, direct I/O coherency); /dev/vdh: the tree with one copy of four
# metadata blocks damaged on the host, for heal.sh (heal on read).
# Results go to the console as
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
# kt=crash1 / kt=crash2 on the kernel command line: the power-off test's
# two boots (crash.sh), with one disk; kt=bench: the benchmark of
# tests/bench/kmod-bench.sh (bench.sh), with three; kt=posix: posix.sh
# alone, on /dev/vda (to try it on its own)
MODE=main
PX_DEV=/dev/vdg
case " $(cat /proc/cmdline) " in
*" kt=crash1 "*) MODE=crash1; DISKS=vda ;;
*" kt=crash2 "*) MODE=crash2; DISKS=vda ;;
*" kt=bench "*) MODE=bench; DISKS="vda vdb vdc" ;;
*" kt=posix "*) MODE=posix; DISKS=vda; PX_DEV=/dev/vda ;;
*) DISKS="vda vdb vdc vdd vde vdf vdg vdh" ;;
esac
i=0
while [ ! -b /dev/${DISKS##* } ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
for d in $DISKS; do [ -b /dev/$d ] || { fail "disks: no /dev/$d"; finish; }; done

if insmod /chunkfs.ko; then pass insmod; else fail "insmod chunkfs.ko"; finish; fi
grep -q chunkfs /proc/filesystems && pass "registered" || fail "registered: not in /proc/filesystems"
case $MODE in
crash*) . /crash.sh; finish ;;
bench) . /bench.sh; finish ;;
posix) . /posix.sh; finish ;;
esac

mkdir -p /mnt /f
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

# check_manifest ROOT TAG: every file, dir, link, node and xattr of
# /manifest under ROOT
check_manifest() {
	nf=0; nd=0; nl=0; nh=0; nn=0; nx=0
	while read -r k p a b c; do
		case $k in
		f)	s=$(md5sum "$1/$p" | cut -d' ' -f1)
			sz=$(stat -c %s "$1/$p")
			if [ "$s" = "$a" ] && [ "$sz" = "$b" ]; then nf=$((nf + 1)); else
				fail "$2 file $p: md5 $s size $sz, want $a $b"; fi ;;
		d)	if [ -d "$1/$p" ] && [ ! -L "$1/$p" ]; then nd=$((nd + 1)); else fail "$2 dir $p"; fi ;;
		l)	t=$(readlink "$1/$p")
			if [ -L "$1/$p" ] && [ "$t" = "$a" ]; then nl=$((nl + 1)); else fail "$2 symlink $p -> '$t', want '$a'"; fi ;;
		h)	i1=$(stat -c %i "$1/$p"); i2=$(stat -c %i "$1/$a"); l1=$(stat -c %h "$1/$p")
			if [ "$i1" = "$i2" ] && [ "$l1" -ge 2 ]; then nh=$((nh + 1)); else fail "$2 hard link $p: ino $i1 vs $i2, nlink $l1"; fi ;;
		c|b)	t=$(stat -c %F "$1/$p"); mm=$(stat -c '%t %T' "$1/$p")
			want=$(printf '%x %x' "$a" "$b")
			case "$k$t" in
			c*character*|b*block*) [ "$mm" = "$want" ] && nn=$((nn + 1)) || fail "$2 device $p: $mm, want $want" ;;
			*) fail "$2 device $p: type $t" ;;
			esac ;;
		p)	[ -p "$1/$p" ] && nn=$((nn + 1)) || fail "$2 fifo $p" ;;
		x)	v=$(/bin/kt xget "$1/$p" "$a")
			if [ "$v" = "$b" ]; then nx=$((nx + 1)); else fail "$2 xattr $p $a: '$v'"; fi
			/bin/kt xlist "$1/$p" | grep -qx "$a" || fail "$2 xattr list $p: no $a" ;;
		esac
	done </manifest
	pass "$2 files ($nf read, md5 and size)"
	pass "$2 dirs ($nd)"
	pass "$2 symlinks ($nl)"
	pass "$2 hardlinks ($nh)"
	pass "$2 special ($nn)"
	pass "$2 xattrs ($nx)"
}
check_manifest /mnt ro

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

. /rw.sh
. /damage.sh
. /evict.sh
. /perm.sh
. /posix.sh
. /heal.sh
# every read-write unmount so far logged its journal's activity: none of
# them wrote a transaction in place (too big for its journal; issue 16)
nj=$(dmesg | grep -c 'chunkfs (.*): journal: [0-9]* commits, [0-9]* splits, [0-9]* in place$')
dmesg | grep 'chunkfs (.*): journal: [0-9]* commits' | grep -v ', 0 in place$' >/tmp/jbad
[ "$nj" -ge 3 ] && [ ! -s /tmp/jbad ] && pass "journal: $nj read-write unmounts, none wrote in place" ||
	fail "journal: $nj unmount lines; in place: $(head -n 3 /tmp/jbad)"

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

# more fuzzed images, made here from /fzbase.img (kt fuzz, as fuzz.py):
# even seeds mounted read-write (journal replay, orphans, a file written
# and removed), odd ones read-only; the walk reads 8 pieces of each file
i=0; mounted=0; t0=$(date +%s)
while [ $i -lt "$VFUZZ_N" ]; do
	/bin/kt fuzz /fzbase.img /tmp/fz.img $((1000 + i)) || { fail "kt fuzz $i"; break; }
	if [ $((i % 2)) = 0 ]; then ro=; losetup /dev/loop1 /tmp/fz.img; else ro=-r; losetup -r /dev/loop1 /tmp/fz.img; fi ||
		{ fail "losetup $i"; break; }
	if mount -t chunkfs ${ro:+-o ro} /dev/loop1 /f 2>/dev/null; then
		mounted=$((mounted + 1))
		w=$(/bin/kt walk /f 3 quick)
		[ -z "$ro" ] && { echo x >/f/fuzz-new; rm -f /f/fuzz-new /f/sym; } 2>/dev/null
		umount /f || fail "vfuzz $i: umount"
		[ $((i % 25)) = 0 ] && echo "vfuzz $i: mounted${ro:+ read-only}; $w"
	fi
	losetup -d /dev/loop1
	i=$((i + 1))
done
rm -f /tmp/fz.img
pass "vfuzz ($VFUZZ_N images, $mounted mounted, $(( $(date +%s) - t0 )) s)"

if rmmod chunkfs; then pass rmmod; else fail rmmod; fi
finish
