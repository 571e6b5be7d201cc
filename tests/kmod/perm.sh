# SPDX-License-Identifier: GPL-2.0
# POSIX ACLs, set-id bits and device nodes through chunkfs.ko (issue 15),
# sourced by init.sh inside the VM.  /dev/vdf holds an image chunkfs-fuse
# wrote on the host with ACLs under /host: the module reads and enforces
# them.  Under /vm the module sets ACLs (kt setacl: the system.posix_acl_*
# xattrs through the VFS's handlers), checks the mode and the mask follow,
# default ACL inheritance with umasks, access as other users (kt as), the
# set-id bits writes, truncates, fallocate, copy_file_range, a mapping and
# chown leave (Linux 6.1's rule, written out below) by a member of the
# file's group, another user and root; a setgid directory; device nodes
# and a set-user-ID program (dev,suid by default; nodev, nosuid refuse);
# -o noacl (EOPNOTSUPP, nothing stored).  The host then reads /vm through
# chunkfs-fuse (run.sh): the ACLs the module stored.
P=/p
KT=/bin/kt
mkdir -p $P
# is WANT CMD...: CMD prints WANT (else says what it printed)
is() { w=$1; shift; g=$("$@" 2>&1); [ "$g" = "$w" ] || { echo "  '$*': '$g', want '$w'"; return 1; }; }
mode() { stat -c %a "$1"; }
as() { u=$1 gs=$2; shift 2; $KT as "$u" "$u" "$gs" "$@"; }

if mount -t chunkfs /dev/vdf $P; then pass "perm: mount"; else fail "perm: mount of /dev/vdf"; return; fi
grep " $P " /proc/mounts | grep -q noacl && fail "perm: mounted noacl by default"

# ---- ACLs chunkfs-fuse set on the host ----
is "u::rw-,u:1000:rw-,g::---,g:4242:r--,m::rw-,o::---" $KT getacl $P/host/f access && is 660 mode $P/host/f &&
	pass "perm: an ACL set through FUSE, read by the module" || fail "perm: the host's ACL"
is ok as 1000 - $KT op $P/host/f open-w && is ok as 1001 4242 $KT op $P/host/f open-r &&
	is EACCES as 1001 4242 $KT op $P/host/f open-w && is EACCES as 1002 - $KT op $P/host/f open-r &&
	pass "perm: access by a named user, a named group, others" || fail "perm: access checks of the host's ACL"
is ok as 1000 - $KT op $P/host/dd/byvm new-f 0666 077 &&
	is "u::rw-,u:1000:rwx,g::r-x,m::rw-,o::---" $KT getacl $P/host/dd/byvm access && is 660 mode $P/host/dd/byvm &&
	pass "perm: a default ACL set through FUSE, inherited" || fail "perm: the host's default ACL"

# ---- ACLs set through the module ----
mkdir -m 755 $P/vm
echo acl >$P/vm/f; chmod 640 $P/vm/f
is ok $KT setacl $P/vm/f access "u::rw-,u:1000:r--,g::r--,g:4242:rw-,m::rw-,o::---" &&
	is "u::rw-,u:1000:r--,g::r--,g:4242:rw-,m::rw-,o::---" $KT getacl $P/vm/f access && is 660 mode $P/vm/f &&
	$KT xlist $P/vm/f | grep -qx system.posix_acl_access && pass "perm: setacl, the mode follows" || fail "perm: setacl"
is ok as 1001 4242 $KT op $P/vm/f open-w && is EACCES as 1000 - $KT op $P/vm/f open-w &&
	is ok as 1000 - $KT op $P/vm/f open-r && pass "perm: the module checks the ACL" || fail "perm: access by the module's ACL"
chmod 640 $P/vm/f
is "u::rw-,u:1000:r--,g::r--,g:4242:rw-,m::r--,o::---" $KT getacl $P/vm/f access && is EACCES as 1001 4242 $KT op $P/vm/f open-w &&
	pass "perm: chmod sets the mask" || fail "perm: chmod and the mask"
echo 3 >/proc/sys/vm/drop_caches
is "u::rw-,u:1000:r--,g::r--,g:4242:rw-,m::r--,o::---" $KT getacl $P/vm/f access && is 640 mode $P/vm/f &&
	pass "perm: the ACL after drop_caches" || fail "perm: the ACL after drop_caches"
echo m >$P/vm/min; chmod 600 $P/vm/min
is ok $KT setacl $P/vm/min access "u::rwx,g::r-x,o::r--" && is none $KT getacl $P/vm/min access && is 754 mode $P/vm/min &&
	pass "perm: a minimal ACL is the mode" || fail "perm: a minimal ACL"
is EACCES $KT setacl $P/vm/f default "u::rwx,g::r-x,o::---" && is EINVAL $KT setacl $P/vm/f access "u::rw-,u:5:r--,g::r--,o::---" &&
	is ok $KT setacl $P/vm/f access "" && is none $KT getacl $P/vm/f access && pass "perm: ACLs refused, removed" ||
	fail "perm: ACLs refused, removed"
echo acl >$P/vm/g; chmod 600 $P/vm/g
is ok $KT setacl $P/vm/g access "u::rw-,u:1000:rw-,g::---,g:4242:r--,m::rw-,o::---" || fail "perm: setacl of vm/g"

# ---- default ACLs and the umask ----
mkdir -m 777 $P/vm/dd $P/vm/nd
is ok $KT setacl $P/vm/dd default "u::rwx,u:1000:rwx,g::r-x,m::rwx,o::r-x" || fail "perm: a default ACL"
bad=0
for um in 022 077 000; do
	is ok $KT op $P/vm/dd/f$um new-f 0666 $um && is 664 mode $P/vm/dd/f$um &&
		is "u::rw-,u:1000:rwx,g::r-x,m::rw-,o::r--" $KT getacl $P/vm/dd/f$um access || bad=1
	is ok $KT op $P/vm/dd/d$um new-d 0777 $um && is 775 mode $P/vm/dd/d$um &&
		is "u::rwx,u:1000:rwx,g::r-x,m::rwx,o::r-x" $KT getacl $P/vm/dd/d$um access &&
		is "u::rwx,u:1000:rwx,g::r-x,m::rwx,o::r-x" $KT getacl $P/vm/dd/d$um default || bad=1
	is ok $KT op $P/vm/dd/p$um new-p 0640 $um && is 640 mode $P/vm/dd/p$um || bad=1
	is ok $KT op $P/vm/nd/f$um new-f 0666 $um && [ "$(mode $P/vm/nd/f$um)" = "$(printf %o $((0666 & ~0$um)))" ] &&
		is none $KT getacl $P/vm/nd/f$um access || bad=1
done
is ok as 1000 4242 $KT op $P/vm/dd/d022/byuser new-f 0640 077 && is 640 mode $P/vm/dd/d022/byuser &&
	is "1000 1000" stat -c '%u %g' $P/vm/dd/d022/byuser || bad=1
[ $bad = 0 ] && pass "perm: default ACL inheritance, no umask; the umask without" || fail "perm: default ACL inheritance"

# ---- set-id bits ----
# want MODE OP ACTOR: Linux 6.1's setattr_should_drop_suidgid (write,
# truncate: nothing for root; S_ISUID; S_ISGID when group-executable or
# the writer is not in the group), chown_common (anyone), nothing for a
# write through a shared mapping
want() {
	m=$((0$1)); k=0
	if [ $2 != mmap ] && { [ $3 != root ] || [ $2 = chown ]; }; then
		k=$((m & 04000))
		if [ $((m & 02000)) != 0 ] && { [ $((m & 010)) != 0 ] || [ $3 = other ]; }; then
			k=$((k | 02000))
		fi
	fi
	printf '%o\n' $((m & ~k))
}
mkdir -m 777 $P/vm/m
echo srcdata >$P/vm/m/src
MODES="6755 2755 2666 6666 4755"
OPS="write otrunc truncate fallocate copy mmap chown"
for m in $MODES; do for o in $OPS; do for a in member other root; do
	f=$P/vm/m/f$m-$o-$a
	echo some bytes >$f; chown 1000:4242 $f; chmod $m $f
done; done; done
bad=0; n=0
for a in member other root; do
	case $a in member) run="as 1000 4242" ;; other) run="as 1000 -" ;; root) run= ;; esac
	for m in $MODES; do for o in $OPS; do
		f=$P/vm/m/f$m-$o-$a
		case $o in
		copy) args="copy $P/vm/m/src" ;;
		chown) if [ $a = other ]; then args="chown 1000 -1"; else args="chown 1000 4242"; fi ;;
		*) args=$o ;;
		esac
		r=$($run $KT op $f $args)
		w=$(want $m $o $a); g=$(mode $f)
		n=$((n + 1))
		[ "$r" = ok ] && [ "$g" = "$w" ] || { echo "  $a $o on $m: $r, mode $g, want $w"; bad=1; }
	done; done
done
[ $bad = 0 ] && pass "perm: set-id bits after writes, truncates, fallocate, copy_file_range, mmap, chown ($n cases)" ||
	fail "perm: set-id bits"
echo x >$P/vm/m/chm; chown 1000:4242 $P/vm/m/chm; chmod 644 $P/vm/m/chm
echo x >$P/vm/m/aclsg; chown 1000:4242 $P/vm/m/aclsg; chmod 2755 $P/vm/m/aclsg
cp -a $P/vm/m/aclsg $P/vm/m/aclsg2
as 1000 - chmod 2755 $P/vm/m/chm
is 755 mode $P/vm/m/chm && is ok as 1000 - $KT setacl $P/vm/m/aclsg access "u::rwx,u:1001:r--,g::r-x,m::r-x,o::r-x" &&
	is 755 mode $P/vm/m/aclsg && is ok as 1000 4242 $KT setacl $P/vm/m/aclsg2 access "u::rwx,u:1001:r--,g::r-x,m::r-x,o::r-x" &&
	is 2755 mode $P/vm/m/aclsg2 && pass "perm: chmod g+s and an ACL by an owner not in the group" ||
	fail "perm: chmod g+s / ACL and S_ISGID"
mkdir -m 2777 $P/vm/sg; chown 0:4242 $P/vm/sg; chmod 2777 $P/vm/sg
is ok as 1001 - $KT op $P/vm/sg/o2755 new-f 2755 022 && is "755 1001 4242" stat -c '%a %u %g' $P/vm/sg/o2755 &&
	is ok as 1001 - $KT op $P/vm/sg/o2644 new-f 2644 022 && is 2644 mode $P/vm/sg/o2644 &&
	is ok as 1001 - $KT op $P/vm/sg/od new-d 0777 022 && is "2755 1001 4242" stat -c '%a %u %g' $P/vm/sg/od &&
	is ok as 1000 4242 $KT op $P/vm/sg/m2755 new-f 2755 022 && is 2755 mode $P/vm/sg/m2755 &&
	is ok $KT op $P/vm/sg/r2775 new-f 2775 002 && is "2775 0 4242" stat -c '%a %u %g' $P/vm/sg/r2775 &&
	pass "perm: a setgid directory (group, S_ISGID by member, non-member, root)" || fail "perm: a setgid directory"

# ---- device nodes and set-user-ID programs ----
mknod $P/vm/null c 1 3 && mknod $P/vm/zero c 1 5 && mknod $P/vm/blk b $(stat -c '%t %T' /dev/vdf | while read a b; do echo $((0x$a)) $((0x$b)); done)
cp /bin/kt $P/vm/kt-suid && chmod 4755 $P/vm/kt-suid
echo data >$P/vm/null && [ "$(head -c 4096 $P/vm/zero | tr -d '\0' | wc -c)" = 0 ] &&
	[ "$(dd if=$P/vm/blk bs=4096 count=2 2>/dev/null | md5sum)" = "$(dd if=/dev/vdf bs=4096 count=2 2>/dev/null | md5sum)" ] &&
	is 0 as 1000 - $P/vm/kt-suid euid && pass "perm: device nodes and set-user-ID programs" || fail "perm: device nodes, suid"
umount $P || fail "perm: umount"
mount -t chunkfs -o nodev,nosuid /dev/vdf $P || fail "perm: mount -o nodev,nosuid"
is EACCES $KT op $P/vm/null open-r && is EACCES $KT op $P/vm/blk open-r && is 1000 as 1000 - $P/vm/kt-suid euid &&
	pass "perm: nodev, nosuid" || fail "perm: nodev, nosuid"
umount $P || fail "perm: umount"

# ---- noacl ----
mount -t chunkfs -o noacl /dev/vdf $P || fail "perm: mount -o noacl"
grep " $P " /proc/mounts | grep -q noacl || fail "perm: noacl not shown: $(grep " $P " /proc/mounts)"
is EOPNOTSUPP $KT setacl $P/vm/min access "u::rwx,u:7:r--,g::r-x,m::r-x,o::r--" && is EOPNOTSUPP $KT getacl $P/vm/g access &&
	! $KT xlist $P/vm/g | grep -q posix_acl && is ok $KT op $P/vm/dd/noacl new-d 0777 077 && is 700 mode $P/vm/dd/noacl &&
	is EACCES as 1000 - $KT op $P/vm/g open-r && pass "perm: noacl: EOPNOTSUPP, not listed, the umask, mode bits only" ||
	fail "perm: noacl"
umount $P || fail "perm: umount"
mount -t chunkfs /dev/vdf $P || fail "perm: mount again"
is none $KT getacl $P/vm/min access && is none $KT getacl $P/vm/dd/noacl access && is none $KT getacl $P/vm/dd/noacl default &&
	is "u::rw-,u:1000:rw-,g::---,g:4242:r--,m::rw-,o::---" $KT getacl $P/vm/g access &&
	pass "perm: noacl stored nothing, kept the ACLs" || fail "perm: after noacl"
umount $P && pass "perm: umount" || fail "perm: final umount"
