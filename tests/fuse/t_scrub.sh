#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Online health through a real mount (issue 5):
#  (a) chunk K damaged under the running filesystem (chunkfs inject
#      --force), `chunkfs scrub MNT --chunk K --repair` while another
#      process keeps writing and verifying files in other chunks: the scrub
#      fixes what it finds, the writer never sees an error, its files
#      verify, fsck.chunkfs -fn is clean after unmount;
#  (b) a read through a damaged block fails (EIO, or EUCLEAN from the
#      library's checksum check) for that file only, events appear
#      (chunkfs events, also --follow), chunkfs status shows the chunk
#      suspect, other files stay readable and writable; a mount with
#      errors=repair brings the chunk back clean without unmounting, both
#      for a chunk suspect at mount time and for new damage met while
#      mounted;
#  (f) format v2: one copy of a block damaged under the mount (inject
#      --copy first / second): the read of the file goes on (the bytes are
#      right, no error), a "corrected" event names the block, the chunk
#      stays clean; a scrub --repair rewrites a bad copy nobody read (a
#      corrected event, 0 problems), and fsck.chunkfs -fn after the unmount
#      finds no bad copy;
#  (c) the ioctls and the control directory refuse bad input: chunk out of
#      range EINVAL, unknown flags EINVAL, unknown ioctl ENOTTY, scrub as
#      non-root EPERM; /.chunkfs is hidden from readdir, cannot be made,
#      removed or written; the tools report errors with fsck's exit codes.
. "$(dirname "$0")/lib.sh"

is_chunkfs || { echo "SKIP: chunkfs only"; exit 0; }
TOOL=$CFS_BIN/chunkfs
FSCK=$CFS_BIN/fsck.chunkfs

# ---- the image: files in several 4 MiB chunks, one fragmented file with
# extent tree nodes of its own ----
SRC=$T/src
mkdir -p "$SRC"
py "$SRC" <<'EOF'
import os, sys, random
s = sys.argv[1]
r = random.Random(5)
def put(p, n):
    with open(os.path.join(s, p), "wb") as f:
        f.write(r.randbytes(n))
for d in range(6):
    os.makedirs(os.path.join(s, "d%d" % d))
    put("d%d/big" % d, 2 << 20)
    for i in range(20):
        put("d%d/f%02d" % (d, i), 1000 + i * 300)
# many extents: its extent tree needs nodes of its own
fd = os.open(os.path.join(s, "d3", "frag"), os.O_CREAT | os.O_WRONLY, 0o644)
for i in range(400):
    os.pwrite(fd, r.randbytes(4096), i * 8192)
os.close(fd)
EOF
"$CFS_BIN/mkfs.chunkfs" -q -C 4M -d "$SRC" "$T/base" 64M || fail "mkfs -d"

# chunk_of IMG PATH: the chunk of PATH's inode (image not mounted)
chunk_of() {
	"$TOOL" stat --json "$1" "$2" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["paths"][0]["chunk"])' ||
		fail "chunkfs stat $2"
}
# tree_node IMG CHUNK KIND LOCAL_INO: local block of a tree node of that
# inode in CHUNK (KIND "extent" or "directory"), from inject --list
tree_node() {
	"$TOOL" inject "$1" --chunk "$2" --list --json | "$PY" -c '
import json, sys
kind, ino = sys.argv[1], sys.argv[2]
for b in json.load(sys.stdin)["blocks"]:
    if b["what"].startswith(kind + " tree node of inode " + ino + " "):
        print(b["local"])
        break
else:
    sys.exit("no %s tree node of inode %s" % (kind, ino))
' "$3" "$4" || fail "no $3 tree node of inode $4 in chunk $2"
}
# health MNT CHUNK: the state of CHUNK through chunkfs status --json
health() {
	"$TOOL" status --json "$1" >"$T/status.json" || fail "chunkfs status $1"
	"$PY" -c 'import json,sys; print([c["state"] for c in json.load(open(sys.argv[1]))["chunks"] if c["chunk"] == int(sys.argv[2])][0])' \
		"$T/status.json" "$2" || fail "no chunk $2 in chunkfs status --json"
}
# wait_state MNT CHUNK STATE [SECONDS]
wait_state() {
	_n=0
	while [ "$(health "$1" "$2")" != "$3" ]; do
		_n=$((_n + 1))
		[ $_n -gt $((${4:-20} * 5)) ] &&
			fail "chunk $2 is $(health "$1" "$2"), not $3, after ${4:-20} s"
		sleep 0.2
	done
}

K=$(chunk_of "$T/base" /d3/frag)
FRAG_LOCAL=$("$TOOL" stat --json "$T/base" /d3/frag | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["paths"][0]["local"])')
note "chunk K=$K holds /d3/frag (local inode $FRAG_LOCAL)"
# path_at IMG CHUNK LOCAL: the path of the source tree's file whose inode
# is LOCAL in CHUNK (placement chose where each file went)
path_at() {
	(cd "$SRC" && find . -type f | sed 's|^\.||') >"$T/paths" &&
	xargs "$TOOL" stat --json "$1" <"$T/paths" | "$PY" -c '
import json, sys
c, l = int(sys.argv[1]), int(sys.argv[2])
print([p["path"] for p in json.load(sys.stdin)["paths"]
       if p["chunk"] == c and p["local"] == l][0])' "$2" "$3" ||
		fail "no file of the source tree at $2:$3"
}

# ================= (a) repair under a running writer =================
note "(a) damage chunk $K under the mount, scrub --repair while writing elsewhere"
cp "$T/base" "$IMG"
mount_fs "$IMG" "$MNT"
"$TOOL" inject "$IMG" --chunk "$K" --what inode >/dev/null 2>&1 &&
	fail "inject without --force damaged a mounted image"
"$TOOL" inject "$IMG" --chunk "$K" --what inode --seed 7 --force >"$T/inj.out" 2>"$T/inj.err" ||
	{ cat "$T/inj.err"; fail "inject --force on the mounted image"; }
grep -q "warning: .* is mounted" "$T/inj.err" || fail "inject --force gave no warning: $(cat "$T/inj.err")"
cat "$T/inj.out"
# the file whose inode inject scrambled, through the format
VLOCAL=$(sed -n 's/.*scrambled file inode \([0-9]*\):.*/\1/p' "$T/inj.out" | head -n 1)
[ -n "$VLOCAL" ] || fail "inject did not scramble a file's inode: $(cat "$T/inj.out")"
VPATH=$(path_at "$T/base" "$K" "$VLOCAL")
note "the damaged inode is $K:$VLOCAL, $VPATH"

# the writer: a new directory (not in K), files written, read back and
# checked at once, all checked again at the end; any error fails it
mkdir "$MNT/w" || fail "mkdir w"
"$PY" - "$MNT/w" "$K" "$T/stop" "$T/started" >"$T/writer.log" 2>&1 <<'EOF' &
import os, sys, time, random
d, K, stop, started = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = random.Random(11)
sums, bad, n, t0, total = {}, [], 0, time.time(), 0
# at most 6 MB in all: the filesystem must keep room outside K
while not os.path.exists(stop) and time.time() - t0 < 60 and total < 6 << 20:
    if n == 10:
        open(started, "w").close()
    time.sleep(0.005)
    name = os.path.join(d, "f%04d" % n)
    data = r.randbytes(r.randrange(2048, 16384))
    total += len(data)
    try:
        with open(name, "wb") as f:
            f.write(data)
            if n % 5 == 0:
                os.fsync(f.fileno())
        if (os.stat(name).st_ino >> 32) == K:
            bad.append("%s landed in chunk K" % name)
        with open(name, "rb") as f:
            if f.read() != data:
                bad.append("%s reads back wrong" % name)
        if n % 7 == 3:   # rewrite an older file in place
            old = os.path.join(d, "f%04d" % (n // 2))
            nd = r.randbytes(3000)
            with open(old, "r+b") as f:
                f.write(nd)
            sums[old] = nd + sums[old][3000:] if len(sums[old]) > 3000 else nd
    except OSError as e:
        bad.append("%s: %s" % (name, e))
        break
    sums[name] = data
    n += 1
for name, data in sums.items():
    with open(name, "rb") as f:
        if f.read() != data:
            bad.append("%s differs at the end" % name)
print("writer: %d files (%d bytes), %d problems" % (n, total, len(bad)))
for b in bad[:20]:
    print("writer:", b)
sys.exit(1 if bad or n < 5 else 0)
EOF
WRITER=$!
n=0
until [ -e "$T/started" ]; do
	n=$((n + 1)); [ $n -gt 300 ] && { cat "$T/writer.log"; fail "the writer did not start"; }
	sleep 0.1
done
"$TOOL" scrub "$MNT" --chunk "$K" --repair >"$T/scrub.out" 2>&1
rc=$?
sleep 0.5
touch "$T/stop"
wait $WRITER; wst=$?
cat "$T/scrub.out" "$T/writer.log"
[ "$wst" = 0 ] || fail "the writer saw errors while chunk $K was scrubbed"
[ "$rc" = 1 ] || fail "chunkfs scrub --repair exited $rc, not 1 (problems fixed)"
grep -q "^chunk $K: [1-9][0-9]* problems\? found, [1-9]" "$T/scrub.out" ||
	fail "the scrub reported no problem fixed in chunk $K"
# each problem on a line of its own, as fsck prints it (issue 17)
np=$(grep -c "^chunk $K: .* -- fixed$" "$T/scrub.out")
nf=$(sed -n "s/^chunk $K: \([0-9]*\) problems\? found.*/\1/p" "$T/scrub.out")
[ "$np" = "$nf" ] || fail "the scrub printed $np problem lines for $nf problems"
# ... by inode number and by path (parent pointers)
grep -q "^chunk $K: inode [0-9]* ($K:$VLOCAL) $VPATH, block [0-9]*: inode with impossible fields; cleared .* -- fixed$" "$T/scrub.out" ||
	fail "the scrub does not name the damaged inode (by number and path)"
# and the events of the repair say what was repaired
"$TOOL" events "$MNT" >"$T/ev.out"
grep -q "problem .*chunk $K: inode_bad block [0-9]* \[.*\] -- fixed" "$T/ev.out" ||
	{ cat "$T/ev.out"; fail "no event for the repaired inode"; }
grep -q "chunk $K repaired: $nf problems fixed: .*inode_bad" "$T/ev.out" ||
	{ cat "$T/ev.out"; fail "the 'repaired' event does not name what was repaired"; }
[ "$(health "$MNT" "$K")" = clean ] || fail "chunk $K is $(health "$MNT" "$K") after the repair"
"$TOOL" events "$MNT" | grep -q "repaired .*chunk $K repaired" ||
	{ "$TOOL" events "$MNT"; fail "no 'repaired' event for chunk $K"; }
# a check of every chunk now finds nothing
"$TOOL" scrub "$MNT" --json >"$T/scrub.json" || fail "scrub of every chunk after the repair: exit $?"
"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["found"] == 0 and j["chunks_scrubbed"] > 0, j' \
	"$T/scrub.json" || fail "scrub --json after the repair"
umount_fs "$MNT"
"$FSCK" -fn "$IMG" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck.chunkfs -fn after the online repair: exit $?"; }

# ================= (b) EIO, events, status, errors=repair =================
note "(b) a read through a damaged extent node of /d3/frag"
cp "$T/base" "$IMG"
NODE=$(tree_node "$IMG" "$K" extent "$FRAG_LOCAL")
mount_fs "$IMG" "$MNT"
"$TOOL" events "$MNT" --follow --json >"$T/follow.out" 2>"$T/follow.err" &
FOLLOW=$!
sleep 0.5
"$TOOL" inject "$IMG" --chunk "$K" --what flip-bits --block "$NODE" --force >/dev/null 2>&1 ||
	fail "inject flip-bits --force"
py "$MNT" "$SRC" "$K" <<'EOF'
import os, sys, errno
from cfs_util import *
M, S, K = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    with open(os.path.join(M, "d3/frag"), "rb") as f:
        while f.read(1 << 16):
            pass
    check(False, "reading d3/frag through the damaged node succeeded")
except OSError as e:
    check(e.errno in (errno.EIO, errno.EUCLEAN), "d3/frag: %s, not EIO" % e)
# every other file reads back what mkfs put there, in K and elsewhere
n = 0
for d in range(6):
    for name in sorted(os.listdir(os.path.join(S, "d%d" % d))):
        rel = "d%d/%s" % (d, name)
        if rel == "d3/frag":
            continue
        eq(read_file(os.path.join(M, rel)), read_file(os.path.join(S, rel)), rel)
        n += 1
check(n == 126, "checked %d files" % n)
# and the filesystem stays writable, in K's directory too
write_file(os.path.join(M, "d3", "after"), b"written after the damage")
write_file(os.path.join(M, "d1", "f00"), b"rewritten")
eq(read_file(os.path.join(M, "d1", "f00")), b"rewritten", "rewritten file")
eq(read_file(os.path.join(M, "d3", "after")), b"written after the damage", "new file")
EOF
[ "$(health "$MNT" "$K")" = suspect ] || fail "chunk $K is $(health "$MNT" "$K"), not suspect, after the failed read"
"$TOOL" status "$MNT" >"$T/status.txt" || fail "chunkfs status"
grep -q "^ *$K  suspect" "$T/status.txt" || { cat "$T/status.txt"; fail "status table does not show chunk $K suspect"; }
grep -Eq '^ +0 [^ ]*S' "$T/status.txt" && ! grep -q "$(printf '\033')" "$T/status.txt" ||
	fail "status map: no S cell, or colour on a pipe"
"$TOOL" events "$MNT" >"$T/events.txt" || fail "chunkfs events"
grep -q "checksum .*chunk $K block $NODE" "$T/events.txt" || { cat "$T/events.txt"; fail "no checksum event"; }
grep -q "suspect .*chunk $K marked suspect" "$T/events.txt" || { cat "$T/events.txt"; fail "no suspect event"; }
# the follower saw them as they came, and stops on SIGTERM
n=0
until grep -q '"code": "suspect"' "$T/follow.out"; do
	n=$((n + 1)); [ $n -gt 50 ] && { cat "$T/follow.out" "$T/follow.err"; fail "events --follow did not print the suspect event"; }
	sleep 0.1
done
kill -TERM "$FOLLOW"
wait "$FOLLOW" || fail "events --follow exited $? on SIGTERM"
# the events file itself: a line per event, nothing more once read
py "$MNT" "$K" <<'EOF'
import os, sys, select
from cfs_util import *
M, K = sys.argv[1], sys.argv[2]
fd = os.open(os.path.join(M, ".chunkfs/events"), os.O_RDONLY)
lines = os.read(fd, 1 << 16).decode().splitlines()
check(len(lines) >= 2, "events file: %r" % lines)
f = lines[0].split(" ", 7)
check(len(f) == 8 and f[0] == "1" and f[2] in ("info", "warning", "error", "threshold"), "line %r" % lines[0])
eq(os.read(fd, 1 << 16), b"", "a second read")
p = select.poll()
p.register(fd, select.POLLIN)
eq(p.poll(0), [], "poll with nothing new")
os.close(fd)
EOF

note "(b) errors=repair: the chunk suspect at mount time is repaired"
umount_fs "$MNT"
mount_fs "$IMG" "$MNT" errors=repair
wait_state "$MNT" "$K" clean 20
"$TOOL" events "$MNT" | grep -q "repaired .*chunk $K repaired" ||
	{ "$TOOL" events "$MNT"; fail "no 'repaired' event for chunk $K with errors=repair"; }

note "(b) errors=repair: new damage met while mounted is repaired at once"
# a directory of the tree outside K whose own inode has a directory tree
# node (its names do not fit the inode), found through the format
DX=""
for d in d5 d4 d2 d1 d0; do
	set -- $("$TOOL" stat --json "$T/base" "/$d" | "$PY" -c 'import json,sys; p=json.load(sys.stdin)["paths"][0]; print(p["chunk"], p["local"])')
	[ "$1" = "$K" ] && continue
	DNODE=$("$TOOL" inject "$IMG" --chunk "$1" --list --json --force | "$PY" -c '
import json, sys
for b in json.load(sys.stdin)["blocks"]:
    if b["what"].startswith("directory tree node of inode %s " % sys.argv[1]) and b["copy"] == 1:
        print(b["local"]); break' "$2")
	[ -n "$DNODE" ] && { DX=$d; K2=$1; break; }
done
[ -n "$DX" ] || fail "no directory outside chunk $K with a tree node of its own"
note "/$DX in chunk $K2: its tree node (local block $DNODE) zeroed, nothing has read it in this mount"
"$TOOL" inject "$IMG" --chunk "$K2" --what zero-block --block "$DNODE" --force >/dev/null 2>&1 ||
	fail "inject zero-block --force"
ls "$MNT/$DX" >/dev/null 2>&1 && note "(listing $DX succeeded: the repair was quicker)"
wait_state "$MNT" "$K2" clean 20
"$TOOL" events "$MNT" | grep -q "suspect .*chunk $K2 marked suspect" || fail "no suspect event for chunk $K2"
"$TOOL" events "$MNT" | grep -q "repaired .*chunk $K2 repaired" ||
	{ "$TOOL" events "$MNT"; fail "no 'repaired' event for chunk $K2"; }
py "$MNT" "$DX" <<'EOF'
import os, sys
from cfs_util import *
M, DX = sys.argv[1], sys.argv[2]
os.listdir(os.path.join(M, DX))          # no error now
for d in ("d0", "d2", "d4"):
    for n in os.listdir(os.path.join(M, d)):
        read_file(os.path.join(M, d, n))
write_file(os.path.join(M, DX, "new"), b"after the repair")
EOF
umount_fs "$MNT"
"$FSCK" -fn "$IMG" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck.chunkfs -fn after errors=repair: exit $?"; }

# ================= (c) bad input =================
note "(c) ioctls and the control directory refuse bad input"
cp "$T/base" "$IMG"
mount_fs "$IMG" "$MNT" allow_other
NCH=$("$TOOL" status --json "$MNT" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["nchunks"])')
cat >"$T/py/ioc.py" <<'EOF'
import fcntl, struct, os, errno
def IOWR(nr, size):
    return (3 << 30) | (size << 16) | (0xCF << 8) | nr
SCRUB, HEALTH, EVENTS = IOWR(1, 64), IOWR(2, 32 + 72 * 128), IOWR(3, 24 + 384 * 40)
def scrub(fd, chunk, flags=0):
    b = bytearray(64)
    struct.pack_into("<II", b, 0, chunk, flags)
    fcntl.ioctl(fd, SCRUB, b)
    return struct.unpack_from("<IIIII", b)
def health(fd, first=0):
    b = bytearray(32 + 72 * 128)
    struct.pack_into("<I", b, 0, first)
    fcntl.ioctl(fd, HEALTH, b)
    return struct.unpack_from("<IIII", b)
EOF
chmod a+r "$T/py/ioc.py"
py "$MNT" "$NCH" <<'EOF'
import os, sys, errno, stat
from cfs_util import *
from ioc import *
M, N = sys.argv[1], int(sys.argv[2])
for path in (M, os.path.join(M, "d1"), os.path.join(M, "d1", "f00")):
    fd = os.open(path, os.O_RDONLY)
    eq(health(fd)[2], N, "nchunks through %s" % path)
    c, flags, found, fixed, state = scrub(fd, N - 1)
    eq((c, found, state), (N - 1, 0, 1), "scrub of the last chunk")
    expect_errno(errno.EINVAL, scrub, fd, N)
    expect_errno(errno.EINVAL, scrub, fd, 0xfffffffe)
    expect_errno(errno.EINVAL, scrub, fd, 0, 0x80)
    expect_errno(errno.EINVAL, health, fd, N + 1)
    expect_errno(errno.ENOTTY, fcntl.ioctl, fd, IOWR(9, 8), bytearray(8))
    expect_errno(errno.ENOTTY, fcntl.ioctl, fd, (3 << 30) | (64 << 16) | (0xCE << 8) | 1, bytearray(64))
    os.close(fd)
# the control directory: found by name, not listed, not changeable
check(".chunkfs" not in os.listdir(M), ".chunkfs listed by readdir")
check(stat.S_ISDIR(os.stat(os.path.join(M, ".chunkfs")).st_mode), ".chunkfs is no directory")
eq(sorted(os.listdir(os.path.join(M, ".chunkfs"))), ["events"], ".chunkfs contents")
expect_errno(errno.EEXIST, os.mkdir, os.path.join(M, ".chunkfs"))
expect_errno(errno.EPERM, os.rmdir, os.path.join(M, ".chunkfs"))
expect_errno(errno.EPERM, os.rename, os.path.join(M, ".chunkfs"), os.path.join(M, "x"))
expect_errno(errno.EPERM, os.rename, os.path.join(M, "d0"), os.path.join(M, ".chunkfs"))
expect_errno(errno.EPERM, os.open, os.path.join(M, ".chunkfs", "new"), os.O_CREAT | os.O_WRONLY)
expect_errno(errno.EACCES, os.open, os.path.join(M, ".chunkfs", "events"), os.O_WRONLY)
expect_errno(errno.EPERM, os.unlink, os.path.join(M, ".chunkfs", "events"))
EOF
py_as_nobody "$MNT" <<'EOF'
import os, sys, errno
from cfs_util import *
from ioc import *
M = sys.argv[1]
fd = os.open(M, os.O_RDONLY)
check(health(fd)[2] > 0, "health as nobody")
expect_errno(errno.EPERM, scrub, fd, 0)
expect_errno(errno.EPERM, scrub, fd, 0, 1)
os.close(fd)
e = os.open(os.path.join(M, ".chunkfs", "events"), os.O_RDONLY)
check(os.read(e, 1 << 16).count(b"\n") >= 1, "events readable by anyone")
os.close(e)
EOF
# the tools: fsck-like exit codes and clear messages
setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups "$TOOL" scrub "$MNT" --chunk 0 >"$T/o" 2>&1; rc=$?
[ $rc = 8 ] && grep -q "Operation not permitted (scrubbing needs root)" "$T/o" || { cat "$T/o"; fail "scrub as nobody: exit $rc"; }
"$TOOL" scrub "$MNT" --chunk "$NCH" >"$T/o" 2>&1; rc=$?
[ $rc = 8 ] && grep -q "chunk $NCH out of range" "$T/o" || { cat "$T/o"; fail "scrub of chunk $NCH: exit $rc"; }
"$TOOL" scrub "$MNT" --chunk 1,x >"$T/o" 2>&1; rc=$?
[ $rc = 8 ] && grep -q "bad chunk list" "$T/o" || { cat "$T/o"; fail "scrub --chunk 1,x: exit $rc"; }
"$TOOL" scrub "$T" >"$T/o" 2>&1; rc=$?
[ $rc = 8 ] && grep -q "not on a mounted chunkfs" "$T/o" || { cat "$T/o"; fail "scrub of a non-chunkfs directory: exit $rc"; }
"$TOOL" events "$MNT/d1" >"$T/o" 2>&1 || { cat "$T/o"; fail "events on a subdirectory: exit $?"; }
"$TOOL" events "$T" >"$T/o" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "not on a mounted chunkfs" "$T/o" || { cat "$T/o"; fail "events on a directory that is not chunkfs: exit $rc"; }
"$TOOL" scrub "$MNT" --chunk 0,2 >"$T/o" 2>&1 || { cat "$T/o"; fail "scrub --chunk 0,2: exit $?"; }
grep -q "2 of 2 chunks scrubbed: 0 problems" "$T/o" || { cat "$T/o"; fail "scrub --chunk 0,2 output"; }
# status of the image: through the mount while mounted, the library when not
"$TOOL" status --json "$IMG" | grep -q '"mounted": true' || fail "status IMAGE while mounted does not use the mount"
umount_fs "$MNT"
"$TOOL" status --json "$IMG" >"$T/st.json" || fail "status of the unmounted image"
"$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert not j["mounted"] and j["nchunks"]==int(sys.argv[2]) and all(c["state"]=="clean" for c in j["chunks"]), j' \
	"$T/st.json" "$NCH" || fail "status --json of the image"
"$TOOL" status "$IMG" | grep -q "not mounted" || fail "status of the image (text)"

# bad mount options are refused before anything is mounted
for o in errors=sometimes free_warn=101 free_warn=x ro,errors=repair; do
	"$CFS_BIN/chunkfs-fuse" -f -o "$o" "$IMG" "$MNT" >"$T/o" 2>&1 &&
		fail "chunkfs-fuse -o $o was accepted"
	grep -q "bad option\|needs a read-write mount" "$T/o" || { cat "$T/o"; fail "-o $o: no clear message"; }
	mountpoint -q "$MNT" && fail "-o $o mounted"
done
# free_warn=: an event when free space falls below the level (the image
# is about 30% full: below 90% free at the first commit)
mount_fs "$IMG" "$MNT" free_warn=90
"$PY" -c 'import os,sys; fd=os.open(sys.argv[1], os.O_CREAT|os.O_WRONLY); os.write(fd, b"x"); os.fsync(fd)' \
	"$MNT/d0/touch" || fail "write and fsync (a commit)"
"$TOOL" events "$MNT" | grep -q "threshold free-low .*free space below 90%" ||
	{ "$TOOL" events "$MNT"; fail "no free-low event with free_warn=90"; }
umount_fs "$MNT"

# ================= (d) the repaired state is seen at once =================
note "(d) after an online repair the kernel's cached pages and attributes of what it changed are dropped"
cp "$T/base" "$IMG"
NODE=$(tree_node "$IMG" "$K" extent "$FRAG_LOCAL")
mount_fs "$IMG" "$MNT"
# read d3/frag (its pages stay cached: keep_cache) and stat it
look() {
	py "$MNT/d3/frag" "$1" <<'EOF'
import hashlib, os, sys
with open(sys.argv[1], "rb") as f:
    h = hashlib.md5(f.read()).hexdigest()
st = os.stat(sys.argv[1])
open(sys.argv[2], "w").write("%s %d %d\n" % (h, st.st_size, st.st_blocks))
EOF
}
look "$T/look0"
"$TOOL" inject "$IMG" --chunk "$K" --what zero-block --block "$NODE" --force >/dev/null 2>&1 ||
	fail "inject zero-block --force"
"$TOOL" scrub "$MNT" --chunk "$K" --repair >"$T/scrub.out" 2>&1
rc=$?
look "$T/look1"     # at once (within the 1 s attribute timeout)
[ "$rc" = 1 ] || { cat "$T/scrub.out"; fail "scrub --repair of the damaged extent node exited $rc, not 1"; }
umount_fs "$MNT"
"$FSCK" -fn "$IMG" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck.chunkfs -fn after the repair of d3/frag: exit $?"; }
mount_fs "$IMG" "$MNT"
look "$T/look2"     # what a fresh mount shows
umount_fs "$MNT"
echo "before: $(cat "$T/look0"); right after the repair: $(cat "$T/look1"); fresh mount: $(cat "$T/look2")"
cmp -s "$T/look0" "$T/look2" && fail "the repair changed nothing in d3/frag: the case tests nothing"
cmp -s "$T/look1" "$T/look2" ||
	fail "right after the repair the mount still showed the old d3/frag (stale kernel cache)"

# ================= (e) names a repair removed are gone at once =================
note "(e) after an online repair the kernel's dentries of names it removed are dropped"
cp "$T/base" "$IMG"
# a file of d3 in chunk K whose inode table block holds neither d3 nor frag
local_of() { "$TOOL" stat --json "$IMG" "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["paths"][0]["local"])'; }
D3_LOCAL=$(local_of /d3)
"$TOOL" inject "$IMG" --chunk "$K" --list >"$T/list.txt" || fail "inject --list"
VICTIM= ITB=
for i in 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19; do
	[ "$(chunk_of "$IMG" "/d3/f$i")" = "$K" ] || continue
	L=$(local_of "/d3/f$i")
	ITB=$("$PY" - "$T/list.txt" "$L" "$D3_LOCAL" "$FRAG_LOCAL" <<'EOF'
import re, sys
want, avoid = int(sys.argv[2]), (int(sys.argv[3]), int(sys.argv[4]))
for line in open(sys.argv[1]):
    m = re.search(r"\(local (\d+)\): inode table block \d+ of \d+, inodes (\d+)-(\d+)", line)
    if m and int(m.group(2)) <= want <= int(m.group(3)):
        if not any(int(m.group(2)) <= a <= int(m.group(3)) for a in avoid):
            print(m.group(1))
        break
EOF
)
	[ -n "$ITB" ] && { VICTIM=d3/f$i; break; }
done
[ -n "$VICTIM" ] || fail "no file of d3 in chunk $K with an inode table block to itself"
mount_fs "$IMG" "$MNT"
stat "$MNT/$VICTIM" >/dev/null || fail "stat $VICTIM before the damage"
"$TOOL" inject "$IMG" --chunk "$K" --what zero-block --block "$ITB" --force >/dev/null 2>&1 ||
	fail "inject zero-block --force on inode table block $ITB"
"$TOOL" scrub "$MNT" --chunk "$K" --repair >"$T/scrub.out" 2>&1
rc=$?
# at once (within the 1 s entry and attribute timeouts): the name is gone
# and can be made again
py "$MNT/$VICTIM" <<'EOF'
import errno, os, sys
try:
    os.stat(sys.argv[1])
    print("FAIL: %s is still there after the repair" % sys.argv[1]); sys.exit(1)
except OSError as e:
    if e.errno != errno.ENOENT:
        print("FAIL: %s: %s, not ENOENT" % (sys.argv[1], e)); sys.exit(1)
try:
    fd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b"made again after the repair\n")
    os.close(fd)
except OSError as e:
    print("FAIL: %s cannot be made again at once: %s" % (sys.argv[1], e)); sys.exit(1)
EOF
[ "$rc" = 1 ] || { cat "$T/scrub.out"; fail "scrub --repair of inode table block $ITB exited $rc, not 1"; }
[ "$(health "$MNT" "$K")" = clean ] || fail "chunk $K is $(health "$MNT" "$K") after the repair of inode table block $ITB"
umount_fs "$MNT"
"$FSCK" -fn "$IMG" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck.chunkfs -fn after the repair of an inode table block: exit $?"; }

# ================= (f) one bad copy: healed, not repaired =================
note "(f) one copy of a block damaged under the mount is healed"
cp "$T/base" "$IMG"
NODE=$(tree_node "$IMG" "$K" extent "$FRAG_LOCAL")
"$TOOL" inject "$IMG" --chunk "$K" --list --json >"$T/list.json" || fail "inject --list"
# an inode table block of chunk K (its second copy) for the scrub: not
# the one of d3/frag, whose access time the read below changes (writing
# both copies of its block)
ITB2=$("$PY" -c '
import json, sys
skip = "inode table block %d " % (int(sys.argv[2]) // 15)
for b in json.load(open(sys.argv[1]))["blocks"]:
    if (b["what"].startswith("inode table block ") and
            not b["what"].startswith(skip) and b["copy"] == 2):
        print(b["local"]); break
else:
    sys.exit("none")' "$T/list.json" "$FRAG_LOCAL") || fail "no second copy of an inode table block in chunk $K"
mount_fs "$IMG" "$MNT"
"$TOOL" inject "$IMG" --chunk "$K" --what zero-block --block "$NODE" --copy first --force >"$T/inj.out" 2>/dev/null ||
	fail "inject zero-block --copy first --force"
"$TOOL" inject "$IMG" --chunk "$K" --what flip-bits --block "$ITB2" --copy second --force >>"$T/inj.out" 2>/dev/null ||
	fail "inject flip-bits --copy second --force"
cat "$T/inj.out"
[ "$(wc -l <"$T/inj.out")" = 2 ] || fail "inject --copy changed more than one block each"
cmp "$SRC/d3/frag" "$MNT/d3/frag" || fail "(f) d3/frag read through its healed extent node differs"
"$TOOL" events "$MNT" >"$T/ev.out"
grep -q "warning  *corrected  *chunk $K block $NODE (tree node of inode $FRAG_LOCAL): healed from its copy; " "$T/ev.out" ||
	{ cat "$T/ev.out"; fail "(f) no corrected event for block $NODE"; }
grep -q "checksum\|suspect" "$T/ev.out" && { cat "$T/ev.out"; fail "(f) an error event for a healed copy"; }
[ "$(health "$MNT" "$K")" = clean ] || fail "(f) chunk $K is $(health "$MNT" "$K") after a healed read"
# the corrected error is counted (health ioctl: status --json, Prometheus)
"$TOOL" status --json "$MNT" >"$T/status.json" || fail "(f) status --json"
"$PY" -c 'import json,sys; c=[c for c in json.load(open(sys.argv[1]))["chunks"] if c["chunk"] == int(sys.argv[2])][0]; sys.exit(0 if c["errors_corrected"] >= 1 and c["errors_found"] == 0 else 1)' \
	"$T/status.json" "$K" || { cat "$T/status.json"; fail "(f) status --json: no corrected error counted in chunk $K"; }
"$TOOL" status --prometheus "$MNT" >"$T/prom.out" || fail "(f) status --prometheus"
grep -q "^chunkfs_chunk_errors_total{.*,chunk=\"$K\",kind=\"corrected\"} [1-9]" "$T/prom.out" &&
	grep -q "^chunkfs_errors_total{.*,kind=\"corrected\"} [1-9]" "$T/prom.out" ||
	{ cat "$T/prom.out"; fail "(f) Prometheus: no corrected counter"; }
"$TOOL" scrub "$MNT" --chunk "$K" --repair >"$T/scrub.out" 2>&1
rc=$?
cat "$T/scrub.out"
[ "$rc" = 0 ] || fail "(f) scrub --repair of a bad copy exited $rc, not 0 (no problem)"
grep -q "^chunk $K: 0 problems found, 0 fixed; now clean" "$T/scrub.out" || fail "(f) scrub output"
"$TOOL" events "$MNT" | grep -q "corrected  *chunk $K: 1 bad block copies rewritten from their good copies" ||
	{ "$TOOL" events "$MNT"; fail "(f) no corrected event from the scrub"; }
[ "$(health "$MNT" "$K")" = clean ] || fail "(f) chunk $K is $(health "$MNT" "$K") after the scrub"
umount_fs "$MNT"
"$FSCK" -fn "$IMG" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "(f) fsck.chunkfs -fn after the healing: exit $?"; }
grep -q "bad block cop" "$T/fsck.out" && { cat "$T/fsck.out"; fail "(f) a bad copy is left on disk"; }

echo "PASS: $TEST_NAME"
