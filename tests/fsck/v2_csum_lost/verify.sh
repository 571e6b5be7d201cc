#!/bin/sh
# every data block matches its checksum again
"$CFS_BIN/fsck.chunkfs" -fn --data "$1" >/dev/null
