#!/bin/sh
# make install: programs, man pages and the mount helper land under
# DESTDIR/PREFIX (helper in DESTDIR/sbin); the installed mkfs works, the
# man pages are valid roff, `chunkfs help X` is X --help, no stale words
# (issue 17), and the installed helper finds the installed chunkfs-fuse.
set -eu
cd "$(dirname "$0")/../.."
D=$(mktemp -d /dev/shm/cfs-install.XXXXXX)
trap 'if mountpoint -q "$D/mnt" 2>/dev/null; then fusermount3 -u "$D/mnt"; sleep 1; fi; rm -rf "$D"' EXIT
make -s install DESTDIR="$D" PREFIX=/usr/local >/dev/null
for f in usr/local/sbin/mkfs.chunkfs usr/local/bin/chunkfs-fuse \
	 usr/local/sbin/chunkfs sbin/mount.fuse.chunkfs \
	 usr/local/share/man/man8/mkfs.chunkfs.8 \
	 usr/local/share/man/man8/chunkfs-fuse.8 \
	 usr/local/share/man/man8/chunkfs.8; do
	[ -f "$D/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
"$D/usr/local/sbin/mkfs.chunkfs" -q -C 4M "$D/img" 16M
"$D/usr/local/sbin/chunkfs" stat --json "$D/img" | grep -q '"files": 0' || {
	echo "FAIL: installed chunkfs stat"; exit 1; }
for m in "$D"/usr/local/share/man/man8/*.8; do
	w=$(LC_ALL=C MANWIDTH=80 man -l --warnings "$m" 2>&1 >/dev/null)
	[ -z "$w" ] || { echo "FAIL: $m: $w"; exit 1; }
done
# Words that must stay true (issue 17): `chunkfs help X` is X's own --help
# (every option), a bad option value is named, the documents do not
# promise what is done or describe what is not.
T="$D/usr/local/sbin/chunkfs"
for c in stat inject scrub status events cref age problems probe tune paths; do
	"$T" help "$c" >"$D/h1" 2>&1 && "$T" "$c" --help >"$D/h2" 2>&1 &&
		cmp -s "$D/h1" "$D/h2" || { echo "FAIL: chunkfs help $c is not $c --help"; exit 1; }
done
"$T" age "$D" --fill 200 2>&1 | grep -q -- "--fill" || { echo "FAIL: age --fill 200 does not name --fill"; exit 1; }
M8="$D/usr/local/share/man/man8"
if grep -n "module to come\|EUCLEAN" "$M8/chunkfs-fuse.8" ||
   grep -n "not yet set" docs/FORMAT.md; then
	echo "FAIL: stale words (above)"; exit 1
fi
grep -q "^\.I /sbin$" "$M8/chunkfs-fuse.8" || grep -q "^(MOUNT_HELPER_DIR), where$" "$M8/chunkfs-fuse.8" ||
	{ echo "FAIL: chunkfs-fuse(8) does not say the helper goes in /sbin"; exit 1; }
# The installed helper, called as mount(8) calls it, mounts the image with
# the installed chunkfs-fuse (found through PATH).
mkdir "$D/mnt"
PATH="$D/usr/local/bin:$PATH" "$D/sbin/mount.fuse.chunkfs" "$D/img" "$D/mnt" -o rw,noatime
mountpoint -q "$D/mnt" || { echo "FAIL: helper did not mount"; exit 1; }
grep -q "$D/mnt fuse\(blk\)\?.chunkfs" /proc/self/mounts || { echo "FAIL: not a fuse.chunkfs mount"; exit 1; }
echo hi > "$D/mnt/f"
fusermount3 -u "$D/mnt"
# the daemon releases the image lock only when it has written everything
i=0
until flock -n "$D/img" true; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "FAIL: daemon kept the image"; exit 1; }
	sleep 0.1
done
"$D/usr/local/sbin/chunkfs" stat --json "$D/img" | grep -q '"files": 1' || {
	echo "FAIL: file written through the helper's mount is missing"; exit 1; }
echo "install ok"
