#!/bin/sh
# lf_part_gone: only the part of /lost+found in chunk 4 zeroed (its inode
# slot, crc resealed); lost+found/chunk-4 itself is intact but has lost its
# name.  It is an orphan directory and must be reattached somewhere
# reachable (or the problem reported), never inside itself.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
import struct
for key, blk, off, ln in img.link_index(4)[0]:
    kind, peer_ino = struct.unpack_from("<II", img.block(blk), off)
    if kind == 4 and key >> 32 == 0 and peer_ino == 2:
        part = key & 0xffffffff
blk, off = img.iloc(4, part)
img.block(blk)[off:off + 256] = bytes(256)
img.reseal(blk)
PY
