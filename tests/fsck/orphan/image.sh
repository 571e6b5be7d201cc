#!/bin/sh
# orphan: the entry /hello.txt deleted (its item removed from the leaf,
# crc resealed).  The file, which holds data, goes to lost+found/chunk-4.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
part, e = img.find_entry(c, "hello.txt")
leaf, key = img.entry_leaf(c, part, "hello.txt")
img.leaf_write(leaf, [(k, v) for k, v in img.leaf_read(leaf) if k != key])
PY
