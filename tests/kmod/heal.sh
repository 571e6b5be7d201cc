# SPDX-License-Identifier: GPL-2.0
# Heal on the first read, sourced by init.sh inside the VM (issue 12).
# /dev/vdh: the test tree (mkfs.chunkfs -d, format v2 with second copies)
# with the first copy of four metadata blocks of chunk DMG_CHUNK damaged
# on the host by chunkfs inject (run.sh): bits flipped in an inode table
# block, another inode table block stale (an older valid version), a
# directory tree node zeroed, an xattr tree root misdirected.  Reading the
# tree must give every file, name and xattr back unchanged, heal each bad
# copy from its good one (a kernel log line and a corrected event, code
# 13, for each), and not make the chunk suspect; run.sh's fsck of the image
# afterwards finds no bad copy left (the heals were written).
H=/h
mkdir -p $H
n0=$(dmesg | grep -c "chunkfs.*healed from its copy")
if mount -t chunkfs /dev/vdh $H; then pass "heal: mounted"; else fail "heal: mount of /dev/vdh"; return; fi
check_manifest $H heal
w=$(/bin/kt walk $H); echo "heal: $w"
case "$w" in *" 0 errors"*) pass "heal: the tree reads without error" ;; *) fail "heal: walk: $w" ;; esac
n1=$(dmesg | grep -c "chunkfs.*healed from its copy")
dmesg | grep "chunkfs.*healed from its copy" | tail -n $((n1 - n0))
[ $((n1 - n0)) -ge 4 ] && pass "heal: kernel log: $((n1 - n0)) blocks healed from their copies" ||
	fail "heal: kernel log: $((n1 - n0)) blocks healed, want 4"
ne=$(/bin/kt ioctl events $H | grep -c "code 13 chunk $DMG_CHUNK: .*healed from its copy")
[ "$ne" -ge 4 ] && pass "heal: $ne corrected events" || fail "heal: $ne corrected events: $(/bin/kt ioctl events $H | tail -n 5)"
# not suspect: clean, or dirty until the heals are committed
/bin/kt ioctl health $H | grep -q "^chunk $DMG_CHUNK state [12] " && pass "heal: chunk $DMG_CHUNK not suspect" ||
	fail "heal: $(/bin/kt ioctl health $H | grep "^chunk $DMG_CHUNK ")"
umount $H && pass "heal: umount" || fail "heal: umount"
