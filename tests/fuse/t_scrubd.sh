#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# chunkfs-scrubd against a real FUSE mount: it scrubs every chunk in turn,
# finds and repairs a chunk damaged under the running mount within one
# cycle of its configured interval, stops scrubbing while paused (damage
# made meanwhile stays unrepaired, no verified time changes) and repairs it
# after --resume, exits 0 on SIGTERM with its state saved, resumes from the
# saved next chunk after a restart (paused or not), yields to foreground
# I/O, runs one round with --once, refuses bad configurations and a second
# daemon; the filesystem is clean by fsck.chunkfs -fn at the end.
. "$(dirname "$0")/lib.sh"

SD=$CFS_BIN/chunkfs-scrubd
[ -x "$SD" ] || fail "$SD is missing (run make san)"
is_chunkfs || { echo "PASS: $TEST_NAME (chunkfs only; skipped)"; exit 0; }

CONF=$T/scrubd.conf
STATE=$T/state/scrubd.state
INTERVAL=1
PER_ROUND=2
cat >"$CONF" <<EOF
# test configuration
interval = ${INTERVAL}s
chunks = $PER_ROUND
io_rate = 100000
cpu_share = 50
repair = yes
mounts = $MNT
state = $STATE
pidfile = $T/scrubd.pid
fg_window = 200ms
fg_threshold = 64M
EOF

# The health of every chunk, as JSON, through CHUNKFS_IOC_HEALTH.
cat >"$T/health.py" <<'EOF'
import fcntl, json, os, struct, sys
SIZE = 32 + 72 * 128
HEALTH = (3 << 30) | (SIZE << 16) | (0xCF << 8) | 2
out, first = [], 0
while True:
    buf = bytearray(SIZE)
    struct.pack_into("<I", buf, 0, first)
    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.ioctl(fd, HEALTH, buf, True)
    finally:
        os.close(fd)
    _, count, nchunks, flags = struct.unpack_from("<IIII", buf, 0)
    for i in range(count):
        c = struct.unpack_from("<IIQqQQIIII", buf, 32 + 72 * i)
        out.append(dict(chunk=c[0], state=c[1], verified_time=c[3],
                        errors_found=c[4], errors_fixed=c[5]))
    first += count
    if first >= nchunks or not count:
        break
json.dump(out, sys.stdout)
EOF
health() { "$PY" "$T/health.py" "$MNT" || fail "health ioctl on $MNT failed"; }
# hget JSON EXPR: a python expression on the health list h
hget() { "$PY" -c 'import json,sys; h=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

SD_PID=
NLOG=0
# start_sd: the daemon in the foreground, its log $T/daemon-scrubd-N.log
start_sd() {
	NLOG=$((NLOG + 1))
	SD_LOG=$T/daemon-scrubd-$NLOG.log
	"$SD" -f -v -c "$CONF" "$@" >"$SD_LOG" 2>&1 &
	SD_PID=$!
	wait_log "started \(pid $SD_PID\)" 20
}
stop_sd() {
	kill -TERM "$SD_PID" 2>/dev/null
	wait "$SD_PID"; _st=$?
	SD_PID=
	[ "$_st" = 0 ] || fail "chunkfs-scrubd exited with status $_st after SIGTERM"
	grep -q "state saved to $STATE" "$SD_LOG" || fail "no 'state saved' in the log after SIGTERM"
	grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$SD_LOG" && fail "sanitizer report in $SD_LOG"
	return 0
}
add_cleanup '[ -n "$SD_PID" ] && kill -TERM "$SD_PID" 2>/dev/null && wait "$SD_PID"'
# wait_log TEXT SECONDS [FROM_LINE]: a line of the current log (after line
# FROM_LINE) contains TEXT (grep -E)
wait_log() {
	_n=0
	while ! tail -n +"$((${3:-0} + 1))" "$SD_LOG" | grep -q -E -- "$1"; do
		[ -n "$SD_PID" ] && ! kill -0 "$SD_PID" 2>/dev/null && {
			cat "$SD_LOG" >&2; fail "chunkfs-scrubd died waiting for /$1/"; }
		_n=$((_n + 1))
		[ $_n -gt $(($2 * 10)) ] && { tail -n 30 "$SD_LOG" >&2; fail "no /$1/ in the log within $2 s"; }
		sleep 0.1
	done
}
nlines() { wc -l <"$SD_LOG"; }
state_next() { sed -n 's/^fs .* next=\([0-9]*\) .*/\1/p' "$STATE"; }
sync_fs() { "$PY" -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.close(fd); os.sync()' "$MNT/f0"; }

# Damage under a running mount needs `chunkfs inject --force`.
if "$CFS_BIN/chunkfs" inject --help 2>&1 | grep -q -- "--force"; then
	FORCE=1
else
	FORCE=0
	echo "NOTE: $TEST_NAME: chunkfs inject has no --force: the parts that damage the mounted image are skipped" >&2
fi
# inject_mounted CHUNK: damage the free maps of CHUNK under the running mount
inject_mounted() {
	[ "$FORCE" = 1 ] || return 0
	"$CFS_BIN/chunkfs" inject "$IMG" --chunk "$1" --what free-maps --force >"$T/inj" 2>&1 ||
		{ cat "$T/inj"; fail "chunkfs inject --force failed"; }
}

note "mkfs -C 4M, files in several chunks"
mkimg "$IMG" 32M -C 4M
mount_fs "$IMG" "$MNT"
py "$MNT" <<'EOF'
import os, sys
from cfs_util import *
M = sys.argv[1]
chunks = set()
for i in range(12):
    write_file(os.path.join(M, "f%d" % i), os.urandom(1 << 20))
    chunks.add(os.stat(os.path.join(M, "f%d" % i)).st_ino >> 32)
os.mkdir(os.path.join(M, "d"))
for i in range(20):
    write_file(os.path.join(M, "d", "s%d" % i), b"small %d" % i)
log("files in chunks", sorted(chunks))
EOF
sync_fs
H=$(health)
N=$(hget "$H" 'len(h)')
[ "$N" -ge 6 ] || fail "only $N chunks"
# One full cycle of the configured schedule, plus slack for the sanitised
# build and the foreground windows.
CYCLE=$(( (N + PER_ROUND - 1) / PER_ROUND * INTERVAL ))
BOUND=$((CYCLE + 10))
note "$N chunks; one cycle is $CYCLE s, allowed $BOUND s"

note "bad configurations are refused with clear messages"
"$SD" -c "$CONF" -o interval=soon --print-config >"$T/out" 2>&1; st=$?
[ "$st" = 2 ] && grep -q "interval: bad value 'soon'" "$T/out" || { cat "$T/out"; fail "bad interval: status $st"; }
printf 'interval = 1\nspeed = 3\n' >"$T/bad.conf"
"$SD" -c "$T/bad.conf" --print-config >"$T/out" 2>&1; st=$?
[ "$st" = 2 ] && grep -q "bad.conf:2: unknown key 'speed'" "$T/out" || { cat "$T/out"; fail "unknown key: status $st"; }
"$SD" -c "$T/nope.conf" --print-config >"$T/out" 2>&1 && fail "a missing named config file was accepted"
grep -q "cannot read the config file" "$T/out" || { cat "$T/out"; fail "missing config: no clear message"; }
"$SD" -c "$CONF" --print-config | grep -q "^chunks = $PER_ROUND$" || fail "--print-config does not show chunks = $PER_ROUND"

note "the daemon scrubs every chunk in turn"
start_sd
wait_log "resuming at chunk|starting at chunk 0" 20
for k in $(seq 0 $((N - 1))); do
	wait_log "chunk $k \(clean\): clean" "$BOUND"
done
[ -s "$STATE" ] || fail "no state file $STATE"
grep -q "^fs uuid:" "$STATE" || { cat "$STATE"; fail "state not keyed by the filesystem UUID"; }

note "a second daemon with the same pidfile is refused"
"$SD" -f -c "$CONF" >"$T/out" 2>&1 && fail "a second daemon started"
grep -q "another chunkfs-scrubd is running (pid $SD_PID" "$T/out" || { cat "$T/out"; fail "second daemon: no clear message"; }

# Damage chunk K under the running mount and wait for the repair.
K=$((N - 2))
note "damage chunk $K under the running mount; scrubd repairs it within $BOUND s"
sync_fs
L=$(nlines)
inject_mounted "$K"
t0=$(date +%s)
if [ "$FORCE" = 1 ]; then
	wait_log "chunk $K \([a-z]*\): repaired: [1-9][0-9]* problems found, [1-9][0-9]* fixed \(state clean" "$BOUND" "$L"
	note "repaired after $(( $(date +%s) - t0 )) s"
	H=$(health)
	[ "$(hget "$H" "h[$K]['errors_fixed'] > 0 and h[$K]['state'] == 1")" = True ] ||
		fail "chunk $K after the repair: $(hget "$H" "h[$K]")"
	grep -q "repaired=1 " "$STATE" || { cat "$STATE"; fail "the state file does not count the repair"; }
fi

note "--pause: nothing is scrubbed, damage made meanwhile stays"
"$SD" --pause -c "$CONF" >"$T/out" 2>&1 || { cat "$T/out"; fail "--pause failed"; }
grep -q "(pid $SD_PID) paused" "$T/out" || { cat "$T/out"; fail "--pause: no confirmation"; }
grep -q "^paused 1$" "$STATE" || fail "--pause: the state file does not say paused"
L=$(nlines)
K2=$((N - 1))
sync_fs
inject_mounted "$K2"
H1=$(health)
sleep $((CYCLE + 2))
H2=$(health)
tail -n +"$((L + 1))" "$SD_LOG" | grep -E "chunk [0-9]+ \(" && fail "chunks were scrubbed while paused"
[ "$(hget "$H1" '[(c["verified_time"], c["errors_found"]) for c in h]')" = \
  "$(hget "$H2" '[(c["verified_time"], c["errors_found"]) for c in h]')" ] ||
	fail "verified times or error counts changed while paused"
"$SD" --status -c "$CONF" | grep -q "^paused: yes" || fail "--status does not say paused"

note "--resume: scrubbing goes on and repairs chunk $K2"
L=$(nlines)
"$SD" --resume -c "$CONF" >"$T/out" 2>&1 || { cat "$T/out"; fail "--resume failed"; }
grep -q "(pid $SD_PID) resumed" "$T/out" || { cat "$T/out"; fail "--resume: no confirmation"; }
if [ "$FORCE" = 1 ]; then
	wait_log "chunk $K2 \([a-z]*\): repaired" "$BOUND" "$L"
else
	wait_log "chunk $K2 \([a-z]*\): clean" "$BOUND" "$L"
fi

note "SIGTERM, restart: resumes at the saved next chunk"
stop_sd
NEXT=$(state_next)
[ -n "$NEXT" ] || { cat "$STATE"; fail "no next chunk in the state file"; }
start_sd
wait_log "resuming at chunk $NEXT " 20
wait_log "chunk [0-9]+ \(" "$BOUND"
FIRST=$(grep -E -o "chunk [0-9]+ \(" "$SD_LOG" | head -n 1 | tr -dc 0-9)
[ "$FIRST" = "$NEXT" ] || { cat "$STATE"; fail "after the restart the first chunk scrubbed is $FIRST, not the saved next $NEXT"; }

note "paused across a restart; then resumes at the saved next chunk"
tries=0
while :; do
	"$SD" --pause -c "$CONF" >/dev/null || fail "--pause failed"
	NEXT=$(state_next)
	[ "$NEXT" != 0 ] && break
	tries=$((tries + 1)); [ $tries -lt 5 ] || break
	"$SD" --resume -c "$CONF" >/dev/null || fail "--resume failed"
	sleep 1.5
done
stop_sd
grep -q "^paused 1$" "$STATE" || fail "the state file lost paused over SIGTERM"
start_sd
grep -q "paused (chunkfs-scrubd --resume)" "$SD_LOG" || fail "restarted daemon does not say it is paused"
sleep 2
grep -E "chunk [0-9]+ \(" "$SD_LOG" && fail "the restarted daemon scrubbed while paused"
[ "$(state_next)" = "$NEXT" ] || fail "progress moved while paused"
"$SD" --resume -c "$CONF" >/dev/null || fail "--resume failed"
wait_log "chunk [0-9]+ \(" "$BOUND"
FIRST=$(grep -E -o "chunk [0-9]+ \(" "$SD_LOG" | head -n 1 | tr -dc 0-9)
[ "$FIRST" = "$NEXT" ] || fail "after a paused restart the first chunk scrubbed is $FIRST, not the saved next $NEXT"
stop_sd

note "yields to foreground I/O"
start_sd -o fg_threshold=256K -o fg_max_wait=0
"$PY" - "$MNT" <<'EOF' &
import os, sys, time
end = time.time() + 4
b = os.urandom(256 << 10)
while time.time() < end:
    with open(os.path.join(sys.argv[1], "busy"), "wb") as f:
        for _ in range(8):
            f.write(b)
    time.sleep(0.05)
EOF
WRITER=$!
wait_log "yielding to foreground I/O" 10
wait "$WRITER" || fail "the foreground writer failed"
wait_log "foreground quiet again" 10
stop_sd

note "--once: one round of $PER_ROUND chunks from the saved next chunk, progress saved"
# the writer left chunks dirty (scrubbed first): wait until they are clean
n=0
while [ "$(hget "$(health)" 'all(c["state"] == 1 for c in h)')" != True ]; do
	n=$((n + 1)); [ $n -lt 30 ] || fail "chunks still not clean 15 s after writing: $(health)"
	sync_fs; sleep 0.5
done
NEXT=$(state_next)
"$SD" --once -c "$CONF" "$MNT" >"$T/once.log" 2>&1 || { cat "$T/once.log"; fail "--once failed"; }
grep -q "round done: $PER_ROUND chunks scrubbed on 1 filesystems" "$T/once.log" || { cat "$T/once.log"; fail "--once: wrong round"; }
FIRST=$(grep -E -o "chunk [0-9]+ \(" "$T/once.log" | head -n 1 | tr -dc 0-9)
[ "$FIRST" = "$NEXT" ] || { cat "$T/once.log"; fail "--once scrubbed chunk $FIRST first, not the saved next $NEXT"; }
WANT=$(( (NEXT + PER_ROUND) % N ))
[ "$(state_next)" = "$WANT" ] || { cat "$T/once.log" "$STATE"; fail "--once left next=$(state_next), want $WANT"; }
"$SD" --once -c "$CONF" "$T" >"$T/once.log" 2>&1 && fail "--once on a directory that is no chunkfs succeeded"
grep -q "not a mounted chunkfs" "$T/once.log" || { cat "$T/once.log"; fail "--once: no clear message"; }

note "unmount; fsck.chunkfs -fn finds the filesystem clean"
umount_fs "$MNT"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck.chunkfs -fn after scrubd"; }

note "a configured mount that is not mounted is reported once, not every round"
start_sd
n=0
while [ "$(grep -c "round done" "$SD_LOG")" -lt 3 ]; do
	n=$((n + 1)); [ $n -lt 100 ] || { cat "$SD_LOG"; fail "scrubd did no 3 rounds in 10 s"; }
	sleep 0.1
done
[ "$(grep -c "not a mounted chunkfs" "$SD_LOG")" = 1 ] ||
	{ cat "$SD_LOG"; fail "the unmounted $MNT was not reported exactly once over 3 rounds"; }
mount_fs "$IMG" "$MNT"
wait_log "a mounted chunkfs again" 10
stop_sd
umount_fs "$MNT"
echo "PASS: $TEST_NAME"
