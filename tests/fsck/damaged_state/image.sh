#!/bin/sh
# damaged_state: a consistent image whose chunk 4 is marked DAMAGED in
# its header (both copies, crc resealed), as fsck itself leaves a chunk it
# could not fully repair.  fsck (no -f: it checks the chunks not marked
# clean) must check chunk 4 as it is: nothing is wrong in it but its state.
# exit 0: nothing is wrong (a state of DAMAGED is not itself a problem);
# the chunk should just be checked and marked clean again.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
img.set_hdr(4, "state", 4)    # CFS_CHUNK_DAMAGED
PY
