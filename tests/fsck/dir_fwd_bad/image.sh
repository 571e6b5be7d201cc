#!/bin/sh
# dir_fwd_bad: /dir's continuation item (in its home in chunk 2) names
# another chunk than its key says (crc resealed).  The item is removed;
# the continuation it named, in chunk 3, loses its origin and its entries
# go to lost+found (chunk 3's check).
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
c, l, conts = img.lookup("/dir")
import struct
for key, blk, off, ln in img.tree(c, l)[0]:
    if key >= cfsimg.DKEY_CONT:
        img.put(blk, off, "<I", (key & 0xffffffff) + 1)
        break
else:
    raise SystemExit("no continuation item")
PY
