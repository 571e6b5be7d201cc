#!/bin/sh
# v2_copy_first: format v2 with second copies; the first copy of inode
# table block 5 of /dir's chunk (inodes 75-89, files of /dir) zeroed
# (inject --copy first).  The second copy is good: a bad block copy, healed
# from it (a corrected error, not a problem), nothing lost.
. "$(dirname "$0")/../lib.sh"
std_image_v2
set -- $(where /dir)
inject "$1" zero-block --block "$(meta_block "$1" "inode table block 5 of")" \
	--copy first
