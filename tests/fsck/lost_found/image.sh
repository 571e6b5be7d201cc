#!/bin/sh
# lost_found: the part of /lost+found in chunk 4 (a directory
# continuation) and lost+found/chunk-4 itself zeroed (their inode slots,
# crc resealed), and /lost+found itself (chunk 0, local 2).  Checking
# chunk 4 alone cannot remake lost+found/chunk-4: its part of /lost+found
# could be remade (only a forward link is written in chunk 0), but
# /lost+found is gone, so lost_found is reported, not fixed.  The cross
# pass asks for chunk 0, whose check remakes /lost+found.
# exit 4: chunk 4 is left without a lost+found until it is checked again.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
import struct
c4, l4, _ = img.lookup("/lost+found/chunk-4")
for key, blk, off, ln in img.link_index(4)[0]:
    kind, peer_ino = struct.unpack_from("<II", img.block(blk), off)
    if kind == 4 and key >> 32 == 0 and peer_ino == 2:
        part = key & 0xffffffff
for loc in (part, l4):
    blk, off = img.iloc(4, loc)
    img.block(blk)[off:off + 256] = bytes(256)
    img.reseal(blk)
# and /lost+found itself (chunk 0, local 2): chunk 4's repair cannot
# remake its part of /lost+found without it
blk, off = img.iloc(0, 2)
img.block(blk)[off:off + 256] = bytes(256)
img.reseal(blk)
PY
