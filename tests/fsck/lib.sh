# Sourced by tests/fsck/<case>/image.sh: builds the corpus's standard image.
# Not a test itself.  Everything here is deterministic: the source tree has
# fixed names, sizes and contents (its timestamps do not reach anything
# fsck prints), mkfs gets a fixed UUID and label and sorts directory
# entries, and the damage is applied with fixed seeds or blocks.
#
#   . "$(dirname "$0")/../lib.sh"     (sets IMG=$1, W=a scratch directory)
#   std_image [SIZE]                  standard tree, mkfs into $IMG
#   std_image_v2 [SIZE]               the same in format v2 (v2_* cases)
#   inject CHUNK KIND [ARGS...]       chunkfs inject on $IMG (quiet)
#   edit SCRIPT                       python3 edits with tests/fsck/cfsimg.py
#                                     (format v1 images only)
#   where PATH                        "CHUNK LOCAL" of PATH's inode
#   chunk_of PATH                     CHUNK of PATH's inode
#   cont_chunk PATH                   the chunk of PATH's first continuation
#   fsck_args ARGS...                 the first fsck run's arguments, for
#                                     a case whose chunk placement chose
#                                     (IMAGE.args, read by run.sh)
#   meta_block CHUNK PREFIX           the local block (first copy) of the
#                                     metadata block inject --list names
#                                     with a description starting PREFIX
set -eu
umask 022
export LC_ALL=C
: "${CFS_BIN:?CFS_BIN must name the directory holding the built programs}"
FSCK_DIR=${FSCK_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
IMG=${1:?usage: image.sh IMAGE}
W=$IMG.work
rm -rf "$W"
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
UUID=8e3f0c2a-0000-4000-8000-000000000001

# fill FILE BYTES SEED: deterministic pseudo-random bytes
fill() {
	python3 - "$@" <<'PY'
import hashlib, sys
path, n, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = bytearray()
i = 0
while len(out) < n:
    out += hashlib.sha256(("%s-%d" % (seed, i)).encode()).digest()
    i += 1
open(path, "wb").write(bytes(out[:n]))
PY
}

# std_tree DIR: the standard source tree.
#   big.bin        6 MB, spreads over two chunks (a file continuation)
#   dir/           300 entries with long names (directory tree nodes)
#   a/ a/b/ a/c/   small directories; a/b/inner.txt
#   hello.txt, f1.dat, f2.dat (2 blocks each), hard1 = hard2, lnk -> hello.txt
#   xa.txt         a file with two user xattrs
#   empty          an empty file
std_tree() {
	d=$1
	mkdir -p "$d/dir" "$d/a/b" "$d/a/c"
	fill "$d/big.bin" 6000000 big
	i=100
	while [ $i -lt 400 ]; do
		echo "entry $i" >"$d/dir/entry-with-a-rather-long-name-$i"
		i=$((i + 1))
	done
	echo "hello, world" >"$d/hello.txt"
	echo "inner" >"$d/a/b/inner.txt"
	fill "$d/f1.dat" 8192 f1
	fill "$d/f2.dat" 8192 f2
	echo "one file, two names" >"$d/hard1"
	ln "$d/hard1" "$d/hard2"
	ln -s hello.txt "$d/lnk"
	: >"$d/empty"
	echo "xattrs" >"$d/xa.txt"
	python3 -c 'import os, sys
os.setxattr(sys.argv[1], "user.colour", b"blue")
os.setxattr(sys.argv[1], "user.size", b"large")' "$d/xa.txt"
}

# mkimg SRC SIZE: mkfs with the corpus's fixed parameters: format v1
# (these cases are also the proof that v1 images check and repair as
# before; cfsimg.py edits the v1 layout)
mkimg() {
	rm -f "$IMG"
	"$CFS_BIN/mkfs.chunkfs" -q -O v1 -U "$UUID" -L fsck-corpus -C 4M -d "$1" \
		"$IMG" "$2" >"$W/mkfs.out" 2>&1 ||
		{ cat "$W/mkfs.out" >&2; exit 1; }
}

std_image() {
	std_tree "$W/src"
	mkimg "$W/src" "${1:-32M}"
}

# mkimg_v2 SRC SIZE: the same parameters in format v2 with second copies
# of metadata (mkfs's default: METAGEN and DUP).  cfsimg.py does not know
# this layout: the v2 cases are damaged with chunkfs inject.
mkimg_v2() {
	rm -f "$IMG"
	"$CFS_BIN/mkfs.chunkfs" -q -U "$UUID" -L fsck-corpus -C 4M -d "$1" \
		"$IMG" "$2" >"$W/mkfs.out" 2>&1 ||
		{ cat "$W/mkfs.out" >&2; exit 1; }
}

std_image_v2() {
	std_tree "$W/src"
	mkimg_v2 "$W/src" "${1:-32M}"
}

where() {
	"$CFS_BIN/chunkfs" stat --json "$IMG" "$1" | python3 -c '
import json, sys
p = json.load(sys.stdin)["paths"][0]
print(p["chunk"], p["local"])'
}

chunk_of() {
	set -- $(where "$1")
	echo "$1"
}

cont_chunk() {
	"$CFS_BIN/chunkfs" stat --json "$IMG" "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["paths"][0]["continuation_chunks"][0])'
}

fsck_args() {
	echo "$*" >"$IMG.args"
}

meta_block() {
	"$CFS_BIN/chunkfs" inject "$IMG" --chunk "$1" --list --json | python3 -c '
import json, sys
for b in json.load(sys.stdin)["blocks"]:
    if b["copy"] == 1 and b["what"].startswith(sys.argv[1]):
        print(b["local"])
        break
else:
    sys.exit("no metadata block " + sys.argv[1])' "$2"
}

inject() {
	c=$1; k=$2; shift 2
	"$CFS_BIN/chunkfs" inject "$IMG" --chunk "$c" --what "$k" "$@" \
		>"$W/inject.out" 2>&1 || { cat "$W/inject.out" >&2; exit 1; }
}

# edit: run python3 on stdin with cfsimg.py importable and the image open
# as `img` (an Image); the script's changes are written when it ends.
edit() {
	PYTHONPATH="$FSCK_DIR${PYTHONPATH:+:$PYTHONPATH}" python3 -c '
import sys, cfsimg
img = cfsimg.Image(sys.argv[1], sys.argv[2])
exec(compile(sys.stdin.read(), "edit", "exec"), {"img": img, "cfsimg": cfsimg})
img.close()' "$IMG" "$CFS_BIN"
}
