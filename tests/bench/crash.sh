#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/crash.sh - crash consistency benchmark of chunkfs (issue 4):
# mount time after a crash against the filesystem's size, and how many
# chunks a crash leaves not clean in a busy workload.
#
# A benchmark, not a test: it prints numbers and exits 0 unless the benchmark
# itself could not run.  Run as root from anywhere in the repository:
#
#   tests/bench/crash.sh [--runs N] [--crashes N] [--images LIST]
#                        [--busy SECS] [--quick] [--rev REV] [--keep]
#                        [--out FILE.md] [--raw FILE.csv] [--seed S]
#                        [--tmpfs DIR] [--wait-idle SECS]
#
# (The cost of the journal on throughput is measured by fuse-bench.sh with
# two revisions, e.g. `tests/bench/fuse-bench.sh --rev HEAD --contenders
# chunkfs,chunkfs@0e45b5c`.)
#
# A crash here is `kill -9` of the chunkfs-fuse daemon during a busy
# workload, then `fusermount3 -u -z`: what the image holds is what the
# daemon had written (a tmpfs loses no written data, so this is a process
# crash, not a power cut; test_crash covers lost writes).
#
# The busy workload (a Python script written into the temp dir): one
# process, in 8 directories under /busy: creates files of 0-16 KiB (45%),
# renames across directories (20%), unlinks (20%), rewrites a piece of a
# small file (9%), mkdir/rmdir of subdirectories (2%), appends 1 MiB to one
# of two large files, truncated to 0 past 64 MiB (4%); at most 2,000 files
# per directory.  It records the chunk (st_ino >> 32) of every inode it
# makes (the chunks of its new inodes).  Meanwhile another helper reads
# the raw superblock every 5 ms and ORs the commit maps of the commits it
# sees: "chunks committed" is the number of chunks written by the commits of
# the run (a lower bound: a commit overwritten within 5 ms is missed).
#
# Part 1, mount time against size: for each image of --images (default
# 4G/1G 64G/1G 1T/1G 4G/64M 64G/64M 256G/64M, SIZE/CHUNK-SIZE, sparse
# files on the tmpfs, `mkfs.chunkfs -q -C CHUNK IMAGE SIZE`), one warm-up
# cycle (discarded) and --runs cycles of:
#   mount; workload for --busy seconds (default 7); kill -9; then on the
#   crashed image: the superblock's commit map (chunks the replay will
#   read, from the raw superblock), `chunkfs stat --json` (chunks[].state
#   not "clean"), `fsck.chunkfs -n` (default mode: the chunks not clean)
#   timed and its exit status; then the timed mount after the crash
#   (replay); clean unmount; the timed mount after the clean unmount;
#   unmount.
# So the crash mount and the clean mount alternate on the same image.
# Mount time: from the fork of `chunkfs-fuse -f IMAGE DIR` until stat(DIR)
# returns the FUSE mount's device (the daemon has replayed, mounted and
# answered GETATTR on the root), polled every 0.5 ms by a Python helper.
#
# Part 2, crashes at random moments: a 64 GiB image with 64 MiB chunks
# (1,024 chunks; --quick 4 GiB), --crashes N (default 12) cycles of: mount,
# workload for a random 2-8 s (uniform, --seed), kill -9, then the counts
# above plus `fsck.chunkfs -n` and `fsck.chunkfs -fn` (every chunk) timed,
# then `fsck.chunkfs -p` (default mode, preen; timed: what a boot does
# before the mount) unless --no-preen, then mount (replay) and clean
# unmount.  The image keeps its files from one cycle to the next.  Without
# the preen, chunks left not clean by one crash stay so (a clean unmount
# cleans only the chunks its own session dirtied), and the count of the
# next crash includes them; part 1 runs no fsck -p, so its count does.
#
# Cells are median (min-max).  Times are wall-clock (tests/bench/runstat.c
# for fsck).
#
# Options:
#   --runs N         timed cycles per image in part 1 (default 5; quick 3)
#   --crashes N      crashes in part 2 (default 12; quick 4)
#   --images LIST    part 1 images, SIZE/CHUNK comma- or space-separated
#                    ("none": part 2 only);
#                    note: at f66a84d mkfs.chunkfs of 16,384 chunks (1T/64M)
#                    takes ~15 min (see docs/BENCHMARKS.md), so it is not in
#                    the default list
#   --no-preen       part 2: do not run `fsck.chunkfs -p` after each crash
#   --busy SECS      workload time before the crash in part 1 (default 7:
#                    more than the daemon's commit interval, 5 s)
#   --quick          smoke test: 4G/1G and 64G/64M, 3 runs, 4 crashes on 4G
#   --rev REV        benchmark chunkfs as of git revision REV (e.g. HEAD),
#                    built from `git archive REV` in the temp dir; default:
#                    the programs of the work tree (run make first)
#   --keep           keep the temp dir (images, logs) on exit
#   --out FILE       also write the Markdown report to FILE
#   --raw FILE       also write every measurement as CSV to FILE
#   --seed S         seed of the workload and of the crash moments (default 1)
#   --tmpfs DIR      where everything lives (default /dev/shm; must be tmpfs)
#   --wait-idle S    before measuring, wait up to S seconds (default 300, 0:
#                    no wait) for the CPUs to be >= 85% idle for 10 s; the
#                    load averages go into the report
#
# Missing packages (fuse3, python3, gcc, make, util-linux) are installed with
# apt-get.  Mounts and daemons are cleaned up on exit, also on failure or
# Ctrl-C; the temp dir is removed unless --keep.

set -u -o pipefail

# The whole script is one compound command, so that bash has read all of
# it before it runs: editing the file during a run cannot break the run.
{

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
CMDLINE="tests/bench/crash.sh${*:+ $*}"

RUNS="" CRASHES="" IMAGES="" BUSY=7 PREEN=1 QUICK=0 REV="" KEEP=0 OUT="" RAW="" SEED=1
TMPFS_BASE=/dev/shm WAIT_IDLE=300

usage() {
	sed -n '/^# tests\/bench/,/^# Ctrl-C/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}
die() { echo "crash-bench: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=${2:?}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--crashes) CRASHES=${2:?}; shift ;;
	--crashes=*) CRASHES=${1#*=} ;;
	--images) IMAGES=${2:?}; shift ;;
	--images=*) IMAGES=${1#*=} ;;
	--busy) BUSY=${2:?}; shift ;;
	--busy=*) BUSY=${1#*=} ;;
	--quick) QUICK=1 ;;
	--no-preen) PREEN=0 ;;
	--rev) REV=${2:?}; shift ;;
	--rev=*) REV=${1#*=} ;;
	--keep) KEEP=1 ;;
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
	*) echo "crash-bench: unknown option $1" >&2; usage 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	: "${RUNS:=3}" "${CRASHES:=4}" "${IMAGES:=4G/1G 64G/64M}"
	P2_IMAGE=4G/64M
else
	: "${RUNS:=5}" "${CRASHES:=12}" "${IMAGES:=4G/1G 64G/1G 1T/1G 4G/64M 64G/64M 256G/64M}"
	P2_IMAGE=64G/64M
fi
IMAGES=${IMAGES//,/ }
[ "$IMAGES" = none ] && IMAGES=""
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive number"
[[ $CRASHES =~ ^[1-9][0-9]*$ ]] || die "--crashes wants a positive number"
[[ $SEED =~ ^[0-9]+$ ]] || die "--seed wants a number"
[[ $WAIT_IDLE =~ ^[0-9]+$ ]] || die "--wait-idle wants a number of seconds"
awk -v b="$BUSY" 'BEGIN { exit !(b + 0 > 0) }' || die "--busy wants a positive number of seconds"
for im in $IMAGES $P2_IMAGE; do
	[[ $im == */* ]] || die "--images: $im is not SIZE/CHUNK"
	numfmt --from=iec "${im%/*}" >/dev/null 2>&1 || die "--images: bad size in $im"
	numfmt --from=iec "${im#*/}" >/dev/null 2>&1 || die "--images: bad chunk size in $im"
done

[ "$(id -u)" = 0 ] || die "run as root (FUSE mounts, apt-get)"

# ---------------------------------------------------------------- packages
deps() {
	local p missing=""
	for p in fuse3 python3 gcc make util-linux coreutils; do
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
[ "$(stat -f -c %T "$TMPFS_BASE" 2>/dev/null)" = tmpfs ] ||
	die "$TMPFS_BASE is not a tmpfs (use --tmpfs DIR)"
# Room: the images are sparse; what is written is the metadata mkfs writes
# (a few MiB per GiB at 64 MiB chunks) plus the workload (< 200 MiB each).
avail=$(df -B1 --output=avail "$TMPFS_BASE" | tail -n 1)
[ "$avail" -ge $((3 << 30)) ] || die "$TMPFS_BASE: less than 3 GiB free"

W=$(mktemp -d "$TMPFS_BASE/chunkfs-crash-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$W"
mkdir -p "$W/bin" "$W/log" "$W/mnt"
MNT=$W/mnt
RES=$W/results.csv
: >"$RES"
DPID=""	# the running chunkfs-fuse daemon, if any
WPID="" MPID=""	# the running workload and superblock watcher, if any

pid_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}
is_mounted() { awk -v d="$1" '$2 == d { f = 1 } END { exit !f }' /proc/self/mounts; }

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	set +e
	[ -n "$WPID" ] && pid_alive "$WPID" && kill -9 "$WPID"
	[ -n "$MPID" ] && pid_alive "$MPID" && kill -9 "$MPID"
	if is_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT"
	fi
	if [ -n "$DPID" ]; then
		for ((i = 0; i < 100; i++)); do pid_alive "$DPID" || break; sleep 0.1; done
		pid_alive "$DPID" && kill -9 "$DPID"
	fi
	if [ "$KEEP" = 1 ]; then
		echo "crash-bench: kept $W (images, logs)" >&2
	elif [ -n "${W:-}" ] && [ -d "$W" ]; then
		rm -rf "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "crash-bench: interrupted" >&2; exit 130' INT TERM HUP

# ---------------------------------------------------------------- programs
gcc -O2 -Wall -o "$W/bin/runstat" "$BENCH_DIR/runstat.c" || die "cannot build runstat"
RUNSTAT=$W/bin/runstat
PROGS="mkfs/mkfs.chunkfs fuse/chunkfs-fuse fsck/fsck.chunkfs tools/chunkfs"
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
	CFS_VERSION="work tree at $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown), built $(date -r "$REPO/fuse/chunkfs-fuse" '+%F %T' 2>/dev/null)"
	# shellcheck disable=SC2086
	(cd "$REPO" && make -q $PROGS 2>/dev/null) ||
		{ log "NOTE: the programs are older than their sources (make would rebuild them)"; CFS_VERSION="$CFS_VERSION (older than its sources)"; }
fi
# copies: a rebuild in the work tree during the run must not mix versions
for p in $PROGS; do
	[ -x "$SRC/$p" ] || die "$SRC/$p missing (run make, or use --rev HEAD)"
	cp "$SRC/$p" "$W/bin/" || die "cannot copy $p"
done
MKFS=$W/bin/mkfs.chunkfs FUSE=$W/bin/chunkfs-fuse FSCK=$W/bin/fsck.chunkfs TOOL=$W/bin/chunkfs

# The workload: see the header.  Stops at SIGTERM or when the mount dies,
# then writes "ops errors chunk..." to OUTFILE.
cat >"$W/bin/busy.py" <<'EOF'
import errno, os, random, signal, sys
mnt, seed, outf = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(seed)
stop = False
def onterm(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, onterm)
chunks, ops, errors = set(), 0, 0
def note(p):
    chunks.add(os.lstat(p).st_ino >> 32)
def finish():
    with open(outf, "w") as f:
        f.write("%d %d %s\n" % (ops, errors, " ".join(str(c) for c in sorted(chunks))))
    sys.exit(0)
base = os.path.join(mnt, "busy")
dirs = [os.path.join(base, "d%d" % i) for i in range(8)]
files = {}
subs = {}
try:
    for d in dirs:
        os.makedirs(d, exist_ok=True)
        note(d)
        files[d] = [n for n in os.listdir(d) if n.startswith("f")]
        subs[d] = [n for n in os.listdir(d) if n.startswith("s")]
except OSError:
    errors += 1
    finish()
big = [os.path.join(base, "big%d" % i) for i in range(2)]
data = os.urandom(1 << 20)
uniq = rnd.getrandbits(40)
while not stop:
    d = rnd.choice(dirs)
    r = rnd.random()
    try:
        if len(files[d]) > 2000:
            r = 0.7
        if r < 0.45:
            uniq += 1
            n = "f%x" % uniq
            p = os.path.join(d, n)
            with open(p, "wb") as f:
                f.write(data[:rnd.randint(0, 16384)])
            note(p)
            files[d].append(n)
        elif r < 0.65 and files[d]:
            n = files[d].pop(rnd.randrange(len(files[d])))
            d2 = rnd.choice(dirs)
            uniq += 1
            n2 = "f%x" % uniq
            os.rename(os.path.join(d, n), os.path.join(d2, n2))
            files[d2].append(n2)
        elif r < 0.85 and files[d]:
            n = files[d].pop(rnd.randrange(len(files[d])))
            os.unlink(os.path.join(d, n))
        elif r < 0.94 and files[d]:
            with open(os.path.join(d, rnd.choice(files[d])), "r+b") as f:
                f.seek(rnd.randint(0, 16384))
                f.write(data[:rnd.randint(1, 8192)])
        elif r < 0.96:
            if subs[d] and rnd.random() < 0.5:
                os.rmdir(os.path.join(d, subs[d].pop()))
            else:
                uniq += 1
                n = "s%x" % uniq
                os.mkdir(os.path.join(d, n))
                note(os.path.join(d, n))
                subs[d].append(n)
        else:
            p = rnd.choice(big)
            with open(p, "ab") as f:
                if f.tell() >= (64 << 20):
                    f.truncate(0)
                f.write(data)
            note(p)
        ops += 1
    except OSError as e:
        errors += 1
        if e.errno in (errno.ENOTCONN, errno.ENODEV, errno.EIO, errno.ECONNABORTED):
            break
finish()
EOF

# Start the daemon, print "SECONDS PID": SECONDS from the fork until
# stat(MNT) shows the mount (the daemon answered GETATTR of the root).
cat >"$W/bin/mounttime.py" <<'EOF'
import os, subprocess, sys, time
fuse, img, mnt, log = sys.argv[1:5]
d0 = os.stat(mnt).st_dev
lf = open(log, "a")
t0 = time.monotonic()
p = subprocess.Popen([fuse, "-f", img, mnt], stdout=lf, stderr=subprocess.STDOUT,
                     stdin=subprocess.DEVNULL, start_new_session=True)
while True:
    try:
        if os.stat(mnt).st_dev != d0:
            break
    except OSError:
        pass
    if p.poll() is not None:
        print("FAIL %d" % p.returncode)
        sys.exit(1)
    if time.monotonic() - t0 > 300:
        print("TIMEOUT %d" % p.pid)
        sys.exit(1)
    time.sleep(0.0005)
print("%.4f %d" % (time.monotonic() - t0, p.pid))
EOF

# The raw superblock (block 0): "commit_group jmap_bits chunks_in_map state".
# With a second argument OUT: read it every 5 ms until SIGTERM, then write
# to OUT "chunks_in_the_union_of_the_maps commit_groups_seen".
cat >"$W/bin/sbmap.py" <<'EOF'
import signal, struct, sys, time
def read(path):
    with open(path, "rb") as f:
        b = f.read(8192)
    state = struct.unpack_from("<I", b, 296)[0]
    group, bits, off = struct.unpack_from("<QII", b, 304)
    m = b[off:off + (bits + 7) // 8] if bits and off < len(b) else b""
    return group, bits, m, state
if len(sys.argv) < 3:
    g, bits, m, st = read(sys.argv[1])
    print(g, bits, sum(bin(x).count("1") for x in m), st)
    sys.exit(0)
stop = False
def onterm(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, onterm)
union, groups = 0, set()
g0 = None
while not stop:
    try:
        g, bits, m, st = read(sys.argv[1])
    except (OSError, struct.error):
        g = None
    if g is not None:
        if g0 is None:
            g0 = g
        elif g != g0 and g not in groups:
            groups.add(g)
            union |= int.from_bytes(m, "little")
    time.sleep(0.005)
with open(sys.argv[2], "w") as f:
    f.write("%d %d\n" % (bin(union).count("1"), len(groups)))
EOF

# ---------------------------------------------------------------- helpers
record() { # PART IMAGE RUN METRIC VALUE
	echo "$1,$2,$3,$4,$5" >>"$RES"
}

# mount_t IMAGE: mount; sets MT (the seconds it took) and DPID
mount_t() {
	local out
	is_mounted "$MNT" && die "$MNT is still mounted"
	out=$(python3 "$W/bin/mounttime.py" "$FUSE" "$1" "$MNT" "$W/log/fuse.log") ||
		{ tail -n 15 "$W/log/fuse.log" >&2; die "mount of $1 failed: $out"; }
	DPID=${out#* } MT=${out% *}
}

umount_clean() {
	local i
	for ((i = 0; i < 50; i++)); do
		fusermount3 -u "$MNT" 2>>"$W/log/fuse.log" && break
		sleep 0.2
	done
	is_mounted "$MNT" && die "fusermount3 -u $MNT keeps failing"
	for ((i = 0; i < 1200; i++)); do pid_alive "$DPID" || break; sleep 0.05; done
	pid_alive "$DPID" && die "daemon $DPID did not exit within 60 s of unmount"
	DPID=""
}

# crash SECS SEED OUTFILE: on image $IMG, run the workload for SECS, kill -9 the daemon,
# detach the mount, stop the workload.
crash() {
	local i
	python3 "$W/bin/sbmap.py" "$IMG" "$3.map" 2>>"$W/log/busy.log" &
	MPID=$!
	python3 "$W/bin/busy.py" "$MNT" "$2" "$3" 2>>"$W/log/busy.log" &
	WPID=$!
	sleep "$1"
	pid_alive "$WPID" || log "WARNING: the workload ended early (see $W/log/busy.log)"
	kill -9 "$DPID"
	for ((i = 0; i < 200; i++)); do pid_alive "$DPID" || break; sleep 0.01; done
	fusermount3 -u -z "$MNT" 2>>"$W/log/fuse.log"
	DPID=""
	kill -TERM "$WPID" 2>/dev/null
	for ((i = 0; i < 500; i++)); do pid_alive "$WPID" || break; sleep 0.01; done
	pid_alive "$WPID" && { log "WARNING: workload $WPID hangs, killing it"; kill -9 "$WPID"; }
	wait "$WPID" 2>/dev/null
	WPID=""
	kill -TERM "$MPID" 2>/dev/null
	wait "$MPID" 2>/dev/null
	[ -s "$3" ] || echo "0 0" >"$3"
	[ -s "$3.map" ] || echo "0 0" >"$3.map"
}

notclean() { # IMAGE -> chunks whose state is not "clean" (after the in-memory replay)
	"$TOOL" stat --json "$1" 2>>"$W/log/stat.log" | grep -o '"state": "[a-z]*"' | grep -vc '"clean"'
}

# fsck_t PART IMAGE RUN METRIC ARGS...: time fsck.chunkfs ARGS IMAGE
fsck_t() {
	local part=$1 img=$2 run=$3 m=$4 t rc
	shift 4
	echo "== $* $img" >>"$W/log/fsck.log"
	"$RUNSTAT" "$W/rs" "$FSCK" "$@" "$img" >>"$W/log/fsck.log" 2>&1
	read -r t _ _ _ rc <"$W/rs"
	record "$part" "$IMAGE_NAME" "$run" "$m" "$t"
	record "$part" "$IMAGE_NAME" "$run" "${m}_rc" "$rc"
	[ "$rc" = 0 ] || log "  NOTE: fsck.chunkfs $* exited $rc on the crashed image (log: $W/log/fsck.log)"
}

# after_crash PART IMAGE RUN WORKLOAD-OUT: the counts on the crashed image
after_crash() {
	local part=$1 img=$2 run=$3 wout=$4 ops errs chunks map nc committed groups
	read -r ops errs chunks < <(awk '{ print $1, $2, NF - 2 }' "$wout")
	read -r committed groups <"$wout.map"
	read -r _ _ map _ < <(python3 "$W/bin/sbmap.py" "$img")
	nc=$(notclean "$img")
	record "$part" "$IMAGE_NAME" "$run" ops "$ops"
	record "$part" "$IMAGE_NAME" "$run" touched "$chunks"
	record "$part" "$IMAGE_NAME" "$run" committed "$committed"
	record "$part" "$IMAGE_NAME" "$run" commits "$groups"
	record "$part" "$IMAGE_NAME" "$run" map "$map"
	record "$part" "$IMAGE_NAME" "$run" notclean "$nc"
	log "  run $run: $ops ops ($errs errors), chunks of new inodes $chunks, chunks in $groups commits $committed, in the last commit map $map, not clean $nc"
}

# idle_pct: percent of CPU time idle over 5 seconds.
. "$BENCH_DIR/lib.sh"
bench_wait_idle "$WAIT_IDLE"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)

nchunks_of() { # SIZE/CHUNK
	awk -v s="$(numfmt --from=iec "${1%/*}")" -v c="$(numfmt --from=iec "${1#*/}")" \
		'BEGIN { printf "%d", (s - 65536) / c + ((s - 65536) % c ? 1 : 0) }'
}

# ---------------------------------------------------------------- part 1
for im in $IMAGES; do
	IMAGE_NAME=$im
	img=$W/img IMG=$W/img
	rm -f "$img"
	log "part 1: $im ($(nchunks_of "$im") chunks): mkfs.chunkfs -q -C ${im#*/} IMAGE ${im%/*}"
	"$RUNSTAT" "$W/rs" "$MKFS" -q -F -C "${im#*/}" "$img" "${im%/*}" >>"$W/log/mkfs.log" 2>&1 ||
		{ tail -n 5 "$W/log/mkfs.log" >&2; die "mkfs.chunkfs of $im failed"; }
	read -r t _ <"$W/rs"
	record p1 "$im" 0 mkfs_s "$t"
	record p1 "$im" 0 nchunks "$("$TOOL" stat --json "$img" 2>/dev/null | awk -F'[:,]' '/"nchunks"/ { print $2 + 0 }')"
	for ((r = 0; r <= RUNS; r++)); do
		mount_t "$img"
		crash "$BUSY" "$((SEED * 1000 + r))" "$W/wout"
		after_crash p1 "$img" "$r" "$W/wout"
		fsck_t p1 "$img" "$r" fsck_n -n
		mount_t "$img"
		t=$MT
		record p1 "$im" "$r" mount_crash "$t"
		umount_clean
		mount_t "$img"
		record p1 "$im" "$r" mount_clean "$MT"
		umount_clean
		log "  run $r$([ "$r" = 0 ] && echo ' (warm-up)'): mount after the crash ${t}s, after a clean unmount ${MT}s"
	done
	rm -f "$img"
done

# ---------------------------------------------------------------- part 2
IMAGE_NAME=$P2_IMAGE
img=$W/img IMG=$W/img
rm -f "$img"
log "part 2: $P2_IMAGE ($(nchunks_of "$P2_IMAGE") chunks), $CRASHES crashes after 2-8 s of the workload"
"$MKFS" -q -F -C "${P2_IMAGE#*/}" "$img" "${P2_IMAGE%/*}" >>"$W/log/mkfs.log" 2>&1 ||
	die "mkfs.chunkfs of $P2_IMAGE failed"
RANDOM=$SEED
for ((r = 1; r <= CRASHES; r++)); do
	x=$RANDOM	# not inside $(...): the subshell would not advance RANDOM
	secs=$(awk -v x="$x" 'BEGIN { printf "%.2f", 2 + 6 * x / 32768 }')
	mount_t "$img"
	crash "$secs" "$((SEED * 100000 + r))" "$W/wout"
	record p2 "$P2_IMAGE" "$r" busy_s "$secs"
	after_crash p2 "$img" "$r" "$W/wout"
	fsck_t p2 "$img" "$r" fsck_n -n
	fsck_t p2 "$img" "$r" fsck_fn -fn
	if [ "$PREEN" = 1 ]; then
		fsck_t p2 "$img" "$r" fsck_p -p
		record p2 "$P2_IMAGE" "$r" notclean_after_p "$(notclean "$img")"
	fi
	mount_t "$img"
	record p2 "$P2_IMAGE" "$r" mount_crash "$MT"
	umount_clean
done
fsck_t p2 "$img" end fsck_end -fn
T_BENCH=$(( $(date +%s) - T_START ))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- report
# stats PART IMAGE METRIC -> "median min max n" over runs >= 1
stats() {
	awk -F, -v p="$1" -v im="$2" -v m="$3" '
		$1 == p && $2 == im && $4 == m && $3 != "0" && $3 != "end" { v[n++] = $5 + 0 }
		END {
			if (n == 0) exit
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			md = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			print md, v[0], v[n - 1], n
		}' "$RES"
}
cell() { # PART IMAGE METRIC FORMAT
	local s
	s=$(stats "$1" "$2" "$3")
	[ -n "$s" ] || { echo "n/a"; return; }
	set -- "$4" $s
	awk -v f="$1" -v a="$2" -v b="$3" -v c="$4" 'BEGIN { printf f " (" f "-" f ")", a, b, c }'
}
rcs() { # PART IMAGE METRIC -> exit statuses seen
	awk -F, -v p="$1" -v im="$2" -v m="$3_rc" '$1 == p && $2 == im && $4 == m { c[$5]++ }
		END { for (k in c) { printf "%s%s x%d", s, k, c[k]; s = ", " } }' "$RES"
}
val() { awk -F, -v p="$1" -v im="$2" -v r="$3" -v m="$4" '$1 == p && $2 == im && $3 == r && $4 == m { print $5 }' "$RES"; }
msval() { # PART IMAGE METRIC: cell in milliseconds
	local s
	s=$(stats "$1" "$2" "$3")
	[ -n "$s" ] || { echo "n/a"; return; }
	set -- $s
	awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { printf "%.1f (%.1f-%.1f)", a * 1000, b * 1000, c * 1000 }'
}

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
markdown() {
	local im
	echo "Command: \`$CMDLINE\` ($(date -u +%Y-%m-%dT%H:%MZ), benchmark phase ${T_BENCH}s)"
	echo
	echo "Machine: $(nproc) CPUs ($CPU), kernel $(uname -r), $TMPFS_BASE: tmpfs, RAM $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 2^20 }' /proc/meminfo); chunkfs: $CFS_VERSION; CPUs $idle% idle just before the start, load average $LOAD_START at the start, $LOAD_END at the end"
	echo
	if [ -n "$IMAGES" ]; then
	echo "Mount time after a crash ($BUSY s of the workload, then kill -9) and after a clean unmount, same image, alternating; $RUNS cycles + 1 warm-up per image:"
	echo
	echo "| image | chunks | mkfs [s] | mount after crash [ms] | mount after clean unmount [ms] | crash/clean | commits seen | chunks committed in the run | chunks in the last commit map (replayed) | chunks not clean | fsck -n after the crash [ms] | fsck -n exit |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
	for im in $IMAGES; do
		local a b
		a=$(stats p1 "$im" mount_crash); b=$(stats p1 "$im" mount_clean)
		echo "| ${im%/*}, ${im#*/} chunks | $(val p1 "$im" 0 nchunks) | $(val p1 "$im" 0 mkfs_s | awk '{ printf "%.2f", $1 }') | $(msval p1 "$im" mount_crash) | $(msval p1 "$im" mount_clean) | $(awk -v a="${a%% *}" -v b="${b%% *}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }') | $(cell p1 "$im" commits %d) | $(cell p1 "$im" committed %d) | $(cell p1 "$im" map %d) | $(cell p1 "$im" notclean %d) | $(msval p1 "$im" fsck_n) | $(rcs p1 "$im" fsck_n) |"
	done
	echo
	fi
	echo "Crashes at random moments: $P2_IMAGE ($(nchunks_of "$P2_IMAGE") chunks), $CRASHES crashes after 2-8 s of the workload each (the image keeps its files):"
	echo
	echo "| measure | median (min-max) over $CRASHES crashes |"
	echo "| --- | ---: |"
	echo "| workload time before the crash [s] | $(cell p2 "$P2_IMAGE" busy_s %.1f) |"
	echo "| workload operations | $(cell p2 "$P2_IMAGE" ops %d) |"
	echo "| chunks of the workload's new inodes | $(cell p2 "$P2_IMAGE" touched %d) |"
	echo "| commits seen during the run | $(cell p2 "$P2_IMAGE" commits %d) |"
	echo "| chunks committed during the run (union of the commit maps seen) | $(cell p2 "$P2_IMAGE" committed %d) |"
	echo "| chunks in the commit map (replayed at mount) | $(cell p2 "$P2_IMAGE" map %d) |"
	echo "| chunks not clean after the crash | $(cell p2 "$P2_IMAGE" notclean %d) |"
	echo "| fsck.chunkfs -n (default: the chunks not clean) [ms] | $(msval p2 "$P2_IMAGE" fsck_n) |"
	echo "| fsck.chunkfs -fn (every chunk) [ms] | $(msval p2 "$P2_IMAGE" fsck_fn) |"
	[ "$PREEN" = 1 ] && echo "| fsck.chunkfs -p (default mode, preen) [ms] | $(msval p2 "$P2_IMAGE" fsck_p) |" &&
		echo "| chunks not clean after fsck -p | $(cell p2 "$P2_IMAGE" notclean_after_p %d) |"
	echo "| mount after the crash [ms] | $(msval p2 "$P2_IMAGE" mount_crash) |"
	echo
	echo "fsck.chunkfs exit statuses on the crashed images: -n: $(rcs p2 "$P2_IMAGE" fsck_n); -fn: $(rcs p2 "$P2_IMAGE" fsck_fn); -p: $(rcs p2 "$P2_IMAGE" fsck_p); -fn at the end (after the last replay and clean unmount): $(rcs p2 "$P2_IMAGE" fsck_end).  Per crash (busy s/ops/chunks of new inodes/chunks committed/last map/not clean): $(awk -F, -v im="$P2_IMAGE" '$1 == "p2" && $2 == im { v[$3 "," $4] = $5; if ($3 + 0 > n) n = $3 + 0 }
		END { for (i = 1; i <= n; i++) { printf "%s%s/%s/%s/%s/%s/%s", s, v[i ",busy_s"], v[i ",ops"], v[i ",touched"], v[i ",committed"], v[i ",map"], v[i ",notclean"]; s = "; " } }' "$RES")."
}

echo
echo "== Markdown"
MD=$(markdown)
echo "$MD"
if [ -n "$OUT" ]; then
	echo "$MD" >"$OUT" || die "cannot write $OUT"
	log "Markdown report written to $OUT"
fi
if [ -n "$RAW" ]; then
	{ echo "part,image,run,metric,value"; cat "$RES"; } >"$RAW" || die "cannot write $RAW"
	log "raw results written to $RAW"
fi
exit 0
}
