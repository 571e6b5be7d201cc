#!/bin/sh
# lost+found/chunk-4 must not end up named from inside itself (a loop no
# path from the root reaches).
FSCK_DIR=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$FSCK_DIR" python3 - "$1" <<'PY'
import sys, cfsimg
img = cfsimg.Image(sys.argv[1])
bad = [(d, e[5].decode()) for d in img.dir_parts(4)
       for e in img.dirents(4, d) if e[3] == d]
img.close()
if bad:
    print("directories of chunk 4 named from inside themselves:", bad)
    sys.exit(1)
PY
