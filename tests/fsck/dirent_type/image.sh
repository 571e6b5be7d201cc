#!/bin/sh
# dirent_type: the entry /hello.txt says "directory" (type 2; crc
# resealed).  The type is corrected to regular file.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
part, e = img.find_entry(c, "hello.txt")
img.put(e[1], e[2] + 4, "<B", 2)
PY
