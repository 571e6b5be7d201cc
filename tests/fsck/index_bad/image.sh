#!/bin/sh
# index_bad: chunk 0's link index root zeroed (inject zero-block); the
# index is rebuilt in a new block and the old one freed.
. "$(dirname "$0")/../lib.sh"
std_image
edit <<'PY' >"$W/root"
print(img.hdr(0, "link_root"))
PY
inject 0 zero-block --block "$(cat "$W/root")"
