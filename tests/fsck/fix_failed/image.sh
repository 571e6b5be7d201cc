#!/bin/sh
# fix_failed: as lost_found (the chunk C of /hello.txt without
# lost+found/chunk-C, without a part of /lost+found, and /lost+found
# itself gone), and the entry /hello.txt deleted: the orphan cannot be
# reattached and stays unnamed.
# exit 4: the orphan cannot be reattached in chunk C without writing
# outside it, so the damage stays; the second run still finds the orphan.
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
part2, e = img.find_entry(c, "hello.txt")
leaf, key = img.entry_leaf(c, part2, "hello.txt")
img.leaf_write(leaf, [(k, v) for k, v in img.leaf_read(leaf) if k != key])
PY
