#!/bin/sh
# dir_parent: /a/b's parent pointer set to /a/c (crc resealed); corrected
# to /a.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /a)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/a/b")
c2, l2, _ = img.lookup("/a/c")
assert c == c2
img.iset(c, l, "parent", l2)
PY
