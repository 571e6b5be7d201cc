#!/bin/sh
# dirent_hash: the entry /hello.txt renamed "jello.txt" in place, so it is
# stored under the hash of the old name (crc resealed).  It is moved to
# its own hash; /jello.txt is then found by name.
. "$(dirname "$0")/../lib.sh"
std_image
C=$(chunk_of /hello.txt)
fsck_args --chunk "$C"
edit <<'PY'
c, l, _ = img.lookup("/hello.txt")
part, e = img.find_entry(c, "hello.txt")
img.put(e[1], e[2] + 6, "<B", ord("j"))
PY
