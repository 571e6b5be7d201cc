# SPDX-License-Identifier: GPL-2.0
# Damage found and repaired online, sourced by init.sh inside the VM.
# /dev/vdd: the test tree made by mkfs.chunkfs -d, with bits of an inode
# table block of chunk DMG_CHUNK (/many's chunk) flipped on the host by
# `chunkfs inject` (both copies).  Reading the tree meets the damage: EIO
# for those objects, the chunk marked suspect, a FAN_FS_ERROR and the
# kernel log; the rest of the filesystem stays writable; the scrub ioctl
# repairs the chunk while mounted.  Then the errors= policies, and (format
# v2) one copy damaged: healed, no error.
D=/d
mkdir -p $D
if mount -t chunkfs /dev/vdd $D; then pass "damaged image mounted"; else fail "mount of the damaged image"; return; fi
/bin/kt fanwait $D 30 >/tmp/fan 2>&1 &
fpid=$!
i=0
until grep -q armed /tmp/fan || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
w=$(/bin/kt walk $D); echo "damaged: $w"
case "$w" in *" 0 errors"*) fail "damage: the walk met no error" ;; *) pass "damage: errors reading chunk $DMG_CHUNK" ;; esac
wait $fpid
cat /tmp/fan
grep -q '^fs-error error=-5 ' /tmp/fan && pass "FAN_FS_ERROR (EIO)" || fail "FAN_FS_ERROR: $(cat /tmp/fan)"
dmesg | grep -q "chunkfs: chunk $DMG_CHUNK marked suspect" && pass "kernel log: chunk $DMG_CHUNK suspect" || fail "kernel log: no suspect chunk $DMG_CHUNK"
/bin/kt ioctl health $D | grep -q "^chunk $DMG_CHUNK state 3 " && pass "health: chunk $DMG_CHUNK suspect" ||
	fail "health: $(/bin/kt ioctl health $D | grep "^chunk $DMG_CHUNK ")"
/bin/kt ioctl events $D | grep -q "code 3 chunk $DMG_CHUNK:" && pass "events: suspect" || fail "events: no suspect event"
echo still >$D/a/written-while-suspect && [ "$(cat $D/a/written-while-suspect)" = still ] &&
	[ $(( $(stat -c %i $D/a/written-while-suspect) >> 32 )) != "$DMG_CHUNK" ] && sync &&
	pass "the rest stays writable" || fail "writing outside the suspect chunk"
r=$(/bin/kt ioctl scrub-repair $D $DMG_CHUNK); echo "$r"
set -- $r
[ "$4" = found ] && [ "$5" -gt 0 ] && [ "$7" = "$5" ] && [ "$9" = 1 ] &&
	pass "scrub repaired chunk $DMG_CHUNK online ($5 problems)" || fail "scrub repair: $r"
r=$(/bin/kt ioctl scrub $D $DMG_CHUNK); echo "$r"
case "$r" in "scrub: chunk $DMG_CHUNK found 0 fixed 0 state 1 "*) pass "scrub again: clean" ;; *) fail "scrub again: $r" ;; esac
w=$(/bin/kt walk $D); echo "repaired: $w"
case "$w" in *" 0 errors"*) pass "walk after the repair" ;; *) fail "walk after the repair: $w" ;; esac
echo again >$D/many/written-after-repair && [ "$(cat $D/many/written-after-repair)" = again ] &&
	pass "the repaired chunk is writable" || fail "writing into the repaired chunk"
umount $D && pass "umount of the repaired image" || fail "umount of the repaired image"

# the errors= policies, on fresh damage: bytes overwritten in inode table
# blocks of chunk DMG_CHUNK (/many's entries), table blocks 1-2 (inodes
# 15-44), then 4-5 (inodes 60-89), since a repair frees what it cannot
# read; every copy of each (format v2 keeps two: damage to one would be
# healed), as run.sh computed them from the chunk header
# damage_itable BLOCK...: overwrite them (the bdev page cache is the
# mount's too)
damage_itable() {
	for b in "$@"; do
		printf 'chunkfs-test-damage' | dd of=/dev/vdd bs=1 seek=$((b * 4096 + 100)) conv=notrunc 2>/dev/null
	done
	sync
}
# errors=repair: the chunk turns suspect on the first read and is
# scrubbed with repair at once (a chunk already suspect when mounted is
# left to a scrub, as in the FUSE mount)
damage_itable $DMG_ITABLE
mount -t chunkfs -o errors=repair /dev/vdd $D || fail "mount errors=repair"
/bin/kt walk $D >/dev/null
i=0
until /bin/kt ioctl events $D | grep -q "code 4 chunk $DMG_CHUNK:" || [ $i -gt 100 ]; do sleep 0.2; i=$((i + 1)); done
/bin/kt ioctl events $D | grep -q "code 4 chunk $DMG_CHUNK:" && /bin/kt ioctl health $D | grep -q "^chunk $DMG_CHUNK state 1 " &&
	pass "errors=repair: chunk $DMG_CHUNK repaired by itself" || fail "errors=repair: $(/bin/kt ioctl events $D | tail -n 3)"
w=$(/bin/kt walk $D)
case "$w" in *" 0 errors"*) pass "errors=repair: the tree reads without error" ;; *) fail "errors=repair: walk: $w" ;; esac
umount $D || fail "umount (errors=repair)"
# errors=remount-ro: the filesystem read-only after the error
damage_itable $DMG_ITABLE2
mount -t chunkfs -o errors=remount-ro /dev/vdd $D || fail "mount errors=remount-ro"
/bin/kt walk $D >/dev/null
i=0; until grep -q " $D chunkfs ro" /proc/mounts || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -q " $D chunkfs ro" /proc/mounts && ! touch $D/a/nope 2>/dev/null &&
	pass "errors=remount-ro: read-only after the error" || fail "errors=remount-ro: $(grep " $D " /proc/mounts)"
umount $D || fail "umount (errors=remount-ro)"
mount -t chunkfs /dev/vdd $D && r=$(/bin/kt ioctl scrub-repair $D $DMG_CHUNK) && umount $D &&
	pass "scrub repaired it afterwards: $r" || fail "scrub after errors=remount-ro: $r"
# format v2: the first copies of two inode table blocks damaged (DMG_HEAL;
# empty without second copies): the reads use the second copies and heal
# the first (a corrected event, code 13), no error, the chunk stays clean;
# run.sh's fsck of the image afterwards finds no bad copy left
if [ -n "$DMG_HEAL" ]; then
	damage_itable $DMG_HEAL
	mount -t chunkfs /dev/vdd $D || fail "mount (one copy damaged)"
	w=$(/bin/kt walk $D); echo "one copy damaged: $w"
	case "$w" in *" 0 errors"*) pass "heal: the tree reads without error" ;; *) fail "heal: walk: $w" ;; esac
	/bin/kt ioctl events $D | grep -q "code 13 chunk $DMG_CHUNK: chunk $DMG_CHUNK block .*healed from its copy" &&
		pass "heal: corrected event" || fail "heal: no corrected event: $(/bin/kt ioctl events $D | tail -n 3)"
	/bin/kt ioctl health $D | grep -q "^chunk $DMG_CHUNK state 1 " && pass "heal: chunk $DMG_CHUNK stays clean" ||
		fail "heal: $(/bin/kt ioctl health $D | grep "^chunk $DMG_CHUNK ")"
	umount $D || fail "umount (heal)"
fi
