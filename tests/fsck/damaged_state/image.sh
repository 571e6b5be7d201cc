#!/bin/sh
# damaged_state: a consistent image whose chunk of /hello.txt (the small
# files) is marked DAMAGED in its header (both copies, crc resealed), as
# fsck itself leaves a chunk it could not fully repair.  fsck (no -f: it
# checks the chunks not marked clean) must check that chunk as it is:
# nothing is wrong in it but its state.
# exit 0: nothing is wrong (a state of DAMAGED is not itself a problem);
# the chunk should just be checked and marked clean again.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
export C
edit <<'PY'
import os
img.set_hdr(int(os.environ["C"]), "state", 4)    # CFS_CHUNK_DAMAGED
PY
