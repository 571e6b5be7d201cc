#!/bin/sh
# chunkfs age: a short aging run on small chunks (4 MiB, files up to 6 MiB,
# filled to 85%, three rounds of deleting, renaming, growing and refilling)
# completes; what it reports it made is what is on the mount (names, files,
# hard links, directories, bytes); after unmounting, fsck.chunkfs -fn finds
# nothing, and chunkfs stat agrees with both: the same files, directories
# and bytes, a continuation for every file larger than a chunk, the per-chunk
# link counts adding up to twice the links, and the space figures adding up;
# its distribution of continuations per file (the histogram, the files over
# the bound and their list) agrees with every file's own chunkfs stat PATH.
. "$(dirname "$0")/lib.sh"
is_chunkfs || { echo "SKIP is not PASS: t_age needs the chunkfs backend"; exit 1; }

mkimg "$IMG" 96M -C 4M
mount_fs "$IMG" "$MNT"
note "aging"
"$CFS_BIN/chunkfs" age "$MNT" --seed 5 --fill 85 --rounds 3 --max-file 6M \
	--json >"$T/age.json" 2>"$T/age.err" || { cat "$T/age.err" "$T/age.json"; fail "chunkfs age failed"; }
cat "$T/age.err"
cat "$T/age.json"
py "$MNT" "$T/age.json" <<'EOF'
import json, os, sys
from cfs_util import *
M, a = sys.argv[1], json.load(open(sys.argv[2]))
eq(a["ok"], True, "age reports success")
eq(a["top"], "age.5", "top directory")
check(a["used_pct"] >= 84.0, "filled to %.1f%%, wanted 85%%" % a["used_pct"])
check(a["created"] > 200 and a["deleted"] > 50 and a["renamed"] > 5 and
      a["appended"] > 0 and a["hard_links_made"] > 0, "every kind of operation ran")
names, inos, dirs, size = 0, {}, 1, 0
for root, ds, fs in os.walk(os.path.join(M, a["top"])):
    dirs += len(ds)
    for f in fs:
        st = os.lstat(os.path.join(root, f))
        names += 1
        inos[st.st_ino] = st.st_size
eq(names, a["names"], "names on the mount")
eq(len(inos), a["files"], "files (distinct inodes) on the mount")
eq(dirs, a["directories"], "directories on the mount")
eq(sum(inos.values()), a["bytes"], "bytes on the mount")
check(names > len(inos), "some hard links survived")
big = sum(1 for s in inos.values() if s > 4 << 20)
open(os.path.join(os.path.dirname(sys.argv[2]), "big"), "w").write(str(big))
# one name of every regular file, for chunkfs stat PATH... below
seen, paths = set(), []
for root, ds, fs in os.walk(os.path.join(M, a["top"])):
    for f in fs:
        p = os.path.join(root, f)
        st = os.lstat(p)
        if st.st_ino not in seen:
            seen.add(st.st_ino)
            paths.append(p[len(M):])
open(os.path.join(os.path.dirname(sys.argv[2]), "paths"), "w").write("\n".join(sorted(paths)) + "\n")
log("%d files, %d names, %d directories, %d bytes; %d files larger than a chunk" %
    (len(inos), names, dirs, sum(inos.values()), big))
EOF
umount_fs "$MNT"

note "fsck.chunkfs -fn"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck.chunkfs -fn found problems after aging"; }
tail -n 1 "$T/fsck.out"
grep -q ' 0 problems found' "$T/fsck.out" || { cat "$T/fsck.out"; fail "fsck summary"; }

note "chunkfs stat"
"$CFS_BIN/chunkfs" stat --json "$IMG" >"$T/stat.json" || fail "chunkfs stat --json failed"
"$CFS_BIN/chunkfs" stat "$IMG" >"$T/stat.txt" || fail "chunkfs stat failed"
sed -n '1,20p' "$T/stat.txt"
py "$T/stat.json" "$T/age.json" "$T/big" "$T/stat.txt" <<'EOF'
import json, re, sys
from cfs_util import *
s, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
big = int(open(sys.argv[3]).read())
text = open(sys.argv[4]).read()
eq(s["errors"], 0, "stat errors")
eq(s["regular_files"], a["files"], "regular files")
eq(s["files"], a["files"], "files")
eq(s["bytes"], a["bytes"], "bytes")
# root, /lost+found and its chunk-K directories besides the aged tree
eq(s["directories"], a["directories"] + 2 + s["nchunks"], "directories")
check(big >= 1, "the run left a file larger than a chunk")
check(s["files_with_continuations"] >= big,
      "%d files with continuations, %d files larger than a chunk" % (s["files_with_continuations"], big))
check(s["files_with_continuations"] <= s["regular_files"], "share <= 100%")
eq(round(s["files_with_continuations_pct"], 2),
   round(100.0 * s["files_with_continuations"] / s["regular_files"], 2), "share of files with continuations")
check(s["max_continuations_per_file"] >= 1, "most continuations on one file >= 1")
check(s["max_continuations_file"].startswith("/age.5/"), "the file with most continuations is named")
eq(sum(c["links"] for c in s["chunks"]), 2 * s["cross_chunk_links"], "per-chunk links add up")
eq(s["cross_chunk_links"], s["continuations"], "one link per continuation")
eq(s["continuation_inode_bytes"], 256 * s["continuations"], "continuation inode bytes")
eq(s["link_index_blocks"], sum(c["link_index_blocks"] for c in s["chunks"]), "link index blocks add up")
check(all(c["link_index_blocks"] >= 1 for c in s["chunks"]), "every chunk has its link index root")
eq(s["link_overhead_bytes"], s["continuation_inode_bytes"] +
   (s["continuation_tree_blocks"] + s["link_index_blocks"] - s["nchunks"]) * s["block_size"],
   "space for links")
m = re.search(r"^Files with continuations: +(\d+) \(([0-9.]+)% of regular files\)$", text, re.M)
check(m and int(m[1]) == s["files_with_continuations"], "text: files with continuations")
m = re.search(r"^Most on one file: +(\d+) (\S+)$", text, re.M)
check(m and int(m[1]) == s["max_continuations_per_file"] and m[2] == s["max_continuations_file"],
      "text: most on one file")
log("stat: %d of %d files with continuations (%.2f%%), most %d on %s, %d links, %d bytes for links" %
    (s["files_with_continuations"], s["regular_files"], s["files_with_continuations_pct"],
     s["max_continuations_per_file"], s["max_continuations_file"], s["cross_chunk_links"],
     s["link_overhead_bytes"]))
EOF

note "chunkfs stat: the distribution of continuations per file"
# every regular file's own count (chunkfs stat IMAGE PATH...) against the
# histogram, the count over the bound and the list of those files
xargs "$CFS_BIN/chunkfs" stat --json "$IMG" <"$T/paths" >"$T/paths.json" || fail "chunkfs stat --json IMAGE PATH... failed"
py "$T/stat.json" "$T/paths.json" <<'EOF'
import json, sys
from cfs_util import *
s, p = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["paths"]
eq(len(p), s["regular_files"], "one stat per regular file")
count = {}
for f in p:
    count[f["continuations"]] = count.get(f["continuations"], 0) + 1
eq([tuple(x) for x in s["continuations_per_file_histogram"]], sorted(count.items()), "the histogram")
over = {f["path"]: f for f in p if f["continuations"] > f["size"] * 10 // (1 << 30) + 2}
eq(s["files_over_continuation_bound"], len(over), "files over the bound")
lst = s["files_over_continuation_bound_list"]
eq(len(lst), min(len(over), 32), "the list of files over the bound")
for o in lst:
    check(o["path"] in over, "%s is over the bound" % o["path"])
    eq((o["size"], o["continuations"]), (over[o["path"]]["size"], over[o["path"]]["continuations"]),
       "%s: size and continuations" % o["path"])
log("histogram %s; %d files over the bound" % (s["continuations_per_file_histogram"], len(over)))
EOF

note "errors"
"$CFS_BIN/chunkfs" age "$T/nonexistent" >"$T/err.out" 2>&1 && fail "age on a missing directory succeeded"
grep -q "No such file" "$T/err.out" || { cat "$T/err.out"; fail "age: message for a missing directory"; }
"$CFS_BIN/chunkfs" age "$T" --fill 0 >"$T/err.out" 2>&1 && fail "age --fill 0 succeeded"
grep -q "bad value" "$T/err.out" || { cat "$T/err.out"; fail "age: message for --fill 0"; }
finish
