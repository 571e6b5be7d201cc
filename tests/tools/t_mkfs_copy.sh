#!/bin/sh
# mkfs.chunkfs -d: copy a generated tree in (a file bigger than a 4 MiB
# chunk, a symlink, hard links, a fifo, a socket, an xattr, a sparse file,
# nested directories), then check "chunkfs stat --json" counts against the
# tree and, when chunkfs-fuse works, the content through a FUSE mount.
. "$(dirname "$0")/lib.sh"
IMG=$W/img
SRC=$W/src

python3 - "$SRC" <<'PY' || { echo "FATAL: cannot build the source tree"; exit 1; }
import os, sys, socket
s = sys.argv[1]
os.makedirs(s + "/d1/d2/d3")
os.makedirs(s + "/empty_dir")
def w(p, data):
    with open(s + "/" + p, "wb") as f:
        f.write(data)
w("small.txt", b"hello chunkfs\n")
w("empty", b"")
w("d1/d2/d3/deep.bin", os.urandom(100000))
big = os.urandom(10 * 1024 * 1024 + 12345)  # > one 4 MiB chunk
w("big.bin", big)
w("d1/hl_a", b"hard link payload\n" * 100)
os.link(s + "/d1/hl_a", s + "/d1/d2/hl_b")
os.link(s + "/d1/hl_a", s + "/hl_c")
os.symlink("d1/d2/d3/deep.bin", s + "/link_rel")
os.symlink("/nonexistent/target" + "x" * 200, s + "/link_long")
os.mkfifo(s + "/fifo", 0o640)
sk = socket.socket(socket.AF_UNIX); sk.bind(s + "/sock"); sk.close()
with open(s + "/sparse", "wb") as f:       # 20 MiB, 4 KiB of data at 8 MiB
    f.truncate(20 * 1024 * 1024)
    f.seek(8 * 1024 * 1024); f.write(b"x" * 4096)
w("xattr_file", b"has an xattr\n")
os.setxattr(s + "/xattr_file", "user.test", b"value-123")
os.setxattr(s + "/d1", "user.dirattr", b"d")
w("d1/mode4750", b"#!/bin/sh\n")
os.chmod(s + "/d1/mode4750", 0o4750)
os.chmod(s + "/empty_dir", 0o1777)
os.utime(s + "/small.txt", ns=(1000000000123456789, 1100000000987654321))
for i in range(50):
    w("d1/many_%03d" % i, b"%d\n" % i * i)
if os.geteuid() == 0:
    os.chown(s + "/small.txt", 1234, 5678)
    os.lchown(s + "/link_rel", 4321, 8765)
    try:
        os.mknod(s + "/null", 0o20666, os.makedev(1, 3))
    except OSError:
        pass
PY

# What the tree holds, counted the way chunkfs stat counts.
python3 - "$SRC" >"$W/want" <<'PY'
import os, sys, stat, json
s = sys.argv[1]
seen = set(); c = dict(files=0, regular_files=0, symlinks=0, other_files=0,
                      directories=1, bytes=0)
for root, dirs, files in os.walk(s):
    for d in dirs:
        c["directories"] += 1
    for f in files:
        st = os.lstat(os.path.join(root, f))
        if st.st_ino in seen:
            continue
        seen.add(st.st_ino)
        c["files"] += 1
        if stat.S_ISREG(st.st_mode):
            c["regular_files"] += 1; c["bytes"] += st.st_size
        elif stat.S_ISLNK(st.st_mode):
            c["symlinks"] += 1
        else:
            c["other_files"] += 1
print(json.dumps(c))
PY

# Baseline: blocks used by an empty fs with the same geometry.
expect_ok "mkfs empty" "$MKFS" -q -C 4M "$IMG" 128M
"$TOOL" stat --json "$IMG" >"$W/j0" 2>&1 || fail "stat of the empty fs"

rm -f "$IMG"
expect_ok "mkfs -d" "$MKFS" -C 4M -d "$SRC" "$IMG" 128M
grep -q 'Copied' "$W/out" || fail "no progress output"
cp "$W/out" "$W/mkfs.out"
grep -i 'warning' "$W/mkfs.out" && fail "warnings while copying"

expect_ok "stat --json after -d" "$TOOL" stat --json "$IMG" /big.bin /d1/hl_a /d1/d2/hl_b /hl_c /small.txt
cp "$W/out" "$W/j"
for k in files regular_files symlinks other_files bytes; do
	check_eq "$k" "$(jget "$W/j" "j['$k']")" "$(jget "$W/want" "j['$k']")"
done
# mkfs also makes /lost+found with a chunk-K directory per chunk
check_eq "directories" "$(jget "$W/j" "j['directories']")" \
	"$(( $(jget "$W/want" "j['directories']") + 1 + $(jget "$W/j" "j['nchunks']") ))"
check_eq "files_with_continuations >= 1" "$(jget "$W/j" 'j["files_with_continuations"] >= 1')" True
check_eq "continuations >= 1" "$(jget "$W/j" 'j["continuations"] >= j["files_with_continuations"]')" True
check_eq "cross_chunk_links >= continuations" "$(jget "$W/j" 'j["cross_chunk_links"] >= j["continuations"]')" True
check_eq "chunk links even in total" "$(jget "$W/j" 'sum(c["links"] for c in j["chunks"]) % 2')" 0
check_eq "errors" "$(jget "$W/j" 'j["errors"]')" 0
check_eq "big.bin has continuations" "$(jget "$W/j" 'j["paths"][0]["continuations"] >= 2')" True
check_eq "big.bin continuation chunks listed" "$(jget "$W/j" 'len(j["paths"][0]["continuation_chunks"]) == min(64, j["paths"][0]["continuations"])')" True
check_eq "big.bin continuations elsewhere" "$(jget "$W/j" 'all(c != j["paths"][0]["chunk"] for c in j["paths"][0]["continuation_chunks"])')" True
check_eq "big.bin chunk = ino>>32" "$(jget "$W/j" 'j["paths"][0]["chunk"] == j["paths"][0]["ino"] >> 32')" True
check_eq "big.bin size" "$(jget "$W/j" 'j["paths"][0]["size"]')" $((10 * 1024 * 1024 + 12345))
check_eq "hard links share an inode" "$(jget "$W/j" 'len(set(p["ino"] for p in j["paths"][1:4]))')" 1
check_eq "hard link count" "$(jget "$W/j" 'j["paths"][1]["nlink"]')" 3
check_eq "small.txt size" "$(jget "$W/j" 'j["paths"][4]["size"]')" 14
# Sparse: the 20 MiB file with 4 KiB of data must not take 20 MiB.
used=$(python3 -c 'import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
print((b["used_blocks"]-a["used_blocks"])*b["block_size"])' "$W/j0" "$W/j")
want=$(jget "$W/want" 'j["bytes"]')
if [ "$used" -lt $((want - 15 * 1024 * 1024)) ]; then ok "sparse file kept sparse ($used bytes used for $want)"
else fail "sparse file not sparse: $used bytes used for $want bytes of files"; fi

# text output with a path
expect_ok "stat text path" "$TOOL" stat "$IMG" /big.bin
grep -Eq '^/big.bin: inode [0-9]+ \([0-9]+:[0-9]+\), [0-9]+ continuations in chunks( [0-9]+)+$' "$W/out" || fail "text path line: $(grep big.bin "$W/out")"

# Not enough room: the copy fails cleanly.
expect_fail "-d into a too small fs" 'no space left' "$MKFS" -q -C 4M -d "$SRC" "$W/small" 9M

# An xattr value chunkfs may not hold (values must fit in part of a
# metadata block) is skipped with a warning, not a failed mkfs.
mkdir "$W/src2" && echo x >"$W/src2/f" &&
	python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.big", b"v" * 3000)' "$W/src2/f"
expect_ok "-d with a 3000-byte xattr" "$MKFS" -q -C 4M -d "$W/src2" "$W/img2" 32M
if [ -s "$W/out" ] && ! grep -q 'user.big.*too large' "$W/out"; then
	fail "unexpected output for the big xattr: $(cat "$W/out")"
fi
expect_ok "stat of it" "$TOOL" stat --json "$W/img2"
check_eq "the file is there" "$(jget "$W/out" 'j["regular_files"]')" 1

# Content through FUSE, when the daemon is there and works.
FUSE="$CFS_BIN/chunkfs-fuse"
if [ -x "$FUSE" ] && [ -e /dev/fuse ] && command -v fusermount3 >/dev/null; then
	mkdir "$W/mnt"
	"$FUSE" -f "$IMG" "$W/mnt" >"$W/fuse.log" 2>&1 &
	fpid=$!
	n=0
	while ! mountpoint -q "$W/mnt" && [ $n -lt 100 ] && kill -0 $fpid 2>/dev/null; do
		sleep 0.1; n=$((n + 1))
	done
	if mountpoint -q "$W/mnt"; then
		if python3 - "$SRC" "$W/mnt" <<'PY'
import os, sys, stat, hashlib
src, mnt = sys.argv[1], sys.argv[2]
bad = 0
def err(*a):
    global bad; bad += 1; print("MISMATCH:", *a)
def tree(top):
    out = {}
    for root, dirs, files in os.walk(top):
        if root == top and "lost+found" in dirs and top != src:
            dirs.remove("lost+found")   # made by mkfs
        for n in dirs + files:
            p = os.path.join(root, n); out[os.path.relpath(p, top)] = os.lstat(p)
    return out
a, b = tree(src), tree(mnt)
if set(a) != set(b):
    err("names differ:", sorted(set(a) ^ set(b)))
groups_a, groups_b = {}, {}
for rel in sorted(set(a) & set(b)):
    x, y = a[rel], b[rel]
    if stat.S_IFMT(x.st_mode) != stat.S_IFMT(y.st_mode): err(rel, "type"); continue
    if not stat.S_ISLNK(x.st_mode) and stat.S_IMODE(x.st_mode) != stat.S_IMODE(y.st_mode):
        err(rel, "mode %o %o" % (x.st_mode, y.st_mode))
    if (x.st_uid, x.st_gid) != (y.st_uid, y.st_gid): err(rel, "owner", x.st_uid, y.st_uid)
    if not stat.S_ISLNK(x.st_mode) and x.st_mtime_ns != y.st_mtime_ns: err(rel, "mtime", x.st_mtime_ns, y.st_mtime_ns)
    if stat.S_ISREG(x.st_mode):
        if x.st_size != y.st_size: err(rel, "size", x.st_size, y.st_size)
        ha = hashlib.sha256(open(os.path.join(src, rel), "rb").read()).hexdigest()
        hb = hashlib.sha256(open(os.path.join(mnt, rel), "rb").read()).hexdigest()
        if ha != hb: err(rel, "content")
        groups_a.setdefault(x.st_ino, set()).add(rel); groups_b.setdefault(y.st_ino, set()).add(rel)
    if stat.S_ISLNK(x.st_mode) and os.readlink(os.path.join(src, rel)) != os.readlink(os.path.join(mnt, rel)):
        err(rel, "symlink target")
    if stat.S_ISCHR(x.st_mode) and x.st_rdev != y.st_rdev: err(rel, "rdev")
    if not stat.S_ISLNK(x.st_mode):
        xa = {k: os.getxattr(os.path.join(src, rel), k) for k in os.listxattr(os.path.join(src, rel)) if k.startswith("user.")}
        try:
            xb = {k: os.getxattr(os.path.join(mnt, rel), k) for k in os.listxattr(os.path.join(mnt, rel)) if k.startswith("user.")}
        except OSError as e:
            xb = str(e)
        if xa != xb: err(rel, "xattrs", xa, xb)
if sorted(map(sorted, groups_a.values())) != sorted(map(sorted, groups_b.values())):
    err("hard link groups differ")
sp = os.lstat(os.path.join(mnt, "sparse"))
if sp.st_blocks * 512 > 1024 * 1024: err("sparse file takes", sp.st_blocks * 512)
print("fuse compare:", len(a), "entries,", bad, "mismatches")
sys.exit(1 if bad else 0)
PY
		then ok "content matches through FUSE"; else fail "content differs through FUSE"; fi
		# While chunkfs-fuse serves the image, both tools refuse it.
		expect_fail "stat of a FUSE-mounted image" 'is mounted; unmount it first' "$TOOL" stat "$IMG"
		expect_fail "mkfs of a FUSE-mounted image" 'in use|is mounted' "$MKFS" -q -F "$IMG"
		expect_fail "mkfs -n of a FUSE-mounted image" 'in use|is mounted' "$MKFS" -n "$IMG"
		fusermount3 -u "$W/mnt" || fail "fusermount3 -u"
		wait $fpid || fail "chunkfs-fuse exited non-zero: $(tail -5 "$W/fuse.log")"
		grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$W/fuse.log" && fail "sanitizer report in chunkfs-fuse"
		expect_ok "stat after FUSE mount" "$TOOL" stat --json "$IMG"
	else
		echo "skip: chunkfs-fuse did not mount: $(tail -3 "$W/fuse.log")"
		kill $fpid 2>/dev/null; wait $fpid 2>/dev/null
	fi
else
	echo "skip: no working chunkfs-fuse; content not checked through FUSE"
fi

finish
