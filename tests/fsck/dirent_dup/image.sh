#!/bin/sh
# dirent_dup: the item holding /hello.txt gets a second copy of the same
# entry (leaf rewritten, crc resealed).  The second one is removed.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
part, e = img.find_entry(c, "hello.txt")
leaf, key = img.entry_leaf(c, part, "hello.txt")
items = [(k, v + img.mkdirent(l, 1, "hello.txt") if k == key else v)
         for k, v in img.leaf_read(leaf)]
img.leaf_write(leaf, items)
PY
