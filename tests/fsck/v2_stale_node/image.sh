#!/bin/sh
# v2_stale_node: format v2 with second copies; the first leaf of /dir's
# directory tree made stale in both copies (inject stale: its generation
# one lower than its parent's reference records, its checksum valid, as a
# lost write leaves it).  The stale node is not trusted: its entries are
# cut, and every name it held comes back from its inode's parent pointer
# (nothing goes to lost+found).
. "$(dirname "$0")/../lib.sh"
std_image_v2
set -- $(where /dir)
inject "$1" stale --block "$(meta_block "$1" "directory tree node of inode $2 (level 0)")"
