#!/bin/sh
# dir_fwd_bad: /dir's continuation item (in its home chunk) names another
# chunk than its key says (the next one that is neither, crc resealed).  The item is removed; the
# continuation it named, in chunk P, loses its origin and its entries go to
# lost+found (chunk P's check).
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
c, l, conts = img.lookup("/dir")
import struct
for key, blk, off, ln in img.tree(c, l)[0]:
    if key >= cfsimg.DKEY_CONT:
        p = key & 0xffffffff
        wrong = next(x % img.nchunks for x in range(p + 1, p + img.nchunks)
                     if x % img.nchunks != c)
        img.put(blk, off, "<I", wrong)
        break
else:
    raise SystemExit("no continuation item")
PY
