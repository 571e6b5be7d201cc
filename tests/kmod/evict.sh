# SPDX-License-Identifier: GPL-2.0
# Data written through shared mappings survives the inode leaving the
# cache (issue 18), sourced by init.sh inside the VM.  /dev/vde is a fresh
# image.  Each file is made, written through a shared mapping and closed
# without msync or fsync; then the caches are dropped (2: dentries and
# inodes; 3: and the page cache), or memory is taken by a process, or
# nothing, and the file is read back with read(2); sparse and
# preallocated files, with the file closed or still open across the drop;
# all read again after a remount.  Then a write fault on a full
# filesystem raises SIGBUS, and a random workload (kt mix) of writes,
# mapped writes, truncates, fallocate modes, O_DIRECT, copy_file_range,
# drops and memory pressure is checked against a model after every step
# and after a remount.  The host runs fsck.chunkfs -fn on the image after.
E=/e
mkdir -p $E
if mount -t chunkfs /dev/vde $E; then pass "evict: mount"; else fail "evict: mount of /dev/vde"; return; fi
: >/tmp/evict-files
seed=1; bad=0; n=0
# mmapevict SIZE HOW [prealloc]
mmapevict() {
	f=$E/m$seed
	if r=$(/bin/kt mmapevict $f $1 $seed $2 ${3:-} 2>&1); then
		n=$((n + 1))
	else
		fail "evict: mmap $*: $r"; bad=$((bad + 1))
	fi
	echo "$f $1 $seed" >>/tmp/evict-files
	seed=$((seed + 1))
}
t0=$(date +%s)
for size in 4096 100000 1048576; do
	for how in none drop2 drop3 sync-drop2 open-drop2 open-drop3; do
		mmapevict $size $how
		mmapevict $size $how prealloc
	done
done
mmapevict 16777216 drop2
mmapevict 16777216 open-drop3 prealloc
mmapevict 16777216 none
# memory pressure instead of a drop
for size in 4096 1048576 16777216; do
	mmapevict $size hog
	mmapevict $size hog prealloc
done
[ $bad = 0 ] && pass "evict: mmap-written data read back ($n files; $(( $(date +%s) - t0 )) s)" ||
	fail "evict: $bad of $((n + bad)) files lost mmap-written data"
# and after a remount
umount $E && mount -t chunkfs /dev/vde $E || fail "evict: remount"
bad=0; n=0
while read -r f size s; do
	if r=$(/bin/kt pcheck $f $size $s); then n=$((n + 1)); else bad=$((bad + 1)); echo "$r"; fi
done </tmp/evict-files
[ $bad = 0 ] && pass "evict: mmap-written data after a remount ($n files)" ||
	fail "evict: $bad of $((n + bad)) files lost mmap-written data after a remount"
rm -f $E/m*

# a write fault that finds no space: SIGBUS then, nothing lost later
dd if=/dev/zero of=$E/fill bs=1M 2>/dev/null
r=$(/bin/kt mmapfull $E/full 2048); echo "$r"
case "$r" in "mmapfull: SIGBUS at page "*) pass "evict: SIGBUS at the write fault on a full filesystem" ;;
	*) fail "evict: mmap on a full filesystem: $r" ;; esac
rm -f $E/fill $E/full

# the random workload, checked after every step and after a remount
t0=$(date +%s)
for s in 1 2; do
	r=$(/bin/kt mix $E/mix$s $s 300 /tmp/mix$s.model); echo "$r"
	# the last line says how it ended (slow steps are noted before it,
	# for the console only: no time is asserted)
	case "$(echo "$r" | tail -n 1)" in "mix: 300 steps ok"*) pass "evict: mix (seed $s)" ;; *) fail "evict: mix (seed $s): $r" ;; esac
done
echo "mix: $(( $(date +%s) - t0 )) s"
umount $E && mount -t chunkfs /dev/vde $E || fail "evict: remount after mix"
for s in 1 2; do
	cmp /tmp/mix$s.model $E/mix$s && pass "evict: mix (seed $s) after a remount" ||
		fail "evict: mix (seed $s) after a remount"
done
rm -f /tmp/mix*.model
umount $E && pass "evict: umount" || fail "evict: umount"
