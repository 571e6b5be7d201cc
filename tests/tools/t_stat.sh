#!/bin/sh
# chunkfs stat on an empty filesystem: counts, chunk table, PATH lookups,
# error cases (usage, missing image, not a chunkfs image, busy image).
. "$(dirname "$0")/lib.sh"
IMG=$W/img

expect_ok "mkfs" "$MKFS" -q -C 4M -L emptyfs "$IMG" 64M

expect_ok "stat --json" "$TOOL" stat --json "$IMG"
cp "$W/out" "$W/j"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$W/j" || fail "stat --json is not valid JSON"
check_eq "files" "$(jget "$W/j" 'j["files"]')" 0
# root, /lost+found and its chunk-K directory in every chunk (mkfs)
check_eq "directories" "$(jget "$W/j" 'j["directories"]')" "$(jget "$W/j" '2 + j["nchunks"]')"
check_eq "regular_files" "$(jget "$W/j" 'j["regular_files"]')" 0
check_eq "files_with_continuations" "$(jget "$W/j" 'j["files_with_continuations"]')" 0
# /lost+found continues into every other chunk, one link each
check_eq "directories_with_continuations" "$(jget "$W/j" 'j["directories_with_continuations"]')" "$(jget "$W/j" 'int(j["nchunks"] > 1)')"
check_eq "continuations" "$(jget "$W/j" 'j["continuations"]')" "$(jget "$W/j" 'j["nchunks"] - 1')"
check_eq "cross_chunk_links" "$(jget "$W/j" 'j["cross_chunk_links"]')" "$(jget "$W/j" 'j["nchunks"] - 1')"
check_eq "bytes" "$(jget "$W/j" 'j["bytes"]')" 0
check_eq "label" "$(jget "$W/j" 'j["label"]')" emptyfs
check_eq "paths empty" "$(jget "$W/j" 'j["paths"]')" "[]"
check_eq "one chunk entry per chunk" "$(jget "$W/j" 'len(j["chunks"]) == j["nchunks"] and j["nchunks"] >= 10')" True
check_eq "chunk indexes" "$(jget "$W/j" '[c["index"] for c in j["chunks"]] == list(range(j["nchunks"]))')" True
check_eq "chunks clean" "$(jget "$W/j" 'set(c["state"] for c in j["chunks"])')" "{'clean'}"
check_eq "chunk blocks sane" "$(jget "$W/j" 'all(0 < c["free_blocks"] < c["blocks"] for c in j["chunks"])')" True
check_eq "chunk inodes sane" "$(jget "$W/j" 'all(0 < c["free_inodes"] < c["inodes"] for c in j["chunks"])')" True
# /lost+found's continuation in every other chunk: two ends each
check_eq "links of /lost+found" "$(jget "$W/j" 'sum(c["links"] for c in j["chunks"])')" "$(jget "$W/j" '2 * (j["nchunks"] - 1)')"
# what links cost: one link index block per chunk (its root, from mkfs),
# a continuation inode per link, no continuation tree blocks yet
check_eq "link_index_blocks" "$(jget "$W/j" 'j["link_index_blocks"]')" "$(jget "$W/j" 'j["nchunks"]')"
check_eq "link_index_blocks per chunk" "$(jget "$W/j" 'set(c["link_index_blocks"] for c in j["chunks"])')" "{1}"
check_eq "continuation_inode_bytes" "$(jget "$W/j" 'j["continuation_inode_bytes"]')" "$(jget "$W/j" '256 * (j["nchunks"] - 1)')"
check_eq "continuation_tree_blocks" "$(jget "$W/j" 'j["continuation_tree_blocks"]')" 0
check_eq "link_overhead_bytes" "$(jget "$W/j" 'j["link_overhead_bytes"]')" "$(jget "$W/j" '256 * (j["nchunks"] - 1)')"
check_eq "files_with_continuations_pct" "$(jget "$W/j" 'j["files_with_continuations_pct"]')" 0.0
check_eq "max_continuations_per_file" "$(jget "$W/j" 'j["max_continuations_per_file"]')" 0
check_eq "max_continuations_file" "$(jget "$W/j" 'j["max_continuations_file"]')" ""
check_eq "max_continuations_per_directory" "$(jget "$W/j" 'j["max_continuations_per_directory"]')" "$(jget "$W/j" 'j["nchunks"] - 1')"
check_eq "max_continuations_directory" "$(jget "$W/j" 'j["max_continuations_directory"]')" /lost+found
check_eq "chunk 0 holds the root" "$(jget "$W/j" 'j["chunks"][0]["inodes"] - j["chunks"][0]["free_inodes"] >= 1')" True

# text output
expect_ok "stat text" "$TOOL" stat "$IMG"
grep -Eq '^Files: +0 ' "$W/out" || fail "text: Files line"
grep -Eq "^Directories: +$(jget "$W/j" '2 + j["nchunks"]')\$" "$W/out" || fail "text: Directories line"
grep -Eq "^Continuations: +$(jget "$W/j" 'j["nchunks"] - 1')( |\$)" "$W/out" || fail "text: Continuations line"
grep -Eq "^ +0 +clean +[0-9]+/[0-9]+ +[0-9]+/[0-9]+ +$(jget "$W/j" 'j["nchunks"] - 1') +1\$" "$W/out" || fail "text: chunk 0 row"
rows=$(grep -Ec '^ +[0-9]+ +clean ' "$W/out")
check_eq "text: one row per chunk" "$rows" "$(jget "$W/j" 'j["nchunks"]')"

# PATH arguments
expect_ok "stat / --json" "$TOOL" stat --json "$IMG" /
cp "$W/out" "$W/j"
check_eq "root path ino" "$(jget "$W/j" 'j["paths"][0]["ino"]')" 1
check_eq "root path chunk" "$(jget "$W/j" 'j["paths"][0]["chunk"]')" 0
check_eq "root path path" "$(jget "$W/j" 'j["paths"][0]["path"]')" /
check_eq "root continuations" "$(jget "$W/j" 'j["paths"][0]["continuations"]')" 0
check_eq "root continuation_chunks" "$(jget "$W/j" 'j["paths"][0]["continuation_chunks"]')" "[]"
expect_ok "stat / text" "$TOOL" stat "$IMG" /
grep -Eq '^/: inode 1 \(0:1\), 0 continuations' "$W/out" || fail "text: path line"

# errors
expect_fail "path not found" 'no such file' "$TOOL" stat "$IMG" /nonexistent
expect_fail "path not found (json)" 'no such file' "$TOOL" stat --json "$IMG" /a/b
expect_fail "no subcommand" 'usage' "$TOOL"
expect_fail "unknown subcommand" 'unknown subcommand' "$TOOL" frobnicate "$IMG"
expect_fail "stat without image" 'no image' "$TOOL" stat
expect_fail "stat bad option" 'usage' "$TOOL" stat --bogus "$IMG"
expect_fail "missing image" 'cannot open' "$TOOL" stat "$W/nope"
head -c 8388608 /dev/zero >"$W/zero"
expect_fail "not a chunkfs image" 'cannot mount' "$TOOL" stat "$W/zero"
expect_ok "help" "$TOOL" help
grep -q '^  stat ' "$W/out" || fail "help lists no stat"
expect_ok "help stat" "$TOOL" help stat
grep -q 'stat \[--json\] IMAGE' "$W/out" || fail "help stat usage"

# read-only: stat must not modify the image
sum1=$(sha256sum <"$IMG")
"$TOOL" stat "$IMG" >/dev/null 2>&1
check_eq "stat does not write" "$(sha256sum <"$IMG")" "$sum1"

# busy (a FUSE daemon holds an exclusive lock)
hold_lock "$IMG"
expect_fail "busy image" 'is mounted; unmount it first' "$TOOL" stat "$IMG"
release_locks
expect_ok "stat after release" "$TOOL" stat "$IMG"

finish
