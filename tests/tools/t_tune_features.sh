#!/bin/sh
# chunkfs tune -O xcont / -O dirovf: the two features that need nothing
# on disk but their bit (FORMAT.md 5, 16) turned on for an image made
# without them, through the real programs:
#   xcont   (-O ^xcont, and -O v1) /f in chunk 0 gets 4000-byte xattrs
#           through a FUSE mount until ENOSPC (chunk 0 is full of them,
#           before 700); after `tune -O xcont` the rest up to 700 spill
#           into another chunk, every value reads back;
#   dirovf  (-O ^dirovf, and -O v1; both with 1-bit directory hashes,
#           mkfs -O test_hash_bits=1) /d gets 200-byte names until ENOSPC
#           (one item per hash, before 100); after `tune -O dirovf` 200
#           names fit and all are listed;
# fsck -fn is clean before and after each step; a second tune says the
# feature is on already.  Refused: a mounted image, a chunk not clean,
# another feature (datasum changes the layout), turning one off.
. "$(dirname "$0")/lib.sh"
FUSE="$CFS_BIN/chunkfs-fuse"
FSCK="$CFS_BIN/fsck.chunkfs"
MNT=$W/mnt
PID=""
IMG=$W/img
[ -x "$FUSE" ] && [ -x "$FSCK" ] && [ -e /dev/fuse ] &&
	command -v fusermount3 >/dev/null ||
	{ echo "FATAL: needs chunkfs-fuse, fsck.chunkfs, /dev/fuse, fusermount3"; exit 1; }
mkdir -p "$MNT"

fsck_clean() { # DESC
	if "$FSCK" -fn "$IMG" >"$W/fsck" 2>&1; then
		ok "$1: fsck -fn clean"
	else
		fail "$1: fsck -fn"; sed 's/^/    /' "$W/fsck" | tail -n 20
	fi
}

# feature FEATURE MKFS-O FILL MORE: an image made with -O MKFS-O; FILL (a
# python script: argv[1] the mount, argv[2] a file for the count it reached)
# must stop at ENOSPC; after `tune -O FEATURE`, MORE (argv[2] that count)
# must succeed; fsck -fn clean at each step; a second tune is a no-op.
feature() {
	f=$1 c="-O $2"
	rm -f "$IMG" "$W/n"
	"$MKFS" -q -O "$2" -C 4M "$IMG" 64M || die "mkfs $c"
	mount_img "$IMG"
	python3 - "$MNT" "$W/n" >"$W/py" 2>&1 <<EOF
$3
EOF
	n=$(cat "$W/n" 2>/dev/null)
	umount_img
	# at least 5: with 1-bit hashes ENOSPC comes when either bucket's
	# item is full, after 10 names when all fall into one (1 run in a
	# few hundred, the hash seed being random), so "more than 10" failed
	if [ -n "$n" ] && [ "$n" -ge 5 ]; then
		ok "$c: ENOSPC at $n before tune"
	else
		fail "$c: no ENOSPC before tune (n=$n)"; cat "$W/py"
	fi
	fsck_clean "$c, before tune"
	expect_ok "$c: tune -O $f" "$TOOL" tune -O "$f" "$IMG"
	grep -q "$f turned on" "$W/out" || fail "$c: tune said: $(cat "$W/out")"
	fsck_clean "$c, after tune"
	mount_img "$IMG"
	if python3 - "$MNT" "$n" >"$W/py" 2>&1 <<EOF
$4
EOF
	then
		ok "$c: after tune -O $f: $(cat "$W/py")"
	else
		fail "$c: after tune"; sed 's/^/    /' "$W/py" | tail -n 5
	fi
	umount_img
	fsck_clean "$c, after the rest"
	expect_ok "$c: tune -O $f again" "$TOOL" tune -O "$f" "$IMG"
	grep -q "$f is on already" "$W/out" || fail "$c: second tune said: $(cat "$W/out")"
}

# /f in chunk 0 gets xattrs of 4000 bytes (chunk 0 fills with metadata)
XFILL='import errno, os, sys
m = sys.argv[1]
open(m + "/f", "w").close()
assert os.stat(m + "/f").st_ino >> 32 == 0, "/f not in chunk 0"
for i in range(700):
    try:
        os.setxattr(m + "/f", "user.a%d" % i, bytes([i & 255]) * 4000)
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
        break
assert i < 699, "no ENOSPC"
open(sys.argv[2], "w").write(str(i))'
XMORE='import os, sys
m, n = sys.argv[1], int(sys.argv[2])
for i in range(n, 700):
    os.setxattr(m + "/f", "user.a%d" % i, bytes([i & 255]) * 4000)
for i in range(700):
    assert os.getxattr(m + "/f", "user.a%d" % i) == bytes([i & 255]) * 4000, i
assert len(os.listxattr(m + "/f")) == 700
print("all 700 xattrs set and read back")'
# /d gets 200-byte names (two hash buckets: test_hash_bits=1)
DFILL='import errno, os, sys
m = sys.argv[1] + "/d"
os.mkdir(m)
for i in range(300):
    try:
        open(os.path.join(m, "f%05d-" % i + "x" * 193), "w").close()
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
        break
assert i < 100, "no ENOSPC"
open(sys.argv[2], "w").write(str(i))'
DMORE='import os, sys
m, n = sys.argv[1] + "/d", int(sys.argv[2])
names = ["f%05d-" % i + "x" * 193 for i in range(200)]
for nm in names[n:]:
    open(os.path.join(m, nm), "w").close()
got = os.listdir(m)
assert sorted(got) == names, (len(got), len(set(got)))
print("200 names in two hashes, all listed")'

feature xcont ^xcont "$XFILL" "$XMORE"
feature xcont v1 "$XFILL" "$XMORE"
feature dirovf ^dirovf,test_hash_bits=1 "$DFILL" "$DMORE"
feature dirovf v1,test_hash_bits=1 "$DFILL" "$DMORE"

# ---- refusals ----
rm -f "$IMG"
"$MKFS" -q -O ^xcont,^dirovf -C 4M "$IMG" 64M || die "mkfs"
expect_fail "tune -O datasum refused" "only xcont and dirovf can be turned on" \
	"$TOOL" tune -O datasum "$IMG"
expect_fail "tune -O ^xcont refused" "cannot be turned off" \
	"$TOOL" tune -O ^xcont "$IMG"
mount_img "$IMG"
expect_fail "tune -O xcont of a mounted image refused" "mounted" \
	"$TOOL" tune -O xcont "$IMG"
umount_img
# chunk 2 marked suspect in both header copies (format v1: cfsimg.py)
rm -f "$IMG"
"$MKFS" -q -O v1 -C 4M "$IMG" 64M || die "mkfs -O v1"
PYTHONPATH="$TOP/tests/fsck" python3 -c 'import sys, cfsimg
img = cfsimg.Image(sys.argv[1]); img.set_hdr(2, "state", 3); img.close()' "$IMG" ||
	die "marking chunk 2 suspect"
expect_fail "tune -O dirovf with a chunk not clean refused" "chunk 2 is not clean" \
	"$TOOL" tune -O dirovf "$IMG"
# the refused tune wrote nothing: after fsck -fy dirovf is turned on now
"$FSCK" -fy "$IMG" >/dev/null 2>&1
expect_ok "tune -O dirovf after fsck -fy" "$TOOL" tune -O dirovf "$IMG"
grep -q "dirovf turned on" "$W/out" || fail "after the refusal: $(cat "$W/out")"
fsck_clean "after the refusals"
finish
