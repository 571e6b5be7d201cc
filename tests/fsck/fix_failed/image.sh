#!/bin/sh
# fix_failed: as lost_found (chunk 4 without lost+found, without a part of
# /lost+found, and /lost+found itself gone), and the entry /hello.txt
# deleted: the orphan cannot be reattached and stays unnamed.
# exit 4: the orphan cannot be reattached in chunk 4 without writing
# outside it, so the damage stays; the second run still finds the orphan.
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
part2, e = img.find_entry(4, "hello.txt")
leaf, key = img.entry_leaf(4, part2, "hello.txt")
img.leaf_write(leaf, [(k, v) for k, v in img.leaf_read(leaf) if k != key])
PY
