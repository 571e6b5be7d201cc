#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/v2-cost.sh - what the format v2 features cost offline:
# mkfs.chunkfs -d and fsck.chunkfs -fn, time and peak memory, with every
# feature (the default: metagen, dup, pptr, and datasum where built) against
# images made without one of them (issues 12, 13, 14).
#
# A benchmark, not a test: it prints numbers and exits 0 unless the benchmark
# itself could not run.  Run as root from anywhere in the repository:
#
#   tests/bench/v2-cost.sh [--files N] [--size-mb M] [--chunk SIZE]
#                          [--runs N] [--variants LIST] [--out FILE.md]
#                          [--tmpfs DIR] [--wait-idle SECS] [--keep]
#
# What it does, in one run:
#  1. writes a deterministic tree on the tmpfs (tests/bench/gentree.c): N
#     small files of 0-16 KiB over N/100 directories and large files of
#     5-20 MiB up to about M MiB;
#  2. for each variant, the contenders alternating run by run after one
#     warm-up round (discarded): `mkfs.chunkfs -q -C SIZE OPTS -d TREE IMAGE
#     S` (S = 2x the tree, whole chunks), then `fsck.chunkfs -fn IMAGE` on
#     the image just made (drop_caches before each); wall time and peak RSS
#     from tests/bench/runstat.c;
#  3. prints medians (min-max) and the ratios of each variant's medians to
#     those of `dup` (the default), e.g. dup/single (issue 12's targets:
#     mkfs -d at most 15% slower, fsck -f time and memory at most 1.3x).
#
# Variants (LIST, comma-separated; default dup,single,nopptr,v1 and
# nodatasum when mkfs knows the datasum feature):
#   dup        mkfs's defaults (every format v2 feature)
#   single     -m single (no second copies)
#   nopptr     -O ^pptr (no parent pointers, no name backup)
#   nodatasum  -O ^datasum (no data checksums)
#   v1         -O v1 (no format v2 feature)
#
# Options: --files N (default 50000), --size-mb M (default 1024), --chunk
# SIZE (default 64M), --runs N (default 5), --tmpfs DIR (default /dev/shm),
# --wait-idle SECS (default 120), --keep (keep the temp dir), --out FILE
# (also write the table as Markdown).  Environment: CFS_MKFS, CFS_FSCK
# (default the optimised programs of this tree, mkfs/mkfs.chunkfs and
# fsck/fsck.chunkfs, made by `make`).

set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
CMDLINE="tests/bench/v2-cost.sh${*:+ $*}"
CFS_MKFS=${CFS_MKFS:-$REPO/mkfs/mkfs.chunkfs}
CFS_FSCK=${CFS_FSCK:-$REPO/fsck/fsck.chunkfs}

NFILES=50000 SIZE_MB=1024 CHUNK=64M RUNS=5 VARIANTS="" OUT="" TMPFS_BASE=/dev/shm
WAIT_IDLE=120 KEEP=0

usage() {
	sed -n '/^# tests\/bench/,/^# fsck\/fsck.chunkfs, made/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}
die() { echo "v2-cost: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"

while [ $# -gt 0 ]; do
	case $1 in
	--files) NFILES=${2:?}; shift ;;
	--size-mb) SIZE_MB=${2:?}; shift ;;
	--chunk) CHUNK=${2:?}; shift ;;
	--runs) RUNS=${2:?}; shift ;;
	--variants) VARIANTS=${2:?}; shift ;;
	--out) OUT=${2:?}; shift ;;
	--tmpfs) TMPFS_BASE=${2:?}; shift ;;
	--wait-idle) WAIT_IDLE=${2:?}; shift ;;
	--keep) KEEP=1 ;;
	-h|--help) usage 0 ;;
	*) echo "v2-cost: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number"
[[ $NFILES =~ ^[0-9]+$ ]] || die "--files wants a number"
[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || die "--size-mb wants a positive number"
[ "$(id -u)" = 0 ] || die "run as root (drop_caches)"
[ -x "$CFS_MKFS" ] && [ -x "$CFS_FSCK" ] || die "no $CFS_MKFS or $CFS_FSCK (run make)"
[ "$(stat -f -c %T "$TMPFS_BASE" 2>/dev/null)" = tmpfs ] || die "$TMPFS_BASE is not a tmpfs"
command -v gcc >/dev/null || die "gcc missing"

if [ -z "$VARIANTS" ]; then
	VARIANTS="dup single nopptr v1"
	"$CFS_MKFS" --help 2>&1 | grep -q datasum && VARIANTS="dup single nopptr nodatasum v1"
fi
VARIANTS=${VARIANTS//,/ }
opts_of() {
	case $1 in
	dup) echo "" ;; single) echo "-m single" ;; nopptr) echo "-O ^pptr" ;;
	nodatasum) echo "-O ^datasum" ;; v1) echo "-O v1" ;;
	*) die "unknown variant $1" ;;
	esac
}
for v in $VARIANTS; do opts_of "$v" >/dev/null; done

W=$(mktemp -d "$TMPFS_BASE/chunkfs-v2cost.XXXXXX") || die "mktemp failed"
cleanup() { [ "$KEEP" = 1 ] && log "kept $W" || rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 2' INT TERM
mkdir -p "$W/bin"
gcc -O2 -Wall -o "$W/bin/gentree" "$BENCH_DIR/gentree.c" || die "cannot build gentree"
gcc -O2 -Wall -o "$W/bin/runstat" "$BENCH_DIR/runstat.c" || die "cannot build runstat"

NBIG=$(( SIZE_MB / 12 ))
log "writing the tree: $NFILES small files, $NBIG large ones"
read -r TREE_FILES TREE_DIRS TREE_BYTES < <("$W/bin/gentree" "$W/tree" "$NFILES" \
	$(( NFILES / 100 < 50 ? 50 : NFILES / 100 )) "$NBIG" 5 20 16384 1) || die "gentree failed"
CHUNK_BYTES=$(numfmt --from=iec "${CHUNK%B}") || die "bad --chunk"
IMG_BYTES=$(( (TREE_BYTES * 2 / CHUNK_BYTES + 2) * CHUNK_BYTES ))
log "tree: $TREE_FILES files, $TREE_DIRS dirs, $TREE_BYTES bytes; images of $IMG_BYTES bytes"

bench_wait_idle "$WAIT_IDLE"
RES=$W/results.csv
: >"$RES"
# one round: every variant, mkfs then fsck
round() {
	local r=$1 v o
	for v in $VARIANTS; do
		o=$(opts_of "$v")
		rm -f "$W/img"
		sync; echo 3 >/proc/sys/vm/drop_caches
		# shellcheck disable=SC2086
		"$W/bin/runstat" "$W/st" "$CFS_MKFS" -q -C "$CHUNK" $o -d "$W/tree" \
			"$W/img" "$IMG_BYTES" >"$W/mkfs.log" 2>&1 || { cat "$W/mkfs.log" >&2; die "mkfs ($v) failed"; }
		[ "$r" -gt 0 ] && echo "mkfs,$v,$r,$(cut -d' ' -f1,2 "$W/st" | tr ' ' ,)" >>"$RES"
		sync; echo 3 >/proc/sys/vm/drop_caches
		"$W/bin/runstat" "$W/st" "$CFS_FSCK" -fn "$W/img" >"$W/fsck.log" 2>&1 ||
			{ tail -n 20 "$W/fsck.log" >&2; die "fsck -fn ($v) found problems or failed"; }
		[ "$r" -gt 0 ] && echo "fsck,$v,$r,$(cut -d' ' -f1,2 "$W/st" | tr ' ' ,)" >>"$RES"
	done
	rm -f "$W/img"
}
log "warm-up round"
round 0
for r in $(seq 1 "$RUNS"); do
	log "round $r of $RUNS"
	round "$r"
	VARIANTS=$(echo "$VARIANTS" | awk '{ for (i = 2; i <= NF; i++) printf "%s ", $i; print $1 }')
done

# medians (min-max) per (what, variant, column: 4 time, 5 rss)
stat_of() { # WHAT VARIANT COL -> "median min max"
	awk -F, -v w="$1" -v v="$2" -v c="$3" '$1 == w && $2 == v { print $c }' "$RES" | sort -g |
		awk '{ a[NR] = $1 } END { if (!NR) { print "nan nan nan"; exit }
			m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			print m, a[1], a[NR] }'
}
{
	echo "### Format v2 cost offline ($(date -u +%Y-%m-%d), $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null))"
	echo
	echo "\`$CMDLINE\`: tree of $TREE_FILES files, $TREE_DIRS directories, $(( TREE_BYTES >> 20 )) MiB; chunks of $CHUNK; $RUNS runs after a warm-up, variants alternating (rotated each round); images on tmpfs; CPUs ${idle}% idle before. Medians (min-max); the ratios are the median of dup (the default) over the variant's: above 1, dup costs more."
	echo
	echo "| variant | mkfs -d [s] | mkfs RSS [MiB] | fsck -fn [s] | fsck RSS [MiB] | dup/variant: mkfs time | fsck time | fsck RSS |"
	echo "|---|---|---|---|---|---|---|---|"
	read -r dm _ _ < <(stat_of mkfs dup 4)
	read -r df _ _ < <(stat_of fsck dup 4)
	read -r dr _ _ < <(stat_of fsck dup 5)
	for v in $(echo "$VARIANTS" | tr ' ' '\n' | sort); do
		read -r mm mn mx < <(stat_of mkfs "$v" 4)
		read -r rm_ _ _ < <(stat_of mkfs "$v" 5)
		read -r fm fn fx < <(stat_of fsck "$v" 4)
		read -r rf rn rx < <(stat_of fsck "$v" 5)
		awk -v v="$v" -v mm="$mm" -v mn="$mn" -v mx="$mx" -v rm="$rm_" -v fm="$fm" -v fn="$fn" \
			-v fx="$fx" -v rf="$rf" -v rn="$rn" -v rx="$rx" -v dm="$dm" -v df="$df" -v dr="$dr" 'BEGIN {
			printf "| %s | %.2f (%.2f-%.2f) | %.0f | %.2f (%.2f-%.2f) | %.0f (%.0f-%.0f) | %.2f | %.2f | %.2f |\n",
				v, mm, mn, mx, rm / 1024, fm, fn, fx, rf / 1024, rn / 1024, rx / 1024,
				dm / mm, df / fm, dr / rf }'
	done
} | tee "$W/table.md"
[ -z "$OUT" ] || cp "$W/table.md" "$OUT"
