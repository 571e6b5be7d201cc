#!/bin/sh
# sb_copy: block 1 (the superblock copy) zeroed; fsck rewrites it.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
img.zero(1)
PY
