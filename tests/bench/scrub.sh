#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/scrub.sh - one chunk's online scrub against its offline check
# (issue 5).
#
# A benchmark, not a test: it prints numbers and exits 0 unless the benchmark
# itself could not run.  Run as root from anywhere in the repository:
#
#   tests/bench/scrub.sh [--files N] [--size-gb G] [--chunks SIZES]
#                        [--runs N] [--quick] [--rev REV] [--keep] [--repair]
#                        [--out FILE.md] [--raw FILE.csv] [--seed S]
#                        [--tmpfs DIR] [--wait-idle SECS]
#
# What it does, in one run:
#  1. writes a deterministic tree on the tmpfs (tests/bench/gentree.c, the
#     shape of tests/bench/fsck.sh's, smaller by default): N small files of
#     0-16 KiB over ~N/100 directories, plus large files of 5-20 MiB until
#     the tree holds about G GiB;
#  2. for every chunk size S of --chunks (default "64M 1G"), makes an image
#     `mkfs.chunkfs -q -C S -d TREE IMAGE SIZE`, SIZE = 1.5x the space the
#     tree needs in whole chunks (sparse, on the tmpfs), and picks up to
#     three chunks K from `chunkfs stat --json`: the one with the most
#     inodes in use, the median one of the chunks holding files (> 16
#     inodes), and the one with the most blocks in use;
#  3. times one warm-up round (discarded) and --runs rounds; in each round,
#     per image, the two sides alternate (online first in odd rounds,
#     offline first in even ones):
#        online   mount the image (`chunkfs-fuse -f IMAGE DIR`), then for
#                 each K `chunkfs scrub DIR --chunk K --json` (check only):
#                 its duration_ns (the time the filesystem lock was held,
#                 i.e. the foreground stall) and blocks_read, and the wall
#                 time of the command; then unmount;
#        offline  on the unmounted image, for each K `fsck.chunkfs -n
#                 --chunk K IMAGE`: wall time;
#     before each command `sync; echo 3 > /proc/sys/vm/drop_caches` (the
#     images are on tmpfs: that empties the kernel's dentry and inode caches
#     and nothing else); every scrub and check must find nothing;
#  4. prints a table per chunk size: medians (min-max).
#
# With --repair, the online side repairs instead: for each K, one in-use
# inode of K is scrambled under the mount (`chunkfs inject --what inode
# --seed RUN --force`), a probe process keeps creating, writing and
# removing small files in a directory outside K (one operation after the
# other, each timed), and the scrub ioctl (CHUNKFS_IOC_SCRUB with
# CHUNKFS_SCRUB_REPAIR) repairs K; recorded: the time the filesystem lock
# was held (locked_ns), whether the check had to run under the lock, the scrub's
# wall time, and the probe's slowest operation while the scrub ran (the
# stall an operation elsewhere sees).  There is no offline side then:
# compare two builds (--rev) instead.
#
# Times are wall-clock from fork to exit (tests/bench/runstat.c); the
# online duration_ns is measured by the filesystem itself (fs/scrub.c),
# from taking the lock to releasing it.
#
# Options:
#   --files N       small files (default 100000; quick 10000)
#   --size-gb G     total data in GiB (default 2; quick 0.3)
#   --chunks SIZES  chunk sizes, space-separated (default "64M 1G")
#   --runs N        timed rounds (default 5; quick 3)
#   --quick         smoke test: the small numbers above
#   --rev REV       benchmark chunkfs as of git revision REV (e.g. HEAD),
#                   built from `git archive REV` in the temp dir; default:
#                   the programs of the work tree (run make first)
#   --repair        measure online repairs and the stall they cause (above)
#   --keep          keep the temp dir (images, logs) on exit
#   --out FILE      also write the Markdown report to FILE
#   --raw FILE      also write every measurement as CSV to FILE
#   --seed S        seed of the tree (default 1)
#   --tmpfs DIR     where everything lives (default /dev/shm; must be tmpfs)
#   --wait-idle S   before measuring, wait up to S seconds (default 300, 0:
#                   no wait) for the CPUs to be >= 85% idle for 10 s
#
# Missing packages (fuse3, gcc, make) are installed with apt-get.  The temp
# dir is removed on exit, and the mount undone, also on failure or Ctrl-C.

set -u -o pipefail

# The whole script is one compound command, so that bash has read all of
# it before it runs: editing the file during a run cannot break the run.
{

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
CMDLINE="tests/bench/scrub.sh${*:+ $*}"

NFILES="" SIZE_GB="" CHUNKS="64M 1G" RUNS="" QUICK=0 REV="" KEEP=0 OUT="" RAW="" REPAIR=0
SEED=1 TMPFS_BASE=/dev/shm WAIT_IDLE=300 SMALL_MAX=16384

usage() {
	sed -n '/^# tests\/bench/,/^# dir is removed/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}
die() { echo "scrub-bench: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--files) NFILES=${2:?}; shift ;;
	--files=*) NFILES=${1#*=} ;;
	--size-gb) SIZE_GB=${2:?}; shift ;;
	--size-gb=*) SIZE_GB=${1#*=} ;;
	--chunks) CHUNKS=${2:?}; shift ;;
	--chunks=*) CHUNKS=${1#*=} ;;
	--runs) RUNS=${2:?}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--quick) QUICK=1 ;;
	--rev) REV=${2:?}; shift ;;
	--rev=*) REV=${1#*=} ;;
	--keep) KEEP=1 ;;
	--repair) REPAIR=1 ;;
	--out) OUT=${2:?}; shift ;;
	--out=*) OUT=${1#*=} ;;
	--raw) RAW=${2:?}; shift ;;
	--raw=*) RAW=${1#*=} ;;
	--seed) SEED=${2:?}; shift ;;
	--seed=*) SEED=${1#*=} ;;
	--tmpfs) TMPFS_BASE=${2:?}; shift ;;
	--tmpfs=*) TMPFS_BASE=${1#*=} ;;
	--wait-idle) WAIT_IDLE=${2:?}; shift ;;
	--wait-idle=*) WAIT_IDLE=${1#*=} ;;
	-h|--help) usage 0 ;;
	*) echo "scrub-bench: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	: "${NFILES:=10000}" "${SIZE_GB:=0.3}" "${RUNS:=3}"
else
	: "${NFILES:=100000}" "${SIZE_GB:=2}" "${RUNS:=5}"
fi
BIG_MIN=5 BIG_MAX=20
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number"
[[ $NFILES =~ ^[0-9]+$ ]] || die "--files wants a number"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed wants a number"
[[ $WAIT_IDLE =~ ^[0-9]+$ ]] || die "--wait-idle wants a number of seconds"
awk -v g="$SIZE_GB" 'BEGIN { exit !(g + 0 > 0) }' || die "--size-gb wants a positive number"
for s in $CHUNKS; do
	b=$(numfmt --from=iec "${s%B}" 2>/dev/null) || die "bad chunk size $s"
	[ "$b" -ge $((4 << 20)) ] || die "chunk size $s: at least 4M"
done

[ "$(id -u)" = 0 ] || die "run as root (FUSE mounts, the scrub ioctl, drop_caches)"

deps() {
	local p missing=""
	for p in fuse3 gcc make coreutils util-linux; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	log "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq $missing >/dev/null ||
		die "apt-get install$missing failed"
}
deps
[ -w /proc/sys/vm/drop_caches ] || die "cannot write /proc/sys/vm/drop_caches"
[ "$(stat -f -c %T "$TMPFS_BASE" 2>/dev/null)" = tmpfs ] ||
	die "$TMPFS_BASE is not a tmpfs (use --tmpfs DIR)"

gib() { awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 2^30 }'; }
# room: the tree, then one image per chunk size (the tree is deleted after)
NCH=$(echo "$CHUNKS" | wc -w)
NEED=$(awk -v g="$SIZE_GB" -v n="$NFILES" -v k="$NCH" 'BEGIN { printf "%.0f", (g * 2^30 + n * 4096) * (k > 1 ? k : 1) * 1.2 + 2^29 }')
avail=$(df -B1 --output=avail "$TMPFS_BASE" | tail -n 1)
memavail=$(( $(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024 ))
log "room: ~$(gib "$NEED") needed on $TMPFS_BASE; $(gib "$avail") free, MemAvailable $(gib "$memavail")"
[ "$avail" -ge "$NEED" ] && [ "$memavail" -ge "$NEED" ] ||
	die "not enough room (use --quick, a smaller --size-gb or fewer --chunks)"

W=$(mktemp -d "$TMPFS_BASE/chunkfs-scrub-bench.XXXXXX") || die "mktemp failed"
mkdir -p "$W/bin" "$W/log" "$W/mnt"
RES=$W/results.csv
: >"$RES"
FPID=""

is_mounted() { awk -v d="$1" '$2 == d { f = 1 } END { exit !f }' /proc/self/mounts; }
pid_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
cleanup() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	set +e
	if is_mounted "$W/mnt"; then
		fusermount3 -u "$W/mnt" 2>/dev/null || fusermount3 -u -z "$W/mnt"
	fi
	if [ -n "$FPID" ]; then
		for ((i = 0; i < 100; i++)); do pid_alive "$FPID" || break; sleep 0.1; done
		pid_alive "$FPID" && kill -9 "$FPID"
		wait "$FPID" 2>/dev/null
	fi
	if [ "$KEEP" = 1 ]; then
		echo "scrub-bench: kept $W (images, logs)" >&2
	elif [ -n "${W:-}" ] && [ -d "$W" ]; then
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "scrub-bench: interrupted" >&2; exit 130' INT TERM HUP

# ---------------------------------------------------------------- programs
log "building gentree and runstat in $W/bin"
gcc -O2 -Wall -o "$W/bin/gentree" "$BENCH_DIR/gentree.c" || die "cannot build gentree"
gcc -O2 -Wall -o "$W/bin/runstat" "$BENCH_DIR/runstat.c" || die "cannot build runstat"
RUNSTAT=$W/bin/runstat
PROGS="mkfs/mkfs.chunkfs fsck/fsck.chunkfs tools/chunkfs fuse/chunkfs-fuse"
if [ -n "$REV" ]; then
	sha=$(cd "$REPO" && git rev-parse --short "$REV^{commit}") || die "--rev $REV: no such revision"
	log "building chunkfs $REV ($sha) from git archive in $W/src"
	mkdir -p "$W/src"
	(cd "$REPO" && git archive "$sha") | tar -x -C "$W/src" || die "git archive $REV failed"
	# shellcheck disable=SC2086
	make -C "$W/src" -j"$(nproc)" $PROGS >"$W/log/build.log" 2>&1 ||
		{ tail -n 20 "$W/log/build.log" >&2; die "chunkfs $REV does not build"; }
	SRC=$W/src
	CFS_VERSION="git $REV ($sha), built by the script"
else
	SRC=$REPO
	CFS_VERSION="work tree at $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown)"
	# shellcheck disable=SC2086
	(cd "$REPO" && make -q $PROGS 2>/dev/null) ||
		{ log "NOTE: the programs are older than their sources (make would rebuild them)"; CFS_VERSION="$CFS_VERSION (older than its sources)"; }
fi
for p in $PROGS; do
	[ -x "$SRC/$p" ] || die "$SRC/$p missing (run make, or use --rev HEAD)"
	cp "$SRC/$p" "$W/bin/" || die "cannot copy $p"
done
MKFS=$W/bin/mkfs.chunkfs FSCK=$W/bin/fsck.chunkfs TOOL=$W/bin/chunkfs FUSE=$W/bin/chunkfs-fuse

# ---------------------------------------------------------------- data
NBIG=$(awk -v g="$SIZE_GB" -v n="$NFILES" -v m="$SMALL_MAX" \
	'BEGIN { b = g * 2^30 - n * m / 2; x = b / (12.5 * 2^20); printf "%d", (x > 0 ? x + 0.5 : 0) }')
NDIRS=$(( NFILES / 100 < 50 ? 50 : NFILES / 100 ))
log "writing the tree: $NFILES small files (0-$SMALL_MAX bytes) in ~$NDIRS directories + $NBIG files of $BIG_MIN-$BIG_MAX MiB, seed $SEED"
read -r TREE_FILES TREE_DIRS TREE_BYTES < <("$W/bin/gentree" "$W/tree" "$NFILES" "$NDIRS" "$NBIG" \
	"$BIG_MIN" "$BIG_MAX" "$SMALL_MAX" "$SEED") || die "gentree failed"
[ -n "${TREE_BYTES:-}" ] || die "gentree failed"
TREE_USED=$(du -s -B1 "$W/tree" | cut -f1)
log "tree: $TREE_FILES files, $TREE_DIRS directories, $(gib "$TREE_BYTES") of data"

# stat_chunks IMAGE -> lines "index inodes_used blocks_used"
stat_chunks() {
	"$TOOL" stat --json "$1" 2>>"$W/log/stat.log" | tr '{' '\n' | awk '
		/"index":/ {
			match($0, /"index": *[0-9]+/); i = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", i)
			match($0, /"blocks": *[0-9]+/); b = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", b)
			match($0, /"free_blocks": *[0-9]+/); fb = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", fb)
			match($0, /"inodes": *[0-9]+/); n = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", n)
			match($0, /"free_inodes": *[0-9]+/); fi = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", fi)
			print i, n - fi, b - fb
		}'
}
# pick_ks IMAGE -> the chosen chunks, one "K inodes blocks why" a line
pick_ks() {
	stat_chunks "$1" | awk '
		{ l[n] = $0; ino[n] = $2; blk[n] = $3; n++ }
		END {
			for (i = 0; i < n; i++) {
				if (ino[i] > mi) { mi = ino[i]; ki = i }
				if (blk[i] > mb) { mb = blk[i]; kb = i }
				if (ino[i] > 16) f[nf++] = i
			}
			# the median of the chunks holding files, by inodes in use
			for (i = 0; i < nf; i++) for (j = i + 1; j < nf; j++) if (ino[f[j]] < ino[f[i]]) { t = f[i]; f[i] = f[j]; f[j] = t }
			km = nf ? f[int(nf / 2)] : ki
			print l[ki], "most-inodes"
			if (km != ki) print l[km], "median"
			if (kb != ki && kb != km) print l[kb], "most-blocks"
		}'
}

declare -A IMGOF KS KINFO NCHUNKS
for s in $CHUNKS; do
	b=$(numfmt --from=iec "${s%B}")
	img_bytes=$(awk -v u="$TREE_USED" -v c="$b" 'BEGIN { n = int(u * 1.5 / c) + 1; printf "%.0f", n * c }')
	IMGOF[$s]=$W/img-$s.img
	log "mkfs.chunkfs -q -C $s -d TREE IMAGE $((img_bytes >> 20))M"
	"$MKFS" -q -C "$s" -d "$W/tree" "${IMGOF[$s]}" "$((img_bytes >> 20))M" >>"$W/log/mkfs.log" 2>&1 ||
		{ tail -n 20 "$W/log/mkfs.log" >&2; die "mkfs.chunkfs -C $s -d failed"; }
	NCHUNKS[$s]=$(stat_chunks "${IMGOF[$s]}" | wc -l)
	KS[$s]=""
	while read -r k ino blk why; do
		KS[$s]="${KS[$s]} $k"
		KINFO[$s/$k]="$ino $blk $why"
	done < <(pick_ks "${IMGOF[$s]}")
	[ -n "${KS[$s]}" ] || die "no chunk found in the -C $s image (see $W/log/stat.log)"
	log "-C $s: ${NCHUNKS[$s]} chunks, $((img_bytes >> 20)) MiB; K =${KS[$s]}"
	"$FSCK" -fn "${IMGOF[$s]}" >>"$W/log/fsck-full.log" 2>&1 ||
		die "fsck.chunkfs -fn of the fresh -C $s image is not clean (see $W/log/fsck-full.log)"
done
[ "$KEEP" = 1 ] || rm -rf "$W/tree"

# ---------------------------------------------------------------- measure
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
mount_img() { # IMAGE
	local i
	echo "== $(date +%T) mount $1" >>"$W/log/fuse.log"
	"$FUSE" -f "$1" "$W/mnt" >>"$W/log/fuse.log" 2>&1 &
	FPID=$!
	for ((i = 0; i < 600; i++)); do
		is_mounted "$W/mnt" && return 0
		pid_alive "$FPID" || die "chunkfs-fuse exited before mounting (see $W/log/fuse.log)"
		sleep 0.01
	done
	die "no mount after 6 s"
}
umount_img() {
	local i
	for ((i = 0; i < 50; i++)); do fusermount3 -u "$W/mnt" 2>>"$W/log/fuse.log" && break; sleep 0.2; done
	is_mounted "$W/mnt" && die "fusermount3 -u keeps failing"
	wait "$FPID" || die "chunkfs-fuse exited with status $? after unmount"
	FPID=""
}
record() { # SIZE SIDE K RUN WALL_S [HELD_NS BLOCKS]
	echo "$1,$2,$3,$4,$5,${6:-},${7:-}" >>"$RES"
}
online() { # SIZE RUN
	local s=$1 r=$2 k st j
	drop_caches
	mount_img "${IMGOF[$s]}"
	for k in ${KS[$s]}; do
		drop_caches
		"$RUNSTAT" "$W/rs" "$TOOL" scrub "$W/mnt" --chunk "$k" --json >"$W/scrub.json" 2>>"$W/log/scrub.log"
		st=$?
		j=$(tr -d '\n' <"$W/scrub.json")
		[ "$st" = 0 ] && [[ $j == *'"found": 0, "fixed": 0, "exit": 0'* ]] ||
			die "chunkfs scrub --chunk $k (-C $s): status $st: $j"
		held=$(echo "$j" | sed -n 's/.*"duration_ns": *\([0-9]*\).*/\1/p')
		blocks=$(echo "$j" | sed -n 's/.*"blocks_read": *\([0-9]*\).*/\1/p')
		record "$s" online "$k" "$r" "$(cut -d' ' -f1 "$W/rs")" "$held" "$blocks"
	done
	umount_img
}
# the probe: timed file operations, one after the other, in DIR until
# STOPFILE exists; then reads "t0 t1" (the scrub's start and end, epoch
# seconds) from WINFILE and prints "ops max_ms": the operations that
# overlapped the scrub and the slowest of them (its whole duration)
cat >"$W/bin/probe.py" <<'EOF'
import os, sys, time
d, stop, win = sys.argv[1], sys.argv[2], sys.argv[3]
ops, i = [], 0
data = b"x" * 4096
while not os.path.exists(stop):
    t = time.time()
    p = os.path.join(d, "p%d" % (i % 64))
    fd = os.open(p, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.close(fd)
    os.unlink(p)
    ops.append((t, time.time()))
    i += 1
t0, t1 = map(float, open(win).read().split())
inside = [e - s for s, e in ops if e >= t0 and s <= t1]
print(len(inside), "%.3f" % (max(inside) * 1000 if inside else 0))
EOF
# the scrub ioctl itself (CHUNKFS_IOC_SCRUB, fs/chunkfs_ioctl.h), so that
# builds whose `chunkfs scrub --json` does not print locked_ns (before
# 5fe68b1) are measured the same way; a build before 5a5fd1d (passes
# always 0) ran every repair under the lock
cat >"$W/bin/ioscrub.py" <<'EOF'
import fcntl, os, struct, sys
fmt = "<6I2Q2IQ2I"                      # struct chunkfs_scrub, 64 bytes
req = (3 << 30) | (struct.calcsize(fmt) << 16) | (0xCF << 8) | 1
buf = bytearray(struct.pack(fmt, int(sys.argv[2]), 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.ioctl(fd, req, buf)
(chunk, flags, found, fixed, state, lf, dur, blocks, peers, passes, locked,
 r1, r2) = struct.unpack(fmt, bytes(buf))
print('{"found": %d, "fixed": %d, "duration_ns": %d, "locked_ns": %d, '
      '"passes": %d, "under_lock": %s}' % (found, fixed, dur, locked, passes,
      "true" if (flags & 0x100) or passes == 0 else "false"))
sys.exit(1 if found else 0)
EOF
# a directory of the mount whose inode is not in chunk K
probe_dir() { # K
	local i d
	for ((i = 0; i < 20; i++)); do
		d=$W/mnt/probe-$i
		mkdir -p "$d" || die "mkdir $d"
		[ $(( $(stat -c %i "$d") >> 32 )) != "$1" ] && { echo "$d"; return; }
	done
	die "no directory outside chunk $1"
}
repair_online() { # SIZE RUN
	local s=$1 r=$2 k st j held under pdir ppid t0
	drop_caches
	mount_img "${IMGOF[$s]}"
	for k in ${KS[$s]}; do
		"$TOOL" inject "${IMGOF[$s]}" --chunk "$k" --what inode --seed "$((r + 1))" --force \
			>>"$W/log/inject.log" 2>&1 || die "inject --force into chunk $k (-C $s) failed"
		pdir=$(probe_dir "$k")
		rm -f "$W/stop"
		python3 "$W/bin/probe.py" "$pdir" "$W/stop" "$W/win" >"$W/probe.out" 2>>"$W/log/probe.log" &
		ppid=$!
		sleep 0.3
		t0=$(date +%s.%N)
		"$RUNSTAT" "$W/rs" python3 "$W/bin/ioscrub.py" "$W/mnt" "$k" >"$W/scrub.json" 2>>"$W/log/scrub.log"
		st=$?
		echo "$t0 $(date +%s.%N)" >"$W/win"
		sleep 0.1
		touch "$W/stop"
		wait "$ppid" || die "the probe failed (see $W/log/probe.log)"
		j=$(tr -d '\n' <"$W/scrub.json")
		[ "$st" = 1 ] || [ "$st" = 0 ] || die "chunkfs scrub --repair --chunk $k (-C $s): status $st: $j"
		held=$(echo "$j" | sed -n 's/.*"locked_ns": *\([0-9]*\).*/\1/p')
		under=$(echo "$j" | sed -n 's/.*"under_lock": *\(true\|false\).*/\1/p')
		[ -n "$held" ] && [ -n "$under" ] || die "no scrub result: $j"
		echo "$s,repair,$k,$r,$(cut -d' ' -f1 "$W/rs"),$held,$([ "$under" = true ] && echo 1 || echo 0),$(cut -d' ' -f2 "$W/probe.out"),$(cut -d' ' -f1 "$W/probe.out")" >>"$RES"
	done
	umount_img
	"$FSCK" -fn "${IMGOF[$s]}" >>"$W/log/fsck-after.log" 2>&1 ||
		die "fsck.chunkfs -fn after the online repairs (-C $s) is not clean (see $W/log/fsck-after.log)"
}
offline() { # SIZE RUN
	local s=$1 r=$2 k st
	for k in ${KS[$s]}; do
		drop_caches
		"$RUNSTAT" "$W/rs" "$FSCK" -n --chunk "$k" "${IMGOF[$s]}" >>"$W/log/fsck.log" 2>&1
		st=$?
		[ "$st" = 0 ] || die "fsck.chunkfs -n --chunk $k (-C $s): status $st (see $W/log/fsck.log)"
		record "$s" offline "$k" "$r" "$(cut -d' ' -f1 "$W/rs")"
	done
}

# idle_pct: percent of CPU time idle over 5 seconds.
. "$BENCH_DIR/lib.sh"
bench_wait_idle "$WAIT_IDLE"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
for ((r = 0; r <= RUNS; r++)); do
	[ $r = 0 ] && log "warm-up round" || log "round $r/$RUNS"
	for s in $CHUNKS; do
		if [ "$REPAIR" = 1 ]; then repair_online "$s" "$r"
		elif [ $((r % 2)) = 1 ]; then online "$s" "$r"; offline "$s" "$r"
		else offline "$s" "$r"; online "$s" "$r"; fi
	done
done
T_BENCH=$(( $(date +%s) - T_START ))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
# stats SIZE SIDE K FIELD -> "median min max n" over runs >= 1 (FIELD: 5
# wall s, 6 held ns, 7 blocks)
stats() {
	awk -F, -v s="$1" -v side="$2" -v k="$3" -v f="$4" '
		BEGIN { n = 0 }
		$1 == s && $2 == side && $3 == k && $4 + 0 >= 1 && $f != "" { v[n] = $f + 0; n++ }
		END {
			if (!n) exit
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%s %s %s %d\n", m, v[0], v[n - 1], n }' "$RES"
}
ms_cell() { # "median min max n" in SCALE units -> "m (lo-hi)" in ms
	local x=$1
	[ -n "$x" ] || { echo "-"; return; }
	set -- $x
	awk -v m="$1" -v lo="$2" -v hi="$3" -v sc="$SCALE" 'BEGIN {
		f = (m * sc < 10) ? "%.2f" : "%.1f"
		printf f " (" f "-" f ")", m * sc, lo * sc, hi * sc }'
}
# the lines every report starts with: command, machine, tree
report_head() {
	echo "Command: \`$CMDLINE\` ($(date -u +%Y-%m-%dT%H:%MZ), $RUNS rounds + 1 warm-up, benchmark phase ${T_BENCH}s, waited ${T_WAIT}s for idle CPUs)"
	echo
	echo "Machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r), $TMPFS_BASE: tmpfs; chunkfs: $CFS_VERSION; CPUs $idle% idle just before the start, load average $LOAD_START at the start, $LOAD_END at the end"
	echo
	echo "Tree: $TREE_FILES files, $TREE_DIRS directories, $(gib "$TREE_BYTES") of data (gentree, seed $SEED)."
}
report() {
	local s k info ino blk why on_h on_w off bl
	report_head
	for s in $CHUNKS; do
		echo
		echo "Chunks of $s: ${NCHUNKS[$s]} chunks, image $(( $(stat -c %s "${IMGOF[$s]}") >> 20 )) MiB."
		echo
		echo "| chunk K | inodes used | blocks used | online: lock held (duration_ns) [ms] | online: \`chunkfs scrub --chunk K\` wall [ms] | blocks read (online) | offline: \`fsck.chunkfs -n --chunk K\` wall [ms] | offline / online held | offline / online wall |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
		for k in ${KS[$s]}; do
			read -r ino blk why <<<"${KINFO[$s/$k]}"
			on_h=$(SCALE=1e-6; ms_cell "$(stats "$s" online "$k" 6)")
			on_w=$(SCALE=1000; ms_cell "$(stats "$s" online "$k" 5)")
			off=$(SCALE=1000; ms_cell "$(stats "$s" offline "$k" 5)")
			bl=$(stats "$s" online "$k" 7 | cut -d' ' -f1)
			r1=$(awk -v a="$(stats "$s" offline "$k" 5 | cut -d' ' -f1)" -v b="$(stats "$s" online "$k" 6 | cut -d' ' -f1)" \
				'BEGIN { if (b > 0) printf "%.2fx", a / (b / 1e9); else print "-" }')
			r2=$(awk -v a="$(stats "$s" offline "$k" 5 | cut -d' ' -f1)" -v b="$(stats "$s" online "$k" 5 | cut -d' ' -f1)" \
				'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
			echo "| $k ($why) | $ino | $blk | $on_h | $on_w | ${bl:--} | $off | $r1 | $r2 |"
		done
	done
	echo
	echo "Cells: median (min-max) of $RUNS rounds.  Online: check only (no --repair), on a mount made for the round (fresh daemon); offline: the unmounted image.  Every scrub and check found nothing."
}

report_repair() {
	local s k info ino blk why
	report_head
	for s in $CHUNKS; do
		echo
		echo "Chunks of $s: ${NCHUNKS[$s]} chunks, image $(( $(stat -c %s "${IMGOF[$s]}") >> 20 )) MiB."
		echo
		echo "| chunk K | inodes used | lock held by the repair [ms] | repairs under the lock | \`chunkfs scrub --repair\` wall [ms] | slowest probe operation elsewhere overlapping it [ms] | probe operations overlapping it |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
		for k in ${KS[$s]}; do
			read -r ino blk why <<<"${KINFO[$s/$k]}"
			echo "| $k ($why) | $ino | $(SCALE=1e-6; ms_cell "$(stats "$s" repair "$k" 6)") | $(awk -F, -v s="$s" -v k="$k" '$1 == s && $2 == "repair" && $3 == k && $4 >= 1 { n++; u += $7 } END { printf "%d of %d", u, n }' "$RES") | $(SCALE=1000; ms_cell "$(stats "$s" repair "$k" 5)") | $(SCALE=1; ms_cell "$(stats "$s" repair "$k" 8)") | $(stats "$s" repair "$k" 9 | cut -d' ' -f1) |"
		done
	done
	echo
	echo "Cells: median (min-max) of $RUNS rounds.  Each round scrambles one in-use inode of K under the mount and repairs it online while the probe works in a directory outside K; fsck.chunkfs -fn is clean after every round's unmount."
}

echo
if [ "$REPAIR" = 1 ]; then
	echo "== Online repair and the stall it causes: $CMDLINE"
	MD=$(report_repair)
else
	echo "== Online scrub against offline check: $CMDLINE"
	MD=$(report)
fi
echo "$MD"
if [ -n "$OUT" ]; then
	echo "$MD" >"$OUT" || die "cannot write $OUT"
	log "Markdown report written to $OUT"
fi
if [ -n "$RAW" ]; then
	if [ "$REPAIR" = 1 ]; then h="chunk_size,side,chunk,run,wall_s,held_ns,under_lock,probe_max_ms,probe_ops"
	else h="chunk_size,side,chunk,run,wall_s,held_ns,blocks_read"; fi
	{ echo "$h"; cat "$RES"; } >"$RAW" || die "cannot write $RAW"
	log "raw results written to $RAW"
fi
exit 0
}
