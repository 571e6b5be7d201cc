#!/bin/sh
# fwd_broken: /big.bin's forward link (its continuation extent) gets a wrong
# generation (crc resealed).  /big.bin's chunk's cross pass cuts the link
# and truncates the file where its second part began; the continuation's
# chunk's check finds it without its origin and moves it to lost+found.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
c, l, conts = img.lookup("/big.bin")
import struct
for key, blk, off, ln in img.tree(c, l)[0]:
    if ln == 16:
        gen = struct.unpack_from("<I", img.block(blk), off + 12)[0]
        img.put(blk, off + 12, "<I", gen + 1000)
        break
else:
    raise SystemExit("no continuation extent")
PY
