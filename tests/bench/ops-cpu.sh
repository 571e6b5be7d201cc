#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/ops-cpu.sh - what a format variant costs the FUSE daemon in
# CPU time per metadata operation: create (4 KiB files), rename into
# another directory, unlink, N of each, on chunkfs-fuse mounts of images
# made with different mkfs options, the variants alternating round by
# round after a warm-up round.  The daemon's CPU time (all its threads,
# /proc/PID/stat) is counted around each phase: on a machine whose CPUs
# other jobs keep busy, wall-clock rates swing 2-3x from run to run, the
# work the daemon does for an operation much less.
#
# A benchmark, not a test: it prints numbers and exits 0 unless it could
# not run.  As root, from the repository (programs made by `make`):
#
#   tests/bench/ops-cpu.sh [--files N] [--rounds R] VARIANT=MKFS_OPTS ...
#
# e.g.  tests/bench/ops-cpu.sh pptr= nopptr=-O^pptr
#       tests/bench/ops-cpu.sh dup= single="-m single"
# The first variant is the one compared (ratios: its CPU time over each
# other's; above 1 it costs more).  Defaults: --files 10000 --rounds 7.
set -u
cd "$(dirname "$0")/../.." || exit 2
N=10000 R=7
while [ $# -gt 0 ]; do
	case $1 in
	--files) N=$2; shift 2 ;;
	--rounds) R=$2; shift 2 ;;
	-h|--help) sed -n '3,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*=*) break ;;
	*) echo "ops-cpu: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ $# -ge 2 ] || { echo "ops-cpu: give two or more VARIANT=MKFS_OPTS" >&2; exit 2; }
for p in mkfs/mkfs.chunkfs fuse/chunkfs-fuse; do [ -x $p ] || { echo "ops-cpu: $p missing (make)" >&2; exit 2; }; done
T=$(mktemp -d /dev/shm/ops-cpu.XXXXXX) || exit 2
names=""
cleanup() {
	for v in $names; do
		mountpoint -q "$T/m-$v" && fusermount3 -u "$T/m-$v"
	done
	sleep 1
	rm -rf "$T"
}
trap cleanup EXIT
for a in "$@"; do
	v=${a%%=*} o=${a#*=}
	names="$names $v"
	# shellcheck disable=SC2086
	mkfs/mkfs.chunkfs -q $o "$T/$v.img" 1G || { echo "ops-cpu: mkfs.chunkfs $o failed" >&2; exit 1; }
	mkdir -p "$T/m-$v"
	fuse/chunkfs-fuse "$T/$v.img" "$T/m-$v" || { echo "ops-cpu: mount of $v failed" >&2; exit 1; }
done
echo "ops-cpu: $N files per phase, $R rounds after a warm-up; variants:$names;" \
	"$(date -u +%FT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null), load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$T" "$N" "$R" $names <<'PY'
import os, statistics as st, subprocess, sys
T, N, R, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
tck = os.sysconf('SC_CLK_TCK')
pid = {v: int(subprocess.check_output(
    ['pgrep', '-f', 'chunkfs-fuse %s/%s.img' % (T, v)]).split()[0]) for v in names}
def cpu(p):
    f = open('/proc/%d/stat' % p).read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / tck
phases = ['create', 'rename', 'unlink']
res = {v: {p: [] for p in phases} for v in names}
buf = b'x' * 4096
for r in range(R + 1):
    for v in names[r % len(names):] + names[:r % len(names)]:
        m = T + '/m-' + v
        a, b = m + '/a', m + '/b'
        os.mkdir(a); os.mkdir(b)
        c = [cpu(pid[v])]
        for i in range(N):
            fd = os.open('%s/f%06d' % (a, i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, buf); os.close(fd)
        c.append(cpu(pid[v]))
        for i in range(N):
            os.rename('%s/f%06d' % (a, i), '%s/f%06d' % (b, i))
        c.append(cpu(pid[v]))
        for i in range(N):
            os.unlink('%s/f%06d' % (b, i))
        c.append(cpu(pid[v]))
        os.rmdir(a); os.rmdir(b); os.sync()
        if r:
            for k, p in enumerate(phases):
                res[v][p].append(c[k + 1] - c[k])
print('| phase (%d files) | ' % N + ' | '.join('%s: daemon CPU s' % v for v in names) +
      ' | ' + ' | '.join('%s/%s' % (names[0], v) for v in names[1:]) + ' |')
print('|---' * (2 * len(names)) + '|')
for p in phases:
    med = {v: st.median(res[v][p]) for v in names}
    cells = ['%.2f (%.2f-%.2f)' % (med[v], min(res[v][p]), max(res[v][p])) for v in names]
    rat = ['%.2f' % (med[names[0]] / med[v]) if med[v] else '-' for v in names[1:]]
    print('| %s | %s | %s |' % (p, ' | '.join(cells), ' | '.join(rat)))
PY
