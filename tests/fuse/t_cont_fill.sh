#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t_cont_fill: a file whose chunk is full uses up the chunk it already
# continues in (down to the last resort: its metadata reserve plus a
# quarter of it) before it opens a continuation in a new chunk (issue 16,
# aging: a large file written into a nearly full filesystem hopped to a
# new chunk whenever its chunks fell below twice their reserve, one
# continuation per chunk for a few hundred blocks; docs/DESIGN.md,
# "Placement policy").  Through a real chunkfs-fuse mount, 3 chunks of
# 16 MiB: /f fills chunk 0 and continues into chunk X; then, measured from
# chunkfs stat, an append that leaves X 40 blocks above the last resort
# (below twice its reserve; the append's own metadata takes some): /f must still have 1 continuation, chunk X
# must have taken the data, the third chunk nothing; the content reads
# back after a remount and fsck.chunkfs -fn is clean.  Before, the append
# opened a second continuation in the third chunk.
. "$(dirname "$0")/lib.sh"
need_programs
is_chunkfs || { note "chunkfs only"; exit 0; }

mkimg "$IMG" 48M -C 16M
mount_fs "$IMG" "$MNT"
note "/f: 20 MiB, chunk 0 and a continuation"
py "$MNT" <<'EOF'
import os, sys
from cfs_util import *
fd = os.open(sys.argv[1] + "/f", os.O_CREAT | os.O_WRONLY, 0o644)
for i in range(20 * 32):
    pwrite_all(fd, bytes([i & 255]) * (32 << 10), i << 15)
os.fsync(fd)
os.close(fd)
EOF
umount_fs "$MNT"
"$CFS_BIN/chunkfs" stat --json "$IMG" /f >"$T/f1.json" || fail "chunkfs stat IMAGE /f failed"
"$CFS_BIN/chunkfs" stat --json "$IMG" >"$T/s1.json" || fail "chunkfs stat failed"
# the append, in blocks: X's free blocks less its reserve, a quarter of it
# (at least 8) and 40 (for the append's checksums and extents); X is the
# chunk other than 0 with the fewest free blocks (the one /f took)
add=$(py "$T/f1.json" "$T/s1.json" <<'EOF'
import json, sys
from cfs_util import *
f, s = json.load(open(sys.argv[1]))["paths"][0], json.load(open(sys.argv[2]))
eq(f["continuations"], 1, "/f's continuations after 20 MiB")
ch = [c for c in s["chunks"] if c["index"] != 0]
eq(len(ch), 2, "chunks other than 0")
x = min(ch, key=lambda c: c["free_blocks"])
res = 16 + x["blocks"] // 64
n = x["free_blocks"] - res - max(8, res // 4) - 40
check(x["free_blocks"] - n < 2 * res, "the append leaves chunk %d below twice its reserve" % x["index"])
check(n > 32, "room for the append in chunk %d: %d blocks" % (x["index"], n))
print(x["index"], n, x["blocks"] // 64 + 16)
EOF
) || fail "no plan for the append"
set -- $add
X=$1 N=$2
note "append $N blocks: chunk $X down to 40 blocks above its last resort"
mount_fs "$IMG" "$MNT"
py "$MNT" "$N" <<'EOF'
import os, sys
from cfs_util import *
mnt, n = sys.argv[1], int(sys.argv[2])
fd = os.open(mnt + "/f", os.O_WRONLY | os.O_APPEND)
st = os.fstat(fd)
bs = os.statvfs(mnt).f_bsize
done = 0
while done < n * bs:
    k = min(32 << 10, n * bs - done)
    pwrite_all(fd, bytes([(st.st_size + done) >> 15 & 255]) * k, st.st_size + done)
    done += k
os.fsync(fd)
os.close(fd)
EOF
remount_fs "$IMG" "$MNT"
py "$MNT" <<'EOF'
import os, sys
from cfs_util import *
d = read_file(sys.argv[1] + "/f")
for o in range(0, len(d), 32 << 10):
    eq(d[o:o + (32 << 10)], bytes([o >> 15 & 255]) * len(d[o:o + (32 << 10)]), "/f at %d" % o)
EOF
umount_fs "$MNT"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck.chunkfs -fn"; }
"$CFS_BIN/chunkfs" stat --json "$IMG" /f >"$T/f2.json" || fail "chunkfs stat IMAGE /f failed"
"$CFS_BIN/chunkfs" stat --json "$IMG" >"$T/s2.json" || fail "chunkfs stat failed"
py "$T/f2.json" "$T/s1.json" "$T/s2.json" "$X" "$N" <<'EOF'
import json, sys
from cfs_util import *
f = json.load(open(sys.argv[1]))["paths"][0]
s1, s2 = (dict((c["index"], c) for c in json.load(open(p))["chunks"]) for p in sys.argv[2:4])
x, n = int(sys.argv[4]), int(sys.argv[5])
for i in sorted(s2):
    log("chunk %d: %d -> %d free blocks" % (i, s1[i]["free_blocks"], s2[i]["free_blocks"]))
eq(f["continuations"], 1, "/f's continuations after the append (chunk %d had room)" % x)
check(s1[x]["free_blocks"] - s2[x]["free_blocks"] >= n, "chunk %d took the %d blocks" % (x, n))
for i in s2:
    if i not in (0, x):
        check(s1[i]["free_blocks"] - s2[i]["free_blocks"] < 8, "chunk %d took no data" % i)
EOF
finish
