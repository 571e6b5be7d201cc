#!/bin/sh
# dirent_ino: the entry /hello.txt made to name local inode 200 of its
# chunk, which is free (crc resealed).  The entry is removed; hello.txt's
# inode, now without a name, goes to lost+found.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
part, e = img.find_entry(c, "hello.txt")
img.put(e[1], e[2], "<I", 200)
PY
