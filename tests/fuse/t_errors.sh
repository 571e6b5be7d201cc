#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Error cases through FUSE: ENAMETOOLONG, ENOTEMPTY, EEXIST, ENOENT,
# ENOTDIR, EISDIR, EFBIG (file not damaged), ENOSPC on a full 16M image
# (and recovery: deleting frees the space, writing works again, no space
# leaks), then a remount to check nothing was corrupted.
. "$(dirname "$0")/lib.sh"

mkimg "$IMG" 64M
mount_fs "$IMG" "$MNT"

note "errno of failing operations"
py "$MNT" <<'EOF'
import os, sys, errno, stat
from cfs_util import *
M = sys.argv[1]
p = lambda *a: os.path.join(M, *a)

# ---- name length ----
n255, n256 = "a" * 255, "b" * 256
write_file(p(n255), b"255")
eq(read_file(p(n255)), b"255", "file with a 255-byte name")
check(n255 in os.listdir(M), "255-byte name listed")
os.mkdir(p("d"))
os.mkdir(p("d", "c" * 255))
os.symlink("t", p("d", "s" * 255))
n255u = "\u00e9" * 127 + "x"          # 255 bytes of UTF-8
eq(len(n255u.encode()), 255, "test bug")
write_file(p("d", n255u), b"utf8")
eq(read_file(p("d", n255u)), b"utf8", "255-byte UTF-8 name")
expect_errno(errno.ENAMETOOLONG, os.open, p(n256), os.O_CREAT | os.O_WRONLY)
expect_errno(errno.ENAMETOOLONG, os.mkdir, p(n256))
expect_errno(errno.ENAMETOOLONG, os.symlink, "t", p(n256))
expect_errno(errno.ENAMETOOLONG, os.mknod, p(n256), stat.S_IFIFO | 0o600)
expect_errno(errno.ENAMETOOLONG, os.link, p(n255), p(n256))
expect_errno(errno.ENAMETOOLONG, os.rename, p(n255), p(n256))
expect_errno(errno.ENAMETOOLONG, os.stat, p(n256))
expect_errno(errno.ENAMETOOLONG, os.unlink, p(n256))
expect_errno(errno.ENAMETOOLONG, os.open, p("d", "\u00e9" * 128), os.O_CREAT | os.O_WRONLY)
check(not any(len(n.encode()) > 255 for n in os.listdir(M)), "an over-long name was created")
eq(read_file(p(n255)), b"255", "255-byte-name file after the refused rename")

# ---- ENOTEMPTY / EEXIST / ENOENT / ENOTDIR / EISDIR ----
os.mkdir(p("full"))
write_file(p("full", "x"), b"x")
expect_errno(errno.ENOTEMPTY, os.rmdir, p("full"))
os.mkdir(p("full2"))
os.mkdir(p("full2", "sub"))
expect_errno(errno.ENOTEMPTY, os.rmdir, p("full2"))
os.mkdir(p("empty"))
expect_errno(errno.ENOTEMPTY, os.rename, p("empty"), p("full"))
expect_errno(errno.EEXIST, os.mkdir, p("full"))
expect_errno(errno.EEXIST, os.mkdir, p(n255))
expect_errno(errno.EEXIST, os.open, p("full", "x"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
expect_errno(errno.EEXIST, os.symlink, "t", p("full"))
expect_errno(errno.EEXIST, os.link, p(n255), p("full", "x"))
expect_errno(errno.EEXIST, os.mknod, p("full", "x"), stat.S_IFIFO | 0o600)
expect_errno(errno.ENOENT, os.open, p("nope"), os.O_RDONLY)
expect_errno(errno.ENOENT, os.stat, p("nope", "deeper"))
expect_errno(errno.ENOENT, os.unlink, p("nope"))
expect_errno(errno.ENOENT, os.rmdir, p("nope"))
expect_errno(errno.ENOENT, os.open, p("nope", "x"), os.O_CREAT | os.O_WRONLY)
expect_errno(errno.ENOENT, os.mkdir, p("nope", "x"))
expect_errno(errno.ENOENT, os.rename, p("nope"), p("x"))
expect_errno(errno.ENOENT, os.rename, p(n255), p("nope", "x"))
expect_errno(errno.ENOENT, os.link, p("nope"), p("x"))
expect_errno(errno.ENOENT, os.readlink, p("nope"))
expect_errno(errno.ENOENT, os.chmod, p("nope"), 0o644)
expect_errno(errno.ENOENT, os.truncate, p("nope"), 0)
expect_errno(errno.ENOTDIR, os.open, p(n255, "x"), os.O_RDONLY)
expect_errno(errno.ENOTDIR, os.open, p(n255, "x"), os.O_CREAT | os.O_WRONLY)
expect_errno(errno.ENOTDIR, os.mkdir, p(n255, "x"))
expect_errno(errno.ENOTDIR, os.rmdir, p(n255))
expect_errno(errno.ENOTDIR, os.listdir, p(n255))
expect_errno(errno.ENOTDIR, os.rename, p("empty"), p(n255))
expect_errno(errno.ENOTDIR, os.open, p(n255), os.O_RDONLY | os.O_DIRECTORY)
expect_errno(errno.EISDIR, os.open, p("full"), os.O_WRONLY)
expect_errno(errno.EISDIR, os.open, p("full"), os.O_RDWR)
expect_errno(errno.EISDIR, os.unlink, p("full"))
expect_errno(errno.EISDIR, os.rename, p(n255), p("empty"))
expect_errno(errno.EISDIR, os.truncate, p("full"), 0)
fd = os.open(p("full"), os.O_RDONLY | os.O_DIRECTORY)
expect_errno(errno.EISDIR, os.read, fd, 10)
os.close(fd)
expect_errno(errno.EINVAL, os.rmdir, p("full", "."))
expect_errno(errno.EINVAL, os.rename, p("full"), p("full", "inside"))
# nothing changed by all of the above
eq(sorted(os.listdir(p("full"))), ["x"], "content of full/ after the errors")
eq(sorted(os.listdir(p("empty"))), [], "content of empty/ after the errors")

# ---- EFBIG ----
d = os.urandom(300000)
write_file(p("big"), d)
fd = os.open(p("big"), os.O_RDWR)
expect_errno(errno.EFBIG, os.ftruncate, fd, 2 ** 62)
expect_errno(errno.EFBIG, os.truncate, p("big"), 2 ** 62)
expect_errno((errno.EFBIG, errno.EINVAL), os.pwrite, fd, b"x", 2 ** 62)
expect_errno(errno.EFBIG, fallocate, fd, 0, 2 ** 62, 4096)
eq(os.fstat(fd).st_size, 300000, "size after the refused EFBIG operations")
eq(os.pread(fd, 400000, 0), d, "content after the refused EFBIG operations")
# the limit itself (16 TiB for chunkfs and ext4 with 4K blocks)
os.ftruncate(fd, (1 << 44) - 4096)
eq(os.fstat(fd).st_size, (1 << 44) - 4096, "size after truncate to 16 TiB - 4 KiB")
pwrite_all(fd, b"END!", (1 << 44) - 4100)
eq(os.pread(fd, 4, (1 << 44) - 4100), b"END!", "data just below 16 TiB")
expect_errno(errno.EFBIG, os.ftruncate, fd, (1 << 44) + 4096)
os.ftruncate(fd, 300000)
eq(os.pread(fd, 400000, 0), d, "content after truncating back from 16 TiB")
os.close(fd)
log("errors ok")
EOF

note "persistence after the errors"
snap_save "$MNT" "$T/snap.json"
remount_fs "$IMG" "$MNT"
snap_check "$MNT" "$T/snap.json"
umount_fs "$MNT"

note "ENOSPC on a full 16M image, and recovery"
IMG2=$T/small.img
mkimg "$IMG2" 16M
mount_fs "$IMG2" "$MNT"
py "$MNT" <<'EOF'
import os, sys, errno, hashlib
from cfs_util import *
M = sys.argv[1]
p = lambda *a: os.path.join(M, *a)
v0 = os.statvfs(M)
log("empty fs:", v0)
keep = os.urandom(100000)
write_file(p("keep"), keep)

def fill(path, step=1 << 20):
    """Write random data until ENOSPC; returns the bytes that write()
    accepted (they must all be readable afterwards)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    written = bytearray()
    err = None
    try:
        while len(written) < 64 << 20:
            b = os.urandom(step)
            n = os.write(fd, b)
            written += b[:n]
    except OSError as e:
        err = e
    try:
        os.fsync(fd)
    except OSError as e:
        err = err or e
    os.close(fd)
    check(err is not None, "wrote 64 MiB to a 16 MiB file system without an error")
    eq(err.errno, errno.ENOSPC, "errno when the file system is full (%s)" % err)
    return bytes(written)

got = fill(p("filler"))
log("filler accepted %d bytes before ENOSPC" % len(got))
check(len(got) >= 4 << 20, "only %d bytes fit into a 16M image" % len(got))
eq(os.stat(p("filler")).st_size, len(got), "size of the file that hit ENOSPC")
eq(file_sha(p("filler")), sha(got), "content of the file that hit ENOSPC")
eq(read_file(p("keep")), keep, "older file after ENOSPC")
v1 = os.statvfs(M)
check(v1.f_bavail * v1.f_frsize < 1 << 20, "statfs says %d bytes still available" % (v1.f_bavail * v1.f_frsize))
# more small writes keep failing cleanly
expect_errno(errno.ENOSPC, write_file, p("filler2"), os.urandom(2 << 20))
# small files until inodes or blocks run out
made = 0
err = None
try:
    for i in range(200000):
        write_file(p("s%06d" % i), b"x" * 100)
        made += 1
except OSError as e:
    err = e
check(err is not None and err.errno == errno.ENOSPC, "creating files on a full fs: %r" % err)
log("%d small files created after the filler" % made)
# delete everything: space comes back, writing works again
os.unlink(p("filler"))
if os.path.exists(p("filler2")):
    os.unlink(p("filler2"))
for i in range(made + 1):
    if os.path.exists(p("s%06d" % i)):
        os.unlink(p("s%06d" % i))
wait_for(lambda: os.statvfs(M).f_bfree >= v0.f_bfree - 100000 // v0.f_frsize - 64)
v2 = os.statvfs(M)
log("after deleting:", v2)
check(v2.f_bfree >= v0.f_bfree - 100000 // v0.f_frsize - 64,
      "free blocks not recovered: %d at the start, %d after deleting everything" % (v0.f_bfree, v2.f_bfree))
check(v2.f_ffree >= v0.f_ffree - 2, "free inodes not recovered: %d -> %d" % (v0.f_ffree, v2.f_ffree))
again = os.urandom(4 << 20)
write_file(p("again"), again)
fd = os.open(p("again"), os.O_RDONLY)
os.fsync(fd)
os.close(fd)
eq(file_sha(p("again")), sha(again), "4 MiB written after freeing space")
got2 = fill(p("filler3"))
check(len(got2) >= len(got) - (5 << 20) - (1 << 20),
      "second fill got only %d bytes (first %d, 4 MiB held by 'again')" % (len(got2), len(got)))
os.unlink(p("filler3"))
eq(read_file(p("keep")), keep, "older file at the end")
log("ENOSPC ok")
EOF
snap_save "$MNT" "$T/snap2.json"
remount_fs "$IMG2" "$MNT"
snap_check "$MNT" "$T/snap2.json"
umount_fs "$MNT"
echo "PASS: t_errors"
