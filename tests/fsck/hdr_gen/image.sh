#!/bin/sh
# hdr_gen: next_gen of chunk 4 set to 1, behind the generations of its
# inodes (both header copies changed alike, crc resealed).
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
img.set_hdr(4, "next_gen", 1)
PY
