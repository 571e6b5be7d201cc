#!/bin/sh
# orphan_empty: the entry /empty deleted (crc resealed).  The empty file
# has nothing worth keeping: it is freed.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /empty)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/empty")
part, e = img.find_entry(c, "empty")
leaf, key = img.entry_leaf(c, part, "empty")
img.leaf_write(leaf, [(k, v) for k, v in img.leaf_read(leaf) if k != key])
PY
