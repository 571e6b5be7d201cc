#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Fill to ENOSPC (issue 16): files of mixed sizes (1 byte to 8 MiB, some in
# new directories) are written through a real chunkfs-fuse mount until
# ENOSPC.  Then statfs's free space (f_bavail) must be within the documented
# reserves (docs/DESIGN.md, "Placement": what is left when a write gets
# ENOSPC), the space written must be at least 99% of what df showed free at
# the start, every file must read back (after a remount too), and
# fsck.chunkfs -fn must be clean.  On 4 MiB chunks (many of them, filled
# unevenly) and on the default chunk size.
. "$(dirname "$0")/lib.sh"

is_chunkfs || { echo "SKIP: chunkfs only"; exit 77; }

SEED=${CFS_FILL_SEED:-1}
note "seed $SEED (replay: CFS_FILL_SEED=$SEED)"

fill() { # TAG SIZE [mkfs options]
	tag=$1 size=$2; shift 2
	img=$T/img-$tag
	mkimg "$img" "$size" "$@"
	mount_fs "$img" "$MNT"
	py "$MNT" "$SEED" "$T/list-$tag" "$T/res-$tag" <<'EOF'
import errno, hashlib, os, random, sys, cfs_util as u
m, seed, lst, res = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rnd = random.Random(seed)
st = os.statvfs(m)
bs = st.f_frsize
avail0 = st.f_bavail * bs
def content(i, n):
    b = hashlib.sha256(b"%d" % i).digest() * 128      # 4 KiB
    return (b * (n // len(b) + 1))[:n]
written = 0
files = []
i = 0
d = m
stop = None
while stop is None:
    i += 1
    if i % 50 == 1:
        d = os.path.join(m, "d%d" % i)
        try:
            os.mkdir(d)
        except OSError as e:
            stop = "mkdir: %s" % e
            break
    n = rnd.choice([1, 100, 4096, 5000, 65536, 300000, 1 << 20, 3 << 20,
                    8 << 20])
    p = os.path.join(d, "f%d" % i)
    data = content(i, n)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o644)
    except OSError as e:
        u.eq(e.errno, errno.ENOSPC, "create error")
        stop = "create: %s" % e
        break
    off = 0
    try:
        while off < n:
            off += os.write(fd, data[off:off + (1 << 20)])
    except OSError as e:
        u.eq(e.errno, errno.ENOSPC, "write error")
        stop = "write: %s" % e
    os.close(fd)
    written += off
    files.append((p, i, off))
st = os.statvfs(m)
left = st.f_bavail * bs
u.log("stopped at %s: %d files, %d bytes written of %d free at the start "
      "(%.2f%%); f_bavail now %d bytes (%d blocks), f_bfree %d blocks"
      % (stop, len(files), written, avail0, 100.0 * written / avail0,
         left, st.f_bavail, st.f_bfree))
with open(lst, "w") as f:
    for p, i, n in files:
        f.write("%s %d %d\n" % (p, i, n))
with open(res, "w") as f:
    f.write("%d %d %d %d\n" % (written, avail0, left, bs))
for p, i, n in files:
    u.eq(u.read_file(p) == content(i, n), True, "content of " + p)
EOF
	remount_fs "$img" "$MNT"
	py "$T/list-$tag" <<'EOF'
import hashlib, sys, cfs_util as u
def content(i, n):
    b = hashlib.sha256(b"%d" % i).digest() * 128
    return (b * (n // len(b) + 1))[:n]
for line in open(sys.argv[1]):
    p, i, n = line.split()
    u.eq(u.read_file(p) == content(int(i), int(n)), True, "content of %s after remount" % p)
EOF
	umount_fs "$MNT"
	"$CFS_BIN/fsck.chunkfs" -fn "$img" >"$T/fsck-$tag.out" 2>&1 ||
		{ tail -n 30 "$T/fsck-$tag.out"; fail "$tag: fsck.chunkfs -fn found problems"; }
	read written avail0 left bs <"$T/res-$tag"
	nchunks=$(cfs_stat "$img" nchunks)
	# What f_bavail may still show at ENOSPC (docs/DESIGN.md,
	# "Placement"): in each chunk, at most the blocks above its metadata
	# reserve R (16 + 1/64 of the chunk's blocks; R is not in f_bavail)
	# that are too few to start a continuation there: R/4, at least 8
	# (before: R again, 10 MB left on a 1 GiB filesystem)
	cblocks=$(( $(cfs_stat "$img" chunk_size) / bs ))
	r=$((16 + cblocks / 64))
	margin=$((r / 4 > 8 ? r / 4 : 8))
	margin=${CFS_FILL_MARGIN:-$margin}
	max_left=$((nchunks * margin * bs))
	[ "$left" -le "$max_left" ] ||
		fail "$tag: f_bavail at ENOSPC is $left bytes, more than the documented $max_left ($margin blocks in each of $nchunks chunks)"
	[ $((written * 100)) -ge $((avail0 * 99)) ] ||
		fail "$tag: only $written of $avail0 bytes free at the start could be written (< 99%)"
	note "$tag: $written of $avail0 bytes ($((written * 10000 / avail0)) / 10000), f_bavail at ENOSPC $left bytes (at most $max_left); every file reads back, fsck clean"
	rm -f "$img"
}

fill 4m 256M -C 4M
fill default 1G
finish
