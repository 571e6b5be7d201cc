#!/bin/sh
# hdr_gen: next_gen of /hello.txt's chunk set to 1, behind the generations of its
# inodes (both header copies changed alike, crc resealed).
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
export C
edit <<'PY'
import os
img.set_hdr(int(os.environ["C"]), "next_gen", 1)
PY
