#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# t_fullchunk_data: file data never gets ENOSPC while the filesystem has
# room (issue 16), whatever chunk the range would prefer.  The chunks are
# filled unevenly through a real chunkfs-fuse mount: the file /f lives in
# chunk 0 and continues into chunk X (a continuation range), holes are
# punched all over it, then both chunks are filled to the brim while
# other chunks keep room.  Aimed at those full chunks, each of: writes into
# holes of f's own range and of its continuation range, a write across
# holes and data, fallocate (default, KEEP_SIZE, PUNCH_HOLE with partial
# blocks, ZERO_RANGE over holes), an extending truncate with a partial last
# block, and appends to a small file of chunk 0 must succeed; the content
# is right after a remount and fsck.chunkfs -fn finds nothing.  Then the
# same with every other chunk only a few blocks above its reserve (f_bavail
# still covers it), and last an overwrite of the full continuation's range
# once chunk 0 has room again: no new continuation, blocks come home.
. "$(dirname "$0")/lib.sh"
need_programs
is_chunkfs || { note "chunkfs only"; exit 0; }

# fill DIR SIZE (python, fill_util.fill): files of SIZE bytes (byte i & 255
# in file i) until ENOSPC; when no inode can be made (a create may find no
# room for its inode: space-B's part), the last file grows until ENOSPC.
cat >"$T/py/fill_util.py" <<'EOF'
import errno, json, os
from cfs_util import *

def fill(d, size):
    os.mkdir(d)
    i = 0
    while i < 10000:
        try:
            fd = os.open("%s/%d" % (d, i), os.O_CREAT | os.O_WRONLY, 0o644)
        except OSError as e:
            check(e.errno == errno.ENOSPC and i > 0, "creating: %s" % e)
            i -= 1
            fd = os.open("%s/%d" % (d, i), os.O_WRONLY | os.O_APPEND)
            size = 1 << 40
        try:
            for o in range(0, size, 32 << 10):
                pwrite_all(fd, bytes([i & 255]) * min(32 << 10, size - o), o)
            os.fsync(fd)
        except OSError as e:
            check(e.errno == errno.ENOSPC, "filling: %s" % e)
            os.close(fd)
            return
        os.close(fd)
        i += 1
    check(False, "never reached ENOSPC")

def chunks(stat_json):
    """Prints each chunk's free blocks; returns (chunks, reserve of c)."""
    d = json.load(open(stat_json))
    res = lambda c: 16 + c["blocks"] // 64
    for c in d["chunks"]:
        print("chunk %d: %d free blocks (reserve %d)" %
              (c["index"], c["free_blocks"], res(c)))
    return d["chunks"], res

def verify(mnt, model, dirs):
    """/f and the fillers in dirs read back right."""
    eq(read_file(mnt + "/f"), open(model, "rb").read(), "f after remount")
    for d in dirs:
        for n in os.listdir(mnt + "/" + d):
            got = read_file(mnt + "/" + d + "/" + n)
            eq(got, bytes([int(n) & 255]) * len(got), d + "/" + n)

def model_writer(mnt, model):
    """/f opened, its expected content, and w(off, n, what) writing
    random bytes to both."""
    data = bytearray(open(model, "rb").read())
    fd = os.open(mnt + "/f", os.O_RDWR)
    eq(os.pread(fd, len(data) + 1, 0), bytes(data), "f before")
    def w(off, n, what):
        b = os.urandom(n)
        try:
            pwrite_all(fd, b, off)
        except OSError as e:
            raise AssertionError("%s: %s" % (what, e))
        data[off:off + n] = b
    return fd, data, w
EOF

# check_after DIRS...: remount; /f and the fillers in DIRS read back right
check_after() {
	remount_fs "$IMG" "$MNT"
	py "$MNT" "$T/model" "$@" <<'EOF'
import sys
from fill_util import verify
verify(sys.argv[1], sys.argv[2], sys.argv[3:])
EOF
	umount_fs "$MNT"
}
fsck_clean() {
	"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.out" 2>&1 ||
		{ cat "$T/fsck.out"; fail "fsck.chunkfs -fn found problems"; }
}

mkimg "$IMG" 32M -C 4M
mount_fs "$IMG" "$MNT"

# /f (5 MiB: fills chunk 0, continues elsewhere), /small, holes in /f
py "$MNT" "$T/model" <<'EOF'
import os, sys
from cfs_util import *
mnt, model = sys.argv[1], sys.argv[2]
bs = 4096
data = bytearray(os.urandom(5 << 20))
fd = os.open(mnt + "/f", os.O_CREAT | os.O_RDWR, 0o644)
pwrite_all(fd, bytes(data), 0)
os.fsync(fd)
for off in range(0, len(data), 2 * bs):
    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, bs)
    data[off:off + bs] = bytes(bs)
os.fsync(fd)
os.close(fd)
write_file(mnt + "/small", b"s" * 1000)
open(model, "wb").write(data)
EOF
umount_fs "$MNT"
X=$("$CFS_BIN/chunkfs" stat --json "$IMG" /f | python3 -c '
import json, sys
p = json.load(sys.stdin)["paths"][0]
assert p["chunk"] == 0, p
assert p["continuation_chunks"], p
print(p["continuation_chunks"][0])') || fail "/f is not in chunk 0 with a continuation"
note "/f lives in chunk 0 and continues in chunk $X"

# fill every chunk, then free the chunks other than 0 and X
mount_fs "$IMG" "$MNT"
py "$MNT" "$X" <<'EOF'
import os, sys
from cfs_util import *
from fill_util import fill
mnt, x = sys.argv[1], int(sys.argv[2])
fill(mnt + "/fill", 64 << 10)
# the fillers whose inode is in another chunk than 0 and X go
kept = 0
for n in os.listdir(mnt + "/fill"):
    p = mnt + "/fill/" + n
    if os.stat(p).st_ino >> 32 in (0, x):
        kept += 1
    else:
        os.unlink(p)
log("kept %d fillers in chunks 0 and %d" % (kept, x))
syncfs(os.open(mnt, os.O_RDONLY))
EOF
umount_fs "$MNT"
"$CFS_BIN/chunkfs" stat --json "$IMG" >"$T/stat.json" || fail "stat"
python3 - "$T/stat.json" "$X" <<'EOF' || fail "the uneven fill is not as intended"
import sys
from fill_util import chunks
cs, res = chunks(sys.argv[1])
for i in (0, int(sys.argv[2])):
    assert cs[i]["free_blocks"] <= res(cs[i]) + 8, "chunk %d is not full" % i
room = sum(max(0, c["free_blocks"] - res(c)) for c in cs)
assert room > 512, "no room left elsewhere (%d blocks)" % room
EOF

mount_fs "$IMG" "$MNT"
py "$MNT" "$T/model" <<'EOF'
import os, sys
from cfs_util import *
from fill_util import model_writer
mnt, model = sys.argv[1], sys.argv[2]
bs = 4096
fd, data, w = model_writer(mnt, model)

# holes (odd blocks are data, even blocks holes) at the start (chunk 0's
# range) and at the end (the continuation's range)
end = len(data)
for blk in (0, 2, 40, 100):
    w(blk * bs, bs, "write into a hole of chunk 0's range")
for blk in range(end // bs - 2, end // bs - 60, -2):
    w(blk * bs, bs, "write into a hole of the continuation's range")
# across holes and data, unaligned
w(end - 300 * bs + 123, 40 * bs, "write across holes and data")
w(200 * bs + 7, 20 * bs, "write across holes and data (chunk 0)")
# fallocate over holes: KEEP_SIZE, default, ZERO_RANGE; PUNCH_HOLE with
# partial blocks (the partial blocks are rewritten)
fallocate(fd, FALLOC_FL_KEEP_SIZE, end - 120 * bs, 16 * bs)
fallocate(fd, FALLOC_FL_KEEP_SIZE, 300 * bs, 16 * bs)
fallocate(fd, 0, end - 160 * bs, 20 * bs)
fallocate(fd, FALLOC_FL_ZERO_RANGE, end - 200 * bs + 100, 20 * bs)
data[end - 200 * bs + 100:end - 180 * bs + 100] = bytes(20 * bs)
fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
          end - 240 * bs + 5, 9 * bs)
data[end - 240 * bs + 5:end - 231 * bs + 5] = bytes(9 * bs)
# default mode past the end: the size grows
fallocate(fd, 0, end, 64 * bs)
data += bytes(64 * bs)
eq(os.fstat(fd).st_size, len(data), "size after fallocate")
# truncate: shrink to a partial block, then extend
os.ftruncate(fd, len(data) - 64 * bs - 777)
del data[len(data) - 64 * bs - 777:]
w(len(data) - 100, 50, "write into the partial last block")
os.ftruncate(fd, len(data) + 3 * bs + 5)
data += bytes(3 * bs + 5)
w(len(data) - bs - 5, 2 * bs, "write extending the file")
os.fsync(fd)
eq(os.pread(fd, len(data) + 1, 0), bytes(data), "f after the changes")
os.close(fd)
# the small file of the full chunk 0 grows
fd = os.open(mnt + "/small", os.O_RDWR | os.O_APPEND)
pwrite_all(fd, b"t" * (64 << 10), 1000)
os.close(fd)
open(model, "wb").write(data)
EOF
remount_fs "$IMG" "$MNT"
py "$MNT" "$T/model" <<'EOF'
import sys
from cfs_util import *
from fill_util import verify
mnt = sys.argv[1]
verify(mnt, sys.argv[2], ("fill",))
eq(read_file(mnt + "/small"), b"s" * 1000 + b"t" * (64 << 10),
   "small after remount")
EOF
umount_fs "$MNT"
fsck_clean

# Now every other chunk too is filled, then given back only a few blocks
# above its metadata reserve: f_bavail still covers what follows, so it
# must succeed (the first version wanted twice the reserve free in the
# chunk a range continues into, and said ENOSPC).
mount_fs "$IMG" "$MNT"
py "$MNT" "$X" <<'EOF'
import os, sys
from cfs_util import *
from fill_util import fill
mnt, x = sys.argv[1], int(sys.argv[2])
fill(mnt + "/fill2", 32 << 10)
gone = {}
for n in sorted(os.listdir(mnt + "/fill2"), key=int):
    p = mnt + "/fill2/" + n
    c = os.stat(p).st_ino >> 32
    if c not in (0, x) and gone.get(c, 0) < 3 and \
            os.stat(p).st_size == 32 << 10:
        os.unlink(p)
        gone[c] = gone.get(c, 0) + 1
syncfs(os.open(mnt, os.O_RDONLY))
EOF
umount_fs "$MNT"
"$CFS_BIN/chunkfs" stat --json "$IMG" >"$T/stat.json" || fail "stat"
python3 - "$T/stat.json" <<'EOF' || fail "the second fill is not as intended"
import sys
from fill_util import chunks
cs, res = chunks(sys.argv[1])
for c in cs:
    assert c["free_blocks"] <= 2 * res(c), "chunk %d has too much room" % c["index"]
room = sum(max(0, c["free_blocks"] - res(c)) for c in cs)
assert room >= 100, "too little room left (%d blocks)" % room
EOF
mount_fs "$IMG" "$MNT"
py "$MNT" "$T/model" <<'EOF'
import os, sys
from cfs_util import *
from fill_util import model_writer
mnt, model = sys.argv[1], sys.argv[2]
bs = 4096
v = os.statvfs(mnt)
log("f_bavail %d blocks" % v.f_bavail)
fd, data, w = model_writer(mnt, model)
end = len(data) - len(data) % bs
# 20 blocks of the continuation's range, 10 holes of chunk 0's, fallocate
# over 16 blocks, an extending truncate: about 60 blocks
for blk in range(end // bs - 402, end // bs - 442, -2):
    w(blk * bs, bs, "write into the continuation's range")
for blk in range(600, 620, 2):
    w(blk * bs, bs, "write into a hole of chunk 0's range")
fallocate(fd, FALLOC_FL_KEEP_SIZE, end - 500 * bs, 16 * bs)
os.ftruncate(fd, len(data) + 10 * bs)
data += bytes(10 * bs)
w(len(data) - 5 * bs, 3 * bs, "write past the old end")
check(v.f_bavail >= 64, "f_bavail %d is below what was written" % v.f_bavail)
os.fsync(fd)
os.close(fd)
open(model, "wb").write(data)
EOF
check_after fill fill2
fsck_clean

# Last, chunk 0 gets room back (its fillers go) while X stays full: an
# overwrite of f's continuation range (a copy on write, DATASUM) comes home
# to chunk 0 and makes no new continuation elsewhere (once the copies have
# freed blocks in X, a commit gives them back and the rest stays in X).
mount_fs "$IMG" "$MNT"
py "$MNT" <<'EOF'
import os, sys
mnt = sys.argv[1]
for d in ("fill", "fill2"):
    for n in os.listdir(mnt + "/" + d):
        if os.stat(mnt + "/" + d + "/" + n).st_ino >> 32 == 0:
            os.unlink(mnt + "/" + d + "/" + n)
EOF
umount_fs "$MNT"
"$CFS_BIN/chunkfs" stat --json "$IMG" /f >"$T/stat.json" || fail "stat"
python3 - "$T/stat.json" "$X" >"$T/before" <<'EOF' || fail "the third fill is not as intended"
import json, sys
from fill_util import chunks
cs, res = chunks(sys.argv[1])
x = int(sys.argv[2])
assert cs[x]["free_blocks"] <= res(cs[x]) + 8, "chunk %d is not full" % x
assert cs[0]["free_blocks"] >= res(cs[0]) + 100, "chunk 0 has no room"
print(json.load(open(sys.argv[1]))["paths"][0]["continuations"],
      cs[0]["free_blocks"])
EOF
cat "$T/before"
mount_fs "$IMG" "$MNT"
py "$MNT" "$T/model" <<'EOF'
import os, sys
from cfs_util import *
from fill_util import model_writer
mnt, model = sys.argv[1], sys.argv[2]
bs = 4096
fd, data, w = model_writer(mnt, model)
for blk in range(len(data) // bs - 300, len(data) // bs - 236):
    w(blk * bs, bs, "overwrite of the continuation's range")
os.fsync(fd)
os.close(fd)
open(model, "wb").write(data)
EOF
check_after fill fill2
"$CFS_BIN/chunkfs" stat --json "$IMG" /f | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["paths"][0]
n0, free0 = [int(v) for v in sys.argv[1].split()[-2:]]
free = d["chunks"][0]["free_blocks"]
print("/f: %d continuations (%d before); chunk 0: %d free blocks (%d before)"
      % (p["continuations"], n0, free, free0))
assert p["continuations"] == n0, "a new continuation"
assert free < free0, "no block came to chunk 0"
' "$(tail -n 1 "$T/before")" || fail "the overwrite did not come home to chunk 0"
fsck_clean
note "ok"
