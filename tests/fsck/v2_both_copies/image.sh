#!/bin/sh
# v2_both_copies: format v2 with second copies; both copies of inode
# table block 5 of /dir's chunk (inodes 75-89, files of /dir) zeroed
# (inject's default).  Nothing to heal from: repaired as in v1
# (itable_block): its inodes are lost, their entries in /dir go, the maps
# and counts follow.
. "$(dirname "$0")/../lib.sh"
std_image_v2
set -- $(where /dir)
inject "$1" zero-block --block "$(meta_block "$1" "inode table block 5 of")"
