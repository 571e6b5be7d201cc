#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Randomized exerciser: applies the same random operations to a chunkfs
mount and to a reference directory (tmpfs), and compares the two after every
step.

  exerciser.py --mount DIR --ref DIR [--seed S] [--ops N]
               [--remount-cmd CMD --remount-every K] [--full-every K]

Both directories must be empty.  Operations: create, write at random offsets
(some far out, crossing 4 MiB chunk boundaries), truncate, fallocate (default,
KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE, COLLAPSE_RANGE, INSERT_RANGE), rename
(plain, over existing entries, across directories, RENAME_NOREPLACE,
RENAME_EXCHANGE), link, unlink, mkdir, rmdir, symlink, mknod (fifo,
socket), setxattr (with
XATTR_CREATE / XATTR_REPLACE) and removexattr of user.* names, chmod, utime
with nanoseconds.  The result of each operation (success, or the errno) must
be the same on both sides.  The reference lacks some fallocate modes (tmpfs
has no ZERO_RANGE, COLLAPSE_RANGE, INSERT_RANGE): those are emulated by
rewriting the reference file, with the errno a block filesystem gives
(EINVAL for unaligned collapse/insert, for a collapse reaching EOF and for
an insert at or past EOF).

After every step: the set of paths, file types, modes, uid/gid, sizes of
files and symlinks, nlink of regular files, symlink targets, user.* xattrs,
mtime (with nanoseconds) of inodes whose mtime an operation set explicitly
and nothing changed since, and the content (SHA-256) of every regular file
(every --full-every steps; default 1 = every step; files touched by the
step are always hashed).  After a remount (--remount-cmd, run with sh -c
every --remount-every steps) everything is compared again, content
included.

Prints its seed first.  On the first mismatch prints the step, the
operation, both sides' state, a replay command line and exits 1.  Exit 0
when all steps agree; 2 on a usage or harness error.
"""
import argparse
import ctypes
import errno
import hashlib
import os
import random
import shlex
import stat
import subprocess
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong,
                           ctypes.c_longlong]
libc.syscall.restype = ctypes.c_long

SYS_renameat2 = 316          # x86_64
AT_FDCWD = -100
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
KEEP, PUNCH, COLLAPSE, ZERO, INSERT = 0x01, 0x02, 0x08, 0x10, 0x20
FMODES = {0: "DEFAULT", KEEP: "KEEP_SIZE", PUNCH | KEEP: "PUNCH_HOLE|KEEP_SIZE",
          ZERO: "ZERO_RANGE", ZERO | KEEP: "ZERO_RANGE|KEEP_SIZE",
          COLLAPSE: "COLLAPSE_RANGE", INSERT: "INSERT_RANGE"}
NAMES = ["a", "b", "c", "d", "e", "f", "g", "long_name_" + "x" * 60]
XNAMES = ["user.a", "user.b", "user.c", "user.long." + "n" * 40, "user.e"]
MiB = 1 << 20
# Operations happen in SANDBOX below each root.  Relative symlinks moved
# to a shallower directory may point above the sandbox ("../../a"); with six
# levels they still resolve inside the root of their own side (never into
# the other side's tree), and the whole root is compared.
SANDBOX = "s/s/s/s/s/s"


def renameat2(old, new, flags):
    r = libc.syscall(ctypes.c_long(SYS_renameat2), ctypes.c_int(AT_FDCWD),
                     ctypes.c_char_p(os.fsencode(old)), ctypes.c_int(AT_FDCWD),
                     ctypes.c_char_p(os.fsencode(new)), ctypes.c_uint(flags))
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def fallocate(fd, mode, off, length):
    if libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def ename(e):
    return errno.errorcode.get(e, str(e))


class Mismatch(Exception):
    pass


# ---------------------------------------------------------------------------
# applying one operation to one tree

class Side:
    def __init__(self, root, is_ref, emulate, bs):
        self.root = root
        self.is_ref = is_ref
        self.emulate = emulate      # fallocate modes emulated on this side
        self.bs = bs                # block size for collapse/insert rules

    def p(self, rel):
        return os.path.join(self.root, SANDBOX, rel) if rel else os.path.join(self.root, SANDBOX)

    def apply(self, op):
        """Returns ("ok", value) or ("err", errno name)."""
        try:
            return ("ok", getattr(self, "op_" + op["op"])(op))
        except OSError as e:
            if e.errno is None:
                raise
            return ("err", ename(e.errno))

    def op_create(self, op):
        # O_NONBLOCK: opening a fifo for writing must not block
        flags = os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | (os.O_EXCL if op["excl"] else 0) | \
            (os.O_TRUNC if op["trunc"] else 0)
        fd = os.open(self.p(op["path"]), flags, op["mode"])
        os.close(fd)

    def op_write(self, op):
        flags = os.O_WRONLY | os.O_NONBLOCK | (os.O_APPEND if op["append"] else 0)
        fd = os.open(self.p(op["path"]), flags)
        try:
            data = op["data"]
            view = memoryview(data)
            off = op["off"]
            while view:
                n = os.write(fd, view) if op["append"] else os.pwrite(fd, view, off)
                view = view[n:]
                off += n
            return len(data)
        finally:
            os.close(fd)

    def op_truncate(self, op):
        os.truncate(self.p(op["path"]), op["size"])

    def op_fallocate(self, op):
        fd = os.open(self.p(op["path"]), os.O_RDWR | os.O_NONBLOCK)
        try:
            mode, off, ln = op["mode"], op["off"], op["len"]
            if mode in self.emulate:
                self.emulate_falloc(fd, mode, off, ln)
            else:
                fallocate(fd, mode, off, ln)
        finally:
            os.close(fd)

    def emulate_falloc(self, fd, mode, off, ln):
        st = os.fstat(fd)
        size = st.st_size
        # the VFS's checks come first (vfs_fallocate)
        if stat.S_ISFIFO(st.st_mode):
            raise OSError(errno.ESPIPE, "fallocate on a fifo")
        if stat.S_ISDIR(st.st_mode):
            raise OSError(errno.EISDIR, "fallocate on a directory")
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.ENODEV, "fallocate on a special file")
        if ln <= 0 or off < 0:
            raise OSError(errno.EINVAL, "bad range")
        if mode & ZERO:
            end = off + ln
            if off < size:
                zend = min(end, size)
                os.pwrite(fd, bytes(zend - off), off)
            if not (mode & KEEP) and end > size:
                os.ftruncate(fd, end)
            return
        if off % self.bs or ln % self.bs:
            raise OSError(errno.EINVAL, "unaligned collapse/insert")
        if mode == COLLAPSE:
            if off + ln >= size:
                raise OSError(errno.EINVAL, "collapse reaches EOF")
            tail = read_range(fd, off + ln, size - off - ln)
            os.pwrite(fd, tail, off)
            os.ftruncate(fd, size - ln)
            return
        if mode == INSERT:
            if off >= size:
                raise OSError(errno.EINVAL, "insert at or past EOF")
            tail = read_range(fd, off, size - off)
            os.ftruncate(fd, off)
            os.ftruncate(fd, off + ln)
            os.pwrite(fd, tail, off + ln)
            return
        raise RuntimeError("cannot emulate fallocate mode %#x" % mode)

    def op_rename(self, op):
        if op["flags"]:
            renameat2(self.p(op["src"]), self.p(op["dst"]), op["flags"])
        else:
            os.rename(self.p(op["src"]), self.p(op["dst"]))

    def op_link(self, op):
        os.link(self.p(op["src"]), self.p(op["dst"]), follow_symlinks=op["follow"])

    def op_unlink(self, op):
        os.unlink(self.p(op["path"]))

    def op_mknod(self, op):
        kind = stat.S_IFIFO if op["kind"] == "fifo" else stat.S_IFSOCK
        os.mknod(self.p(op["path"]), kind | op["mode"])

    def op_mkdir(self, op):
        os.mkdir(self.p(op["path"]), op["mode"])

    def op_rmdir(self, op):
        os.rmdir(self.p(op["path"]))

    def op_symlink(self, op):
        os.symlink(op["target"], self.p(op["path"]))

    def op_setxattr(self, op):
        os.setxattr(self.p(op["path"]), op["name"], op["value"], op["flags"])

    def op_removexattr(self, op):
        os.removexattr(self.p(op["path"]), op["name"])

    def op_chmod(self, op):
        os.chmod(self.p(op["path"]), op["mode"])

    def op_utime(self, op):
        os.utime(self.p(op["path"]), ns=(op["atime"], op["mtime"]))


def read_range(fd, off, n):
    out = bytearray()
    while n > 0:
        b = os.pread(fd, min(n, 1 << 20), off)
        if not b:
            break
        out += b
        off += len(b)
        n -= len(b)
    return bytes(out)


# ---------------------------------------------------------------------------
# state of a tree

def file_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def user_xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.EPERM, errno.ENOTSUP):
            return {}
        raise
    out = {}
    for n in sorted(names):
        if n.startswith("user."):
            v = os.getxattr(path, n, follow_symlinks=False)
            out[n] = hashlib.sha256(v).hexdigest()[:16] + ":%d" % len(v)
    return out


def walk(root):
    """Sorted list of (relative path, lstat) of everything below root."""
    out = []
    stack = [""]
    while stack:
        rel = stack.pop()
        d = os.path.join(root, rel) if rel else root
        for name in sorted(os.listdir(d), reverse=True):
            if not rel and name == "lost+found":
                continue    # made by mkfs, as on ext4
            r = os.path.join(rel, name) if rel else name
            st = os.lstat(os.path.join(root, r))
            out.append((r, st))
            if stat.S_ISDIR(st.st_mode):
                stack.append(r)
    out.sort(key=lambda x: x[0])
    return out


def describe(root, entries, hash_paths, mtime_paths, cache=None):
    """Comparable state: {path: {field: value}}.  cache (reference side
    only): inode -> hash of files no operation touched since."""
    state = {}
    for rel, st in entries:
        path = os.path.join(root, rel)
        e = {"type": stat.filemode(st.st_mode)[0], "mode": oct(st.st_mode),
             "uid": st.st_uid, "gid": st.st_gid}
        if stat.S_ISREG(st.st_mode):
            e["size"] = st.st_size
            e["nlink"] = st.st_nlink
            if hash_paths is None or rel in hash_paths:
                key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                if cache is not None and cache.get(st.st_ino, (None,))[0] == key:
                    e["sha"] = cache[st.st_ino][1]
                else:
                    e["sha"] = file_hash(path)
                    if cache is not None:
                        cache[st.st_ino] = (key, e["sha"])
        elif stat.S_ISLNK(st.st_mode):
            e["size"] = st.st_size
            e["target"] = os.readlink(path)
        if not stat.S_ISLNK(st.st_mode):
            e["xattrs"] = user_xattrs(path)
        if rel in mtime_paths:
            e["mtime_ns"] = st.st_mtime_ns
        state[rel] = e
    return state


# ---------------------------------------------------------------------------
# choosing operations (from the reference tree only, so a seed replays)

class Chooser:
    def __init__(self, rng, ops_mix, bs):
        self.rng = rng
        self.mix = ops_mix
        self.bs = bs

    def pick_path(self, entries, kind=None, new_ok=True, p_existing=0.75):
        r = self.rng
        dirs = [""] + [p for p, st in entries if stat.S_ISDIR(st.st_mode)]
        if kind == "file":
            cands = [p for p, st in entries if stat.S_ISREG(st.st_mode)]
        elif kind == "dir":
            cands = dirs[1:]
        else:
            cands = [p for p, st in entries]
        if cands and (not new_ok or r.random() < p_existing):
            # sometimes through a symlink
            if kind == "file" and r.random() < 0.1:
                links = [p for p, st in entries if stat.S_ISLNK(st.st_mode)]
                if links:
                    return r.choice(links)
            return r.choice(cands)
        parent = r.choice(dirs)
        if r.random() < 0.03:
            parent = os.path.join(parent, "missing") if parent else "missing"
        if parent.count("/") >= 3:
            parent = ""
        name = r.choice(NAMES)
        return os.path.join(parent, name) if parent else name

    def data(self, n):
        r = self.rng
        kind = r.random()
        if kind < 0.6:
            return r.randbytes(n)
        if kind < 0.8:
            return bytes([r.randrange(256)]) * n
        return bytes(n)          # zeros: must not be confused with holes

    def choose(self, entries, total_bytes, nentries):
        r = self.rng
        names, weights = zip(*self.mix)
        opname = r.choices(names, weights)[0]
        files_cnt = sum(1 for p, st in entries if stat.S_ISREG(st.st_mode))
        if nentries < 10 and r.random() < 0.3:
            opname = r.choice(["create", "create", "mkdir"])
        if files_cnt == 0 and opname in ("write", "truncate", "fallocate"):
            opname = "create"
        if nentries > 70 and r.random() < 0.5:
            opname = r.choice(["unlink", "rmdir", "rename"])
        if total_bytes > 96 * MiB and r.random() < 0.7:
            opname = r.choice(["unlink", "truncate"])
        op = {"op": opname}
        if opname == "create":
            op.update(path=self.pick_path(entries), excl=r.random() < 0.3,
                      trunc=r.random() < 0.3, mode=r.choice([0o644, 0o600, 0o755, 0o444]))
        elif opname == "write":
            op["path"] = self.pick_path(entries, "file", new_ok=files_cnt == 0)
            x = r.random()
            if x < 0.55:
                off, n = r.randrange(0, 256 * 1024), r.randrange(1, 40000)
            elif x < 0.6:
                # large: files bigger than a 4 MiB chunk need continuations
                off, n = r.randrange(0, 4 * MiB), r.randrange(1 * MiB, 4 * MiB)
            elif x < 0.85:
                off, n = r.randrange(0, 2 * MiB), r.randrange(1, 200000)
            else:
                # around 4 MiB chunk boundaries, up to 10 MiB
                off = r.randrange(1, 3) * 4 * MiB + r.randrange(-70000, 70000)
                n = r.randrange(1, 150000)
            op.update(off=off, data=self.data(n), append=r.random() < 0.1)
        elif opname == "truncate":
            op["path"] = self.pick_path(entries, "file", new_ok=files_cnt == 0)
            x = r.random()
            if x < 0.3:
                op["size"] = 0 if r.random() < 0.3 else r.randrange(0, 8192)
            elif x < 0.8:
                op["size"] = r.randrange(0, 1 * MiB)
            else:
                op["size"] = r.randrange(0, 9 * MiB)
        elif opname == "fallocate":
            op["path"] = self.pick_path(entries, "file", new_ok=files_cnt == 0)
            mode = r.choice(self.fmodes)
            bs = self.bs
            if mode in (COLLAPSE, INSERT) and r.random() < 0.8:
                off = r.randrange(0, 64) * bs
                ln = r.randrange(1, 16) * bs
            elif r.random() < 0.5:
                off = r.randrange(0, 64) * bs
                ln = r.randrange(1, 32) * bs
            else:
                off = r.randrange(0, 512 * 1024)
                ln = r.randrange(1, 256 * 1024)
            op.update(mode=mode, off=off, len=ln)
        elif opname == "rename":
            op["src"] = self.pick_path(entries, new_ok=False) if entries else "a"
            op["dst"] = self.pick_path(entries)
            op["flags"] = r.choices([0, RENAME_NOREPLACE, RENAME_EXCHANGE], [6, 2, 2])[0]
        elif opname == "link":
            op["src"] = self.pick_path(entries, new_ok=False) if entries else "a"
            op["dst"] = self.pick_path(entries)
            op["follow"] = r.random() < 0.5
        elif opname == "unlink":
            op["path"] = self.pick_path(entries, new_ok=r.random() < 0.1)
        elif opname == "mknod":
            op.update(path=self.pick_path(entries, p_existing=0.3), kind=r.choice(["fifo", "sock"]),
                      mode=r.choice([0o644, 0o600, 0o666]))
        elif opname == "mkdir":
            op.update(path=self.pick_path(entries, p_existing=0.4), mode=r.choice([0o755, 0o700, 0o2775, 0o1777]))
        elif opname == "rmdir":
            op["path"] = self.pick_path(entries, "dir", new_ok=r.random() < 0.2)
        elif opname == "symlink":
            path = self.pick_path(entries, p_existing=0.4)
            x = r.random()
            if x < 0.5 and entries:
                tgt = r.choice(entries)[0]
                base = os.path.dirname(path)
                target = os.path.relpath(tgt, base or ".")
            elif x < 0.7:
                target = r.choice(NAMES)
            elif x < 0.8:
                target = "../" + r.choice(NAMES)
            elif x < 0.9:
                target = "nonexistent/" + "t" * r.randrange(1, 300)
            else:
                target = "/".join(r.choice(NAMES) for _ in range(r.randrange(1, 60)))
            op.update(path=path, target=target)
        elif opname == "setxattr":
            op["path"] = self.pick_path(entries, new_ok=False) if entries else "a"
            n = min(r.choice([0, 1, 10, 100, 500, 1000, 2000, 5000, 20000, 65536]), self.xattr_max)
            op.update(name=r.choice(XNAMES), value=r.randbytes(n),
                      flags=r.choices([0, os.XATTR_CREATE, os.XATTR_REPLACE], [6, 2, 2])[0])
        elif opname == "removexattr":
            op["path"] = self.pick_path(entries, new_ok=False) if entries else "a"
            op["name"] = r.choice(XNAMES)
        elif opname == "chmod":
            op["path"] = self.pick_path(entries, new_ok=r.random() < 0.05) if entries else "a"
            op["mode"] = r.choice([0o644, 0o600, 0o755, 0o777, 0o4755, 0o2755, 0o1777, 0o000, 0o640, 0o7777])
        elif opname == "utime":
            op["path"] = self.pick_path(entries, new_ok=r.random() < 0.05) if entries else "a"
            op["atime"] = r.randrange(-(1 << 31), 1 << 33) * 10**9 + r.randrange(10**9)
            op["mtime"] = r.randrange(-(1 << 31), 1 << 33) * 10**9 + r.randrange(10**9)
        return op


def op_text(op):
    o = dict(op)
    if "data" in o:
        d = o.pop("data")
        o["len"] = len(d)
        o["data"] = "sha256:" + hashlib.sha256(d).hexdigest()[:16]
    if "value" in o:
        v = o.pop("value")
        o["value"] = "%d bytes sha256:%s" % (len(v), hashlib.sha256(v).hexdigest()[:16])
    if o.get("op") == "fallocate":
        o["mode"] = FMODES.get(o["mode"], hex(o["mode"]))
    if "mode" in o and isinstance(o["mode"], int):
        o["mode"] = oct(o["mode"])
    if o.get("op") == "rename":
        o["flags"] = {0: "0", 1: "RENAME_NOREPLACE", 2: "RENAME_EXCHANGE"}[o["flags"]]
    if o.get("op") == "setxattr":
        o["flags"] = {0: "0", 1: "XATTR_CREATE", 2: "XATTR_REPLACE"}[o["flags"]]
    return " ".join("%s=%s" % (k, v) for k, v in o.items())


# ---------------------------------------------------------------------------

def probe_fallocate(root, mode, bs):
    """Does the filesystem under root support this fallocate mode?"""
    path = os.path.join(root, ".exerciser-probe")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.pwrite(fd, b"p" * (8 * bs), 0)
        fallocate(fd, mode, bs, bs)
        return True
    except OSError as e:
        if e.errno == errno.EOPNOTSUPP:
            return False
        print("warning: probing fallocate %s on %s failed with %s; the mode is exercised"
              % (FMODES[mode], root, ename(e.errno)), flush=True)
        return True
    finally:
        os.close(fd)
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mount", required=True, help="chunkfs mount point (empty)")
    ap.add_argument("--ref", required=True, help="reference directory on tmpfs (empty)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--remount-cmd", default=None, help="shell command that unmounts and mounts --mount again")
    ap.add_argument("--remount-every", type=int, default=0)
    ap.add_argument("--full-every", type=int, default=1,
                    help="hash every file every K steps (touched files always); default 1")
    ap.add_argument("--block-size", type=int, default=0,
                    help="alignment of collapse/insert (default: statvfs f_bsize of --mount)")
    ap.add_argument("--xattr-max", type=int, default=65536,
                    help="largest xattr value written (default 65536, XATTR_SIZE_MAX)")
    ap.add_argument("--check-only", action="store_true",
                    help="only compare the two trees (full), apply no operation")
    ap.add_argument("--mix", default=None,
                    help="operation weights, e.g. write=5,setxattr=3 (others 0); default: all")
    ap.add_argument("--verbose", "-v", action="store_true")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "little")
    if not a.check_only:
        print("exerciser seed: %d" % seed, flush=True)
    if a.remount_every and not a.remount_cmd:
        ap.error("--remount-every needs --remount-cmd")
    for d in (a.mount, a.ref):
        if not os.path.isdir(d):
            print("exerciser: %s is not a directory" % d, file=sys.stderr)
            return 2
        if set(os.listdir(d)) - {"lost+found"} and not a.check_only:
            print("exerciser: %s is not empty" % d, file=sys.stderr)
            return 2
    os.umask(0o022)
    bs = a.block_size or os.statvfs(a.mount).f_bsize
    if a.check_only:
        sm = describe(a.mount, walk(a.mount), None, set())
        sr = describe(a.ref, walk(a.ref), None, set())
        if sm != sr:
            print("MISMATCH between %s and %s:" % (a.mount, a.ref))
            n = 0
            for k in sorted(set(sm) | set(sr)):
                if sm.get(k) != sr.get(k):
                    print("  %s\n     mount: %r\n     ref:   %r" % (k, sm.get(k), sr.get(k)))
                    n += 1
                    if n > 20:
                        break
            return 1
        print("exerciser: %s and %s agree (%d entries)" % (a.mount, a.ref, len(sm)))
        return 0

    # fallocate modes: the mount must support the basic ones; COLLAPSE/INSERT
    # are not forwarded by the kernel's FUSE module (EOPNOTSUPP there).
    fmodes = [0, KEEP, PUNCH | KEEP, ZERO, ZERO | KEEP, COLLAPSE, INSERT]
    emulate = set()
    for m in list(fmodes):
        on_mount = probe_fallocate(a.mount, m, bs)
        on_ref = probe_fallocate(a.ref, m, bs)
        if not on_mount:
            print("NOTE: fallocate %s gives EOPNOTSUPP on the mount (kernel %s); not exercised"
                  % (FMODES[m], os.uname().release), flush=True)
            fmodes.remove(m)
            continue
        if not on_ref:
            if m & (ZERO | COLLAPSE | INSERT) and not m & PUNCH:
                emulate.add(m)
                print("note: fallocate %s emulated on the reference" % FMODES[m], flush=True)
            else:
                print("exerciser: the reference lacks fallocate %s" % FMODES[m], file=sys.stderr)
                return 2
    mount = Side(a.mount, False, set(), bs)
    ref = Side(a.ref, True, emulate, bs)

    mix = [("create", 14), ("write", 25), ("truncate", 5), ("fallocate", 10), ("rename", 10),
           ("link", 4), ("unlink", 5), ("mkdir", 5), ("rmdir", 2), ("symlink", 4), ("mknod", 1),
           ("setxattr", 6), ("removexattr", 3), ("chmod", 3), ("utime", 4)]
    if a.mix:
        want = dict((k, int(v)) for k, v in (x.split("=") for x in a.mix.split(",")))
        unknown = set(want) - set(n for n, w in mix)
        if unknown:
            ap.error("unknown operations in --mix: %s" % ", ".join(sorted(unknown)))
        mix = [(n, want.get(n, 0)) for n, w in mix]
    rng = random.Random(seed)
    chooser = Chooser(rng, mix, bs)
    chooser.fmodes = fmodes
    chooser.xattr_max = a.xattr_max

    replay = [sys.executable, os.path.abspath(__file__), "--mount", a.mount, "--ref", a.ref,
              "--seed", str(seed)]
    if a.remount_cmd:
        replay += ["--remount-cmd", a.remount_cmd, "--remount-every", str(a.remount_every)]
    if a.full_every != 1:
        replay += ["--full-every", str(a.full_every)]
    if a.block_size:
        replay += ["--block-size", str(a.block_size)]
    if a.mix:
        replay += ["--mix", a.mix]
    if a.xattr_max != 65536:
        replay += ["--xattr-max", str(a.xattr_max)]

    # mtime tracking: ref inode number -> mtime_ns set by utime
    mtime_set = {}
    ref_hashes = {}     # reference inode -> content hash, until touched
    counts = {}
    t0 = time.time()

    def fail(step, op, msg, ra=None, rb=None, paths=None, sm=None, sr=None):
        print("\nMISMATCH at step %d (of %d)" % (step, a.ops))
        if op is not None:
            print("  op: %s" % op_text(op))
        if ra is not None:
            print("  result on the mount:     %r" % (ra,))
            print("  result on the reference: %r" % (rb,))
        print("  " + msg)
        if sm is not None:
            keys = sorted(set(sm) | set(sr))
            shown = 0
            for k in keys:
                if sm.get(k) != sr.get(k) or (paths and k in paths):
                    print("  %s\n     mount: %r\n     ref:   %r" % (k, sm.get(k), sr.get(k)))
                    shown += 1
                    if shown > 20:
                        print("  ...")
                        break
        print("  last operations are above with --verbose; replay on a fresh image and an empty ref dir with:")
        print("  " + " ".join(shlex.quote(x) for x in replay + ["--ops", str(step + 1)]) + " --verbose")
        sys.stdout.flush()
        sys.exit(1)

    def compare(step, op, full, touched, ra=None, rb=None):
        er = walk(a.ref)
        em = walk(a.mount)
        mtime_paths = set()
        for rel, st in er:
            if st.st_ino in mtime_set and not stat.S_ISLNK(st.st_mode):
                if st.st_mtime_ns == mtime_set[st.st_ino]:
                    mtime_paths.add(rel)
                else:
                    del mtime_set[st.st_ino]
        hash_paths = None
        if not full:
            ino_touched = set()
            for rel, st in er:
                if rel in touched:
                    ino_touched.add(st.st_ino)
            hash_paths = set(rel for rel, st in er if st.st_ino in ino_touched or rel in touched)
        sr = describe(a.ref, er, hash_paths, mtime_paths, ref_hashes)
        sm = describe(a.mount, em, hash_paths, mtime_paths)
        if sr != sm:
            what = "state differs after the operation" if op else "state differs"
            fail(step, op, what, ra, rb, touched, sm, sr)
        return er

    for root in (a.mount, a.ref):
        os.makedirs(os.path.join(root, SANDBOX))

    def sandboxed(er):
        pre = SANDBOX + "/"
        return [(p[len(pre):], st) for p, st in er if p.startswith(pre)]

    entries = sandboxed(walk(a.ref))
    total = 0
    ref_real = os.path.realpath(a.ref)
    for step in range(a.ops):
        total = sum(st.st_size for p, st in entries if stat.S_ISREG(st.st_mode))
        op = chooser.choose(entries, total, len(entries))
        if a.verbose:
            print("%6d %s" % (step, op_text(op)), flush=True)
        # paths the operation names (absolute, on the reference side), also
        # resolved through symlinks; and the root-relative ones to hash
        abs_touched = set()
        for k in ("path", "src", "dst"):
            if k in op:
                abs_touched.add(ref.p(op[k]))
                abs_touched.add(os.path.realpath(ref.p(op[k])))
        touched = set(os.path.relpath(t, ref_real) for t in abs_touched
                      if t.startswith(ref_real + "/")) | \
            set(os.path.relpath(t, a.ref) for t in abs_touched if t.startswith(a.ref + "/"))
        parents = set(os.path.dirname(t) for t in abs_touched)
        # inodes whose mtime this operation may change, found before it runs
        maybe_changed = set()
        if op["op"] not in ("utime", "chmod", "setxattr", "removexattr"):
            for t in abs_touched | parents:
                for follow in (True, False):
                    try:
                        maybe_changed.add(os.stat(t, follow_symlinks=follow).st_ino)
                    except OSError:
                        pass

        def forget_hashes():
            for t in abs_touched:
                try:
                    ref_hashes.pop(os.stat(t).st_ino, None)
                except OSError:
                    pass
        forget_hashes()
        ra = mount.apply(op)
        rb = ref.apply(op)
        forget_hashes()
        key = (op["op"], ra[0] if ra == rb else "differ")
        counts[key] = counts.get(key, 0) + 1
        if ra != rb:
            fail(step, op, "the operation's result differs", ra, rb)
        if rb[0] == "ok" or op["op"] == "fallocate":
            # (ext4 updates mtime even when it then refuses an insert range)
            for ino in maybe_changed:
                mtime_set.pop(ino, None)
        if rb[0] == "ok":
            if op["op"] == "utime":
                st = os.stat(ref.p(op["path"]))
                mtime_set[st.st_ino] = st.st_mtime_ns
        full = a.full_every <= 1 or step % a.full_every == 0
        entries = sandboxed(compare(step, op, full, touched, ra, rb))
        if a.remount_every and (step + 1) % a.remount_every == 0 and step + 1 < a.ops:
            print("step %d: remounting (%s)" % (step + 1, a.remount_cmd), flush=True)
            r = subprocess.run(a.remount_cmd, shell=True)
            if r.returncode != 0:
                fail(step, None, "the remount command failed with status %d" % r.returncode)
            entries = sandboxed(compare(step, None, True, set()))
            print("step %d: state identical after the remount" % (step + 1), flush=True)
    compare(a.ops, None, True, set())
    nfiles = sum(1 for p, st in entries if stat.S_ISREG(st.st_mode))
    print("exerciser: %d operations agreed (seed %d, %.1fs); final tree: %d entries, %d files, %d bytes"
          % (a.ops, seed, time.time() - t0, len(entries), nfiles, total))
    summary = {}
    for (name, res), n in sorted(counts.items()):
        summary.setdefault(name, []).append("%s %d" % (res, n))
    print("  " + "; ".join("%s: %s" % (k, ", ".join(v)) for k, v in sorted(summary.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
