#!/bin/sh
# itable_block: inode table block 5 of /dir's chunk (inodes 75-89, files
# of /dir) zeroed.  Its inodes are lost: their entries in /dir go, the maps
# and counts follow.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /dir)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/dir")
blk = img.abs(c, img.hdr(c, "itable_start") + 5)
# files of /dir have their inodes there
assert [e for e in img.dirents(c, l) if blk == img.iloc(c, e[3])[0]]
img.zero(blk)
PY
