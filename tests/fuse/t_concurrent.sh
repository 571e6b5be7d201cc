#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Concurrency: three exercisers at once, each in its own directory of one
# mount (4 MiB chunks, so they share chunks and continuations), each compared
# with its own tmpfs reference after every step; then a remount and a full
# comparison of every directory.  Seeds change per run (printed; set
# CFS_CONCURRENT_SEED to replay: the interleaving is not replayable, only
# the operations are).
. "$(dirname "$0")/lib.sh"

OPS=${CFS_CONCURRENT_OPS:-600}
SEED=${CFS_CONCURRENT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
EXERCISER=$REPO/tests/exerciser.py
echo "base seed: $SEED (replay the operations: CFS_CONCURRENT_SEED=$SEED sh $0)"

mkimg "$IMG" 512M -C 4M
mount_fs "$IMG" "$MNT"
pids=""
for w in 1 2 3; do
	mkdir -p "$MNT/w$w" "$T/ref$w"
	# xattr values within what a full 4 MiB chunk guarantees (t_exerciser.sh)
	"$PY" "$EXERCISER" --mount "$MNT/w$w" --ref "$T/ref$w" --seed $((SEED + w)) --ops "$OPS" \
		--xattr-max 5000 --full-every 10 >"$T/ex$w.log" 2>&1 &
	pids="$pids $!"
done
bad=""
w=0
for p in $pids; do
	w=$((w + 1))
	if ! wait "$p"; then
		bad="$bad w$w"
	fi
done
for w in 1 2 3; do
	echo "---- exerciser w$w (seed $((SEED + w))):"
	tail -n 30 "$T/ex$w.log"
done
[ -z "$bad" ] || fail "concurrent exercisers found mismatches in:$bad (base seed $SEED)"

note "remount and compare every directory"
remount_fs "$IMG" "$MNT"
for w in 1 2 3; do
	"$PY" "$EXERCISER" --mount "$MNT/w$w" --ref "$T/ref$w" --check-only ||
		PART_FAILS="$PART_FAILS
  - w$w differs from its reference after the remount (seed $((SEED + w)))"
done
umount_fs "$MNT"
if is_chunkfs; then
	"$CFS_BIN/chunkfs" stat --json "$IMG" >"$T/stat.json" || fail "chunkfs stat --json failed"
	echo "chunkfs stat: files=$(cfs_stat "$IMG" files) continuations=$(cfs_stat "$IMG" continuations) cross_chunk_links=$(cfs_stat "$IMG" cross_chunk_links)"
fi
finish
