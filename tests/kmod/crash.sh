# SPDX-License-Identifier: GPL-2.0
# The power-off test, sourced by init.sh inside the VM (tests/kmod/run.sh
# boots twice with /dev/vda a fresh image).
#  crash1: a workload that never ends: files written and fsynced (each
#          reported as "KTSYNC name md5" once fsync returned), others
#          written, renamed, truncated and removed without fsync.  After
#          "KT CRASHPOINT" the host kills qemu at a moment of its choice:
#          the power goes off in the middle of operations.
#  crash2: mount (the journals are replayed), every file reported synced
#          (/synced, from the first boot's console) has its data, the tree
#          reads without error, new files can be written, unmount.
C=/c
mkdir -p $C
if [ $MODE = crash1 ]; then
	mount -t chunkfs /dev/vda $C || { fail "crash1: mount"; return; }
	mkdir -p $C/s $C/u || fail "crash1: mkdir"
	i=0
	while :; do
		n=$(( (i * 7919) % 300 + 1 ))
		dd if=/dev/urandom of=$C/s/f$i bs=4096 count=$n conv=fsync 2>/dev/null &&
			echo "KTSYNC f$i $(md5sum <$C/s/f$i | cut -c1-32)"
		# unsynced: new files, appends, renames, truncates, removals
		dd if=/dev/urandom of=$C/u/g$i bs=1000 count=$n 2>/dev/null
		[ $i -gt 2 ] && mv $C/u/g$((i - 2)) $C/u/h$i
		[ $i -gt 4 ] && truncate -s 777 $C/u/h$((i - 2)) 2>/dev/null
		[ $i -gt 6 ] && rm -f $C/u/h$((i - 4))
		mkdir -p $C/u/d$((i % 5))/e$i
		[ $i = 15 ] && echo "KT CRASHPOINT"
		i=$((i + 1))
	done
fi
# crash2
dmesg -c >/dev/null
mount -t chunkfs /dev/vda $C && pass "crash2: mount after the power-off" || { fail "crash2: mount after the power-off"; return; }
dmesg | grep chunkfs || echo "crash2: the mount replayed no journal"
n=0; bad=0
while read -r f sum; do
	got=$(md5sum <$C/s/$f | cut -c1-32)
	if [ "$got" = "$sum" ]; then n=$((n + 1)); else bad=$((bad + 1)); fail "crash2: synced file $f: md5 $got, want $sum"; fi
done </synced
[ $n -ge 15 ] && [ $bad = 0 ] && pass "crash2: $n fsynced files intact" || fail "crash2: $n fsynced files intact, $bad not"
w=$(/bin/kt walk $C); echo "$w"
case "$w" in *" 0 errors"*) pass "crash2: the tree reads without error" ;; *) fail "crash2: walk: $w" ;; esac
dd if=/dev/urandom of=$C/after bs=65536 count=8 conv=fsync 2>/dev/null && rm -r $C/u && pass "crash2: writable" || fail "crash2: writable"
umount $C && pass "crash2: umount" || fail "crash2: umount"
rmmod chunkfs && pass "crash2: rmmod" || fail "crash2: rmmod"
