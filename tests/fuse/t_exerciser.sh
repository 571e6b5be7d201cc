#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs tests/exerciser.py (random operations on a chunkfs mount and on a
# tmpfs reference, compared after every step) on images with 4 MiB chunks,
# so that continuations are common: once with a fixed seed, once with a seed
# that changes per run (printed; set CFS_EXERCISER_SEED to replay it), each
# with remounts in the middle (the daemon's exit status is checked at every
# unmount) and a final check after one more remount; then fsck.chunkfs -fn
# of the image must be clean (parent pointers, format v2, through every
# namespace operation: issue 14), and no mount may have written a chunk in
# place for want of journal room (issue 16).
#   CFS_EXERCISER_OPS   operations per run (default 1500)
#   CFS_EXERCISER_REMOUNT_EVERY   steps between remounts (default OPS/3)
# Files touched by a step are hashed on both sides after every step; all
# files every 10 steps (--full-every 10: re-reading unchanged files through
# FUSE mostly reads the kernel's page cache) and after every remount.
. "$(dirname "$0")/lib.sh"

OPS=${CFS_EXERCISER_OPS:-1500}
# largest xattr value written (the exerciser's default is 65536)
# An inode's xattrs live in its own chunk (locality); a full chunk keeps a
# metadata reserve of 16 + 1/64 of its blocks, which guarantees values of a
# few KiB but not 64 KiB ones in a full 4 MiB chunk (docs/DESIGN.md, known
# limits).  The exercisers fill 4 MiB chunks, so they stay at 5000 bytes;
# t_ops covers 64 KiB values.
XATTR_MAX=${CFS_EXERCISER_XATTR_MAX:-5000}
REMOUNT_EVERY=${CFS_EXERCISER_REMOUNT_EVERY:-$((OPS / 3))}
FIXED_SEED=20261121
RANDOM_SEED=${CFS_EXERCISER_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
EXERCISER=$REPO/tests/exerciser.py

# The exerciser remounts through a shell command, which cannot wait(1) for a
# daemon the test shell started; so each daemon runs in a subshell that
# records its exit status in $T/status.N once it exits.
cat >"$T/mount.sh" <<EOF
#!/bin/sh
# mount.sh IMG DIR: start a foreground daemon in the background; record its
# exit status in $T/status.<n>; wait for the mount.
img=\$1 dir=\$2
n=\$(ls "$T"/started.* 2>/dev/null | wc -l)
n=\$((n + 1))
: >"$T/started.\$n"
echo "\$dir" >"$T/dir.\$n"
if [ "$CFS_TEST_BACKEND" = chunkfs ]; then
	( "$CFS_BIN/chunkfs-fuse" -f "\$img" "\$dir" >>"$T/daemon-x\$n.log" 2>&1; echo \$? >"$T/status.\$n" ) &
else
	( fuse2fs -f "\$img" "\$dir" -o fakeroot >>"$T/daemon-x\$n.log" 2>&1; echo \$? >"$T/status.\$n" ) &
fi
i=0
while ! mountpoint -q "\$dir"; do
	if [ -f "$T/status.\$n" ]; then
		echo "mount.sh: the daemon exited with status \$(cat "$T/status.\$n") before mounting" >&2
		cat "$T/daemon-x\$n.log" >&2
		exit 1
	fi
	i=\$((i + 1))
	[ \$i -gt 600 ] && { echo "mount.sh: timeout waiting for \$dir" >&2; exit 1; }
	sleep 0.1
done
EOF
cat >"$T/umount.sh" <<EOF
#!/bin/sh
# umount.sh DIR: unmount, wait for the daemon's exit status, require 0.
dir=\$1
n=\$(ls "$T"/started.* | wc -l)
[ "\$(cat "$T/dir.\$n")" = "\$dir" ] || { echo "umount.sh: \$dir is not the last mount" >&2; exit 1; }
i=0
until fusermount3 -u "\$dir"; do
	i=\$((i + 1)); [ \$i -gt 50 ] && exit 1; sleep 0.2
done
i=0
while [ ! -f "$T/status.\$n" ]; do
	i=\$((i + 1))
	[ \$i -gt 1200 ] && { echo "umount.sh: the daemon did not exit within 120 s" >&2; exit 1; }
	sleep 0.1
done
st=\$(cat "$T/status.\$n")
if [ "\$st" != 0 ]; then
	echo "umount.sh: the daemon exited with status \$st" >&2
	tail -n 60 "$T/daemon-x\$n.log" >&2
	exit 1
fi
EOF
cat >"$T/remount.sh" <<EOF
#!/bin/sh
sh "$T/umount.sh" "\$2" && sh "$T/mount.sh" "\$1" "\$2"
EOF

run_exerciser() { # TAG SEED
	tag=$1 seed=$2
	img=$T/img-$tag mnt=$T/mnt-$tag ref=$T/ref-$tag
	mkimg "$img" 512M -C 4M
	mkdir -p "$mnt" "$ref"
	add_cleanup "stop_holders '$img' '$mnt'"
	sh "$T/mount.sh" "$img" "$mnt" || fail "mounting $img failed"
	note "exerciser run '$tag': seed $seed, $OPS operations, remount every $REMOUNT_EVERY"
	if ! "$PY" "$EXERCISER" --mount "$mnt" --ref "$ref" --seed "$seed" --ops "$OPS" \
		--remount-cmd "sh $T/remount.sh $img $mnt" --remount-every "$REMOUNT_EVERY" --xattr-max "$XATTR_MAX" --full-every 10; then
		echo "To replay: $CFS_BIN/mkfs.chunkfs -q -C 4M IMG 512M; $CFS_BIN/chunkfs-fuse IMG MNT;"
		echo "  mkdir REF (on tmpfs); then run the exerciser line printed above with"
		echo "  --mount MNT --ref REF --remount-cmd 'fusermount3 -u MNT && sleep 1 && $CFS_BIN/chunkfs-fuse IMG MNT'"
		echo "  or: CFS_EXERCISER_SEED=$seed CFS_EXERCISER_OPS=$OPS CFS_EXERCISER_REMOUNT_EVERY=$REMOUNT_EVERY sh $0"
		fail "exerciser run '$tag' (seed $seed) found a mismatch"
	fi
	sh "$T/remount.sh" "$img" "$mnt" || fail "final remount of $img failed"
	"$PY" "$EXERCISER" --mount "$mnt" --ref "$ref" --check-only ||
		fail "exerciser run '$tag' (seed $seed): the trees differ after the final remount"
	sh "$T/umount.sh" "$mnt" || fail "unmounting $img failed"
	if is_chunkfs; then
		# no transaction outgrew its journal at any of the mounts
		# (issue 16: the daemon's unmount line says 0 in place)
		journal_fit "$T"/daemon-x*.log
		# every name's parent pointer and its backup (format v2) agree
		# with the entries, after every namespace operation the
		# exerciser made (issue 14): the checker's pass of its own
		"$CFS_BIN/fsck.chunkfs" -fn "$img" >"$T/fsck-$tag.out" 2>&1 ||
			{ tail -n 40 "$T/fsck-$tag.out"; fail "exerciser run '$tag' (seed $seed): fsck.chunkfs -fn found problems"; }
		"$CFS_BIN/chunkfs" stat --json "$img" >"$T/stat-$tag.json" || fail "chunkfs stat --json $img failed"
		"$PY" - "$T/stat-$tag.json" <<'EOF' || fail "chunkfs stat output unreadable"
import json, sys
d = json.load(open(sys.argv[1]))
print("chunkfs stat: " + ", ".join("%s=%s" % (k, d[k]) for k in
      ("files", "directories", "files_with_continuations", "continuations", "cross_chunk_links")))
EOF
	fi
	rm -rf "$ref"
}

run_exerciser fixed "$FIXED_SEED"
echo "random seed for this run: $RANDOM_SEED (replay: CFS_EXERCISER_SEED=$RANDOM_SEED sh $0)"
run_exerciser random "$RANDOM_SEED"
finish
