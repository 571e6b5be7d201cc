#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Every basic operation through a real FUSE mount: files, attributes,
# special files, directories, symlinks, hard links, rename (with flags),
# xattrs, statfs, sync calls; then everything must survive a remount.
. "$(dirname "$0")/lib.sh"

mkimg "$IMG" 256M
mount_fs "$IMG" "$MNT"

note "basic operations"
py "$MNT" <<'EOF'
import os, stat, errno, sys
from cfs_util import *
M = sys.argv[1]
os.umask(0o022)
chunkfs = os.environ.get("CFS_TEST_BACKEND", "chunkfs") == "chunkfs"
p = lambda *a: os.path.join(M, *a)

# fuse2fs (only used to debug these tests) keeps no nanoseconds
NS = (lambda v: v) if os.environ.get("CFS_TEST_BACKEND") != "fuse2fs" else (lambda v: v - v % 10**9)
if chunkfs:
    eq(os.stat(M).st_ino, 1, "st_ino of the root directory")

# ---- create / open / read / write ----
data = os.urandom(100000)
write_file(p("f1"), data)
eq(read_file(p("f1")), data, "content of f1")
eq(os.stat(p("f1")).st_size, 100000, "size of f1")
check(stat.S_ISREG(os.stat(p("f1")).st_mode), "f1 is a regular file")
eq(stat.S_IMODE(os.stat(p("f1")).st_mode), 0o644, "mode of f1")
expect_errno(errno.EEXIST, os.open, p("f1"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
fd = os.open(p("f1"), os.O_RDWR)
pwrite_all(fd, b"HELLO", 50000)
eq(os.pread(fd, 9, 49998), data[49998:50000] + b"HELLO" + data[50005:50007], "pread after pwrite")
pwrite_all(fd, b"tail", 200000)              # extends with a hole
eq(os.fstat(fd).st_size, 200004, "size after writing past EOF")
eq(os.pread(fd, 100004, 100000), b"\0" * 100000 + b"tail", "gap after EOF reads as zeros")
os.close(fd)
fd = os.open(p("f1"), os.O_WRONLY | os.O_APPEND)
os.write(fd, b"APPENDED")
os.close(fd)
eq(os.stat(p("f1")).st_size, 200012, "size after O_APPEND write")
eq(read_file(p("f1"))[-8:], b"APPENDED", "O_APPEND data at the end")
fd = os.open(p("f1"), os.O_WRONLY | os.O_TRUNC)
os.close(fd)
eq(os.stat(p("f1")).st_size, 0, "size after O_TRUNC")
# empty file
write_file(p("empty"), b"")
eq(os.stat(p("empty")).st_size, 0, "size of an empty file")
eq(read_file(p("empty")), b"", "content of an empty file")
# unaligned writes spanning blocks
buf = bytearray(os.urandom(70000))
write_file(p("f2"), bytes(buf))
fd = os.open(p("f2"), os.O_RDWR)
for off, n in ((1, 10), (4095, 2), (4096 * 3 - 7, 9000), (69990, 20)):
    chunk = os.urandom(n)
    pwrite_all(fd, chunk, off)
    end = off + n
    if end > len(buf):
        buf.extend(b"\0" * (end - len(buf)))
    buf[off:end] = chunk
os.close(fd)
eq(read_file(p("f2")), bytes(buf), "content after unaligned overwrites")

# ---- truncate ----
write_file(p("t"), data)
os.truncate(p("t"), 12345)
eq(read_file(p("t")), data[:12345], "content after truncate down")
os.truncate(p("t"), 50000)
eq(read_file(p("t")), data[:12345] + b"\0" * (50000 - 12345), "content after truncate up")
fd = os.open(p("t"), os.O_RDWR)
os.ftruncate(fd, 4096)
eq(os.fstat(fd).st_size, 4096, "size after ftruncate")
os.ftruncate(fd, 0)
eq(os.fstat(fd).st_size, 0, "size after ftruncate to 0")
pwrite_all(fd, b"x", 10000)
os.close(fd)
eq(read_file(p("t")), b"\0" * 10000 + b"x", "content after truncate 0 and write")

# ---- chmod / chown ----
write_file(p("perm"), b"p")
os.chmod(p("perm"), 0o4751)
eq(stat.S_IMODE(os.stat(p("perm")).st_mode), 0o4751, "mode after chmod 4751")
os.chmod(p("perm"), 0o640)
eq(stat.S_IMODE(os.stat(p("perm")).st_mode), 0o640, "mode after chmod 640")
os.chown(p("perm"), 1234, 5678)
st = os.stat(p("perm"))
eq((st.st_uid, st.st_gid), (1234, 5678), "uid/gid after chown")
os.chown(p("perm"), -1, 42)
st = os.stat(p("perm"))
eq((st.st_uid, st.st_gid), (1234, 42), "uid/gid after chown of the gid only")
c0 = os.stat(p("perm")).st_ctime_ns
os.chmod(p("perm"), 0o600)
check(os.stat(p("perm")).st_ctime_ns >= c0, "ctime does not go back after chmod")

# ---- utimens with nanoseconds ----
write_file(p("times"), b"t")
os.utime(p("times"), ns=(1111111111123456789, 1234567890987654321))
st = os.stat(p("times"))
eq(st.st_mtime_ns, NS(1234567890987654321), "mtime_ns after utimens")
eq(st.st_atime_ns, NS(1111111111123456789), "atime_ns after utimens")
os.mkdir(p("tdir"))
os.utime(p("tdir"), ns=(1, 999999999))
eq(os.stat(p("tdir")).st_mtime_ns, NS(999999999), "directory mtime_ns after utimens")
os.utime(p("times"), ns=(1111111111123456789, 1234567890987654321))
# pre-1970 time
write_file(p("oldtime"), b"o")
os.utime(p("oldtime"), ns=(-1000000000 * 86400 + 5, -1000000000 * 86400 + 7))
eq(os.stat(p("oldtime")).st_mtime_ns, NS(-1000000000 * 86400 + 7), "negative mtime_ns")
# mtime moves on write
write_file(p("mt"), b"a")
os.utime(p("mt"), ns=(10**18, 10**18))
fd = os.open(p("mt"), os.O_WRONLY)
os.write(fd, b"b")
os.close(fd)
check(os.stat(p("mt")).st_mtime_ns != 10**18, "mtime updated by a write")
os.utime(p("mt"), ns=(10**18, 10**18))

# ---- mknod of every type ----
os.umask(0)
os.mknod(p("n_reg"), 0o640 | stat.S_IFREG)
os.mknod(p("n_fifo"), 0o600 | stat.S_IFIFO)
os.mknod(p("n_sock"), 0o644 | stat.S_IFSOCK)
os.mknod(p("n_chr"), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
os.mknod(p("n_blk"), 0o660 | stat.S_IFBLK, os.makedev(259, 65537))
for name, fmt, perm in (("n_reg", stat.S_IFREG, 0o640), ("n_fifo", stat.S_IFIFO, 0o600),
                        ("n_sock", stat.S_IFSOCK, 0o644), ("n_chr", stat.S_IFCHR, 0o600),
                        ("n_blk", stat.S_IFBLK, 0o660)):
    st = os.lstat(p(name))
    eq(stat.S_IFMT(st.st_mode), fmt, "file type of " + name)
    eq(stat.S_IMODE(st.st_mode), perm, "permissions of " + name)
eq(os.lstat(p("n_chr")).st_rdev, os.makedev(1, 3), "rdev of n_chr")
eq(os.lstat(p("n_blk")).st_rdev, os.makedev(259, 65537), "rdev of n_blk")
expect_errno(errno.EEXIST, os.mknod, p("n_fifo"), 0o600 | stat.S_IFIFO)
os.mkfifo(p("fifo2"))
os.umask(0o022)

# ---- mkdir / rmdir ----
os.mkdir(p("d"), 0o755)
st = os.stat(p("d"))
check(stat.S_ISDIR(st.st_mode), "d is a directory")
eq(stat.S_IMODE(st.st_mode), 0o755, "mode of d")
eq(st.st_nlink, 2, "nlink of a new empty directory")
root_nlink = os.stat(M).st_nlink
os.mkdir(p("d", "sub"))
os.mkdir(p("d", "sub2"), 0o700)
eq(os.stat(p("d")).st_nlink, 4, "nlink of a directory with 2 subdirectories")
eq(stat.S_IMODE(os.stat(p("d", "sub2")).st_mode), 0o700, "mode of d/sub2")
os.rmdir(p("d", "sub2"))
eq(os.stat(p("d")).st_nlink, 3, "nlink after rmdir of a subdirectory")
expect_errno(errno.ENOENT, os.stat, p("d", "sub2"))
os.mkdir(p("gone"))
os.rmdir(p("gone"))
eq(os.stat(M).st_nlink, root_nlink, "root nlink after mkdir+rmdir")
expect_errno(errno.EEXIST, os.mkdir, p("d"))
eq(sorted(os.listdir(p("d"))), ["sub"], "listing of d")
# deep nesting
q = p("deep")
for i in range(30):
    q = os.path.join(q, "l%d" % i)
os.makedirs(q)
write_file(os.path.join(q, "leaf"), b"leaf")
eq(read_file(os.path.join(q, "leaf")), b"leaf", "file at depth 31")

# ---- unlink ----
write_file(p("u"), b"unlink me")
os.unlink(p("u"))
expect_errno(errno.ENOENT, os.stat, p("u"))
check("u" not in os.listdir(M), "unlinked name not listed")
# unlink while open: the data stays readable through the descriptor
write_file(p("uo"), data)
fd = os.open(p("uo"), os.O_RDWR)
os.unlink(p("uo"))
eq(os.pread(fd, len(data), 0), data, "data of an open unlinked file")
pwrite_all(fd, b"still writable", 10)
eq(os.pread(fd, 14, 10), b"still writable", "write to an open unlinked file")
eq(os.fstat(fd).st_nlink, 0, "nlink of an open unlinked file")
os.close(fd)
expect_errno(errno.ENOENT, os.stat, p("uo"))

# ---- symlink / readlink ----
os.symlink("f2", p("sl_short"))
eq(os.readlink(p("sl_short")), "f2", "short symlink target")
eq(os.lstat(p("sl_short")).st_size, 2, "lstat size of a short symlink")
check(stat.S_ISLNK(os.lstat(p("sl_short")).st_mode), "sl_short is a symlink")
eq(read_file(p("sl_short")), bytes(buf), "reading through a symlink")
long_target = "/".join(["x" * 99] * 41)[:4000]
eq(len(long_target), 4000, "test bug")
os.symlink(long_target, p("sl_long"))
eq(os.readlink(p("sl_long")), long_target, "4000-byte symlink target")
eq(os.lstat(p("sl_long")).st_size, 4000, "lstat size of a 4000-byte symlink")
t4095 = ("y" * 200 + "/") * 20
t4095 = t4095[:4095]
os.symlink(t4095, p("sl_4095"))
eq(os.readlink(p("sl_4095")), t4095, "4095-byte symlink target")
os.symlink("/nonexistent/target", p("sl_dangling"))
eq(os.readlink(p("sl_dangling")), "/nonexistent/target", "dangling symlink target")
expect_errno(errno.ENOENT, os.stat, p("sl_dangling"))
expect_errno(errno.EEXIST, os.symlink, "x", p("sl_short"))
expect_errno(errno.EINVAL, os.readlink, p("f2"))
os.symlink("d/sub", p("sl_dir"))
check(os.path.isdir(p("sl_dir")), "symlink to a directory resolves")

# ---- hard links ----
write_file(p("h1"), b"hard")
os.link(p("h1"), p("h2"))
os.link(p("h1"), p("d", "h3"))
s1, s2, s3 = os.stat(p("h1")), os.stat(p("h2")), os.stat(p("d", "h3"))
eq(s1.st_nlink, 3, "nlink after 2 links")
eq((s2.st_ino, s3.st_ino), (s1.st_ino, s1.st_ino), "hard links share the inode number")
fd = os.open(p("h2"), os.O_WRONLY | os.O_APPEND)
os.write(fd, b"-more")
os.close(fd)
eq(read_file(p("d", "h3")), b"hard-more", "write through one link seen by another")
os.unlink(p("h1"))
eq(os.stat(p("h2")).st_nlink, 2, "nlink after unlinking one link")
expect_errno(errno.EEXIST, os.link, p("h2"), p("d", "h3"))
expect_errno(errno.EPERM, os.link, p("d"), p("dlink"))
os.link(p("n_fifo"), p("fifo_link"))
eq(os.lstat(p("fifo_link")).st_nlink, 2, "nlink of a hard-linked fifo")
os.link(p("sl_short"), p("sl_link"), follow_symlinks=False)
eq(os.readlink(p("sl_link")), "f2", "hard link to a symlink")

# ---- rename ----
write_file(p("r_a"), b"AAA")
write_file(p("r_b"), b"BBBB")
ino_a = os.stat(p("r_a")).st_ino
os.rename(p("r_a"), p("r_a2"))
eq(os.stat(p("r_a2")).st_ino, ino_a, "inode kept by rename")
expect_errno(errno.ENOENT, os.stat, p("r_a"))
os.rename(p("r_a2"), p("r_b"))                # over an existing file
eq(read_file(p("r_b")), b"AAA", "content after rename over a file")
eq(os.stat(p("r_b")).st_nlink, 1, "nlink after rename over a file")
expect_errno(errno.ENOENT, os.stat, p("r_a2"))
os.rename(p("r_b"), p("d", "r_b"))            # across directories
eq(read_file(p("d", "r_b")), b"AAA", "content after rename across directories")
os.rename(p("d", "r_b"), p("d", "r_b"))       # onto itself: no-op
eq(read_file(p("d", "r_b")), b"AAA", "rename onto itself")
# hard links: renaming one link over another of the same inode is a no-op
os.rename(p("h2"), p("d", "h3"))
check(os.path.exists(p("h2")) and os.path.exists(p("d", "h3")), "rename between links of one inode keeps both")
# directory rename across parents: nlinks of both parents
os.mkdir(p("rd1"))
os.mkdir(p("rd2"))
os.mkdir(p("rd1", "x"))
write_file(p("rd1", "x", "f"), b"in x")
os.rename(p("rd1", "x"), p("rd2", "x"))
eq(os.stat(p("rd1")).st_nlink, 2, "nlink of the old parent after moving a directory")
eq(os.stat(p("rd2")).st_nlink, 3, "nlink of the new parent after moving a directory")
eq(read_file(p("rd2", "x", "f")), b"in x", "file inside a moved directory")
eq(os.stat(p("rd2", "x", "..")).st_ino, os.stat(p("rd2")).st_ino, ".. of a moved directory")
# directory over an empty directory, errors
os.mkdir(p("rd1", "empty"))
os.rename(p("rd2", "x"), p("rd1", "empty"))
eq(read_file(p("rd1", "empty", "f")), b"in x", "directory renamed over an empty directory")
eq(os.stat(p("rd2")).st_nlink, 2, "nlink after moving the directory away")
eq(os.stat(p("rd1")).st_nlink, 3, "nlink after a directory replaced an empty one")
os.mkdir(p("rd2", "full"))
write_file(p("rd2", "full", "x"), b"")
expect_errno(errno.ENOTEMPTY, os.rename, p("rd1", "empty"), p("rd2", "full"))
expect_errno(errno.ENOTDIR, os.rename, p("rd1", "empty"), p("f2"))
expect_errno(errno.EISDIR, os.rename, p("f2"), p("rd2", "full"))
expect_errno(errno.EINVAL, os.rename, p("rd1"), p("rd1", "empty", "inside"))
expect_errno(errno.ENOENT, os.rename, p("nonexistent"), p("x"))
# rename flags (fuse2fs, used to debug the tests, has none)
if chunkfs or os.environ.get("CFS_TEST_RENAME_FLAGS"):
    # RENAME_NOREPLACE
    write_file(p("nr1"), b"one")
    write_file(p("nr2"), b"two")
    expect_errno(errno.EEXIST, renameat2, p("nr1"), p("nr2"), RENAME_NOREPLACE)
    eq((read_file(p("nr1")), read_file(p("nr2"))), (b"one", b"two"), "files after a refused NOREPLACE")
    renameat2(p("nr1"), p("nr3"), RENAME_NOREPLACE)
    eq(read_file(p("nr3")), b"one", "NOREPLACE rename to a free name")
    expect_errno(errno.ENOENT, os.stat, p("nr1"))
    # RENAME_EXCHANGE: two files, then a file and a directory across parents
    ino2, ino3 = os.stat(p("nr2")).st_ino, os.stat(p("nr3")).st_ino
    renameat2(p("nr2"), p("nr3"), RENAME_EXCHANGE)
    eq((read_file(p("nr2")), read_file(p("nr3"))), (b"one", b"two"), "contents after EXCHANGE")
    eq((os.stat(p("nr2")).st_ino, os.stat(p("nr3")).st_ino), (ino3, ino2), "inodes after EXCHANGE")
    os.mkdir(p("xd"))
    write_file(p("xd", "inner"), b"inner")
    renameat2(p("nr2"), p("d", "sub"), RENAME_EXCHANGE)
    check(os.path.isdir(p("nr2")) and os.path.isfile(p("d", "sub")), "file/dir EXCHANGE")
    eq(read_file(p("d", "sub")), b"one", "file content after file/dir EXCHANGE")
    eq(os.stat(p("nr2", "..")).st_ino, os.stat(M).st_ino, ".. of an exchanged directory")
    eq(os.stat(p("d")).st_nlink, 2, "nlink of d after its subdir was exchanged out")
    renameat2(p("nr2"), p("d", "sub"), RENAME_EXCHANGE)    # and back
    check(os.path.isdir(p("d", "sub")) and os.path.isfile(p("nr2")), "EXCHANGE back")
    eq(os.stat(p("d")).st_nlink, 3, "nlink of d after exchanging back")
    expect_errno(errno.ENOENT, renameat2, p("nr2"), p("does-not-exist"), RENAME_EXCHANGE)
    # flags: unknown, and both together
    expect_errno(errno.EINVAL, renameat2, p("nr2"), p("nr9"), 0x8)
    expect_errno(errno.EINVAL, renameat2, p("nr2"), p("nr9"), 0x80)
    expect_errno(errno.EINVAL, renameat2, p("nr2"), p("nr3"), RENAME_NOREPLACE | RENAME_EXCHANGE)
    # RENAME_WHITEOUT (root has CAP_MKNOD so the kernel passes it on): chunkfs
    # does not implement whiteouts, so it must refuse without changing anything.
    if chunkfs:
        expect_errno((errno.EINVAL, errno.EOPNOTSUPP), renameat2, p("nr2"), p("nr9"), RENAME_WHITEOUT)
        check(os.path.exists(p("nr2")) and not os.path.exists(p("nr9")), "refused WHITEOUT changed nothing")
else:
    log("NOTE: rename flags not tested on backend", os.environ.get("CFS_TEST_BACKEND"))

# ---- xattrs ----
write_file(p("xa"), b"x")
os.setxattr(p("xa"), "user.one", b"value1")
os.setxattr(p("xa"), "user.empty", b"")
big = os.urandom(1000)
os.setxattr(p("xa"), "user.big", big)
eq(os.getxattr(p("xa"), "user.one"), b"value1", "getxattr user.one")
eq(os.getxattr(p("xa"), "user.empty"), b"", "getxattr of an empty value")
eq(os.getxattr(p("xa"), "user.big"), big, "getxattr of a 1000-byte value")
eq(sorted(os.listxattr(p("xa"))), ["user.big", "user.empty", "user.one"], "listxattr")
expect_errno(errno.EEXIST, os.setxattr, p("xa"), "user.one", b"v", os.XATTR_CREATE)
expect_errno(errno.ENODATA, os.setxattr, p("xa"), "user.none", b"v", os.XATTR_REPLACE)
os.setxattr(p("xa"), "user.one", b"replaced", os.XATTR_REPLACE)
eq(os.getxattr(p("xa"), "user.one"), b"replaced", "value after XATTR_REPLACE")
os.setxattr(p("xa"), "user.new", b"created", os.XATTR_CREATE)
eq(os.getxattr(p("xa"), "user.new"), b"created", "value after XATTR_CREATE")
os.setxattr(p("xa"), "user.one", b"shorter")
eq(os.getxattr(p("xa"), "user.one"), b"shorter", "overwritten value")
os.removexattr(p("xa"), "user.new")
expect_errno(errno.ENODATA, os.getxattr, p("xa"), "user.new")
expect_errno(errno.ENODATA, os.removexattr, p("xa"), "user.new")
eq(sorted(os.listxattr(p("xa"))), ["user.big", "user.empty", "user.one"], "listxattr after remove")
os.setxattr(p("xa"), "trusted.t", b"root only")
eq(os.getxattr(p("xa"), "trusted.t"), b"root only", "trusted.* xattr as root")
expect_errno(errno.ENODATA, os.getxattr, p("xa"), "user.missing")
for i in range(60):
    os.setxattr(p("xa"), "user.many%02d" % i, ("v%d" % i).encode() * (i + 1))
for i in range(60):
    eq(os.getxattr(p("xa"), "user.many%02d" % i), ("v%d" % i).encode() * (i + 1), "many xattrs #%d" % i)
eq(len([n for n in os.listxattr(p("xa")) if n.startswith("user.many")]), 60, "listxattr of 60 names")
long_name = "user." + "n" * 250
os.setxattr(p("xa"), long_name, b"long name")
eq(os.getxattr(p("xa"), long_name), b"long name", "xattr with a 255-byte name")
expect_errno(errno.ERANGE, os.setxattr, p("xa"), "user." + "n" * 251, b"too long")
os.setxattr(p("d"), "user.ondir", b"dir value")
eq(os.getxattr(p("d"), "user.ondir"), b"dir value", "xattr on a directory")
expect_errno(errno.ENODATA, os.getxattr, p("f2"), "user.one")
eq(os.listxattr(p("f2")), [], "listxattr of a file without xattrs")

# ---- fsync / fdatasync / syncfs ----
fd = os.open(p("f2"), os.O_RDWR)
os.fsync(fd)
os.fdatasync(fd)
syncfs(fd)
os.close(fd)
dfd = os.open(p("d"), os.O_RDONLY | os.O_DIRECTORY)
os.fsync(dfd)
os.close(dfd)
os.sync()

# ---- statfs ----
v = os.statvfs(M)
check(v.f_bsize > 0 and v.f_frsize > 0, "statfs block sizes: %r" % (v,))
check(v.f_blocks > 0 and v.f_bfree <= v.f_blocks and v.f_bavail <= v.f_bfree, "statfs block counts: %r" % (v,))
check(v.f_files > 0 and v.f_ffree <= v.f_files, "statfs inode counts: %r" % (v,))
eq(v.f_namemax, 255, "statfs namemax")
total = v.f_blocks * v.f_frsize
check(200 << 20 <= total <= 256 << 20, "statfs total size %d for a 256M image" % total)
write_file(p("statfs_fill"), os.urandom(16 << 20))
fd = os.open(p("statfs_fill"), os.O_RDONLY)
os.fsync(fd)
os.close(fd)
v2 = os.statvfs(M)
used = (v.f_bfree - v2.f_bfree) * v.f_frsize
check(used >= 15 << 20, "statfs bfree dropped by only %d bytes after writing 16 MiB" % used)
check(v2.f_ffree < v.f_ffree, "statfs ffree did not drop after creating a file (%d -> %d)" % (v.f_ffree, v2.f_ffree))
os.unlink(p("statfs_fill"))
wait_for(lambda: (os.statvfs(M).f_bfree - v2.f_bfree) * v.f_frsize >= 15 << 20)
v3 = os.statvfs(M)
freed = (v3.f_bfree - v2.f_bfree) * v.f_frsize
check(freed >= 15 << 20, "statfs bfree rose by only %d bytes within 10 s of deleting 16 MiB" % freed)
log("statfs ok:", v3)

# ---- readdir: names, d_type, seekdir-like rewinds ----
names = set(os.listdir(M))
for n in ("f1", "f2", "d", "n_fifo", "n_sock", "n_chr", "n_blk", "sl_short", "xa"):
    check(n in names, "%s missing from the root listing" % n)
check("." not in names and ".." not in names, "listdir includes . or ..")
types = {e.name: e for e in os.scandir(M)}
check(types["d"].is_dir(follow_symlinks=False), "d_type of d")
check(types["f2"].is_file(follow_symlinks=False), "d_type of f2")
check(types["sl_short"].is_symlink(), "d_type of sl_short")
eq(types["f2"].inode(), os.lstat(p("f2")).st_ino, "d_ino of f2 matches st_ino")
log("basic operations ok")
EOF

note "xattr value sizes"
py_part "xattr values of 2000..65536 bytes" "$MNT" <<'EOF'
import os, sys, errno
from cfs_util import *
M = sys.argv[1]
write_file(os.path.join(M, "xbig"), b"")
bad = []
for n in (2000, 3000, 4000, 16000, 65536):
    v = os.urandom(n)
    try:
        os.setxattr(os.path.join(M, "xbig"), "user.v%d" % n, v)
        if os.getxattr(os.path.join(M, "xbig"), "user.v%d" % n) != v:
            bad.append("%d: value read back differs" % n)
    except OSError as e:
        bad.append("%d: %s" % (n, errno.errorcode.get(e.errno, e.errno)))
expect_errno(errno.E2BIG, os.setxattr, os.path.join(M, "xbig"), "user.toobig", bytes(65537))
check(not bad, "user.* xattr values (XATTR_SIZE_MAX is 65536) failed: " + "; ".join(bad))
EOF

note "df output"
df -k "$MNT" || fail "df on the mount failed"

note "persistence of everything after remount"
snap_save "$MNT" "$T/snap.json"
# (the snapshot read "times": relatime set its atime to the read's time,
# as ext4's would, the atime being older than the mtime)
py "$MNT/times" "$T/atime" <<'EOF'
import os, sys
open(sys.argv[2], "w").write(str(os.stat(sys.argv[1]).st_atime_ns))
EOF
remount_fs "$IMG" "$MNT"
snap_check "$MNT" "$T/snap.json"
py "$MNT" "$(cat "$T/atime")" <<'EOF'
import os, sys
from cfs_util import *
M = sys.argv[1]
NS = (lambda v: v) if os.environ.get("CFS_TEST_BACKEND", "chunkfs") == "chunkfs" else (lambda v: v - v % 10**9)
eq(os.stat(os.path.join(M, "times")).st_mtime_ns, NS(1234567890987654321), "mtime_ns after remount")
eq(os.stat(os.path.join(M, "times")).st_atime_ns, int(sys.argv[2]), "atime_ns after remount")
eq(os.readlink(os.path.join(M, "sl_long")), "/".join(["x" * 99] * 41)[:4000], "long symlink after remount")
# the fs is still writable after the remount
write_file(os.path.join(M, "after"), b"after remount")
eq(read_file(os.path.join(M, "after")), b"after remount", "write after remount")
EOF
umount_fs "$MNT"
finish
