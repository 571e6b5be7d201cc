#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Metadata aimed at a full chunk (issue 16, point 3): chunk 0 (the root's)
# is filled with a file's data while the other chunks have room; then
# xattrs on that file and on the root (4000-byte and 60 KiB values), hard
# links of that file into directories of other chunks (each needs a
# directory continuation in chunk 0), renames of it, renames into and out
# of the root, and creates in the root.  Every one must succeed (before,
# the metadata reserve of chunk 0 ran out after 7 xattrs of 4000 bytes,
# and a 60 KiB one failed at once, with 220 MB free): file data of chunk
# 0 moves to continuations in other chunks to make room
# (file_make_meta_room).  Then after a remount everything reads back, and
# fsck.chunkfs -fn is clean.  (Data operations aimed at a full chunk:
# space-A's tests.)
. "$(dirname "$0")/lib.sh"

is_chunkfs || { echo "SKIP: chunkfs only"; exit 77; }

mkimg "$IMG" 256M -C 4M
mount_fs "$IMG" "$MNT"
py "$MNT" "$T/want" <<'EOF'
import json, os, sys, cfs_util as u
m, want = sys.argv[1], sys.argv[2]
MB = 1 << 20
chunk = lambda p: os.stat(p).st_ino >> 32
data = bytes(range(256)) * (24 * 1024)                      # 6 MiB
u.write_file(m + "/filler", data)
os.sync()
u.eq(chunk(m + "/filler"), 0, "chunk of /filler")
os.mkdir(m + "/other")
st = os.statvfs(m)
u.log("chunk 0 full of /filler's data; %d MB free elsewhere" % (st.f_bavail * st.f_frsize // MB))
x4 = {"user.a%d" % i: bytes([i & 255]) * 4000 for i in range(150)}
for k, v in x4.items():
    os.setxattr(m + "/filler", k, v)
x60 = {"user.b%d" % i: bytes([(7 * i) & 255]) * 60000 for i in range(8)}
for k, v in x60.items():
    os.setxattr(m, k, v)
u.log("xattrs set: 150 x 4000 B on /filler, 8 x 60 KiB on /")
# directories elsewhere, then hard links of /filler into them: each needs
# a continuation of that directory in chunk 0
dirs = []
for i in range(120):
    d = m + "/other/d%d" % i
    os.mkdir(d)
    dirs.append(d)
u.check(any(chunk(d) != 0 for d in dirs), "directories in other chunks")
for i, d in enumerate(dirs[:100]):
    os.link(m + "/filler", d + "/link")
u.eq(os.stat(m + "/filler").st_nlink, 101, "links of /filler")
# renames of /filler's names, and creates and renames in the root
for i, d in enumerate(dirs[:50]):
    os.rename(d + "/link", dirs[100 + i % 20] + "/moved%d" % i)
for i in range(300):
    u.write_file(m + "/c%d" % i, b"c%d" % i)
for i in range(100):
    os.rename(m + "/c%d" % i, dirs[i] + "/from-root")
for i in range(20):
    os.rename(dirs[100 + i % 20] + "/moved%d" % i, m + "/back%d" % i)
json.dump({"x4": {k: v.hex() for k, v in x4.items()},
           "x60": {k: v.hex() for k, v in x60.items()}}, open(want, "w"))
EOF
remount_fs "$IMG" "$MNT"
py "$MNT" "$T/want" <<'EOF'
import json, os, sys, cfs_util as u
m, want = sys.argv[1], json.load(open(sys.argv[2]))
data = bytes(range(256)) * (24 * 1024)
u.eq(u.read_file(m + "/filler") == data, True, "content of /filler after remount")
for k, v in want["x4"].items():
    u.eq(os.getxattr(m + "/filler", k).hex(), v, "xattr %s of /filler" % k)
for k, v in want["x60"].items():
    u.eq(os.getxattr(m, k).hex(), v, "xattr %s of /" % k)
u.eq(os.stat(m + "/filler").st_nlink, 101, "links of /filler after remount")
for i in range(50, 100):
    u.eq(os.stat(m + "/other/d%d/link" % i).st_ino, os.stat(m + "/filler").st_ino, "link %d" % i)
for i in range(20, 50):
    u.eq(os.path.exists(m + "/other/d%d/moved%d" % (100 + i % 20, i)), True, "moved%d" % i)
for i in range(20):
    u.eq(os.stat(m + "/back%d" % i).st_ino, os.stat(m + "/filler").st_ino, "back%d" % i)
for i in range(100):
    u.eq(u.read_file(m + "/other/d%d/from-root" % i), b"c%d" % i, "from-root %d" % i)
for i in range(100, 300):
    u.eq(u.read_file(m + "/c%d" % i), b"c%d" % i, "c%d" % i)
EOF
umount_fs "$MNT"
journal_fit "$T"/daemon-*.log
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.out" 2>&1 ||
	{ tail -n 30 "$T/fsck.out"; fail "fsck.chunkfs -fn found problems"; }
finish
