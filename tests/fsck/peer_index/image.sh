#!/bin/sh
# peer_index: chunk P's index entry for the back link of /big.bin's
# continuation gets a wrong local generation (crc resealed).  Checking
# /big.bin's chunk only: its cross pass corrects the peer's entry.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /big.bin)
fsck_args --chunk "$C"
edit <<'PY'
c, l, conts = img.lookup("/big.bin")
import struct
p = conts[0]
for key, blk, off, ln in img.link_index(p)[0]:
    kind, peer_ino = struct.unpack_from("<II", img.block(blk), off)
    if kind == 3 and key >> 32 == c and peer_ino == l:
        lg = struct.unpack_from("<I", img.block(blk), off + 12)[0]
        img.put(blk, off + 12, "<I", lg + 7)
        break
else:
    raise SystemExit("no index entry")
PY
