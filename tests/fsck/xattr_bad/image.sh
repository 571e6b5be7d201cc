#!/bin/sh
# xattr_bad: the first xattr record of /xa.txt gets a zero name length
# (crc of its xattr root block resealed).  The attributes are dropped and
# the xattr block freed.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /xa.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/xa.txt")
root = img.abs(c, img.iget(c, l, "xattr_root"))
b = img.block(root)
import struct
key, off, ln = struct.unpack_from("<QHH", b, 64 + 8)
b[64 + off] = 0            # namelen of the first record
img.reseal(root)
PY
