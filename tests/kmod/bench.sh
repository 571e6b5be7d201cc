# SPDX-License-Identifier: GPL-2.0
# The kernel module benchmark inside the VM (tests/bench/kmod-bench.sh
# boots it with kt=bench), sourced by init.sh.  /dev/vda chunkfs,
# /dev/vdb ext4, /dev/vdc ext2: identical virtio disks over files on the
# host's tmpfs.  The rows of tests/bench/fuse-bench.sh, smaller (software
# emulation): per row a warm-up round, then BENCH_RUNS rounds, the
# contenders' order rotated each round.  Each result is one console line
# "KB ROW CONTENDER RUN VALUE" (RUN 0: the warm-up).
for m in crc16 mbcache jbd2 crc32c_generic libcrc32c ext4; do
	[ -f /lib/modules/$m.ko ] && { insmod /lib/modules/$m.ko || fail "insmod $m"; }
done
C="chunkfs ext4 ext2"
dev() { case $1 in chunkfs) echo /dev/vda ;; ext4) echo /dev/vdb ;; ext2) echo /dev/vdc ;; esac; }
mnt() { mount -t $1 $(dev $1) /b/$1; }
umnt() { umount /b/$1; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
# order R: the contenders rotated R times
order() { r=$(($1 % 3)); set -- $C; case $r in 0) echo "$1 $2 $3" ;; 1) echo "$2 $3 $1" ;; 2) echo "$3 $1 $2" ;; esac; }
for c in $C; do
	mkdir -p /b/$c
	mnt $c || { fail "bench: mount $c"; return; }
	/bin/bench-ops mktree /b/$c/tree $BENCH_TREE 4096 >/dev/null || fail "bench: mktree $c"
done
drop
r=0
while [ $r -le "$BENCH_RUNS" ]; do
	for c in $(order $r); do
		rm -f /b/$c/seq; drop
		set -- $(/bin/kt seqwrite /b/$c/seq $BENCH_MIB); echo "KB seqwrite $c $r $1"
		umnt $c; drop; mnt $c
		set -- $(/bin/kt seqread /b/$c/seq); echo "KB seqread-cold $c $r $1"
		set -- $(/bin/kt seqread /b/$c/seq); echo "KB seqread-warm $c $r $1"
		drop
		set -- $(/bin/bench-ops smallfiles /b/$c/sf $BENCH_FILES 4096)
		echo "KB smallfiles $c $r $(awk -v n=$BENCH_FILES -v t=$1 'BEGIN { printf "%.1f", n / t }')"
		umnt $c; drop; mnt $c
		set -- $(/bin/bench-ops walk /b/$c/tree); echo "KB treewalk-cold $c $r $1"
		set -- $(/bin/bench-ops walk /b/$c/tree); echo "KB treewalk-warm $c $r $1"
	done
	r=$((r + 1))
done
for c in $C; do umnt $c || fail "bench: umount $c"; done
pass "bench"
