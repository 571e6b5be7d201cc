#!/bin/sh
# chunkfs inject: every kind of damage on an image with continuations, in
# format v2 with second copies (mkfs's default).  For each kind: exit 0, the
# output names the kind, only blocks of the named chunk change (and exactly
# the blocks the JSON reports), both copies of every block with two (the
# header kind: the primary only), the same seed makes the same change, and
# the damage is real: fsck -fn finds a problem (not only a bad copy), -fy
# repairs it, then -fn is clean.  Kinds that cannot apply fail cleanly
# without writing.  The same on format v1 (-O v1; stale does not apply) and
# on -m single (no second copies: --copy second refused).  Healing: --copy
# first or second damages one copy; fsck -fn counts one bad block copy and
# no problem (exit 4), -fy heals it (exit 1), then clean; through a FUSE
# mount the file reads back, a "corrected" event is shown, and the unmount
# leaves the copy rewritten.  Also: a locked image is refused, bad
# arguments, and the library survives damage to a chunk other than 0
# (chunkfs stat exits 0 or 1, no sanitizer report).  --list finds every
# metadata block, every copy: chunkfs tune -U (which retags the blocks the
# list names) leaves a clean filesystem.
. "$(dirname "$0")/lib.sh"
IMG=$W/img
SRC=$W/src
FSCK=$CFS_BIN/fsck.chunkfs

# ---- an image with continuations: 4 MiB chunks, a 9 MB file, a directory
# of 400 files (spreads over chunks), a few small things ----
mkdir -p "$SRC/d/sub1" "$SRC/d/sub2" "$SRC/e"
head -c 9000000 /dev/urandom >"$SRC/big"
i=1
while [ $i -le 400 ]; do
	echo "$i" >"$SRC/d/file_with_a_longish_name_$i"
	i=$((i + 1))
done
echo x >"$SRC/e/y"
ln -s /some/where "$SRC/lnk"
expect_ok "mkfs with continuations" "$MKFS" -q -C 4M -d "$SRC" "$IMG" 40M || { finish; }

expect_ok "stat --json" "$TOOL" stat --json "$IMG"
cp "$W/out" "$W/stat.json"
BS=$(jget "$W/stat.json" 'j["block_size"]')
CB=$(jget "$W/stat.json" 'j["chunk_size"] // j["block_size"]')
NCH=$(jget "$W/stat.json" 'j["nchunks"]')
check_eq "image has continuations" "$(jget "$W/stat.json" 'j["files_with_continuations"] >= 1 and j["directories_with_continuations"] >= 1')" True
TB=$(jget "$W/stat.json" 'j["total_blocks"]')

# blockdiff BEFORE AFTER CHUNK BS CB TB JSON [LIST]: the blocks that differ
# must all lie in CHUNK, there must be at least one, and they must be among
# the blocks the injector's JSON reports.  With LIST (inject --list --json
# of BEFORE's chunk), every changed block with a second copy must have it
# changed too.  Prints "ok N" or a reason.
cat >"$W/blockdiff.py" <<'EOF'
import hashlib, json, sys
before, after, chunk, bs, cb, tb, jpath = sys.argv[1:8]
lpath = sys.argv[8] if len(sys.argv) > 8 else None
chunk, bs, cb, tb = int(chunk), int(bs), int(cb), int(tb)
first = 2 + chunk * cb
end = min(first + cb, tb)
def sums(p):
    out = []
    with open(p, "rb") as f:
        while True:
            b = f.read(bs)
            if not b:
                return out
            out.append(hashlib.sha256(b).digest())
a, b = sums(before), sums(after)
if len(a) != len(b):
    print("image size changed"); sys.exit(0)
changed = [i for i in range(len(a)) if a[i] != b[i]]
if not changed:
    print("nothing changed"); sys.exit(0)
outside = [i for i in changed if not first <= i < end]
if outside:
    print("blocks outside chunk %d [%d,%d) changed: %s" % (chunk, first, end, outside[:10])); sys.exit(0)
rep = set(c["block"] for c in json.load(open(jpath))["changes"])
unrep = [i for i in changed if i not in rep]
if unrep:
    print("changed blocks not reported: %s (reported %s)" % (unrep[:10], sorted(rep)[:10])); sys.exit(0)
if lpath:
    other = {}
    for b in json.load(open(lpath))["blocks"]:
        o = b.get("second", b.get("first"))
        if o is not None:
            other[b["block"]] = b["block"] - b["local"] + o
    alone = [i for i in changed if i in other and other[i] not in changed]
    if alone:
        print("one copy changed, not the other: %s" % ["%d (copy %d)" % (i, other[i]) for i in alone[:10]]); sys.exit(0)
print("ok %d" % len(changed))
EOF

# real_damage IMG WHAT JSON: fsck -fn finds a problem that is not only a
# bad block copy (exit 4), -fy repairs it (exit 1), then -fn finds nothing.
# Damage to the primary chunk header alone (JSON: the only change is local
# 0) is a bad copy in format v2 (healed), a problem in v1.
real_damage() {
	hdr=$(jget "$3" '[c["local"] for c in j["changes"]] == [0]')
	"$FSCK" -fn "$1" >"$W/fsck.n" 2>&1; r1=$?
	np=$(grep ' -- not fixed$' "$W/fsck.n" | grep -c -v 'a copy of a metadata block is bad')
	nc=$(grep -c 'a copy of a metadata block is bad.* -- not healed' "$W/fsck.n")
	"$FSCK" -fy "$1" >"$W/fsck.y" 2>&1; r2=$?
	"$FSCK" -fn "$1" >"$W/fsck.n2" 2>&1; r3=$?
	if [ "$hdr" = True ]; then
		[ "$r1 $r2 $r3" = "4 1 0" ] && [ $((np + nc)) = 1 ]
	else
		[ "$r1 $r2 $r3" = "4 1 0" ] && [ "$np" -ge 1 ]
	fi
	if [ $? = 0 ] && sanity "$W/fsck.n" && sanity "$W/fsck.y"; then
		ok "$2: fsck -fn $r1 ($np problems, $nc bad copies), -fy $r2, -fn $r3"
	else
		fail "$2: fsck -fn $r1 ($np problems, $nc bad copies), -fy $r2, -fn $r3"
		sed 's/^/    /' "$W/fsck.n" "$W/fsck.y" "$W/fsck.n2" | grep -v ' 0 problems, 0 fixed$' | head -n 40
	fi
}

sanity() { # FILE: no sanitizer report in FILE
	! grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$1"
}

# try_kind KIND CHUNK [SEED]: inject on a fresh copy ($W/a), JSON to
# $W/a.json.  Returns the exit status.
try_kind() {
	cp "$IMG" "$W/a"
	"$TOOL" inject "$W/a" --chunk "$2" --what "$1" --seed "${3:-1}" --json \
		>"$W/a.json" 2>"$W/a.err"
	rc=$?
	if ! sanity "$W/a.err" || ! sanity "$W/a.json"; then
		fail "$1 chunk $2: sanitizer report"; sed 's/^/    /' "$W/a.err"
		return 2
	fi
	return $rc
}

# check_kind KIND CHUNK SEED: the full set of checks on one application.
check_kind() {
	kind=$1; c=$2; seed=$3
	try_kind "$kind" "$c" "$seed"
	rc=$?
	if [ $rc != 0 ]; then
		fail "$kind on chunk $c: rc=$rc"; sed 's/^/    /' "$W/a.err"; return
	fi
	# both copies of each block, but for the header kind (the primary)
	pairs=$W/list.$c
	"$TOOL" inject "$IMG" --chunk "$c" --list --json >"$pairs"
	[ "$(jget "$W/a.json" 'j["kind"]')" = header ] && pairs=
	res=$(python3 "$W/blockdiff.py" "$IMG" "$W/a" "$c" "$BS" "$CB" "$TB" "$W/a.json" $pairs)
	case $res in
	ok*) ok "$kind chunk $c seed $seed: $res block(s) changed, all in chunk $c and reported${pairs:+, both copies}" ;;
	*) fail "$kind chunk $c seed $seed: $res"; sed 's/^/    /' "$W/a.json" ;;
	esac
	if [ "$kind" = random ]; then
		check_eq "random: JSON requested" "$(jget "$W/a.json" 'j["requested"]')" random
		name="$(jget "$W/a.json" 'j["kind"]') (random)"
	else
		check_eq "$kind: JSON kind" "$(jget "$W/a.json" 'j["kind"]')" "$kind"
		name=$kind
	fi
	check_eq "$kind: JSON chunk/seed" "$(jget "$W/a.json" '(j["chunk"], j["seed"])')" "($c, $seed)"
	# text output, same seed, another copy: same lines, same bytes
	cp "$IMG" "$W/b"
	"$TOOL" inject "$W/b" --chunk "$c" --what "$kind" --seed "$seed" >"$W/b.txt" 2>&1
	rc=$?
	if [ $rc != 0 ] || ! sanity "$W/b.txt"; then
		fail "$kind text run: rc=$rc"; sed 's/^/    /' "$W/b.txt"; return
	fi
	if grep -q -F "chunk $c: $name: " "$W/b.txt" &&
	   [ "$(grep -c . "$W/b.txt")" = "$(jget "$W/a.json" 'len(j["changes"])')" ]; then
		ok "$kind: text output names the kind, one line per change"
	else
		fail "$kind: text output"; sed 's/^/    /' "$W/b.txt"
	fi
	if cmp -s "$W/a" "$W/b"; then
		ok "$kind: same seed, same damage"
	else
		fail "$kind: same seed gave different images"
	fi
	[ "$seed" = 1 ] && real_damage "$W/a" "$name" "$W/a.json"
}

# first_chunk KIND: the first chunk the kind applies to (or "none"); a chunk
# it does not apply to must give exit 1 with a message and no write.
first_chunk() {
	c=0
	while [ "$c" -lt "$NCH" ]; do
		try_kind "$1" "$c"
		rc=$?
		if [ $rc = 0 ]; then echo "$c"; return; fi
		if [ $rc != 1 ] || ! grep -q "chunk $c" "$W/a.err" ||
		   ! cmp -s "$IMG" "$W/a"; then
			echo "bad:$c:$rc:$(head -n 1 "$W/a.err")"; return
		fi
		c=$((c + 1))
	done
	echo none
}

for kind in zero-block flip-bits header inode forward-link back-link \
	    continuation dir-block free-maps inode-table stale misdirected \
	    random; do
	c=$(first_chunk "$kind")
	case $c in
	none) fail "$kind applies to no chunk"; continue ;;
	bad:*) fail "$kind: a chunk where it does not apply: $c"; continue ;;
	esac
	check_kind "$kind" "$c" 1
	check_kind "$kind" "$c" 7
done

# the kinds that need a structure, on a chunk with continuations (chunk 1
# holds a continuation of /big: a big file's second part goes to the chunk
# with the most free blocks, so any chunk but 0)
for kind in back-link continuation; do
	n=0; c=1
	while [ $c -lt "$NCH" ]; do
		try_kind "$kind" $c && n=$((n + 1))
		c=$((c + 1))
	done
	[ $n -ge 2 ] && ok "$kind applies to $n chunks" || fail "$kind applies to $n chunks, want >= 2"
done

# random names the kind it chose and still stays in the chunk
for s in 1 2 3 4 5 6; do
	try_kind random 3 "$s" || { fail "random seed $s: rc=$?"; continue; }
	k=$(jget "$W/a.json" 'j["kind"]')
	r=$(jget "$W/a.json" 'j["requested"]')
	res=$(python3 "$W/blockdiff.py" "$IMG" "$W/a" 3 "$BS" "$CB" "$TB" "$W/a.json")
	case "$r:$k:$res" in
	random:random:*) fail "random seed $s: kind not resolved" ;;
	random:*:ok*) ok "random seed $s -> $k ($res)" ;;
	*) fail "random seed $s: requested=$r kind=$k $res" ;;
	esac
done

# seeds differ (some of 5 seeds pick a different zero-block target)
for s in 1 2 3 4 5; do
	try_kind zero-block 3 "$s"
	jget "$W/a.json" '[c["block"] for c in j["changes"]]'
done | sort -u >"$W/targets"
[ "$(grep -c . "$W/targets")" -ge 2 ] && ok "seeds pick different targets" || fail "5 seeds, one target"

# a kind that does not apply: chunk 0 holds origins only (the root and
# /lost+found continue into the others), so no continuation; the last
# chunk holds only /lost+found's continuation, so no forward link
LAST=$((NCH - 1))
cp "$IMG" "$W/a"
expect_fail "back-link on a chunk without continuations" \
	"chunk 0 has no continuation to break" \
	"$TOOL" inject "$W/a" --chunk 0 --what back-link
cmp -s "$IMG" "$W/a" && ok "refused kind wrote nothing" || fail "refused kind wrote to the image"
expect_fail "forward-link on an empty chunk" "chunk $LAST has no forward link" \
	"$TOOL" inject "$W/a" --chunk "$LAST" --what forward-link
expect_fail "header twice" "already blank" sh -c \
	"'$TOOL' inject '$W/a' --chunk 2 --what header >/dev/null && '$TOOL' inject '$W/a' --chunk 2 --what header"

# --dry-run writes nothing but says what it would do
cp "$IMG" "$W/a"
expect_ok "dry run" "$TOOL" inject "$W/a" --chunk 3 --what inode-table --dry-run
grep -q 'dry run' "$W/out" || fail "dry run output"
cmp -s "$IMG" "$W/a" && ok "dry run wrote nothing" || fail "dry run wrote to the image"

# ---- damage to a chunk other than 0: the library mounts or fails
# cleanly (stat exits 0 or 1, never crashes) ----
for kind in header zero-block flip-bits; do
	for c in 1 3 4; do
		for s in 1 2 3 4; do
			try_kind "$kind" "$c" "$s" || { fail "$kind $c $s: rc=$?"; continue; }
			"$TOOL" stat "$W/a" / /big /d /e >"$W/probe" 2>&1
			rc=$?
			if [ $rc -gt 1 ] || ! sanity "$W/probe"; then
				fail "stat after $kind on chunk $c seed $s: rc=$rc"
				sed 's/^/    /' "$W/probe" | head -n 30
			else
				ok "stat after $kind on chunk $c seed $s: rc=$rc"
			fi
		done
	done
done
# every kind of metadata block of chunks 0, 3 and 4 (--list names them):
# zeroed, and with bits flipped, one at a time (for the tree nodes, the
# first three of each tree); the library must mount or fail cleanly
for c in 0 3 4; do
	expect_ok "list chunk $c" "$TOOL" inject "$IMG" --chunk "$c" --list --json
	python3 -c '
import json, sys
seen = {}
for b in json.load(open(sys.argv[1]))["blocks"]:
    w = b["what"].split(" (level")[0]
    if w.startswith("inode table block") and not w.startswith("inode table block 0 "):
        continue
    seen[w] = seen.get(w, 0) + 1
    if seen[w] <= 3:
        print(b["local"])' "$W/out" >"$W/targets.$c"
	n=0; bad=0
	for l in $(cat "$W/targets.$c"); do
		for kind in zero-block flip-bits; do
			cp "$IMG" "$W/a"
			if ! "$TOOL" inject "$W/a" --chunk "$c" --what "$kind" \
				--block "$l" >"$W/inj" 2>&1; then
				fail "$kind --block $l on chunk $c"; sed 's/^/    /' "$W/inj"
				continue
			fi
			"$TOOL" stat "$W/a" / /big /d /e >"$W/probe" 2>&1
			rc=$?
			n=$((n + 1))
			if [ $rc -gt 1 ] || ! sanity "$W/probe"; then
				bad=$((bad + 1))
				fail "stat after $(sed 's/^chunk [0-9]*: //' "$W/inj"): rc=$rc"
				grep -E -m 4 'runtime error|ERROR: AddressSanitizer|#[0-4] ' "$W/probe" | sed 's/^/    /'
			fi
		done
	done
	[ $bad = 0 ] && ok "chunk $c: $n damaged metadata blocks, stat never crashed"
done

# every metadata block is found, every copy: chunkfs tune -U rewrites the
# UUID of exactly the blocks --list names (tool_chunk_metadata); a block
# missed keeps the old UUID, and the check then finds it
tune_all() { # IMAGE DESC
	cp "$1" "$W/u"
	expect_ok "$2: tune -U" "$TOOL" tune -U random "$W/u"
	expect_ok "$2: fsck -fn after tune -U (no metadata block missed)" "$FSCK" -fn "$W/u"
	rm -f "$W/u"
}
tune_all "$IMG" "v2 dup"

# chunk 0 without a primary header, then without both: the injector still
# works (geometry from the superblock, layout recomputed)
cp "$IMG" "$W/c0"
expect_ok "header chunk 0" "$TOOL" inject "$W/c0" --chunk 0 --what header
dd if=/dev/zero of="$W/c0" bs="$BS" seek=$((2 + CB - 1)) count=1 conv=notrunc 2>/dev/null
expect_fail "stat on chunk 0 without headers" 'cannot mount' "$TOOL" stat "$W/c0"
for kind in zero-block flip-bits inode-table inode; do
	cp "$W/c0" "$W/a"
	expect_ok "$kind on chunk 0 without headers" "$TOOL" inject "$W/a" --chunk 0 --what "$kind" --json
	check_eq "$kind: header source" "$(jget "$W/out" 'j["header"]')" layout
done

# ---- format v1 (-O v1) and format v2 without second copies (-m single):
# every kind changes single blocks of its chunk and makes real damage;
# stale needs METAGEN; --copy second has nothing to damage ----
for fmt in v1 single; do
	case $fmt in v1) mo="-O v1" ;; *) mo="-m single" ;; esac
	# shellcheck disable=SC2086 # mo holds two words
	expect_ok "mkfs $mo" "$MKFS" -q $mo -C 4M -d "$SRC" "$W/img.$fmt" 40M || continue
	for kind in zero-block flip-bits inode forward-link back-link \
		    continuation dir-block free-maps inode-table stale \
		    misdirected; do
		c=0; applied=0
		while [ $c -lt "$NCH" ]; do
			cp "$W/img.$fmt" "$W/a"
			if "$TOOL" inject "$W/a" --chunk $c --what $kind --json \
				>"$W/a.json" 2>"$W/a.err"; then
				applied=1; break
			fi
			c=$((c + 1))
		done
		if [ "$fmt:$kind" = v1:stale ]; then
			if [ $applied = 0 ] && cmp -s "$W/img.$fmt" "$W/a" &&
			   grep -q 'no block generations' "$W/a.err"; then
				ok "v1: stale does not apply: $(cat "$W/a.err")"
			else
				fail "v1: stale: $(cat "$W/a.err")"
			fi
			continue
		fi
		[ $applied = 1 ] || { fail "$fmt: $kind applies to no chunk: $(cat "$W/a.err")"; continue; }
		sanity "$W/a.err" || fail "$fmt $kind: sanitizer report"
		res=$(python3 "$W/blockdiff.py" "$W/img.$fmt" "$W/a" "$c" "$BS" "$CB" "$TB" "$W/a.json")
		case $res in
		ok*) ok "$fmt $kind chunk $c: $res block(s) changed, all in chunk $c and reported" ;;
		*) fail "$fmt $kind chunk $c: $res"; sed 's/^/    /' "$W/a.json" ;;
		esac
		real_damage "$W/a" "$fmt $kind" "$W/a.json"
	done
	tune_all "$W/img.$fmt" "$fmt"
	cp "$W/img.$fmt" "$W/a"
	expect_fail "$fmt: --copy second of blocks with one copy" 'has one copy' \
		"$TOOL" inject "$W/a" --chunk 1 --what inode-table --copy second
	cmp -s "$W/img.$fmt" "$W/a" && ok "$fmt: refused --copy second wrote nothing" ||
		fail "$fmt: refused --copy second wrote to the image"
	# the header copy is a second copy in every format
	expect_ok "$fmt: header --copy second" "$TOOL" inject "$W/a" --chunk 1 --what header --copy second --json
	check_eq "$fmt: header --copy second zeroes the copy" \
		"$(jget "$W/out" '[c["local"] for c in j["changes"]]')" "[$((CB - 1))]"
done
rm -f "$W/img.v1" "$W/img.single"

# ---- healing (second copies): one copy damaged is a bad block copy, not
# a problem; fsck heals it; a mount reads the file and heals it too ----
"$TOOL" stat --json "$IMG" /big /d >"$W/paths.json" || fail "stat /big /d"
BIGC=$(jget "$W/paths.json" 'j["paths"][0]["chunk"]')
BIGL=$(jget "$W/paths.json" 'j["paths"][0]["local"]')
DC=$(jget "$W/paths.json" 'j["paths"][1]["chunk"]')
DL=$(jget "$W/paths.json" 'j["paths"][1]["local"]')
"$TOOL" inject "$IMG" --chunk "$BIGC" --list --json >"$W/list.big" || fail "list chunk $BIGC"
"$TOOL" inject "$IMG" --chunk "$DC" --list --json >"$W/list.d" || fail "list chunk $DC"
# the inode table block holding /big's inode (both copies), a directory
# tree node of /d (both copies)
read ITB ITB2 <<EOF
$(python3 -c '
import json, re, sys
want = int(sys.argv[2])
for b in json.load(open(sys.argv[1]))["blocks"]:
    m = re.match(r"inode table block \d+ of \d+, inodes (\d+)-(\d+)$", b["what"])
    if m and b["copy"] == 1 and int(m.group(1)) <= want <= int(m.group(2)):
        print(b["local"], b["second"]); break' "$W/list.big" "$BIGL")
EOF
read DN DN2 <<EOF
$(python3 -c '
import json, sys
for b in json.load(open(sys.argv[1]))["blocks"]:
    if b["what"].startswith("directory tree node of inode %s " % sys.argv[2]) and b["copy"] == 1:
        print(b["local"], b["second"]); break' "$W/list.d" "$DL")
EOF
[ -n "${ITB2:-}" ] && [ -n "${DN2:-}" ] || fail "no inode table block of /big or tree node of /d with two copies ($ITB $ITB2, $DN $DN2)"
FIRST_BIG=$((2 + BIGC * CB))
FIRST_D=$((2 + DC * CB))

# heal_case DESC CHUNK WANT_BLOCK INJECT-ARGS...: exactly WANT_BLOCK
# (absolute) changes; fsck -fn: one bad copy, no problem, exit 4; -fy heals
# it (exit 1); -fn clean; the header and the other copy untouched
heal_case() {
	desc=$1; hc=$2; want=$3; shift 3
	cp "$IMG" "$W/h"
	if ! "$TOOL" inject "$W/h" --chunk "$hc" "$@" --json >"$W/h.json" 2>"$W/h.err"; then
		fail "$desc: inject: $(cat "$W/h.err")"; return
	fi
	res=$(python3 "$W/blockdiff.py" "$IMG" "$W/h" "$hc" "$BS" "$CB" "$TB" "$W/h.json")
	check_eq "$desc: blocks changed" "$res $(jget "$W/h.json" '[c["block"] for c in j["changes"]]')" "ok 1 [$want]"
	"$FSCK" -fn "$W/h" >"$W/fsck.n" 2>&1; r1=$?
	"$FSCK" -fy "$W/h" >"$W/fsck.y" 2>&1; r2=$?
	"$FSCK" -fn "$W/h" >"$W/fsck.n2" 2>&1; r3=$?
	if [ "$r1 $r2 $r3" = "4 1 0" ] &&
	   grep -q ': [0-9]* chunks checked, 0 problems found, 0 fixed, 1 bad block copy (0 healed' "$W/fsck.n" &&
	   grep -q "^chunk $hc: block $want: a copy of a metadata block is bad .* -- not healed (read-only)$" "$W/fsck.n" &&
	   grep -q "^chunk $hc: block $want: a copy of a metadata block is bad .* -- healed$" "$W/fsck.y" &&
	   grep -q ': [0-9]* chunks checked, 0 problems found, 0 fixed, 1 bad block copy (1 healed' "$W/fsck.y" &&
	   sanity "$W/fsck.n" && sanity "$W/fsck.y"; then
		ok "$desc: fsck -fn: 1 bad copy, no problem, exit 4; -fy healed it, exit 1; then clean"
	else
		fail "$desc: fsck -fn $r1, -fy $r2, -fn $r3 (want 4 1 0, one bad copy at block $want)"
		sed 's/^/    /' "$W/fsck.n" "$W/fsck.y" | grep -v ' 0 problems, 0 fixed$' | head -n 30
	fi
	# (the repairing run may write the block again, with a new
	# generation: its crc and wgen aside)
	if python3 - "$IMG" "$W/h" "$want" "$BS" <<'EOF'; then
import sys
a, b, blk, bs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
x, y = [open(p, "rb").read()[blk * bs:(blk + 1) * bs] for p in (a, b)]
sys.exit(x[4:40] != y[4:40] or x[48:] != y[48:])
EOF
		ok "$desc: block $want holds what it held before the damage"
	else
		fail "$desc: block $want is not what it was before the damage"
	fi
}
heal_case "zero-block --copy first" "$BIGC" $((FIRST_BIG + ITB)) \
	--what zero-block --block "$ITB" --copy first
heal_case "flip-bits --copy second" "$BIGC" $((FIRST_BIG + ITB2)) \
	--what flip-bits --block "$ITB" --copy second
heal_case "stale --copy first (tree node)" "$DC" $((FIRST_D + DN)) \
	--what stale --block "$DN" --copy first
heal_case "misdirected --copy second (tree node)" "$DC" $((FIRST_D + DN2)) \
	--what misdirected --block "$DN2" --copy second
# --copy first on a structural kind: that copy is valid and differs from
# the other; the checker keeps the first copy (the damage) and rewrites
# the second: real damage again
cp "$IMG" "$W/a"
expect_ok "inode --copy first" "$TOOL" inject "$W/a" --chunk "$BIGC" --what inode --copy first --json
cp "$W/out" "$W/a.json"
check_eq "inode --copy first: one block" "$(jget "$W/a.json" 'len(j["changes"])')" 1
real_damage "$W/a" "inode --copy first" "$W/a.json"

# through a FUSE mount: /big's inode table block zeroed in its first copy;
# /big reads back, the mount says it healed a copy, and leaves it rewritten
cp "$IMG" "$W/h"
expect_ok "zero-block --copy first for the mount" "$TOOL" inject "$W/h" --chunk "$BIGC" \
	--what zero-block --block "$ITB" --copy first
mkdir -p "$W/mnt"
"$CFS_BIN/chunkfs-fuse" -f "$W/h" "$W/mnt" >"$W/fuse.log" 2>&1 &
FPID=$!
BGPIDS="$BGPIDS $FPID"
n=0
until mountpoint -q "$W/mnt" || [ $n -gt 100 ]; do
	kill -0 $FPID 2>/dev/null || break
	sleep 0.1; n=$((n + 1))
done
if mountpoint -q "$W/mnt"; then
	cmp "$SRC/big" "$W/mnt/big" && ok "mount: /big reads back through the healed inode table block" ||
		fail "mount: /big differs"
	"$TOOL" events "$W/mnt" >"$W/ev" 2>&1 || fail "chunkfs events: $(cat "$W/ev")"
	if grep -q " warning  *corrected  *chunk $BIGC block $ITB (inode table): healed from its copy; " "$W/ev"; then
		ok "mount: a corrected event names chunk $BIGC block $ITB"
	else
		fail "mount: no corrected event for chunk $BIGC block $ITB"; sed 's/^/    /' "$W/ev"
	fi
	grep -q ' error \| suspect ' "$W/ev" && { fail "mount: errors beside the corrected copy"; sed 's/^/    /' "$W/ev"; }
	fusermount3 -u "$W/mnt" || fail "fusermount3 -u"
	wait $FPID; st=$?
	[ $st = 0 ] || { fail "chunkfs-fuse exit $st"; sed 's/^/    /' "$W/fuse.log"; }
	sanity "$W/fuse.log" || { fail "chunkfs-fuse: sanitizer report"; sed 's/^/    /' "$W/fuse.log"; }
	expect_ok "mount healed the copy on disk: fsck -fn" "$FSCK" -fn "$W/h"
	grep -q '0 problems found, 0 fixed$\|0 problems found, 0 fixed (' "$W/out" ||
		{ fail "fsck after the mount: not clean"; sed 's/^/    /' "$W/out"; }
	grep -q 'bad block cop' "$W/out" && fail "fsck after the mount still finds a bad copy"
else
	fail "chunkfs-fuse did not mount"; sed 's/^/    /' "$W/fuse.log"
fi
BGPIDS=""

# ---- a locked (mounted) image is refused ----
cp "$IMG" "$W/a"
# -o: the lock is flock's own, so killing flock releases it
flock -o "$W/a" sleep 5 &
BGPIDS="$BGPIDS $!"
n=0
while flock -n "$W/a" true 2>/dev/null && [ $n -lt 100 ]; do
	sleep 0.05; n=$((n + 1))
done
expect_fail "locked image" 'in use by another process' \
	"$TOOL" inject "$W/a" --chunk 1 --what header
release_locks
cmp -s "$IMG" "$W/a" && ok "locked image untouched" || fail "locked image was written"
expect_ok "after the lock is gone" "$TOOL" inject "$W/a" --chunk 1 --what header

# ---- usage errors ----
cp "$IMG" "$W/a"
expect_fail "no arguments" 'no image' "$TOOL" inject
expect_fail "no --what" 'required' "$TOOL" inject "$W/a" --chunk 1
expect_fail "no --chunk" 'required' "$TOOL" inject "$W/a" --what header
expect_fail "unknown kind" "unknown kind 'bogus'" "$TOOL" inject "$W/a" --chunk 1 --what bogus
expect_fail "chunk out of range" 'out of range' "$TOOL" inject "$W/a" --chunk "$NCH" --what header
expect_fail "bad chunk number" 'bad chunk number' "$TOOL" inject "$W/a" --chunk x1 --what header
expect_fail "negative chunk" 'bad chunk number' "$TOOL" inject "$W/a" --chunk -1 --what header
expect_fail "bad seed" 'bad seed' "$TOOL" inject "$W/a" --chunk 1 --what header --seed 12abc
expect_fail "two images" 'one image only' "$TOOL" inject "$W/a" "$W/a" --chunk 1 --what header
expect_fail "--block on another kind" 'applies to zero-block, flip-bits, stale and misdirected' "$TOOL" inject "$W/a" --chunk 1 --what inode --block 3
expect_fail "bad --copy" "bad --copy 'third'" "$TOOL" inject "$W/a" --chunk 1 --what inode --copy third
expect_fail "--block outside the chunk" 'outside chunk 1' "$TOOL" inject "$W/a" --chunk 1 --what zero-block --block "$CB"
expect_fail "bad option" 'usage' "$TOOL" inject "$W/a" --chunk 1 --what header --bogus
expect_fail "missing image" 'cannot open' "$TOOL" inject "$W/nope" --chunk 0 --what header
head -c 8388608 /dev/zero >"$W/zero"
expect_fail "not a chunkfs image" 'no valid chunkfs superblock' \
	"$TOOL" inject "$W/zero" --chunk 0 --what header
cmp -s "$IMG" "$W/a" && ok "usage errors wrote nothing" || fail "a usage error wrote to the image"
expect_ok "help inject" "$TOOL" help inject
grep -q 'inject IMAGE --chunk N --what KIND' "$W/out" || fail "help inject usage"
expect_ok "inject --help" "$TOOL" inject --help
for k in zero-block flip-bits header inode forward-link back-link continuation \
	 dir-block free-maps inode-table stale misdirected random; do
	grep -q "^  $k " "$W/out" || fail "inject --help does not list $k"
done
grep -q -- '--copy first|second|both' "$W/out" || fail "inject --help does not name --copy"

finish
