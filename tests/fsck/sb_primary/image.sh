#!/bin/sh
# sb_primary: block 0 (the primary superblock) zeroed; mount uses the copy
# in block 1 and fsck restores the primary from it.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
img.zero(0)
PY
