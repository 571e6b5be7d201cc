#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Set-id bits through FUSE (issue 15, point 2), beside tmpfs under $T/ref
# (the kernel's VFS rules, which ext4 shares) and against Linux 6.x's rule
# written out here: files of mode 6755, 2755, 2666, 6666, 4755 owned by
# uid 1000, group 4242, changed by write(2), O_TRUNC, truncate, fallocate,
# copy_file_range, a shared mapping and chown, by uid 1000 in and not in
# group 4242 and by root; chmod g+s and an ACL set by an owner not in the
# group; a setgid directory: the group and S_ISGID of what root, a member
# and a non-member create in it, with umasks and a default ACL; a file
# capability (security.capability) removed as ext4 removes it.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "NOTE: t_setid needs root (setpriv to other users); not run as uid $(id -u)"
	exit 77 # skipped: counted apart by tests/run-all.sh
fi
command -v setfacl >/dev/null || fail "setfacl missing (sh tests/deps.sh installs Debian's acl)"

REF=$T/ref
mkdir "$REF"
mkimg "$IMG" 64M
mount_fs "$IMG" "$MNT" allow_other
chmod 755 "$MNT" "$REF"

cat >"$T/py/setid.py" <<'EOF'
import errno, mmap, os, stat, sys
from cfs_util import *

MODES = (0o6755, 0o2755, 0o2666, 0o6666, 0o4755)
OPS = ("write", "otrunc", "truncate", "fallocate", "copy_range", "mmap", "chown")
ACTORS = ("member", "other", "root")

def name(m, op, actor):
    return "f%o-%s-%s" % (m, op, actor)

def want(m, op, actor):
    """Linux 6.x: setattr_should_drop_suidgid for a write or truncate
    (nothing for CAP_FSETID; S_ISUID; S_ISGID when group-executable or
    the writer is not in the group), chown_common for a chown (any
    caller: S_ISUID, S_ISGID as setattr_should_drop_sgid), nothing for a
    write through a shared mapping."""
    if op == "mmap":
        return m
    priv = actor == "root"
    in_group = actor == "member"
    drop_sgid = bool(m & stat.S_ISGID) and (bool(m & stat.S_IXGRP) or not (in_group or priv))
    if op != "chown" and priv:
        return m
    kill = stat.S_ISUID | (stat.S_ISGID if drop_sgid else 0)
    return m & ~kill

def do(path, op, actor):
    if op == "write":
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.write(fd, b"w")
        os.close(fd)
    elif op == "otrunc":
        os.close(os.open(path, os.O_WRONLY | os.O_TRUNC))
    elif op == "truncate":
        os.truncate(path, 3)
    elif op == "fallocate":
        fd = os.open(path, os.O_WRONLY)
        fallocate(fd, 0, 0, 8192)
        os.close(fd)
    elif op == "copy_range":
        src = os.open(os.path.join(os.path.dirname(path), "src"), os.O_RDONLY)
        fd = os.open(path, os.O_WRONLY)
        eq(os.copy_file_range(src, fd, 4, 0, 0), 4, "copy_file_range")
        os.close(fd)
        os.close(src)
    elif op == "mmap":
        fd = os.open(path, os.O_RDWR)
        mm = mmap.mmap(fd, 1)
        mm[0:1] = b"m"
        mm.flush()
        mm.close()
        os.close(fd)
    elif op == "chown":
        os.chown(path, 1000, 4242 if actor != "other" else -1)

def modes(root, mine):
    return {n: stat.S_IMODE(os.stat(os.path.join(root, "m", n)).st_mode)
            for n in sorted(os.listdir(os.path.join(root, "m"))) if n in mine}
EOF
chmod a+r "$T/py/setid.py"

note "set-up: files of uid 1000, group 4242"
py "$MNT" "$REF" <<'EOF'
import sys
from setid import *
for root in sys.argv[1:]:
    d = os.path.join(root, "m")
    os.mkdir(d)
    os.chmod(d, 0o777)
    write_file(os.path.join(d, "src"), b"data", 0o644)
    for m in MODES:
        for op in OPS:
            for actor in ACTORS:
                p = os.path.join(d, name(m, op, actor))
                write_file(p, b"some bytes", 0o600)
                os.chown(p, 1000, 4242)
                os.chmod(p, m)
                eq(stat.S_IMODE(os.stat(p).st_mode), m, "mode of " + p)
EOF

cat >"$T/py/setid_run.py" <<'EOF'
import sys
from setid import *
actor = sys.argv[3]
mine = set()
for root in sys.argv[1:3]:
    for m in MODES:
        for op in OPS:
            n = name(m, op, actor)
            mine.add(n)
            do(os.path.join(root, "m", n), op, actor)
got, ref = modes(sys.argv[1], mine), modes(sys.argv[2], mine)
exp = {name(m, op, actor): want(m, op, actor) for m in MODES for op in OPS}
bad = ["%s: chunkfs %o, tmpfs %o, the rule %o" % (n, got[n], ref[n], exp[n])
       for n in sorted(exp) if not got[n] == ref[n] == exp[n]]
check(not bad, "set-id bits as %s (uid %d, groups %s):\n  %s" % (
    actor, os.getuid(), os.getgroups(), "\n  ".join(bad)))
log("%s: %d cases as tmpfs and the rule" % (actor, len(exp)))
EOF
chmod a+r "$T/py/setid_run.py"

note "writes, truncates, fallocate, copy_file_range, mmap, chown"
py_as 1000 1000 4242 "$MNT" "$REF" member <"$T/py/setid_run.py"
py_as 1000 1000 - "$MNT" "$REF" other <"$T/py/setid_run.py"
py "$MNT" "$REF" root <"$T/py/setid_run.py"

note "chmod g+s and an ACL by an owner not in the group"
py "$MNT" "$REF" <<'EOF'
import sys
from setid import *
for root in sys.argv[1:]:
    for n in ("chm-other", "chm-member", "acl-other", "acl-member"):
        p = os.path.join(root, "m", n)
        write_file(p, b"x", 0o644)
        os.chown(p, 1000, 4242)
        os.chmod(p, 0o2755 if n.startswith("acl") else 0o644)
EOF
cat >"$T/py/setid_own.py" <<'EOF'
import sys, subprocess
from setid import *
who = sys.argv[3]
for root in sys.argv[1:3]:
    os.chmod(os.path.join(root, "m", "chm-" + who), 0o2755)
    r = subprocess.run(["setfacl", "-m", "u:1001:r", os.path.join(root, "m", "acl-" + who)],
                       capture_output=True, text=True)
    eq((r.returncode, r.stderr), (0, ""), "setfacl by the owner")
for n, m in (("chm-", 0o755 if who == "other" else 0o2755),
             ("acl-", 0o755 if who == "other" else 0o2755)):
    got = [stat.S_IMODE(os.stat(os.path.join(r, "m", n + who)).st_mode) for r in sys.argv[1:3]]
    eq(got, [m, m], n + who + ": mode (chunkfs, tmpfs)")
EOF
chmod a+r "$T/py/setid_own.py"
py_as 1000 1000 - "$MNT" "$REF" other <"$T/py/setid_own.py"
py_as 1000 1000 4242 "$MNT" "$REF" member <"$T/py/setid_own.py"

note "a setgid directory"
py "$MNT" "$REF" <<'EOF'
import sys, subprocess
from setid import *
for root in sys.argv[1:]:
    for d in ("sg", "sgacl"):
        p = os.path.join(root, d)
        os.mkdir(p)
        os.chown(p, 0, 4242)
        os.chmod(p, 0o2777)
    subprocess.run(["setfacl", "-m", "d:u:1001:rwx,d:g::rwx,d:o::r-x", os.path.join(root, "sgacl")],
                   check=True)
EOF
cat >"$T/py/setid_sg.py" <<'EOF'
import sys
from setid import *
who = sys.argv[3]
out = []
for d in ("sg", "sgacl"):
    for um in (0o002, 0o022, 0o077):
        for kind, m in (("f", 0o2755), ("f", 0o2644), ("f", 0o6777), ("d", 0o777), ("d", 0o2750),
                        ("p", 0o2666)):
            n = "%s-%s%04o-%03o" % (who, kind, m, um)
            res = []
            for root in sys.argv[1:3]:
                p = os.path.join(root, d, n)
                old = os.umask(um)
                if kind == "f":
                    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, m))
                elif kind == "d":
                    os.mkdir(p, m)
                else:
                    os.mknod(p, stat.S_IFIFO | m)
                os.umask(old)
                st = os.stat(p)
                res.append((oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid))
            eq(res[0], res[1], "%s/%s: mode, owner (chunkfs, tmpfs)" % (d, n))
            mode, uid, gid = res[0]
            eq(gid, 4242, "%s/%s: the directory's group" % (d, n))
            mode = int(mode, 8)
            if kind == "d":
                check(mode & stat.S_ISGID, "%s/%s: a directory inherits S_ISGID" % (d, n))
            else: # mode_strip_sgid: a group-executable one, by a non-member
                keep = bool(m & stat.S_ISGID) and not (who == "other" and m & stat.S_IXGRP)
                eq(bool(mode & stat.S_ISGID), keep, "%s/%s: S_ISGID" % (d, n))
            if d == "sg":
                eq(mode & 0o777, m & 0o777 & ~um, "%s/%s: the umask" % (d, n))
            out.append(n)
log("%s: %d new inodes in setgid directories as tmpfs makes them" % (who, len(out)))
EOF
chmod a+r "$T/py/setid_sg.py"
py "$MNT" "$REF" root <"$T/py/setid_sg.py"
py_as 1000 1000 4242 "$MNT" "$REF" member <"$T/py/setid_sg.py"
py_as 1001 1001 - "$MNT" "$REF" other <"$T/py/setid_sg.py"

note "file capabilities (security.capability) go with a write, truncate or chown"
# ext4's file_remove_privs and chown: the capability xattr is removed by
# any write, truncate or chown (root's too), kept by a chmod and by a
# write through a shared mapping; beside tmpfs
cat >"$T/py/caps.py" <<'EOF'
import struct, subprocess
from setid import *
CAP = "security.capability"
BLOB = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0) # v2, effective, cap_net_raw
OPS = ("write-root", "write-user", "truncate", "otrunc", "fallocate", "chown", "chown-same",
       "chmod", "mmap", "read")
def has(p):
    try:
        return os.getxattr(p, CAP) == BLOB
    except OSError:
        return False
def run(root):
    d = os.path.join(root, "caps")
    os.mkdir(d)
    os.chmod(d, 0o777)
    got = {}
    for op in OPS:
        p = os.path.join(d, op)
        write_file(p, b"some data", 0o666)
        os.chmod(p, 0o755)
        os.setxattr(p, CAP, BLOB)
        check(has(p), "%s: the capability was not set" % p)
        if op == "write-user":
            os.chmod(p, 0o757)
            r = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", PYU,
                                "-c", "open(%r, 'ab').write(b'y')" % p])
            eq(r.returncode, 0, "a write by uid 1000")
        elif op == "chown-same":
            os.chown(p, -1, -1)
        elif op == "chmod":
            os.chmod(p, 0o750)
        elif op == "read":
            read_file(p)
        else: # as t_setid's other files
            do(p, "write" if op == "write-root" else op, "root")
        got[op] = "kept" if has(p) else "removed"
    return got
M, R, PYU = sys.argv[1:4] # (PYU: a python uid 1000 can run)
got, ref = run(M), run(R)
eq(got, ref, "the capability after each operation (chunkfs, tmpfs)")
want = {op: "kept" if op in ("chmod", "mmap", "read") else "removed" for op in OPS}
eq(got, want, "the capability after each operation (chunkfs, ext4's rule)")
log("security.capability: %s" % ", ".join("%s %s" % kv for kv in sorted(got.items())))
EOF
chmod a+r "$T/py/caps.py"
py "$MNT" "$REF" "$PY_NOBODY" <"$T/py/caps.py"

note "persistence"
snap_save "$MNT" "$T/snap.json"
remount_fs "$IMG" "$MNT" allow_other
snap_check "$MNT" "$T/snap.json"
umount_fs "$MNT"
"$CFS_BIN/fsck.chunkfs" -fn "$IMG" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "fsck.chunkfs -fn"; }
echo "PASS: t_setid"
