#!/bin/sh
# back_fixed: the back generation of /big.bin's continuation (in its chunk
# P) changed (crc resealed).  Checking chunk P: the origin's forward link
# still names the continuation, so the back link is corrected.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(cont_chunk /big.bin)
fsck_args --chunk "$C"
edit <<'PY'
c, l, conts = img.lookup("/big.bin")
import struct
p = conts[0]
for key, blk, off, ln in img.link_index(p)[0]:
    kind, peer_ino = struct.unpack_from("<II", img.block(blk), off)
    if kind == 3 and key >> 32 == c and peer_ino == l:
        loc = key & 0xffffffff
        img.iset(p, loc, "back_gen", img.iget(p, loc, "back_gen") + 1000)
        break
else:
    raise SystemExit("no continuation found")
PY
