#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Make the test tree for the kernel module tests and its manifest.

mktree.py DIR MANIFEST PATHS: DIR gets files (empty, small, sparse, one big
enough to continue into another chunk at -C 4M), directories (one with
hundreds of entries), symlinks (short, long, dangling), hard links, device
nodes, a fifo and xattrs.  MANIFEST says what the VM must find, one line
each (no spaces in paths):
  f PATH MD5 SIZE     regular file
  d PATH              directory
  l PATH TARGET       symlink
  h PATH OTHER        hard link: same inode as OTHER
  c|b PATH MAJ MIN    device node
  p PATH              fifo
  x PATH NAME VALUE   xattr
PATHS lists every path (relative, sorted), as find(1) would.
"""
import hashlib
import os
import random
import stat
import sys

top, manifest, paths_out = sys.argv[1], sys.argv[2], sys.argv[3]
rnd = random.Random(6)
lines = []


def data(n):
    return rnd.randbytes(n)


def wfile(rel, content):
    p = os.path.join(top, rel)
    with open(p, "wb") as f:
        f.write(content)


os.makedirs(top)
for d in ["a", "a/b", "a/b/c", "many", "empty", "x"]:
    os.makedirs(os.path.join(top, d))
wfile("empty.txt", b"")
wfile("hello.txt", b"hello, chunkfs\n")
wfile("a/small.bin", data(3000))
wfile("a/b/page.bin", data(4096))
wfile("a/b/c/odd.bin", data(12345))
wfile("medium.bin", data(300000))
# big: continues into another chunk at -C 4M
wfile("big.bin", data(6 * 1024 * 1024 + 777))
# sparse: a hole in the middle
with open(os.path.join(top, "sparse.bin"), "wb") as f:
    f.write(b"head" * 100)
    f.seek(2 * 1024 * 1024)
    f.write(b"tail" * 100)
for i in range(300):
    wfile("many/entry-%04d-%s" % (i, "n" * (i % 40)), ("%d\n" % i).encode())
wfile("x/" + "L" * 255, b"longest name\n")
os.symlink("hello.txt", os.path.join(top, "link-short"))
os.symlink("a/b/c/odd.bin", os.path.join(top, "link-deep"))
os.symlink("/nonexistent/" + "t" * 200, os.path.join(top, "link-dangling"))
os.symlink("../" * 10 + "p" * 3000, os.path.join(top, "link-long"))
os.link(os.path.join(top, "a/small.bin"), os.path.join(top, "hard1"))
os.link(os.path.join(top, "a/small.bin"), os.path.join(top, "a/b/hard2"))
os.mknod(os.path.join(top, "null-dev"), 0o644 | stat.S_IFCHR, os.makedev(1, 3))
os.mknod(os.path.join(top, "blk-dev"), 0o600 | stat.S_IFBLK, os.makedev(259, 70000))
os.mkfifo(os.path.join(top, "fifo"))
xattrs = [("hello.txt", "user.color", "blue"),
          ("a", "user.dir", "yes"),
          ("medium.bin", "user.long", "v" * 1000),
          ("link-short", "trusted.onlink", "lnk")]
for rel, n, v in xattrs:
    os.setxattr(os.path.join(top, rel), n, v.encode(), follow_symlinks=False)
os.chmod(os.path.join(top, "a/b"), 0o750)

inodes = {}
allpaths = []
for dirpath, dirnames, filenames in os.walk(top):
    dirnames.sort()
    for name in sorted(dirnames + filenames):
        p = os.path.join(dirpath, name)
        rel = os.path.relpath(p, top)
        allpaths.append(rel)
        st = os.lstat(p)
        if stat.S_ISDIR(st.st_mode):
            lines.append("d %s" % rel)
        elif stat.S_ISLNK(st.st_mode):
            lines.append("l %s %s" % (rel, os.readlink(p)))
        elif stat.S_ISREG(st.st_mode):
            if st.st_ino in inodes:
                lines.append("h %s %s" % (rel, inodes[st.st_ino]))
            else:
                inodes[st.st_ino] = rel
            with open(p, "rb") as f:
                md5 = hashlib.md5(f.read()).hexdigest()
            lines.append("f %s %s %d" % (rel, md5, st.st_size))
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            lines.append("%s %s %d %d" % ("c" if stat.S_ISCHR(st.st_mode) else "b",
                                          rel, os.major(st.st_rdev),
                                          os.minor(st.st_rdev)))
        elif stat.S_ISFIFO(st.st_mode):
            lines.append("p %s" % rel)
for rel, n, v in xattrs:
    lines.append("x %s %s %s" % (rel, n, v))
with open(manifest, "w") as f:
    f.write("\n".join(lines) + "\n")
with open(paths_out, "w") as f:
    f.write("\n".join(sorted(allpaths)) + "\n")
