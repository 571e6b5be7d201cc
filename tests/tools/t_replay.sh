#!/bin/sh
# Journal replay through the real programs (issue 4).  test_crash --dump
# writes an image cut just after a commit point (the superblock names a
# commit whose blocks are not yet in place) and a reference image where that
# commit's in-place writes are complete.  Then:
#   - fsck.chunkfs -n replays in memory only: it reports the replay, finds
#     nothing, and leaves the image byte-identical;
#   - the image mounts through FUSE (replay by the mount) and its tree is
#     the reference's, file by file, byte by byte;
#   - fsck.chunkfs -p (default mode: the chunks not marked clean) replays in
#     place and finds nothing; afterwards the superblock names nothing to
#     replay (fsck -fn reports no replay) and the tree is still the same.
. "$(dirname "$0")/lib.sh"
FSCK="$CFS_BIN/fsck.chunkfs"
FUSE="$CFS_BIN/chunkfs-fuse"
CRASH="$CFS_BIN/test_crash"
for b in "$FSCK" "$FUSE" "$CRASH"; do
	[ -x "$b" ] || { echo "FATAL: $b not built (make san)"; exit 1; }
done
IMG=$W/img
mkdir -p "$W/mnt"

expect_ok "test_crash --dump" "$CRASH" --dump "$IMG"
sed 's/^/    /' "$W/out"

# snapshot IMG OUT: mount, list every file with its size and sha1, unmount
snapshot() {
	"$FUSE" -f "$1" "$W/mnt" 2>"$W/daemon.log" &
	pid=$!
	n=0
	while ! mountpoint -q "$W/mnt"; do
		n=$((n + 1))
		if [ $n -gt 300 ] || ! kill -0 $pid 2>/dev/null; then
			cat "$W/daemon.log"; fail "mounting $1"; return 1
		fi
		sleep 0.1
	done
	(cd "$W/mnt" && find . -type f | sort | while read -r f; do
		printf '%s %s %s\n' "$f" "$(stat -c %s "$f")" "$(sha1sum <"$f" | cut -c1-40)"
	done) >"$2"
	fusermount3 -u "$W/mnt"
	wait $pid || fail "daemon exit status $? for $1"
}

cp "$IMG" "$W/orig"
expect_ok "fsck -n on the crashed image" "$FSCK" -n "$IMG"
sed 's/^/    /' "$W/out"
if grep -q "journal: the last commit replayed in [1-9][0-9]* chunks\{0,1\} .*in memory only" "$W/out"; then
	ok "fsck -n reports the replay, in memory"
else
	fail "fsck -n did not report a replay"
fi
if cmp -s "$IMG" "$W/orig"; then ok "fsck -n wrote nothing"; else fail "fsck -n changed the image"; fi

snapshot "$IMG.ref" "$W/ref.list"
cp "$W/orig" "$W/mounted"
snapshot "$W/mounted" "$W/mounted.list"
nfiles=$(wc -l <"$W/ref.list")
[ "$nfiles" -gt 10 ] || fail "the reference holds only $nfiles files"
if cmp -s "$W/ref.list" "$W/mounted.list"; then
	ok "replay by the mount gives the reference tree ($nfiles files)"
else
	fail "the tree after replay by the mount differs from the reference"
	diff "$W/ref.list" "$W/mounted.list" | head -20
fi

expect_ok "fsck -p on the crashed image" "$FSCK" -p "$IMG"
sed 's/^/    /' "$W/out"
grep -q "journal: the last commit replayed" "$W/out" && ! grep -q "in memory only" "$W/out" ||
	fail "fsck -p did not replay in place"
expect_ok "fsck -fn after the replay" "$FSCK" -fn "$IMG"
if grep -q "journal:" "$W/out"; then fail "a second replay after fsck -p"; else ok "nothing left to replay"; fi
snapshot "$IMG" "$W/fscked.list"
if cmp -s "$W/ref.list" "$W/fscked.list"; then
	ok "replay by fsck gives the reference tree"
else
	fail "the tree after fsck's replay differs from the reference"
	diff "$W/ref.list" "$W/fscked.list" | head -20
fi
# A damaged journal stops only its own chunk: break the descriptor of one
# chunk the superblock names; the image still mounts, that chunk is marked
# suspect, and fsck's default run repairs whatever that leaves.
cp "$W/orig" "$W/jbad"
k=$(python3 - "$W/jbad" <<'PY'
import struct, sys
f = open(sys.argv[1], "r+b")
bs = 4096
sb = f.read(bs)
group = struct.unpack_from("<Q", sb, 304)[0]
bits, off = struct.unpack_from("<II", sb, 312)
named = [k for k in range(bits) if sb[off + k // 8] >> (k % 8) & 1]
k = named[-1]
cb = struct.unpack_from("<I", sb, 64 + 16)[0]      # geom.chunk_blocks
start = 2 + k * cb
f.seek(start * bs)
hdr = f.read(bs)
jstart, jblocks = struct.unpack_from("<II", hdr, 312)
desc = start + jstart + (group % 2) * (jblocks // 2)
f.seek(desc * bs + 100)
b = f.read(1)
f.seek(desc * bs + 100)
f.write(bytes([b[0] ^ 0xff]))
print(k)
PY
)
[ -n "$k" ] || fail "could not damage a journal"
"$FUSE" -f "$W/jbad" "$W/mnt" 2>"$W/daemon.log" &
pid=$!
n=0
while ! mountpoint -q "$W/mnt" && kill -0 $pid 2>/dev/null && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
if mountpoint -q "$W/mnt"; then
	ok "mounts with chunk $k's journal damaged"
	ls -R "$W/mnt" >/dev/null || fail "tree unreadable with chunk $k's journal damaged"
	fusermount3 -u "$W/mnt"
else
	fail "did not mount with chunk $k's journal damaged"; cat "$W/daemon.log"
fi
wait $pid
grep -q "chunk $k: .*journal not replayed" "$W/daemon.log" &&
	ok "the daemon reported chunk $k's journal" || fail "no report of chunk $k's damaged journal"
"$TOOL" stat --json "$W/jbad" >"$W/stat.json" 2>&1
check_eq "state of chunk $k" "$(jget "$W/stat.json" "j['chunks'][$k]['state']")" suspect
"$FSCK" -y "$W/jbad" >"$W/out" 2>&1
rc=$?
sed 's/^/    /' "$W/out"
[ $rc -le 1 ] && ok "fsck -y repairs (exit $rc)" || fail "fsck -y exit $rc"
expect_ok "fsck -fn clean afterwards" "$FSCK" -fn "$W/jbad"
finish
