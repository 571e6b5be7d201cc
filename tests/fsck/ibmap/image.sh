#!/bin/sh
# ibmap: two bits of the inode bitmap of /hello.txt's chunk flipped: free
# inode 100 marked in use and /hello.txt's inode marked free (crc resealed).
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
bm = img.abs(c, img.hdr(c, "ibmap_start"))
b = img.block(bm)
for i in (100, l):
    b[64 + i // 8] ^= 1 << (i % 8)
img.reseal(bm)
PY
