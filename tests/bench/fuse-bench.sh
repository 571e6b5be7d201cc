#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/fuse-bench.sh - FUSE throughput benchmark of chunkfs (issue 2).
#
# A benchmark, not a test: it prints numbers and exits 0 unless the benchmark
# itself could not run.  Run as root from anywhere in the repository:
#
#   tests/bench/fuse-bench.sh [--runs N] [--size SIZE] [--quick] [--only ROWS]
#                             [--contenders LIST] [--out FILE.md]
#                             [--raw FILE.csv] [--tmpfs DIR] [--rev REV]
#                             [--wait-idle SECS] [--keep] [--rotate]
#
# Contenders, all on the same RAM-backed storage (a tmpfs, /dev/shm by
# default, because the disk of the development machines is noisy):
#   chunkfs   ./fuse/chunkfs-fuse -f IMAGE DIR   (image: mkfs.chunkfs -q IMAGE SIZE)
#   fuse2fs   fuse2fs -f IMAGE DIR               (image: mkfs.ext4 -q -F IMAGE SIZE)
#   ptll      libfuse's example passthrough_ll over a tmpfs directory, built
#             from /usr/share/doc/libfuse3-dev/examples/passthrough_ll.c with
#             default options (no keep_cache, no writeback cache): meant as
#             the ceiling of a FUSE fs here; note it does not keep the page
#             cache across opens, so a fs that does beats it on warm reads
#   ext4      the kernel's ext4 on a loop device over an image like fuse2fs's
#   chunkfs@REV  chunkfs as of git revision REV (built from `git archive REV`
#             in the temp dir), mounted like chunkfs: to compare two
#             versions of chunkfs in one run, alternating with the others
#             (e.g. --contenders chunkfs,chunkfs@0e45b5c --rev HEAD); the
#             table gets a ratio column chunkfs/chunkfs@REV per such
#             contender
#   chunkfs+scrubd  chunkfs (the same programs and image as chunkfs) with
#             tools/chunkfs-scrubd scrubbing it (issue 5): one daemon per
#             such contender, started after the setup against its mount
#             point only (`chunkfs-scrubd -f -v -c /dev/null -o state=...
#             -o pidfile=... MOUNT`, state and pidfile in the temp dir, no
#             config file: the defaults as shipped, i.e. a round of 4 chunks
#             every 10 min, io_rate 2048 blocks/s, cpu_share 10%, yielding
#             above 4 MiB/s of foreground I/O), and frozen (SIGSTOP) except
#             while its own contender is measured (SIGCONT before, SIGSTOP
#             after), so that it never takes CPU from the others' runs
#   chunkfs+scrubd-cont  the same with interval=10ms (the minimum): rounds
#             back to back, i.e. scrubbing as much as the default budget
#             (io_rate, cpu_share, yielding) allows: its worst case
#   chunkfs+scrubd-noyield  as -cont, and fg_threshold=0: never yields to
#             the foreground (what the yielding buys)
#   chunkfs-nodatasum, chunkfs-nopptr, chunkfs-single, chunkfs-v1
#             chunkfs (the same programs) on an image made with
#             mkfs.chunkfs -O ^datasum (no data checksums, issue 13),
#             -O ^pptr (no parent pointers, issue 14), -m single (no second
#             copies of metadata, issue 12) or -O v1 (none of format v2);
#             the table gets a ratio column chunkfs/X for each (the cost
#             of what X leaves out: targets >= 0.90 for datasum and pptr,
#             >= 0.85 for single)
#             With any of the scrubd ones the table gets a ratio column
#             X/chunkfs per scrubd contender (median of X over median of
#             chunkfs) and the paired ratio (run i of X over run i of
#             chunkfs: median, min-max), the issue-5 target (loss < 10%,
#             i.e. ratio >= 0.90), and a second table of what the daemons
#             did during the timed runs (scrubs, how long each held the
#             filesystem lock, yields), from their logs (timestamped
#             lines, in the temp dir's log/scrubd-*.log)
#
# Rows (ROWS for --only, comma-separated; groups run together):
#   seqwrite       fio --rw=write --bs=1M --size=1G --fallocate=none
#                  --end_fsync=1 --ioengine=psync, new file each run   [MB/s]
#   seqread        seqread-cold: unmount, drop_caches, mount, fio --rw=read
#                  (1 GiB file written beforehand)                    [MB/s]
#                  seqread-warm: the same file again at once, --invalidate=0
#   smallfiles     create (4 KiB each) + stat + unlink of 10,000 files in a new
#                  directory, by bench-ops.c               [files/s, one file =
#                                                           create+stat+unlink]
#                  between stat and unlink each file is renamed into another
#                  directory (not in the smallfiles figure); sf-create,
#                  sf-rename, sf-unlink: each phase alone      [files/s]
#   treewalk       treewalk-cold: unmount, drop_caches, mount, then readdir +
#                  lstat of every entry of a 20,000-file tree (4 KiB files,
#                  100 per leaf dir, 10 leaf dirs per top dir)
#                  treewalk-warm: the same walk again at once        [seconds]
#                  passthrough_ll holds an fd per known inode: where
#                  RLIMIT_NOFILE cannot be raised above tree + 2000, the
#                  tree shrinks (for every contender) to fit
# MB/s are 10^6 bytes per second.
#
# Method: per row, one warm-up round of every contender (discarded), then
# --runs rounds (default 5) alternating the contenders run by run
# (ABCDABCD...).  Each cell is the median (min-max) of the runs.  Ratios are
# speed ratios, > 1 means chunkfs is faster (for the walks: other/chunkfs
# time).  Issue-2 targets: chunkfs >= 2x fuse2fs on every row; sequential
# read and write >= 0.5x passthrough_ll.
#
# Options:
#   --runs N           timed runs per row and contender (default 5, quick 3)
#   --size SIZE        image size of chunkfs, fuse2fs and ext4 (default 3G,
#                      quick 1G); a tmpfs of about 2x SIZE per contender is
#                      needed
#   --quick            smoke test: runs 3, 1G images, 256 MiB sequential
#                      files, 2,000 small files, a 4,000-file tree
#   --only ROWS        seqwrite,seqread,smallfiles,treewalk (subset)
#   --rotate           rotate the order of the contenders by one every
#                      round (ABC, BCA, CAB, ...), so that none is always
#                      measured first or right after the same other one
#   --contenders LIST  subset of chunkfs,fuse2fs,ptll,ext4 (default all),
#                      chunkfs-nodatasum, chunkfs-nopptr, chunkfs-single,
#                      chunkfs-v1,
#                      plus any number of chunkfs@REV, and chunkfs+scrubd,
#                      chunkfs+scrubd-cont, chunkfs+scrubd-noyield
#   --out FILE         also write the Markdown table (with machine facts and
#                      the command) to FILE
#   --raw FILE         also write every measurement as CSV to FILE
#   --tmpfs DIR        where the images live (default /dev/shm; must be tmpfs)
#   --rev REV          benchmark chunkfs as of git revision REV (e.g. HEAD):
#                      built from `git archive REV` in the temp dir, so the
#                      work tree (and a build in progress there) is not used
#   --keep             keep the temp dir (logs) on exit; mounts are always
#                      cleaned up
#   --wait-idle SECS   first wait up to SECS (default 300, 0: no wait) for
#                      the CPUs to be >= 85% idle for 10 s (other jobs skew the
#                      numbers); the load averages go into the report
# Environment: CFS_FUSE, CFS_MKFS, CFS_SCRUBD (chunkfs programs, default
# ./fuse/chunkfs-fuse, ./mkfs/mkfs.chunkfs and ./tools/chunkfs-scrubd of this
# tree), CFS_FUSE_OPTS (extra -o options for chunkfs-fuse), CFS_MKFS_OPTS
# (extra options for mkfs.chunkfs, e.g. "-C 64M"), SCRUBD_OPTS (extra
# options for every chunkfs-scrubd, e.g. "-o chunks=8"), BENCH_TIMEOUT
# (seconds one measurement may take, default 300).
#
# Missing packages (fio, fuse2fs, fuse3, libfuse3-dev, gcc, pkg-config,
# e2fsprogs, python3) are installed with apt-get.  The helpers bench-ops.c
# (beside this script) and passthrough_ll are built into the temp dir.  All
# mounts, daemons and loop devices are cleaned up on exit, also on failure
# or Ctrl-C.

set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
CMDLINE="tests/bench/fuse-bench.sh${*:+ $*}"

RUNS="" SIZE="" QUICK=0 ROTATE=0 ONLY="" OUT="" RAW="" TMPFS_BASE=/dev/shm KEEP=0 WAIT_IDLE=300 REV=""
CONTENDERS="chunkfs fuse2fs ptll ext4"
CFS_FUSE=${CFS_FUSE:-$REPO/fuse/chunkfs-fuse}
CFS_MKFS=${CFS_MKFS:-$REPO/mkfs/mkfs.chunkfs}
CFS_FUSE_OPTS=${CFS_FUSE_OPTS:-}
CFS_SCRUBD=${CFS_SCRUBD:-$REPO/tools/chunkfs-scrubd}
CFS_MKFS_OPTS=${CFS_MKFS_OPTS:-}
SCRUBD_OPTS=${SCRUBD_OPTS:-}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}

usage() {
	sed -n '/^# tests\/bench/,/^# or Ctrl-C/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}
die() { echo "fuse-bench: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=${2:?}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--size) SIZE=${2:?}; shift ;;
	--size=*) SIZE=${1#*=} ;;
	--quick) QUICK=1 ;;
	--rotate) ROTATE=1 ;;
	--only) ONLY=${2:?}; shift ;;
	--only=*) ONLY=${1#*=} ;;
	--contenders) CONTENDERS=${2:?}; shift ;;
	--contenders=*) CONTENDERS=${1#*=} ;;
	--out) OUT=${2:?}; shift ;;
	--out=*) OUT=${1#*=} ;;
	--raw) RAW=${2:?}; shift ;;
	--raw=*) RAW=${1#*=} ;;
	--tmpfs) TMPFS_BASE=${2:?}; shift ;;
	--tmpfs=*) TMPFS_BASE=${1#*=} ;;
	--keep) KEEP=1 ;;
	--rev) REV=${2:?}; shift ;;
	--rev=*) REV=${1#*=} ;;
	--wait-idle) WAIT_IDLE=${2:?}; shift ;;
	--wait-idle=*) WAIT_IDLE=${1#*=} ;;
	-h|--help) usage 0 ;;
	*) echo "fuse-bench: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	: "${RUNS:=3}" "${SIZE:=1G}"
	SEQ_MB=256 NSMALL=2000 NTREE=4000
else
	: "${RUNS:=5}" "${SIZE:=3G}"
	SEQ_MB=1024 NSMALL=10000 NTREE=20000
fi
SMALL_BYTES=4096 TREE_BYTES=4096
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number"
CONTENDERS=${CONTENDERS//,/ }
for c in $CONTENDERS; do
	case $c in
	chunkfs|fuse2fs|ptll|ext4) ;; chunkfs@?*) ;;
	chunkfs-nodatasum|chunkfs-nopptr|chunkfs-single|chunkfs-v1) ;;
	chunkfs+scrubd|chunkfs+scrubd-cont|chunkfs+scrubd-noyield) ;;
	*) die "unknown contender $c" ;;
	esac
done
# the contenders that run the chunkfs programs of this tree (or --rev)
# the variants of chunkfs made by other mkfs options (same programs)
is_cfs_variant() { [[ $1 == chunkfs-nodatasum || $1 == chunkfs-nopptr || $1 == chunkfs-single || $1 == chunkfs-v1 ]]; }
is_cfs_here() { [[ $1 == chunkfs || $1 == chunkfs+scrubd* ]] || is_cfs_variant "$1"; }
HAS_CFS=0 HAS_SCRUBD=0
for c in $CONTENDERS; do
	is_cfs_here "$c" && HAS_CFS=1
	[[ $c == chunkfs+scrubd* ]] && HAS_SCRUBD=1
done
[ "$HAS_SCRUBD" = 0 ] || [[ " $CONTENDERS " == *" chunkfs "* ]] ||
	die "chunkfs+scrubd* contenders are compared with chunkfs: add chunkfs to --contenders"
ALL_GROUPS="seqwrite seqread smallfiles treewalk"
GROUPS_RUN=${ONLY:-$ALL_GROUPS}
GROUPS_RUN=${GROUPS_RUN//,/ }
for g in $GROUPS_RUN; do
	case $g in
	seqwrite|seqread|smallfiles|treewalk) ;;
	seqread-cold|seqread-warm) die "--only: use seqread (cold and warm run together)" ;;
	treewalk-cold|treewalk-warm) die "--only: use treewalk (cold and warm run together)" ;;
	*) die "--only: unknown row $g (rows: $ALL_GROUPS)" ;;
	esac
done
has_group() { [[ " $GROUPS_RUN " == *" $1 "* ]]; }

size_bytes() {
	numfmt --from=iec "${1%B}" 2>/dev/null || die "bad size $1"
}
SIZE_BYTES=$(size_bytes "$SIZE")

[ "$(id -u)" = 0 ] || die "run as root (loop mounts, drop_caches, apt-get)"

# ---------------------------------------------------------------- packages
deps() {
	local p missing=""
	for p in fio fuse2fs fuse3 libfuse3-dev gcc pkg-config e2fsprogs python3 util-linux coreutils; do
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
PTLL_SRC=/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c
[ -r "$PTLL_SRC" ] || die "$PTLL_SRC missing (libfuse3-dev)"
[ -w /proc/sys/vm/drop_caches ] || die "cannot write /proc/sys/vm/drop_caches"

# ---------------------------------------------------------------- storage
[ "$(stat -f -c %T "$TMPFS_BASE" 2>/dev/null)" = tmpfs ] ||
	die "$TMPFS_BASE is not a tmpfs (use --tmpfs DIR)"
# The rule of thumb: 2x the image size per image contender (the image may
# fill up, plus as much again of page cache), 2x the workload for
# passthrough_ll's directory.  Below that only a warning; the hard limit is
# the data actually stored (the workload per contender, plus 25%).
WORK_BYTES=$(( (2 * SEQ_MB << 20) + (NSMALL * SMALL_BYTES) + (NTREE * TREE_BYTES) + (64 << 20) ))
need=0 nc=0
for c in $CONTENDERS; do
	nc=$((nc + 1))
	if [ "$c" = ptll ]; then need=$((need + 2 * WORK_BYTES)); else need=$((need + 2 * SIZE_BYTES)); fi
done
hard=$(( nc * WORK_BYTES * 5 / 4 ))
avail=$(df -B1 --output=avail "$TMPFS_BASE" | tail -n 1)
memavail=$(( $(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024 ))
gib() { awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 2^30 }'; }
log "storage: ~$(gib $need) (2x image size per contender) for [$CONTENDERS] at --size $SIZE, at least $(gib $hard); $TMPFS_BASE has $(gib "$avail") free, MemAvailable $(gib $memavail)"
[ "$SIZE_BYTES" -ge $(( WORK_BYTES * 5 / 4 )) ] ||
	die "--size $SIZE is too small for the workload (needs ~$(gib $((WORK_BYTES * 5 / 4))))"
for what in "$TMPFS_BASE free:$avail" "MemAvailable:$memavail"; do
	have=${what##*:}
	[ "$have" -ge "$hard" ] || die "not enough room: $TMPFS_BASE needs at least $(gib $hard), ${what%:*} $(gib "$have"); use --quick, a smaller --size or fewer --contenders"
	[ "$have" -ge "$need" ] || log "WARNING: ${what%:*} $(gib "$have") is below the 2x-image-size rule ($(gib $need)); continuing (the workload needs $(gib $hard))"
done

# passthrough_ll keeps an O_PATH fd open per inode the kernel knows, so it
# cannot serve a tree with more entries than RLIMIT_NOFILE (the 3.14 example
# does not raise it).  Raise the limit (same for every daemon); where the
# hard limit cannot be raised (no CAP_SYS_RESOURCE), shrink the tree so that
# all contenders walk the same tree.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
if [[ " $CONTENDERS " == *" ptll "* ]] && [ "$NOFILE" != unlimited ] &&
	[ $((NTREE + 2000)) -gt "$NOFILE" ]; then
	n=$(( (NOFILE - 2000) / 1000 * 1000 ))
	[ "$n" -ge 1000 ] || die "RLIMIT_NOFILE $NOFILE is too low for passthrough_ll"
	log "NOTE: open-file limit $NOFILE (hard) < tree size $NTREE + 2000: passthrough_ll could not hold the tree; using a $n-file tree for all contenders"
	NTREE=$n
fi

W=$(mktemp -d "$TMPFS_BASE/chunkfs-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$W"
mkdir -p "$W/bin" "$W/log"
RES=$W/results.csv
: >"$RES"

declare -A MNT PID IMG AVAIL WHY LABEL FUSE_OF MKFS_OF
LABEL[chunkfs]=chunkfs LABEL[fuse2fs]=fuse2fs LABEL[ptll]=passthrough_ll LABEL[ext4]="ext4 (kernel)"
LABEL[chunkfs+scrubd]="chunkfs+scrubd (defaults)" LABEL[chunkfs+scrubd-cont]="chunkfs+scrubd (interval 10ms)"
LABEL[chunkfs+scrubd-noyield]="chunkfs+scrubd (interval 10ms, no yield)"
# chunkfs+scrubd* contenders, in the order given, and their daemons
SCRUBDS=""
declare -A SPID
for c in $CONTENDERS; do [[ $c == chunkfs+scrubd* ]] && SCRUBDS="$SCRUBDS $c"; done
# chunkfs@REV contenders, in the order given
CFS_OTHERS=""
for c in $CONTENDERS; do
	{ [[ $c == chunkfs@* ]] || is_cfs_variant "$c"; } &&
		CFS_OTHERS="$CFS_OTHERS $c" && LABEL[$c]=$c
done

# ---------------------------------------------------------------- cleanup
pid_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
is_mounted() { awk -v d="$1" '$2 == d { f = 1 } END { exit !f }' /proc/self/mounts; }

# stop_scrubds: end every chunkfs-scrubd of the run (SIGCONT, SIGTERM: a
# scrub in progress finishes, the state is saved).
stop_scrubds() {
	local c i
	for c in "${!SPID[@]}"; do
		[ -n "${SPID[$c]}" ] || continue
		kill -CONT "${SPID[$c]}" 2>/dev/null
		kill -TERM "${SPID[$c]}" 2>/dev/null
		for ((i = 0; i < 100; i++)); do pid_alive "${SPID[$c]}" || break; sleep 0.1; done
		pid_alive "${SPID[$c]}" && kill -9 "${SPID[$c]}" 2>/dev/null
		wait "${SPID[$c]}" 2>/dev/null
		SPID[$c]=""
	done
}

cleanup() {
	local rc=$? c i loops
	trap - EXIT INT TERM HUP
	set +e
	stop_scrubds
	for c in "${!MNT[@]}"; do
		[ -n "${MNT[$c]:-}" ] || continue
		if is_mounted "${MNT[$c]}"; then
			if [ "$c" = ext4 ]; then
				umount "${MNT[$c]}" 2>/dev/null || umount -l "${MNT[$c]}"
			else
				fusermount3 -u "${MNT[$c]}" 2>/dev/null || fusermount3 -u -z "${MNT[$c]}"
			fi
		fi
		if [ -n "${PID[$c]:-}" ]; then
			for ((i = 0; i < 100; i++)); do pid_alive "${PID[$c]}" || break; sleep 0.1; done
			if pid_alive "${PID[$c]}"; then
				echo "fuse-bench: cleanup: $c daemon ${PID[$c]} still running, killing it" >&2
				kill -9 "${PID[$c]}" 2>/dev/null
			fi
			wait "${PID[$c]}" 2>/dev/null
		fi
	done
	for c in "${!IMG[@]}"; do
		[ -f "${IMG[$c]}" ] || continue
		loops=$(losetup -j "${IMG[$c]}" -O NAME -n 2>/dev/null)
		for i in $loops; do losetup -d "$i"; done
	done
	if [ "$KEEP" = 1 ]; then
		echo "fuse-bench: kept $W (images, logs)" >&2
	elif [ -n "${W:-}" ] && [ -d "$W" ]; then
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "fuse-bench: interrupted" >&2; exit 130' INT TERM HUP

# ---------------------------------------------------------------- helpers
log "building bench-ops and passthrough_ll in $W/bin"
gcc -O2 -Wall -o "$W/bin/bench-ops" "$BENCH_DIR/bench-ops.c" || die "cannot build bench-ops"
if [[ " $CONTENDERS " == *" ptll "* ]]; then
	# shellcheck disable=SC2046
	gcc -O2 -Wall -o "$W/bin/passthrough_ll" "$PTLL_SRC" $(pkg-config --cflags --libs fuse3) \
		>"$W/log/ptll-build.log" 2>&1 || { cat "$W/log/ptll-build.log" >&2; die "cannot build passthrough_ll"; }
fi
OPS=$W/bin/bench-ops
# Benchmark copies of the chunkfs programs: a rebuild during the run must not
# mix two versions (the remounts start the daemon again and again).
CFS_VERSION="n/a"
if [ -n "$REV" ] && [ "$HAS_CFS" = 1 ]; then
	sha=$(cd "$REPO" && git rev-parse --short "$REV^{commit}") || die "--rev $REV: no such revision"
	log "building chunkfs $REV ($sha) from git archive in $W/src"
	mkdir -p "$W/src"
	(cd "$REPO" && git archive "$sha") | tar -x -C "$W/src" || die "git archive $REV failed"
	if make -C "$W/src" -j"$(nproc)" mkfs/mkfs.chunkfs fuse/chunkfs-fuse \
		$([ "$HAS_SCRUBD" = 1 ] && echo tools/chunkfs-scrubd) >"$W/log/build.log" 2>&1; then
		CFS_FUSE=$W/src/fuse/chunkfs-fuse CFS_MKFS=$W/src/mkfs/mkfs.chunkfs
		CFS_SCRUBD=$W/src/tools/chunkfs-scrubd
	else
		tail -n 20 "$W/log/build.log" >&2
		log "chunkfs $REV does not build: chunkfs rows will be n/a"
		CFS_FUSE=$W/src/fuse/chunkfs-fuse.missing CFS_MKFS=$W/src/mkfs/mkfs.chunkfs.missing
	fi
fi
if [ "$HAS_CFS" = 1 ] && [ -x "$CFS_FUSE" ] && [ -x "$CFS_MKFS" ]; then
	cp "$CFS_FUSE" "$W/bin/chunkfs-fuse" && cp "$CFS_MKFS" "$W/bin/mkfs.chunkfs" ||
		die "cannot copy the chunkfs programs"
	if [ "$HAS_SCRUBD" = 1 ]; then
		[ -x "$CFS_SCRUBD" ] || die "$CFS_SCRUBD missing (make tools/chunkfs-scrubd, or --rev)"
		cp "$CFS_SCRUBD" "$W/bin/chunkfs-scrubd" || die "cannot copy chunkfs-scrubd"
		CFS_SCRUBD=$W/bin/chunkfs-scrubd
	fi
	if [ -n "$REV" ]; then
		CFS_VERSION="git $REV ($sha), built by the script"
	elif [ "$CFS_FUSE" != "$REPO/fuse/chunkfs-fuse" ]; then
		CFS_VERSION="$CFS_FUSE (from CFS_FUSE), built $(date -r "$CFS_FUSE" '+%F %T')"
	else
		CFS_VERSION="work tree at $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown), $(basename "$CFS_FUSE") built $(date -r "$CFS_FUSE" '+%F %T')"
		if (cd "$REPO" && make -q "${CFS_FUSE#"$REPO"/}" "${CFS_MKFS#"$REPO"/}" 2>/dev/null); then :; else
			log "NOTE: $CFS_FUSE or $CFS_MKFS is older than its sources (make would rebuild it)"
			CFS_VERSION="$CFS_VERSION (older than its sources)"
		fi
	fi
	CFS_FUSE=$W/bin/chunkfs-fuse CFS_MKFS=$W/bin/mkfs.chunkfs
fi
FUSE_OF[chunkfs]=$CFS_FUSE MKFS_OF[chunkfs]=$CFS_MKFS
for c in $SCRUBDS; do FUSE_OF[$c]=$CFS_FUSE MKFS_OF[$c]=$CFS_MKFS; done
for c in chunkfs-nodatasum chunkfs-nopptr chunkfs-single chunkfs-v1; do
	FUSE_OF[$c]=$CFS_FUSE MKFS_OF[$c]=$CFS_MKFS
done
# chunkfs@REV: each revision built from git archive in its own directory
for c in $CFS_OTHERS; do
	is_cfs_variant "$c" && continue
	r=${c#chunkfs@}
	s=$(cd "$REPO" && git rev-parse --short "$r^{commit}") || die "$c: no such revision"
	d=$W/src@$s
	log "building chunkfs $r ($s) from git archive in $d"
	mkdir -p "$d"
	(cd "$REPO" && git archive "$s") | tar -x -C "$d" || die "git archive $r failed"
	if make -C "$d" -j"$(nproc)" mkfs/mkfs.chunkfs fuse/chunkfs-fuse >"$W/log/build@$s.log" 2>&1; then
		cp "$d/fuse/chunkfs-fuse" "$W/bin/chunkfs-fuse@$s" && cp "$d/mkfs/mkfs.chunkfs" "$W/bin/mkfs.chunkfs@$s" ||
			die "cannot copy the chunkfs programs of $r"
		FUSE_OF[$c]=$W/bin/chunkfs-fuse@$s MKFS_OF[$c]=$W/bin/mkfs.chunkfs@$s
	else
		tail -n 20 "$W/log/build@$s.log" >&2
		log "chunkfs $r does not build: $c rows will be n/a"
		FUSE_OF[$c]=$d/missing MKFS_OF[$c]=$d/missing
	fi
	CFS_VERSION="$CFS_VERSION; $c: git $r ($s), built by the script"
done

# start_daemon C CMD...: run a FUSE daemon in the foreground, in the
# background of this shell, and wait for its mount.
start_daemon() {
	local c=$1 i
	shift
	echo "== $(date +%T) $*" >>"$W/log/$c.log"
	"$@" >>"$W/log/$c.log" 2>&1 &
	PID[$c]=$!
	for ((i = 0; i < 600; i++)); do
		is_mounted "${MNT[$c]}" && return 0
		if ! pid_alive "${PID[$c]}"; then
			wait "${PID[$c]}"
			WHY[$c]="daemon exited with status $? before mounting"
			PID[$c]=""
			return 1
		fi
		sleep 0.05
	done
	WHY[$c]="no mount after 30 s"
	return 1
}

mount_c() {
	local c=$1
	is_mounted "${MNT[$c]}" && { WHY[$c]="already mounted"; return 1; }
	case $c in
	chunkfs|chunkfs@*|chunkfs+scrubd*|chunkfs-nodatasum|chunkfs-nopptr|chunkfs-single|chunkfs-v1)
		# shellcheck disable=SC2086
		start_daemon "$c" "${FUSE_OF[$c]}" -f ${CFS_FUSE_OPTS:+-o "$CFS_FUSE_OPTS"} "${IMG[$c]}" "${MNT[$c]}" ;;
	fuse2fs)
		start_daemon fuse2fs fuse2fs -f "${IMG[$c]}" "${MNT[$c]}" ;;
	ptll)
		start_daemon ptll "$W/bin/passthrough_ll" -f -o source="$W/ptll-src" "${MNT[$c]}" ;;
	ext4)
		mount -o loop "${IMG[$c]}" "${MNT[$c]}" 2>>"$W/log/ext4.log" ||
			{ WHY[$c]="mount -o loop failed"; return 1; } ;;
	esac
}

umount_c() {
	local c=$1 i st
	if [ "$c" = ext4 ]; then
		umount "${MNT[$c]}" || { WHY[$c]="umount failed"; return 1; }
		# mount -o loop sets autoclear; make sure the device is gone
		for i in $(losetup -j "${IMG[$c]}" -O NAME -n 2>/dev/null); do losetup -d "$i"; done
		return 0
	fi
	for ((i = 0; i < 50; i++)); do
		fusermount3 -u "${MNT[$c]}" 2>>"$W/log/$c.log" && break
		sleep 0.2
	done
	if is_mounted "${MNT[$c]}"; then
		WHY[$c]="fusermount3 -u keeps failing"
		return 1
	fi
	# wait until the daemon has exited before the image is touched again
	for ((i = 0; i < 1200; i++)); do
		pid_alive "${PID[$c]}" || break
		sleep 0.05
	done
	if pid_alive "${PID[$c]}"; then
		WHY[$c]="daemon ${PID[$c]} did not exit within 60 s of unmount"
		return 1
	fi
	wait "${PID[$c]}"; st=$?
	PID[$c]=""
	if [ "$st" != 0 ]; then
		WHY[$c]="daemon exited with status $st after unmount"
		log "$c: ${WHY[$c]}"
		return 1
	fi
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# cold_cycle C: unmount, drop all caches, mount again.  A chunkfs-scrubd of
# C is frozen meanwhile (it runs only while C is measured, so it is thawed
# after): chunkfs-scrubd (as of 2026-11-21), when it looks for the FUSE daemon while
# the mount is gone, stops measuring the foreground for good ("no way to
# measure foreground I/O") and never yields again; see BENCHMARKS.md.
cold_cycle() {
	local st
	scrubd_ctl "$1" STOP
	umount_c "$1" && drop_caches && mount_c "$1"; st=$?
	scrubd_ctl "$1" CONT
	return $st
}

disable() {
	local c=$1
	AVAIL[$c]=0
	log "$c: DISABLED for the rest of the run: ${WHY[$c]:-?}"
	if [ -s "$W/log/$c.log" ]; then
		echo "---- last lines of the $c log ----" >&2
		tail -n 15 "$W/log/$c.log" >&2
	fi
	if is_mounted "${MNT[$c]}"; then
		if [ "$c" = ext4 ]; then umount -l "${MNT[$c]}"; else fusermount3 -u -z "${MNT[$c]}"; fi
	fi
	if [ -n "${PID[$c]:-}" ] && pid_alive "${PID[$c]}"; then kill -9 "${PID[$c]}"; fi
	[ -n "${PID[$c]:-}" ] && wait "${PID[$c]}" 2>/dev/null
	PID[$c]=""
}

# After a failed measurement: is the contender still usable?  Try to get it
# mounted again (the image may be fine even if the daemon died).
recover() {
	local c=$1
	if [ -n "${PID[$c]:-}" ] && ! pid_alive "${PID[$c]}"; then
		wait "${PID[$c]}"
		log "$c: daemon died (status $?)"
		PID[$c]=""
		fusermount3 -u -z "${MNT[$c]}" 2>/dev/null
		mount_c "$c" || { disable "$c"; return 1; }
		log "$c: mounted again after the daemon died"
		return 0
	fi
	is_mounted "${MNT[$c]}" || { mount_c "$c" || { disable "$c"; return 1; }; }
	return 0
}

run_t() { timeout -k 10 "$BENCH_TIMEOUT" "$@"; }

# fio_bw C NAME ARGS...: run fio, print the bandwidth in MB/s.
fio_bw() {
	local c=$1 name=$2
	shift 2
	run_t fio --name="$name" --bs=1M --size="${SEQ_MB}M" --ioengine=psync \
		--output-format=json --output="$W/fio.json" "$@" >>"$W/log/fio.log" 2>&1 || return 1
	python3 - "$W/fio.json" <<'EOF'
import json, sys
txt = open(sys.argv[1]).read()
j = json.loads(txt[txt.index("{"):])["jobs"][0]
if j.get("error"):
    sys.exit(1)
rw = "write" if j["write"]["io_bytes"] else "read"
print("%.1f" % (j[rw]["bw_bytes"] / 1e6))
EOF
}

record() { # ROW C RUN VALUE [DETAIL]
	echo "$1,$2,$3,$4,${5:-}" >>"$RES"
	log "  $1 $2 run $3: $4 ${5:-}"
}

# ---------------------------------------------------------------- setup
setup_c() {
	local c=$1 out
	MNT[$c]=$W/mnt-$c
	mkdir -p "${MNT[$c]}"
	AVAIL[$c]=1
	case $c in
	chunkfs|chunkfs@*|chunkfs+scrubd*|chunkfs-nodatasum|chunkfs-nopptr|chunkfs-single|chunkfs-v1)
		IMG[$c]=$W/$c.img
		if [ ! -x "${FUSE_OF[$c]}" ] || [ ! -x "${MKFS_OF[$c]}" ]; then
			WHY[$c]="${FUSE_OF[$c]} or ${MKFS_OF[$c]} does not exist (run make)"
			AVAIL[$c]=0; return 1
		fi
		local nds=""
		case $c in
		chunkfs-nodatasum) nds="-O ^datasum" ;;
		chunkfs-nopptr) nds="-O ^pptr" ;;
		chunkfs-single) nds="-m single" ;;
		chunkfs-v1) nds="-O v1" ;;
		esac
		# shellcheck disable=SC2086
		"${MKFS_OF[$c]}" -q $CFS_MKFS_OPTS $nds "${IMG[$c]}" "$SIZE" >>"$W/log/$c.log" 2>&1 ||
			{ WHY[$c]="mkfs.chunkfs -q $CFS_MKFS_OPTS IMAGE $SIZE failed"; AVAIL[$c]=0; return 1; } ;;
	fuse2fs|ext4)
		IMG[$c]=$W/$c.img
		mkfs.ext4 -q -F "${IMG[$c]}" "$SIZE" >>"$W/log/$c.log" 2>&1 ||
			{ WHY[$c]="mkfs.ext4 failed"; AVAIL[$c]=0; return 1; } ;;
	ptll)
		mkdir -p "$W/ptll-src" ;;
	esac
	mount_c "$c" || { AVAIL[$c]=0; return 1; }
	# the data the read and walk rows need
	mkdir -p "${MNT[$c]}/bench" || { WHY[$c]="mkdir in the mount failed"; return 1; }
	if has_group seqread; then
		fio_bw "$c" prep --rw=write --fallocate=none --end_fsync=1 \
			--filename="${MNT[$c]}/bench/seqread.dat" >/dev/null ||
			{ WHY[$c]="writing the seqread file failed"; return 1; }
	fi
	if has_group treewalk; then
		out=$(run_t "$OPS" mktree "${MNT[$c]}/bench/tree" "$NTREE" "$TREE_BYTES") ||
			{ WHY[$c]="creating the tree failed"; return 1; }
		TREE_ENTRIES=$(( ${out% *} + ${out#* } ))
	fi
	umount_c "$c" || return 1
	mount_c "$c" || return 1
}

ACTIVE=""
for c in $CONTENDERS; do
	log "setting up $c"
	if setup_c "$c"; then
		ACTIVE="$ACTIVE $c"
	else
		if [ "${AVAIL[$c]}" = 1 ]; then
			disable "$c"
		elif [ -s "$W/log/$c.log" ]; then
			echo "---- last lines of the $c log ----" >&2
			tail -n 15 "$W/log/$c.log" >&2
		fi
		AVAIL[$c]=0
		log "$c: n/a: ${WHY[$c]}"
	fi
done
[ -n "$ACTIVE" ] || die "no contender could be set up"
log "contenders: $ACTIVE"

# ---------------------------------------------------------------- scrubd
# One chunkfs-scrubd per chunkfs+scrubd* contender, against its mount point
# only, for the whole run (like the service, which runs from boot): its
# FUSE daemon is restarted by the cold rows' remounts, the scrub daemon is
# not.  It is frozen (SIGSTOP) except while its own contender is measured.
# Its log lines get a wall-clock stamp (seconds since the epoch), to be
# matched with the measurement windows (windows.csv).
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
scrubd_opts() { # C -> the -o options of its variant
	case $1 in
	chunkfs+scrubd) ;;
	chunkfs+scrubd-cont) echo "-o interval=10ms" ;;
	chunkfs+scrubd-noyield) echo "-o interval=10ms -o fg_threshold=0" ;;
	esac
}
start_scrubd() {
	local c=$1 i
	# shellcheck disable=SC2046,SC2086
	set -- "$CFS_SCRUBD" -f -v -c /dev/null -o state="$W/scrubd-$c.state" \
		-o pidfile="$W/scrubd-$c.pid" $(scrubd_opts "$c") $SCRUBD_OPTS "${MNT[$c]}"
	echo "$(date +%s.%N) == $*" >>"$W/log/scrubd-$c.log"
	"$@" 2> >(stamp >>"$W/log/scrubd-$c.log") &
	SPID[$c]=$!
	for ((i = 0; i < 100; i++)); do
		grep -q ' started (pid' "$W/log/scrubd-$c.log" 2>/dev/null && break
		pid_alive "${SPID[$c]}" || break
		sleep 0.05
	done
	if ! pid_alive "${SPID[$c]}"; then
		tail -n 5 "$W/log/scrubd-$c.log" >&2
		WHY[$c]="chunkfs-scrubd exited at once"
		SPID[$c]=""
		return 1
	fi
	kill -STOP "${SPID[$c]}"
	log "$c: chunkfs-scrubd ${SPID[$c]} started ($(scrubd_opts "$c")${SCRUBD_OPTS:+ $SCRUBD_OPTS}), frozen until its runs"
}
# scrubd_ctl C STOP|CONT.  STOP never leaves the daemon frozen with a file
# of the mount open (caught between the open and the close around its
# ioctl): that would make the next unmount fail with EBUSY; it lets it run
# on for a few ms until it holds none.
scrubd_ctl() {
	local p=${SPID[$1]:-} i f held
	[ -n "$p" ] || return 0
	if [ "$2" = CONT ]; then kill -CONT "$p" 2>/dev/null; return 0; fi
	for ((i = 0; i < 1000; i++)); do
		kill -STOP "$p" 2>/dev/null || return 0
		while pid_alive "$p" && [ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)" != T ]; do sleep 0.001; done
		held=0
		for f in /proc/"$p"/fd/*; do
			[[ $(readlink "$f" 2>/dev/null) == "${MNT[$1]}"* ]] && { held=1; break; }
		done
		[ "$held" = 0 ] && return 0
		kill -CONT "$p" 2>/dev/null
		sleep 0.005
	done
	log "$1: chunkfs-scrubd $p keeps a file of the mount open; left running"
	kill -CONT "$p" 2>/dev/null
}
for c in $SCRUBDS; do
	[ "${AVAIL[$c]}" = 1 ] || continue
	start_scrubd "$c" || disable "$c"
done
WIN=$W/windows.csv
: >"$WIN"

# ---------------------------------------------------------------- rows
# Each m_* function measures one contender once; it records its rows with
# run number $2 (0 = warm-up) and returns non-zero on failure.
m_seqwrite() {
	local c=$1 r=$2 f=${MNT[$1]}/bench/seqwrite.dat v
	rm -f "$f"; sync -f "${MNT[$c]}"
	v=$(fio_bw "$c" seqwrite --rw=write --fallocate=none --end_fsync=1 --filename="$f") ||
		{ rm -f "$f"; return 1; }
	record seqwrite "$c" "$r" "$v"
	rm -f "$f"; sync -f "${MNT[$c]}"
}
m_seqread() {
	local c=$1 r=$2 f=${MNT[$1]}/bench/seqread.dat v
	cold_cycle "$c" || return 1
	v=$(fio_bw "$c" seqread --rw=read --filename="$f") || return 1
	record seqread-cold "$c" "$r" "$v"
	v=$(fio_bw "$c" seqread --rw=read --invalidate=0 --filename="$f") || return 1
	record seqread-warm "$c" "$r" "$v"
}
m_smallfiles() {
	local c=$1 r=$2 d=${MNT[$1]}/bench/small out
	rm -rf "$d" "$d.r"; sync -f "${MNT[$c]}"
	out=$(run_t "$OPS" smallfiles "$d" "$NSMALL" "$SMALL_BYTES" 2>>"$W/log/ops.log") || return 1
	set -- $out
	record smallfiles "$c" "$r" "$(awk -v n="$NSMALL" -v t="$1" 'BEGIN { printf "%.0f", n / t }')" \
		"total=${1}s create=${2}s stat=${3}s unlink=${4}s rename=${5}s"
	record sf-create "$c" "$r" "$(awk -v n="$NSMALL" -v t="$2" 'BEGIN { printf "%.0f", n / t }')"
	record sf-rename "$c" "$r" "$(awk -v n="$NSMALL" -v t="$5" 'BEGIN { printf "%.0f", n / t }')"
	record sf-unlink "$c" "$r" "$(awk -v n="$NSMALL" -v t="$4" 'BEGIN { printf "%.0f", n / t }')"
	sync -f "${MNT[$c]}"
}
m_treewalk() {
	local c=$1 r=$2 out
	cold_cycle "$c" || return 1
	out=$(run_t "$OPS" walk "${MNT[$c]}/bench/tree" 2>>"$W/log/ops.log") || return 1
	set -- $out
	[ $(( $2 + $3 )) = "$TREE_ENTRIES" ] ||
		{ log "$c: walk saw $2 files + $3 dirs, expected $TREE_ENTRIES entries"; return 1; }
	record treewalk-cold "$c" "$r" "$1"
	out=$(run_t "$OPS" walk "${MNT[$c]}/bench/tree" 2>>"$W/log/ops.log") || return 1
	set -- $out
	record treewalk-warm "$c" "$r" "$1"
}

# idle_pct: percent of CPU time idle over 5 seconds.
. "$BENCH_DIR/lib.sh"
bench_wait_idle "$WAIT_IDLE"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
for g in $ALL_GROUPS; do
	has_group "$g" || continue
	for ((r = 0; r <= RUNS; r++)); do
		[ $r = 0 ] && log "$g: warm-up round" || log "$g: run $r/$RUNS"
		order=$ACTIVE
		if [ "$ROTATE" = 1 ]; then
			read -r -a arr <<<"$ACTIVE"
			order=""
			for ((i = 0; i < ${#arr[@]}; i++)); do order="$order ${arr[(i + r) % ${#arr[@]}]}"; done
		fi
		for c in $order; do
			[ "${AVAIL[$c]}" = 1 ] || continue
			t0=$EPOCHREALTIME
			scrubd_ctl "$c" CONT
			if ! "m_$g" "$c" "$r"; then
				log "$c: $g run $r FAILED${WHY[$c]:+ (${WHY[$c]})}"
				echo "$g,$c,$r,ERR," >>"$RES"
				recover "$c"
			fi
			scrubd_ctl "$c" STOP
			echo "$g,$c,$r,$t0,$EPOCHREALTIME" >>"$WIN"
		done
	done
done
T_BENCH=$(( $(date +%s) - T_START ))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
stop_scrubds

for c in $ACTIVE; do
	[ "${AVAIL[$c]}" = 1 ] || continue
	umount_c "$c" || log "$c: unmount at the end failed: ${WHY[$c]}"
done

# ---------------------------------------------------------------- report
ROWS=""
has_group seqwrite && ROWS="$ROWS seqwrite"
has_group seqread && ROWS="$ROWS seqread-cold seqread-warm"
has_group smallfiles && ROWS="$ROWS smallfiles sf-create sf-rename sf-unlink"
has_group treewalk && ROWS="$ROWS treewalk-cold treewalk-warm"
unit() {
	case $1 in seq*) echo "MB/s" ;; smallfiles|sf-*) echo "files/s" ;; treewalk*) echo "s" ;; esac
}
lower_better() { [[ $1 == treewalk* ]]; }

# stats ROW C: "median min max" of runs >= 1, or "" if none; "ERR" if any
# run failed and none succeeded.
stats() {
	awk -F, -v row="$1" -v c="$2" '
		$1 == row && $2 == c && $3 >= 1 { if ($4 == "ERR") err++; else v[n++] = $4 + 0 }
		END {
			if (n == 0) { if (err) print "ERR"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%s %s %s %d %d\n", m, v[0], v[n - 1], n, err + 0
		}' "$RES"
}
fmtv() { # ROW VALUE
	if lower_better "$1"; then awk -v v="$2" 'BEGIN { printf (v < 1 ? "%.3f" : "%.2f"), v }'
	else awk -v v="$2" 'BEGIN { printf "%.0f", v }'; fi
}
cell() { # ROW C
	local s
	[ "${AVAIL[$2]:-0}" = 1 ] || [ -n "$(stats "$1" "$2")" ] || { echo "n/a"; return; }
	s=$(stats "$1" "$2")
	case $s in
	"") echo "n/a" ;;
	ERR) echo "failed" ;;
	*)
		set -- "$1" $s
		local txt
		txt="$(fmtv "$1" "$2") ($(fmtv "$1" "$3")-$(fmtv "$1" "$4"))"
		[ "$5" -lt "$RUNS" ] && txt="$txt [$5/$RUNS ok]"
		echo "$txt" ;;
	esac
}
ratio() { # ROW C1 C2 -> speed ratio of C1 over C2
	local a b
	a=$(stats "$1" "$2"); b=$(stats "$1" "$3")
	if [ -z "$a" ] || [ -z "$b" ] || [ "$a" = ERR ] || [ "$b" = ERR ]; then echo "-"; return; fi
	a=${a%% *}; b=${b%% *}
	if lower_better "$1"; then awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", b / a }'
	else awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }'; fi
}
target() { # ROW
	local r1 r2 out="" miss=""
	r1=$(ratio "$1" chunkfs fuse2fs); r2=$(ratio "$1" chunkfs ptll)
	[ "$r1" = - ] && [ "$r2" = - ] && { echo "-"; return; }
	if [ "$r1" != - ]; then
		awk -v r="${r1%x}" 'BEGIN { exit !(r >= 2) }' && out="ok" || miss="<2x fuse2fs"
	fi
	if [[ $1 == seqwrite || $1 == seqread* ]] && [ "$r2" != - ]; then
		awk -v r="${r2%x}" 'BEGIN { exit !(r >= 0.5) }' && out="ok" ||
			miss="${miss:+$miss, }<0.5x passthrough_ll"
	fi
	[ -n "$miss" ] && echo "MISS: $miss" || echo "${out:--}"
}

rowname() {
	case $1 in
	seqwrite) echo "seq write ${SEQ_MB} MiB [MB/s]" ;;
	seqread-cold) echo "seq read ${SEQ_MB} MiB, cold [MB/s]" ;;
	seqread-warm) echo "seq read ${SEQ_MB} MiB, warm [MB/s]" ;;
	smallfiles) echo "create+stat+unlink $NSMALL x 4 KiB [files/s]" ;;
	sf-create) echo "  create $NSMALL x 4 KiB [files/s]" ;;
	sf-rename) echo "  rename $NSMALL into another directory [files/s]" ;;
	sf-unlink) echo "  unlink $NSMALL [files/s]" ;;
	treewalk-cold) echo "tree walk $NTREE files, cold [s]" ;;
	treewalk-warm) echo "tree walk $NTREE files, warm [s]" ;;
	esac
}

SHOWN="chunkfs $SCRUBDS $CFS_OTHERS fuse2fs ptll ext4"
SHOWN_LIST=""
for c in $SHOWN; do [[ " $CONTENDERS " == *" $c "* ]] && SHOWN_LIST="$SHOWN_LIST $c"; done

# paired ROW C1 C2: speed ratio of C1 over C2 run by run (run i with run
# i, the two measured next to each other): "median (min-max)", or "-".
paired() {
	awk -F, -v row="$1" -v a="$2" -v b="$3" -v lb="$(lower_better "$1" && echo 1)" '
		$1 == row && $3 >= 1 && $4 != "ERR" { if ($2 == a) x[$3] = $4 + 0; else if ($2 == b) y[$3] = $4 + 0 }
		END {
			for (r in x) if ((r in y) && x[r] > 0 && y[r] > 0) v[n++] = lb ? y[r] / x[r] : x[r] / y[r]
			if (!n) { print "-"; exit }
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf "%.2f (%.2f-%.2f)\n", m, v[0], v[n - 1] }' "$RES"
}
target5() { # ROW: issue 5, every chunkfs+scrubd* contender loses < 10% (by medians)
	local c r out="" miss=""
	for c in $SCRUBDS; do
		r=$(ratio "$1" "$c" chunkfs)
		[ "$r" = - ] && continue
		awk -v r="${r%x}" 'BEGIN { exit !(r >= 0.90) }' && out="ok" ||
			miss="${miss:+$miss, }$c $(awk -v r="${r%x}" 'BEGIN { printf "-%.0f%%", 100 * (1 - r) }')"
	done
	[ -n "$miss" ] && echo "MISS: $miss" || echo "${out:--}"
}
ISSUE2=0
[[ " $CONTENDERS " == *" fuse2fs "* || " $CONTENDERS " == *" ptll "* ]] && ISSUE2=1
table_rows() { # emits tab-separated lines: header + rows
	local row c line
	line="row"
	for c in $SHOWN_LIST; do line="$line	${LABEL[$c]}"; done
	for c in $SCRUBDS; do line="$line	$c/chunkfs	paired"; done
	for c in $CFS_OTHERS; do line="$line	chunkfs/$c"; done
	[ "$ISSUE2" = 1 ] && line="$line	chunkfs/fuse2fs	chunkfs/passthrough_ll	issue-2 targets"
	[ -n "$SCRUBDS" ] && line="$line	issue-5 target (loss < 10%)"
	echo "$line"
	for row in $ROWS; do
		line=$(rowname "$row")
		for c in $SHOWN_LIST; do line="$line	$(cell "$row" "$c")"; done
		for c in $SCRUBDS; do line="$line	$(ratio "$row" "$c" chunkfs)	$(paired "$row" "$c" chunkfs)"; done
		for c in $CFS_OTHERS; do line="$line	$(ratio "$row" chunkfs "$c")"; done
		[ "$ISSUE2" = 1 ] && line="$line	$(ratio "$row" chunkfs fuse2fs)	$(ratio "$row" chunkfs ptll)	$(target "$row")"
		[ -n "$SCRUBDS" ] && line="$line	$(target5 "$row")"
		echo "$line"
	done
}

# scrub_rows: what each chunkfs-scrubd did during its contender's timed
# runs (runs >= 1; a window is one m_ROW call, the cold rows' remount
# included), from its stamped log: tab-separated header + rows.
scrub_rows() {
	local g c
	printf 'row\tcontender\ttime measured [s]\tscrubs\tlock held per scrub [ms], median (min-max)\tlock held, total [ms]\tshare of the time\tblocks read per scrub, median\tyield windows\n'
	for g in $GROUPS_RUN; do
		for c in $SCRUBDS; do
			awk -v g="$g" -v c="$c" '
				BEGIN { nw = 0; n = 0; y = 0; S = 0; T = 0 }
				FNR == NR { split($0, f, ","); if (f[1] == g && f[2] == c && f[3] + 0 >= 1) { a[nw] = f[4] + 0; b[nw++] = f[5] + 0; T += f[5] - f[4] } next }
				{ t = $1 + 0; inw = 0
				  for (i = 0; i < nw; i++) if (t >= a[i] && t <= b[i]) { inw = 1; break }
				  if (!inw) next
				  if (match($0, /[0-9.]+ ms, [0-9]+ blocks\)/)) {
					split(substr($0, RSTART, RLENGTH), x, " "); h[n] = x[1] + 0; bl[n] = x[3] + 0; S += x[1]; n++ }
				  else if ($0 ~ /yielding to foreground|foreground still busy/) y++ }
				function med(v, k,   i, j, t) { for (i = 0; i < k; i++) for (j = i + 1; j < k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
					return (k % 2) ? v[int(k / 2)] : (v[k / 2 - 1] + v[k / 2]) / 2 }
				END {
					if (!nw) exit
					if (n) { m = med(h, n); lo = h[0]; hi = h[n - 1]; mb = med(bl, n)
						printf "%s\t%s\t%.1f\t%d\t%.1f (%.1f-%.1f)\t%.0f\t%.2f%%\t%.0f\t%d\n", g, c, T, n, m, lo, hi, S, (T > 0 ? S / 10 / T : 0), mb, y }
					else printf "%s\t%s\t%.1f\t0\t-\t0\t0%%\t-\t%d\n", g, c, T, y }' \
				"$WIN" "$W/log/scrubd-$c.log"
		done
	done
}
md_table() {
	awk -F'\t' '
		NR == 1 { printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n|"
			  for (i = 1; i <= NF; i++) printf (i == 1 ? " --- |" : " ---: |"); printf "\n"; next }
		{ printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n" }'
}

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
TMPFS_FACT="$TMPFS_BASE: tmpfs, $(df -h --output=size "$TMPFS_BASE" | tail -n 1 | tr -d ' '); RAM $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 2^20 }' /proc/meminfo)"
markdown() {
	echo "Command: \`$CMDLINE\` ($(date -u +%Y-%m-%dT%H:%MZ), $RUNS run(s) + 1 warm-up per row, benchmark phase ${T_BENCH}s)"
	echo
	echo "Machine: $(nproc) CPUs ($CPU), kernel $(uname -r), $TMPFS_FACT; images $SIZE; chunkfs: $CFS_VERSION; CPUs $idle% idle just before the start, load average $LOAD_START at the start, $LOAD_END at the end"
	echo
	table_rows | md_table
	echo
	echo "Cells: median (min-max) of $RUNS run(s).  Ratios are speed ratios (> 1: chunkfs faster; walks: other time / chunkfs time)."
	if [ -n "$SCRUBDS" ]; then
		echo "X/chunkfs: median of X over median of chunkfs (< 1: slower with scrubd); paired: run i of X over run i of chunkfs, median (min-max) of the $RUNS pairs."
		echo
		echo "chunkfs-scrubd during the timed runs (its log; the filesystem lock is held for each scrub's duration_ns, every operation waits meanwhile):"
		echo
		scrub_rows | md_table
	fi
	for c in $SHOWN_LIST; do
		[ "${AVAIL[$c]:-0}" = 1 ] || echo "${LABEL[$c]}: n/a: ${WHY[$c]:-not available}"
	done
	for c in $SHOWN_LIST; do
		if awk -F, -v c="$c" '$2 == c && $4 == "ERR" { f = 1 } END { exit !f }' "$RES"; then
			echo "${LABEL[$c]}: failed runs: $(awk -F, -v c="$c" '$2 == c && $4 == "ERR" { printf "%s%s#%s", s, $1, $3; s = ", " }' "$RES")"
		fi
	done
	return 0
}

echo
echo "== FUSE throughput: $CMDLINE"
table_rows | column -t -s $'\t'
[ -n "$SCRUBDS" ] && { echo; scrub_rows | column -t -s $'\t'; }
for c in $SHOWN_LIST; do
	[ "${AVAIL[$c]:-0}" = 1 ] || echo "${LABEL[$c]}: n/a: ${WHY[$c]:-not available}"
done
echo
echo "== Markdown"
MD=$(markdown)
echo "$MD"
if [ -n "$OUT" ]; then
	echo "$MD" >"$OUT" || die "cannot write $OUT"
	log "Markdown table written to $OUT"
fi
if [ -n "$RAW" ]; then
	{ echo "row,contender,run,value,detail"; cat "$RES"; } >"$RAW" || die "cannot write $RAW"
	log "raw results written to $RAW"
fi
exit 0
