#!/bin/sh
# v2_stale_copy: format v2 with second copies; the second copy of the first
# leaf of /dir's directory tree made stale (inject stale --copy second).
# The first copy is good: the stale copy is a bad block copy, rewritten
# from it; nothing lost.
. "$(dirname "$0")/../lib.sh"
std_image_v2
set -- $(where /dir)
inject "$1" stale --copy second \
	--block "$(meta_block "$1" "directory tree node of inode $2 (level 0)")"
