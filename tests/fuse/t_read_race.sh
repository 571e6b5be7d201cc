#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Reads without the filesystem lock (issue 13, DESIGN.md "Data checksums":
# a read of a file with checksums is planned under the lock and read and
# verified without it).  On an almost full filesystem, while writers
# rewrite a file block by block (each write copied on write, committed by
# fsync, its old blocks freed) and fill and punch another (taking the
# freed blocks), readers read the first with O_DIRECT (every read reaches
# the daemon): every block a reader gets must be one whole version of that
# block as the writer wrote it, never another file's bytes, a torn block
# or zeroes, and no read may fail (no checksum error is ever reported for
# what was a race).  Then fsck -fn --data is clean.
. "$(dirname "$0")/lib.sh"

is_chunkfs || { echo "SKIP: chunkfs only"; exit 0; }
SECS=${CFS_READ_RACE_SECS:-8}

mkimg "$IMG" 24M -C 4M
mount_fs "$IMG" "$MNT"
py "$MNT" "$SECS" <<'EOF'
import os, sys, mmap, threading, time, errno
from cfs_util import *
m, secs = sys.argv[1], float(sys.argv[2])
B, N = 4096, 64
a = os.path.join(m, "a")
# block i of version v: bytes (v*7+i) & 0x7f | 0x80 ... tagged by block
def blk(i, v):
    return bytes([(v * 7 + i) % 120 + 1]) * B
with open(a, "wb") as f:
    for i in range(N):
        f.write(blk(i, 0))
    os.fsync(f.fileno())
# fill the rest with 0xee bytes, leaving a few hundred blocks
fill = os.path.join(m, "fill")
fd = os.open(fill, os.O_WRONLY | os.O_CREAT, 0o644)
z = b"\xee" * (1 << 20)
n = 0
try:
    while True:
        os.write(fd, z); n += 1
except OSError as e:
    check(e.errno == errno.ENOSPC, "filling: %s" % e)
os.fsync(fd)
fallocate(fd, 3, 0, 300 * B)   # PUNCH_HOLE | KEEP_SIZE
os.fsync(fd)
check(n > 4, "filled %d MiB" % n)
stop = time.time() + secs
errors, versions, reads = [], [0] * N, [0]
lock = threading.Lock()

def writer():
    fd = os.open(a, os.O_WRONLY)
    v = 0
    while time.time() < stop and not errors:
        v += 1
        for i in range(0, N, 8):
            with lock:
                versions[i:i + 8] = [v] * 8
            os.pwrite(fd, b"".join(blk(j, v) for j in range(i, i + 8)), i * B)
        os.fsync(fd)
    os.close(fd)

def filler():
    fd = os.open(fill, os.O_WRONLY)
    k = 0
    while time.time() < stop and not errors:
        off = (k % 3) * 100 * B
        try:
            os.pwrite(fd, b"\xee" * (100 * B), off)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                errors.append("filler: %s" % e)
        os.fsync(fd)
        fallocate(fd, 3, off, 100 * B)
        os.fsync(fd)
        k += 1
    os.close(fd)

def reader():
    fd = os.open(a, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, N * B)
    while time.time() < stop and not errors:
        for off, ln in ((0, N * B), (16 * B, 32 * B), (60 * B, 4 * B)):
            try:
                got = os.preadv(fd, [memoryview(buf)[:ln]], off)
            except OSError as e:
                errors.append("read at %d: %s" % (off, e))
                return
            if got != ln:
                errors.append("short read at %d: %d" % (off, got))
                return
            for j in range(ln // B):
                i = off // B + j
                b = buf[j * B:(j + 1) * B]
                c = b[0]
                if b.count(c) != B:
                    errors.append("block %d torn" % i)
                    return
                with lock:
                    hi = versions[i]
                if not any(blk(i, v)[0] == c for v in range(max(0, hi - 200), hi + 2)):
                    errors.append("block %d: byte %#x is no version of it (writer at %d)" % (i, c, hi))
                    return
            reads[0] += 1
    os.close(fd)

ts = [threading.Thread(target=t) for t in (writer, filler, reader, reader)]
for t in ts: t.start()
for t in ts: t.join()
check(not errors, "; ".join(errors[:5]))
check(reads[0] > 50, "only %d reads" % reads[0])
print("reads: %d" % reads[0])
EOF
"$CFS_BIN/chunkfs" events "$MNT" >"$T/events" 2>&1 || fail "chunkfs events"
if grep -q "checksum mismatch" "$T/events"; then cat "$T/events"; fail "a race reported as a checksum error"; fi
umount_fs "$MNT"
"$CFS_BIN/fsck.chunkfs" -fn --data "$IMG" >"$T/fsck" 2>&1 || { cat "$T/fsck"; fail "fsck -fn --data"; }
finish
