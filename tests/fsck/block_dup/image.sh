#!/bin/sh
# block_dup: /f2.dat's extent made to point at /f1.dat's blocks (crc
# resealed).  The second claim (f2's) is removed: f2 keeps its size and
# reads as a hole; its old blocks are freed.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /f1.dat)
fsck_args --chunk "$C"
edit <<'PY'
c1, l1, _ = img.lookup("/f1.dat")
c2, l2, _ = img.lookup("/f2.dat")
assert c1 == c2
(_, p1, n1, _, _), = img.extents(c1, l1)
(_, p2, n2, blk, off), = img.extents(c2, l2)
img.put(blk, off, "<I", p1)
PY
