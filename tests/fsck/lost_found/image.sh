#!/bin/sh
# lost_found: in the chunk C of /hello.txt (the small files), the part of
# /lost+found there (a directory continuation) and lost+found/chunk-C
# itself zeroed (their inode slots, crc resealed), and /lost+found itself
# (chunk 0, local 2).  Checking chunk C alone cannot remake
# lost+found/chunk-C: its part of /lost+found could be remade (only a
# forward link is written in chunk 0), but /lost+found is gone, so
# lost_found is reported, not fixed.  The cross pass asks for chunk 0,
# whose check remakes /lost+found.
# exit 4: chunk C is left without a lost+found until it is checked again.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
export C
edit <<'PY'
import os, struct
c = int(os.environ["C"])
cl, ll, _ = img.lookup("/lost+found/chunk-%d" % c)
assert cl == c
for key, blk, off, ln in img.link_index(c)[0]:
    kind, peer_ino = struct.unpack_from("<II", img.block(blk), off)
    if kind == 4 and key >> 32 == 0 and peer_ino == 2:
        part = key & 0xffffffff
for loc in (part, ll):
    blk, off = img.iloc(c, loc)
    img.block(blk)[off:off + 256] = bytes(256)
    img.reseal(blk)
# and /lost+found itself (chunk 0, local 2): chunk c's repair cannot
# remake its part of /lost+found without it
blk, off = img.iloc(0, 2)
img.block(blk)[off:off + 256] = bytes(256)
img.reseal(blk)
PY
