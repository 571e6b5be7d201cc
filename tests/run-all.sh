#!/bin/sh
# Runs every test of the project; prints one line per test and a summary.
# Exits non-zero if any test failed.  Uses the sanitised build (build/san).
cd "$(dirname "$0")/.." || exit 2
export CFS_BIN="${CFS_BIN:-$PWD/build/san/bin}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
LOG=build/test-logs
rm -rf "$LOG"; mkdir -p "$LOG"
pass=0; fail=0; failed=""; skip=0; skipped=""
run() { # name command...  (exit 77: skipped, e.g. not root; not a pass)
	name=$1; shift
	start=$(date +%s)
	"$@" >"$LOG/$name.log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		pass=$((pass + 1)); echo "PASS $name ($(( $(date +%s) - start ))s)"
	elif [ $rc = 77 ]; then
		skip=$((skip + 1)); skipped="$skipped $name"
		echo "SKIP $name: $(grep NOTE "$LOG/$name.log" | tail -n 1)"
	else
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s) -- last lines of $LOG/$name.log:"
		tail -n 25 "$LOG/$name.log" | sed 's/^/    /'
	fi
}
run freestanding make -s freestanding
for t in build/san/bin/test_*; do
	[ -x "$t" ] || continue
	run "unit-$(basename "$t")" "$t"
done
for t in tests/fuse/t_*.sh; do
	[ -f "$t" ] || continue
	run "fuse-$(basename "$t" .sh)" sh "$t"
done
for t in tests/tools/t_*.sh; do
	[ -f "$t" ] || continue
	run "tools-$(basename "$t" .sh)" sh "$t"
done
run fsck-corpus sh tests/fsck/run.sh
# the kernel module in a qemu VM (builds kmod/chunkfs.ko; tests/kmod/run.sh)
run kmod sh tests/kmod/run.sh
echo
[ -n "$failed" ] && echo "failed:$failed"
[ -n "$skipped" ] && echo "skipped (not run in full: run the tests as root):$skipped"
echo "$pass passed, $fail failed${skipped:+, $skip skipped}"
[ "$fail" = 0 ] && [ "$skip" = 0 ]
