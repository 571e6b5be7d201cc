#!/bin/sh
# dirent_ino: the entry /hello.txt made to name local inode 200 of chunk 4,
# which is free (crc resealed).  The entry is removed; hello.txt's inode,
# now without a name, goes to lost+found.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
part, e = img.find_entry(c, "hello.txt")
img.put(e[1], e[2], "<I", 200)
PY
