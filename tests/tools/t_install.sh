#!/bin/sh
# make install: programs, man pages and the mount helper land under
# DESTDIR/PREFIX (helper in DESTDIR/sbin); the installed mkfs works, the
# man pages are valid roff, and the installed helper finds the installed
# chunkfs-fuse.
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
