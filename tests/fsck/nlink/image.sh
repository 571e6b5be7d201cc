#!/bin/sh
# nlink: /hello.txt's link count set to 3 (it has one name); corrected.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
img.iset(c, l, "nlink", 3)
PY
