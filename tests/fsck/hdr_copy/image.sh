#!/bin/sh
# hdr_copy: the header copy of /hello.txt's chunk (its last block)
# zeroed.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
export C
edit <<'PY'
import os
c = int(os.environ["C"])
img.zero(img.abs(c, img.nblocks(c) - 1))
PY
