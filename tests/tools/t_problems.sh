#!/bin/sh
# chunkfs problems: the table lists every code once with a known policy, and
# docs/PROBLEMS.md is exactly `chunkfs problems --markdown` (regenerate it
# with: build/san/bin/chunkfs problems --markdown >docs/PROBLEMS.md).
. "$(dirname "$0")/lib.sh"

expect_ok "problems" "$TOOL" problems && cp "$W/out" "$W/plain"
n=$(grep -c '^0x' "$W/plain")
[ "$n" -ge 40 ] && ok "problems lists $n codes" || fail "problems lists $n codes"
dups=$(grep '^0x' "$W/plain" | awk '{print $1}' | sort | uniq -d)
[ -z "$dups" ] && ok "codes are unique" || fail "duplicate codes: $dups"
dups=$(grep '^0x' "$W/plain" | awk '{print $2}' | sort | uniq -d)
[ -z "$dups" ] && ok "names are unique" || fail "duplicate names: $dups"
bad=$(grep '^0x' "$W/plain" | awk '$3 != "preen" && $3 != "ask"')
[ -z "$bad" ] && ok "every policy is preen or ask" || fail "bad policy: $bad"
grep -q '^0x0801  fix_failed ' "$W/plain" && ok "fix_failed listed" || fail "fix_failed missing"

expect_ok "problems --markdown" "$TOOL" problems --markdown && cp "$W/out" "$W/md"
if diff -u "$TOP/docs/PROBLEMS.md" "$W/md" >"$W/diff"; then
	ok "docs/PROBLEMS.md matches chunkfs problems --markdown"
else
	fail "docs/PROBLEMS.md is stale (regenerate: chunkfs problems --markdown >docs/PROBLEMS.md)"
	sed 's/^/    /' "$W/diff" | head -n 40
fi
[ "$(grep -c '^| 0x' "$W/md")" = "$n" ] && ok "one table row per code" || fail "table rows != $n"

expect_fail "extra argument" 'unexpected argument' "$TOOL" problems extra
expect_fail "bad option" 'usage' "$TOOL" problems --bogus
expect_ok "help problems" "$TOOL" help problems
grep -q 'problems \[--markdown\]' "$W/out" || fail "help problems usage"
finish
