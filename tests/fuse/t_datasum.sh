#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Data checksums through a real mount (issue 13): bits flipped in data
# blocks of files on an unmounted image, the blocks found through the
# format (FORMAT.md: geometry, inode table, the inline extent root, a
# continuation's extents), not through the checksum code.  Then, mounted:
#   - reading each damaged file gives EIO at the damaged block, alone and
#     in a read that starts there; a read from before it is short with the
#     right bytes; the bytes after it read right;
#   - O_DIRECT and copy_file_range of a damaged block are EIO, an mmap
#     read of its page SIGBUS;
#   - every undamaged file reads back byte-identical;
#   - a partial write into the damaged block is EIO (read-modify-write
#     verifies the old block), a whole-block write makes it readable;
#   - chunkfs events shows a data event naming each damaged file's inode;
#   - chunkfs scrub MNT exits 4 (errors left) and lists each damaged file
#     with its damaged bytes, --json too; --no-data finds nothing;
#   - after unmount fsck.chunkfs -fn is clean (metadata), fsck -fn --data
#     exits 4 and lists each damaged file.
# A filesystem made with -O ^datasum reads the flipped bytes back (what
# this test finds is the feature's doing).
. "$(dirname "$0")/lib.sh"

is_chunkfs || { echo "SKIP: chunkfs only"; exit 0; }
TOOL=$CFS_BIN/chunkfs
FSCK=$CFS_BIN/fsck.chunkfs

make_files() { # the files, their sums in $T/sums
	py "$MNT" "$T/sums" <<'EOF'
import os, sys, random, json
m, out = sys.argv[1], sys.argv[2]
r = random.Random(13)
sizes = {"small": 3 * 4096 + 5, "medium": 300 * 1024, "big": 6 << 20}
for i in range(8):
    sizes["ok%d" % i] = r.randrange(1, 200000)
sums = {}
for n, s in sizes.items():
    d = r.randbytes(s)
    with open(os.path.join(m, n), "wb") as f:
        f.write(d)
    sums[n] = d.hex()
json.dump(sums, open(out, "w"))
EOF
}

# flip IMG NAME LBLK: flip a bit in logical block LBLK of /NAME; prints
# "ino chunk" of where the block is
flip() {
	"$TOOL" stat --json "$1" "/$2" >"$T/stat.json" || fail "chunkfs stat $2"
	"$PY" - "$1" "$3" "$T/stat.json" <<'EOF' || fail "flip $2"
import json, sys
from cfs_util import flip_data
p = json.load(open(sys.argv[3]))["paths"][0]
c = flip_data(sys.argv[1], p["chunk"], p["local"], int(sys.argv[2]))
print((p["chunk"] << 32) | p["local"], c)
EOF
}

# ---- -O ^datasum: the flip reads back (not verified) ----
mkimg "$IMG" 48M -C 4M -O ^datasum
mount_fs "$IMG" "$MNT"
make_files
umount_fs "$MNT"
flip "$IMG" small 1 >/dev/null
mount_fs "$IMG" "$MNT"
py "$MNT" "$T/sums" <<'EOF'
import os, sys, json
from cfs_util import *
m, sums = sys.argv[1], json.load(open(sys.argv[2]))
d = open(os.path.join(m, "small"), "rb").read()
check(d != bytes.fromhex(sums["small"]), "the flip is not read back without datasum")
EOF
umount_fs "$MNT"

# ---- with data checksums (the default) ----
note "bits flipped in three files (one in a continuation's range)"
mkimg "$IMG" 48M -C 4M
mount_fs "$IMG" "$MNT"
make_files
umount_fs "$MNT"
"$FSCK" -fn --data "$IMG" >"$T/fsck0" 2>&1 || { cat "$T/fsck0"; fail "fsck --data before the damage"; }
set -- $(flip "$IMG" small 1); INO_S=$1
set -- $(flip "$IMG" medium 10); INO_M=$1
set -- $(flip "$IMG" big 1300); INO_B=$1; CH_B=$2
[ "$CH_B" != "$(( INO_B >> 32 ))" ] || fail "the big file's block 1300 is in its own chunk: no continuation"

mount_fs "$IMG" "$MNT"
py "$MNT" "$T/sums" <<'EOF'
import os, sys, json, errno, mmap, signal, subprocess
from cfs_util import *
m, sums = sys.argv[1], json.load(open(sys.argv[2]))
B = 4096
damaged = {"small": 1, "medium": 10, "big": 1300}
# first, on a cold page cache: large sequential reads from the start (the
# kernel's readahead asks for windows of many blocks, hashed after the
# daemon's lock, api.c) give the right bytes and stop at the damage
for n, l in damaged.items():
    want = bytes.fromhex(sums[n])
    fd = os.open(os.path.join(m, n), os.O_RDONLY)
    got, err = b"", None
    while True:
        try:
            d = os.pread(fd, 1 << 20, len(got))
        except OSError as e:
            err = e.errno
            break
        if not d:
            break
        got += d
    os.close(fd)
    eq(got, want[:len(got)], n + ": a sequential read returns good bytes only")
    check(len(got) <= l * B, "%s: a sequential read went past the damage (%d bytes)" % (n, len(got)))
    check(err == errno.EIO, "%s: a sequential read ends with %s, not EIO" % (n, err))
for n, hexd in sums.items():
    want = bytes.fromhex(hexd)
    p = os.path.join(m, n)
    if n not in damaged:
        eq(open(p, "rb").read(), want, n + " reads back")
        continue
    l = damaged[n]
    fd = os.open(p, os.O_RDONLY)
    expect_errno(errno.EIO, os.pread, fd, B, l * B)
    expect_errno(errno.EIO, os.pread, fd, 10, l * B + 2000)
    expect_errno(errno.EIO, os.pread, fd, 5 * B, l * B)
    if l:
        got = os.pread(fd, 4 * B, (l - 1) * B)  # short: the good bytes
        eq(got, want[(l - 1) * B:l * B], n + ": a read from before the damage")
    rest = b""
    off = (l + 1) * B
    while off < len(want):
        d = os.pread(fd, 1 << 20, off)
        if not d:
            break
        rest += d
        off += len(d)
    eq(rest, want[(l + 1) * B:], n + ": the bytes after the damage")
    os.close(fd)
# O_DIRECT, copy_file_range and mmap go through the same verification
for n, l in damaged.items():
    p = os.path.join(m, n)
    fd = os.open(p, os.O_RDONLY | os.O_DIRECT)
    mm = mmap.mmap(-1, 4 * B)
    expect_errno(errno.EIO, os.preadv, fd, [mm], l * B)
    os.close(fd)
    src = os.open(p, os.O_RDONLY)
    dst = os.open(os.path.join(m, "copy-" + n), os.O_WRONLY | os.O_CREAT, 0o644)
    expect_errno(errno.EIO, os.copy_file_range, src, dst, B, l * B, 0)
    os.close(src)
    os.close(dst)
    os.unlink(os.path.join(m, "copy-" + n))
    # a page of a mapping that cannot be read is SIGBUS (in a child)
    r = subprocess.run([sys.executable, "-c",
        "import mmap, os, sys; f = open(sys.argv[1], 'rb'); "
        "m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ); "
        "sys.exit(m[int(sys.argv[2])])", p, str(l * B + 17)])
    check(r.returncode == -signal.SIGBUS,
          "%s: mmap read of the damaged page: exit %d, not SIGBUS" % (n, r.returncode))
# read-modify-write verifies the old block; a whole block replaces it
fd = os.open(os.path.join(m, "medium"), os.O_RDWR)
expect_errno(errno.EIO, os.pwrite, fd, b"x" * 10, 10 * B + 100)
want = bytes.fromhex(sums["medium"])
eq(os.pwrite(fd, want[10 * B:11 * B], 10 * B), B, "whole-block write")
os.close(fd)
eq(open(os.path.join(m, "medium"), "rb").read(), want, "medium rewritten")
EOF
"$TOOL" events "$MNT" >"$T/events" 2>&1 || fail "chunkfs events"
for f in small:$INO_S big:$INO_B; do
	i=${f#*:}; n=${f%%:*}
	# by path (parent pointers) with the inode number beside it
	grep -E " data +chunk [0-9]+: inode $i bytes [0-9]+-[0-9]+: data checksum mismatch \(/$n, inode $i\)" "$T/events" >/dev/null ||
		{ cat "$T/events"; fail "no data event for /$n (inode $i) naming its path"; }
done
"$TOOL" events "$MNT" --json | grep -q "\"ino\": $INO_S, \"path\": \"/small\"" ||
	{ "$TOOL" events "$MNT" --json; fail "events --json: no path for /small"; }
# counted in the chunk's health (status --json, Prometheus)
"$TOOL" status --json "$MNT" >"$T/status.json" || fail "status --json"
py "$T/status.json" <<'EOF2'
import json, sys
from cfs_util import *
r = json.load(open(sys.argv[1]))
check(sum(c["data_errors"] for c in r["chunks"]) >= 2, "data_errors counted")
check(all(c["state"] != "suspect" for c in r["chunks"]), "no chunk suspect")
EOF2
"$TOOL" status --prometheus "$MNT" | grep -q '^chunkfs_errors_total{.*,kind="data"} [1-9]' ||
	fail "Prometheus: no data error counter"

note "chunkfs scrub lists each damaged file"
"$TOOL" scrub "$MNT" --no-data >"$T/scrub0" 2>&1 || { cat "$T/scrub0"; fail "scrub --no-data found something"; }
rc=0; "$TOOL" scrub "$MNT" >"$T/scrub" 2>&1 || rc=$?
[ "$rc" = 4 ] || { cat "$T/scrub"; fail "scrub exit $rc, not 4 (errors left)"; }
grep -q "inode $INO_S ([0-9]*:[0-9]*) /small, .*file data does not match its checksum.* \[bytes 4096-8191\]" "$T/scrub" ||
	{ cat "$T/scrub"; fail "scrub does not list the small file"; }
grep -q "inode $INO_B .*file data does not match its checksum.* \[bytes $((1300 * 4096))-$((1301 * 4096 - 1))\]" "$T/scrub" ||
	{ cat "$T/scrub"; fail "scrub does not list the big file"; }
if grep -q "inode $INO_M " "$T/scrub"; then cat "$T/scrub"; fail "the rewritten file is listed"; fi
rc=0; "$TOOL" scrub "$MNT" --json >"$T/scrub.json" 2>/dev/null || rc=$?
[ "$rc" = 4 ] || fail "scrub --json exit $rc"
py "$T/scrub.json" "$INO_S" "$INO_B" <<'EOF'
import json, sys
from cfs_util import *
r = json.load(open(sys.argv[1]))
probs = [p for c in r["chunks"] for p in c.get("problems", [])]
for ino in sys.argv[2:]:
    check(any(p["ino"] == int(ino) and "bytes" in (p["detail"] or "") for p in probs),
          "--json lists inode " + ino)
check(sum(c.get("data_bad", 0) for c in r["chunks"]) == 2, "data_bad")
EOF
umount_fs "$MNT"

note "fsck: metadata clean; --data lists the damaged files"
"$FSCK" -fn "$IMG" >"$T/fsck1" 2>&1 || { cat "$T/fsck1"; fail "fsck -fn (metadata) not clean"; }
rc=0; "$FSCK" -fn --data "$IMG" >"$T/fsck2" 2>&1 || rc=$?
[ "$rc" = 4 ] || { cat "$T/fsck2"; fail "fsck --data exit $rc, not 4"; }
for i in $INO_S $INO_B; do
	grep -q "inode $i .*file data does not match its checksum.* \[bytes" "$T/fsck2" ||
		{ cat "$T/fsck2"; fail "fsck --data does not list inode $i"; }
done
# ---- the data pass reads in windows of 256 KiB, 16 to a batch, shared by
# two threads: runs of bad blocks across a window's end (blocks 63-64) and
# a batch's (1023-1025) are each one range, in file order ----
note "runs of damage across the data pass's windows and batches"
rm -f "$IMG"
mkimg "$IMG" 96M -C 32M
mount_fs "$IMG" "$MNT"
head -c $((10 << 20)) /dev/urandom >"$MNT/runs" || fail "write runs"
umount_fs "$MNT"
for b in 63 64 1023 1024 1025 2000; do flip "$IMG" runs $b >/dev/null; done
rc=0; "$FSCK" -fn --data "$IMG" >"$T/fsck3" 2>&1 || rc=$?
[ "$rc" = 4 ] || { cat "$T/fsck3"; fail "fsck --data exit $rc, not 4"; }
grep -o "\[bytes [0-9]*-[0-9]*\]" "$T/fsck3" >"$T/ranges"
printf '%s\n' "[bytes $((63 * 4096))-$((65 * 4096 - 1))]" \
	"[bytes $((1023 * 4096))-$((1026 * 4096 - 1))]" \
	"[bytes $((2000 * 4096))-$((2001 * 4096 - 1))]" >"$T/want"
cmp -s "$T/ranges" "$T/want" || { cat "$T/fsck3"; diff "$T/want" "$T/ranges"; fail "fsck --data ranges"; }
mount_fs "$IMG" "$MNT"
rc=0; "$TOOL" scrub "$MNT" >"$T/scrub3" 2>&1 || rc=$?
[ "$rc" = 4 ] || { cat "$T/scrub3"; fail "scrub exit $rc, not 4"; }
grep -o "\[bytes [0-9]*-[0-9]*\]" "$T/scrub3" >"$T/ranges"
cmp -s "$T/ranges" "$T/want" || { cat "$T/scrub3"; diff "$T/want" "$T/ranges"; fail "scrub ranges"; }
umount_fs "$MNT"
note "ok"
