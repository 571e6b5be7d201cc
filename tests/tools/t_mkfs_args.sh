#!/bin/sh
# mkfs.chunkfs argument handling: every bad argument fails with a message
# naming the problem; -n writes nothing; SIZE creates/grows the image; -L/-U
# are stored; a busy image is refused.
. "$(dirname "$0")/lib.sh"
IMG=$W/img

# ---- usage errors ----
expect_fail "no arguments" 'usage' "$MKFS"
expect_fail "too many arguments" 'too many arguments' "$MKFS" "$IMG" 64M extra
expect_fail "unknown option" 'usage' "$MKFS" -Z "$IMG" 64M
expect_fail "missing option argument" 'usage' "$MKFS" "$IMG" -b
[ -e "$IMG" ] && fail "usage error created the image"

# ---- sizes ----
expect_fail "unparseable SIZE" 'invalid filesystem size' "$MKFS" "$IMG" 12Q
expect_fail "negative SIZE" 'invalid filesystem size' "$MKFS" -- "$IMG" -5M
expect_fail "zero SIZE" 'invalid filesystem size' "$MKFS" "$IMG" 0
expect_fail "unparseable block size" 'invalid block size' "$MKFS" -b abc "$IMG" 64M
expect_fail "block size not a power of two" 'block size.*power of two' "$MKFS" -b 3000 "$IMG" 64M
expect_fail "block size too small" 'block size.*power of two' "$MKFS" -b 512 "$IMG" 64M
expect_fail "block size too large" 'block size.*power of two' "$MKFS" -b 128K "$IMG" 64M
expect_fail "unparseable chunk size" 'invalid chunk size' "$MKFS" -C 4x "$IMG" 64M
expect_fail "chunk size below 4 MiB" 'chunk size.*4 MiB' "$MKFS" -C 2M "$IMG" 64M
expect_fail "chunk size not a block multiple" 'chunk size.*multiple of the block size' "$MKFS" -C 4097K "$IMG" 64M
expect_fail "chunk size not a 64K-block multiple" 'chunk size.*multiple of the block size 65536' "$MKFS" -b 64K -C 4100K "$IMG" 64M
expect_fail "bytes-per-inode too small" 'bytes-per-inode' "$MKFS" -i 100 "$IMG" 64M
expect_fail "bytes-per-inode unparseable" 'bytes-per-inode' "$MKFS" -i lots "$IMG" 64M
LONG=$(printf '%064d' 0)
expect_fail "label of 64 bytes" 'label.*too long' "$MKFS" -L "$LONG" "$IMG" 64M
expect_fail "bad UUID" 'invalid UUID' "$MKFS" -U not-a-uuid "$IMG" 64M
expect_fail "missing file without SIZE" 'does not exist' "$MKFS" "$IMG"
expect_fail "-d missing dir" 'cannot copy from' "$MKFS" -d "$W/nonexistent" "$IMG" 64M
: >"$W/plainfile"
expect_fail "-d not a directory" 'not a directory' "$MKFS" -d "$W/plainfile" "$IMG" 64M
[ -e "$IMG" ] && fail "a failed argument check created the image"

# device too small for one chunk: the library's check reports it
expect_fail "device too small" 'mkfs.chunkfs: .+' "$MKFS" -q "$IMG" 1M
[ -e "$IMG" ] && fail "a failed geometry check left the image behind"
truncate -s 1M "$W/small"
expect_fail "existing file too small" 'mkfs.chunkfs: .+' "$MKFS" -q "$W/small"
: >"$W/empty"
expect_fail "empty file without SIZE" 'empty' "$MKFS" -q "$W/empty"
mkdir "$W/adir"
expect_fail "directory as device" 'not a regular file or block device' "$MKFS" "$W/adir" 64M

# ---- -V ----
expect_ok "-V" "$MKFS" -V && grep -q 'mkfs.chunkfs' "$W/out" || fail "-V prints no version"

# ---- -n writes nothing ----
head -c 16777216 /dev/urandom >"$IMG"
sum1=$(sha256sum <"$IMG")
expect_ok "-n on existing file" "$MKFS" -n -C 4M "$IMG"
grep -q -i 'block size' "$W/out" || fail "-n printed no geometry"
grep -q -i 'chunks' "$W/out" || fail "-n printed no chunk count"
sum2=$(sha256sum <"$IMG")
check_eq "-n left the image unchanged" "$sum2" "$sum1"
expect_ok "-n with a bigger SIZE" "$MKFS" -n -C 4M "$IMG" 64M
check_eq "-n did not grow the image" "$(stat -c %s "$IMG")" 16777216
check_eq "-n left the image unchanged (2)" "$(sha256sum <"$IMG")" "$sum1"
expect_ok "-n on a missing file" "$MKFS" -n "$W/new" 64M
[ -e "$W/new" ] && fail "-n created the image file"
expect_fail "mkfs -n image is not a filesystem" '.' "$TOOL" stat "$IMG"
rm -f "$IMG"

# ---- SIZE creates / grows; the fs covers SIZE bytes ----
expect_ok "create with SIZE" "$MKFS" -q -C 4M "$IMG" 64M
check_eq "created image size" "$(stat -c %s "$IMG")" 67108864
[ -s "$W/out" ] && fail "-q printed something: $(cat "$W/out")"
expect_ok "stat after create" "$TOOL" stat --json "$IMG"
cp "$W/out" "$W/j"
tb=$(jget "$W/j" 'j["total_blocks"]*j["block_size"] <= 64*2**20 and j["total_blocks"]*j["block_size"] > 60*2**20')
check_eq "fs covers about SIZE" "$tb" True
check_eq "chunk size" "$(jget "$W/j" 'j["chunk_size"]')" 4194304

rm -f "$IMG"; truncate -s 8M "$IMG"
expect_ok "grow a small file" "$MKFS" -C 4M "$IMG" 48M
check_eq "grown image size" "$(stat -c %s "$IMG")" 50331648
grep -q -i 'uuid' "$W/out" || fail "no UUID in the geometry"

rm -f "$IMG"; truncate -s 200M "$IMG"
expect_ok "SIZE smaller than the file" "$MKFS" -C 4M "$IMG" 32M
check_eq "file not shrunk" "$(stat -c %s "$IMG")" 209715200
expect_ok "stat of the 32M fs" "$TOOL" stat --json "$IMG"
cp "$W/out" "$W/j"
check_eq "fs covers only SIZE" "$(jget "$W/j" 'j["total_blocks"]*j["block_size"] <= 32*2**20')" True

# ---- -b, -L, -U ----
U=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0
L=$(printf '%063d' 7)
rm -f "$IMG"
expect_ok "-b 1024 -L (63 bytes) -U" "$MKFS" -b 1024 -C 4M -L "$L" -U "$U" "$IMG" 32M
expect_ok "stat -b/-L/-U" "$TOOL" stat --json "$IMG"
cp "$W/out" "$W/j"
check_eq "stored block size" "$(jget "$W/j" 'j["block_size"]')" 1024
check_eq "stored label" "$(jget "$W/j" 'j["label"]')" "$L"
check_eq "stored uuid" "$(jget "$W/j" 'j["uuid"]')" "$U"
expect_ok "-U time -L x" "$MKFS" -q -U time -L x -F "$IMG" 32M
expect_ok "stat -U time" "$TOOL" stat --json "$IMG"
check_eq "time uuid is version 1" "$(jget "$W/out" 'j["uuid"][14]')" 1
"$MKFS" -q -F "$IMG" && "$TOOL" stat --json "$IMG" >"$W/j1" 2>&1
"$MKFS" -q -F "$IMG" && "$TOOL" stat --json "$IMG" >"$W/j2" 2>&1
u1=$(jget "$W/j1" 'j["uuid"]'); u2=$(jget "$W/j2" 'j["uuid"]')
if [ -n "$u1" ] && [ "$u1" != "$u2" ]; then ok "random UUIDs differ"; else fail "random UUIDs: '$u1' '$u2'"; fi

# ---- busy image ----
hold_lock "$IMG"
sum1=$(sha256sum <"$IMG")
expect_fail "image in use" 'in use' "$MKFS" -q "$IMG"
expect_fail "image in use (-F)" 'in use' "$MKFS" -q -F "$IMG"
check_eq "busy image untouched" "$(sha256sum <"$IMG")" "$sum1"
release_locks
expect_ok "image free again" "$MKFS" -q -F "$IMG"

finish
