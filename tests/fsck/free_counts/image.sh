#!/bin/sh
# free_counts: chunk 4's free block count lowered by 5 and its free inode
# count raised by 2 (both header copies, crc resealed); corrected.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
img.set_hdr(4, "free_blocks", img.hdr(4, "free_blocks") - 5)
img.set_hdr(4, "free_inodes", img.hdr(4, "free_inodes") + 2)
PY
