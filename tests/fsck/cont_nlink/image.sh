#!/bin/sh
# cont_nlink: the reference count of /big.bin's continuation (in its chunk
# P) set to 5 (one extent names it; crc resealed); corrected.
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
        img.iset(p, key & 0xffffffff, "nlink", 5)
        break
else:
    raise SystemExit("no continuation found")
PY
