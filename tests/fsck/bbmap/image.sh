#!/bin/sh
# bbmap: two bits of chunk 4's block bitmap flipped: a free block marked in
# use and a used one (f1.dat's first block) marked free (crc resealed).
# The free count is left as it was, so only the bitmap is wrong.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
c, l, _ = img.lookup("/f1.dat")
(_, pblk, n, _, _), = img.extents(c, l)
bm = img.abs(c, img.hdr(c, "bbmap_start"))
b = img.block(bm)
free = 900
b[64 + free // 8] ^= 1 << (free % 8)
b[64 + pblk // 8] ^= 1 << (pblk % 8)
img.reseal(bm)
PY
