# SPDX-License-Identifier: GPL-2.0
"""Helpers for the chunkfs FUSE integration tests (standard library only)."""
import ctypes
import errno
import hashlib
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong,
                           ctypes.c_longlong]
libc.syscall.restype = ctypes.c_long
libc.syncfs.argtypes = [ctypes.c_int]

SYS_renameat2 = 316          # x86_64
AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
RENAME_WHITEOUT = 4

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
FALLOC_FL_COLLAPSE_RANGE = 0x08
FALLOC_FL_ZERO_RANGE = 0x10
FALLOC_FL_INSERT_RANGE = 0x20

FALLOC_NAMES = {0: "default", 1: "KEEP_SIZE", 3: "PUNCH_HOLE|KEEP_SIZE",
                8: "COLLAPSE_RANGE", 0x10: "ZERO_RANGE",
                0x11: "ZERO_RANGE|KEEP_SIZE", 0x20: "INSERT_RANGE"}


def _raise(what):
    e = ctypes.get_errno()
    raise OSError(e, "%s: %s" % (what, os.strerror(e)))


def renameat2(old, new, flags):
    r = libc.syscall(ctypes.c_long(SYS_renameat2), ctypes.c_int(AT_FDCWD),
                     ctypes.c_char_p(os.fsencode(old)), ctypes.c_int(AT_FDCWD),
                     ctypes.c_char_p(os.fsencode(new)), ctypes.c_uint(flags))
    if r != 0:
        _raise("renameat2(%s, %s, %#x)" % (old, new, flags))


def fallocate(fd, mode, off, length):
    if libc.fallocate(fd, mode, off, length) != 0:
        _raise("fallocate(mode=%s, off=%d, len=%d)" %
               (FALLOC_NAMES.get(mode, hex(mode)), off, length))


def syncfs(fd):
    if libc.syncfs(fd) != 0:
        _raise("syncfs")


class CheckError(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise CheckError(msg)


def eq(got, want, what):
    if got != want:
        g, w = repr(got), repr(want)
        if len(g) > 200:
            g = g[:200] + "..."
        if len(w) > 200:
            w = w[:200] + "..."
        raise CheckError("%s: got %s, expected %s" % (what, g, w))


def expect_errno(want, fn, *args, **kw):
    """Call fn; it must fail with OSError errno `want` (or one of a tuple)."""
    wants = want if isinstance(want, tuple) else (want,)
    try:
        fn(*args, **kw)
    except OSError as e:
        if e.errno not in wants:
            raise CheckError("%s%r: expected %s, got %s (%s)" % (
                getattr(fn, "__name__", fn), _short(args),
                "/".join(errno.errorcode.get(w, str(w)) for w in wants),
                errno.errorcode.get(e.errno, e.errno), e))
        return e
    raise CheckError("%s%r: succeeded, expected %s" % (
        getattr(fn, "__name__", fn), _short(args),
        "/".join(errno.errorcode.get(w, str(w)) for w in wants)))


def _short(args):
    out = []
    for a in args:
        r = repr(a)
        out.append(r if len(r) < 80 else r[:77] + "...")
    return tuple(out)


def write_file(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def pwrite_all(fd, data, off):
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, off)
        view = view[n:]
        off += n


def sha(data):
    return hashlib.sha256(data).hexdigest()


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def log(*a):
    print(*a)
    sys.stdout.flush()


def _xattrs(path):
    out = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EPERM):
            return out
        raise
    for n in sorted(names):
        out[n] = os.getxattr(path, n, follow_symlinks=False).hex()
    return out


def snapshot(root, with_atime=False):
    """Everything observable about a tree, as a JSON-able dict keyed by the
    relative path: type, mode, uid, gid, nlink, size, ino, rdev, mtime_ns,
    ctime_ns, symlink target, xattrs, content hash."""
    import stat as S
    snap = {}

    def one(path, rel):
        st = os.lstat(path)
        e = {"mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
             "nlink": st.st_nlink, "ino": st.st_ino,
             "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
             "xattrs": _xattrs(path)}
        if with_atime:
            e["atime_ns"] = st.st_atime_ns
        if S.S_ISREG(st.st_mode):
            e["size"] = st.st_size
            e["sha"] = file_sha(path)
        elif S.S_ISLNK(st.st_mode):
            e["size"] = st.st_size
            e["target"] = os.readlink(path)
        elif S.S_ISCHR(st.st_mode) or S.S_ISBLK(st.st_mode):
            e["rdev"] = st.st_rdev
        snap[rel] = e
        if S.S_ISDIR(st.st_mode):
            for name in sorted(os.listdir(path)):
                one(os.path.join(path, name), rel + "/" + name if rel != "." else name)

    one(root, ".")
    return snap


def compare_snapshots(before, after, what="after remount"):
    """Raise CheckError listing every difference (up to 30)."""
    diffs = []
    for p in sorted(set(before) | set(after)):
        if p not in after:
            diffs.append("%s: missing %s" % (p, what))
            continue
        if p not in before:
            diffs.append("%s: appeared %s" % (p, what))
            continue
        for k in sorted(set(before[p]) | set(after[p])):
            if before[p].get(k) != after[p].get(k):
                diffs.append("%s: %s was %r, %s %r" % (
                    p, k, before[p].get(k), what, after[p].get(k)))
    if diffs:
        more = "" if len(diffs) <= 30 else "\n  ... and %d more" % (len(diffs) - 30)
        raise CheckError("%d difference(s) %s:\n  %s%s" % (
            len(diffs), what, "\n  ".join(diffs[:30]), more))


def save_snapshot(root, out):
    import json
    with open(out, "w") as f:
        json.dump(snapshot(root), f)


def check_snapshot(root, saved, what="after remount"):
    import json
    with open(saved) as f:
        before = json.load(f)
    compare_snapshots(before, snapshot(root), what)


def wait_for(cond, timeout=10.0):
    """Poll cond() until it is true or timeout seconds pass; returns its last
    value.  (Space of an unlinked file comes back when the kernel's FUSE
    FORGET for it reaches the daemon, which happens asynchronously.)"""
    import time
    end = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() >= end:
            return v
        time.sleep(0.1)


def flip_data(img, chunk, local, lblk, off=1234, bit=0x04):
    """Flip a bit of logical block lblk of the file whose inode is (chunk,
    local) on an unmounted image, the block found through the format
    (docs/FORMAT.md: the geometry, the inode table, the inode's inline
    extent root of format v2, a continuation's extents), not through the
    checksum code.  Returns the chunk holding the block."""
    import struct
    with open(img, "r+b") as f:
        def rd(blk, bs):
            f.seek(blk * bs)
            return f.read(bs)
        sb = f.read(4096)
        bs = struct.unpack_from("<I", sb, 64 + 4)[0]
        chunk_blocks = struct.unpack_from("<I", sb, 64 + 16)[0]

        def start(c):
            return 2 + c * chunk_blocks

        def inode(c, loc):
            itable = struct.unpack_from("<I", rd(start(c), bs), 300)[0]
            ipb = (bs - 64) // 256
            b = rd(start(c) + itable + loc // ipb, bs)
            return b[64 + (loc % ipb) * 256:][:256]

        def items(ino):
            root = ino[112:112 + 128]      # METAGEN: 128-byte inline root
            n, level = struct.unpack_from("<HB", root, 0)
            assert level == 0, "extent tree deeper than its inline root"
            for i in range(n):
                key, o, ln = struct.unpack_from("<QHH", root, 8 + 12 * i)
                yield key, root[o:o + ln]

        def find(c, loc):
            for key, v in items(inode(c, loc)):
                if len(v) == 8:
                    pblk, n = struct.unpack_from("<II", v)
                    n &= 0x7fffffff
                    if key <= lblk < key + n:
                        return c, pblk + lblk - key
                elif len(v) == 16:
                    n, cc, cino, _gen = struct.unpack_from("<IIII", v)
                    if key <= lblk < key + n:
                        return find(cc, cino)
            raise SystemExit("block %d not mapped" % lblk)
        c, pblk = find(chunk, local)
        pos = (start(c) + pblk) * bs + off
        f.seek(pos)
        b = f.read(1)
        f.seek(pos)
        f.write(bytes([b[0] ^ bit]))
    return c
