#!/bin/sh
# cont_bad: the continuation of /big.bin (in its chunk P) gets a back link
# to its own chunk (crc resealed).  Chunk 0's cross pass cuts /big.bin's
# forward link (the file is truncated where its second part began); chunk
# 1's check clears the continuation and frees its blocks.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
c, l, conts = img.lookup("/big.bin")
p = conts[0]
for key, blk, off, ln in img.link_index(p)[0]:
    pass
import struct
# the continuation is the local inode of the BACK entry in p's index
for key, blk, off, ln in img.link_index(p)[0]:
    kind, peer_ino = struct.unpack_from("<II", img.block(blk), off)
    if kind == 3 and key >> 32 == c and peer_ino == l:
        img.iset(p, key & 0xffffffff, "back_chunk", p)
        break
else:
    raise SystemExit("no continuation found")
PY
