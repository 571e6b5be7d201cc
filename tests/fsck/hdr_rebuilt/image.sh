#!/bin/sh
# hdr_rebuilt: both headers of /hello.txt's chunk zeroed; the header is rebuilt from
# the geometry, its link index, free counts and generation recomputed.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
export C
edit <<'PY'
import os
c = int(os.environ["C"])
n = img.nblocks(c)
img.zero(img.abs(c, 0))
img.zero(img.abs(c, n - 1))
PY
