#!/bin/sh
# The chunkfs demo (make demo): a small image with 4 MiB chunks, mounted
# through FUSE; a tree with files larger than a chunk and a directory that
# spreads over several chunks is copied in; `chunkfs stat` shows where the
# continuations went; unmount, remount, and every file is verified by
# checksum.  Then one copy of an inode table block is damaged: format v2
# keeps two copies of metadata, so the mount reads the other and heals it
# (a "corrected" event).  Then one chunk is damaged for real (both copies),
# fsck.chunkfs repairs that chunk alone, and every file outside it reads
# back intact.
set -eu
cd "$(dirname "$0")/.."
BIN=${CFS_BIN:-$PWD}
MKFS=$BIN/mkfs/mkfs.chunkfs
FUSE=$BIN/fuse/chunkfs-fuse
TOOL=$BIN/tools/chunkfs
FSCK=$BIN/fsck/fsck.chunkfs
[ -x "$MKFS" ] || { MKFS=$BIN/mkfs.chunkfs; FUSE=$BIN/chunkfs-fuse; TOOL=$BIN/chunkfs; FSCK=$BIN/fsck.chunkfs; }
W=$(mktemp -d "${TMPDIR:-/tmp}/chunkfs-demo.XXXXXX")
IMG=$W/demo.img
MNT=$W/mnt
SRC=$W/src
PID=""
cleanup() {
	if mountpoint -q "$MNT" 2>/dev/null; then fusermount3 -u "$MNT" 2>/dev/null || true; fi
	[ -n "$PID" ] && wait "$PID" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

mount_it() {
	"$FUSE" -f "$IMG" "$MNT" &
	PID=$!
	i=0
	until mountpoint -q "$MNT"; do
		kill -0 "$PID" 2>/dev/null || { echo "demo: chunkfs-fuse died" >&2; exit 1; }
		i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: mount timed out" >&2; exit 1; }
		sleep 0.1
	done
}
umount_it() {
	fusermount3 -u "$MNT"
	wait "$PID"   # the daemon writes everything, then exits
	PID=""
}

step "make a tree to copy: 3 files larger than a chunk, 600 files in one directory"
mkdir -p "$SRC/big" "$SRC/many" "$SRC/docs/a/b"
for i in 1 2 3; do head -c $((6 * 1024 * 1024 + i * 777777)) /dev/urandom > "$SRC/big/file$i.bin"; done
i=0
while [ $i -lt 600 ]; do
	head -c $((2000 + i * 37)) /dev/urandom > "$SRC/many/f$i"
	i=$((i + 1))
done
echo "hello, chunkfs" > "$SRC/docs/a/b/hello.txt"
ln -s a/b/hello.txt "$SRC/docs/link"
du -sh "$SRC"

step "mkfs.chunkfs -C 4M $IMG 96M"
mkdir -p "$MNT"
"$MKFS" -C 4M -L demo "$IMG" 96M

step "mount through FUSE and copy the tree in"
mount_it
cp -a "$SRC/." "$MNT/"
df -h "$MNT"
echo "inode numbers are chunk:local (chunk in the high 32 bits):"
for f in big/file1.bin many/f0 many/f599 docs/a/b/hello.txt; do
	ino=$(stat -c %i "$MNT/$f")
	printf '  %-22s inode %-14s = chunk %s, local %s\n' "$f" "$ino" $((ino >> 32)) $((ino & 0xffffffff))
done
umount_it

step "chunkfs stat: where the continuations went"
"$TOOL" stat "$IMG" /big/file1.bin /big/file2.bin /big/file3.bin /many

step "remount and verify every file by checksum"
(cd "$SRC" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$W/sums"
mount_it
(cd "$MNT" && sha256sum --quiet -c "$W/sums") || { echo "demo: CHECKSUM MISMATCH" >&2; exit 1; }
n=$(wc -l < "$W/sums")
[ "$(readlink "$MNT/docs/link")" = a/b/hello.txt ] || { echo "demo: symlink lost" >&2; exit 1; }
umount_it
echo "all $n files verified after remount"

# ---- one copy damaged: healed ----
set -- $("$TOOL" stat --json "$IMG" /many/f300 | python3 -c 'import json,sys; p=json.load(sys.stdin)["paths"][0]; print(p["chunk"], p["local"])')
K=$1
ITB=$("$TOOL" inject "$IMG" --chunk "$K" --list --json | python3 -c '
import json, re, sys
want = int(sys.argv[1])
for b in json.load(sys.stdin)["blocks"]:
    m = re.match(r"inode table block \d+ of \d+, inodes (\d+)-(\d+)$", b["what"])
    if m and int(m.group(1)) <= want <= int(m.group(2)):
        print(b["local"]); break' "$2")
step "damage one copy of the inode table block holding /many/f300 (chunk $K, local block $ITB): chunkfs inject --copy first"
"$TOOL" inject "$IMG" --chunk "$K" --what zero-block --block "$ITB" --copy first
step "fsck.chunkfs -fn: one bad block copy, no problem (the other copy is good)"
set +e
"$FSCK" -fn "$IMG" > "$W/fsck-n"
rc=$?
set -e
grep "a copy of a metadata block is bad" "$W/fsck-n" | sed 's/^/  /'
tail -2 "$W/fsck-n" | head -1
grep -q ": [0-9]* chunks checked, 0 problems found, 0 fixed, 1 bad block copy" "$W/fsck-n" &&
	[ "$rc" = 4 ] || { echo "demo: fsck -n exit $rc, expected 4 with one bad copy and no problem" >&2; exit 1; }
step "mount and read every file: the mount reads the good copy and heals the bad one"
mount_it
(cd "$MNT" && sha256sum --quiet -c "$W/sums") || { echo "demo: CHECKSUM MISMATCH" >&2; exit 1; }
"$TOOL" events "$MNT" | grep corrected || { echo "demo: no corrected event" >&2; exit 1; }
umount_it
"$FSCK" -fn "$IMG" | tail -1
echo "all $n files verified; the bad copy was rewritten from the good one"

# ---- second half: damage one chunk, repair only that chunk ----
step "damage chunk $K: wipe its whole inode table, both copies (chunkfs inject)"
"$TOOL" inject "$IMG" --chunk "$K" --what inode-table
step "fsck.chunkfs -fn: a read-only check of every chunk finds damage in chunk $K only"
set +e
"$FSCK" -fn "$IMG" > "$W/fsck-n"
rc=$?
set -e
grep -E "^chunk [0-9]+: checked" "$W/fsck-n" | grep -v " 0 problems" | sed 's/^/  /'
tail -2 "$W/fsck-n"
[ "$rc" = 4 ] || { echo "demo: fsck -n exit $rc, expected 4 (errors found)" >&2; exit 1; }
step "fsck.chunkfs --chunk $K -y: check and repair that one chunk (and the peers it names)"
set +e
"$FSCK" -y --chunk "$K" "$IMG" > "$W/fsck-y"
rc=$?
set -e
grep -v "directory entry names a free" "$W/fsck-y" | tail -25
echo "($(grep -c "directory entry names a free" "$W/fsck-y") entries naming lost inodes removed)"
[ "$rc" = 1 ] || { echo "demo: fsck -y exit $rc, expected 1 (errors corrected)" >&2; exit 1; }
step "fsck.chunkfs -fn: every chunk is clean again"
"$FSCK" -fn "$IMG" | tail -1
step "every file outside chunk $K is intact"
mount_it
ok=0; lost=0
while read -r sum path; do
	p=${path#./}
	ino_chunk=$(( $(stat -c %i "$MNT/$p" 2>/dev/null || echo 0) >> 32 ))
	if [ -e "$MNT/$p" ] && [ "$(sha256sum < "$MNT/$p" | cut -d' ' -f1)" = "$sum" ]; then
		ok=$((ok + 1))
	else
		lost=$((lost + 1))
	fi
done < "$W/sums"
echo "$ok files read back identical; $lost files had their inode in chunk $K (lost with its inode table; see lost+found for what was saved)"
ls "$MNT/lost+found/chunk-$K" | head -5
umount_it
step "demo finished"
