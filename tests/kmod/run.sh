#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Kernel module test: build kmod/chunkfs.ko, make a chunkfs image on the
# host (mkfs.chunkfs -d from a generated tree), fuzzed copies of it, and a
# second image written through chunkfs-fuse (the same tree copied in);
# boot the Debian kernel in qemu (software emulation) with a busybox
# initramfs whose /init (tests/kmod/init.sh, rw.sh) mounts the first image
# read-only and checks it, mounts the fuzzed ones, and mounts the second
# read-write, checks it and changes it with every operation; then parse
# the console, check both images on the host with fsck.chunkfs -fn, and
# read the second through chunkfs-fuse: the tree the VM listed (and the
# files of two chunks the module listed through CHUNKFS_IOC_CHUNK_FILES
# and CHUNKFS_IOC_PATH are those `chunkfs paths` finds in it); a fresh
# image on which evict.sh checks data written through mappings across
# inode eviction, drop_caches, memory pressure and remounts (issue 18) is
# checked with fsck.chunkfs -fn too, and so is the one posix.sh used
# (file handles, remount, access times, direct I/O: issue 15); an image
# with ACLs chunkfs-fuse set, on which perm.sh checks ACLs, set-id bits
# and device nodes (issue 15), is read back through chunkfs-fuse (the
# ACLs the module set); an image with one copy of four metadata blocks
# damaged on the host, which heal.sh reads (healed on the first read:
# issue 12), must have no bad copy left.  Then the
# power-off test (crash.sh): a VM runs a workload on a fresh image and is
# killed (qemu SIGKILL) a moment after it says so; a second boot remounts
# (journal replay) and checks every file that was fsynced; fsck -fn on the
# host.  Exits non-zero on any failure.
#
# Environment: CFS_BIN (programs; default build/san/bin), KVER (kernel;
# default the one kmod/Makefile picks), FUZZ_N (fuzzed images made on the
# host, 24), FUZZ_SEED (1), VFUZZ_N (more made inside the VM by kt fuzz,
# 300), KMOD_TIMEOUT (seconds for a VM, 600), KEEP=1 keeps the work
# directory.
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
CFS_BIN=${CFS_BIN:-$ROOT/build/san/bin}
FUZZ_N=${FUZZ_N:-24}
FUZZ_SEED=${FUZZ_SEED:-1}
VFUZZ_N=${VFUZZ_N:-300}
KMOD_TIMEOUT=${KMOD_TIMEOUT:-600}
W=$(mktemp -d /tmp/cfs-kmod.XXXXXX) || exit 2
FPID=
cleanup() {
	if [ -n "$FPID" ]; then fusermount3 -u "$W/fmnt" 2>/dev/null; wait "$FPID"; fi
	[ "${KEEP:-0}" = 1 ] && echo "work directory: $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
fail() { echo "FAIL: $*"; exit 1; }
# fuse_mount IMG [OPTS]: chunkfs-fuse in the foreground on $W/fmnt
fuse_mount() {
	mkdir -p "$W/fmnt"
	"$CFS_BIN/chunkfs-fuse" -f ${2:+-o "$2"} "$1" "$W/fmnt" >>"$W/fuse.log" 2>&1 &
	FPID=$!
	n=0
	until mountpoint -q "$W/fmnt"; do
		kill -0 "$FPID" 2>/dev/null || { cat "$W/fuse.log"; FPID=; fail "chunkfs-fuse $1 died"; }
		n=$((n + 1)); [ $n -gt 100 ] && fail "chunkfs-fuse $1: no mount"
		sleep 0.1
	done
}
# fuse_umount: unmount and wait for the daemon, which must exit with 0
fuse_umount() {
	n=0
	until fusermount3 -u "$W/fmnt"; do
		n=$((n + 1)); [ $n -gt 50 ] && fail "fusermount3 -u keeps failing"
		sleep 0.2
	done
	wait "$FPID"; st=$?; FPID=
	[ $st = 0 ] || { cat "$W/fuse.log"; fail "chunkfs-fuse exited with $st"; }
}
step() { echo "== $*"; }

step "kernel and tools"
. tests/kmod/lib.sh
kmod_setup
for t in fusermount3 mountpoint; do
	command -v $t >/dev/null || fail "$t missing (sh tests/deps.sh)"
done
for p in mkfs.chunkfs fsck.chunkfs chunkfs chunkfs-fuse; do
	[ -x "$CFS_BIN/$p" ] || fail "$CFS_BIN/$p missing (make san)"
done

step "build the module"
kmod_build

step "the image"
python3 tests/kmod/mktree.py "$W/tree" "$W/manifest" "$W/paths" || fail "mktree"
IMG=$W/good.img
"$CFS_BIN/mkfs.chunkfs" -q -C 4M -d "$W/tree" "$IMG" 32M || fail "mkfs.chunkfs -d"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$W/fsck0.log" 2>&1 || { cat "$W/fsck0.log"; fail "fsck of the new image"; }
"$CFS_BIN/chunkfs" stat "$IMG" >"$W/stat.log" 2>&1 || { cat "$W/stat.log"; fail "chunkfs stat"; }
grep -i 'contin' "$W/stat.log" | head -n 3
SUM0=$(md5sum <"$IMG")
FUZZ_SIZE=$(stat -c %s "$IMG")
python3 tests/kmod/fuzz.py "$IMG" "$W/fuzz.img" "$FUZZ_N" "$FUZZ_SEED" || fail "fuzz.py"

step "an image written through chunkfs-fuse"
RW=$W/rw.img
"$CFS_BIN/mkfs.chunkfs" -q -C 4M "$RW" 64M || fail "mkfs.chunkfs (rw image)"
fuse_mount "$RW"
cp -a "$W/tree/." "$W/fmnt/" || fail "cp -a into the FUSE mount"
fuse_umount
"$CFS_BIN/fsck.chunkfs" -fn "$RW" >"$W/fsck-rw0.log" 2>&1 || { cat "$W/fsck-rw0.log"; fail "fsck of the FUSE-written image"; }

step "the base of the fuzzed images made in the VM"
# small (3 chunks): a copy a round; a file continues into another chunk,
# a directory of 100 entries, symlinks, xattrs
mkdir -p "$W/ftree/d/e" "$W/ftree/many"
head -c 5000000 /dev/urandom >"$W/ftree/cont.bin"
head -c 70000 /dev/urandom >"$W/ftree/d/e/mid.bin"
for i in $(seq 100); do echo "$i" >"$W/ftree/many/f$i"; done
ln -s d/e/mid.bin "$W/ftree/sym"
setfattr -n user.x -v y "$W/ftree/d" 2>/dev/null || python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.x", b"y")' "$W/ftree/d"
"$CFS_BIN/mkfs.chunkfs" -q -C 4M -d "$W/ftree" "$W/fzbase.img" 12M || fail "mkfs.chunkfs -d (fuzz base)"

step "an image with a damaged chunk"
DMG=$W/dmg.img
cp "$IMG" "$DMG"
# DMG_CHUNK: /many's chunk, where placement put it (chunkfs stat); the
# inode table blocks damaged below (1-5, 7-8: inodes 15-134) must hold
# /many's entries there
(cd "$W/tree" && ls many | sed 's|^|/many/|') | xargs "$CFS_BIN/chunkfs" stat --json "$DMG" /many >"$W/many.json" ||
	fail "chunkfs stat /many"
DMG_CHUNK=$(python3 - "$W/many.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))["paths"]
k = p[0]["chunk"]
mine = {e["local"] for e in p[1:] if e["chunk"] == k}
missing = [l for l in range(15, 135) if l not in mine]
if missing:
    sys.exit("/many's entries in chunk %d miss inodes %s" % (k, missing[:8]))
print(k)
EOF
) || fail "test layout: /many's entries"
echo "/many in chunk $DMG_CHUNK"
# itable N...: the inode table blocks N... (by their index in the table)
# of DMG_CHUNK: "LOCAL ABSOLUTE [ABSOLUTE2]" per line, the second copy's
# absolute block with DUP, from the chunk header's fields (FORMAT.md 7 and
# 16.4: itable_start at byte 300, mirror_start at 400; the copy of local L
# is mirror_start + L - 1)
itable() {
	python3 - "$DMG" "$DMG_CHUNK" "$@" <<'EOF'
import struct, sys
img, k, idx = sys.argv[1], int(sys.argv[2]), [int(a) for a in sys.argv[3:]]
with open(img, "rb") as f:
    sb = f.read(512)
    bs, = struct.unpack_from("<I", sb, 64 + 4)     # geom.block_size
    cb, = struct.unpack_from("<I", sb, 64 + 16)    # geom.chunk_blocks
    start = 2 + k * cb
    f.seek(start * bs)
    h = f.read(512)
itable_start, itable_blocks = struct.unpack_from("<II", h, 300)
mirror_start, = struct.unpack_from("<I", h, 400)
for i in idx:
    assert i < itable_blocks, (i, itable_blocks)
    l = itable_start + i
    print(l, start + l, *([start + mirror_start + l - 1] if mirror_start else []))
EOF
}
# bits flipped in the inode table block of /many's first entries (table
# block 3, inodes 45-59), both copies: a checksum error for the reads to
# find
set -- $(itable 3) || fail "the chunk header of chunk $DMG_CHUNK"
ITB=$1
"$CFS_BIN/chunkfs" inject "$DMG" --chunk $DMG_CHUNK --list | grep -q "(local $ITB): inode table block 3 of" ||
	{ "$CFS_BIN/chunkfs" inject "$DMG" --chunk $DMG_CHUNK --list | head; fail "local block $ITB of chunk $DMG_CHUNK is no inode table block 3"; }
"$CFS_BIN/chunkfs" inject "$DMG" --chunk $DMG_CHUNK --what flip-bits --block "$ITB" --seed 7 >"$W/inj.out" || fail "chunkfs inject"
cat "$W/inj.out"
# (with second copies, both are damaged: the read cannot heal it)
[ "$(wc -l <"$W/inj.out")" = $(($# - 1)) ] || fail "inject changed $(wc -l <"$W/inj.out") blocks, not the $(($# - 1)) copies"
# the blocks damage.sh overwrites itself for the errors= policies: table
# blocks 1-2 (inodes 15-44), then 4-5 (inodes 60-89), every copy
DMG_ITABLE=$(itable 1 2 | cut -d' ' -f2- | tr '\n' ' ')
DMG_ITABLE2=$(itable 4 5 | cut -d' ' -f2- | tr '\n' ' ')
[ "$(echo $DMG_ITABLE $DMG_ITABLE2 | wc -w)" = $((4 * ($# - 1))) ] ||
	fail "inode table blocks 1, 2, 4, 5 of chunk $DMG_CHUNK: $DMG_ITABLE / $DMG_ITABLE2"
# and, to be healed (format v2), the first copies only of table blocks 7-8
# (inodes 105-134)
DMG_HEAL=$(itable 7 8 | awk 'NF == 3 { printf "%s ", $2 }')
[ "$(echo $DMG_HEAL | wc -w)" = $((2 * ($# - 2))) ] || fail "first copies of inode table blocks 7, 8: $DMG_HEAL"

step "an image with one copy of metadata blocks damaged on the host, for heal.sh"
# the good image with the first copy of four metadata blocks of /many's
# chunk damaged by chunkfs inject, each a different way: bits flipped in
# an inode table block, another made stale (an older valid version), a
# directory tree node zeroed, an xattr tree root overwritten by another
# valid block (misdirected); their second copies are good, so the module's
# first reads must heal them (issue 12)
HEAL=$W/heal.img
cp "$IMG" "$HEAL"
"$CFS_BIN/chunkfs" inject "$HEAL" --chunk $DMG_CHUNK --list >"$W/heal-list.txt" || fail "chunkfs inject --list (heal image)"
hl() { # the first local block of the line matching $1
	grep "$1" "$W/heal-list.txt" | grep -v 'second copy' | head -n 1 | sed 's/.*(local \([0-9]*\)).*/\1/'
}
HB_IT7=$(hl ': inode table block 7 of') HB_IT8=$(hl ': inode table block 8 of')
HB_DIR=$(hl ': directory tree node of inode') HB_XA=$(hl ': xattr tree root of inode')
[ -n "$HB_IT7" ] && [ -n "$HB_IT8" ] && [ -n "$HB_DIR" ] && [ -n "$HB_XA" ] ||
	{ head -n 60 "$W/heal-list.txt"; fail "heal image: blocks to damage ($HB_IT7 $HB_IT8 $HB_DIR $HB_XA)"; }
for d in "flip-bits $HB_IT7" "stale $HB_IT8" "zero-block $HB_DIR" "misdirected $HB_XA"; do
	set -- $d
	"$CFS_BIN/chunkfs" inject "$HEAL" --chunk $DMG_CHUNK --what $1 --block $2 --copy first --seed 3 >"$W/heal-inj.out" ||
		{ cat "$W/heal-inj.out"; fail "chunkfs inject $1 --block $2 --copy first"; }
	[ "$(wc -l <"$W/heal-inj.out")" = 1 ] || { cat "$W/heal-inj.out"; fail "inject $1 changed more than one copy"; }
	sed "s/^/  $1: /" "$W/heal-inj.out"
done
# fsck -n sees the four bad copies (and changes nothing)
"$CFS_BIN/fsck.chunkfs" -fn --json "$HEAL" >"$W/fsck-heal0.json" 2>"$W/fsck-heal0.err"
HEAL_N=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["corrected"])' "$W/fsck-heal0.json") ||
	fail "fsck -fn --json of the heal image: $(cat "$W/fsck-heal0.err")"
[ "$HEAL_N" -ge 4 ] || fail "fsck -fn sees $HEAL_N bad copies in the heal image, not 4"
echo "fsck -fn: $HEAL_N bad copies to heal"

step "a fresh image for evict.sh"
EV=$W/evict.img
"$CFS_BIN/mkfs.chunkfs" -q -C 4M "$EV" 160M || fail "mkfs.chunkfs (evict image)"

step "an image with ACLs set through chunkfs-fuse, for perm.sh"
PERM=$W/perm.img
"$CFS_BIN/mkfs.chunkfs" -q -C 4M "$PERM" 64M || fail "mkfs.chunkfs (perm image)"
command -v setfacl >/dev/null || fail "setfacl missing (sh tests/deps.sh)"
fuse_mount "$PERM"
chmod 755 "$W/fmnt" && mkdir -m 755 "$W/fmnt/host" && echo secret >"$W/fmnt/host/f" &&
	chmod 600 "$W/fmnt/host/f" && setfacl -m u:1000:rw,g:4242:r "$W/fmnt/host/f" &&
	mkdir -m 777 "$W/fmnt/host/dd" && setfacl -m d:u:1000:rwx,d:g::r-x,d:o::--- "$W/fmnt/host/dd" ||
	fail "ACLs through chunkfs-fuse"
fuse_umount
step "a fresh image for posix.sh"
PX=$W/posix.img
"$CFS_BIN/mkfs.chunkfs" -q -C 4M "$PX" 64M || fail "mkfs.chunkfs (posix image)"

step "the initramfs"
R=$W/initramfs
kmod_initramfs "$R"
cp "$W/manifest" "$R/manifest"; cp "$W/paths" "$R/paths"; cp "$W/fzbase.img" "$R/fzbase.img"
printf 'FUZZ_N=%s\nFUZZ_SIZE=%s\nDMG_CHUNK=%s\nDMG_ITABLE="%s"\nDMG_ITABLE2="%s"\nDMG_HEAL="%s"\nVFUZZ_N=%s\n' \
	"$FUZZ_N" "$FUZZ_SIZE" "$DMG_CHUNK" "$DMG_ITABLE" "$DMG_ITABLE2" "$DMG_HEAL" "$VFUZZ_N" >"$R/params"
kmod_cpio "$R" "$W/initrd.gz"

step "the VM (timeout ${KMOD_TIMEOUT}s)"
vm main "$W/initrd.gz" "" "$IMG" "$W/fuzz.img" "$RW" "$DMG" "$EV" "$PERM" "$PX" "$HEAL"
vm_wait main
bad=0
vm_check main || bad=1
npass=$(grep -c '^KT PASS' "$W/main.txt")
[ "$npass" -ge 70 ] || { echo "only $npass checks passed"; bad=1; }
[ $bad = 0 ] || fail "in the VM"

step "the image on the host"
[ "$(md5sum <"$IMG")" = "$SUM0" ] && echo "a read-only mount wrote nothing" || fail "the read-only mount changed the image"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$W/fsck1.log" 2>&1 || { cat "$W/fsck1.log"; fail "fsck.chunkfs -fn after the VM"; }
step "the image the module wrote, on the host"
"$CFS_BIN/fsck.chunkfs" -fn "$RW" >"$W/fsck-rw1.log" 2>&1 || { cat "$W/fsck-rw1.log"; fail "fsck.chunkfs -fn of the image the module wrote"; }
echo "fsck.chunkfs -fn: clean"
"$CFS_BIN/chunkfs" stat --json "$RW" >"$W/stat-rw.json" || fail "chunkfs stat of the image the module wrote"
python3 - "$W/stat-rw.json" <<'EOF' || fail "no file or directory continues into another chunk"
import json, sys
s = json.load(open(sys.argv[1]))
print("files with continuations %d, directories with continuations %d"
      % (s["files_with_continuations"], s["directories_with_continuations"]))
sys.exit(0 if s["files_with_continuations"] >= 1 and s["directories_with_continuations"] >= 1 else 1)
EOF
grep -E '^KT[FLDO] ' "$W/main.txt" | sed 's/^KT. //' >"$W/vm-tree"
[ "$(wc -l <"$W/vm-tree")" -ge 300 ] || fail "the VM listed $(wc -l <"$W/vm-tree") paths"
fuse_mount "$RW" ro
(cd "$W/fmnt" && find . | sort | while read -r p; do
	if [ -L "$p" ]; then echo "$p $(readlink "$p" | md5sum | cut -c1-32)"
	elif [ -f "$p" ]; then echo "$p $(md5sum <"$p" | cut -c1-32) $(stat -c '%s %a' "$p")"
	elif [ -d "$p" ]; then echo "$p"
	else echo "$p $(stat -c %F "$p")"; fi
done) >"$W/fuse-tree"
fuse_umount
if ! diff "$W/vm-tree" "$W/fuse-tree" >"$W/tree.diff"; then
	head -n 20 "$W/tree.diff"; fail "chunkfs-fuse reads another tree than the module wrote"
fi
echo "chunkfs-fuse reads the tree the module wrote ($(wc -l <"$W/fuse-tree") paths, data md5)"
# the module's CHUNKFS_IOC_CHUNK_FILES and CHUNKFS_IOC_PATH against
# `chunkfs paths` of the image it wrote (the library on the host)
set -- $(sed -n 's/^KTPCHUNKS //p' "$W/main.txt")
[ $# = 2 ] || fail "the VM named no chunks for paths"
grep '^KTP ' "$W/main.txt" | sort >"$W/vm-paths"
for k in "$@"; do
	"$CFS_BIN/chunkfs" paths "$RW" --chunk "$k" --json >"$W/paths-$k.json" || fail "chunkfs paths --chunk $k"
	python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
for f in j["files"]:
    for p in f["paths"]:
        print("KTP %d %d %s %s" % (j["chunk"], f["ino"], ",".join(f["parts"]), p))' "$W/paths-$k.json"
done | sort >"$W/host-paths"
if ! diff "$W/vm-paths" "$W/host-paths" >"$W/paths.diff"; then
	head -n 20 "$W/paths.diff"; fail "the module's chunk files and paths differ from chunkfs paths of the image"
fi
echo "the module lists what chunkfs paths lists on the image ($(wc -l <"$W/host-paths") names in chunks $*)"
"$CFS_BIN/fsck.chunkfs" -fn "$DMG" >"$W/fsck-dmg.log" 2>&1 || { cat "$W/fsck-dmg.log"; fail "fsck.chunkfs -fn of the image repaired online"; }
echo "fsck.chunkfs -fn: the image repaired online is clean"
"$CFS_BIN/fsck.chunkfs" -fn "$EV" >"$W/fsck-ev.log" 2>&1 || { cat "$W/fsck-ev.log"; fail "fsck.chunkfs -fn of evict.sh's image"; }
echo "fsck.chunkfs -fn: evict.sh's image is clean"
step "the image the module healed"
"$CFS_BIN/fsck.chunkfs" -fn --json "$HEAL" >"$W/fsck-heal.json" 2>"$W/fsck-heal.err" ||
	{ cat "$W/fsck-heal.json" "$W/fsck-heal.err"; fail "fsck.chunkfs -fn of the image the module healed"; }
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["corrected"])' "$W/fsck-heal.json")
[ "$n" = 0 ] || { cat "$W/fsck-heal.json"; fail "$n bad copies left after the module's reads healed them"; }
echo "fsck.chunkfs -fn: the module wrote the healed copies (no bad copy left)"
step "the ACLs the module set, through chunkfs-fuse"
"$CFS_BIN/fsck.chunkfs" -fn "$PERM" >"$W/fsck-perm.log" 2>&1 || { cat "$W/fsck-perm.log"; fail "fsck.chunkfs -fn of perm.sh's image"; }
fuse_mount "$PERM" ro
for c in "vm/g user::rw-,user:1000:rw-,group::---,group:4242:r--,mask::rw-,other::---" \
	 "vm/dd/f022 user::rw-,user:1000:rwx,group::r-x,mask::rw-,other::r--" \
	 "host/dd/byvm user::rw-,user:1000:rwx,group::r-x,mask::rw-,other::---" \
	 "vm/dd/d077 user::rwx,user:1000:rwx,group::r-x,mask::rwx,other::r-x,default:user::rwx,default:user:1000:rwx,default:group::r-x,default:mask::rwx,default:other::r-x" \
	 "vm/min user::rwx,group::r-x,other::r--"; do
	p=${c%% *}
	got=$(getfacl -cpn "$W/fmnt/$p" | grep -v '^$' | sed 's/[[:space:]]*#.*//' | paste -sd, -)
	[ "$got" = "${c#* }" ] || { fuse_umount; fail "$p through chunkfs-fuse: $got, want ${c#* }"; }
done
[ "$(stat -c %a "$W/fmnt/vm/m/f2666-write-other")" = 666 ] && [ "$(stat -c %a "$W/fmnt/vm/sg/od")" = 2755 ] ||
	{ fuse_umount; fail "modes the module set, through chunkfs-fuse"; }
fuse_umount
echo "chunkfs-fuse reads the ACLs and modes the module set"
"$CFS_BIN/fsck.chunkfs" -fn "$PX" >"$W/fsck-px.log" 2>&1 || { cat "$W/fsck-px.log"; fail "fsck.chunkfs -fn of posix.sh's image"; }
echo "fsck.chunkfs -fn: posix.sh's image is clean"
step "power off in the middle of a workload, then remount"
CR=$W/crash.img
"$CFS_BIN/mkfs.chunkfs" -q -C 4M "$CR" 64M || fail "mkfs.chunkfs (crash image)"
vm crash1 "$W/initrd.gz" kt=crash1 "$CR"
n=0
until grep -q 'KT CRASHPOINT' "$W/crash1.log" 2>/dev/null; do
	n=$((n + 1))
	if [ $n -gt $((KMOD_TIMEOUT * 5)) ] || ! kill -0 "$QPID" 2>/dev/null; then
		kill -9 "$QPID" 2>/dev/null; tail -n 30 "$W/crash1.log"; fail "crash1: no KT CRASHPOINT"
	fi
	sleep 0.2
done
# the power goes off 1 to 4 s later, wherever the workload is
delay=$(( $(od -An -N1 -tu1 /dev/urandom) % 31 + 10 ))
sleep "$(( delay / 10 )).$(( delay % 10 ))"
kill -9 "$QPID"
wait "$QPID" 2>/dev/null
echo "power off ${delay}00 ms after the crash point"
vm_check crash1 killed || fail "crash1"
grep '^KTSYNC ' "$W/crash1.txt" | sed 's/^KTSYNC //' >"$W/synced"
echo "$(wc -l <"$W/synced") files were fsynced before the power went off"
mkdir -p "$W/r2" && cp "$W/synced" "$W/r2/synced"
( cat "$W/initrd.gz"; (cd "$W/r2" && echo synced | cpio -o -H newc --quiet) | gzip -1 ) >"$W/initrd2.gz" || fail "cpio (crash2)"
vm crash2 "$W/initrd2.gz" kt=crash2 "$CR"
vm_wait crash2
vm_check crash2 || fail "crash2"
grep -E "journals replayed|replayed no journal" "$W/crash2.txt"
npass=$((npass + $(grep -c '^KT PASS' "$W/crash2.txt")))
"$CFS_BIN/fsck.chunkfs" -fn "$CR" >"$W/fsck-crash.log" 2>&1 || { cat "$W/fsck-crash.log"; fail "fsck.chunkfs -fn after the power-off and remount"; }
echo "fsck.chunkfs -fn: clean after the power-off and the remount"
. tests/kmod/datasum.sh
echo "PASS: kmod ($npass checks in the VM)"

