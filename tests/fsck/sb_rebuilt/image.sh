#!/bin/sh
# sb_rebuilt: blocks 0 and 1 zeroed; the superblock is rebuilt from the
# geometry in a chunk header.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
img.zero(0)
img.zero(1)
PY
