#!/bin/sh
# lf_part_gone: only the part of /lost+found in the chunk C of /hello.txt
# (the small files) zeroed (its inode slot, crc resealed);
# lost+found/chunk-C itself is intact but has lost its name.  It is an orphan directory and must be reattached somewhere
# reachable (or the problem reported), never inside itself.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
export C
edit <<'PY'
import os, struct
c = int(os.environ["C"])
for key, blk, off, ln in img.link_index(c)[0]:
    kind, peer_ino = struct.unpack_from("<II", img.block(blk), off)
    if kind == 4 and key >> 32 == 0 and peer_ino == 2:
        part = key & 0xffffffff
blk, off = img.iloc(c, part)
img.block(blk)[off:off + 256] = bytes(256)
img.reseal(blk)
PY
