#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# File data operations through FUSE: fallocate in every mode (with the
# kernel's rules for collapse/insert), lseek SEEK_DATA/SEEK_HOLE,
# copy_file_range, mmap read and write; contents checked, then again after a
# remount.
. "$(dirname "$0")/lib.sh"

mkimg "$IMG" 256M -b 4096
mount_fs "$IMG" "$MNT"

note "fallocate, lseek, copy_file_range, mmap"
py "$MNT" <<'EOF'
import os, sys, errno, mmap, random
from cfs_util import *
M = sys.argv[1]
p = lambda *a: os.path.join(M, *a)
BS = 4096
rnd = random.Random(1234)
rb = lambda n: bytes(rnd.getrandbits(8) for _ in range(n)) if n < 4096 else os.urandom(n)

def blocks(path):
    return os.stat(path).st_blocks * 512

def newfile(name, data):
    write_file(p(name), data)
    fd = os.open(p(name), os.O_RDWR)
    return fd

# ---- default mode ----
fd = newfile("fa_default", b"")
fallocate(fd, 0, 0, 1 << 20)
eq(os.fstat(fd).st_size, 1 << 20, "size after fallocate(0, 1 MiB) of an empty file")
check(os.fstat(fd).st_blocks * 512 >= 1 << 20, "st_blocks after fallocate: %d" % os.fstat(fd).st_blocks)
eq(os.pread(fd, 1 << 20, 0), b"\0" * (1 << 20), "preallocated space reads as zeros")
pwrite_all(fd, b"abc", 500000)
fallocate(fd, 0, 0, 1 << 20)                     # over existing data: no change
eq(os.pread(fd, 3, 500000), b"abc", "data kept by fallocate over it")
fallocate(fd, 0, (1 << 20) + 100, 5000)          # beyond EOF, unaligned
eq(os.fstat(fd).st_size, (1 << 20) + 5100, "size after an unaligned fallocate beyond EOF")
os.close(fd)

# ---- KEEP_SIZE ----
d = rb(10000)
fd = newfile("fa_keep", d)
b0 = os.fstat(fd).st_blocks
fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20)
eq(os.fstat(fd).st_size, 10000, "size after KEEP_SIZE fallocate beyond EOF")
check(os.fstat(fd).st_blocks * 512 >= 1 << 20, "KEEP_SIZE allocated no space: st_blocks %d -> %d" % (b0, os.fstat(fd).st_blocks))
eq(os.pread(fd, 20000, 0), d, "content after KEEP_SIZE fallocate")
os.ftruncate(fd, 300000)
eq(os.pread(fd, 300000, 0), d + b"\0" * 290000, "preallocated tail reads as zeros after extending")
os.close(fd)

# ---- PUNCH_HOLE ----
d = bytearray(rb(1 << 20))
fd = newfile("fa_punch", bytes(d))
os.fsync(fd)
b0 = os.fstat(fd).st_blocks
fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8 * BS, 16 * BS)
d[8 * BS:24 * BS] = bytes(16 * BS)
eq(os.fstat(fd).st_size, 1 << 20, "size after punching a hole")
eq(os.pread(fd, 1 << 20, 0), bytes(d), "content after an aligned punch")
check(os.fstat(fd).st_blocks < b0, "st_blocks did not drop after punching 64 KiB: %d -> %d" % (b0, os.fstat(fd).st_blocks))
fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 1000, 5000)      # unaligned
d[1000:6000] = bytes(5000)
eq(os.pread(fd, 1 << 20, 0), bytes(d), "content after an unaligned punch")
fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (1 << 20) - 10, 1 << 20)   # past EOF
d[(1 << 20) - 10:] = bytes(10)
eq(os.fstat(fd).st_size, 1 << 20, "size after a punch reaching past EOF")
eq(os.pread(fd, 1 << 20, 0), bytes(d), "content after a punch reaching past EOF")
expect_errno(errno.EOPNOTSUPP, fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0, BS)
os.close(fd)

# ---- ZERO_RANGE ----
d = bytearray(rb(300000))
fd = newfile("fa_zero", bytes(d))
zero_ok = True
try:
    fallocate(fd, FALLOC_FL_ZERO_RANGE, 3000, 70000)
except OSError as e:
    raise CheckError("ZERO_RANGE failed: %s" % e)
d[3000:73000] = bytes(70000)
eq(os.fstat(fd).st_size, 300000, "size after ZERO_RANGE inside the file")
eq(os.pread(fd, 300000, 0), bytes(d), "content after ZERO_RANGE")
fallocate(fd, FALLOC_FL_ZERO_RANGE, 290000, 20000)            # extends
d[290000:] = bytes(10000)
d += bytes(10000)
eq(os.fstat(fd).st_size, 310000, "size after ZERO_RANGE past EOF")
eq(os.pread(fd, 400000, 0), bytes(d), "content after ZERO_RANGE past EOF")
fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 305000, 50000)
d[305000:] = bytes(5000)
eq(os.fstat(fd).st_size, 310000, "size after ZERO_RANGE|KEEP_SIZE past EOF")
eq(os.pread(fd, 400000, 0), bytes(d), "content after ZERO_RANGE|KEEP_SIZE")
os.close(fd)

# ---- COLLAPSE_RANGE / INSERT_RANGE ----
d = bytearray(rb(64 * BS))
fd = newfile("fa_collapse", bytes(d))
try:
    fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 4 * BS, 2 * BS)
    collapse_ok = True
except OSError as e:
    if e.errno != errno.EOPNOTSUPP:
        raise CheckError("aligned COLLAPSE_RANGE failed: %s" % e)
    collapse_ok = False
if collapse_ok:
    del d[4 * BS:6 * BS]
    eq(os.fstat(fd).st_size, 62 * BS, "size after COLLAPSE_RANGE")
    eq(os.pread(fd, 64 * BS, 0), bytes(d), "content after COLLAPSE_RANGE")
    expect_errno(errno.EINVAL, fallocate, fd, FALLOC_FL_COLLAPSE_RANGE, 100, BS)
    expect_errno(errno.EINVAL, fallocate, fd, FALLOC_FL_COLLAPSE_RANGE, BS, 100)
    expect_errno(errno.EINVAL, fallocate, fd, FALLOC_FL_COLLAPSE_RANGE, 60 * BS, 2 * BS)   # reaches EOF
    expect_errno(errno.EINVAL, fallocate, fd, FALLOC_FL_COLLAPSE_RANGE, 61 * BS, 4 * BS)   # beyond EOF
    eq(os.pread(fd, 64 * BS, 0), bytes(d), "content after refused collapses")
    fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, BS)
    del d[0:BS]
    eq(os.pread(fd, 64 * BS, 0), bytes(d), "content after collapsing the first block")
    # INSERT_RANGE
    fallocate(fd, FALLOC_FL_INSERT_RANGE, 8 * BS, 3 * BS)
    d[8 * BS:8 * BS] = bytes(3 * BS)
    eq(os.fstat(fd).st_size, len(d), "size after INSERT_RANGE")
    eq(os.pread(fd, 80 * BS, 0), bytes(d), "content after INSERT_RANGE")
    fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, BS)
    d[0:0] = bytes(BS)
    eq(os.pread(fd, 80 * BS, 0), bytes(d), "content after INSERT_RANGE at 0")
    expect_errno(errno.EINVAL, fallocate, fd, FALLOC_FL_INSERT_RANGE, 100, BS)
    expect_errno(errno.EINVAL, fallocate, fd, FALLOC_FL_INSERT_RANGE, BS, 100)
    expect_errno(errno.EINVAL, fallocate, fd, FALLOC_FL_INSERT_RANGE, len(d), BS)        # at EOF
    expect_errno(errno.EINVAL, fallocate, fd, FALLOC_FL_INSERT_RANGE, len(d) + BS, BS)   # past EOF
    eq(os.pread(fd, 80 * BS, 0), bytes(d), "content after refused inserts")
    # collapse of a sparse region, then insert in an unaligned-size file
    os.ftruncate(fd, len(d) + 123)
    d += bytes(123)
    fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 2 * BS, BS)
    del d[2 * BS:3 * BS]
    fallocate(fd, FALLOC_FL_INSERT_RANGE, 5 * BS, 2 * BS)
    d[5 * BS:5 * BS] = bytes(2 * BS)
    eq(os.fstat(fd).st_size, len(d), "size after collapse/insert on an unaligned-size file")
    eq(os.pread(fd, 80 * BS, 0), bytes(d), "content after collapse/insert on an unaligned-size file")
else:
    try:
        fallocate(fd, FALLOC_FL_INSERT_RANGE, 4 * BS, BS)
        raise CheckError("INSERT_RANGE works but COLLAPSE_RANGE gives EOPNOTSUPP")
    except OSError as e:
        eq(e.errno, errno.EOPNOTSUPP, "INSERT_RANGE errno when COLLAPSE_RANGE is unsupported")
    eq(os.pread(fd, 64 * BS, 0), bytes(d), "content after unsupported collapse/insert")
    log("NOTE: COLLAPSE_RANGE/INSERT_RANGE return EOPNOTSUPP through this FUSE mount: the kernel's "
        "fuse_file_fallocate() only forwards KEEP_SIZE|PUNCH_HOLE|ZERO_RANGE, so these modes cannot "
        "reach the daemon (kernel %s); their content rules were not tested here." % os.uname().release)
os.close(fd)
log("fallocate ok")

# ---- SEEK_DATA / SEEK_HOLE ----
K64, M1 = 64 << 10, 1 << 20
fd = newfile("sparse", b"")
pwrite_all(fd, rb(K64), 0)
pwrite_all(fd, rb(K64), M1)
os.ftruncate(fd, 2 * M1)
os.fsync(fd)
def seek(off, whence):
    return os.lseek(fd, off, whence)
eq(seek(0, os.SEEK_DATA), 0, "SEEK_DATA from 0")
eq(seek(0, os.SEEK_HOLE), K64, "SEEK_HOLE from 0")
eq(seek(100, os.SEEK_HOLE), K64, "SEEK_HOLE from 100")
eq(seek(K64, os.SEEK_DATA), M1, "SEEK_DATA from the start of the hole")
eq(seek(K64 + 5000, os.SEEK_DATA), M1, "SEEK_DATA from inside the hole")
eq(seek(K64 + 5000, os.SEEK_HOLE), K64 + 5000, "SEEK_HOLE from inside a hole")
eq(seek(M1, os.SEEK_HOLE), M1 + K64, "SEEK_HOLE from the second data extent")
eq(seek(M1 + 10, os.SEEK_DATA), M1 + 10, "SEEK_DATA from inside data")
expect_errno(errno.ENXIO, seek, M1 + K64, os.SEEK_DATA)      # only a hole up to EOF
eq(seek(2 * M1 - 1, os.SEEK_HOLE), 2 * M1 - 1, "SEEK_HOLE from the last byte")
expect_errno(errno.ENXIO, seek, 2 * M1, os.SEEK_DATA)
expect_errno(errno.ENXIO, seek, 2 * M1, os.SEEK_HOLE)
expect_errno(errno.ENXIO, seek, 3 * M1, os.SEEK_HOLE)
os.close(fd)
fd = newfile("dense", rb(100000))
eq(os.lseek(fd, 0, os.SEEK_HOLE), 100000, "SEEK_HOLE of a dense file is its size")
eq(os.lseek(fd, 99999, os.SEEK_DATA), 99999, "SEEK_DATA at the last byte of a dense file")
os.close(fd)
fd = newfile("punched", rb(32 * BS))
fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8 * BS, 8 * BS)
eq(os.lseek(fd, 0, os.SEEK_HOLE), 8 * BS, "SEEK_HOLE finds a punched hole")
eq(os.lseek(fd, 8 * BS, os.SEEK_DATA), 16 * BS, "SEEK_DATA after a punched hole")
os.close(fd)
fd = newfile("empty_seek", b"")
expect_errno(errno.ENXIO, os.lseek, fd, 0, os.SEEK_DATA)
expect_errno(errno.ENXIO, os.lseek, fd, 0, os.SEEK_HOLE)
os.close(fd)
log("lseek ok")

# ---- copy_file_range ----
src = rb(M1 + 123)
write_file(p("cfr_src"), src)
write_file(p("cfr_dst"), rb(5000))
dst = bytearray(read_file(p("cfr_dst")))
fi = os.open(p("cfr_src"), os.O_RDONLY)
fo = os.open(p("cfr_dst"), os.O_RDWR)
def cfr(n, oi, oo):
    done = 0
    while done < n:
        r = os.copy_file_range(fi, fo, n - done, oi + done, oo + done)
        if r == 0:
            break
        done += r
    return done
eq(cfr(300000, 12345, 777), 300000, "bytes copied by copy_file_range")
end = 777 + 300000
dst.extend(bytes(end - len(dst)))
dst[777:end] = src[12345:12345 + 300000]
eq(read_file(p("cfr_dst")), bytes(dst), "content after copy_file_range")
eq(cfr(len(src), 0, 0), len(src), "whole-file copy_file_range")
dst[0:len(src)] = src
eq(read_file(p("cfr_dst")), bytes(dst), "content after a whole-file copy_file_range")
eq(os.copy_file_range(fi, fo, 1000, len(src) + 10, 0), 0, "copy_file_range from past EOF")
os.close(fi)
os.close(fo)
# within one file, non-overlapping
fd = os.open(p("cfr_src"), os.O_RDWR)
n = os.copy_file_range(fd, fd, 4096 * 3, 0, 4096 * 100)
check(n > 0, "copy_file_range within one file copied nothing")
while n < 4096 * 3:
    n += os.copy_file_range(fd, fd, 4096 * 3 - n, n, 4096 * 100 + n)
os.close(fd)
s2 = bytearray(src)
s2[4096 * 100:4096 * 103] = src[0:4096 * 3]
eq(read_file(p("cfr_src")), bytes(s2), "content after copy_file_range within a file")
log("copy_file_range ok")

# ---- mmap ----
d = bytearray(rb(3 * 4096 + 100))
fd = newfile("mm", bytes(d))
mm = mmap.mmap(fd, len(d), mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
eq(mm[:], bytes(d), "mmap read of the whole file")
for off, val in ((0, b"MMAP"), (5000, b"middle of the file"), (len(d) - 3, b"END")):
    mm[off:off + len(val)] = val
    d[off:off + len(val)] = val
mm.flush()
mm.close()
os.close(fd)
eq(read_file(p("mm")), bytes(d), "read() after mmap writes and msync")
fd = newfile("mm2", b"")
os.ftruncate(fd, 2 * 4096)
mm = mmap.mmap(fd, 2 * 4096)
pattern = bytes(range(256)) * 32
mm[:] = pattern
mm.flush()
mm.close()
os.close(fd)
eq(read_file(p("mm2")), pattern, "file written only through mmap")
big = rb(M1)
write_file(p("mm3"), big)
with open(p("mm3"), "rb") as f:
    mm = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    eq(mm[:], big, "mmap read of a 1 MiB file")
    eq(mm[M1 - 10:], big[-10:], "mmap read of the tail")
    mm.close()
log("mmap ok")
EOF

note "persistence of file data after remount"
snap_save "$MNT" "$T/snap.json"
remount_fs "$IMG" "$MNT"
snap_check "$MNT" "$T/snap.json"
umount_fs "$MNT"
echo "PASS: t_data"
