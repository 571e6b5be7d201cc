#!/bin/sh
# hdr_copy: the header copy of chunk 4 (its last block) zeroed.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
img.zero(img.abs(4, img.nblocks(4) - 1))
PY
