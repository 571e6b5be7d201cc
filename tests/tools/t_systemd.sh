#!/bin/sh
# The scrub service as e2scrub_all/xfs_scrub_all ship theirs, checked with
# systemd's own tools on a real `make install` (into a temporary tree, with
# the paths the units name there):
#   - systemd-analyze verify accepts every unit (the OnFailure= hook and
#     the template instances resolve);
#   - systemd-analyze security: every scrub service's exposure under 5.0;
#   - CPUSchedulingPolicy=idle, a weekly timer with a randomized delay;
#   - boot: systemd-fstab-generator orders systemd-fsck before the mount of
#     a fuse.chunkfs LABEL= line once fsck.fuse.chunkfs is installed;
#   - the failure hook: chunkfs-scrub-fail runs the configured command
#     with the report, mails it when a mailer exists, says so and exits 1
#     when neither;
#   - make uninstall removes everything install put there (a changed
#     configuration file stays).
. "$(dirname "$0")/lib.sh"
for p in systemd-analyze; do
	command -v "$p" >/dev/null || { fail "$p is missing (tests/deps.sh)"; finish; }
done
D=$W/inst
U=$D/units
make -s -C "$TOP" install PREFIX="$D/usr" SYSCONFDIR="$D/etc" \
	MOUNT_HELPER_DIR="$D/sbin" FSCK_HELPER_DIR="$D/sbin" SYSTEMD_DIR="$U" \
	UDEV_RULES_DIR="$D/udev" >"$W/out" 2>&1 || { cat "$W/out"; fail "make install"; finish; }
for f in usr/sbin/chunkfs-scrub-fail etc/chunkfs/scrub-fail.conf \
	 units/chunkfs-scrub-fail@.service units/chunkfs-scrub-all.service \
	 units/chunkfs-scrub-all.timer udev/64-chunkfs.rules \
	 sbin/fsck.fuse.chunkfs sbin/fsck.chunkfs; do
	[ -e "$D/$f" ] || fail "make install did not install $f"
done
[ "$(readlink -f "$D/sbin/fsck.fuse.chunkfs")" = "$D/usr/sbin/fsck.chunkfs" ] ||
	fail "fsck.fuse.chunkfs does not lead to fsck.chunkfs"

# ---- verify ----
cd "$U" || exit 1
for u in chunkfs-scrubd.service chunkfs-scrub-all.service chunkfs-scrub-all.timer \
	 chunkfs-scrub@srv-data.service chunkfs-scrub@srv-data.timer \
	 chunkfs-scrub-fail@chunkfs-scrubd.service.service; do
	case $u in
	*@*) t=${u%%@*}@.${u##*.}; ln -sf "$t" "$u" ;;
	esac
	MANPATH="$D/usr/share/man:" SYSTEMD_UNIT_PATH="$U:" \
		systemd-analyze verify "$U/$u" >"$W/out" 2>&1
	rc=$?
	# the host's own units may draw warnings; ours must draw none
	if [ "$rc" != 0 ] || grep -i "chunkfs" "$W/out"; then
		fail "systemd-analyze verify $u (rc=$rc)"; sed 's/^/    /' "$W/out"
	else
		ok "systemd-analyze verify $u"
	fi
done
cd "$TOP" || exit 1

# ---- security ----
for u in chunkfs-scrubd.service chunkfs-scrub-all.service chunkfs-scrub@srv-data.service; do
	systemd-analyze security --offline=yes "$U/$u" >"$W/out" 2>&1
	lvl=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$W/out")
	if [ -n "$lvl" ] && python3 -c "import sys; sys.exit(not float(sys.argv[1]) < 5.0)" "$lvl"; then
		ok "$u: exposure $lvl"
	else
		fail "$u: exposure '$lvl', not under 5.0"; tail -3 "$W/out"
	fi
	grep -q '^CPUSchedulingPolicy=idle$' "$U/$u" || fail "$u: not CPUSchedulingPolicy=idle"
	grep -q '^OnFailure=chunkfs-scrub-fail@%n.service$' "$U/$u" || fail "$u: no OnFailure= hook"
done
for t in chunkfs-scrub-all.timer chunkfs-scrub@.timer; do
	cal=$(sed -n 's/^OnCalendar=//p' "$U/$t")
	systemd-analyze calendar "$cal" >"$W/out" 2>&1 || fail "$t: bad OnCalendar"
	# weekly: the next two elapses are 7 days apart
	n=$(systemd-analyze calendar --iterations=2 "$cal" 2>/dev/null |
		sed -n 's/^ *\(Next elapse\|Iter. #2\): [A-Za-z]* \([0-9-]* [0-9:]*\).*/\2/p' |
		while read -r d; do date -d "$d" +%s; done | tr '\n' ' ')
	set -- $n
	[ $# = 2 ] && [ $(($2 - $1)) = 604800 ] && ok "$t: weekly ($cal)" ||
		fail "$t: not weekly: $cal ($n)"
	grep -q '^RandomizedDelaySec=[1-9]' "$U/$t" || fail "$t: no randomized delay"
done

# ---- boot: systemd-fstab-generator orders a check before the mount of
# a fuse.chunkfs line with a pass number when fsck.fuse.chunkfs is there
# (systemd-fsck then runs fsck(8), which runs it) ----
GEN=/lib/systemd/system-generators/systemd-fstab-generator
if [ -x "$GEN" ]; then
	mkdir -p "$W/gen1" "$W/gen2"
	printf 'LABEL=data /srv/data fuse.chunkfs defaults,nofail 0 2\n' >"$W/fstab"
	SYSTEMD_FSTAB=$W/fstab PATH="$D/sbin:$PATH" "$GEN" "$W/gen1" "$W/gen1" "$W/gen1" 2>"$W/out" ||
		{ cat "$W/out"; fail "systemd-fstab-generator"; }
	grep -q '^Requires=systemd-fsck@dev-disk-by\\x2dlabel-data.service$' "$W/gen1/srv-data.mount" &&
		ok "boot: the mount of a LABEL= fuse.chunkfs line waits for systemd-fsck" ||
		{ cat "$W/gen1/srv-data.mount"; fail "boot: no systemd-fsck before the mount"; }
	# (without the link no check would be ordered: what issue 17 found)
	SYSTEMD_FSTAB=$W/fstab PATH=/usr/bin:/bin "$GEN" "$W/gen2" "$W/gen2" "$W/gen2" 2>/dev/null
	grep -q 'systemd-fsck' "$W/gen2/srv-data.mount" &&
		fail "boot: a check ordered without fsck.fuse.chunkfs (the test proves nothing)"
else
	fail "no $GEN (systemd, tests/deps.sh)"
fi

# ---- the failure hook ----
FAILB=$D/usr/sbin/chunkfs-scrub-fail
printf 'command="cat > %s/report"\n' "$W" >"$W/fail.conf"
CHUNKFS_SCRUB_FAIL_CONF=$W/fail.conf "$FAILB" chunkfs-scrub@srv-data.service >"$W/out" 2>&1 ||
	{ cat "$W/out"; fail "the hook with a command"; }
grep -q "chunkfs scrub unit chunkfs-scrub@srv-data.service failed" "$W/report" ||
	fail "the command did not get the report"
mkdir -p "$W/bin"
printf '#!/bin/sh\necho "args: $*" >"%s/mail"\ncat >>"%s/mail"\n' "$W" "$W" >"$W/bin/sendmail"
chmod 755 "$W/bin/sendmail"
printf 'recipient=admin@example.org\n' >"$W/fail.conf"
SENDMAIL=$W/bin/sendmail CHUNKFS_SCRUB_FAIL_CONF=$W/fail.conf \
	"$FAILB" chunkfs-scrubd.service >"$W/out" 2>&1 || { cat "$W/out"; fail "the hook with a mailer"; }
grep -q "^To: admin@example.org" "$W/mail" && grep -q "^Subject: chunkfs scrub failure on .*: chunkfs-scrubd.service" "$W/mail" &&
	grep -q "args: -t -i" "$W/mail" && ok "the hook mails the report" || { cat "$W/mail"; fail "the mail"; }
SENDMAIL= CHUNKFS_SCRUB_FAIL_CONF=$W/none "$FAILB" chunkfs-scrubd.service >"$W/out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "no mailer" "$W/out" && grep -q "failed on" "$W/out" &&
	ok "without command or mailer: the report on stderr, exit 1" || { cat "$W/out"; fail "no mailer: rc=$rc"; }

# ---- uninstall ----
echo "# changed" >>"$D/etc/chunkfs/scrubd.conf"
make -s -C "$TOP" uninstall PREFIX="$D/usr" SYSCONFDIR="$D/etc" \
	MOUNT_HELPER_DIR="$D/sbin" FSCK_HELPER_DIR="$D/sbin" SYSTEMD_DIR="$U" \
	UDEV_RULES_DIR="$D/udev" >"$W/out" 2>&1 || { cat "$W/out"; fail "make uninstall"; }
find "$D" \( -type f -o -type l \) ! -name '*@srv-data.*' ! -name 'chunkfs-scrub-fail@chunkfs-scrubd.service.service' |
	sort >"$W/left"
if [ "$(cat "$W/left")" = "$D/etc/chunkfs/scrubd.conf" ]; then
	ok "make uninstall removed everything but the changed scrubd.conf"
else
	fail "make uninstall left: $(cat "$W/left")"
fi
finish
