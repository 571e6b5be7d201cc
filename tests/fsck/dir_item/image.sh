#!/bin/sh
# dir_item: the name length of the entry /hello.txt set to 200, past the
# end of its item (crc resealed).  The item's entries are dropped; the file
# goes to lost+found.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
part, e = img.find_entry(c, "hello.txt")
img.put(e[1], e[2] + 5, "<B", 200)
PY
