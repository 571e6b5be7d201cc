#!/bin/sh
# Issue 16, "placement keeps continuations few", under aging: chunkfs age
# fills a 512 MiB filesystem of 64 MiB chunks to 95% (files of the /usr
# size mix, up to 16 MiB, four rounds of deleting 30%, renaming 5%,
# growing 2% and refilling), for seeds 2, 4 and 7; then, through chunkfs
# stat --json, no regular file may have more than 10 continuations per GiB
# of its size plus 2, the histogram must count every file, the space for
# links must stay under 1% of the space in use, and fsck.chunkfs -fn must
# be clean.  Placement before issue 16's best fit for new files (h-space3's
# continuation target alone, 529d25b) leaves one file over the bound in
# each of these seeds (3-4 continuations on files of 12-17 MB, bound 2);
# with it none of seeds 1-8 does (the most on one file 1-2).  Not a proof
# of the bound.  CFS_AGE_SEEDS="..." for other seeds.  At scale (6 GiB,
# 64 MiB chunks, files up to 256 MiB) the bound is not met:
# docs/DESIGN.md, "Known limits".
. "$(dirname "$0")/lib.sh"
is_chunkfs || { echo "SKIP is not PASS: t_age_bound needs the chunkfs backend"; exit 1; }

for seed in ${CFS_AGE_SEEDS:-2 4 7}; do
	rm -f "$IMG"
	mkimg "$IMG" 512M -C 64M
	mount_fs "$IMG" "$MNT"
	note "seed $seed: aging to 95%"
	"$CFS_BIN/chunkfs" age "$MNT" --seed "$seed" --fill 95 --rounds 4 --max-file 16M \
		--json >"$T/age.json" 2>"$T/age.err" || { cat "$T/age.err" "$T/age.json"; fail "chunkfs age failed"; }
	umount_fs "$MNT"

	note "seed $seed: fsck.chunkfs -fn"
	"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.out" 2>&1 || { cat "$T/fsck.out"; fail "fsck.chunkfs -fn found problems after aging"; }
	grep -q ' 0 problems found' "$T/fsck.out" || { cat "$T/fsck.out"; fail "fsck summary"; }

	note "seed $seed: chunkfs stat, continuations per file"
	"$CFS_BIN/chunkfs" stat --json "$IMG" >"$T/stat.json" || fail "chunkfs stat --json failed"
	py "$T/stat.json" "$T/age.json" <<'PYEOF'
import json, sys
from cfs_util import *
s, a = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
eq(s["errors"], 0, "stat errors")
eq(s["regular_files"], a["files"], "regular files")
check(a["used_pct"] >= 94.0, "filled to %.1f%%, wanted 95%%" % a["used_pct"])
hist = s["continuations_per_file_histogram"]
eq(sum(n for c, n in hist), s["regular_files"], "the histogram counts every regular file")
log("continuations per file (continuations: files): %s; the most %d on %s" %
    (", ".join("%d: %d" % (c, n) for c, n in hist), s["max_continuations_per_file"], s["max_continuations_file"]))
for o in s["files_over_continuation_bound_list"]:
    log("over the bound: %s, %d bytes, %d continuations (bound %d)" %
        (o["path"], o["size"], o["continuations"], o["size"] * 10 // (1 << 30) + 2))
eq(s["files_over_continuation_bound"], 0, "files over 10 continuations per GiB + 2")
check(s["link_overhead_pct"] < 1.0, "space for links %.3f%% of the space in use, under 1%%" % s["link_overhead_pct"])
PYEOF
done
finish
