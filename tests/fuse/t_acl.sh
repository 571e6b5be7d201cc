#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# POSIX ACLs through FUSE (issue 15, point 1), step by step beside tmpfs
# under $T/ref (the kernel's own ACL code, which ext4 shares) and against
# the values the rules give: setfacl/getfacl round trip (the xattr bytes
# too), refusals, persistence across a remount; access checks for named
# user and group entries and the mask as unprivileged users; chmod <->
# mask; default ACL inheritance for files, directories and fifos with
# several umasks, by root and by a user, and the umask where there is no
# default ACL; cp -a of a tree keeps every mode, owner and ACL (and back);
# -o noacl: EOPNOTSUPP for the ACL xattrs, nothing stored as plain data,
# cp -a still keeps the modes; a user's own mount (fusermount3, no
# options): ACLs on, inheritance, the umask and cp -a as on tmpfs.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "NOTE: t_acl needs root (setpriv to other users); not run as uid $(id -u)"
	exit 77 # skipped: counted apart by tests/run-all.sh
fi
command -v setfacl >/dev/null && command -v getfacl >/dev/null ||
	fail "setfacl/getfacl missing (sh tests/deps.sh installs Debian's acl)"

REF=$T/ref
mkdir "$REF"
setfacl -m u:1:r "$REF" 2>/dev/null && setfacl -b "$REF" ||
	fail "$REF (tmpfs) has no POSIX ACLs to compare with"
mkimg "$IMG" 64M
mount_fs "$IMG" "$MNT" allow_other

# what the python parts share
cat >"$T/py/aclref.py" <<'EOF'
import errno, os, stat, subprocess
from cfs_util import *

ACC = "system.posix_acl_access"
DEF = "system.posix_acl_default"

def getfacl(path):
    r = subprocess.run(["getfacl", "-cpn", path], capture_output=True, text=True)
    if r.returncode:
        raise CheckError("getfacl %s: %s" % (path, r.stderr.strip()))
    return r.stdout

def setfacl(*args):
    r = subprocess.run(["setfacl"] + list(args), capture_output=True, text=True)
    if r.returncode:
        raise CheckError("setfacl %s: %s" % (" ".join(args), r.stderr.strip()))

def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)

def xval(p, name):
    """The raw xattr, None when there is none."""
    try:
        return os.getxattr(p, name, follow_symlinks=False)
    except OSError as e:
        if e.errno == errno.ENODATA:
            return None
        raise

def outcome(fn, *a, **kw):
    """'ok' or the errno name of fn(*a)."""
    try:
        fn(*a, **kw)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))

def state(p):
    """What the ACL rules decide about p: mode, getfacl, raw ACL xattrs."""
    st = os.lstat(p)
    s = {"mode": oct(stat.S_IMODE(st.st_mode))}
    if not stat.S_ISLNK(st.st_mode):
        s["acl"] = getfacl(p)
        s["access"] = xval(p, ACC)
        s["default"] = xval(p, DEF)
    return s

def same(m, r, what):
    """chunkfs's m as tmpfs's r; returns m's state."""
    sm, sr = state(m), state(r)
    eq(sm, sr, what + " (chunkfs, tmpfs)")
    return sm

def both(M, R, rel):
    return os.path.join(M, rel), os.path.join(R, rel)
EOF
chmod a+r "$T/py/aclref.py"

note "setfacl/getfacl round trip, refusals"
py_part "round trip" "$MNT" "$REF" <<'EOF'
import sys
from aclref import *
M, R = sys.argv[1], sys.argv[2]
for root in (M, R):
    f, d = os.path.join(root, "a"), os.path.join(root, "ad")
    write_file(f, b"acl", 0o640)
    os.chmod(f, 0o640)
    os.mkdir(d)
    os.chmod(d, 0o750)
    setfacl("-m", "u:1000:rw,u:1001:r,g:4242:rw,g:4343:x,m::rwx", f)
    setfacl("-m", "u:1000:rwx,d:u:1000:rx,d:g:4242:rwx", d)
s = same(*both(M, R, "a"), "file with an ACL")
eq(s["acl"], "user::rw-\nuser:1000:rw-\nuser:1001:r--\ngroup::r--\ngroup:4242:rw-\n"
   "group:4343:--x\nmask::rwx\nother::---\n\n", "getfacl of a")
eq(s["mode"], oct(0o670), "mode of a: the mask is its group class")
check(s["access"] is not None and s["default"] is None, "a: access ACL only")
s = same(*both(M, R, "ad"), "directory with ACLs")
eq(s["mode"], oct(0o770), "mode of ad")
check(s["default"] is not None, "ad: no default ACL")
# named entries away; the mask stays as setfacl recomputes it
for root in (M, R):
    setfacl("-x", "u:1001,g:4343", os.path.join(root, "a"))
same(*both(M, R, "a"), "after setfacl -x")
# -b: the ACL goes, the mode keeps the base entries
for root in (M, R):
    setfacl("-b", os.path.join(root, "a"))
s = same(*both(M, R, "a"), "after setfacl -b")
eq((s["mode"], s["access"]), (oct(0o640), None), "a after -b: mode, no xattr")
# an ACL of the base entries is the mode: not stored
for root in (M, R):
    setfacl("--set", "u::rwx,g::r-x,o::r--", os.path.join(root, "a"))
s = same(*both(M, R, "a"), "after setfacl --set of a minimal ACL")
eq((s["mode"], s["access"]), (oct(0o754), None), "a: minimal ACL is the mode")
for root in (M, R):
    setfacl("-k", os.path.join(root, "ad"))
s = same(*both(M, R, "ad"), "after setfacl -k")
eq(s["default"], None, "ad: default ACL removed")
# raw values: the kernel's checks, the same answers as tmpfs
hdr = (2).to_bytes(4, "little")
ent = lambda tag, perm, id=0xffffffff: (tag.to_bytes(2, "little") + perm.to_bytes(2, "little")
                                       + id.to_bytes(4, "little"))
good = hdr + ent(1, 6) + ent(2, 4, 1000) + ent(4, 4) + ent(0x10, 4) + ent(0x20, 0)
bad = {
    "unknown tag": hdr + ent(1, 6) + ent(0x40, 4) + ent(4, 4) + ent(0x20, 0),
    "no mask with a named entry": hdr + ent(1, 6) + ent(2, 4, 7) + ent(4, 4) + ent(0x20, 0),
    "wrong order": hdr + ent(4, 4) + ent(1, 6) + ent(0x20, 0),
    "perm bits": hdr + ent(1, 8) + ent(4, 4) + ent(0x20, 0),
    "version 1": (1).to_bytes(4, "little") + ent(1, 6) + ent(4, 4) + ent(0x20, 0),
    "odd size": good + b"x",
    "no other": hdr + ent(1, 6) + ent(4, 4),
}
for root in (M, R):
    write_file(os.path.join(root, "raw"), b"", 0o600)
    os.symlink("raw", os.path.join(root, "rawlink"))
for what, v in sorted(bad.items()):
    o = [outcome(os.setxattr, os.path.join(root, "raw"), ACC, v) for root in (M, R)]
    eq(o[0], o[1], "setxattr of an ACL with " + what + " (chunkfs, tmpfs)")
    check(o[0] != "ok", "an ACL with %s was accepted" % what)
o = [outcome(os.setxattr, os.path.join(root, "raw"), DEF, good) for root in (M, R)]
eq(o, ["EACCES", "EACCES"], "a default ACL on a file")
o = [outcome(os.setxattr, os.path.join(root, "rawlink"), ACC, good, follow_symlinks=False)
     for root in (M, R)]
eq(o[0], o[1], "an ACL on a symlink (chunkfs, tmpfs)")
check(o[0] != "ok", "an ACL on a symlink was accepted")
o = [outcome(os.removexattr, os.path.join(root, "raw"), ACC) for root in (M, R)]
eq(o[0], o[1], "removing an ACL that is not there (chunkfs, tmpfs)")
for root in (M, R):
    os.setxattr(os.path.join(root, "raw"), ACC, good)
s = same(*both(M, R, "raw"), "an ACL set as raw bytes")
eq(s["access"], good, "the ACL xattr as set")
eq(s["mode"], oct(0o640), "mode of raw after the ACL")
names = os.listxattr(os.path.join(M, "raw"))
check(ACC in names, "listxattr does not list %s: %s" % (ACC, names))
EOF

note "access checks as unprivileged users"
py "$MNT" "$REF" <<'EOF'
import sys
from aclref import *
M, R = sys.argv[1], sys.argv[2]
for root in (M, R):
    d = os.path.join(root, "acc")
    os.mkdir(d)
    os.chmod(d, 0o755)
    write_file(os.path.join(d, "f"), b"secret", 0o600)
    os.chmod(os.path.join(d, "f"), 0o600)
    setfacl("-m", "u:1000:rw,g:4242:r", os.path.join(d, "f"))
    os.mkdir(os.path.join(d, "priv"))
    os.chmod(os.path.join(d, "priv"), 0o700)
    setfacl("-m", "u:1000:rwx", os.path.join(d, "priv"))
same(*both(M, R, "acc/f"), "acc/f")
same(*both(M, R, "acc/priv"), "acc/priv")
EOF
# CHECK ROOT... as a user: "what=outcome" lines, compared below
cat >"$T/py/acccheck.py" <<'EOF'
import sys
from aclref import *
def run(root, tag):
    f = os.path.join(root, "acc", "f")
    d = os.path.join(root, "acc", "priv")
    def wr():
        fd = os.open(f, os.O_WRONLY)
        os.close(fd)
    def mk():
        n = os.path.join(d, "by%d" % os.getuid())
        fd = os.open(n, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        os.unlink(n)
    return {"read": outcome(read_file, f), "write": outcome(wr),
            "list": outcome(os.listdir, d), "create": outcome(mk)}
want = eval(sys.argv[3])
got = run(sys.argv[1], "chunkfs")
ref = run(sys.argv[2], "tmpfs")
eq(ref, want, "uid %d groups %s on tmpfs (the test's expectation)" % (os.getuid(), os.getgroups()))
eq(got, want, "uid %d groups %s on chunkfs" % (os.getuid(), os.getgroups()))
EOF
chmod a+r "$T/py/acccheck.py"
acc() { # UID GROUPS WANT
	py_as "$1" "$1" "$2" "$MNT" "$REF" "$3" <"$T/py/acccheck.py"
}
acc 1000 - "{'read': 'ok', 'write': 'ok', 'list': 'ok', 'create': 'ok'}"
acc 1001 4242 "{'read': 'ok', 'write': 'EACCES', 'list': 'EACCES', 'create': 'EACCES'}"
acc 1002 - "{'read': 'EACCES', 'write': 'EACCES', 'list': 'EACCES', 'create': 'EACCES'}"
note "the mask limits named entries"
for r in "$MNT" "$REF"; do setfacl -m m::r "$r/acc/f" && setfacl -m m::r-x "$r/acc/priv" || fail "setfacl -m m::"; done
acc 1000 - "{'read': 'ok', 'write': 'EACCES', 'list': 'ok', 'create': 'EACCES'}"
acc 1001 4242 "{'read': 'ok', 'write': 'EACCES', 'list': 'EACCES', 'create': 'EACCES'}"
note "chmod sets the mask"
for r in "$MNT" "$REF"; do chmod 600 "$r/acc/f" && chmod 700 "$r/acc/priv" || fail chmod; done
acc 1000 - "{'read': 'EACCES', 'write': 'EACCES', 'list': 'EACCES', 'create': 'EACCES'}"
acc 1001 4242 "{'read': 'EACCES', 'write': 'EACCES', 'list': 'EACCES', 'create': 'EACCES'}"
for r in "$MNT" "$REF"; do chmod 660 "$r/acc/f" && chmod 770 "$r/acc/priv" || fail chmod; done
acc 1000 - "{'read': 'ok', 'write': 'ok', 'list': 'ok', 'create': 'ok'}"
acc 1001 4242 "{'read': 'ok', 'write': 'EACCES', 'list': 'EACCES', 'create': 'EACCES'}"

note "chmod <-> mask"
py_part "chmod and mask" "$MNT" "$REF" <<'EOF'
import sys
from aclref import *
M, R = sys.argv[1], sys.argv[2]
for root in (M, R):
    f = os.path.join(root, "cm")
    write_file(f, b"", 0o644)
    os.chmod(f, 0o644)
    setfacl("-m", "u:1000:rwx,g:4242:rw", f)
s = same(*both(M, R, "cm"), "cm with an ACL")
eq(s["mode"], oct(0o674), "mode: group class = mask rwx")
steps = [("chmod", 0o640), ("mask", "m::rw"), ("chmod", 0o4751), ("chmod", 0o600),
         ("mask", "m::rwx"), ("chmod", 0o777), ("entry", "g::---"), ("chmod", 0o2710)]
for kind, arg in steps:
    for root in (M, R):
        f = os.path.join(root, "cm")
        if kind == "chmod":
            os.chmod(f, arg)
        elif kind == "mask":
            setfacl("-n", "-m", arg, f)
        else:
            setfacl("-m", arg, f)
    s = same(*both(M, R, "cm"), "cm after %s %s" % (kind, arg if isinstance(arg, str) else oct(arg)))
    if kind == "chmod":
        eq(s["mode"], oct(arg), "mode after chmod")
        check("mask::%s" % "".join(c if arg >> (3 + i) & 1 else "-" for i, c in ((2, "r"), (1, "w"), (0, "x")))
              in s["acl"], "the mask after chmod %o: %s" % (arg, s["acl"]))
    check("user:1000:rwx" in s["acl"], "named entry kept: %s" % s["acl"])
# a directory's default ACL does not follow chmod
for root in (M, R):
    d = os.path.join(root, "cmd")
    os.mkdir(d)
    setfacl("-m", "d:u:1000:rwx,u:1000:rx", d)
    os.chmod(d, 0o700)
same(*both(M, R, "cmd"), "directory after chmod")
EOF

note "default ACL inheritance and the umask"
py_part "inheritance as root" "$MNT" "$REF" <<'EOF'
import sys
from aclref import *
M, R = sys.argv[1], sys.argv[2]
defaults = {"inh": "d:u::rwx,d:u:1000:rwx,d:g::r-x,d:g:4242:rw-,d:m::rwx,d:o::r-x",
            "inh2": "d:u::rwx,d:g::rwx,d:o::---",
            "inh3": "d:u::rw-,d:u:1000:r--,d:g::---,d:m::r--,d:o::---",
            "noinh": None}
for root in (M, R):
    for d, acl in defaults.items():
        p = os.path.join(root, d)
        os.mkdir(p)
        os.chmod(p, 0o777)
        if acl:
            setfacl("-m", acl, p)
n = 0
for d, acl in sorted(defaults.items()):
    for um in (0o022, 0o077, 0o000, 0o027):
        for kind, cmode in (("file", 0o666), ("file", 0o600), ("file", 0o777), ("dir", 0o777),
                            ("dir", 0o750), ("fifo", 0o666), ("link", 0)):
            n += 1
            rel = os.path.join(d, "%s%03o-%03o" % (kind, cmode, um))
            for root in (M, R):
                p = os.path.join(root, rel)
                old = os.umask(um)
                try:
                    if kind == "file":
                        os.close(os.open(p, os.O_CREAT | os.O_WRONLY, cmode))
                    elif kind == "dir":
                        os.mkdir(p, cmode)
                    elif kind == "fifo":
                        os.mkfifo(p, cmode)
                    else:
                        os.symlink("target", p)
                finally:
                    os.umask(old)
            s = same(*both(M, R, rel), rel)
            if kind == "link":
                continue
            if acl is None:
                eq(s["mode"], oct(cmode & ~um), rel + ": the umask without a default ACL")
            elif d == "inh2":
                eq(s["mode"], oct(cmode & 0o770), rel + ": the default ACL, no umask")
                eq(s["access"], None, rel + ": an equivalent ACL is the mode")
            elif d == "inh":
                check(s["access"] is not None, rel + ": no access ACL inherited")
                eq(s["mode"], oct(cmode & 0o775), rel + ": the default ACL, no umask")
            if kind == "dir" and acl:
                eq(s["default"], xval(os.path.join(M, d), DEF), rel + ": default ACL inherited")
            elif kind != "dir":
                eq(s["default"], None, rel + ": a non-directory has no default ACL")
# two levels down
for root in (M, R):
    p = os.path.join(root, "inh", "dir777-022", "deeper")
    old = os.umask(0o077)
    os.mkdir(p, 0o777)
    os.close(os.open(os.path.join(p, "f"), os.O_CREAT | os.O_WRONLY, 0o640))
    os.umask(old)
same(*both(M, R, "inh/dir777-022/deeper"), "a directory two levels down")
same(*both(M, R, "inh/dir777-022/deeper/f"), "a file two levels down")
log("%d new inodes as tmpfs makes them" % n)
EOF
py_as 1000 1000 4242 "$MNT" "$REF" <<'EOF'
import sys
from aclref import *
M, R = sys.argv[1], sys.argv[2]
for d in ("inh", "inh2", "noinh"):
    for um in (0o022, 0o077):
        for kind, cmode in (("file", 0o664), ("dir", 0o775)):
            rel = os.path.join(d, "user-%s%03o-%03o" % (kind, cmode, um))
            for root in (M, R):
                p = os.path.join(root, rel)
                old = os.umask(um)
                if kind == "file":
                    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, cmode))
                else:
                    os.mkdir(p, cmode)
                os.umask(old)
            s = same(*both(M, R, rel), rel)
            eq(os.stat(os.path.join(M, rel)).st_uid, 1000, rel + ": owner")
log("files and directories made by uid 1000 as on tmpfs")
EOF

note "cp -a keeps modes, owners and ACLs"
SRC=$T/src
mkdir "$SRC"
py_part "cp -a" "$SRC" "$MNT" "$T/back" <<'EOF'
import sys, subprocess
from aclref import *
S, M, B = sys.argv[1], sys.argv[2], sys.argv[3]
tree = [("d755", "dir", 0o755, 0), ("d700", "dir", 0o700, 0), ("sg", "dir", 0o2755, 4242),
        ("sticky", "dir", 0o1777, 0), ("d755/f644", "file", 0o644, 0),
        ("d755/f600", "file", 0o600, 0), ("d755/x755", "file", 0o755, 0),
        ("d755/suid", "file", 0o4755, 0), ("sg/g2750", "file", 0o2750, 4242),
        ("sg/sub", "dir", 0o2775, 4242), ("sg/sub/f664", "file", 0o664, 4242),
        ("d700/none", "file", 0o000, 0), ("d755/user", "file", 0o640, 1000),
        ("acl", "dir", 0o750, 0), ("acl/f", "file", 0o640, 0), ("d755/fifo", "fifo", 0o620, 0)]
for rel, kind, m, owner in tree:
    p = os.path.join(S, rel)
    if kind == "dir":
        os.mkdir(p)
    elif kind == "fifo":
        os.mkfifo(p)
    else:
        write_file(p, rel.encode())
    os.chown(p, owner if owner == 1000 else 0, owner if owner != 1000 else 1000)
    os.chmod(p, m)
setfacl("-m", "u:1000:rwx,d:u:1000:rx,d:g:4242:rwx", os.path.join(S, "acl"))
setfacl("-m", "u:1001:r", os.path.join(S, "acl", "f"))
os.symlink("d755/f644", os.path.join(S, "link"))
os.chmod(S, 0o755)
def compare(a, b, what):
    n = 0
    for dirpath, dirnames, filenames in os.walk(a):
        for name in [""] + dirnames + filenames:
            pa = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(pa, a)
            pb = os.path.join(b, rel)
            sa, sb = os.lstat(pa), os.lstat(pb)
            eq((oct(sb.st_mode), sb.st_uid, sb.st_gid, sb.st_mtime_ns),
               (oct(sa.st_mode), sa.st_uid, sa.st_gid, sa.st_mtime_ns),
               "%s %s: mode, owner, mtime" % (what, rel))
            if not stat.S_ISLNK(sa.st_mode):
                eq(getfacl(pb), getfacl(pa), "%s %s: getfacl" % (what, rel))
            n += 1
    return n
r = subprocess.run(["cp", "-a", S, os.path.join(M, "copy")], capture_output=True, text=True)
eq((r.returncode, r.stderr), (0, ""), "cp -a into chunkfs")
n = compare(S, os.path.join(M, "copy"), "copy")
r = subprocess.run(["cp", "-a", os.path.join(M, "copy"), B], capture_output=True, text=True)
eq((r.returncode, r.stderr), (0, ""), "cp -a out of chunkfs")
compare(S, B, "copied back")
log("cp -a: %d paths keep mode, owner, mtime and ACL, there and back" % n)
EOF

note "persistence across a remount"
snap_save "$MNT" "$T/snap.json"
remount_fs "$IMG" "$MNT" allow_other
snap_check "$MNT" "$T/snap.json"
py "$MNT" "$REF" <<'EOF'
import sys
from aclref import *
M, R = sys.argv[1], sys.argv[2]
for rel in ("ad", "raw", "acc/f", "acc/priv", "cm", "inh", "inh/file666-022", "inh/dir750-077"):
    same(*both(M, R, rel), rel + " after remount")
EOF
acc 1000 - "{'read': 'ok', 'write': 'ok', 'list': 'ok', 'create': 'ok'}"

note "-o noacl"
umount_fs "$MNT"
mount_fs "$IMG" "$MNT" allow_other,noacl
SRC2=$T/src2
mkdir -p "$SRC2/d/e"
chmod 2751 "$SRC2/d"; chmod 705 "$SRC2/d/e"
echo x >"$SRC2/d/f"; chmod 640 "$SRC2/d/f"
py_part "noacl" "$MNT" "$SRC2" <<'EOF'
import sys, subprocess
from aclref import *
M, S = sys.argv[1], sys.argv[2]
E = errno.EOPNOTSUPP
hdr = (2).to_bytes(4, "little")
ent = lambda tag, perm, id=0xffffffff: (tag.to_bytes(2, "little") + perm.to_bytes(2, "little")
                                       + id.to_bytes(4, "little"))
acl = hdr + ent(1, 6) + ent(2, 4, 1000) + ent(4, 4) + ent(0x10, 4) + ent(0x20, 0)
write_file(os.path.join(M, "plain"), b"p", 0o644)
for name in (ACC, DEF):
    for rel in ("plain", "raw", "ad", "inh"):
        p = os.path.join(M, rel)
        expect_errno(E, os.getxattr, p, name)
        if name == DEF and rel in ("plain", "raw"):
            # a default ACL on a file: the kernel's VFS answers first
            expect_errno((E, errno.EACCES), os.setxattr, p, name, acl)
            check(outcome(os.removexattr, p, name) in ("ok", "ENOTSUP"),
                  "removexattr of a default ACL of a file on a noacl mount")
            continue
        expect_errno(E, os.setxattr, p, name, acl)
        expect_errno(E, os.removexattr, p, name)
    check(name not in os.listxattr(os.path.join(M, "raw")), "noacl lists " + name)
r = subprocess.run(["setfacl", "-m", "u:1000:r", os.path.join(M, "plain")], capture_output=True)
check(r.returncode != 0, "setfacl succeeded on a noacl mount")
eq(mode(os.path.join(M, "plain")), 0o644, "mode of plain after the refused setfacl")
os.setxattr(os.path.join(M, "plain"), "user.k", b"v")
eq(os.listxattr(os.path.join(M, "plain")), ["user.k"], "other xattrs on a noacl mount")
# new inodes: the kernel applies the umask, no inheritance
old = os.umask(0o027)
os.mkdir(os.path.join(M, "inh", "noacl-dir"), 0o777)
os.umask(old)
eq(mode(os.path.join(M, "inh", "noacl-dir")), 0o750, "the umask on a noacl mount")
r = subprocess.run(["cp", "-a", S, os.path.join(M, "copy2")], capture_output=True, text=True)
eq((r.returncode, r.stderr), (0, ""), "cp -a on a noacl mount")
for rel, m in (("", 0o755), ("d", 0o2751), ("d/e", 0o705), ("d/f", 0o640)):
    eq(mode(os.path.join(M, "copy2", rel)), mode(os.path.join(S, rel)), "noacl cp -a: mode of " + rel)
    eq(mode(os.path.join(M, "copy2", rel)), m, "noacl cp -a: mode of " + rel)
EOF
umount_fs "$MNT"
mount_fs "$IMG" "$MNT" allow_other
py_part "noacl stored nothing" "$MNT" "$REF" <<'EOF'
import sys
from aclref import *
M, R = sys.argv[1], sys.argv[2]
for rel in ("plain", "copy2", "copy2/d", "copy2/d/f", "inh/noacl-dir"):
    p = os.path.join(M, rel)
    eq((xval(p, ACC), xval(p, DEF)), (None, None), rel + ": an ACL stored on the noacl mount")
same(*both(M, R, "raw"), "raw (its ACL from before the noacl mount)")
same(*both(M, R, "inh"), "inh (its default ACL from before the noacl mount)")
EOF
umount_fs "$MNT"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn"; }
note "a user's own mount (fusermount3): ACLs on, as on tmpfs"
# uid 1000 mounts its own image (no allow_other, no options) and works in
# it beside a tmpfs directory of its own: setfacl/getfacl, inheritance
# without the umask, the umask without a default ACL, cp -a
U=$T/user
mkdir -p "$U/mnt" "$REF/user" && chown 1000:1000 "$U" "$U/mnt" "$REF/user" || fail "the user's directories"
setpriv --reuid=1000 --regid=1000 --clear-groups "$CFS_BIN/mkfs.chunkfs" -q "$U/img" 64M >/dev/null ||
	fail "mkfs.chunkfs as uid 1000"
add_cleanup "fusermount3 -u -z '$U/mnt' 2>/dev/null"
setpriv --reuid=1000 --regid=1000 --clear-groups "$CFS_BIN/chunkfs-fuse" "$U/img" "$U/mnt" >"$T/user-daemon.log" 2>&1 ||
	{ cat "$T/user-daemon.log"; fail "chunkfs-fuse as uid 1000"; }
grep " $U/mnt " /proc/mounts || fail "the user's mount is not there"
py_as 1000 1000 - "$U/mnt" "$REF/user" <<'EOF'
import sys, subprocess
from aclref import *
M, R = sys.argv[1], sys.argv[2]
for root in (M, R):
    p = lambda *a: os.path.join(root, *a)
    os.umask(0o022)
    os.mkdir(p("t"))
    os.mkdir(p("t", "d755"))
    write_file(p("t", "d755", "f644"), b"a")
    os.mkdir(p("t", "d700"), 0o700)
    write_file(p("t", "d700", "f600"), b"b", 0o600)
    os.mkdir(p("t", "acl"))
    write_file(p("t", "acl", "f"), b"c")
    setfacl("-m", "u:1001:rw,g:4242:r", p("t", "acl", "f"))
    setfacl("-m", "d:u:1001:rx,d:g::rwx,d:o::-", p("t", "acl"))
    os.umask(0o077)
    write_file(p("t", "acl", "new"), b"d", 0o666)
    os.mkdir(p("t", "acl", "newd"), 0o777)
    write_file(p("t", "d755", "um"), b"e", 0o666)
    os.umask(0o022)
for rel in ("t", "t/d755", "t/d755/f644", "t/d700", "t/d700/f600", "t/acl", "t/acl/f",
            "t/acl/new", "t/acl/newd", "t/d755/um"):
    same(*both(M, R, rel), "the user's " + rel)
eq((mode(os.path.join(M, "t/d755")), mode(os.path.join(M, "t/d755/f644"))), (0o755, 0o644),
   "the user's 755/644")
eq(mode(os.path.join(M, "t/acl/new")), 0o660, "inherited: the default ACL, not the umask 077")
eq(mode(os.path.join(M, "t/d755/um")), 0o600, "the umask 077 without a default ACL")
for root in (M, R):
    r = subprocess.run(["cp", "-a", os.path.join(root, "t"), os.path.join(root, "c")],
                       capture_output=True, text=True)
    eq((r.returncode, r.stderr), (0, ""), "cp -a by the user")
r = subprocess.run(["cp", "-a", os.path.join(R, "t"), os.path.join(M, "fromref")],
                   capture_output=True, text=True)
eq((r.returncode, r.stderr), (0, ""), "cp -a by the user from tmpfs")
for rel in ("", "d755", "d755/f644", "d700", "d700/f600", "acl", "acl/f", "acl/new", "acl/newd"):
    same(os.path.join(M, "c", rel), os.path.join(R, "t", rel), "the user's cp -a of t/" + rel)
    same(os.path.join(M, "fromref", rel), os.path.join(R, "t", rel), "the user's cp -a from tmpfs of t/" + rel)
log("uid 1000's own mount: ACLs, inheritance, umask and cp -a as on tmpfs")
EOF
setpriv --reuid=1000 --regid=1000 --clear-groups fusermount3 -u "$U/mnt" || fail "fusermount3 -u as uid 1000"
n=0
while grep -q " $U/mnt " /proc/mounts; do
	n=$((n + 1)); [ $n -gt 100 ] && fail "the user's mount does not go"; sleep 0.1
done
wait_released "$U/img"
"$CFS_BIN/fsck.chunkfs" -fn "$U/img" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn of the user's image"; }
finish
