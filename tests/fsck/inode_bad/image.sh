#!/bin/sh
# inode_bad: /hello.txt's mode set to an unknown file type (0o170644),
# crc resealed.  The inode is cleared; its name and blocks follow.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
img.iset(c, l, "mode", 0o170644)
PY
