#!/bin/sh
# free_counts: the free block count of /hello.txt's chunk lowered by 5
# and its free inode count raised by 2 (both header copies, crc
# resealed); corrected.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
export C
edit <<'PY'
import os
c = int(os.environ["C"])
img.set_hdr(c, "free_blocks", img.hdr(c, "free_blocks") - 5)
img.set_hdr(c, "free_inodes", img.hdr(c, "free_inodes") + 2)
PY
