#!/bin/sh
# index_wrong: the entry of /big.bin's forward link deleted from its chunk's
# link index (leaf rewritten, link_count lowered in both header copies, crcs
# resealed).  The index is rebuilt from the links the inodes hold.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /big.bin)
fsck_args --chunk "$C"
edit <<'PY'
c, l, conts = img.lookup("/big.bin")
items, nodes = img.link_index(c)
root = nodes[0][0]
leaf = (root, 64, img.bs - 64)
key = conts[0] << 32 | l
old = img.leaf_read(leaf)
new = [(k, v) for k, v in old if k != key]
assert len(new) == len(old) - 1
img.leaf_write(leaf, new)
img.set_hdr(c, "link_count", img.hdr(c, "link_count") - 1)
PY
