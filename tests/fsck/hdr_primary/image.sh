#!/bin/sh
# hdr_primary: the primary header of /hello.txt's chunk zeroed (inject header); the
# copy in the chunk's last block is good.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
inject "$C" header
