# SPDX-License-Identifier: GPL-2.0
# tests/fuse/lib.sh - shared helpers of the FUSE integration tests.
# Sourced (". lib.sh") by tests/fuse/t_*.sh, which run under plain sh.
#
#   CFS_BIN            directory holding mkfs.chunkfs, chunkfs-fuse, chunkfs
#                      (default: <repo>/build/san/bin)
#   CFS_TEST_BACKEND   "chunkfs" (default) or "fuse2fs": the latter only
#                      serves to debug the tests themselves (ext4 via fuse2fs);
#                      chunkfs-specific checks then print a note and are
#                      not run.
#
# Helpers:
#   fail MSG...            print "FAIL: MSG" and exit 1 (the trap cleans up)
#   note MSG...            print a progress line
#   mkimg IMG SIZE [mkfs options...]
#   mount_fs IMG DIR [OPTS]   start the daemon in the foreground (&), wait for
#                          the mount; fails if the daemon dies first
#   umount_fs DIR          fusermount3 -u, wait for the daemon, check status 0
#   remount_fs IMG DIR [OPTS]
#   py [ARGS...]           python3 reading its script from stdin, with
#                          cfs_util importable; fails the test on failure
#   py_as_nobody [ARGS...] the same as uid/gid 65534 (setpriv)
#   py_as UID GID GROUPS [ARGS...]  the same as UID/GID with supplementary
#                          GROUPS (comma-separated, "-" for none)
#   cfs_stat IMG KEY       a number from `chunkfs stat --json IMG`
#   journal_fit LOG...     no transaction written in place (daemon logs)
#   journal_live DIR [MIN] the same on a live mount (chunkfs stat DIR)
# Temp dir: $T (under /dev/shm, mode 0755), default image $T/img, mount
# point $T/mnt.

set -u

LIB_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$LIB_DIR/../.." && pwd)
: "${CFS_BIN:=$REPO/build/san/bin}"
CFS_TEST_BACKEND=${CFS_TEST_BACKEND:-chunkfs}
PY=${PY:-python3}
# The unprivileged user's python must be reachable by uid 65534
# (a pyenv shim under /root is not).
PY_NOBODY=/usr/bin/python3
[ -x "$PY_NOBODY" ] || PY_NOBODY=$(command -v python3)
NOBODY_UID=65534
NOBODY_GID=65534
TEST_NAME=$(basename "$0" .sh)

T=$(mktemp -d /dev/shm/cfs-"$TEST_NAME".XXXXXX) || { echo "FAIL: mktemp" >&2; exit 1; }
chmod 755 "$T"
IMG=$T/img
MNT=$T/mnt
MOUNTS=$T/.mounts          # lines "pid dir" of our running daemons
: >"$MOUNTS"
NDAEMON=0
# Python helper module, copied where uid 65534 can read it.
mkdir -p "$T/py"
cp "$LIB_DIR/cfs_util.py" "$T/py/" || { echo "FAIL: cannot copy cfs_util.py" >&2; exit 1; }
chmod -R a+rX "$T/py"
export PYTHONPATH="$T/py"
export PYTHONDONTWRITEBYTECODE=1

note() { echo "== $TEST_NAME: $*"; }
fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

# Print the logs of all daemons (used on failure).
dump_daemon_logs() {
	for l in "$T"/daemon-*.log; do
		[ -s "$l" ] || continue
		echo "---- $l (last 60 lines) ----" >&2
		tail -n 60 "$l" >&2
	done
}

_cleanup_hooks=""
# add_cleanup CMD: run CMD (a shell string) on exit, after our own daemons
# were unmounted and stopped.
add_cleanup() { _cleanup_hooks="$_cleanup_hooks
$1"; }

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	if [ "$rc" != 0 ]; then
		dump_daemon_logs
	fi
	# Unmount whatever is still mounted below $T, then stop our daemons.
	if [ -s "$MOUNTS" ]; then
		while read -r pid dir; do
			if mountpoint -q "$dir" 2>/dev/null; then
				fusermount3 -u "$dir" 2>/dev/null || fusermount3 -u -z "$dir" 2>/dev/null
			fi
			n=0
			while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do
				sleep 0.1; n=$((n + 1))
			done
			if kill -0 "$pid" 2>/dev/null; then
				echo "cleanup: daemon $pid still running, killing it" >&2
				kill -9 "$pid" 2>/dev/null
			fi
		done <"$MOUNTS"
	fi
	if [ -n "$_cleanup_hooks" ]; then
		eval "$_cleanup_hooks"
	fi
	for d in "$T"/*/; do
		mountpoint -q "$d" 2>/dev/null && fusermount3 -u -z "$d" 2>/dev/null
	done
	if [ "$rc" = 0 ]; then
		rm -rf "$T"
	else
		echo "($TEST_NAME failed with status $rc; removing $T)" >&2
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

need_programs() {
	[ "$CFS_TEST_BACKEND" = chunkfs ] || return 0
	for p in mkfs.chunkfs chunkfs-fuse chunkfs; do
		[ -x "$CFS_BIN/$p" ] || fail "$CFS_BIN/$p is missing (run make san)"
	done
}

is_chunkfs() { [ "$CFS_TEST_BACKEND" = chunkfs ]; }

# mkimg IMG SIZE [mkfs options: -b BS, -C CHUNK]
mkimg() {
	_img=$1; _size=$2; shift 2
	rm -f "$_img"
	if is_chunkfs; then
		"$CFS_BIN/mkfs.chunkfs" -q "$@" "$_img" "$_size" ||
			fail "mkfs.chunkfs -q $* $_img $_size failed"
	else
		_bs=4096
		while [ $# -gt 0 ]; do
			case $1 in -b) _bs=$2; shift ;; esac
			shift
		done
		mkfs.ext4 -q -F -I 256 -b "$_bs" "$_img" "$_size" 2>/dev/null || fail "mkfs.ext4 failed"
	fi
}

# wait_mounted DIR PID: poll up to 60 s; fail if the daemon died.
wait_mounted() {
	_n=0
	while ! mountpoint -q "$1"; do
		if ! kill -0 "$2" 2>/dev/null; then
			wait "$2"; _st=$?
			dump_daemon_logs
			fail "daemon (pid $2) exited with status $_st before $1 was mounted"
		fi
		_n=$((_n + 1))
		[ $_n -gt 600 ] && fail "timeout waiting for the mount on $1"
		sleep 0.1
	done
}

# mount_fs IMG DIR [OPTS]: sets DAEMON_PID
mount_fs() {
	_img=$1; _dir=$2; _opts=${3:-}
	mkdir -p "$_dir"
	mountpoint -q "$_dir" && fail "mount_fs: $_dir is already a mount point"
	NDAEMON=$((NDAEMON + 1))
	_log=$T/daemon-$NDAEMON.log
	if is_chunkfs; then
		if [ -n "$_opts" ]; then
			"$CFS_BIN/chunkfs-fuse" -f -o "$_opts" "$_img" "$_dir" >"$_log" 2>&1 &
		else
			"$CFS_BIN/chunkfs-fuse" -f "$_img" "$_dir" >"$_log" 2>&1 &
		fi
	else
		fuse2fs -f "$_img" "$_dir" -o "fakeroot${_opts:+,$_opts}" >"$_log" 2>&1 &
	fi
	DAEMON_PID=$!
	echo "$DAEMON_PID $_dir" >>"$MOUNTS"
	wait_mounted "$_dir" "$DAEMON_PID"
}

# umount_fs DIR: unmount, wait for the daemon, check its exit status.
umount_fs() {
	_dir=$1
	_pid=$(awk -v d="$_dir" '$2 == d { p = $1 } END { print p }' "$MOUNTS")
	[ -n "$_pid" ] || fail "umount_fs: no daemon known for $_dir"
	_n=0
	until fusermount3 -u "$_dir"; do
		_n=$((_n + 1))
		[ $_n -gt 50 ] && fail "fusermount3 -u $_dir keeps failing"
		sleep 0.2
	done
	wait "$_pid"; _st=$?
	awk -v p="$_pid" '$1 != p' "$MOUNTS" >"$MOUNTS.new" && mv "$MOUNTS.new" "$MOUNTS"
	if [ "$_st" != 0 ]; then
		dump_daemon_logs
		fail "daemon (pid $_pid) for $_dir exited with status $_st after unmount"
	fi
}

remount_fs() {
	umount_fs "$2"
	mount_fs "$@"
}

# py ARGS... <<'EOF' script EOF
py() {
	"$PY" - "$@" || fail "python check failed (see the traceback above)"
}
py_as_nobody() {
	setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups \
		"$PY_NOBODY" - "$@" || fail "python check as uid $NOBODY_UID failed (see above)"
}
# py_as UID GID GROUPS [ARGS...]: the same as UID/GID with the
# supplementary GROUPS ("-": none; else a comma-separated list)
py_as() {
	_u=$1; _g=$2; _gs=$3; shift 3
	if [ "$_gs" = - ]; then _gopt=--clear-groups; else _gopt=--groups=$_gs; fi
	setpriv --reuid="$_u" --regid="$_g" "$_gopt" "$PY_NOBODY" - "$@" ||
		fail "python check as uid $_u gid $_g groups $_gs failed (see above)"
}

# cfs_stat IMG KEY: one number from the JSON report (the image must not be
# mounted).
cfs_stat() {
	"$CFS_BIN/chunkfs" stat --json "$1" >"$T/stat.json" 2>"$T/stat.err" ||
		{ cat "$T/stat.err" >&2; fail "chunkfs stat --json $1 failed"; }
	"$PY" -c 'import json,sys; print(int(json.load(open(sys.argv[1]))[sys.argv[2]]))' \
		"$T/stat.json" "$2" || { cat "$T/stat.json" >&2; fail "no key $2 in chunkfs stat --json output"; }
}

need_programs

# snap_save DIR FILE / snap_check DIR FILE [WHAT]: record everything
# observable about a tree, later compare (persistence checks).
snap_save() {
	"$PY" -c 'import sys, cfs_util; cfs_util.save_snapshot(sys.argv[1], sys.argv[2])' "$1" "$2" ||
		fail "snapshot of $1 failed"
}
snap_check() {
	"$PY" -c 'import sys, cfs_util; cfs_util.check_snapshot(sys.argv[1], sys.argv[2], sys.argv[3])' \
		"$1" "$2" "${3:-after remount}" || fail "the tree in $1 differs from the snapshot ${3:-after remount}"
}
export CFS_TEST_BACKEND

# holder_pids FILE: pids of processes that have FILE open (a daemon started
# by the mount helper daemonizes, so we find it through the image).
holder_pids() {
	for _f in /proc/[0-9]*/fd/*; do
		if [ "$(readlink "$_f" 2>/dev/null)" = "$1" ]; then
			_p=${_f#/proc/}
			echo "${_p%%/*}"
		fi
	done | sort -u
}
# wait_released FILE: wait until no process has FILE open (60 s).
wait_released() {
	_n=0
	while [ -n "$(holder_pids "$1")" ]; do
		_n=$((_n + 1))
		[ $_n -gt 300 ] && fail "a process still holds $1 open 60 s after unmounting: $(holder_pids "$1")"
		sleep 0.2
	done
}
# install_sbin_helper FILE DEST: install FILE as DEST (a mount(8) helper in
# /sbin) for the duration of the test; whatever was there comes back.
install_sbin_helper() {
	_save=$T/saved-$(basename "$2")
	if [ -e "$2" ] || [ -L "$2" ]; then
		cp -a "$2" "$_save" || fail "cannot save the existing $2"
		add_cleanup "cp -a '$_save' '$2'"
	else
		add_cleanup "rm -f '$2'"
	fi
	install -m 755 "$1" "$2" || fail "cannot install $2"
}

# stop_holders FILE DIR: cleanup of a daemon we started through a helper.
stop_holders() {
	mountpoint -q "$2" 2>/dev/null && { fusermount3 -u "$2" 2>/dev/null || umount -l "$2" 2>/dev/null; }
	sleep 0.5
	for _p in $(holder_pids "$1"); do
		case $(cat /proc/"$_p"/comm 2>/dev/null) in
		chunkfs-fuse*|fuse2fs*) echo "cleanup: stopping daemon $_p" >&2; kill "$_p" ;;
		esac
	done
}

# journal_fit LOG...: every unmount the daemon logs recorded says that no
# chunk transaction outgrew its journal ("journal: C commits, S splits,
# 0 in place"; issue 16); at least one such line must be there.
journal_fit() {
	_n=0
	for _l in "$@"; do
		[ -f "$_l" ] || continue
		_n=$((_n + $(grep -c 'journal: [0-9]* commits, [0-9]* splits, [0-9]* in place' "$_l")))
		if grep 'journal: [0-9]* commits' "$_l" | grep -v ', 0 in place$' >&2; then
			fail "a transaction did not fit its journal (written in place): $_l"
		fi
	done
	[ "$_n" -gt 0 ] || fail "no journal line in the daemon logs ($*)"
	note "journal: $_n unmounts, no transaction written in place"
}

# journal_live DIR [MIN]: the same on a live mount, from `chunkfs stat
# --json DIR` (CHUNKFS_IOC_JOURNAL): no transaction written in place so
# far, at least MIN commits (0), and the text report says the same.
journal_live() {
	_jmin=${2:-0}
	"$CFS_BIN/chunkfs" stat --json "$1" >"$T/jlive.json" 2>"$T/jlive.err" ||
		{ cat "$T/jlive.err" >&2; fail "chunkfs stat --json $1 (a mount) failed"; }
	_jl=$("$PY" -c 'import json,sys; j=json.load(open(sys.argv[1]))["journal"]; print(j["commits"], j["splits"], j["in_place"])' \
		"$T/jlive.json") || { cat "$T/jlive.json" >&2; fail "no journal in chunkfs stat --json $1"; }
	set -- "$1" $_jl
	"$CFS_BIN/chunkfs" stat "$1" | grep -qx "Written in place: $4 (.*)" ||
		fail "chunkfs stat $1 does not say $4 in place"
	[ "$4" = 0 ] || fail "live mount: $4 transactions written in place ($2 commits, $3 splits)"
	[ "$2" -ge "$_jmin" ] || fail "live mount: $2 commits, expected at least $_jmin"
	note "live mount: $2 commits, $3 splits, 0 in place"
}

# py_part NAME [ARGS...] <<'EOF' ... EOF: like py, but a failure is recorded
# and the test goes on (so that one finding does not hide the others);
# finish reports all of them and fails.
PART_FAILS=""
py_part() {
	_name=$1; shift
	if ! "$PY" - "$@"; then
		echo "FAILED PART: $_name" >&2
		PART_FAILS="$PART_FAILS
  - $_name"
	fi
}
finish() {
	if [ -n "$PART_FAILS" ]; then
		fail "these parts failed (details above):$PART_FAILS"
	fi
	echo "PASS: $TEST_NAME"
}
