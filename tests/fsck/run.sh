#!/bin/sh
# The fsck image-test corpus: one directory per case under tests/fsck/.
#   image.sh IMAGE  builds a damaged image (deterministically)
#   args            the fsck arguments of the first run (e.g. -f, --chunk 3)
#                   when they name no chunk; a case whose damage lies in a
#                   chunk that placement chose has image.sh write them to
#                   IMAGE.args instead (lib.sh fsck_args, the chunk found
#                   through the format: `where PATH`), which wins over args
#   expect.1        output of `fsck.chunkfs -y $(cat args) IMAGE`, then
#                   "exit: N"; N must be 1, or 4 for damage that cannot be
#                   fully repaired (0 for a case where nothing is wrong):
#                   image.sh then says why on a line starting "# exit N:"
#   expect.2        output of the second run, `fsck.chunkfs -fn IMAGE`,
#                   which must find nothing: exit 0 (except after an
#                   "exit 4" first run, where what is left is found again)
#   verify.sh IMAGE optional: more checks on the image after both runs
#                   (exit 0 if it is right)
# Usage: sh tests/fsck/run.sh [--update] [CASE...]
# Prints PASS/FAIL per case; exits 1 if any failed.  A case fails when its
# output differs from the expect files (diff -u shown), when a sanitizer
# reports, or when the exit codes break the rules above, even if the expect
# files record it (a checker bug the expect files show as it is now).
# --update rewrites the expect files from the current output (for a person
# updating them deliberately: read the new output before committing it).
# Output is normalised: the image path becomes IMAGE, timings "N s".
cd "$(dirname "$0")/../.." || exit 2
TOP=$PWD
export CFS_BIN="${CFS_BIN:-$TOP/build/san/bin}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
FSCK="$CFS_BIN/fsck.chunkfs"
for b in "$FSCK" "$CFS_BIN/mkfs.chunkfs" "$CFS_BIN/chunkfs"; do
	[ -x "$b" ] || { echo "FATAL: $b not built (make san)"; exit 2; }
done
update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
if [ $# = 0 ]; then
	set --
	for d in tests/fsck/*/; do
		[ -f "$d/image.sh" ] && set -- "$@" "$(basename "$d")"
	done
fi
T=$(mktemp -d /dev/shm/cfs-fsck.XXXXXX) || exit 2
trap 'rm -rf "$T"' EXIT
trap 'exit 2' INT TERM HUP

# norm FILE: the image path and timings
norm() {
	sed -e "s|$T/img|IMAGE|g" -e 's/[0-9][0-9]*\.[0-9][0-9]* s\b/N s/g' "$1"
}
sanitizer() {
	grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$@"
}

pass=0; failed=""
for c in "$@"; do
	c=${c%/}; c=${c#tests/fsck/}
	D=tests/fsck/$c
	why=""
	rm -rf "$T"/*
	if [ ! -f "$D/image.sh" ]; then
		why="no such case"
	elif ! sh "$D/image.sh" "$T/img" >"$T/image.log" 2>&1; then
		why="image.sh failed"; sed 's/^/    /' "$T/image.log" | tail -n 20
	elif sanitizer "$T/image.log"; then
		why="sanitizer report while building"; sed 's/^/    /' "$T/image.log"
	else
		if [ -f "$T/img.args" ]; then
			args=$(cat "$T/img.args")
		else
			args=$(cat "$D/args" 2>/dev/null)
		fi
		# shellcheck disable=SC2086 # args holds several words
		"$FSCK" -y $args "$T/img" >"$T/raw.1" 2>&1
		rc1=$?
		echo "exit: $rc1" >>"$T/raw.1"
		"$FSCK" -fn "$T/img" >"$T/raw.2" 2>&1
		rc2=$?
		echo "exit: $rc2" >>"$T/raw.2"
		norm "$T/raw.1" >"$T/out.1"
		norm "$T/raw.2" >"$T/out.2"
		if sanitizer "$T/raw.1" "$T/raw.2"; then
			why="sanitizer report"
			cat "$T/raw.1" "$T/raw.2" | sed 's/^/    /' | head -n 60
		fi
		if [ $update = 1 ]; then
			cp "$T/out.1" "$D/expect.1"
			cp "$T/out.2" "$D/expect.2"
		fi
		for n in 1 2; do
			if ! diff -u "$D/expect.$n" "$T/out.$n" >"$T/diff" 2>&1; then
				why="${why:+$why; }output $n differs"
				sed 's/^/    /' "$T/diff"
			fi
		done
		want1=$(sed -n 's/^# exit \([0-9]\):.*/\1/p' "$D/image.sh" | head -n 1)
		want1=${want1:-1}
		[ "$rc1" = "$want1" ] ||
			why="${why:+$why; }first run exit $rc1, want $want1"
		[ "$rc2" = 0 ] || [ "$want1" = 4 ] ||
			why="${why:+$why; }second run (-fn) exit $rc2, want 0"
		if [ -f "$D/verify.sh" ] &&
		   ! sh "$D/verify.sh" "$T/img" >"$T/verify.log" 2>&1; then
			why="${why:+$why; }verify.sh failed"
			sed 's/^/    /' "$T/verify.log"
		fi
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1)); echo "PASS $c"
	else
		failed="$failed $c"; echo "FAIL $c: $why"
	fi
done
nf=$(echo $failed | wc -w)
echo "$pass passed, $nf failed${failed:+:$failed}"
[ "$nf" = 0 ]
