#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A chunkfs block device as the system's tools see it (issue 17, point 6):
#   (a) chunkfs probe: type, UUID and label (blkid's and udev's form) of an
#       image and of a loop device; 2 for what is not chunkfs.
#   (b) the udev rule through `udevadm test` on a loop device (the rule
#       installed in /run/udev/rules.d for the test): ID_FS_TYPE=chunkfs,
#       the /dev/disk/by-uuid and by-label links; then lsblk -f and findfs
#       see it, `mount` of an fstab line LABEL=... (mount(8) and the helper
#       installed as /sbin/mount.fuse.chunkfs) mounts it, and fsck -A finds
#       the UUID=... line's device.
#   (c) mkfs.chunkfs refuses an existing ext4, XFS or chunkfs without -F,
#       asks on a terminal (no: nothing written; yes: made), and -F wipes
#       the old signature (blkid finds nothing else afterwards).
#   (d) chunkfs tune -L and -U on an image with files and continuations:
#       the check stays clean, every metadata block carries the new UUID
#       (inject --list finds as many blocks as before), the files read back;
#       a mounted image and, for -U, a chunk not clean are refused.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || fail "needs root (loop devices, udev, mount(8))"
TOOL=$CFS_BIN/chunkfs
MKFS=$CFS_BIN/mkfs.chunkfs
FSCK=$CFS_BIN/fsck.chunkfs
for p in udevadm losetup blkid lsblk findfs mkfs.ext4 mkfs.xfs; do
	command -v "$p" >/dev/null || fail "$p is missing (tests/deps.sh)"
done
LABEL=cfs-t$$
mkdir -p "$T/src/d"
i=0
while [ $i -lt 200 ]; do echo "$i" >"$T/src/d/file$i"; i=$((i + 1)); done
head -c 9000000 /dev/urandom >"$T/src/big"

# ---- (a) ----
note "(a) chunkfs probe"
"$MKFS" -q -C 4M -L "$LABEL" -d "$T/src" "$IMG" 64M || fail "mkfs"
"$TOOL" probe "$IMG" >"$T/p" || fail "(a) probe of the image"
cat "$T/p"
grep -q "^$IMG: LABEL=\"$LABEL\" UUID=\"[0-9a-f-]\\{36\\}\" BLOCK_SIZE=\"4096\" TYPE=\"chunkfs\"$" "$T/p" ||
	fail "(a) probe output"
UUID=$(sed 's/.* UUID="\([^"]*\)".*/\1/' "$T/p")
head -c 4194304 /dev/zero >"$T/zero"
"$TOOL" probe "$T/zero" >"$T/p" 2>&1
[ $? = 2 ] && [ ! -s "$T/p" ] || fail "(a) probe of zeroes: not exit 2 and silent"
LOOP=$(losetup -f --show "$IMG") || fail "losetup"
add_cleanup "losetup -d '$LOOP' 2>/dev/null"
"$TOOL" probe --udev "$LOOP" >"$T/p" || fail "(a) probe --udev of $LOOP"
cat "$T/p"
grep -qx "ID_FS_TYPE=chunkfs" "$T/p" && grep -qx "ID_FS_UUID=$UUID" "$T/p" &&
	grep -qx "ID_FS_LABEL=$LABEL" "$T/p" && grep -qx "ID_FS_LABEL_ENC=$LABEL" "$T/p" &&
	grep -qx "ID_FS_USAGE=filesystem" "$T/p" || fail "(a) probe --udev properties"

# ---- (b) ----
note "(b) the udev rule (udevadm test on $LOOP)"
# what udevadm test leaves behind (links, its database) goes afterwards:
# whole directories that were not there before, else our entries
for d in /run/udev /dev/disk /dev/block; do
	if [ -e "$d" ]; then
		add_cleanup "rm -rf /run/udev/links/*'$LABEL'* /run/udev/links/*'$UUID'*"
	else
		add_cleanup "rm -rf '$d'"
	fi
done
mkdir -p /run/udev/rules.d
RULE=/run/udev/rules.d/64-chunkfs-test-$$.rules
sed "s|@SBINDIR@|$CFS_BIN|g" "$REPO/tools/udev/64-chunkfs.rules" >"$RULE"
SYS=/sys/class/block/${LOOP#/dev/}
add_cleanup "udevadm test --action=remove '$SYS' >/dev/null 2>&1; rm -f '$RULE'"
udevadm test --action=add "$SYS" >"$T/udev" 2>&1 || { tail -20 "$T/udev"; fail "(b) udevadm test"; }
grep -E '^ID_FS_|^DEVLINKS' "$T/udev"
grep -qx "ID_FS_TYPE=chunkfs" "$T/udev" && grep -qx "ID_FS_UUID=$UUID" "$T/udev" ||
	fail "(b) udev did not import the probe's properties"
[ "$(readlink -f "/dev/disk/by-label/$LABEL")" = "$LOOP" ] ||
	fail "(b) no /dev/disk/by-label/$LABEL -> $LOOP"
[ "$(readlink -f "/dev/disk/by-uuid/$UUID")" = "$LOOP" ] ||
	fail "(b) no /dev/disk/by-uuid/$UUID -> $LOOP"
lsblk -f -n -o NAME,FSTYPE,LABEL,UUID "$LOOP" >"$T/lsblk" 2>&1
cat "$T/lsblk"
grep -q "chunkfs *$LABEL *$UUID" "$T/lsblk" || fail "(b) lsblk -f does not show chunkfs"
[ "$(findfs "LABEL=$LABEL")" = "$LOOP" ] || fail "(b) findfs LABEL=$LABEL"
[ "$(findfs "UUID=$UUID")" = "$LOOP" ] || fail "(b) findfs UUID=$UUID"
SB=/sbin/mount.fuse.chunkfs
install_sbin_helper "$REPO/fuse/mount.fuse.chunkfs" "$SB"
export CHUNKFS_FUSE="$CFS_BIN/chunkfs-fuse"
mkdir -p "$MNT"
add_cleanup "mountpoint -q '$MNT' && umount '$MNT'"
printf 'LABEL=%s %s fuse.chunkfs defaults,noauto 0 2\n' "$LABEL" "$MNT" >"$T/fstab"
mount -T "$T/fstab" "$MNT" || fail "(b) mount of the fstab line LABEL=$LABEL"
grep " $MNT " /proc/mounts
cmp "$T/src/big" "$MNT/big" || fail "(b) the file through the LABEL= mount"
umount "$MNT" || fail "(b) umount"
# the helper resolves LABEL= and UUID= by itself too (run by hand)
"$SB" "UUID=$UUID" "$MNT" || fail "(b) the helper with UUID="
[ "$(ls "$MNT/d" | wc -l)" = 200 ] || fail "(b) the UUID= mount"
umount "$MNT" || fail "(b) umount"
mkdir -p "$T/sbin"
ln -s "$FSCK" "$T/sbin/fsck.fuse.chunkfs"
printf 'UUID=%s %s fuse.chunkfs defaults,noauto 0 2\n' "$UUID" "$MNT" >"$T/fstab"
FSTAB_FILE=$T/fstab PATH="$T/sbin:$PATH" fsck -A -f -p >"$T/fsck" 2>&1 ||
	{ cat "$T/fsck"; fail "(b) fsck -A of the UUID= line"; }
cat "$T/fsck"
grep -q "Checking $LOOP" "$T/fsck" || fail "(b) fsck -A did not check $LOOP"
udevadm test --action=remove "$SYS" >/dev/null 2>&1
[ -e "/dev/disk/by-label/$LABEL" ] && fail "(b) the link stays after remove"
losetup -d "$LOOP"

# ---- (c) ----
note "(c) mkfs.chunkfs and what is on the device"
F=$T/dev
truncate -s 320M "$F"
mkfs.ext4 -q -L oldext "$F" || fail "mkfs.ext4"
"$MKFS" -q "$F" </dev/null >"$T/o" 2>&1
st=$?
cat "$T/o"
[ "$st" = 1 ] && grep -q "contains an ext4 file system labelled 'oldext'" "$T/o" &&
	grep -q "use -F" "$T/o" || fail "(c) mkfs over ext4 without -F: exit $st"
blkid -p -o value -s TYPE "$F" | grep -qx ext4 || fail "(c) the refused mkfs changed the device"
# on a terminal: the question
ask() { # ANSWER: mkfs.chunkfs on a pty, answering ANSWER; prints the status
	python3 - "$MKFS" "$F" "$1" <<'EOF'
import os, pty, sys, time
mkfs, dev, ans = sys.argv[1:4]
def read_until(fd, out, stop):
    while stop is None or stop not in out:
        try:
            d = os.read(fd, 1024)
        except OSError:
            break
        if not d:
            break
        out += d
    return out
pid, fd = pty.fork()
if pid == 0:
    os.execv(mkfs, [mkfs, "-q", dev])
out = read_until(fd, b"", b"Proceed anyway? (y,N)")
os.write(fd, ans.encode() + b"\n")
out = read_until(fd, out, None)
_, st = os.waitpid(pid, 0)
sys.stderr.write(out.decode(errors="replace"))
print(os.waitstatus_to_exitcode(st))
EOF
}
st=$(ask n)
[ "$st" = 1 ] || fail "(c) answered n: exit $st"
blkid -p -o value -s TYPE "$F" | grep -qx ext4 || fail "(c) answered n, but the device changed"
st=$(ask y)
[ "$st" = 0 ] || fail "(c) answered y: exit $st"
"$TOOL" probe "$F" >/dev/null || fail "(c) answered y: no chunkfs made"
blkid -p "$F" >/dev/null 2>&1 && fail "(c) an old signature is left: $(blkid -p "$F")"
"$MKFS" -q "$F" </dev/null >"$T/o" 2>&1 && fail "(c) mkfs over chunkfs without -F went ahead"
grep -q "contains a chunkfs filesystem" "$T/o" || { cat "$T/o"; fail "(c) mkfs over chunkfs: message"; }
mkfs.xfs -q -f -L oldxfs "$F" || fail "mkfs.xfs"
"$MKFS" -q "$F" </dev/null >"$T/o" 2>&1 && fail "(c) mkfs over XFS without -F went ahead"
grep -q "contains a xfs file system labelled 'oldxfs'" "$T/o" || { cat "$T/o"; fail "(c) XFS message"; }
"$MKFS" -q -F "$F" </dev/null >"$T/o" 2>&1 || { cat "$T/o"; fail "(c) mkfs -F over XFS"; }
blkid -p "$F" >/dev/null 2>&1 && fail "(c) -F left the XFS signature: $(blkid -p "$F")"
"$TOOL" probe "$F" >/dev/null || fail "(c) -F: no chunkfs made"

# ---- (d) ----
note "(d) chunkfs tune"
lists() { # the metadata blocks the injector finds, per chunk
	k=0
	while [ $k -lt 16 ]; do
		"$TOOL" inject "$IMG" --chunk $k --list --json | python3 -c '
import json, sys; print(len(json.load(sys.stdin)["blocks"]))'
		k=$((k + 1))
	done
}
lists >"$T/before" || fail "(d) inject --list"
"$TOOL" tune -L relabelled "$IMG" || fail "(d) tune -L"
"$TOOL" probe "$IMG" | grep -q 'LABEL="relabelled" UUID="'"$UUID"'"' || fail "(d) the new label"
"$TOOL" tune -U 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d "$IMG" || fail "(d) tune -U"
"$TOOL" probe "$IMG" | grep -q 'LABEL="relabelled" UUID="0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"' ||
	fail "(d) the new UUID"
"$FSCK" -fn "$IMG" >"$T/o" 2>&1 || { cat "$T/o"; fail "(d) the check after tune -U"; }
lists >"$T/after"
cmp -s "$T/before" "$T/after" || fail "(d) metadata blocks not found with the new UUID: $(paste "$T/before" "$T/after" | tr '\n' ' ')"
mount_fs "$IMG" "$MNT"
cmp "$T/src/big" "$MNT/big" || fail "(d) the big file after tune -U"
[ "$(ls "$MNT/d" | wc -l)" = 200 ] || fail "(d) the directory after tune -U"
"$TOOL" tune -L x "$IMG" >"$T/o" 2>&1 && fail "(d) tune of a mounted image went ahead"
echo new >"$MNT/d/newfile"
umount_fs "$MNT"
"$FSCK" -fn "$IMG" >"$T/o" 2>&1 || { cat "$T/o"; fail "(d) the check after writing"; }
"$TOOL" inject "$IMG" --chunk 2 --what inode --seed 1 >/dev/null || fail "inject"
python3 - "$IMG" <<'EOF'
# mark chunk 2 suspect in both header copies (as the library does)
import struct, sys, zlib
f = open(sys.argv[1], "r+b")
bs = 4096; cb = 1024
for blk in (2 + 2 * cb, 2 + 3 * cb - 1):
    f.seek(blk * bs); b = bytearray(f.read(bs))
    struct.pack_into("<I", b, 332, 3)
    struct.pack_into("<I", b, 0, zlib.crc32(bytes(b[4:])) & 0xffffffff)
    f.seek(blk * bs); f.write(b)
EOF
"$TOOL" tune -U random "$IMG" >"$T/o" 2>&1 && fail "(d) tune -U with a chunk not clean went ahead"
grep -q "chunk 2 is not clean" "$T/o" || { cat "$T/o"; fail "(d) tune -U refusal message"; }
echo "PASS: t_blkid"
