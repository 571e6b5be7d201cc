#!/bin/sh
# inode_blocks: /hello.txt's block count set to 5 (it holds 1).
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
img.iset(c, l, "blocks", 5)
PY
