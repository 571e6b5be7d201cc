#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t_punch_refill: refilling holes does not shred a file over the chunks
# (issue 16).  Through a real chunkfs-fuse mount on sparse images of 1, 4
# and 16 GiB, with 64 MiB and default (1 GiB) chunks: a 100 MiB file (40
# MiB with the default chunks) is written, a hole punched in every other 4 KiB block, the file written
# again from start to end; then the holes are punched again, refilled
# with fallocate (KEEP_SIZE) in the second half, and the first half zeroed
# by one ZERO_RANGE.  With the default chunks the file is of 40 MiB and a
# preallocated file first takes all of chunk 0 but 24 MiB, so the file
# straddles two chunks there too.  `chunkfs stat --json` must find no file with more than 10
# continuations per GiB of its size plus 2, the space for links under 1%
# of the space in use; the content is right after a remount and
# fsck.chunkfs -fn finds nothing.  (The first version left the file in
# 127 continuations: a hole of a full chunk went to the chunk with the
# most free blocks, each in turn, instead of waiting for the commit that
# gave back the blocks the copies on write had freed.)
. "$(dirname "$0")/lib.sh"
need_programs
is_chunkfs || { note "chunkfs only"; exit 0; }

one() { # SIZE CHUNK ("": the default) MiB
	size=$1; chunk=$2; mb=$3
	rm -f "$IMG"
	truncate -s "$size" "$IMG" || fail "truncate"
	if [ -n "$chunk" ]; then
		"$CFS_BIN/mkfs.chunkfs" -q -C "$chunk" "$IMG" || fail "mkfs"
	else
		"$CFS_BIN/mkfs.chunkfs" -q "$IMG" || fail "mkfs"
	fi
	pad=$("$CFS_BIN/chunkfs" stat --json "$IMG" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c0 = d["chunks"][0]
free = (c0["free_blocks"] - 16 - c0["blocks"] // 64) * d["block_size"]
mb = int(sys.argv[1])
print(max(0, free - (mb * 6 // 10 << 20)) // (1 << 20) if d["nchunks"] > 1 else 0)' "$mb") || fail "stat"
	mount_fs "$IMG" "$MNT"
	py "$MNT" "$pad" "$T/data2" "$mb" <<'EOF'
import os, sys
from cfs_util import *
mnt, pad, keep = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bs, n = 4096, int(sys.argv[4]) << 20
fd = os.open(mnt + "/f", os.O_CREAT | os.O_RDWR, 0o644)
check(os.stat(mnt + "/f").st_ino >> 32 == 0, "/f is not in chunk 0")
if pad: # (after /f: a file made now would go to a roomier chunk)
    pfd = os.open(mnt + "/pad", os.O_CREAT | os.O_RDWR, 0o644)
    fallocate(pfd, 0, 0, pad << 20)
    os.close(pfd)
chunk = os.urandom(1 << 20)
for i in range(n >> 20):
    pwrite_all(fd, chunk, i << 20)
os.fsync(fd)
def punch():
    for off in range(0, n, 2 * bs):
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, bs)
    os.fsync(fd)
punch()
data2 = os.urandom(1 << 20)
open(keep, "wb").write(data2)
for i in range(n >> 20):
    pwrite_all(fd, data2, i << 20)
os.fsync(fd)
punch()
# the holes of the second half again by fallocate (they read as zeroes);
# the first half zeroed with one ZERO_RANGE (its holes allocated)
for off in range(n // 2, n, 2 * bs):
    fallocate(fd, FALLOC_FL_KEEP_SIZE, off, bs)
fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, n // 2)
os.fsync(fd)
os.close(fd)
EOF
	remount_fs "$IMG" "$MNT"
	py "$MNT" "$T/data2" "$mb" <<'EOF'
import os, sys
from cfs_util import *
mnt, keep = sys.argv[1], sys.argv[2]
bs, n = 4096, int(sys.argv[3]) << 20
mib = bytearray(open(keep, "rb").read())
for o in range(0, 1 << 20, 2 * bs):
    mib[o:o + bs] = bytes(bs)
eq(read_file(mnt + "/f"), bytes(n // 2) + bytes(mib) * (n >> 21),
   "/f after remount")
EOF
	umount_fs "$MNT"
	"$CFS_BIN/chunkfs" stat --json "$IMG" /f | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["paths"][0]
what = sys.argv[1]
print("%s: /f has %d continuation(s); max per file %d, over the bound %d; "
      "space for links %.4f%% of used" % (what, p["continuations"],
      d["max_continuations_per_file"], d["files_over_continuation_bound"],
      d["link_overhead_pct"]))
bound = p["size"] * 10 // (1 << 30) + 2
assert p["continuations"] <= bound, "/f: %d continuations > %d" % (p["continuations"], bound)
assert d["files_over_continuation_bound"] == 0, "files over the bound"
assert d["link_overhead_pct"] < 1.0, "space for links %.3f%%" % d["link_overhead_pct"]
' "$size ${chunk:-default}" || fail "$size ${chunk:-default chunks}: too many continuations"
	"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.out" 2>&1 ||
		{ cat "$T/fsck.out"; fail "$size ${chunk:-default}: fsck.chunkfs -fn found problems"; }
}

# the issue's case (100 MiB) with 64 MiB chunks; 40 MiB with the default
# chunks (60% of it in chunk 0), to keep the test short
for s in 1G 4G 16G; do
	one "$s" 64M 100
	one "$s" "" 40
done
# and no operation of it outgrew a chunk's journal (the issue's ZERO_RANGE
# over the punched file did: "186 changed blocks do not fit its journal")
journal_fit "$T"/daemon-*.log
note "ok"
