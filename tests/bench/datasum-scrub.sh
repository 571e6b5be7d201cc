#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/datasum-scrub.sh - the speed of the data scrub (issue 13)
# against the device's sequential read, in one run.
#
# A benchmark, not a test: it prints numbers and exits 0 unless it could
# not run.  Run as root from anywhere in the repository:
#
#   tests/bench/datasum-scrub.sh [--runs N] [--size SIZE] [--fill MIB]
#                                [--tmpfs DIR] [--out FILE.md]
#
# An image of SIZE (default 2G, 4 KiB blocks, mkfs's default chunks) on a
# tmpfs, FILL MiB (default 1536) of files of 64 MiB written through
# chunkfs-fuse.  Then --runs rounds (default 5, after one warm-up round)
# of, alternating:
#   device    dd if=IMAGE of=/dev/null bs=1M: the device's sequential read
#             (the tmpfs image's page cache), MB/s of the whole image
#   fsck      fsck.chunkfs -fn -f --data minus fsck.chunkfs -fn -f (the
#             same image, metadata only): the data pass's time; MB/s of
#             the data blocks it read (its --json data_blocks_read)
#   scrub     chunkfs scrub MOUNT minus chunkfs scrub MOUNT --no-data on
#             the mounted image (the online scrub, not throttled): MB/s of
#             the data blocks read (--json blocks_read difference)
# Each cell: median (min-max) of the runs; the ratio to the device's
# median.  Target (issue 13): the unthrottled data scrub at >= 70% of the
# device's sequential read.
# Environment: CFS_FUSE, CFS_MKFS, CFS_FSCK, CFS_TOOL (default the
# optimised programs of this tree).
set -u -o pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
CMDLINE="tests/bench/datasum-scrub.sh${*:+ $*}"
RUNS=5 SIZE=2G FILL=1536 TMPFS_BASE=/dev/shm OUT=""
CFS_FUSE=${CFS_FUSE:-$REPO/fuse/chunkfs-fuse}
CFS_MKFS=${CFS_MKFS:-$REPO/mkfs/mkfs.chunkfs}
CFS_FSCK=${CFS_FSCK:-$REPO/fsck/fsck.chunkfs}
CFS_TOOL=${CFS_TOOL:-$REPO/tools/chunkfs}
die() { echo "datasum-scrub: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
# shellcheck source=lib.sh
. "$BENCH_DIR/lib.sh"
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift ;;
	--size) SIZE=$2; shift ;;
	--fill) FILL=$2; shift ;;
	--tmpfs) TMPFS_BASE=$2; shift ;;
	--out) OUT=$2; shift ;;
	-h|--help) sed -n '/^# tests\/bench/,/^# optimised/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1" ;;
	esac
	shift
done
for p in "$CFS_FUSE" "$CFS_MKFS" "$CFS_FSCK" "$CFS_TOOL"; do
	[ -x "$p" ] || die "$p missing (run make)"
done
W=$(mktemp -d "$TMPFS_BASE/cfs-dsbench.XXXXXX") || die "mktemp"
IMG=$W/img MNT=$W/mnt FPID=""
cleanup() {
	if [ -n "$FPID" ]; then fusermount3 -u "$MNT" 2>/dev/null; wait "$FPID"; fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
mkdir -p "$MNT"
mnt() {
	"$CFS_FUSE" -f "$IMG" "$MNT" 2>>"$W/fuse.log" &
	FPID=$!
	local n=0
	until mountpoint -q "$MNT"; do
		n=$((n + 1)); [ $n -gt 100 ] && die "no mount"; sleep 0.1
	done
}
umnt() { fusermount3 -u "$MNT"; wait "$FPID"; FPID=""; }
now() { date +%s.%N; }

"$CFS_MKFS" -q "$IMG" "$SIZE" || die "mkfs"
mnt
log "writing $FILL MiB of files"
i=0
while [ $((i * 64)) -lt "$FILL" ]; do
	head -c $((64 << 20)) /dev/urandom >"$MNT/f$i" || die "write"
	i=$((i + 1))
done
sync
umnt
bench_wait_idle 60
# time CMD... -> seconds on stdout
timed() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; local rc=$?; t1=$(now); echo "$t0 $t1" | awk '{ printf "%.6f", $2 - $1 }'; return $rc; }
imgbytes=$(stat -c %s "$IMG")
dblocks=$("$CFS_FSCK" -fn --data --json "$IMG" 2>/dev/null | python3 -c 'import json,sys; print(sum(c.get("data_blocks_read", 0) for c in json.load(sys.stdin)["chunks"]))') ||
	die "fsck --json"
dbytes=$((dblocks * 4096))
log "image $imgbytes bytes, $dblocks data blocks"
: >"$W/dev" ; : >"$W/fsck" ; : >"$W/scrub"
for r in $(seq 0 "$RUNS"); do
	d=$(timed dd if="$IMG" of=/dev/null bs=1M) || die "dd"
	a=$(timed "$CFS_FSCK" -fn -f "$IMG") || die "fsck"
	b=$(timed "$CFS_FSCK" -fn -f --data "$IMG") || die "fsck --data"
	mnt
	c=$(timed "$CFS_TOOL" scrub "$MNT" --no-data) || die "scrub --no-data"
	e=$(timed "$CFS_TOOL" scrub "$MNT") || die "scrub"
	umnt
	[ "$r" = 0 ] && continue	# warm-up
	awk -v b="$imgbytes" -v t="$d" 'BEGIN { printf "%.1f\n", b / t / 1e6 }' >>"$W/dev"
	awk -v b="$dbytes" -v t1="$a" -v t2="$b" 'BEGIN { d = t2 - t1; if (d <= 0) d = 1e-6; printf "%.1f\n", b / d / 1e6 }' >>"$W/fsck"
	awk -v b="$dbytes" -v t1="$c" -v t2="$e" 'BEGIN { d = t2 - t1; if (d <= 0) d = 1e-6; printf "%.1f\n", b / d / 1e6 }' >>"$W/scrub"
	log "run $r: device $(tail -n1 "$W/dev") MB/s, fsck data $(tail -n1 "$W/fsck") MB/s, scrub data $(tail -n1 "$W/scrub") MB/s"
done
med() { sort -n "$1" | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f (%.0f-%.0f)", m, v[1], v[NR] }'; }
medv() { sort -n "$1" | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
dm=$(medv "$W/dev")
{
	echo "| what | MB/s, median (min-max) of $RUNS | of the device's |"
	echo "|---|---|---|"
	echo "| device: dd of the image (sequential read) | $(med "$W/dev") | 1.00 |"
	echo "| fsck.chunkfs -fn --data: the data pass | $(med "$W/fsck") | $(awk -v a="$(medv "$W/fsck")" -v b="$dm" 'BEGIN { printf "%.2f", a / b }') |"
	echo "| chunkfs scrub (online, not throttled): the data | $(med "$W/scrub") | $(awk -v a="$(medv "$W/scrub")" -v b="$dm" 'BEGIN { printf "%.2f", a / b }') |"
	echo
	echo "$CMDLINE; $(nproc) CPUs, $(uname -r), image $SIZE on $TMPFS_BASE ($dblocks data blocks of 4 KiB), CPUs $idle% idle before"
} | tee "$W/table.md"
[ -n "$OUT" ] && cp "$W/table.md" "$OUT"
exit 0
