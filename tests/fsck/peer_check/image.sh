#!/bin/sh
# peer_check: /big.bin's continuation inode in its chunk P zeroed (its slot,
# crc resealed) and its BACK entry dropped from chunk P's index.  Checking
# chunk P: /big.bin's chunk's index still has the forward entry into chunk
# P, which chunk P does not know: the peer entry is removed and /big.bin's
# chunk is checked next (peer_check), which cuts /big.bin's forward link.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(cont_chunk /big.bin)
fsck_args --chunk "$C"
edit <<'PY'
c, l, conts = img.lookup("/big.bin")
import struct
p = conts[0]
items, nodes = img.link_index(p)
for key, blk, off, ln in items:
    kind, peer_ino = struct.unpack_from("<II", img.block(blk), off)
    if kind == 3 and key >> 32 == c and peer_ino == l:
        loc = key & 0xffffffff
        break
else:
    raise SystemExit("no continuation found")
blk, ioff = img.iloc(p, loc)
img.block(blk)[ioff:ioff + 256] = bytes(256)
img.reseal(blk)
leaf = (nodes[0][0], 64, img.bs - 64)
img.leaf_write(leaf, [(k, v) for k, v in img.leaf_read(leaf) if k != key])
img.set_hdr(p, "link_count", img.hdr(p, "link_count") - 1)
PY
