#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/fsck.sh - fsck.chunkfs, one chunk against the whole
# filesystem, and against e2fsck (issue 3).
#
# A benchmark, not a test: it prints numbers and exits 0 unless the benchmark
# itself could not run.  Run as root from anywhere in the repository:
#
#   tests/bench/fsck.sh [--files N] [--size-gb G] [--chunk SIZE] [--runs N]
#                       [--quick] [--rev REV] [--keep] [--out FILE.md]
#                       [--raw FILE.csv] [--seed S] [--tmpfs DIR]
#                       [--wait-idle SECS]
#
# What it does, in one run:
#  1. writes a deterministic tree on the tmpfs (tests/bench/gentree.c):
#     N small files of 0-16 KiB (--small-max) over ~N/100 directories, plus large files of
#     5-20 MiB until the tree holds about G GiB;
#  2. makes a chunkfs image of it, `mkfs.chunkfs -q -C SIZE -d TREE IMAGE S`,
#     and an ext4 image, `mkfs.ext4 -q -F -d TREE IMAGE S`, both S = 1.5x the
#     space the tree needs (rounded up to whole chunks); the tree is then
#     deleted (unless --keep) to make room;
#  3. picks K, the middle one of the chunks that hold files (of those with
#     at least half the inodes in use of the fullest chunk);
#  4. times, each run with `echo 3 > /proc/sys/vm/drop_caches` before it,
#     one warm-up round (discarded) and then --runs rounds, the contenders
#     alternating run by run:
#        e2fsck-full    e2fsck -fn EXT4-IMAGE
#        cfs-full       fsck.chunkfs -fn IMAGE           (every chunk)
#        cfs-full-j2    fsck.chunkfs -fn -j 2 IMAGE
#        cfs-one        fsck.chunkfs -n --chunk K IMAGE  (undamaged)
#        cfs-repair     fsck.chunkfs -y --chunk K COPY, where COPY is made
#                       afresh from IMAGE for every run and damaged by
#                       `chunkfs inject COPY --chunk K --what KIND --seed S`
#                       (KIND inode by default; only the fsck is timed);
#                       after it, `fsck.chunkfs -n --chunk K COPY` must find
#                       nothing (not timed), and in the warm-up round a full
#                       `fsck.chunkfs -fn COPY` too;
#  5. peak memory against the number of chunks: three more images of a
#     small tree (1/10 of the small files, at least 10,000) with the same
#     chunk size, of 64, 1024 and 4096 chunks (--quick: 16, 256, 1024), the
#     larger ones mostly empty (sparse files on the tmpfs); `fsck.chunkfs -n
#     --chunk K` and `-fn` on each (3 runs each);
#  6. prints a table: medians (min-max) of wall time, CPU time, peak RSS
#     (the largest ru_maxrss of the runs, the figure GNU time's %M prints;
#     the warm-up round runs under /usr/bin/time -f %M as a cross-check), and
#     the ratios e2fsck full / fsck.chunkfs one chunk (issue-3 target
#     >= 100x), fsck.chunkfs full / e2fsck full (target <= 1.0) and the
#     -j 2 speed-up.
#
# Images live on the tmpfs (/dev/shm), i.e. in RAM: drop_caches cannot
# evict them, so "cold" means that the checker starts with no cache of its
# own (and the kernel's dentry/inode caches are empty), not that the data
# comes from a disk.  Times are wall-clock, from fork to exit, measured by
# tests/bench/runstat.c.
#
# Options:
#   --files N       small files (default 200000; quick 20000)
#   --size-gb G     total data in GiB, large files added to reach it
#                   (default 3.5; quick 0.5)
#   --small-max B   small files are 0-B bytes, uniform (default 16384)
#   --image-gb G    image size in GiB (default: 1.5x the tree's space);
#                   for many tiny files, which need more inodes than that
#                   holds (e.g. --files 1000000 --small-max 4096
#                   --size-gb 2.5 --image-gb 20)
#   --chunk SIZE    chunk size for mkfs.chunkfs -C (default 64M)
#   --runs N        timed runs per contender (default 5; quick 3)
#   --quick         smoke test: the small numbers above
#   --rev REV       benchmark chunkfs as of git revision REV (e.g. HEAD),
#                   built from `git archive REV` in the temp dir; default:
#                   the programs of the work tree (run make first)
#   --keep          keep the temp dir (tree, images, logs) on exit
#   --out FILE      also write the Markdown report to FILE
#   --raw FILE      also write every measurement as CSV to FILE
#   --seed S        seed of the tree and of the injected damage (default 1)
#   --what KIND     kind of damage for the repair row (default inode)
#   --tmpfs DIR     where everything lives (default /dev/shm; must be tmpfs)
#   --wait-idle S   before measuring, wait up to S seconds (default 300, 0:
#                   no wait) for the CPUs to be >= 85% idle for 10 s
#
# Missing packages (e2fsprogs, time, gcc, make) are installed with apt-get.
# The temp dir (tree, images) is removed on exit, also on failure or Ctrl-C.

set -u -o pipefail

# The whole script is one compound command, so that bash has read all of
# it before it runs: editing the file during a run cannot break the run.
{

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
CMDLINE="tests/bench/fsck.sh${*:+ $*}"

NFILES="" SIZE_GB="" SMALL_MAX=16384 IMAGE_GB="" CHUNK=64M RUNS="" QUICK=0 REV="" KEEP=0 OUT="" RAW=""
SEED=1 WHAT=inode TMPFS_BASE=/dev/shm WAIT_IDLE=300

usage() {
	sed -n '/^# tests\/bench/,/^# The temp dir/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}
die() { echo "fsck-bench: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--files) NFILES=${2:?}; shift ;;
	--files=*) NFILES=${1#*=} ;;
	--size-gb) SIZE_GB=${2:?}; shift ;;
	--size-gb=*) SIZE_GB=${1#*=} ;;
	--small-max) SMALL_MAX=${2:?}; shift ;;
	--small-max=*) SMALL_MAX=${1#*=} ;;
	--image-gb) IMAGE_GB=${2:?}; shift ;;
	--image-gb=*) IMAGE_GB=${1#*=} ;;
	--chunk) CHUNK=${2:?}; shift ;;
	--chunk=*) CHUNK=${1#*=} ;;
	--runs) RUNS=${2:?}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--quick) QUICK=1 ;;
	--rev) REV=${2:?}; shift ;;
	--rev=*) REV=${1#*=} ;;
	--keep) KEEP=1 ;;
	--out) OUT=${2:?}; shift ;;
	--out=*) OUT=${1#*=} ;;
	--raw) RAW=${2:?}; shift ;;
	--raw=*) RAW=${1#*=} ;;
	--seed) SEED=${2:?}; shift ;;
	--seed=*) SEED=${1#*=} ;;
	--what) WHAT=${2:?}; shift ;;
	--what=*) WHAT=${1#*=} ;;
	--tmpfs) TMPFS_BASE=${2:?}; shift ;;
	--tmpfs=*) TMPFS_BASE=${1#*=} ;;
	--wait-idle) WAIT_IDLE=${2:?}; shift ;;
	--wait-idle=*) WAIT_IDLE=${1#*=} ;;
	-h|--help) usage 0 ;;
	*) echo "fsck-bench: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	: "${NFILES:=20000}" "${SIZE_GB:=0.5}" "${RUNS:=3}"
	SCALE_N="16 256 1024"
else
	: "${NFILES:=200000}" "${SIZE_GB:=3.5}" "${RUNS:=5}"
	SCALE_N="64 1024 4096"
fi
SCALE_RUNS=3
BIG_MIN=5 BIG_MAX=20
[[ $SMALL_MAX =~ ^[1-9][0-9]*$ ]] || die "--small-max wants a positive number of bytes"
[ -z "$IMAGE_GB" ] || awk -v g="$IMAGE_GB" 'BEGIN { exit !(g + 0 > 0) }' || die "--image-gb wants a positive number"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number"
[[ $NFILES =~ ^[0-9]+$ ]] || die "--files wants a number"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed wants a number"
[[ $WAIT_IDLE =~ ^[0-9]+$ ]] || die "--wait-idle wants a number of seconds"
awk -v g="$SIZE_GB" 'BEGIN { exit !(g + 0 > 0) }' || die "--size-gb wants a positive number"
CHUNK_BYTES=$(numfmt --from=iec "${CHUNK%B}" 2>/dev/null) || die "bad --chunk $CHUNK"
[ "$CHUNK_BYTES" -ge $((4 << 20)) ] || die "--chunk must be at least 4M"

[ "$(id -u)" = 0 ] || die "run as root (drop_caches, apt-get)"

# ---------------------------------------------------------------- packages
deps() {
	local p missing=""
	for p in e2fsprogs time gcc make coreutils; do
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
[ -x /usr/bin/time ] || die "/usr/bin/time missing (package time)"
mkfs.ext4 -V 2>&1 | grep -q 'mke2fs 1\.4[7-9]\|mke2fs 1\.[5-9]' ||
	log "WARNING: $(mkfs.ext4 -V 2>&1 | head -n 1): mkfs.ext4 -d needs e2fsprogs >= 1.43 (1.47 tested)"
[ -w /proc/sys/vm/drop_caches ] || die "cannot write /proc/sys/vm/drop_caches"
[ "$(stat -f -c %T "$TMPFS_BASE" 2>/dev/null)" = tmpfs ] ||
	die "$TMPFS_BASE is not a tmpfs (use --tmpfs DIR)"

# Room: the tree (G GiB plus ~2 KiB of slack per small file), the chunkfs
# and the ext4 image of it, the repair copy: at most ~3x the tree at any
# time, since the tree is deleted before the copy is made (4x with --keep).
TREE_EST=$(awk -v g="$SIZE_GB" -v n="$NFILES" -v m="$SMALL_MAX" 'BEGIN { s = g * 2^30 - n * m / 2; printf "%.0f", (s > 0 ? s : 0) + n * (m / 2 + 2048) }')
NEED=$(( TREE_EST * (KEEP ? 4 : 3) + (512 << 20) ))
avail=$(df -B1 --output=avail "$TMPFS_BASE" | tail -n 1)
memavail=$(( $(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024 ))
gib() { awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 2^30 }'; }
log "room: ~$(gib $NEED) needed on $TMPFS_BASE; $(gib "$avail") free, MemAvailable $(gib $memavail)"
[ "$avail" -ge "$NEED" ] || die "$TMPFS_BASE: $(gib "$avail") free, need ~$(gib $NEED) (use --quick or a smaller --size-gb)"
[ "$memavail" -ge "$NEED" ] || die "MemAvailable $(gib $memavail), need ~$(gib $NEED) (use --quick or a smaller --size-gb)"

W=$(mktemp -d "$TMPFS_BASE/chunkfs-fsck-bench.XXXXXX") || die "mktemp failed"
mkdir -p "$W/bin" "$W/log"
RES=$W/results.csv
: >"$RES"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	set +e
	if [ "$KEEP" = 1 ]; then
		echo "fsck-bench: kept $W (tree, images, logs)" >&2
	elif [ -n "${W:-}" ] && [ -d "$W" ]; then
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "fsck-bench: interrupted" >&2; exit 130' INT TERM HUP

# ---------------------------------------------------------------- programs
T_ALL=$(date +%s)
log "building gentree and runstat in $W/bin"
gcc -O2 -Wall -o "$W/bin/gentree" "$BENCH_DIR/gentree.c" || die "cannot build gentree"
gcc -O2 -Wall -o "$W/bin/runstat" "$BENCH_DIR/runstat.c" || die "cannot build runstat"
RUNSTAT=$W/bin/runstat
PROGS="mkfs/mkfs.chunkfs fsck/fsck.chunkfs tools/chunkfs"
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
	CFS_VERSION="work tree at $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown), built $(date -r "$REPO/fsck/fsck.chunkfs" '+%F %T' 2>/dev/null)"
	# shellcheck disable=SC2086
	(cd "$REPO" && make -q $PROGS 2>/dev/null) ||
		{ log "NOTE: the programs are older than their sources (make would rebuild them)"; CFS_VERSION="$CFS_VERSION (older than its sources)"; }
fi
for p in $PROGS; do
	[ -x "$SRC/$p" ] || die "$SRC/$p missing (run make, or use --rev HEAD)"
	cp "$SRC/$p" "$W/bin/" || die "cannot copy $p"
done
MKFS=$W/bin/mkfs.chunkfs FSCK=$W/bin/fsck.chunkfs TOOL=$W/bin/chunkfs

# ---------------------------------------------------------------- data
# Large files: enough of them (5-20 MiB, 12.5 MiB on average) to bring the
# tree to SIZE_GB, the small files averaging SMALL_MAX/2 (8 KiB).
NBIG=$(awk -v g="$SIZE_GB" -v n="$NFILES" -v m="$SMALL_MAX" \
	'BEGIN { b = g * 2^30 - n * m / 2; x = b / (12.5 * 2^20); printf "%d", (x > 0 ? x + 0.5 : 0) }')
NDIRS=$(( NFILES / 100 < 50 ? 50 : NFILES / 100 ))
log "writing the tree: $NFILES small files (0-$SMALL_MAX bytes) in ~$NDIRS directories + $NBIG files of $BIG_MIN-$BIG_MAX MiB, seed $SEED"
t0=$(date +%s.%N)
read -r TREE_FILES TREE_DIRS TREE_BYTES < <("$W/bin/gentree" "$W/tree" "$NFILES" "$NDIRS" "$NBIG" \
	"$BIG_MIN" "$BIG_MAX" "$SMALL_MAX" "$SEED") || die "gentree failed"
[ -n "${TREE_BYTES:-}" ] || die "gentree failed"
T_GEN=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
TREE_USED=$(du -s -B1 "$W/tree" | cut -f1)
log "tree: $TREE_FILES files, $TREE_DIRS directories, $(gib "$TREE_BYTES") of data ($(gib "$TREE_USED") on tmpfs), written in ${T_GEN}s"

# image size: 1.5x the space the tree takes, in whole chunks (or
# --image-gb, for trees of many tiny files that need more inodes than 1.5x
# their space holds at the default 16 KiB per inode; both images are
# sparse, so the size costs no room)
if [ -n "$IMAGE_GB" ]; then
	IMG_BYTES=$(awk -v g="$IMAGE_GB" -v c="$CHUNK_BYTES" 'BEGIN { n = int(g * 2^30 / c); if (n < 1) n = 1; printf "%.0f", n * c }')
else
	IMG_BYTES=$(awk -v u="$TREE_USED" -v c="$CHUNK_BYTES" 'BEGIN { n = int(u * 1.5 / c) + 1; printf "%.0f", n * c }')
fi
IMG_MIB=$(( IMG_BYTES >> 20 ))
CIMG=$W/chunkfs.img EIMG=$W/ext4.img RIMG=$W/repair.img

timed() { # LOGNAME CMD...: run, log, print the seconds
	local name=$1 t0
	shift
	t0=$(date +%s.%N)
	echo "== $*" >>"$W/log/$name.log"
	"$@" >>"$W/log/$name.log" 2>&1 || { tail -n 20 "$W/log/$name.log" >&2; return 1; }
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}
log "mkfs.chunkfs -q -C $CHUNK -d TREE IMAGE ${IMG_MIB}M"
T_MKFS_C=$(timed mkfs "$MKFS" -q -C "$CHUNK" -d "$W/tree" "$CIMG" "${IMG_MIB}M") ||
	die "mkfs.chunkfs -d failed (log above)"
log "mkfs.ext4 -q -F -d TREE IMAGE ${IMG_MIB}M"
T_MKFS_E=$(timed mkfs mkfs.ext4 -q -F -d "$W/tree" "$EIMG" "${IMG_MIB}M") ||
	die "mkfs.ext4 -d failed (log above)"
log "made the images in ${T_MKFS_C}s (chunkfs) and ${T_MKFS_E}s (ext4)"

# A small tree for the memory-against-chunks images: 1/10 of the small
# files and no large files, so that it fits in the smaller image.
SCALE_FILES=$(( NFILES / 10 < 10000 ? 10000 : NFILES / 10 ))
"$W/bin/gentree" "$W/stree" "$SCALE_FILES" $(( NDIRS / 10 < 50 ? 50 : NDIRS / 10 )) 0 \
	"$BIG_MIN" "$BIG_MAX" "$SMALL_MAX" "$((SEED + 1))" >/dev/null || die "gentree (small tree) failed"
for n in $SCALE_N; do
	s=$(( n * (CHUNK_BYTES >> 20) ))
	log "scaling image: $n chunks (${s}M), $SCALE_FILES small files"
	timed mkfs "$MKFS" -q -C "$CHUNK" -d "$W/stree" "$W/scale-$n.img" "${s}M" >/dev/null ||
		die "mkfs.chunkfs of the $n-chunk image failed"
done
if [ "$KEEP" != 1 ]; then
	rm -rf "$W/tree" "$W/stree"
fi

# ---------------------------------------------------------------- chunk K
# chunkfs stat --json: per chunk used blocks and inodes.  K: the middle one
# of the chunks with more than 16 inodes in use (those hold files).
stat_chunks() { # IMAGE -> lines "index inodes_used blocks_used"
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
# Among the chunks holding files, only those with at least half as many
# inodes in use as the fullest: a chunk of a few directories or large files
# (tens of inodes) would make the one-chunk check look faster than a
# typical chunk's.
pick_k() { # IMAGE -> "K inodes blocks"
	stat_chunks "$1" | awk '$2 > 16 { l[n] = $0; v[n++] = $2; if ($2 > m) m = $2 }
		END { for (i = 0; i < n; i++) if (v[i] * 2 >= m) k[c++] = l[i]; if (c) print k[int(c / 2)] }'
}
read -r K K_INODES K_BLOCKS < <(pick_k "$CIMG")
[ -n "${K:-}" ] || die "chunkfs stat found no chunk with files in $CIMG (see $W/log/stat.log)"
NCHUNKS=$(stat_chunks "$CIMG" | wc -l)
NFULL=$(stat_chunks "$CIMG" | awk '$2 > 16' | wc -l)
log "chunkfs image: $NCHUNKS chunks, $NFULL with files; K = $K ($K_INODES inodes, $K_BLOCKS blocks in use)"
for n in $SCALE_N; do
	read -r k _ < <(pick_k "$W/scale-$n.img")
	[ -n "${k:-}" ] || die "no chunk with files in the $n-chunk image"
	eval "SK_$n=\$k"
	eval "SK_INFO_$n=\"\$(stat_chunks \"\$W/scale-\$n.img\" | awk -v k=\"\$k\" '\$1 == k { print \$2 \" inodes, \" \$3 \" blocks\" }')\""
done

# ---------------------------------------------------------------- measuring
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

record() { # NAME RUN ELAPSED RSS USER SYS STATUS
	echo "$1,$2,$3,$4,$5,$6,$7" >>"$RES"
	log "  $1 run $2: $3 s, $4 KiB, status $7"
}

# contender NAME: prints the command line (EXPECTED_STATUS first)
cmd_of() {
	case $1 in
	e2fsck-full) echo "0 e2fsck -fn $EIMG" ;;
	cfs-full) echo "0 $FSCK -fn $CIMG" ;;
	cfs-full-j2) echo "0 $FSCK -fn -j 2 $CIMG" ;;
	cfs-one) echo "0 $FSCK -n --chunk $K $CIMG" ;;
	cfs-repair) echo "1 $FSCK -y --chunk $K $RIMG" ;;
	scale-one-*) echo "0 $FSCK -n --chunk $(eval echo "\$SK_${1#scale-one-}") $W/scale-${1#scale-one-}.img" ;;
	scale-full-*) echo "0 $FSCK -fn $W/scale-${1#scale-full-}.img" ;;
	esac
}

# measure NAME RUN: prepare, drop caches, run once; warm-up (run 0) under
# /usr/bin/time -f %M as well.
GNU_M=""
measure() {
	local name=$1 r=$2 want cmd st out=$W/log/$1.out
	set -- $(cmd_of "$name")
	want=$1; shift
	if [ "$name" = cfs-repair ]; then
		rm -f "$RIMG"
		cp --sparse=always "$CIMG" "$RIMG" || { log "cannot copy the image"; return 1; }
		"$TOOL" inject "$RIMG" --chunk "$K" --what "$WHAT" --seed "$SEED" >>"$W/log/inject.log" 2>&1 ||
			{ log "chunkfs inject failed: $(tail -n 3 "$W/log/inject.log")"; return 1; }
	fi
	drop_caches
	echo "== run $r: $*" >>"$out"
	if [ "$r" = 0 ]; then
		"$RUNSTAT" "$W/rs" /usr/bin/time -f "%M" -o "$W/gnutime" "$@" >>"$out" 2>&1
		GNU_M="$GNU_M $name=$(tail -n 1 "$W/gnutime" 2>/dev/null)"
	else
		"$RUNSTAT" "$W/rs" "$@" >>"$out" 2>&1
	fi
	read -r el rss us sy st <"$W/rs"
	if [ "$st" != "$want" ]; then
		log "$name run $r: exit status $st, expected $want; last lines of $out:"
		tail -n 8 "$out" >&2
		echo "$name,$r,ERR,,,,$st" >>"$RES"
		FAILS="${FAILS:-} $name#$r(status $st)"
		[ "$name" = cfs-repair ] && { cp "$RIMG" "$W/repair-failed-$r.img" 2>/dev/null; }
		return 1
	fi
	record "$name" "$r" "$el" "$rss" "$us" "$sy" "$st"
	if [ "$name" = cfs-repair ]; then
		# the repaired chunk must now be clean
		"$FSCK" -n --chunk "$K" "$RIMG" >"$W/log/recheck.out" 2>&1; st=$?
		if [ "$st" != 0 ]; then
			log "after the repair (run $r), fsck.chunkfs -n --chunk $K still finds problems:"
			tail -n 8 "$W/log/recheck.out" >&2
			RECHECK="${RECHECK:-} run $r: --chunk $K status $st"
		fi
		if [ "$r" = 0 ]; then
			"$FSCK" -fn "$RIMG" >"$W/log/recheck-full.out" 2>&1; st=$?
			if [ "$st" != 0 ]; then
				log "after the repair, fsck.chunkfs -fn finds problems:"
				grep -v ' 0 problems' "$W/log/recheck-full.out" | tail -n 8 >&2
				RECHECK="${RECHECK:-} run 0: -fn status $st"
			fi
		fi
	fi
}

# idle_pct: percent of CPU time idle over 5 seconds.
. "$BENCH_DIR/lib.sh"
bench_wait_idle "$WAIT_IDLE"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
MAIN="e2fsck-full cfs-full cfs-full-j2 cfs-one cfs-repair"
SCALE=""
for n in $SCALE_N; do SCALE="$SCALE scale-one-$n"; done
for n in $SCALE_N; do SCALE="$SCALE scale-full-$n"; done
for ((r = 0; r <= RUNS; r++)); do
	[ $r = 0 ] && log "warm-up round" || log "run $r/$RUNS"
	for c in $MAIN; do measure "$c" "$r"; done
	if [ $r -le $SCALE_RUNS ]; then
		for c in $SCALE; do measure "$c" "$r"; done
	fi
done
T_BENCH=$(( $(date +%s) - T_START ))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$RIMG"

# per-pass timing of one e2fsck and the per-chunk times of one full
# fsck.chunkfs (not part of the table; for reading the results)
drop_caches
e2fsck -fn -tt "$EIMG" >"$W/log/e2fsck-passes.out" 2>&1
drop_caches
"$FSCK" -fn "$CIMG" >"$W/log/cfs-chunks.out" 2>&1

# ---------------------------------------------------------------- report
# stats NAME COLUMN(3 elapsed, 4 rss, 5 user+sys): "median min max n"
stats() {
	awk -F, -v c="$1" -v col="$2" '
		$1 == c && $2 >= 1 && $3 != "ERR" { v[n++] = (col == 5 ? $5 + $6 : $col + 0) }
		END {
			if (n == 0) exit
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%s %s %s %d\n", m, v[0], v[n - 1], n
		}' "$RES"
}
med() { local s; s=$(stats "$1" "${2:-3}"); echo "${s%% *}"; }
fs_() { awk -v v="$1" 'BEGIN { if (v >= 10) printf "%.1f", v; else if (v >= 1) printf "%.2f", v; else if (v >= 0.1) printf "%.3f", v; else printf "%.4f", v }'; }
tcell() { # NAME -> "median (min-max)"
	local s
	s=$(stats "$1" 3)
	[ -n "$s" ] || { echo "failed"; return; }
	set -- $s
	echo "$(fs_ "$1") ($(fs_ "$2")-$(fs_ "$3"))$( [ "$4" -lt "$NRUNS_OF" ] && echo " [$4/$NRUNS_OF ok]")"
}
rsscell() { # NAME -> peak RSS in MiB (largest of the runs)
	local s
	s=$(stats "$1" 4)
	[ -n "$s" ] || { echo "-"; return; }
	set -- $s
	awk -v k="$3" 'BEGIN { printf "%.1f", k / 1024 }'
}
cpucell() { local m; m=$(med "$1" 5); [ -n "$m" ] && fs_ "$m" || echo "-"; }
ratio() { # A B -> median(A)/median(B)
	local a b
	a=$(med "$1"); b=$(med "$2")
	[ -n "$a" ] && [ -n "$b" ] || { echo "-"; return; }
	awk -v a="$a" -v b="$b" 'BEGIN { r = a / b; printf (r >= 100 ? "%.0f" : (r >= 10 ? "%.1f" : "%.2f")), r }'
}
verdict() { # VALUE OP TARGET
	[ "$1" = - ] && { echo "-"; return; }
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print (ok ? "met" : "**missed**") }'
}

label() {
	case $1 in
	e2fsck-full) echo "e2fsck -fn (ext4, whole fs)" ;;
	cfs-full) echo "fsck.chunkfs -fn (all $NCHUNKS chunks)" ;;
	cfs-full-j2) echo "fsck.chunkfs -fn -j 2 (all $NCHUNKS chunks)" ;;
	cfs-one) echo "fsck.chunkfs -n --chunk $K (undamaged)" ;;
	cfs-repair) echo "fsck.chunkfs -y --chunk $K (after inject --what $WHAT)" ;;
	scale-one-*) n=${1#scale-one-}; echo "fsck.chunkfs -n --chunk $(eval echo "\$SK_$n"), $n-chunk image" ;;
	scale-full-*) echo "fsck.chunkfs -fn, ${1#scale-full-}-chunk image" ;;
	esac
}

R_E2_ONE=$(ratio e2fsck-full cfs-repair)
R_E2_ONEN=$(ratio e2fsck-full cfs-one)
R_FULL=$(ratio cfs-full e2fsck-full)
R_J2=$(ratio cfs-full cfs-full-j2)
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

markdown() {
	local c
	echo "Command: \`$CMDLINE\` ($(date -u +%Y-%m-%dT%H:%MZ); $RUNS run(s) + 1 warm-up per row, the rows alternating run by run; measuring took ${T_BENCH}s, the whole run $(( $(date +%s) - T_ALL ))s of which ${T_WAIT}s waiting for idle CPUs)"
	echo
	echo "Machine: $(nproc) CPUs ($CPU), kernel $(uname -r), RAM $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 2^20 }' /proc/meminfo), $TMPFS_BASE tmpfs $(df -h --output=size "$TMPFS_BASE" | tail -n 1 | tr -d ' '); $(e2fsck -V 2>&1 | head -n 1); chunkfs: $CFS_VERSION; CPUs $idle% idle just before measuring, load average $LOAD_START at the start, $LOAD_END at the end"
	echo
	echo "Data: $TREE_FILES files ($NFILES of 0-$SMALL_MAX bytes, $NBIG of $BIG_MIN-$BIG_MAX MiB), $TREE_DIRS directories, $(gib "$TREE_BYTES") (seed $SEED; written in ${T_GEN}s). Images ${IMG_MIB} MiB each: chunkfs \`-C $CHUNK\`, $NCHUNKS chunks ($NFULL holding files), made in ${T_MKFS_C}s; ext4 (mkfs.ext4 defaults) made in ${T_MKFS_E}s. Chunk K = $K: $K_INODES inodes and $K_BLOCKS blocks in use."
	echo
	echo "| check | wall s, median (min-max) | CPU s (user+sys), median | peak RSS MiB |"
	echo "| --- | ---: | ---: | ---: |"
	NRUNS_OF=$RUNS
	for c in $MAIN; do
		echo "| $(label "$c") | $(tcell "$c") | $(cpucell "$c") | $(rsscell "$c") |"
	done
	echo
	echo "| ratio (of medians) | value | issue-3 target |"
	echo "| --- | ---: | --- |"
	echo "| e2fsck full / fsck.chunkfs one-chunk repair | ${R_E2_ONE}x | >= 100x: $(verdict "$R_E2_ONE" ">=" 100) |"
	echo "| e2fsck full / fsck.chunkfs one-chunk check (-n) | ${R_E2_ONEN}x | (>= 100x: $(verdict "$R_E2_ONEN" ">=" 100)) |"
	echo "| fsck.chunkfs full / e2fsck full | ${R_FULL} | <= 1.0: $(verdict "$R_FULL" "<=" 1.0) |"
	echo "| fsck.chunkfs full, -j 1 / -j 2 (speed-up) | ${R_J2}x | - |"
	echo
	echo "Peak memory against the number of chunks (same \`-C $CHUNK\`, same tree of $SCALE_FILES small files, $SCALE_RUNS runs):"
	echo
	echo "| check | wall s, median (min-max) | peak RSS MiB |"
	echo "| --- | ---: | ---: |"
	NRUNS_OF=$SCALE_RUNS
	for c in $SCALE; do
		echo "| $(label "$c") | $(tcell "$c") | $(rsscell "$c") |"
	done
	echo
	echo -n "Chunk K of the scaling images:"
	for n in $SCALE_N; do echo -n " $n chunks: chunk $(eval echo "\$SK_$n"), $(eval echo "\$SK_INFO_$n");"; done
	echo
	echo
	echo "Times are wall-clock from fork to exit (tests/bench/runstat.c); before each run \`sync; echo 3 > /proc/sys/vm/drop_caches\`, but the images are on tmpfs, i.e. in RAM, so \"cold\" means the checker's own caches and the kernel's dentry/inode caches, not a disk. Peak RSS: the largest ru_maxrss of the timed runs (what GNU time's %M prints); warm-up under \`/usr/bin/time -f %M\` (KiB):$GNU_M."
	[ -n "${FAILS:-}" ] && echo "Failed runs:$FAILS."
	[ -n "${RECHECK:-}" ] && echo "After the repair, the recheck found problems:$RECHECK."
	return 0
}

MD=$(markdown)
echo
echo "== fsck: one chunk against the whole filesystem: $CMDLINE"
echo "$MD"
echo
echo "== e2fsck -tt (one run):"
grep -i 'pass\|memory\|time' "$W/log/e2fsck-passes.out" | head -n 20
echo "== fsck.chunkfs -fn: slowest chunks (one run):"
grep 'checked in' "$W/log/cfs-chunks.out" | sort -t' ' -k5 -rn | head -n 5
tail -n 1 "$W/log/cfs-chunks.out"
if [ -n "$OUT" ]; then
	echo "$MD" >"$OUT" || die "cannot write $OUT"
	log "Markdown written to $OUT"
fi
if [ -n "$RAW" ]; then
	{ echo "name,run,elapsed_s,maxrss_kib,user_s,sys_s,status"; cat "$RES"; } >"$RAW" || die "cannot write $RAW"
	log "raw results written to $RAW"
fi
exit 0
}
