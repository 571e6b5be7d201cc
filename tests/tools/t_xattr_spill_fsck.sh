#!/bin/sh
# The checker and xattr continuations (XCONT, FORMAT.md 10.3.2), through
# the real programs: /f in chunk 0 gets 700 xattrs of 4000 bytes through a
# FUSE mount, so chunk 0 fills with metadata and the later ones spill into
# an xattr continuation in chunk K.  Then, each on a fresh copy:
#   back    the continuation's back link generation is damaged (format v1
#           with xcont, edited with cfsimg.py): `fsck -y --chunk K` rewrites
#           it from the forward end; every xattr is still there;
#   fwd     the forward item in /f's xattr tree names another generation:
#           `fsck -y --chunk 0` cuts the link (lost_xattr), the check of K
#           it queues frees the continuation; /f keeps its name and the
#           xattrs that were at home (a0 .. aN-1, N > 0), the spilled ones
#           are gone;
#   nofwd   the forward item is deleted (a missing forward link): the
#           index entry and the orphan continuation go, /f as in fwd;
#   lost    (format v2, the default) every block of chunk K is zeroed:
#           `fsck -y --chunk K` reports /f by path as having lost xattrs,
#           /f survives with its home xattrs;
# and after each `fsck -fn` finds nothing and a mount reads /f's xattrs.
# Before XCONT the image cannot be made (setxattr gets ENOSPC at about 220).
. "$(dirname "$0")/lib.sh"
FUSE="$CFS_BIN/chunkfs-fuse"
FSCK="$CFS_BIN/fsck.chunkfs"
MNT=$W/mnt
PID=""
[ -x "$FUSE" ] && [ -x "$FSCK" ] && [ -e /dev/fuse ] &&
	command -v fusermount3 >/dev/null ||
	{ echo "FATAL: needs chunkfs-fuse, fsck.chunkfs, /dev/fuse, fusermount3"; exit 1; }
mkdir -p "$MNT"
export PYTHONPATH="$TOP/tests/fsck${PYTHONPATH:+:$PYTHONPATH}"

# make_img IMG [mkfs -O]: /f with 700 xattrs, many spilled; prints K
make_img() {
	"$MKFS" -q ${2:+-O "$2"} -C 4M "$1" 64M || die "mkfs $2"
	mount_img "$1"
	python3 - "$MNT" "$W/fino" <<'EOF' || die "setting the xattrs"
import os, sys
m = sys.argv[1]
open(m + "/f", "w").close()
assert os.stat(m + "/f").st_ino >> 32 == 0, "/f not in chunk 0"
open(sys.argv[2], "w").write("%d\n" % os.stat(m + "/f").st_ino)
for i in range(700):
    os.setxattr(m + "/f", "user.a%d" % i, bytes([i & 255]) * 4000)
EOF
	umount_img
	k=1
	while [ $k -lt 16 ]; do
		if "$TOOL" paths "$1" --chunk $k --json | python3 -c '
import json, sys
sys.exit(0 if any("xattrs" in f["parts"] and f["ino"] == int(sys.argv[1])
                  for f in json.load(sys.stdin)["files"]) else 1)' \
			"$(cat "$W/fino")"; then
			echo $k
			return
		fi
		k=$((k + 1))
	done
	die "no chunk holds /f's xattrs"
}

# check_f IMG all|prefix|home: /f's xattrs after the repair: all 700; the
# first N (at home) only; the first N and maybe others
check_f() {
	mount_img "$1"
	python3 - "$MNT" "$2" <<'EOF' || fail "$CASE: /f's xattrs"
import os, sys
m, want = sys.argv[1], sys.argv[2]
names = sorted(os.listxattr(m + "/f"), key=lambda n: int(n[6:]))
for n in names:
    i = int(n[6:])
    assert os.getxattr(m + "/f", n) == bytes([i & 255]) * 4000, n
n = len(names)
if want == "all":
    assert n == 700, "%d xattrs, want 700" % n
else:
    # the home ones are the first N, the ones spilled into the lost
    # continuation are gone (those of another continuation stay)
    assert 0 < n < 700, "%d xattrs left" % n
    h = 0
    while h < n and names[h] == "user.a%d" % h:
        h += 1
    assert h > 100, "home xattrs: %d" % h
    if want == "prefix":
        assert h == n, names[h:h + 5]
print("%s: /f has %d xattrs" % (sys.argv[0], n))
EOF
	umount_img
}

# fsck_case IMG CHUNK: one repair, exit 1; then -fn exits 0
fsck_case() {
	"$FSCK" -y --chunk "$2" "$1" >"$W/fsck.out" 2>&1
	rc=$?
	[ $rc = 1 ] || { cat "$W/fsck.out"; fail "$CASE: fsck -y --chunk $2: exit $rc, want 1"; }
	"$FSCK" -fn "$1" >"$W/fsck2.out" 2>&1 ||
		{ cat "$W/fsck2.out"; fail "$CASE: fsck -fn after the repair"; }
}

# ---- format v1 with xcont: cfsimg.py edits ----
K=$(make_img "$W/v1" v1,xcont) || exit 1
"$FSCK" -fn "$W/v1" >"$W/fsck.out" 2>&1 ||
	{ cat "$W/fsck.out"; die "fsck -fn of the undamaged image"; }
ok "xattrs of /f spilled into chunk $K"

edit() { # IMG SCRIPT-ARGS...: python (stdin) with img = cfsimg.Image
	python3 -c '
import struct, sys, cfsimg
img = cfsimg.Image(sys.argv[1], sys.argv[2])
K, F = int(sys.argv[3]), int(sys.argv[4])
def xcont():
    for local in range(1, img.hdr(K, "itable_init") * img.ipb):
        if img.iget(K, local, "mode") and img.iget(K, local, "flags") & 4:
            return local
    raise SystemExit("no xattr continuation in chunk %d" % K)
def fwd_item():
    items, nodes = [], []
    root = img.abs(0, img.iget(0, F, "xattr_root"))
    img._node_items(0, root, cfsimg.HDR, img.bs - cfsimg.HDR, items, nodes)
    for key, blk, off, ln in items:
        if key == (1 << 63) | K:
            return key, blk, off, ln
    raise SystemExit("no forward item")
exec(compile(sys.stdin.read(), "edit", "exec"))
img.close()' "$1" "$CFS_BIN" "$K" "$(cat "$W/fino")" || die "$CASE: editing the image"
}

CASE=back
cp "$W/v1" "$W/img"
edit "$W/img" <<'EOF'
l = xcont()
img.iset(K, l, "back_gen", img.iget(K, l, "back_gen") + 1000)
EOF
fsck_case "$W/img" "$K"
grep -q "back link" "$W/fsck.out" || { cat "$W/fsck.out"; fail "back: no back link repair"; }
check_f "$W/img" all
ok "back: the back link rewritten from the forward end"

CASE=fwd
cp "$W/v1" "$W/img"
edit "$W/img" <<'EOF'
key, blk, off, ln = fwd_item()
img.put(blk, off + 8, "<I", img.u32(blk, off + 8) + 1000)
EOF
fsck_case "$W/img" 0
grep -q "extended attributes in another chunk" "$W/fsck.out" ||
	{ cat "$W/fsck.out"; fail "fwd: lost xattrs not reported"; }
grep -q "chunk $K: .*origin is gone" "$W/fsck.out" ||
	{ cat "$W/fsck.out"; fail "fwd: the orphan continuation not removed"; }
check_f "$W/img" prefix
ok "fwd: the link cut, the continuation freed, /f kept"

CASE=nofwd
cp "$W/v1" "$W/img"
edit "$W/img" <<'EOF'
key, blk, off, ln = fwd_item()
leaf = img.leaf_of[(blk, off)]
img.leaf_write(leaf, [kv for kv in img.leaf_read(leaf) if kv[0] != key])
EOF
fsck_case "$W/img" 0
grep -q "chunk $K: .*origin is gone" "$W/fsck.out" ||
	{ cat "$W/fsck.out"; fail "nofwd: the orphan continuation not removed"; }
check_f "$W/img" prefix
ok "nofwd: the index entry and the orphan continuation removed, /f kept"

# ---- format v2 (mkfs's default): chunk K lost ----
CASE=lost
K=$(make_img "$W/v2") || exit 1
BS=4096
CB=$((4 * 1024 * 1024 / BS))
dd if=/dev/zero of="$W/v2" bs="$BS" seek=$((2 + K * CB)) count="$CB" \
	conv=notrunc status=none || die "dd"
fsck_case "$W/v2" "$K"
grep -q "^  attributes  */f" "$W/fsck.out" ||
	{ cat "$W/fsck.out"; fail "lost: /f not in the blast radius by path"; }
check_f "$W/v2" home
ok "lost: chunk $K zeroed, /f kept with its home xattrs, reported by path"

finish
