#!/bin/sh
# dir_multi: /a gets a second entry "c2" naming the directory /a/c (under
# the right hash; /a's inline root rewritten, crc resealed).  The extra
# entry is removed.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /a)
fsck_args --chunk "$C"
edit <<'PY'
c, a, _ = img.lookup("/a")
c2, l2, _ = img.lookup("/a/c")
assert c == c2
part, e = img.find_entry(c, "c")
leaf, key = img.entry_leaf(c, a, "c")
items = img.leaf_read(leaf)
items.append((img.dir_hash("c2"), img.mkdirent(l2, 2, "c2")))
img.leaf_write(leaf, items)
PY
