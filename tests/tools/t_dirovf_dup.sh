#!/bin/sh
# One name twice under one directory hash, in different items of it
# (DIROVF, FORMAT.md 16.9): the checker looked for a duplicate only inside
# one item.  The image is made with 1-bit directory hashes (mkfs -O
# test_hash_bits=1) and /d gets 120 files of 200-byte names through a
# FUSE mount (each hash's names in an entry item and several overflow
# items).  Then, on a fresh copy each, `dupname` (tests/tools/dupname.c)
# renames in place the entry of file B to the name of file A, where
#   entry-ovf   A is in the hash's entry item, B in its first overflow item
#   ovf-ovf     A in the first overflow item, B in the second
#   ovf-entry   A in the first overflow item, B in the entry item (the
#               earlier entry is the false one)
#   ovf-entry1  as ovf-entry, with every other name of the entry item
#               unlinked first: the repair empties the entry item
#   item        A the last entry of the entry item, B its first (the one
#               item, the earlier entry the false one)
# fsck -fn must report the duplicate (exit 4), fsck -fy repair it
# (exit 1), a second fsck -fn find nothing, and a mount must show every
# file with its content: B keeps its own name back from its parent pointer
# (pass 3b), and A keeps its name because A's parent pointer names it (in
# ovf-entry the earlier entry, B's, goes); without parent pointers
# (-O ^pptr) nothing tells which entry is the true one: the later goes and
# its file is in lost+found.
. "$(dirname "$0")/lib.sh"
FUSE="$CFS_BIN/chunkfs-fuse"
FSCK="$CFS_BIN/fsck.chunkfs"
DUP="$CFS_BIN/dupname"
MNT=$W/mnt
PID=""
[ -x "$FUSE" ] && [ -x "$FSCK" ] && [ -x "$DUP" ] && [ -e /dev/fuse ] &&
	command -v fusermount3 >/dev/null ||
	{ echo "FATAL: needs chunkfs-fuse, fsck.chunkfs, dupname, /dev/fuse, fusermount3"; exit 1; }
mkdir -p "$MNT"

sanitizer() { grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"; }

for feat in test_hash_bits=1 test_hash_bits=1,^pptr; do
	BASE=$W/base.img
	rm -f "$BASE"
	"$MKFS" -q -O "$feat" -C 4M "$BASE" 64M || die "mkfs -O $feat"
	mount_img "$BASE"
	python3 - "$MNT" <<'PY' || die "making /d"
import os, sys
m = sys.argv[1] + "/d"
os.mkdir(m)
for i in range(120):
    with open(os.path.join(m, "f%05d-" % i + "x" * 193), "w") as f:
        f.write("content %d\n" % i)
PY
	umount_img
	"$FSCK" -fn "$BASE" >"$W/fsck0" 2>&1 ||
		{ cat "$W/fsck0"; die "-O $feat: the fresh image is not clean"; }
	for mode in entry-ovf ovf-ovf ovf-entry ovf-entry1 item; do
		c="-O $feat, $mode"
		what="also in another item of its hash"
		[ $mode = item ] && what="one entry removed"
		IMG=$W/img
		cp "$BASE" "$IMG"
		: >"$W/gone"
		if [ $mode = ovf-entry1 ]; then
			# the entry item keeps one name (the others unlinked
			# through the mount): the false one, so the repair
			# empties it
			"$DUP" "$IMG" /d list >"$W/list" ||
				die "$c: dupname list"
			tail -n +2 "$W/list" >"$W/gone"
			mount_img "$IMG"
			while read -r n; do
				rm "$MNT/d/$n" || die "$c: rm"
			done <"$W/gone"
			umount_img
		fi
		"$DUP" "$IMG" /d ${mode%1} >"$W/names" 2>&1 ||
			{ cat "$W/names"; die "$c: dupname"; }
		read -r A B <"$W/names"
		"$FSCK" -fn "$IMG" >"$W/fsck1" 2>&1
		rc=$?
		if [ $rc = 4 ] &&
		   grep -q "duplicate name in a directory.*$what" "$W/fsck1"; then
			ok "$c: fsck -fn finds the duplicate"
		else
			fail "$c: fsck -fn exit $rc, want 4 and the duplicate"
			sed 's/^/    /' "$W/fsck1" | head -n 20
		fi
		"$FSCK" -fy "$IMG" >"$W/fsck2" 2>&1
		rc=$?
		[ -n "${VERBOSE:-}" ] && sed "s/^/    [$mode] /" "$W/fsck2"
		if grep -q "without their hash's item" "$W/fsck2"; then
			fail "$c: the repair reported overflow items left without their entry item"
		fi
		if [ $rc = 1 ] && ! sanitizer "$W/fsck2"; then
			ok "$c: fsck -fy repairs ($(grep -c -- '-- fixed' "$W/fsck2") fixed)"
		else
			fail "$c: fsck -fy exit $rc"; sed 's/^/    /' "$W/fsck2" | head -n 30
		fi
		"$FSCK" -fn "$IMG" >"$W/fsck3" 2>&1
		rc=$?
		if [ $rc = 0 ]; then
			ok "$c: a second fsck -fn finds nothing"
		else
			fail "$c: second fsck -fn exit $rc"; sed 's/^/    /' "$W/fsck3" | head -n 20
		fi
		mount_img "$IMG"
		if python3 - "$MNT" "$A" "$B" "$feat" "$W/gone" <<'PY' >"$W/py" 2>&1; then
import os, sys
m, a, b, feat, gone = sys.argv[1:6]
gone = set(open(gone).read().split())
want = {"content %d\n" % i: "f%05d-" % i + "x" * 193 for i in range(120)}
want = {c: n for c, n in want.items() if n not in gone}
found = {}
for root, dirs, files in os.walk(m):
    for f in files:
        p = os.path.join(root, f)
        found.setdefault(open(p).read(), []).append(os.path.relpath(p, m))
bad = []
for content, name in sorted(want.items()):
    paths = found.get(content, [])
    if len(paths) != 1:
        bad.append("%s... at %s" % (name[:6], paths))
names = os.listdir(m + "/d")
if len(names) != len(set(names)):
    bad.append("a name listed twice in /d")
def at(n):
    p = m + "/d/" + n
    return open(p).read() if os.path.exists(p) else None
ca, cb = ("content %d\n" % int(n[1:6]) for n in (a, b))
if "^pptr" not in feat:
    # the parent pointers tell which entry was the true one
    if at(a) != ca:
        bad.append("the name %s... does not name its own file" % a[:6])
    if at(b) != cb:
        bad.append("%s... did not get its own name back" % b[:6])
elif at(a) not in (ca, cb):
    bad.append("the name %s... names neither file" % a[:6])
print("\n".join(bad) if bad else "every file once, with its content")
sys.exit(1 if bad else 0)
PY
			ok "$c: $(cat "$W/py")"
		else
			fail "$c: after the repair"; sed 's/^/    /' "$W/py" | head -n 20
		fi
		umount_img
	done
done
finish
