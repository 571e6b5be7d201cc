#!/bin/sh
# v2_csum_lost: format v2 with data checksums; both copies of the first
# checksum block of /dir's chunk zeroed.  The checksums are lost, not the
# data: the block is made again from the data as it is, nothing else
# changes, and every file reads back (fsck -fn --data finds nothing).
. "$(dirname "$0")/../lib.sh"
std_image_v2
set -- $(where /dir)
inject "$1" zero-block --block "$(meta_block "$1" "checksum block 0")"
