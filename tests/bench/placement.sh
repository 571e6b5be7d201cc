#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/placement.sh - placement quality: how many files need
# continuations, on a real tree and under aging, against the chunk size
# (issue 7).
#
# A benchmark, not a test: it prints figures and exits 0 unless the
# benchmark itself could not run (a chunkfs error, or fsck finding problems
# after aging, is a failure of the run).  Run as root from anywhere in the
# repository (FUSE mounts):
#
#   tests/bench/placement.sh [--sizes "64M 256M 1G 4G"] [--fills "80 95"]
#                            [--fs-gb G] [--rounds N] [--seed S]
#                            [--max-file SIZE] [--age-args "ARGS"] [--tree DIR]
#                            [--ext4-image FILE] [--no-cref] [--no-age]
#                            [--rev REV] [--dir DIR] [--out FILE.md]
#                            [--raw FILE.csv] [--plot FILE.png] [--keep]
#
# What it does:
#  1. cref: an ext4 image of a real tree (default /usr), made once with
#     `mkfs.ext4 -q -d TREE` (1.3x the tree's size, on --ext4-dir, default
#     /var/tmp: it is several GiB and only read), or the one --ext4-image
#     names; then `chunkfs cref IMAGE --chunk-size S --json` for every size:
#     the links the same files and directories would need in chunkfs;
#  2. aging: for every chunk size S and fill F, a fresh chunkfs image of
#     max(G GiB, 3 chunks) (sparse, on --dir, default /dev/shm, i.e. RAM),
#     `mkfs.chunkfs -C S`, mounted with chunkfs-fuse, then
#     `chunkfs age MNT --seed S --fill F --rounds N --max-file M` (fill to
#     F% with the size mix of /usr, then N rounds of deleting 30%,
#     renaming 5% across directories, growing 2% and refilling), unmounted,
#     `fsck.chunkfs -fn` (must be clean) and `chunkfs stat --json`: the
#     share of files with continuations, the most on one file, the space
#     the links take;
#  3. workloads (issue 16), for every chunk size S and filesystem size Z of
#     --wl-fs: punch-and-refill (a 100 MiB file written, a hole punched in
#     every other 4 KiB block, the file written again start to end; with
#     chunks above 64 MiB a preallocated file first leaves chunk 0 only
#     60 MiB, so the file straddles two chunks) and uneven fill (a file of
#     1.5 chunks with every other block punched, the filesystem filled to
#     ENOSPC with 1 MiB files, those outside chunk 0 deleted: then the file's holes refilled and new
#     1 MiB files written until ENOSPC, the bytes written against the free
#     space df showed; filesystems up to 4 GiB: it writes them whole);
#     `chunkfs stat --json`: continuations per file (max,
#     99th percentile, files over 10 per GiB + 2), space for links, and
#     fsck.chunkfs -fn must be clean; and fsx: 3000 random operations
#     (writes, truncates, every fallocate mode) on one file of 2 chunks
#     (256 MiB at most), written whole first, seeded by --seed;
#  4. prints a Markdown table of all (continuations per file: the most,
#     the 99th percentile, the files over the bound) and each run's
#     distribution (how many files have 0, 1, 2, ... continuations: chunkfs
#     stat's histogram), writes it to --out, every figure to
#     --raw (CSV), and with gnuplot a plot (PNG) of the share of files with
#     continuations against the chunk size to --plot.
#
# Only the allocator matters here, not speed: the figures are counts, the
# same on every run for the same seed (up to ENOSPC timing), so one run per
# configuration is enough.  --rev REV runs the allocator (mkfs.chunkfs,
# chunkfs-fuse, fsck.chunkfs) of git revision REV, built from `git archive
# REV`, with the work tree's tools/chunkfs (age, stat, cref): before/after
# comparisons of a placement change.
#
# Options:
#   --sizes LIST     chunk sizes (default "64M 256M 1G 4G")
#   --fills LIST     fill targets in percent (default "80 95")
#   --fs-gb G        chunkfs image size in GiB, at least 3 chunks (default 6:
#                    the 4 GiB chunks get 12 GiB); the data written is about
#                    (1 + 0.3 N) x fill x size
#   --rounds N       aging rounds (default 4)
#   --seed S         aging seed (default 1)
#   --max-file SIZE  largest aged file (default 256M)
#   --age-args ARGS  more options for chunkfs age, e.g. "--rename 0
#                    --hard-links 0": without renames and hard links across
#                    directories (which need directory continuations
#                    whatever the allocator does), only placement is left
#   --tree DIR       tree for the ext4 image (default /usr)
#   --ext4-image F   use (or make, if missing) this ext4 image for cref
#   --ext4-dir DIR   where to make the ext4 image (default /var/tmp)
#   --wl-fs LIST     filesystem sizes of the workloads (default "1G 16G
#                    256G"; 1T works too: a sparse image, mkfs writes
#                    about 0.3% of it with 64 MiB chunks)
#   --workloads LIST which workloads (default "punch-refill fsx uneven-fill")
#   --no-cref, --no-age, --no-workloads   skip one part
#   --rev REV        the allocator of revision REV (see above)
#   --dir DIR        where the chunkfs images live (default /dev/shm)
#   --out FILE       also write the Markdown report to FILE
#   --raw FILE       also write every figure as CSV to FILE
#   --plot FILE      also plot to FILE (PNG; needs gnuplot: on Debian
#                    `apt-get install gnuplot-nox`)
#   --keep           keep the temp dir (images, logs)
#
# The temp dir is removed on exit, also on failure or Ctrl-C.

set -u -o pipefail

# The whole script is one compound command, so that bash has read all of
# it before it runs: editing the file during a run cannot break the run.
{

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
CMDLINE="tests/bench/placement.sh${*:+ $*}"
# shellcheck source=tests/bench/lib.sh
. "$BENCH_DIR/lib.sh"

SIZES="64M 256M 1G 4G" FILLS="80 95" FS_GB=6 ROUNDS=4 SEED=1 MAXF=256M AGE_ARGS=""
TREE=/usr EXT4="" EXT4_DIR=/var/tmp CREF=1 AGE=1 WL=1 WL_FS="1G 16G 256G" WLS="punch-refill fsx uneven-fill" REV="" DIR=/dev/shm
OUT="" RAW="" PLOT="" KEEP=0

usage() {
	sed -n '/^# tests\/bench/,/^# The temp dir/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}
die() { echo "placement-bench: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--sizes) SIZES=${2:?}; shift ;;
	--fills) FILLS=${2:?}; shift ;;
	--fs-gb) FS_GB=${2:?}; shift ;;
	--rounds) ROUNDS=${2:?}; shift ;;
	--seed) SEED=${2:?}; shift ;;
	--max-file) MAXF=${2:?}; shift ;;
	--age-args) AGE_ARGS=${2?}; shift ;;
	--tree) TREE=${2:?}; shift ;;
	--ext4-image) EXT4=${2:?}; shift ;;
	--ext4-dir) EXT4_DIR=${2:?}; shift ;;
	--no-cref) CREF=0 ;;
	--no-age) AGE=0 ;;
	--no-workloads) WL=0 ;;
	--wl-fs) WL_FS=${2:?}; shift ;;
	--workloads) WLS=${2:?}; shift ;;
	--rev) REV=${2:?}; shift ;;
	--dir) DIR=${2:?}; shift ;;
	--out) OUT=${2:?}; shift ;;
	--raw) RAW=${2:?}; shift ;;
	--plot) PLOT=${2:?}; shift ;;
	--keep) KEEP=1 ;;
	-h|--help) usage 0 ;;
	*) echo "placement-bench: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done

[ "$(id -u)" = 0 ] || die "run as root (FUSE mounts, mkfs.ext4 -d of $TREE)"
for c in mkfs.ext4 python3 fusermount3; do
	command -v "$c" >/dev/null || die "$c missing (sh tests/deps.sh)"
done
if [ -n "$PLOT" ] && ! command -v gnuplot >/dev/null; then
	die "--plot needs gnuplot, which is not installed: apt-get install gnuplot-nox (only the benchmark needs it)"
fi

W=$(mktemp -d "$DIR/cfs-placement.XXXXXX") || die "mktemp in $DIR failed"
MNT=$W/mnt
mkdir -p "$W/bin" "$W/log" "$MNT"
DAEMON=""
cleanup() {
	if mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null
	fi
	[ -n "$DAEMON" ] && wait "$DAEMON" 2>/dev/null
	if [ "$KEEP" = 1 ]; then log "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------- programs
PROGS="mkfs/mkfs.chunkfs fuse/chunkfs-fuse fsck/fsck.chunkfs"
if [ -n "$REV" ]; then
	# shellcheck disable=SC2086
	bench_build_rev "$REV" "$W" $PROGS
	CFS_VERSION="allocator of git $REV ($REV_SHA), tools of the work tree"
else
	SRC=$REPO
	CFS_VERSION="work tree at $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown)"
fi
for p in $PROGS; do
	[ -x "$SRC/$p" ] || die "$SRC/$p missing (run make)"
	cp "$SRC/$p" "$W/bin/" || die "cannot copy $p"
done
[ -x "$REPO/tools/chunkfs" ] || die "$REPO/tools/chunkfs missing (run make)"
cp "$REPO/tools/chunkfs" "$W/bin/" || die "cannot copy tools/chunkfs"
MKFS=$W/bin/mkfs.chunkfs FUSE=$W/bin/chunkfs-fuse FSCK=$W/bin/fsck.chunkfs TOOL=$W/bin/chunkfs

bytes_of() { python3 -c 'import sys
s = sys.argv[1]; m = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
print(int(s[:-1]) * m[s[-1]] if s[-1] in m else int(s))' "$1"; }

CSV=$W/figures.csv
echo "kind,chunk_size,fill_target,used_pct,files,files_with_links,share_pct,max_per_file,dirs,dirs_with_links,links,overhead_bytes,overhead_pct,seconds,p99_per_file,over_bound,fs_size,written_pct,fsck_clean,histogram" >"$CSV"

# ---------------------------------------------------------------- cref
if [ "$CREF" = 1 ]; then
	[ -n "$EXT4" ] || EXT4=$EXT4_DIR/cfs-placement-$(basename "$TREE").ext4
	if [ ! -s "$EXT4" ]; then
		kb=$(du -sxk "$TREE" | awk '{ print $1 }')
		log "making $EXT4: mkfs.ext4 -d $TREE ($((kb / 1024)) MiB), 1.3x that"
		mkfs.ext4 -q -F -d "$TREE" "$EXT4" "$((kb * 13 / 10 / 1024 + 64))M" >"$W/log/mkfs.ext4.log" 2>&1 ||
			{ cat "$W/log/mkfs.ext4.log" >&2; rm -f "$EXT4"; die "mkfs.ext4 -d $TREE failed"; }
	fi
	for s in $SIZES; do
		log "cref $EXT4 --chunk-size $s"
		t0=$(date +%s.%N)
		"$TOOL" cref "$EXT4" --chunk-size "$s" --json --quiet >"$W/cref-$s.json" ||
			die "chunkfs cref --chunk-size $s failed"
		t1=$(date +%s.%N)
		python3 - "$W/cref-$s.json" "$s" "$(bytes_of "$s")" "$t0" "$t1" >>"$CSV" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
print("cref,%s,,,%d,%d,%.4f,%d,%d,%d,%d,,,%.2f,,,,," % (sys.argv[3], j["regular_files"], j["files_with_links"],
      j["files_with_links_pct"], j["max_links_per_file"], j["directories"], j["directories_with_links"],
      j["cross_chunk_links"], float(sys.argv[5]) - float(sys.argv[4])))
EOF
	done
fi

# ---------------------------------------------------------------- aging
if [ "$AGE" = 1 ]; then
	for s in $SIZES; do
		cb=$(bytes_of "$s")
		fsb=$((FS_GB << 30))
		[ "$fsb" -ge $((3 * cb)) ] || fsb=$((3 * cb))
		for f in $FILLS; do
			img=$W/img
			rm -f "$img"
			avail=$(df -k --output=avail "$DIR" | tail -n 1)
			[ "$avail" -gt $((fsb / 1024 + 1048576)) ] ||
				die "$DIR has $((avail / 1024)) MiB free, an image of $((fsb >> 20)) MiB needs more (use --dir)"
			log "aging: ${s} chunks, $((fsb >> 30)) GiB, fill $f%, $ROUNDS rounds, seed $SEED${AGE_ARGS:+, $AGE_ARGS}"
			"$MKFS" -q -C "$s" "$img" "$((fsb >> 20))M" || die "mkfs.chunkfs -C $s failed"
			"$FUSE" -f "$img" "$MNT" >"$W/log/fuse-$s-$f.log" 2>&1 &
			DAEMON=$!
			n=0
			until mountpoint -q "$MNT"; do
				kill -0 "$DAEMON" 2>/dev/null || { cat "$W/log/fuse-$s-$f.log" >&2; die "chunkfs-fuse died"; }
				n=$((n + 1)); [ $n -lt 300 ] || die "mount timeout"; sleep 0.1
			done
			# shellcheck disable=SC2086
			"$TOOL" age "$MNT" --seed "$SEED" --fill "$f" --rounds "$ROUNDS" --max-file "$MAXF" $AGE_ARGS \
				--json >"$W/age-$s-$f.json" 2>"$W/log/age-$s-$f.log" ||
				{ cat "$W/log/age-$s-$f.log" >&2; die "chunkfs age failed ($s, $f%)"; }
			fusermount3 -u "$MNT" || die "fusermount3 -u failed"
			wait "$DAEMON" || die "chunkfs-fuse exited with an error"
			DAEMON=""
			"$FSCK" -fn "$img" >"$W/log/fsck-$s-$f.log" 2>&1 ||
				{ tail -n 20 "$W/log/fsck-$s-$f.log" >&2; die "fsck.chunkfs -fn found problems after aging ($s, $f%)"; }
			"$TOOL" stat --json "$img" >"$W/stat-$s-$f.json" || die "chunkfs stat failed"
			python3 - "$W/stat-$s-$f.json" "$W/age-$s-$f.json" "$cb" "$f" >>"$CSV" <<'EOF'
import json, sys
s, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("age,%s,%s,%.2f,%d,%d,%.4f,%d,%d,%d,%d,%d,%.4f,%.1f,%s,%s,,,yes,%s" % (sys.argv[3], sys.argv[4], a["used_pct"],
      s["regular_files"], s["files_with_continuations"], s["files_with_continuations_pct"],
      s["max_continuations_per_file"], s["directories"], s["directories_with_continuations"],
      s["cross_chunk_links"], s["link_overhead_bytes"], s["link_overhead_pct"], a["seconds"],
      s.get("p99_continuations_per_file", ""), s.get("files_over_continuation_bound", ""),
      " ".join("%d:%d" % (c, n) for c, n in s.get("continuations_per_file_histogram", []))))
EOF
			tail -n 1 "$CSV" >&2
			rm -f "$img"
		done
	done
fi

# ---------------------------------------------------------------- workloads
# wl_mount IMG LOGNAME / wl_umount: the FUSE mount of a workload
wl_mount() {
	"$FUSE" -f "$1" "$MNT" >"$W/log/fuse-$2.log" 2>&1 &
	DAEMON=$!
	local n=0
	until mountpoint -q "$MNT"; do
		kill -0 "$DAEMON" 2>/dev/null || { cat "$W/log/fuse-$2.log" >&2; die "chunkfs-fuse died"; }
		n=$((n + 1)); [ $n -lt 600 ] || die "mount timeout"; sleep 0.1
	done
}
wl_umount() {
	fusermount3 -u "$MNT" || die "fusermount3 -u failed"
	wait "$DAEMON" || die "chunkfs-fuse exited with an error"
	DAEMON=""
}
# wl_report KIND IMG CHUNK FS SECONDS [WRITTEN_PCT]: fsck, stat, a CSV row
wl_report() {
	local clean=yes
	if ! "$FSCK" -fn "$2" >"$W/log/fsck-$1-$3-$4.log" 2>&1; then
		# reported, and the run fails at its end (a "before" run of
		# an old allocator still gives its figures)
		tail -n 5 "$W/log/fsck-$1-$3-$4.log" >&2
		log "fsck.chunkfs -fn found problems after $1 ($3, $4)"
		clean=no FSCK_BAD=1
	fi
	"$TOOL" stat --json "$2" >"$W/stat-$1-$3-$4.json" || die "chunkfs stat failed"
	python3 - "$W/stat-$1-$3-$4.json" "$1" "$3" "$4" "$5" "${6:-}" "$clean" >>"$CSV" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
print("%s,%s,,%.2f,%d,%d,%.4f,%d,%d,%d,%d,%d,%.4f,%s,%s,%s,%s,%s,%s,%s" % (sys.argv[2], sys.argv[3],
      100.0 * s["used_blocks"] / s["total_blocks"], s["regular_files"], s["files_with_continuations"],
      s["files_with_continuations_pct"], s["max_continuations_per_file"], s["directories"],
      s["directories_with_continuations"], s["cross_chunk_links"], s["link_overhead_bytes"],
      s["link_overhead_pct"], sys.argv[5], s.get("p99_continuations_per_file", ""),
      s.get("files_over_continuation_bound", ""), sys.argv[4], sys.argv[6], sys.argv[7],
      " ".join("%d:%d" % (c, n) for c, n in s.get("continuations_per_file_histogram", []))))
EOF
	tail -n 1 "$CSV" >&2
}
FSCK_BAD=0
if [ "$WL" = 1 ]; then
	cat >"$W/wl_util.py" <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
def fa(fd, mode, off, n):
    if libc.fallocate(fd, mode, off, n):
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
def write_punch(fd, n, buf):
    """n bytes of buf (1 MiB) over and over, a hole in every other block"""
    for i in range(n >> 20):
        os.pwrite(fd, buf, i << 20)
    os.fsync(fd)
    for off in range(0, n, 8192):
        fa(fd, 3, off, 4096)
    os.fsync(fd)
EOF
	export PYTHONPATH=$W${PYTHONPATH:+:$PYTHONPATH}
	for s in $SIZES; do
		cb=$(bytes_of "$s")
		for z in $WL_FS; do
			zb=$(bytes_of "$z")
			[ "$zb" -ge $((2 * cb)) ] || { log "workloads: $s chunks need more than $z"; continue; }
			img=$W/img
			wl_on() { case " $WLS " in *" $1 "*) return 0 ;; esac; return 1; }
			# punch-and-refill
			if wl_on punch-refill; then
			rm -f "$img"; truncate -s "$zb" "$img" || die "truncate $img"
			log "punch-and-refill: $s chunks, $z"
			"$MKFS" -q -C "$s" "$img" || die "mkfs.chunkfs -C $s $z failed"
			wl_mount "$img" "pr-$s-$z"
			t0=$(date +%s.%N)
			python3 - "$MNT" "$cb" <<'EOF' || die "punch-and-refill failed ($s, $z)"
import os, sys
from wl_util import fa, write_punch
mnt, cb = sys.argv[1], int(sys.argv[2])
n, bs = 100 << 20, 4096
fd = os.open(mnt + "/f", os.O_CREAT | os.O_RDWR, 0o644)
if cb > (64 << 20): # chunk 0 keeps only 60 MiB
    st = os.statvfs(mnt)
    pad = min(cb, st.f_bavail * st.f_frsize) - (100 << 20)
    if pad > 0:
        p = os.open(mnt + "/pad", os.O_CREAT | os.O_RDWR, 0o644)
        fa(p, 0, 0, pad)
        os.close(p)
buf = os.urandom(1 << 20)
write_punch(fd, n, buf)
for i in range(n >> 20):
    os.pwrite(fd, buf, i << 20)
os.fsync(fd)
EOF
			t1=$(date +%s.%N)
			wl_umount
			wl_report punch-refill "$img" "$cb" "$zb" "$(python3 -c "print('%.1f' % ($t1 - $t0))")"
			fi
			# fsx: random operations on one file of 2 chunks (at most
			# 256 MiB), written whole first: writes, punches, ZERO_RANGE, fallocate,
			# truncates, collapse and insert, of 1 byte to 4 MiB
			if wl_on fsx; then
			rm -f "$img"; truncate -s "$zb" "$img" || die "truncate $img"
			log "fsx: $s chunks, $z"
			"$MKFS" -q -C "$s" "$img" || die "mkfs.chunkfs -C $s $z failed"
			wl_mount "$img" "fsx-$s-$z"
			t0=$(date +%s.%N)
			python3 - "$MNT" "$cb" "$SEED" <<'EOF' || die "fsx failed ($s, $z)"
import os, random, sys
from wl_util import libc
mnt, cb, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
top = min(2 * cb, 256 << 20)
fd = os.open(mnt + "/f", os.O_CREAT | os.O_RDWR, 0o644)
buf = os.urandom(4 << 20)
for off in range(0, top, 4 << 20): # written whole first
    os.pwrite(fd, buf, off)
for i in range(3000):
    size = os.fstat(fd).st_size
    off = rnd.randrange(0, top)
    n = min(rnd.choice([1, 4096, 65536, 1 << 20, 4 << 20, rnd.randrange(1, 4 << 20)]), top - off)
    op = rnd.randrange(24)
    if op < 12:
        os.pwrite(fd, buf[:n], off)
    elif op == 12:
        os.ftruncate(fd, off)
    else:
        mode = [0x3, 0x3, 0x10, 0x10, 0x1, 0x1, 0x0, 0x0, 0x8, 0x20, 0x20][op - 13]
        if mode in (0x8, 0x20):
            off, n = off & ~4095, max(4096, n & ~4095)
        if mode == 0x20 and size + n > top:
            continue
        libc.fallocate(fd, mode, off, n) # (EINVAL for some: as fsx)
os.fsync(fd)
EOF
			t1=$(date +%s.%N)
			wl_umount
			wl_report fsx "$img" "$cb" "$zb" "$(python3 -c "print('%.1f' % ($t1 - $t0))")"
			fi
			wl_on uneven-fill || continue
			# uneven fill
			rm -f "$img"; truncate -s "$zb" "$img" || die "truncate $img"
			# (it writes the whole filesystem: in RAM on /dev/shm)
			[ "$zb" -le $((4 << 30)) ] || { log "uneven fill: only up to 4 GiB, $z skipped"; rm -f "$img"; continue; }
			log "uneven fill: $s chunks, $z"
			"$MKFS" -q -C "$s" "$img" || die "mkfs.chunkfs -C $s $z failed"
			wl_mount "$img" "uf-$s-$z"
			t0=$(date +%s.%N)
			python3 - "$MNT" "$cb" >"$W/pct" <<'EOF' || die "uneven fill failed ($s, $z)"
import errno, os, sys
from wl_util import write_punch
mnt, cb = sys.argv[1], int(sys.argv[2])
bs, mib = 4096, os.urandom(1 << 20)
n = (cb * 3 // 2) >> 20 << 20
fd = os.open(mnt + "/f", os.O_CREAT | os.O_RDWR, 0o644)
write_punch(fd, n, mib)
def fill(d):
    os.makedirs(d, exist_ok=True)
    i, done = 0, 0
    while True:
        try:
            g = os.open("%s/%d" % (d, i), os.O_CREAT | os.O_WRONLY, 0o644)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
            return done
        try:
            done += os.pwrite(g, mib, 0)
            os.fsync(g)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
            os.close(g)
            return done
        os.close(g)
        i += 1
fill(mnt + "/fill")
# chunk 0 (/f's) stays full: the fillers elsewhere go
for nm in os.listdir(mnt + "/fill"):
    p = mnt + "/fill/" + nm
    if os.stat(p).st_ino >> 32:
        os.unlink(p)
os.sync()
st = os.statvfs(mnt)
free = st.f_bavail * st.f_frsize
done = 0
for off in range(0, n, 2 * bs):
    try:
        done += os.pwrite(fd, mib[:bs], off)
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
        break
os.fsync(fd)
done += fill(mnt + "/fill2")
print("%.2f" % (100.0 * done / free))
EOF
			t1=$(date +%s.%N)
			wl_umount
			wl_report uneven-fill "$img" "$cb" "$zb" "$(python3 -c "print('%.1f' % ($t1 - $t0))")" "$(cat "$W/pct")"
			rm -f "$img"
		done
	done
fi

# ---------------------------------------------------------------- report
REPORT=$W/report.md
python3 - "$CSV" "$CMDLINE" "$CFS_VERSION" "${EXT4:-}" "$TREE" "$AGE_ARGS" >"$REPORT" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def size(b):
    b = int(b)
    return "%d GiB" % (b >> 30) if b >= 1 << 30 else "%d MiB" % (b >> 20)
print("`%s`, %s.\n" % (sys.argv[2], sys.argv[3]))
def dist(rs):
    """the distribution: continuations per regular file (count: files)"""
    print("\nContinuations per regular file (continuations: files):\n")
    for r in rs:
        print("- %s%s, %s chunks%s: %s" % (r["kind"], " %s%%" % r["fill_target"] if r["fill_target"] else "",
              size(r["chunk_size"]), ", %s" % size(r["fs_size"]) if r["fs_size"] else "",
              ", ".join(r["histogram"].split()) or "(none)"))
cref = [r for r in rows if r["kind"] == "cref"]
if cref:
    print("cref on `%s` (ext4 image of %s):\n" % (sys.argv[4], sys.argv[5]))
    print("| chunk size | files | files with links | share | most on one file | dirs with links | links | s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in cref:
        print("| %s | %s | %s | %.3f%% | %s | %s of %s | %s | %s |" % (size(r["chunk_size"]), r["files"],
              r["files_with_links"], float(r["share_pct"]), r["max_per_file"], r["dirs_with_links"],
              r["dirs"], r["links"], r["seconds"]))
    print()
age = [r for r in rows if r["kind"] == "age"]
if age:
    print("chunkfs after `chunkfs age%s` (chunkfs stat):\n" % (" " + sys.argv[6] if sys.argv[6] else ""))
    print("| chunk size | fill | used | files | with continuations | share | most on one file | 99th pct | files over 10/GiB + 2 | dirs with cont. | links | space for links | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in age:
        print("| %s | %s%% | %s%% | %s | %s | %.3f%% | %s | %s | %s | %s of %s | %s | %.1f MiB (%.3f%%) | %s |" % (
              size(r["chunk_size"]), r["fill_target"], r["used_pct"], r["files"], r["files_with_links"],
              float(r["share_pct"]), r["max_per_file"], r["p99_per_file"], r["over_bound"],
              r["dirs_with_links"], r["dirs"], r["links"],
              int(r["overhead_bytes"]) / 1048576.0, float(r["overhead_pct"]), r["seconds"]))
    dist(age)
wl = [r for r in rows if r["kind"] in ("punch-refill", "fsx", "uneven-fill")]
if wl:
    print("\nWorkloads of issue 16 (chunkfs stat after each; bound: 10 continuations per GiB of a file + 2):\n")
    print("| workload | chunk size | fs size | used | continuations per file: max | 99th pct | files over the bound | space for links | written / df free | fsck -fn | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in wl:
        print("| %s | %s | %s | %s%% | %s | %s | %s | %.1f MiB (%.3f%%) | %s | %s | %s |" % (
              r["kind"], size(r["chunk_size"]), size(r["fs_size"]), r["used_pct"], r["max_per_file"],
              r["p99_per_file"], r["over_bound"], int(r["overhead_bytes"]) / 1048576.0,
              float(r["overhead_pct"]), (r["written_pct"] + "%") if r["written_pct"] else "",
              "clean" if r["fsck_clean"] == "yes" else "PROBLEMS", r["seconds"]))
    dist(wl)
EOF
cat "$REPORT"
[ -z "$OUT" ] || cp "$REPORT" "$OUT" || die "cannot write $OUT"
[ -z "$RAW" ] || cp "$CSV" "$RAW" || die "cannot write $RAW"

if [ -n "$PLOT" ]; then
	# columns: chunk size (MiB), share of files, share of directories
	awk -F, '$1 == "cref" { print $2 / 1048576, $7, 100 * $10 / $9 }' "$CSV" >"$W/p-cref.dat"
	plots=""
	[ -s "$W/p-cref.dat" ] && plots="'$W/p-cref.dat' using 1:COL with linespoints title 'cref: ext4 image of $TREE'"
	for f in $FILLS; do
		awk -F, -v f="$f" '$1 == "age" && $3 == f { print $2 / 1048576, $7, 100 * $10 / $9 }' "$CSV" >"$W/p-age-$f.dat"
		[ -s "$W/p-age-$f.dat" ] || continue
		plots="${plots:+$plots, }'$W/p-age-$f.dat' using 1:COL with linespoints title 'chunkfs aged to $f% full'"
	done
	gnuplot <<EOF || die "gnuplot failed"
set terminal pngcairo size 1100,450
set output '$PLOT'
set multiplot layout 1,2 title 'Cross-chunk links against the chunk size${AGE_ARGS:+ (age $AGE_ARGS)}'
set logscale x 2
set xlabel 'chunk size (MiB)'
set grid
set key top right
set ylabel 'regular files with continuations (%)'
plot ${plots//COL/2}
set ylabel 'directories with continuations (%)'
set key bottom left
plot ${plots//COL/3}
unset multiplot
EOF
	log "plot written to $PLOT"
fi

[ "$FSCK_BAD" = 0 ] || die "fsck.chunkfs -fn found problems after a workload (see the table)"
exit 0
}
