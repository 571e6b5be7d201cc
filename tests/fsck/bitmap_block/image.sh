#!/bin/sh
# bitmap_block: chunk 4's block bitmap block zeroed (inject zero-block);
# rebuilt from the blocks in use.
. "$(dirname "$0")/../lib.sh"
std_image
inject 4 zero-block --block 1
