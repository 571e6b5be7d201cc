#!/bin/sh
# bbmap: two bits of the block bitmap of /f1.dat's chunk flipped: a free
# block (the last free one before the header copy) marked in use and a
# used one (f1.dat's first block) marked free (crc resealed).
# The free count is left as it was, so only the bitmap is wrong.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /f1.dat)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/f1.dat")
(_, pblk, n, _, _), = img.extents(c, l)
bm = img.abs(c, img.hdr(c, "bbmap_start"))
b = img.block(bm)
def used(i):
    return b[64 + i // 8] >> (i % 8) & 1
free = max(i for i in range(img.nblocks(c) - 1) if not used(i))
b[64 + free // 8] ^= 1 << (free % 8)
b[64 + pblk // 8] ^= 1 << (pblk % 8)
img.reseal(bm)
PY
