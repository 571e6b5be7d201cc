#!/bin/sh
# bitmap_block: the block bitmap block of /hello.txt's chunk (the small
# files') zeroed (inject zero-block); rebuilt from the blocks in use.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
inject "$C" zero-block --block 1
