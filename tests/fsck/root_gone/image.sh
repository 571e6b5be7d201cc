#!/bin/sh
# root_gone: the root directory's inode (chunk 0, local 1) zeroed (crc
# resealed).  The root is recreated empty; what it named (in chunk 0) goes
# to lost+found.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
blk, off = img.iloc(0, 1)
img.block(blk)[off:off + 256] = bytes(256)
img.reseal(blk)
PY
