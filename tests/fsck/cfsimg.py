# cfsimg.py - raw reading and editing of a chunkfs image for the fsck
# corpus (tests/fsck/*/image.sh, through `edit` in tests/fsck/lib.sh).
# Offsets are those of docs/FORMAT.md.  Blocks are read into memory, changed
# there and written back by close(); reseal() recomputes a metadata block's
# crc (so that a change is structural damage, not a checksum error).
import json
import struct
import subprocess
import zlib

HDR = 64          # block header
IROOT = 144       # inline root size
INODE = 256

# inode fields: name -> (offset, struct format)
INO = {
    "mode": (0, "<H"), "flags": (2, "<H"), "nlink": (4, "<I"),
    "uid": (8, "<I"), "gid": (12, "<I"), "gen": (16, "<I"),
    "rdev": (20, "<I"), "size": (24, "<Q"), "blocks": (32, "<Q"),
    "parent": (88, "<I"), "xattr_root": (92, "<I"),
    "back_chunk": (96, "<I"), "back_ino": (100, "<I"),
    "back_gen": (104, "<I"), "nconts": (108, "<I"),
}
# chunk header fields
CHDR = {
    "index": 272, "nblocks": 276, "ninodes": 280, "bbmap_start": 284,
    "bbmap_blocks": 288, "ibmap_start": 292, "ibmap_blocks": 296,
    "itable_start": 300, "itable_blocks": 304, "itable_init": 308,
    "journal_start": 312, "journal_blocks": 316, "data_start": 320,
    "free_blocks": 324, "free_inodes": 328, "state": 332,
    "link_root": 336, "link_count": 340, "next_gen": 344,
    "lost_found": 348,
}
DKEY_CONT = 1 << 63


class Image:
    def __init__(self, path, cfs_bin=None):
        self.path = path
        self.cfs_bin = cfs_bin
        self.f = open(path, "r+b")
        self.bs = 4096
        sb = self._read(0)
        self.bs = struct.unpack_from("<I", sb, 64 + 4)[0]
        self.cache = {}
        self.dirty = set()
        g = self.block(0)
        self.total_blocks = struct.unpack_from("<Q", g, 64 + 8)[0]
        self.chunk_blocks, self.nchunks = struct.unpack_from("<II", g, 64 + 16)
        self.hash_seed = struct.unpack_from("<I", g, 64 + 44)[0]
        self.ipb = (self.bs - HDR) // INODE
        self.leaf_of = {}     # (blk, value offset) -> its leaf (blk, base, size)

    # ---- blocks ----
    def _read(self, blk):
        self.f.seek(blk * self.bs)
        return bytearray(self.f.read(self.bs))

    def block(self, blk):
        if blk not in self.cache:
            self.cache[blk] = self._read(blk)
        return self.cache[blk]

    def touch(self, blk):
        self.dirty.add(blk)

    def reseal(self, blk):
        b = self.block(blk)
        struct.pack_into("<I", b, 0, zlib.crc32(bytes(b[4:])) & 0xffffffff)
        self.dirty.add(blk)

    def zero(self, blk):
        self.block(blk)[:] = bytes(self.bs)
        self.dirty.add(blk)

    def flush(self):
        for blk in sorted(self.dirty):
            self.f.seek(blk * self.bs)
            self.f.write(self.cache[blk])
        self.dirty.clear()
        self.f.flush()

    def close(self):
        self.flush()
        self.f.close()

    def u32(self, blk, off):
        return struct.unpack_from("<I", self.block(blk), off)[0]

    def put(self, blk, off, fmt, val, reseal=True):
        struct.pack_into(fmt, self.block(blk), off, val)
        if reseal:
            self.reseal(blk)
        else:
            self.touch(blk)

    # ---- chunks ----
    def start(self, c):
        return 2 + c * self.chunk_blocks

    def abs(self, c, local):
        return self.start(c) + local

    def hdr(self, c, field):
        return self.u32(self.start(c), CHDR[field])

    def nblocks(self, c):
        return self.hdr(c, "nblocks")

    def set_hdr(self, c, field, val, both=True):
        """Set a chunk header field in the primary (and the copy)."""
        self.put(self.start(c), CHDR[field], "<I", val)
        if both:
            self.put(self.abs(c, self.nblocks(c) - 1), CHDR[field], "<I", val)

    # ---- inodes ----
    def iloc(self, c, local):
        blk = self.abs(c, self.hdr(c, "itable_start") + local // self.ipb)
        return blk, HDR + (local % self.ipb) * INODE

    def iget(self, c, local, field):
        blk, off = self.iloc(c, local)
        o, fmt = INO[field]
        return struct.unpack_from(fmt, self.block(blk), off + o)[0]

    def iset(self, c, local, field, val, reseal=True):
        blk, off = self.iloc(c, local)
        o, fmt = INO[field]
        self.put(blk, off + o, fmt, val, reseal)

    def iraw(self, c, local):
        blk, off = self.iloc(c, local)
        return self.block(blk)[off:off + INODE]

    # ---- paths (through `chunkfs stat --json`, on the image as written) ----
    def lookup(self, path):
        """(chunk, local, [continuation chunks]) of a path."""
        self.flush()
        out = subprocess.run([self.cfs_bin + "/chunkfs", "stat", "--json",
                              self.path, path], check=True,
                             capture_output=True, text=True).stdout
        p = json.loads(out)["paths"][0]
        return p["chunk"], p["local"], p.get("continuation_chunks", [])

    # ---- B+trees ----
    def _node_items(self, c, blk, base, size, out, nodes):
        """Leaf items of the node at (blk, base): (key, blk, val_off, len);
        nodes gets the absolute blocks of non-root nodes."""
        b = self.block(blk)
        nitems, level = struct.unpack_from("<HB", b, base)
        if level == 0:
            for i in range(nitems):
                key, off, ln = struct.unpack_from("<QHH", b, base + 8 + 12 * i)
                out.append((key, blk, base + off, ln))
                self.leaf_of[(blk, base + off)] = (blk, base, size)
            return
        for i in range(nitems):
            key, child = struct.unpack_from("<QI", b, base + 8 + 16 * i)
            cb = self.abs(c, child)
            nodes.append((cb, level - 1))
            self._node_items(c, cb, HDR, self.bs - HDR, out, nodes)

    def tree(self, c, local):
        """Items and nodes of the inline-rooted tree of inode (c, local)."""
        blk, off = self.iloc(c, local)
        items, nodes = [], []
        self._node_items(c, blk, off + 112, IROOT, items, nodes)
        self._items_cache = items
        return items, nodes

    def link_index(self, c):
        root = self.abs(c, self.hdr(c, "link_root"))
        items, nodes = [], [(root, None)]
        self._node_items(c, root, HDR, self.bs - HDR, items, nodes)
        return items, nodes

    def extents(self, c, local):
        """Data extents: (lblk, pblk, len, blk, val_off)."""
        res = []
        for key, blk, off, ln in self.tree(c, local)[0]:
            if ln == 8:
                pblk, n = struct.unpack_from("<II", self.block(blk), off)
                res.append((key, pblk, n & 0x7fffffff, blk, off))
        return res

    def dirents(self, c, local):
        """Entries of a directory part: (key, blk, entry_off, ino, type,
        name)."""
        res = []
        for key, blk, off, ln in self.tree(c, local)[0]:
            if key >= DKEY_CONT:
                continue
            b = self.block(blk)
            p = off
            while p < off + ln:
                ino, typ, nl = struct.unpack_from("<IBB", b, p)
                res.append((key, blk, p, ino, typ, bytes(b[p + 6:p + 6 + nl])))
                p += 6 + nl
        return res

    def dirent(self, c, local, name):
        if isinstance(name, str):
            name = name.encode()
        for e in self.dirents(c, local):
            if e[5] == name:
                return e
        raise KeyError(name)

    def dir_hash(self, name):
        if isinstance(name, str):
            name = name.encode()
        h = 0xcbf29ce484222325 ^ self.hash_seed
        for ch in name:
            h = ((h ^ ch) * 0x100000001b3) & 0xffffffffffffffff
        return (h ^ (h >> 35)) & ((1 << 35) - 1)

    # ---- rewriting a leaf node ----
    def leaf_read(self, leaf):
        """[(key, value bytes)] of the leaf (blk, base, size)."""
        blk, base, size = leaf
        b = self.block(blk)
        n = struct.unpack_from("<H", b, base)[0]
        res = []
        for i in range(n):
            key, off, ln = struct.unpack_from("<QHH", b, base + 8 + 12 * i)
            res.append((key, bytes(b[base + off:base + off + ln])))
        return res

    def leaf_write(self, leaf, items, reseal=True):
        """Write items (sorted here) into the leaf, values packed at the
        end, the rest zeroed."""
        blk, base, size = leaf
        items = sorted(items)
        b = self.block(blk)
        node = bytearray(size)
        end = size
        for i, (key, val) in enumerate(items):
            end -= len(val)
            node[end:end + len(val)] = val
            struct.pack_into("<QHH", node, 8 + 12 * i, key, end, len(val))
        if 8 + 12 * len(items) > end:
            raise ValueError("leaf overflow")
        struct.pack_into("<HBBHH", node, 0, len(items), 0, 0, end, 0)
        b[base:base + size] = node
        if reseal:
            self.reseal(blk)
        else:
            self.touch(blk)

    def entry_leaf(self, c, dir_local, name):
        """(leaf, key) of the item holding name in the directory part."""
        e = self.dirent(c, dir_local, name)
        return self.leaf_of[(e[1], self._item_off(e))], e[0]

    def _item_off(self, e):
        # the value offset of the item holding entry e
        key, blk = e[0], e[1]
        for k2, b2, off, ln in self._items_cache:
            if k2 == key and b2 == blk and off <= e[2] < off + ln:
                return off
        raise KeyError(e)

    def dir_parts(self, c):
        """Local inodes of the directories (and continuations) in chunk c."""
        res = []
        for blk in range(self.hdr(c, "itable_init")):
            for i in range(self.ipb):
                local = blk * self.ipb + i
                if local and local < self.hdr(c, "ninodes") and \
                        self.iget(c, local, "mode") & 0xf000 == 0x4000:
                    res.append(local)
        return res

    def find_entry(self, c, name):
        """(dir part local, entry) of the first entry called name in
        chunk c."""
        for d in self.dir_parts(c):
            try:
                return d, self.dirent(c, d, name)
            except KeyError:
                pass
        raise KeyError(name)

    @staticmethod
    def mkdirent(ino, typ, name):
        if isinstance(name, str):
            name = name.encode()
        return struct.pack("<IBB", ino, typ, len(name)) + name
