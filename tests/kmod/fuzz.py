#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fuzzed copies of a chunkfs image, back to back in one file.

fuzz.py IMAGE OUT COUNT SEED: copy i is IMAGE with 1-4 of its metadata
blocks (those whose header carries a chunkfs magic) damaged: random bytes
overwritten, a field set to an extreme value, or a block swapped with
another.  Odd-numbered copies then have the damaged blocks' crc32 fixed
up (zlib crc of bytes 4.. of the block, as FORMAT.md says), so they pass
the checksum and test the verifiers behind it: a hostile image, not only
a damaged one.  The first copies are fixed hostile superblocks (both
copies changed alike, crcs fixed up): no filesystem at all, then a block
size, a size, a chunk size, a chunk count and a journal size that do not
fit the device.  Copy i starts at byte i * len(IMAGE).
"""
import random
import struct
import sys
import zlib

img_path, out_path, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
BS = 4096
MAGICS = {0x53534643, 0x48434643, 0x42424643, 0x42494643, 0x54494643,
          0x54424643, 0x4c4a4643}
img = open(img_path, "rb").read()
nblk = len(img) // BS
meta = [b for b in range(nblk)
        if struct.unpack_from("<I", img, b * BS + 4)[0] in MAGICS]
if not meta:
    sys.exit("fuzz.py: no metadata blocks found")
rnd = random.Random(seed)


def seal(a, b):
    off = b * BS
    struct.pack_into("<I", a, off, zlib.crc32(bytes(a[off + 4:off + BS])) & 0xffffffff)


# (offset in the superblock, format, value): struct cfs_geom follows the
# 64-byte block header
SB_CASES = [None,                        # all zeros: not a chunkfs image
            (68, "<I", 512),             # block_size
            (72, "<Q", 1 << 40),         # total_blocks
            (80, "<I", 1),               # chunk_blocks
            (84, "<I", 0xffffffff),      # nchunks
            (92, "<I", 0xfffffff0)]      # journal_blocks
with open(out_path, "wb") as out:
    for i in range(count):
        a = bytearray(img)
        touched = set()
        if i < len(SB_CASES):
            case = SB_CASES[i]
            if case is None:
                a = bytearray(len(img))
            else:
                for b in (0, 1):
                    struct.pack_into(case[1], a, b * BS + case[0], case[2])
                    seal(a, b)
            out.write(a)
            continue
        for _ in range(rnd.randint(1, 4)):
            b = rnd.choice(meta)
            off = b * BS
            how = rnd.randrange(4)
            if how == 0:    # random bytes
                for _ in range(rnd.randint(1, 16)):
                    a[off + rnd.randrange(BS)] = rnd.randrange(256)
            elif how == 1:  # an extreme value in the header or just after it
                pos = off + 4 * rnd.randrange(4, 64)
                struct.pack_into("<I", a, pos, rnd.choice(
                    [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe]))
            elif how == 2:  # a block swapped with another metadata block
                c = rnd.choice(meta) * BS
                a[off:off + BS], a[c:c + BS] = a[c:c + BS], a[off:off + BS]
                touched.add(c // BS)
            else:           # a run of zeros or ones in the body
                pos = off + rnd.randrange(64, BS - 64)
                a[pos:pos + 64] = bytes([rnd.choice([0, 0xff])]) * 64
            touched.add(b)
        if i % 2:
            for b in touched:
                seal(a, b)
        out.write(a)
print("fuzz.py: %d copies of %d bytes, %d metadata blocks to choose from"
      % (count, len(img), len(meta)))
