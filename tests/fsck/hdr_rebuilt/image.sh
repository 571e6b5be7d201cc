#!/bin/sh
# hdr_rebuilt: both headers of chunk 4 zeroed; the header is rebuilt from
# the geometry, its link index, free counts and generation recomputed.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
n = img.nblocks(4)
img.zero(img.abs(4, 0))
img.zero(img.abs(4, n - 1))
PY
