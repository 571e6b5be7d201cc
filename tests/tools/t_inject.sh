#!/bin/sh
# chunkfs inject: every kind of damage on an image with continuations.  For
# each kind: exit 0, the output names the kind, only blocks of the named
# chunk change (and exactly the blocks the JSON reports), the same seed makes
# the same change; kinds that cannot apply fail cleanly without writing.
# Also: a locked image is refused, bad arguments, and the library survives
# damage to a chunk other than 0 (chunkfs stat exits 0 or 1, no sanitizer
# report).
. "$(dirname "$0")/lib.sh"
IMG=$W/img
SRC=$W/src

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

# blockdiff BEFORE AFTER CHUNK JSON: the blocks that differ must all lie in
# CHUNK, there must be at least one, and they must be among the blocks the
# injector's JSON reports.  Prints "ok N" or a reason.
cat >"$W/blockdiff.py" <<'EOF'
import hashlib, json, sys
before, after, chunk, bs, cb, tb, jpath = sys.argv[1:8]
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
print("ok %d" % len(changed))
EOF

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
	res=$(python3 "$W/blockdiff.py" "$IMG" "$W/a" "$c" "$BS" "$CB" "$TB" "$W/a.json")
	case $res in
	ok*) ok "$kind chunk $c seed $seed: $res block(s) changed, all in chunk $c and reported" ;;
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
	    continuation dir-block free-maps inode-table random; do
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
expect_fail "--block on another kind" 'applies to zero-block and flip-bits' "$TOOL" inject "$W/a" --chunk 1 --what inode --block 3
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
	 dir-block free-maps inode-table random; do
	grep -q "^  $k " "$W/out" || fail "inject --help does not list $k"
done

finish
