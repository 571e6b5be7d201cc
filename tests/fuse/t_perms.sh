#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Ownership and permissions through FUSE with -o allow_other,default_permissions:
# new inodes belong to the caller (uid/gid 65534 via setpriv), setgid
# directories are honoured, EACCES/EPERM for an unprivileged user, suid
# cleared by an unprivileged write; all of it survives a remount.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "NOTE: t_perms needs root (setpriv to uid $NOBODY_UID); not run as uid $(id -u)"
	exit 77 # skipped: counted apart by tests/run-all.sh
fi

mkimg "$IMG" 64M
mount_fs "$IMG" "$MNT" allow_other,default_permissions

note "set-up as root"
py "$MNT" <<'EOF'
import os, sys, stat
from cfs_util import *
M = sys.argv[1]
p = lambda *a: os.path.join(M, *a)
os.umask(0)
st = os.stat(M)
eq((st.st_uid, st.st_gid), (0, 0), "owner of the root directory of a new fs")
os.chmod(M, 0o755)
os.mkdir(p("open"), 0o777)
os.mkdir(p("closed"), 0o755)
os.mkdir(p("sticky"), 0o1777)
write_file(p("rootfile"), b"root data", 0o644)
write_file(p("sticky", "rootfile"), b"root data", 0o666)
write_file(p("open", "suid"), b"suid file", 0o6777)
eq(stat.S_IMODE(os.stat(p("open", "suid")).st_mode), 0o6777, "mode of the suid file")
os.mkdir(p("sg"), 0o777)
os.chown(p("sg"), 0, 4242)
os.chmod(p("sg"), 0o2777)
eq(stat.S_IMODE(os.stat(p("sg")).st_mode), 0o2777, "mode of the setgid directory")
# root creating inside the setgid directory gets the directory's group
write_file(p("sg", "byroot"), b"r")
st = os.stat(p("sg", "byroot"))
eq((st.st_uid, st.st_gid), (0, 4242), "owner of a file root created in a setgid dir")
st = os.stat(p("rootfile"))
eq((st.st_uid, st.st_gid), (0, 0), "owner of a file created by root")
EOF

note "as uid/gid $NOBODY_UID"
py_as_nobody "$MNT" <<'EOF'
import os, sys, stat, errno
from cfs_util import *
M = sys.argv[1]
p = lambda *a: os.path.join(M, *a)
os.umask(0o022)
eq((os.getuid(), os.getgid(), os.getgroups()), (65534, 65534, []), "test credentials")
# EACCES / EPERM on root's objects
eq(read_file(p("rootfile")), b"root data", "reading a 0644 root file")
expect_errno(errno.EACCES, os.open, p("rootfile"), os.O_WRONLY)
expect_errno(errno.EACCES, os.open, p("rootfile"), os.O_RDWR | os.O_APPEND)
expect_errno(errno.EACCES, os.truncate, p("rootfile"), 0)
expect_errno(errno.EPERM, os.chmod, p("rootfile"), 0o666)
expect_errno(errno.EPERM, os.chown, p("rootfile"), 65534, 65534)
expect_errno(errno.EPERM, os.utime, p("rootfile"), ns=(5, 5))
expect_errno(errno.EACCES, os.utime, p("rootfile"), None)
expect_errno(errno.EACCES, os.setxattr, p("rootfile"), "user.x", b"v")
expect_errno(errno.EACCES, os.open, p("closed", "new"), os.O_CREAT | os.O_WRONLY)
expect_errno(errno.EACCES, os.mkdir, p("closed", "newdir"))
expect_errno(errno.EACCES, os.symlink, "t", p("closed", "sl"))
expect_errno(errno.EACCES, os.open, p("new_in_root"), os.O_CREAT | os.O_WRONLY)
expect_errno(errno.EACCES, os.unlink, p("rootfile"))
expect_errno(errno.EACCES, os.rename, p("rootfile"), p("open", "stolen"))
expect_errno(errno.EPERM, os.unlink, p("sticky", "rootfile"))
expect_errno(errno.EPERM, os.rename, p("sticky", "rootfile"), p("sticky", "mine"))
eq(read_file(p("rootfile")), b"root data", "root file untouched")
# creating in a 0777 directory: owned by the caller
write_file(p("open", "mine"), b"nobody's data", 0o640)
st = os.stat(p("open", "mine"))
eq((st.st_uid, st.st_gid), (65534, 65534), "owner of a file created by uid 65534")
eq(stat.S_IMODE(st.st_mode), 0o640, "mode of a file created by uid 65534")
os.mkdir(p("open", "mydir"), 0o750)
st = os.stat(p("open", "mydir"))
eq((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (65534, 65534, 0o750), "owner/mode of a dir created by uid 65534")
os.symlink("mine", p("open", "mylink"))
st = os.lstat(p("open", "mylink"))
eq((st.st_uid, st.st_gid), (65534, 65534), "owner of a symlink created by uid 65534")
os.mkfifo(p("open", "myfifo"), 0o600)
st = os.lstat(p("open", "myfifo"))
eq((st.st_uid, st.st_gid), (65534, 65534), "owner of a fifo created by uid 65534")
os.link(p("open", "mine"), p("open", "mine2"))
os.chmod(p("open", "mine"), 0o600)
eq(stat.S_IMODE(os.stat(p("open", "mine")).st_mode), 0o600, "chmod of an own file")
os.utime(p("open", "mine"), ns=(1000000000123, 2000000000456))
eq(os.stat(p("open", "mine")).st_mtime_ns, 2000000000456, "utimens of an own file")
os.setxattr(p("open", "mine"), "user.owner", b"nobody")
expect_errno(errno.EPERM, os.chown, p("open", "mine"), 0, -1)
expect_errno(errno.EPERM, os.setxattr, p("open", "mine"), "trusted.x", b"v")
os.rename(p("open", "mine2"), p("open", "mydir", "moved"))
os.mkdir(p("open", "gone"))
os.rmdir(p("open", "gone"))
# a write by a non-owner clears set-user-ID and set-group-ID
fd = os.open(p("open", "suid"), os.O_WRONLY)
os.write(fd, b"X")
os.close(fd)
m = stat.S_IMODE(os.stat(p("open", "suid")).st_mode)
eq(m & (stat.S_ISUID | stat.S_ISGID), 0, "suid/sgid bits after a write by another user (mode %o)" % m)
# setgid directory: new file gets the directory's gid, new subdir keeps S_ISGID
write_file(p("sg", "f"), b"sg")
st = os.stat(p("sg", "f"))
eq((st.st_uid, st.st_gid), (65534, 4242), "owner of a file created in a setgid dir")
os.mkdir(p("sg", "sub"), 0o755)
st = os.stat(p("sg", "sub"))
eq((st.st_uid, st.st_gid), (65534, 4242), "owner of a dir created in a setgid dir")
check(st.st_mode & stat.S_ISGID, "S_ISGID not inherited by a subdirectory (mode %o)" % st.st_mode)
write_file(p("sg", "sub", "g"), b"deeper")
eq(os.stat(p("sg", "sub", "g")).st_gid, 4242, "gid two levels below a setgid dir")
os.mknod(p("sg", "fifo"), stat.S_IFIFO | 0o600)
eq(os.stat(p("sg", "fifo")).st_gid, 4242, "gid of a fifo created in a setgid dir")
os.symlink("f", p("sg", "sl"))
eq(os.lstat(p("sg", "sl")).st_gid, 4242, "gid of a symlink created in a setgid dir")
log("unprivileged checks ok")
EOF

note "persistence of owners and modes"
snap_save "$MNT" "$T/snap.json"
remount_fs "$IMG" "$MNT" allow_other,default_permissions
snap_check "$MNT" "$T/snap.json"
py_as_nobody "$MNT" <<'EOF'
import os, sys, errno
from cfs_util import *
M = sys.argv[1]
expect_errno(errno.EACCES, os.open, os.path.join(M, "rootfile"), os.O_WRONLY)
eq(read_file(os.path.join(M, "open", "mine")), b"nobody's data", "own file after remount")
EOF
umount_fs "$MNT"
echo "PASS: t_perms"
