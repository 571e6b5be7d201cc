#!/bin/sh
# tree_node: a directory /wide of 24 entries with 200-byte names needs two
# leaf blocks; the first is zeroed (inject zero-block --block).  Its
# entries are lost: their files become orphans and go to lost+found.
. "$(dirname "$0")/../lib.sh"
std_tree "$W/src"
mkdir "$W/src/wide"
i=10
while [ $i -lt 34 ]; do
	n=$(printf 'w%s' "$(printf '%0199d' $i)")
	echo "$i" >"$W/src/wide/$n"
	i=$((i + 1))
done
mkimg "$W/src" 32M
edit <<'PY' >"$W/target"
c, l, _ = img.lookup("/wide")
items, nodes = img.tree(c, l)
leaves = sorted(b for b, lvl in nodes if lvl == 0)
assert len(leaves) >= 2, nodes
print(c, leaves[0] - img.start(c))
PY
read c blk <"$W/target"
inject "$c" zero-block --block "$blk"
