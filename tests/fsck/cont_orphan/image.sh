#!/bin/sh
# cont_orphan: /big.bin's inode (its origin, in chunk C) zeroed (its slot,
# crc resealed).  Checking chunk P (the continuation's): its continuation
# has no origin any more; it moves, with its data, to lost+found/chunk-P as
# cont-of-0-8. Chunk C's index still names it: the cross pass asks for chunk
# C's check, which drops the entry of /big.bin (naming a free inode) and
# frees its first part's blocks.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(cont_chunk /big.bin)
fsck_args --chunk "$C"
edit <<'PY'
c, l, conts = img.lookup("/big.bin")
blk, off = img.iloc(c, l)
img.block(blk)[off:off + 256] = bytes(256)
img.reseal(blk)
PY
