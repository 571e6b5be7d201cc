#!/bin/sh
# chunkfs cref on small ext4 images made here with mkfs.ext4 -d: the links
# it reports must equal what the ext4 layout implies, computed independently
# from debugfs's own view of the image (extent leaves of every file, the
# inode table block of every inode, the entries of every directory), for
# regions smaller than, equal to and larger than a block group; a region
# holding the whole image gives no links at all; files forced to be larger
# than a region must span regions.  Error cases.
. "$(dirname "$0")/lib.sh"
command -v mkfs.ext4 >/dev/null && command -v debugfs >/dev/null ||
	{ echo "FATAL: mkfs.ext4/debugfs missing (e2fsprogs; tests/deps.sh)"; exit 1; }
SRC=$W/src
EXT=$W/ext4.img

# The tree: two files larger than a block group (10 MiB and 6 MiB; the
# groups are 4 MiB), six top-level directories (which the Orlov allocator
# spreads over groups) with small and 1 MiB files, one directory of 150
# files (more than a group's 64 inodes), a nested directory and hard links
# across directories.
python3 - "$SRC" <<'EOF' || exit 1
import os, sys, random
top = sys.argv[1]; r = random.Random(7)
os.makedirs(top)
def put(p, n):
    with open(p, "wb") as f: f.write(bytes(r.getrandbits(8) for _ in range(min(n, 4096))) * (n // 4096) + b"x" * (n % 4096))
put(f"{top}/big10", 10 << 20)
put(f"{top}/big6", 6 << 20)
for d in range(6):
    os.makedirs(f"{top}/d{d}/sub")
    for i in range(10):
        put(f"{top}/d{d}/f{i}", r.randrange(0, 20000))
    put(f"{top}/d{d}/m", 1 << 20)
    put(f"{top}/d{d}/sub/s", 5000)
os.makedirs(f"{top}/many")
for i in range(150):
    put(f"{top}/many/x{i}", 100)
os.link(f"{top}/d0/f0", f"{top}/d3/hard-f0")
os.link(f"{top}/many/x1", f"{top}/d5/hard-x1")
EOF
# 4 KiB blocks, 16 groups of 4 MiB, inode tables in their own groups (no
# flex_bg), 64 inodes per group.
mkfs.ext4 -q -F -b 4096 -g 1024 -N 1024 -O ^flex_bg,^resize_inode \
	-d "$SRC" "$EXT" 64M >"$W/mkfs.out" 2>&1 || { cat "$W/mkfs.out"; exit 1; }

# expected CHUNK_BYTES: the counts from debugfs's view, as JSON.
expected() {
	python3 - "$EXT" "$SRC" "$1" <<'EOF'
import json, os, re, subprocess, sys
img, src, csize = sys.argv[1], sys.argv[2], int(sys.argv[3])
bpr = csize // 4096
def debugfs(cmds):
    with open(img + ".cmds", "w") as f: f.write("\n".join(cmds) + "\n")
    out = subprocess.run(["debugfs", "-f", img + ".cmds", img], capture_output=True, text=True).stdout
    res, cur = [], None
    for line in out.splitlines():
        if line.startswith("debugfs: "):
            cur = []; res.append(cur)
        elif cur is not None:
            cur.append(line)
    assert len(res) == len(cmds), (len(res), len(cmds))
    return res
dirs = ["/", "/lost+found"] + ["/" + os.path.relpath(os.path.join(p, d), src)
                               for p, ds, _ in os.walk(src) for d in ds]
ents, kind, dino = {}, {}, {}
for path, out in zip(dirs, debugfs(["ls -p " + d for d in dirs])):
    e = []
    for line in out:
        m = re.match(r"^/(\d+)/(\d+)/\d+/\d+/(.*)/\d*/$", line)
        if not m:
            continue
        ino, mode, name = int(m[1]), int(m[2], 8), m[3]
        if name == ".":
            kind[ino] = "d"; dino[path] = ino
        if name in (".", "..") or ino == 0:
            continue
        e.append(ino)
        kind[ino] = "d" if mode & 0o170000 == 0o040000 else "f" if mode & 0o170000 == 0o100000 else "o"
    ents[path] = e
inos = sorted(kind)
iblk = {}
for ino, out in zip(inos, debugfs(["imap <%d>" % i for i in inos])):
    iblk[ino] = int(re.search(r"located at block (\d+)", "\n".join(out))[1])
files = [i for i in inos if kind[i] == "f"]
links_of = {}
for ino, out in zip(files, debugfs(["ex <%d>" % i for i in files])):
    regs = []
    for line in out:
        m = re.match(r"^\s*(\d+)/\s*(\d+)\s+\d+/\s*\d+\s+\d+\s*-\s*\d+\s+(\d+)\s*-\s*(\d+)\s+\d+", line)
        if m and m[1] == m[2]:
            for b in range(int(m[3]), int(m[4]) + 1):
                if not regs or regs[-1] != b // bpr:
                    regs.append(b // bpr)
    links_of[ino] = max(len(set(regs)) - 1, 0)
dl = {}
for path in dirs:
    regs = {iblk[dino[path]] // bpr} | {iblk[i] // bpr for i in ents[path]}
    dl[path] = len(regs) - 1
fl = sum(links_of.values()); dsum = sum(dl.values())
print(json.dumps({
    "regular_files": len(files), "directories": len(dirs),
    "file_links": fl, "directory_links": dsum, "cross_chunk_links": fl + dsum,
    "files_with_links": sum(1 for v in links_of.values() if v),
    "directories_with_links": sum(1 for v in dl.values() if v),
    "max_links_per_file": max(links_of.values()),
    "max_links_per_directory": max(dl.values()),
}, sort_keys=True))
EOF
}

KEYS="regular_files directories file_links directory_links cross_chunk_links files_with_links directories_with_links max_links_per_file max_links_per_directory"
for cs in 1048576 4194304 8388608; do
	expected $cs >"$W/want.$cs" || { fail "debugfs view for chunk size $cs"; continue; }
	expect_ok "cref --chunk-size $cs --json" "$TOOL" cref "$EXT" --chunk-size $cs --json || continue
	cp "$W/out" "$W/got.$cs"
	for k in $KEYS; do
		check_eq "chunk $cs: $k" "$(jget "$W/got.$cs" "j['$k']")" "$(jget "$W/want.$cs" "j['$k']")"
	done
	check_eq "chunk $cs: errors" "$(jget "$W/got.$cs" "j['errors']")" 0
done
# Known by construction, whatever the allocator did: the 10 MiB file needs
# at least 3 regions of 4 MiB and at least 10 of 1 MiB, the 6 MiB file
# at least 2 and 6; the 150-entry directory's inodes do not fit one group.
check_eq "4M: files with links >= 2" "$(jget "$W/got.4194304" 'j["files_with_links"] >= 2')" True
check_eq "4M: most on one file >= 2" "$(jget "$W/got.4194304" 'j["max_links_per_file"] >= 2')" True
check_eq "1M: most on one file >= 9" "$(jget "$W/got.1048576" 'j["max_links_per_file"] >= 9')" True
check_eq "1M: file links >= 14" "$(jget "$W/got.1048576" 'j["file_links"] >= 14')" True
check_eq "4M: directories with links >= 1" "$(jget "$W/got.4194304" 'j["directories_with_links"] >= 1')" True
check_eq "regular files" "$(jget "$W/got.4194304" 'j["regular_files"]')" $((2 + 6 * 12 + 150))
check_eq "directories (root, lost+found, 6x2, many)" "$(jget "$W/got.4194304" 'j["directories"]')" 15
check_eq "fewer links with larger chunks" "$(python3 -c 'import json,sys; a,b,c=(json.load(open(f))["cross_chunk_links"] for f in sys.argv[1:]); print(a >= b >= c)' "$W/got.1048576" "$W/got.4194304" "$W/got.8388608")" True
check_eq "shares" "$(jget "$W/got.4194304" 'abs(j["files_with_links_pct"] - 100.0 * j["files_with_links"] / j["regular_files"]) < 0.01')" True
check_eq "cross pass at one seek a link" "$(jget "$W/got.4194304" 'abs(j["cross_pass_seconds_all"] - j["cross_chunk_links"] * j["seek_ms"] / 1000) < 0.002')" True

# One region holding the whole image: no link at all.
expect_ok "cref --chunk-size 64M" "$TOOL" cref "$EXT" --chunk-size 64M --json &&
	check_eq "one chunk: links" "$(jget "$W/out" 'j["cross_chunk_links"]')" 0

# Text output agrees with the JSON.
expect_ok "cref text" "$TOOL" cref "$EXT" --chunk-size 4M
grep -Eq "^Cross-chunk links: +$(jget "$W/got.4194304" 'j["cross_chunk_links"]') \(files $(jget "$W/got.4194304" 'j["file_links"]'), directories $(jget "$W/got.4194304" 'j["directory_links"]')\)\$" "$W/out" ||
	{ fail "text: Cross-chunk links line"; cat "$W/out"; }
grep -Eq "^Most on one file: +$(jget "$W/got.4194304" 'j["max_links_per_file"]') " "$W/out" || fail "text: Most on one file line"

# read-only
sum1=$(sha256sum <"$EXT")
"$TOOL" cref "$EXT" --chunk-size 4M >/dev/null 2>&1
check_eq "cref does not write" "$(sha256sum <"$EXT")" "$sum1"

# errors
expect_fail "no chunk size" 'chunk-size is required' "$TOOL" cref "$EXT"
expect_fail "no image" 'no image' "$TOOL" cref --chunk-size 4M
expect_fail "bad chunk size" 'bad chunk size' "$TOOL" cref "$EXT" --chunk-size 4Q
expect_fail "chunk size not a multiple of the block size" 'not a multiple' "$TOOL" cref "$EXT" --chunk-size 6000
head -c 8388608 /dev/zero >"$W/zero"
expect_fail "not an ext image" 'cannot open as ext2' "$TOOL" cref "$W/zero" --chunk-size 4M
expect_fail "missing image" 'cannot open' "$TOOL" cref "$W/nope" --chunk-size 4M

finish
