#!/bin/sh
# extent_bad: /f1.dat's data extent moved past the end of its chunk (crc
# resealed).  The extent is removed; the block count, the block bitmap and
# the free count follow.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /f1.dat)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/f1.dat")
(lblk, pblk, n, blk, off), = img.extents(c, l)
img.put(blk, off, "<I", img.nblocks(c) + 10)
PY
