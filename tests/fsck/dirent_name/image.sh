#!/bin/sh
# dirent_name: the entry /hello.txt renamed "hello/txt" (a '/' in a name;
# crc resealed).  The entry is removed; the file goes to lost+found.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
part, e = img.find_entry(c, "hello.txt")
img.put(e[1], e[2] + 6 + 5, "<B", ord("/"))
PY
