# SPDX-License-Identifier: GPL-2.0
# tests/bench/lib.sh - what the benchmark scripts share.  Sourced (bash),
# after the script has defined log().

# idle_pct: percent of CPU time idle (idle + iowait) over the next 5 s.
idle_pct() {
	local a b
	a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
	sleep 5
	b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
		d = y[2] - x[2]; if (d <= 0) d = 1
		printf "%.0f", 100 * (y[1] - x[1]) / d }'
}

# bench_wait_idle SECS: wait up to SECS seconds (0: not at all) for the CPUs
# to be >= 85% idle for 10 s in a row, saying so through log().  Sets idle
# (the last idle percentage seen) and T_WAIT (seconds waited).
bench_wait_idle() {
	local t0 ok=0
	t0=$(date +%s)
	if [ "$1" -gt 0 ]; then
		while :; do
			idle=$(idle_pct)
			if [ "$idle" -ge 85 ]; then
				ok=$((ok + 1))
				[ $ok -ge 2 ] && break	# 10 s in a row
				continue
			fi
			ok=0
			if [ $(( $(date +%s) - t0 )) -ge "$1" ]; then
				log "WARNING: CPUs only $idle% idle after waiting ${1}s; other jobs will skew the numbers"
				break
			fi
			log "CPUs $idle% idle (other jobs running); waiting for >= 85% (up to ${1}s)"
			sleep 7
		done
	else
		idle=$(idle_pct)
	fi
	T_WAIT=$(( $(date +%s) - t0 ))
}

# bench_build_rev REV DIR PROGS...: build PROGS (make targets) of git
# revision REV from `git archive REV` in DIR/src, the log in
# DIR/log/build.log.  Sets SRC (DIR/src) and REV_SHA.  Needs REPO, die()
# and log().
bench_build_rev() {
	local rev=$1 dir=$2
	shift 2
	REV_SHA=$(cd "$REPO" && git rev-parse --short "$rev^{commit}") || die "--rev $rev: no such revision"
	log "building chunkfs $rev ($REV_SHA) from git archive in $dir/src"
	mkdir -p "$dir/src" "$dir/log"
	(cd "$REPO" && git archive "$REV_SHA") | tar -x -C "$dir/src" || die "git archive $rev failed"
	make -C "$dir/src" -j"$(nproc)" "$@" >"$dir/log/build.log" 2>&1 ||
		{ tail -n 20 "$dir/log/build.log" >&2; die "chunkfs $rev does not build"; }
	SRC=$dir/src
}
