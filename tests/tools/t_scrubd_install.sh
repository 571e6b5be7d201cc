#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make install puts chunkfs-scrubd, its config file, man page and systemd
# units in place: the example config, uncommented, gives exactly the
# built-in defaults (so what it documents is true); the units name the
# installed program and pass systemd-analyze verify (when it exists); a
# second make install keeps a config file the admin changed.
set -u
cd "$(dirname "$0")/../.." || exit 2
D=$(mktemp -d /dev/shm/cfs-sdinst.XXXXXX) || exit 2
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
inst() {
	make -s install PREFIX="$D/usr/local" SYSCONFDIR="$D/etc" \
		MOUNT_HELPER_DIR="$D/sbin" >"$D/make.log" 2>&1 ||
		{ cat "$D/make.log"; fail "make install"; }
}
inst
SD=$D/usr/local/sbin/chunkfs-scrubd
U=$D/usr/local/lib/systemd/system
for f in "$SD" "$D/etc/chunkfs/scrubd.conf" \
	 "$D/usr/local/share/man/man8/chunkfs-scrubd.8" \
	 "$U/chunkfs-scrubd.service" "$U/chunkfs-scrub@.service" \
	 "$U/chunkfs-scrub@.timer"; do
	[ -f "$f" ] || fail "$f not installed"
done
"$SD" --version | grep -q "^chunkfs-scrubd " || fail "installed chunkfs-scrubd --version"

# every "#key = value" line of the example, uncommented: the defaults
sed -n 's/^#\([a-z_]* =.*\)$/\1/p' "$D/etc/chunkfs/scrubd.conf" >"$D/uncommented.conf"
[ "$(wc -l <"$D/uncommented.conf")" -ge 12 ] || { cat "$D/uncommented.conf"; fail "the example does not list every key"; }
"$SD" -c /dev/null --print-config >"$D/defaults" || fail "--print-config with no config"
"$SD" -c "$D/uncommented.conf" --print-config >"$D/example" 2>"$D/err" || { cat "$D/err"; fail "the uncommented example does not parse"; }
diff "$D/defaults" "$D/example" || fail "the example config's values differ from the built-in defaults"
for k in $(sed 's/ =.*//' "$D/defaults"); do
	grep -q "^$k =" "$D/uncommented.conf" || fail "the example does not document '$k'"
done

# units: the installed path, nothing left to substitute
grep -q "^ExecStart=$D/usr/local/sbin/chunkfs-scrubd -f$" "$U/chunkfs-scrubd.service" || fail "chunkfs-scrubd.service ExecStart"
grep -q "^ExecStart=$D/usr/local/sbin/chunkfs-scrubd --once -o chunks=1048576 %f$" "$U/chunkfs-scrub@.service" || fail "chunkfs-scrub@.service ExecStart"
grep -l "@SBINDIR@" "$U"/* && fail "unsubstituted @SBINDIR@"
if command -v systemd-analyze >/dev/null 2>&1; then
	cp "$U/chunkfs-scrub@.service" "$D/chunkfs-scrub@srv-data.service"
	cp "$U/chunkfs-scrub@.timer" "$D/chunkfs-scrub@srv-data.timer"
	out=$(cd "$D" && systemd-analyze verify --man=no "$U/chunkfs-scrubd.service" \
		./chunkfs-scrub@srv-data.service ./chunkfs-scrub@srv-data.timer 2>&1)
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	echo "ok: systemd-analyze verify"
else
	echo "note: no systemd-analyze; units not verified"
fi

# an admin's change to the config survives make install
echo "chunks = 9" >>"$D/etc/chunkfs/scrubd.conf"
inst
grep -q "^chunks = 9$" "$D/etc/chunkfs/scrubd.conf" || fail "make install overwrote a changed config"
echo "scrubd install ok"
