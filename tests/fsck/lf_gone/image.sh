#!/bin/sh
# lf_gone: the entry /lost+found deleted from the root (inline root
# rewritten, crc resealed); /lost+found is named again.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
leaf, key = img.entry_leaf(0, 1, "lost+found")
img.leaf_write(leaf, [(k, v) for k, v in img.leaf_read(leaf) if k != key])
PY
