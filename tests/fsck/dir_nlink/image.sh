#!/bin/sh
# dir_nlink: /a's link count set to 7 (it has two subdirectories: 4);
# corrected.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /a)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/a")
img.iset(c, l, "nlink", 7)
PY
