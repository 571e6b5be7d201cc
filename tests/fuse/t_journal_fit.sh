#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# No transaction bigger than its journal (issue 16).  The largest
# operations, through a real chunkfs-fuse mount, each followed by a check
# of the daemon's unmount line (no chunk written in place: journal_fit),
# the content after a remount and a clean fsck.chunkfs -fn:
#  a. ZERO_RANGE over a 100 MiB file with every other 4 KiB block punched
#     (64 MiB chunks on a sparse 8 GiB image, as the issue reports it:
#     before, chunk 0's changes did not fit its journal of 127 blocks and
#     fsck found its link index wrong); then the same file written again,
#     truncated from 100 MiB to 1 MiB, and a second fragmented file
#     unlinked (the freeing of a huge file, in rounds through the orphan
#     list);
#  b. ZERO_RANGE on allocated blocks needs no new space: a filesystem
#     filled to ENOSPC, then every other block of its big file zeroed (each
#     one splits an extent) without ENOSPC, and the file reads back;
#  c. an fsx-like run: random writes, truncates, punches, zero ranges,
#     fallocates on one file of 4 MiB chunks, compared with a model.
. "$(dirname "$0")/lib.sh"

is_chunkfs || { echo "SKIP: chunkfs only"; exit 77; }
PARTS=${CFS_JFIT_PARTS:-a b c}   # (to run one part alone)
part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- a ----
if part a; then
mkimg "$IMG" 8G -C 64M
mount_fs "$IMG" "$MNT"
note "a: 100 MiB file, every other 4 KiB punched, ZERO_RANGE over it"
py "$MNT" <<'EOF'
import os, sys, cfs_util as u
m = sys.argv[1]
MB = 1 << 20
pat = bytes(range(256)) * 4096           # 1 MiB
fd = os.open(m + "/f", os.O_RDWR | os.O_CREAT, 0o644)
for i in range(100):
    u.pwrite_all(fd, pat, i * MB)
for off in range(0, 100 * MB, 8192):
    u.fallocate(fd, 3, off, 4096)        # PUNCH_HOLE | KEEP_SIZE
os.fsync(fd)
u.fallocate(fd, 0x10, 0, 100 * MB)       # ZERO_RANGE: must not fail
z = bytes(MB)
for i in range(100):
    u.eq(os.pread(fd, MB, i * MB) == z, True, "MiB %d zero after ZERO_RANGE" % i)
u.eq(os.fstat(fd).st_size, 100 * MB, "size")
os.close(fd)
EOF
journal_live "$MNT" 1
remount_fs "$IMG" "$MNT"
note "a: written again, truncated to 1 MiB; a second fragmented file unlinked"
py "$MNT" <<'EOF'
import os, sys, cfs_util as u
m = sys.argv[1]
MB = 1 << 20
z = bytes(MB)
fd = os.open(m + "/f", os.O_RDWR)
for i in range(100):
    u.eq(os.pread(fd, MB, i * MB) == z, True, "MiB %d zero after remount" % i)
pat = bytes((i * 7) & 255 for i in range(256)) * 4096
for i in range(100):
    u.pwrite_all(fd, pat, i * MB)
os.ftruncate(fd, MB + 123)
u.eq(os.pread(fd, 2 * MB, 0), pat + pat[:123], "content after the truncate")
os.close(fd)
# a second fragmented file (64 MiB, every other block punched), unlinked
g = os.open(m + "/g", os.O_RDWR | os.O_CREAT, 0o644)
for i in range(64):
    u.pwrite_all(g, pat, i * MB)
for off in range(4096, 64 * MB, 8192):
    u.fallocate(g, 3, off, 4096)
os.fsync(g)
os.close(g)
os.unlink(m + "/g")
EOF
journal_live "$MNT" 2
remount_fs "$IMG" "$MNT"
py "$MNT" <<'EOF'
import os, sys, cfs_util as u
m = sys.argv[1]
pat = bytes((i * 7) & 255 for i in range(256)) * 4096
u.eq(u.read_file(m + "/f"), pat + pat[:123], "content after remount")
u.eq(os.listdir(m).count("g"), 0, "g unlinked")
EOF
umount_fs "$MNT"
journal_fit "$T"/daemon-*.log
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck-a.out" 2>&1 ||
	{ tail -n 30 "$T/fsck-a.out"; fail "a: fsck.chunkfs -fn found problems"; }
rm -f "$T"/daemon-*.log
fi

# ---- b ----
if part b; then
IMGB=$T/img-b
mkimg "$IMGB" 256M -C 4M
mount_fs "$IMGB" "$MNT"
note "b: filled to ENOSPC, then ZERO_RANGE on every other block of it"
py "$MNT" <<'EOF'
import errno, os, sys, cfs_util as u
m = sys.argv[1]
MB = 1 << 20
pat = bytes(range(251)) * (MB // 251 + 1)
pat = pat[:MB]
fd = os.open(m + "/big", os.O_RDWR | os.O_CREAT, 0o644)
off = 0
while True:
    try:
        n = os.pwrite(fd, pat, off)
    except OSError as e:
        u.eq(e.errno, errno.ENOSPC, "error filling the filesystem")
        break
    off += n
    if n < MB:
        break
os.fsync(fd)
size = off
u.log("filled: %d bytes, %d blocks free" % (size, os.statvfs(m).f_bfree))
zeroed = 0
for o in range(4096, size - 8192, 8192):
    u.fallocate(fd, 0x10, o, 4096)       # ZERO_RANGE: no new space
    zeroed += 1
u.log("%d blocks zeroed in place" % zeroed)
for i in range(0, size, MB):
    got = os.pread(fd, MB, i)
    want = bytearray(pat[:len(got)])
    for b in range(4096, len(got), 8192):
        if i + b < size - 8192:
            want[b:b + 4096] = bytes(4096)
    u.eq(got == bytes(want), True, "content at %d" % i)
os.close(fd)
EOF
journal_live "$MNT" 1
umount_fs "$MNT"
journal_fit "$T"/daemon-*.log
"$CFS_BIN/fsck.chunkfs" -fn "$IMGB" >"$T/fsck-b.out" 2>&1 ||
	{ tail -n 30 "$T/fsck-b.out"; fail "b: fsck.chunkfs -fn found problems (ZERO_RANGE in a full filesystem)"; }
rm -f "$IMGB" "$T"/daemon-*.log
fi

# ---- c ----
if part c; then
IMGC=$T/img-c
mkimg "$IMGC" 512M -C 4M
# commit=1: commits at many points of the run (the default 5 s interval
# gave them only on a loaded machine, where a copy on write into another
# chunk lost a block when the origin's tree then got ENOSPC)
mount_fs "$IMGC" "$MNT" commit=1
# seed 2 (fixed) makes one file name continuations of more than 64 chunks
# in turn: the checker counted links of such a file twice (issue 16)
FSX_SEED=${CFS_FSX_SEED:-2}
note "c: fsx-like run, seed $FSX_SEED (replay: CFS_FSX_SEED=$FSX_SEED)"
py "$MNT" "$FSX_SEED" "$T/model" <<'EOF'
import errno, os, random, sys, cfs_util as u
m, seed, model = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(seed)
MAXLEN = 96 << 20
ref = bytearray()
fd = os.open(m + "/fsx", os.O_RDWR | os.O_CREAT, 0o644)
def check(what):
    got = os.pread(fd, len(ref) + 1, 0)
    if got != bytes(ref):
        i = next((i for i in range(min(len(got), len(ref))) if got[i] != ref[i]),
                 min(len(got), len(ref)))
        raise AssertionError("%s: differs at %d (sizes %d, %d)" % (what, i, len(got), len(ref)))
def zero(a, b):
    b = min(b, len(ref))
    if a < b:
        ref[a:b] = bytes(b - a)
def one(op, span):
    off = rnd.randrange(0, MAXLEN) & ~rnd.choice([0, 4095])
    ln = rnd.randrange(1, 4 << 20)
    if op == "shred":
        # every other block of up to 16 MiB punched, then zeroed whole
        # (the issue's ZERO_RANGE, small)
        if not ref:
            return
        off = rnd.randrange(0, len(ref)) & ~4095
        ln = min(rnd.randrange(1 << 20, 16 << 20), len(ref) - off)
        span[:] = [off, off + ln]
        for o in range(off, off + ln - 4096, 8192):
            u.fallocate(fd, 3, o, 4096)
            zero(o, o + 4096)
        u.fallocate(fd, 0x10 | 0x01, off, ln)
        zero(off, off + ln)
    elif op in ("write", "bigwrite"):
        if op == "bigwrite":
            ln = rnd.randrange(8 << 20, 24 << 20)
        off = min(off, MAXLEN - ln)
        span[:] = [off, off + ln]
        data = bytes([rnd.randrange(1, 256)]) * ln
        u.pwrite_all(fd, data, off)
        if len(ref) < off:
            ref.extend(bytes(off - len(ref)))
        ref[off:off + ln] = data
    elif op == "trunc":
        ln = rnd.randrange(0, MAXLEN)
        span[:] = [0, 0]
        os.ftruncate(fd, ln)
        if ln < len(ref):
            del ref[ln:]
        else:
            ref.extend(bytes(ln - len(ref)))
    elif op == "punch":
        # fragment: many small holes
        span[:] = [off, off + 200 * 8192]
        for i in range(rnd.randrange(1, 200)):
            o = off + i * 8192
            if o >= len(ref):
                break
            u.fallocate(fd, 3, o, 4096)
            zero(o, o + 4096)
    elif op == "zero":
        if off >= len(ref):
            return
        span[:] = [off, off + ln]
        u.fallocate(fd, 0x10 | 0x01, off, ln)   # ZERO_RANGE|KEEP_SIZE
        zero(off, off + ln)
    elif op == "falloc":
        off = min(off, MAXLEN - ln)
        span[:] = [off, off + ln]
        u.fallocate(fd, 0, off, ln)
        if off + ln > len(ref):
            ref.extend(bytes(off + ln - len(ref)))
def resync(a, b):
    # an operation that got ENOSPC may have done part of its work: the
    # model takes the file's size and the range's bytes as they are
    n = os.fstat(fd).st_size
    if n < len(ref):
        del ref[n:]
    else:
        ref.extend(bytes(n - len(ref)))
    a, b = min(a, n), min(b, n)
    # what the daemon has: a failed fallocate may have zeroed part of its
    # range, and the kernel drops its cached pages only when one succeeds
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    ref[a:b] = os.pread(fd, b - a, a)
nospc = {}
for step in range(int(os.environ.get("CFS_FSX_STEPS", "600"))):
    op = rnd.choice(["write", "write", "write", "trunc", "punch", "punch",
                     "zero", "zero", "falloc", "bigwrite", "shred"])
    span = [0, 0]
    try:
        one(op, span)
    except OSError as e:
        # a write into a continuation range whose chunk is full gets
        # ENOSPC (docs/DESIGN.md, known limits: no second-level
        # continuation yet): tolerated and counted here (a ZERO_RANGE on
        # blocks already allocated never: parts a and b)
        if e.errno != errno.ENOSPC:
            raise
        nospc[op] = nospc.get(op, 0) + 1
        resync(*span)
    if step % 10 == 9:
        check("step %d (%s)" % (step, op))
check("the end")
u.log("fsx: ENOSPC (known limit) in %s" % (nospc or "no operation"))
os.close(fd)
open(model, "wb").write(ref)
EOF
journal_live "$MNT" 2
remount_fs "$IMGC" "$MNT"
cmp "$MNT/fsx" "$T/model" || fail "c: the file differs from the model after remount (seed $FSX_SEED)"
umount_fs "$MNT"
journal_fit "$T"/daemon-*.log
"$CFS_BIN/fsck.chunkfs" -fn "$IMGC" >"$T/fsck-c.out" 2>&1 ||
	{ tail -n 30 "$T/fsck-c.out"; fail "c: fsck.chunkfs -fn found problems (seed $FSX_SEED)"; }
fi
finish
