#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# A real crash through FUSE (issue 4): a workload runs on a mounted image
# (4 MiB chunks: creates, writes that grow continuations, renames and hard
# links across directories in different chunks, unlinks, fsync of files and
# directories), and the daemon is killed with SIGKILL at a random moment.
# Then: the image mounts again (journal replay), every file whose fsync (and
# its directory's) returned before the kill is there with its content, every
# file found has a name and content the workload gave it (a prefix of it:
# FUSE splits large writes), the daemon exits 0 at unmount, and
# `fsck.chunkfs -fn` finds nothing.  Several rounds, seeded.  Then -o sync:
# operations without fsync survive a kill (and, as the control, do not
# without it).
#   CFS_CRASH_ROUNDS (default 6), CFS_CRASH_SEED (default 1)
. "$(dirname "$0")/lib.sh"

ROUNDS=${CFS_CRASH_ROUNDS:-6}
SEED=${CFS_CRASH_SEED:-1}
is_chunkfs || { note "chunkfs-only test: skipped for $CFS_TEST_BACKEND"; exit 0; }
[ -x "$CFS_BIN/fsck.chunkfs" ] || fail "$CFS_BIN/fsck.chunkfs is missing"

mkdir -p "$MNT"

cat >"$T/work.py" <<'EOF'
# work.py MNT LOG SEED: run until killed (the daemon dies under it).
import os, random, sys, hashlib
mnt, logp, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
log = open(logp, "a", buffering=1)
def L(*a):
    log.write(" ".join(str(x) for x in a) + "\n"); log.flush()
def data(tag, n):
    r = random.Random(tag)
    return r.randbytes(n)
dirs = ["d%d" % i for i in range(8)]
for d in dirs:
    os.makedirs(os.path.join(mnt, d), exist_ok=True)
live = []   # relative paths we believe exist
n = 0
while True:
    n += 1
    tag = "%d-%d" % (seed, n)
    r = rng.random()
    try:
        if r < 0.45 or len(live) < 5:
            p = "%s/f%s" % (rng.choice(dirs), tag)
            size = rng.choice([0, rng.randrange(1, 9000), rng.randrange(9000, 300000),
                               rng.randrange(2 << 20, 5 << 20) if rng.random() < 0.05 else 100])
            b = data(tag, size)
            L("create", p, hashlib.sha1(b).hexdigest(), size, tag)
            fd = os.open(os.path.join(mnt, p), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644)
            done = 0
            try:
                while done < size:
                    done += os.write(fd, b[done:])
            except OSError as e:
                if e.errno != 28:   # ENOSPC: the file keeps what was written
                    raise
            if done < size:
                L("short", p, hashlib.sha1(b[:done]).hexdigest(), done)
            if rng.random() < 0.4:
                os.fsync(fd)
                dfd = os.open(os.path.join(mnt, os.path.dirname(p)), os.O_RDONLY)
                os.fsync(dfd); os.close(dfd)
                L("durable", p)
            os.close(fd)
            live.append(p)
        elif r < 0.65:
            src = rng.choice(live)
            dst = "%s/r%s" % (rng.choice(dirs), tag)
            L("rename", src, dst)
            os.rename(os.path.join(mnt, src), os.path.join(mnt, dst))
            live.remove(src); live.append(dst)
        elif r < 0.75:
            src = rng.choice(live)
            dst = "%s/l%s" % (rng.choice(dirs), tag)
            L("link", src, dst)
            os.link(os.path.join(mnt, src), os.path.join(mnt, dst))
            live.append(dst)
        elif r < 0.95 or len(live) > 400:
            p = rng.choice(live)
            L("unlink", p)
            os.unlink(os.path.join(mnt, p))
            live.remove(p)
        else:
            fd = os.open(mnt, os.O_RDONLY)
            os.fsync(fd)  # the root: a syncfs-like commit
            os.close(fd)
    except OSError as e:
        L("error", e.errno)
        # the daemon is gone (ENOTCONN, EIO, or the mount point is a plain
        # directory again after fusermount3 -u -z)
        if e.errno in (107, 5) or not os.path.ismount(mnt):
            sys.exit(0)
EOF

cat >"$T/verify.py" <<'EOF'
# verify.py MNT LOG: the properties after the crash and the remount.
import os, sys, hashlib
mnt, logp = sys.argv[1], sys.argv[2]
content = {}     # path -> set of (sha1, size) it was ever given
ino_of = {}      # path -> content key it has now (by the log)
durable = {}     # path -> (sha1, size), until an op on the path begins
for line in open(logp):
    w = line.split()
    if not w:
        continue
    if w[0] == "create":
        p, h, size = w[1], w[2], int(w[3])
        content.setdefault(p, set()).add((h, size, w[4]))
        ino_of[p] = (h, size, w[4])
    elif w[0] == "short":
        p, h, n = w[1], w[2], int(w[3])
        old = ino_of[p]
        ino_of[p] = (h, n, old[2])
        content[p].discard(old)
        content[p].add(ino_of[p])
    elif w[0] == "durable":
        durable[w[1]] = ino_of[w[1]]
    elif w[0] in ("rename", "link"):
        src, dst = w[1], w[2]
        k = ino_of.get(src)
        if k:
            content.setdefault(dst, set()).add(k)
            ino_of[dst] = k
        if w[0] == "rename":
            durable.pop(src, None)
    elif w[0] == "unlink":
        durable.pop(w[1], None)
import random
def data(tag, n):
    return random.Random(tag).randbytes(n)
bad = 0
seen = set()
for d in sorted(os.listdir(mnt)):
    full = os.path.join(mnt, d)
    if d == "lost+found" or not os.path.isdir(full):
        continue
    for f in sorted(os.listdir(full)):
        p = d + "/" + f
        seen.add(p)
        b = open(os.path.join(full, f), "rb").read()
        ok = False
        for (h, size, tag) in content.get(p, ()):
            if len(b) <= size and data(tag, size)[:len(b)] == b:
                ok = True
                break
        if not ok:
            print("FAIL: %s (%d bytes) is not a content the workload gave it" % (p, len(b)))
            bad += 1
for p, (h, size, tag) in durable.items():
    full = os.path.join(mnt, p)
    if not os.path.exists(full):
        print("FAIL: %s was fsync'ed (file and directory) but is missing" % p)
        bad += 1
        continue
    b = open(full, "rb").read()
    if hashlib.sha1(b).hexdigest() != h:
        print("FAIL: %s was fsync'ed with %d bytes, now has %d bytes of other content" % (p, size, len(b)))
        bad += 1
print("verify: %d files found, %d fsync'ed checked, %d problems" % (len(seen), len(durable), bad))
sys.exit(1 if bad else 0)
EOF

r=1
while [ $r -le "$ROUNDS" ]; do
	seed=$((SEED * 1000 + r))
	log=$T/log.$r
	: >"$log"
	mkimg "$IMG" 192M -C 4M
	mount_fs "$IMG" "$MNT"
	pid=$DAEMON_PID
	"$PY" "$T/work.py" "$MNT" "$log" "$seed" 2>"$T/work.$r.err" &
	wpid=$!
	# a random moment between 0.5 and 3 s (seeded)
	delay=$("$PY" -c "import random; print('%.2f' % random.Random($seed).uniform(0.5, 3))")
	sleep "$delay"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	kill "$wpid" 2>/dev/null   # (it stops by itself; do not rely on it)
	wait "$wpid" 2>/dev/null
	fusermount3 -u -z "$MNT" 2>/dev/null
	awk -v p="$pid" '$1 != p' "$MOUNTS" >"$MOUNTS.new" && mv "$MOUNTS.new" "$MOUNTS"
	ops=$(wc -l <"$log")
	dur=$(grep -c '^durable' "$log")
	note "round $r: seed $seed, killed after ${delay}s; $ops log lines so far, $dur fsync'ed"
	mount_fs "$IMG" "$MNT"
	"$PY" "$T/verify.py" "$MNT" "$log" || fail "round $r (seed $seed): files wrong after the crash"
	umount_fs "$MNT"
	"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.$r" 2>&1 ||
		{ cat "$T/fsck.$r"; fail "round $r (seed $seed): fsck.chunkfs -fn found problems after the crash and remount"; }
	r=$((r + 1))
done
note "$ROUNDS crashes survived"

# -o sync: every operation is durable when it returns, without fsync.  The
# same files without -o sync (and no periodic commit: -o commit=0) are lost
# by the kill, which shows the check can fail.
for mode in sync nosync; do
	mkimg "$IMG" 64M -C 4M
	if [ $mode = sync ]; then mount_fs "$IMG" "$MNT" sync; else mount_fs "$IMG" "$MNT" commit=0; fi
	pid=$DAEMON_PID
	"$PY" - "$MNT" <<'EOF' || fail "writing files with -o $mode"
import os, sys
m = sys.argv[1]
os.mkdir(os.path.join(m, "s"))
for i in range(40):
    with open(os.path.join(m, "s", "f%d" % i), "wb") as f:
        f.write(bytes([i]) * (1000 + i * 97))
os.rename(os.path.join(m, "s", "f0"), os.path.join(m, "s", "renamed"))
EOF
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	fusermount3 -u -z "$MNT" 2>/dev/null
	awk -v p="$pid" '$1 != p' "$MOUNTS" >"$MOUNTS.new" && mv "$MOUNTS.new" "$MOUNTS"
	mount_fs "$IMG" "$MNT"
	n=$("$PY" - "$MNT" <<'EOF'
import os, sys
m = sys.argv[1]
ok = 0
for i in range(1, 40):
    p = os.path.join(m, "s", "f%d" % i)
    if os.path.exists(p) and open(p, "rb").read() == bytes([i]) * (1000 + i * 97):
        ok += 1
if os.path.exists(os.path.join(m, "s", "renamed")) and not os.path.exists(os.path.join(m, "s", "f0")):
    ok += 1
print(ok)
EOF
)
	umount_fs "$MNT"
	"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.$mode" 2>&1 ||
		{ cat "$T/fsck.$mode"; fail "-o $mode: fsck.chunkfs -fn found problems after the kill"; }
	if [ $mode = sync ]; then
		[ "$n" = 40 ] || fail "-o sync: only $n of 40 operations survived the kill"
		note "-o sync: all 40 operations survived the kill"
	else
		[ "$n" -lt 40 ] || fail "without -o sync and commits, all 40 operations survived: the -o sync check cannot fail"
		note "without -o sync (commit=0): $n of 40 survived the kill (the control)"
	fi
done
finish
