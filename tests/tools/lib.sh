# Sourced by tests/tools/t_*.sh: common helpers.  Not a test itself.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CFS_BIN=${CFS_BIN:-$TOP/build/san/bin}
MKFS="$CFS_BIN/mkfs.chunkfs"
TOOL="$CFS_BIN/chunkfs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
W=$(mktemp -d /dev/shm/cfs-tools.XXXXXX) || exit 2
FAILS=0
BGPIDS=""
cleanup() {
	for p in $BGPIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	if [ -d "$W/mnt" ] && mountpoint -q "$W/mnt" 2>/dev/null; then
		fusermount3 -u "$W/mnt" 2>/dev/null || umount -l "$W/mnt" 2>/dev/null
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

for b in "$MKFS" "$TOOL"; do
	[ -x "$b" ] || { echo "FATAL: $b not built (make san)"; exit 1; }
done

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

# expect_fail DESC REGEX CMD...: CMD must exit non-zero, stderr+stdout must
# match REGEX (grep -Ei), and no sanitizer report may appear.
expect_fail() {
	desc=$1; re=$2; shift 2
	"$@" >"$W/out" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		fail "$desc: exit 0, expected failure"; sed 's/^/    /' "$W/out"; return
	fi
	if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$W/out"; then
		fail "$desc: sanitizer report"; sed 's/^/    /' "$W/out"; return
	fi
	if ! grep -q -E -i -- "$re" "$W/out"; then
		fail "$desc: message does not match /$re/"; sed 's/^/    /' "$W/out"; return
	fi
	ok "$desc (rc=$rc: $(head -n 1 "$W/out"))"
}

# expect_ok DESC CMD...: CMD must exit 0 with no sanitizer report.
expect_ok() {
	desc=$1; shift
	"$@" >"$W/out" 2>&1
	rc=$?
	if [ "$rc" != 0 ] || grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$W/out"; then
		fail "$desc: rc=$rc"; sed 's/^/    /' "$W/out"; return 1
	fi
	ok "$desc"
	return 0
}

# jget FILE EXPR: evaluate a python expression on the JSON in FILE (as j).
jget() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null || echo "(no JSON: $(head -c 200 "$1"))"
}

# check_eq DESC GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1 = $2"; else fail "$1: got '$2', want '$3'"; fi
}

# hold_lock FILE: hold an exclusive flock on FILE in the background, as a
# FUSE daemon serving the image would.
hold_lock() {
	python3 -c 'import fcntl,sys,time
f = open(sys.argv[1], "rb"); fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(300)' "$1" "$W/locked" &
	BGPIDS="$BGPIDS $!"
	n=0; while [ ! -e "$W/locked" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
	rm -f "$W/locked"
}
release_locks() {
	for p in $BGPIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	BGPIDS=""
}

# A FUSE mount for the tests that need one: they set FUSE (chunkfs-fuse),
# MNT (an empty directory) and PID="".
die() { fail "$@"; exit 1; }
mount_img() { # IMG [OPTS]: mount read-write with chunkfs-fuse, wait for it
	"$FUSE" -f ${2:+-o "$2"} "$1" "$MNT" >"$W/fuse.log" 2>&1 &
	PID=$!
	BGPIDS="$BGPIDS $PID"
	i=0
	until mountpoint -q "$MNT"; do
		kill -0 "$PID" 2>/dev/null ||
			die "chunkfs-fuse died: $(tail -5 "$W/fuse.log")"
		i=$((i + 1))
		[ $i -lt 300 ] || die "mount timed out"
		sleep 0.1
	done
}
umount_img() { # the daemon writes everything, exits 0, no sanitizer report
	fusermount3 -u "$MNT" || die "fusermount3 -u"
	wait "$PID" || die "chunkfs-fuse exit status $?: $(tail -5 "$W/fuse.log")"
	BGPIDS=""
	PID=""
	if grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$W/fuse.log"; then
		fail "sanitizer report in chunkfs-fuse"
	fi
}

finish() {
	if [ "$FAILS" != 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
	echo "all checks passed"; exit 0
}
