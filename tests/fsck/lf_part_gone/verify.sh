#!/bin/sh
# lost+found/chunk-C (C: the chunk image.sh damaged) must not end up named
# from inside itself (a loop no path from the root reaches); no directory
# of any chunk is.
FSCK_DIR=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$FSCK_DIR" python3 - "$1" <<'PY'
import sys, cfsimg
img = cfsimg.Image(sys.argv[1])
bad = [(c, d, e[5].decode()) for c in range(img.nchunks)
       for d in img.dir_parts(c) for e in img.dirents(c, d) if e[3] == d]
img.close()
if bad:
    print("directories named from inside themselves:", bad)
    sys.exit(1)
PY
