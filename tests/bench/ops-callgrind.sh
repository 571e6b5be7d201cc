#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/bench/ops-callgrind.sh - the instructions the FUSE daemon executes
# (its user space: libfuse and the library) per create, rename into
# another directory and unlink, under valgrind's callgrind, for images
# made with different mkfs options.  Counts do not depend on how busy the
# machine is, unlike times; they leave out the kernel's share of each
# request.  callgrind counts `rep stosb` (glibc's memset of large buffers)
# one instruction per byte, so memset is also shown apart and left out of
# the "rest" column, which is the figure to compare.
#
# The kernel sends lookups and getattrs as its caches' timeouts decide, so
# the daemon's total varies from run to run by some percent; with --lib
# only the library's own work for each operation is counted (inside
# cfs_mknod, cfs_rename and cfs_unlink: the same on every run).  With
# --keep DIR the callgrind files are kept in DIR/VARIANT/ (for
# callgrind_annotate).
#
#   tests/bench/ops-callgrind.sh [--files N] [--lib] [--keep DIR] VARIANT=MKFS_OPTS ...
#   e.g. tests/bench/ops-callgrind.sh pptr= nopptr=-O^pptr single="-m single"
#
# Default --files 1000.  Needs valgrind (Debian's valgrind package) and
# the programs made by `make`.  Prints one line per variant and phase.
set -u
cd "$(dirname "$0")/../.." || exit 2
N=1000 LIB= KEEP=
while [ $# -gt 0 ]; do
	case $1 in
	--files) N=$2; shift 2 ;;
	--lib) LIB="--toggle-collect=cfs_mknod --toggle-collect=cfs_rename --toggle-collect=cfs_unlink"; shift ;;
	--keep) KEEP=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { sed -n '3,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
	{ echo "ops-callgrind: valgrind missing (apt-get install valgrind)" >&2; exit 2; }
echo "ops-callgrind: $N files per phase${LIB:+ (library only)}; $(date -u +%FT%H:%MZ), $(git rev-parse --short HEAD 2>/dev/null)"
printf '%-10s %-7s %14s %14s %14s %10s\n' variant phase instructions memset rest rest/file
for a in "$@"; do
	v=${a%%=*} o=${a#*=}
	T=$(mktemp -d /dev/shm/ops-cg.XXXXXX) || exit 2
	# shellcheck disable=SC2086
	mkfs/mkfs.chunkfs -q $o "$T/i.img" 1G || { echo "mkfs.chunkfs $o failed" >&2; rm -rf "$T"; exit 1; }
	mkdir "$T/m"
	# shellcheck disable=SC2086
	valgrind --tool=callgrind --compress-strings=no $LIB --callgrind-out-file="$T/cg.out" fuse/chunkfs-fuse -f "$T/i.img" "$T/m" 2>"$T/vg.log" &
	VP=$!
	i=0; until mountpoint -q "$T/m" || [ $i -gt 300 ]; do sleep 0.2; i=$((i + 1)); done
	mountpoint -q "$T/m" || { cat "$T/vg.log"; echo "ops-callgrind: mount of $v failed" >&2; kill $VP; rm -rf "$T"; exit 1; }
	mkdir "$T/m/a" "$T/m/b"
	callgrind_control -z $VP >/dev/null 2>&1
	python3 -c "
import os, sys
for i in range($N):
    fd = os.open('$T/m/a/f%06d' % i, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b'x' * 4096); os.close(fd)"
	callgrind_control -d create $VP >/dev/null 2>&1
	python3 -c "
import os
for i in range($N): os.rename('$T/m/a/f%06d' % i, '$T/m/b/f%06d' % i)"
	callgrind_control -d rename $VP >/dev/null 2>&1
	python3 -c "
import os
for i in range($N): os.unlink('$T/m/b/f%06d' % i)"
	callgrind_control -d unlink $VP >/dev/null 2>&1
	fusermount3 -u "$T/m"; wait $VP
	for f in "$T"/cg.out.[0-9]*; do
		ph=$(sed -n 's/^desc: Trigger: Client Request: //p; s/^desc: Trigger: //p' "$f" | head -n 1 | awk '{print $NF}')
		case $ph in create|rename|unlink) ;; *) continue ;; esac
		tot=$(sed -n 's/^summary: //p' "$f")
		ms=$(callgrind_annotate --inclusive=yes "$f" 2>/dev/null | grep 'memset.*erms' | head -n 1 | awk '{print $1}' | tr -d ,)
		ms=${ms:-0}
		printf '%-10s %-7s %14s %14s %14s %10s\n' "$v" "$ph" "$tot" "$ms" $((tot - ms)) $(((tot - ms) / N))
	done
	[ -z "$KEEP" ] || { mkdir -p "$KEEP/$v" && cp "$T"/cg.out.[0-9]* "$KEEP/$v/"; }
	rm -rf "$T"
done
