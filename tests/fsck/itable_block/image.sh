#!/bin/sh
# itable_block: inode table block 5 of chunk 2 (inodes 75-89, files of
# /dir) zeroed.  Its inodes are lost: their entries in /dir go, the maps
# and counts follow.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
c, l, _ = img.lookup("/dir")
assert c == 2
img.zero(img.abs(2, img.hdr(2, "itable_start") + 5))
PY
