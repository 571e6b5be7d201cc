#!/bin/sh
# fsck.chunkfs -p (preen) does only what is safe without a person and
# stops at the first problem that needs a decision, as e2fsck's preen does:
# exit 4, UNEXPECTED INCONSISTENCY, and nothing that depends on that problem
# is touched (the name of an inode it would not clear stays, the bitmaps
# of blocks such an inode holds are not rewritten).
#   (a) the issue's case: one scrambled inode in a directory of 40 files;
#       preen reports it, stops, and a read-only check afterwards finds
#       exactly what it found before; -y then repairs it all.
#   (b) several seeds of inode damage and of random damage: whenever the
#       first problem a check reports needs -y, preen changes no problem
#       that a check reports (before and after are the same list).
#   (c) safe damage alone (the free maps) is still repaired by preen
#       (exit 1, then clean).
#   (d) fsck.chunkfs on a file that is not chunkfs says so and exits 8
#       without telling to run fsck.chunkfs.
#   (e) format v2: one bad copy of a metadata block (inject --copy first)
#       is healed by preen (exit 1), then clean; the same block damaged in
#       both copies is a problem preen leaves to -y (exit 4).
# (The image is format v2 with second copies, mkfs's default: the damage
# of (a)-(c) is made in both copies, so it is repaired, not healed.)
. "$(dirname "$0")/lib.sh"
FSCK=$CFS_BIN/fsck.chunkfs
IMG=$W/img

mkdir -p "$W/src/d"
i=0
while [ $i -lt 40 ]; do echo "$i" >"$W/src/d/f$i"; i=$((i + 1)); done
expect_ok "mkfs -d" "$MKFS" -q -C 4M -d "$W/src" "$IMG" 32M || finish
cp "$IMG" "$W/orig"

# problems IMG: the list a read-only full check reports (without timings)
problems() {
	"$FSCK" -fn "$1" 2>&1 | grep -E '^(chunk|superblock) [0-9]*:? ?.* -- ' |
		sed 's/ -- not fixed$//'
}

# ---- (a) ----
"$TOOL" inject "$IMG" --chunk 0 --what inode --seed 2 >/dev/null ||
	fail "inject --what inode --seed 2"
problems "$IMG" >"$W/before"
grep -q 'inode with impossible fields' "$W/before" ||
	fail "(a) the damage is not the expected one: $(cat "$W/before")"
"$FSCK" -fp "$IMG" >"$W/preen" 2>&1
rc=$?
check_eq "(a) preen exit status" "$rc" 4
grep -q 'UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY' "$W/preen" ||
	fail "(a) no UNEXPECTED INCONSISTENCY line"
grep -q 'preen stopped at the problem above' "$W/preen" ||
	fail "(a) preen does not say where it stopped"
if grep -E -- '-- fixed$' "$W/preen"; then
	fail "(a) preen fixed something after a problem that needs a decision"
	sed 's/^/    /' "$W/preen"
fi
problems "$IMG" >"$W/after"
if cmp -s "$W/before" "$W/after"; then
	ok "(a) preen left every problem as it was ($(wc -l <"$W/before") problems)"
else
	fail "(a) preen changed what a check finds"
	diff "$W/before" "$W/after" | sed 's/^/    /'
fi
"$FSCK" -fy "$IMG" >"$W/out" 2>&1
rc=$?
check_eq "(a) -y after the preen: errors corrected" "$rc" 1
expect_ok "(a) clean after -y" "$FSCK" -fn "$IMG"

# ---- (b) ----
halts=0
for what in inode random; do
	for seed in 1 2 3 4 5 6 7 8; do
		cp "$W/orig" "$IMG"
		"$TOOL" inject "$IMG" --chunk 0 --what "$what" --seed "$seed" \
			>/dev/null 2>&1 || continue
		"$FSCK" -fn "$IMG" >"$W/full" 2>&1
		first=$(grep -E ' -- not fixed$' "$W/full" | head -n 1)
		[ -n "$first" ] || continue
		# the problem's policy, by its description in `chunkfs problems`
		policy=$("$TOOL" problems | python3 -c '
import sys
line = sys.argv[1]
for l in sys.stdin.read().splitlines()[1:]:
    f = l.split(None, 3)
    if len(f) == 4 and (": " + f[3] + " [" in line or
                        ": " + f[3] + " -- " in line):
        print(f[2]); break' "$first")
		[ "$policy" = ask ] || continue
		halts=$((halts + 1))
		problems "$IMG" >"$W/before"
		"$FSCK" -fp "$IMG" >"$W/preen" 2>&1
		rc=$?
		[ "$rc" = 4 ] || fail "(b) $what seed $seed: preen exit $rc, want 4"
		problems "$IMG" >"$W/after"
		cmp -s "$W/before" "$W/after" || {
			fail "(b) $what seed $seed: preen acted beyond a problem that needs a decision"
			diff "$W/before" "$W/after" | sed 's/^/    /'
		}
	done
done
[ "$halts" -ge 3 ] || fail "(b) only $halts damaged images needed a decision"
ok "(b) $halts damaged images: preen stopped before acting on anything"

# ---- (c) ----
cp "$W/orig" "$IMG"
"$TOOL" inject "$IMG" --chunk 1 --what free-maps --seed 3 >/dev/null ||
	fail "inject free-maps"
"$FSCK" -fp "$IMG" >"$W/out" 2>&1
rc=$?
check_eq "(c) preen of safe damage: corrected" "$rc" 1
expect_ok "(c) clean after the preen" "$FSCK" -fn "$IMG"

# ---- (d) ----
head -c 4194304 /dev/zero >"$W/zero"
expect_fail "(d) not chunkfs" "not a chunkfs filesystem" "$FSCK" -n "$W/zero"
check_eq "(d) exit status" "$rc" 8
if grep -q 'run fsck.chunkfs' "$W/out"; then
	fail "(d) tells to run fsck.chunkfs on what is not chunkfs: $(cat "$W/out")"
fi

# ---- (e) ----
cp "$W/orig" "$IMG"
ITB=$("$TOOL" inject "$IMG" --chunk 0 --list --json | python3 -c '
import json, sys
for b in json.load(sys.stdin)["blocks"]:
    if b["what"].startswith("inode table block 0 ") and b["copy"] == 1:
        print(b["local"], b["second"]); break')
set -- $ITB
[ $# = 2 ] || fail "(e) no inode table block with two copies in chunk 0: '$ITB'"
"$TOOL" inject "$IMG" --chunk 0 --what zero-block --block "$1" --copy first >/dev/null ||
	fail "(e) inject --copy first"
"$FSCK" -fp "$IMG" >"$W/out" 2>&1
rc=$?
check_eq "(e) preen of one bad copy: healed" "$rc" 1
grep -q ": 8 chunks checked, 0 problems found, 0 fixed, 1 bad block copy (1 healed from the good copy)" "$W/out" ||
	{ fail "(e) preen does not say it healed a copy"; sed 's/^/    /' "$W/out"; }
expect_ok "(e) clean after the preen" "$FSCK" -fn "$IMG"
cp "$W/orig" "$IMG"
"$TOOL" inject "$IMG" --chunk 0 --what zero-block --block "$1" >/dev/null ||
	fail "(e) inject (both copies)"
"$FSCK" -fp "$IMG" >"$W/out" 2>&1
rc=$?
check_eq "(e) preen of both copies bad: needs -y" "$rc" 4
grep -q 'UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY' "$W/out" ||
	{ fail "(e) both copies: no UNEXPECTED INCONSISTENCY"; sed 's/^/    /' "$W/out"; }
finish
