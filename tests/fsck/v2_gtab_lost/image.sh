#!/bin/sh
# v2_gtab_lost: format v2 with second copies; both copies of the
# generation table block of /dir's chunk zeroed.  The generations of the
# inode table and the maps are lost, not those blocks: the table is made
# again from them (the newer good copy of each) and nothing else changes;
# no inode is lost.
. "$(dirname "$0")/../lib.sh"
std_image_v2
set -- $(where /dir)
inject "$1" zero-block --block "$(meta_block "$1" "generation table block 0")"
