#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# xattrs spill into another chunk (issue 16, XCONT; FORMAT.md 10.3.2).
# Chunk 0 (the root's) is filled with metadata only: 4000-byte xattrs of
# /f, no file data that could make way.  Before XCONT the xattr after about
# 220 got ENOSPC while statfs showed 50 MB free; now the xattrs go on into
# an xattr continuation in another chunk.  Then: every value reads back
# (also after a remount), listxattr lists each name once, XATTR_CREATE and
# XATTR_REPLACE keep their meaning for spilled names, replaced values
# (larger, split over items) and removed names are right; removing all of
# a file's spilled xattrs drops its continuation, unlinking a file frees
# its continuation; `chunkfs paths` names the file for the chunk holding
# them; fsck.chunkfs -fn is clean.
. "$(dirname "$0")/lib.sh"

is_chunkfs || { echo "SKIP: chunkfs only"; exit 77; }

mkimg "$IMG" 64M -C 4M
mount_fs "$IMG" "$MNT"
py "$MNT" "$T/want" <<'EOF'
import errno, json, os, sys, cfs_util as u
m, want = sys.argv[1], sys.argv[2]
MB = 1 << 20
chunk = lambda p: os.stat(p).st_ino >> 32
for n in ("f", "g", "h"):
    u.write_file(m + "/" + n, b"")
    u.eq(chunk(m + "/" + n), 0, "chunk of /" + n)
val = lambda i, n=4000: bytes([(i * 7 + 1) & 255]) * n
# chunk 0 is all metadata: /f's xattrs fill it, and go on past it
x = {}
for i in range(420):
    k = "user.a%d" % i
    try:
        os.setxattr(m + "/f", k, val(i))
    except OSError as e:
        st = os.statvfs(m)
        u.check(False, "setxattr %s (%d set): %s with %d MB free" %
                (k, i, e, st.f_bavail * st.f_frsize // MB))
    x[k] = val(i)
st = os.statvfs(m)
u.log("420 x 4000 B on /f; %d MB free" % (st.f_bavail * st.f_frsize // MB))
u.check(st.f_bavail * st.f_frsize > 20 * MB, "room left elsewhere")
# flags, replace (larger values: split over items), remove
u.expect_errno(errno.EEXIST, os.setxattr, m + "/f", "user.a400", b"x",
               os.XATTR_CREATE)
u.expect_errno(errno.ENODATA, os.setxattr, m + "/f", "user.none", b"x",
               os.XATTR_REPLACE)
for i in list(range(0, 420, 20)) + [401, 419]:
    k = "user.a%d" % i
    x[k] = val(i + 3, 9000)
    os.setxattr(m + "/f", k, x[k], os.XATTR_REPLACE)
for i in list(range(5, 420, 10)):
    k = "user.a%d" % i
    os.removexattr(m + "/f", k)
    del x[k]
u.expect_errno(errno.ENODATA, os.getxattr, m + "/f", "user.a415")
u.expect_errno(errno.ENODATA, os.removexattr, m + "/f", "user.a415")
for k, v in x.items():
    u.eq(os.getxattr(m + "/f", k), v, "xattr %s" % k)
names = os.listxattr(m + "/f")
u.eq(len(names), len(set(names)), "each name listed once")
u.eq(sorted(names), sorted(x), "names of /f")
# /g: every xattr spills (chunk 0 has no room now); all removed again
for i in range(60):
    os.setxattr(m + "/g", "user.g%d" % i, val(i))
for i in range(60):
    os.removexattr(m + "/g", "user.g%d" % i)
u.eq(os.listxattr(m + "/g"), [], "xattrs of /g after removing them")
# /h: spilled xattrs, then the file goes
for i in range(60):
    os.setxattr(m + "/h", "user.h%d" % i, val(i))
os.unlink(m + "/h")
json.dump({k: v.hex() for k, v in x.items()}, open(want, "w"))
EOF
# the chunks holding xattrs of a file: only /f's are left
: >"$T/paths"
k=1
while [ $k -lt 16 ]; do
	"$CFS_BIN/chunkfs" paths "$MNT" --chunk $k >>"$T/paths" 2>&1 ||
		{ cat "$T/paths"; fail "chunkfs paths --chunk $k"; }
	k=$((k + 1))
done
grep -q '^  xattrs  *\/f (inode ' "$T/paths" ||
	{ cat "$T/paths"; fail "no chunk reports /f's xattrs"; }
if grep -E '^  xattrs  *(/g|/h|\(no name)' "$T/paths"; then
	fail "a dropped or freed xattr continuation is still there"
fi
remount_fs "$IMG" "$MNT"
py "$MNT" "$T/want" <<'EOF'
import json, os, sys, cfs_util as u
m, want = sys.argv[1], json.load(open(sys.argv[2]))
for k, v in want.items():
    u.eq(os.getxattr(m + "/f", k).hex(), v, "xattr %s after remount" % k)
u.eq(sorted(os.listxattr(m + "/f")), sorted(want), "names after remount")
u.eq(os.listxattr(m + "/g"), [], "xattrs of /g after remount")
EOF
umount_fs "$MNT"
journal_fit "$T"/daemon-*.log
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.out" 2>&1 ||
	{ tail -n 30 "$T/fsck.out"; fail "fsck.chunkfs -fn found problems"; }
finish
