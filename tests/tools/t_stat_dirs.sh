#!/bin/sh
# chunkfs stat on big directories: a directory of 1000 files and one of 300
# subdirectories outgrow a 4 MiB chunk (270 inodes), so they get
# continuations; stat must still see every entry once, and count them.
# Also: JSON escaping of odd path names.
. "$(dirname "$0")/lib.sh"
IMG=$W/img
SRC=$W/src
mkdir -p "$SRC/many" "$SRC/sub" || exit 1
i=1
while [ $i -le 1000 ]; do echo $i >"$SRC/many/f$i"; i=$((i + 1)); done
i=1
while [ $i -le 300 ]; do mkdir "$SRC/sub/d$i"; i=$((i + 1)); done
WEIRD='we"ird\na me	tab'
printf 'x' >"$SRC/$WEIRD"

expect_ok "mkfs -d" "$MKFS" -q -C 4M -d "$SRC" "$IMG" 128M
expect_ok "stat --json" "$TOOL" stat --json "$IMG" /many /sub "/$WEIRD" /many/f1000
cp "$W/out" "$W/j"
check_eq "files" "$(jget "$W/j" 'j["files"]')" 1001
check_eq "directories" "$(jget "$W/j" 'j["directories"]')" "$(jget "$W/j" '303 + 1 + j["nchunks"]')"
check_eq "bytes" "$(jget "$W/j" 'j["bytes"]')" $(cat "$SRC"/many/* "$SRC/$WEIRD" | wc -c)
check_eq "no file continuations" "$(jget "$W/j" 'j["files_with_continuations"]')" 0
check_eq "directories_with_continuations >= 2" "$(jget "$W/j" 'j["directories_with_continuations"] >= 2')" True
check_eq "/many has continuations" "$(jget "$W/j" 'j["paths"][0]["continuations"] >= 1')" True
check_eq "/sub has continuations" "$(jget "$W/j" 'j["paths"][1]["continuations"] >= 1')" True
check_eq "continuations = sum over dirs" "$(jget "$W/j" 'j["continuations"] >= j["paths"][0]["continuations"] + j["paths"][1]["continuations"]')" True
check_eq "cross_chunk_links >= continuations" "$(jget "$W/j" 'j["cross_chunk_links"] >= j["continuations"]')" True
printf '%s' "$WEIRD" >"$W/name"
check_eq "odd name round-trips through JSON" "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["paths"][2]["path"] == "/" + open(sys.argv[2]).read())' "$W/j" "$W/name")" True
check_eq "odd name size" "$(jget "$W/j" 'j["paths"][2]["size"]')" 1
check_eq "chunks used" "$(jget "$W/j" 'sum(1 for c in j["chunks"] if c["inodes"] - c["free_inodes"] > 1) > 3')" True
check_eq "/many/f1000 chunk" "$(jget "$W/j" 'j["paths"][3]["chunk"] == j["paths"][3]["ino"] >> 32')" True

# text output: one path line per argument
expect_ok "stat text" "$TOOL" stat "$IMG" /many /sub
grep -Eq '^/many: inode [0-9]+ \(0:[0-9]+\), [0-9]+ continuations in chunks( [0-9]+)+' "$W/out" || fail "text /many line"
grep -Eq '^/sub: inode [0-9]+ \([0-9]+:[0-9]+\), [0-9]+ continuations? in chunks?( [0-9]+)+' "$W/out" || fail "text /sub line"

finish
