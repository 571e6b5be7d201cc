// SPDX-License-Identifier: GPL-2.0
/*
 * test_datasum.c - data checksums (DATASUM, FORMAT.md 16.6) on the memory
 * device.
 *
 * A random model workload on one file and a big file with continuations
 * (write, overwrite whole and partial, fallocate and writes into the
 * unwritten blocks, ZERO_RANGE, punch, truncate down and up, collapse,
 * insert), with a commit after some of the steps; after each step:
 *   - the file reads back as the model says;
 *   - after a commit, every block a written extent maps matches its entry
 *     of the checksum region.  The entry is found through the format
 *     (the chunk header's csum_start, the entry's offset) and the
 *     checksum computed here with libxxhash, not through datasum.c;
 *   - an overwrite of a committed block lands in another block (copy on
 *     write) and leaves the old block's bytes as they were until the
 *     commit.
 * Then bits are flipped in data blocks (found with bmap): a read of the
 * damaged block gets EIO, a read that starts before it is short, the other
 * blocks read right, a partial write into it gets EIO (read-modify-write
 * verifies), an event CHUNKFS_E_DATA names the file and the range, the
 * chunk counts the error in data_errors and is not SUSPECT.  A filesystem
 * made with -O ^datasum does not verify (the same flip reads back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../../fs/chunkfs.h"
#include "../../fs/chunkfs_ioctl.h"
#include "../../fs/format.h"
#include "../../fs/internal.h"
#include "../../fs/user/user.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define BS 4096u
#define CHUNK (4u << 20)
#define DEV (40u << 20)

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static u32 rs = 1;

static u32 rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

static struct membdev *mkfs_dev(u32 no_features)
{
	struct membdev *m = membdev_new(DEV);
	struct cfs_mkfs_opts o;

	memset(&o, 0, sizeof(o));
	o.block_size = BS;
	o.chunk_bytes = CHUNK;
	o.no_features = no_features;
	memcpy(o.uuid, "datasum-test-uid", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	return m;
}

static struct cfs_fs *mnt(struct membdev *m)
{
	struct cfs_fs *fs = NULL;
	const char *why = NULL;
	int err = cfs_mount(&m->bdev, 0, &fs, &why);

	CHECK(!err, "mount: %d %s", err, why ? why : "");
	if (err)
		exit(1);
	return fs;
}

static u64 mkfile(struct cfs_fs *fs, const char *name)
{
	struct cfs_attr a;

	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, name, (u32)strlen(name),
			   CFS_S_IFREG | 0644, 0, &cr, &a));
	return a.ino;
}

/* ---- the checksum region through the format (FORMAT.md 16.5, 16.6) */

static const struct cfs_chunk_hdr *hdr_of(struct membdev *m, u32 chunk)
{
	return (const struct cfs_chunk_hdr *)(m->mem +
		(u64)(CFS_FIRST_CHUNK_BLOCK + (u64)chunk * (CHUNK / BS)) * BS);
}

static u32 entry_of(struct membdev *m, u64 abs)
{
	u32 chunk = (u32)((abs - CFS_FIRST_CHUNK_BLOCK) / (CHUNK / BS));
	u32 local = (u32)((abs - CFS_FIRST_CHUNK_BLOCK) % (CHUNK / BS));
	const struct cfs_chunk_hdr *h = hdr_of(m, chunk);
	u32 cpb = (BS - 64) / 4;
	u64 cb = CFS_FIRST_CHUNK_BLOCK + (u64)chunk * (CHUNK / BS) +
		 h->csum_start + local / cpb;
	u32 v;

	memcpy(&v, m->mem + cb * BS + 64 + (local % cpb) * 4, 4);
	return v;
}

static u32 sum_of(struct membdev *m, u64 abs)
{
	return (u32)XXH64(m->mem + abs * BS, BS, 0);
}

/* Every written block of file f (size blocks) matches its entry; the
 * number of blocks that do not.  Unwritten extents: bmap gives 0 for them
 * as for holes, so the check asks the file's content too: a block mapped
 * by bmap is written. */
static u32 mismatches(struct cfs_fs *fs, struct membdev *m, u64 f, u64 nblk,
		      u64 *checked)
{
	u64 l = 0, bad = 0;

	while (l < nblk) {
		u64 pblk = 0, count = 0, i;

		CHECK_OK(cfs_bmap(fs, f, l, &pblk, &count));
		if (!count)
			break;
		if (count > nblk - l)
			count = nblk - l;
		for (i = 0; pblk && i < count; i++) {
			(*checked)++;
			if (sum_of(m, pblk + i) != entry_of(m, pblk + i))
				bad++;
		}
		l += count;
	}
	return (u32)bad;
}

/* ---- the model workload ---- */

static void fill(u8 *p, u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		p[i] = (u8)rnd();
}

static void check_content(struct cfs_fs *fs, u64 f, const u8 *model,
			  u64 size, u8 *buf, const char *what, int step)
{
	struct cfs_attr a;

	CHECK_OK(cfs_getattr(fs, f, &a));
	CHECK(a.size == size, "step %d (%s): size %llu, model %llu", step,
	      what, (unsigned long long)a.size, (unsigned long long)size);
	CHECK_EQ(cfs_read(fs, f, 0, size + BS, buf), (s64)size);
	CHECK(!memcmp(buf, model, size), "step %d (%s): content differs",
	      step, what);
}

static void test_model(void)
{
	struct membdev *m = mkfs_dev(0);
	struct cfs_fs *fs = mnt(m);
	u64 max = 3ull * CHUNK, size = 0, checked = 0;
	u8 *model = calloc(1, max), *buf = malloc(max + BS), *tmp = malloc(max);
	u64 f = mkfile(fs, "m");
	int i, cows = 0, cow_tries = 0;

	for (i = 0; i < 400 && !tap_fail; i++) {
		u32 op = rnd() % 10;
		u64 off = rnd() % (max / 2), len = 1 + rnd() % (max / 8);
		const char *what = "";
		int err;

		if (rnd() % 2) {
			off &= ~(u64)(BS - 1);
			len = (len + BS - 1) & ~(u64)(BS - 1);
		}
		if (off + len > max)
			len = max - off;
		switch (op) {
		case 0: case 1: case 2: case 3:
			what = "write";
			fill(tmp, len);
			CHECK_EQ(cfs_write(fs, f, off, len, tmp), (s64)len);
			memcpy(model + off, tmp, len);
			if (off + len > size)
				size = off + len;
			break;
		case 4: {
			struct cfs_setattr sa = { .valid = CFS_SET_SIZE,
						  .size = off };

			what = "truncate";
			CHECK_OK(cfs_setattr(fs, f, &sa, NULL));
			if (off < size)
				memset(model + off, 0, size - off);
			size = off;
			break;
		}
		case 5:
			what = "punch";
			CHECK_OK(cfs_fallocate(fs, f, CFS_FALLOC_PUNCH_HOLE |
					       CFS_FALLOC_KEEP_SIZE, off, len));
			if (off < size)
				memset(model + off, 0, (off + len > size ?
							size : off + len) - off);
			break;
		case 6:
			what = "zero";
			CHECK_OK(cfs_fallocate(fs, f, CFS_FALLOC_ZERO_RANGE, off,
					       len));
			memset(model + off, 0, len);
			if (off + len > size)
				size = off + len;
			break;
		case 7:
			what = "fallocate";
			CHECK_OK(cfs_fallocate(fs, f, 0, off, len));
			if (off + len > size)
				size = off + len;
			break;
		case 8:
			what = "collapse";
			err = cfs_fallocate(fs, f, CFS_FALLOC_COLLAPSE_RANGE, off,
					    len);
			if ((off | len) & (BS - 1) || off + len >= size) {
				CHECK_EQ(err, -CFS_EINVAL);
				break;
			}
			CHECK_OK(err);
			memmove(model + off, model + off + len,
				size - off - len);
			memset(model + size - len, 0, len);
			size -= len;
			break;
		case 9:
			what = "insert";
			err = cfs_fallocate(fs, f, CFS_FALLOC_INSERT_RANGE, off,
					    len);
			if ((off | len) & (BS - 1) || off >= size ||
			    size + len > max) {
				if (size + len <= max)
					CHECK_EQ(err, -CFS_EINVAL);
				else if (!err) { /* beyond the model: cut */
					struct cfs_setattr sa = {
						.valid = CFS_SET_SIZE,
						.size = max };

					memmove(model + off + len, model + off,
						max - off - len);
					memset(model + off, 0, len);
					CHECK_OK(cfs_setattr(fs, f, &sa, NULL));
					size = max;
				}
				break;
			}
			CHECK_OK(err);
			memmove(model + off + len, model + off, size - off);
			memset(model + off, 0, len);
			size += len;
			break;
		}
		check_content(fs, f, model, size, buf, what, i);
		if (i % 3 == 2) {
			/* committed: the device holds every checksum */
			CHECK_OK(cfs_sync(fs));
			CHECK(!mismatches(fs, m, f, (size + BS - 1) / BS,
					  &checked),
			      "step %d (%s): mapped blocks do not match their "
			      "checksums", i, what);
			/* an overwrite of a committed block is copied: the
			 * old block keeps its bytes until the commit */
			if (size > BS) {
				u64 l = rnd() % (size / BS), p0 = 0, p1 = 0, n;
				u8 old[BS];

				CHECK_OK(cfs_bmap(fs, f, l, &p0, &n));
				if (p0) {
					cow_tries++;
					memcpy(old, m->mem + p0 * BS, BS);
					fill(tmp, 100);
					CHECK_EQ(cfs_write(fs, f, l * BS + 7, 100,
							   tmp), 100);
					memcpy(model + l * BS + 7, tmp, 100);
					CHECK_OK(cfs_bmap(fs, f, l, &p1, &n));
					CHECK(p1 && p1 != p0, "block %llu not "
					      "copied on write", (unsigned long
					      long)l);
					CHECK(!memcmp(old, m->mem + p0 * BS, BS),
					      "committed block %llu changed "
					      "before the commit",
					      (unsigned long long)p0);
					cows += p1 != p0;
					/* a second write before the commit goes
					 * in place: the new block is no one's */
					CHECK_EQ(cfs_write(fs, f, l * BS + 300, 10,
							   tmp), 10);
					memcpy(model + l * BS + 300, tmp, 10);
					CHECK_OK(cfs_bmap(fs, f, l, &p0, &n));
					CHECK_EQ(p0, p1);
				}
			}
		}
		if (i % 50 == 49) {
			CHECK_OK(cfs_unmount(fs));
			fs = mnt(m);
		}
	}
	CHECK_OK(cfs_sync(fs));
	CHECK_EQ(mismatches(fs, m, f, (size + BS - 1) / BS, &checked), 0);
	CHECK(checked > 1000, "only %llu blocks checked",
	      (unsigned long long)checked);
	CHECK(cow_tries > 20 && cows == cow_tries, "copies %d of %d", cows,
	      cow_tries);
	printf("# model: %llu mapped blocks checked, %d overwrites copied\n",
	       (unsigned long long)checked, cows);
	CHECK_OK(cfs_unmount(fs));
	free(model);
	free(buf);
	free(tmp);
	membdev_free(m);
}

/* ---- damage ---- */

static int data_events(struct cfs_fs *fs, u64 ino, const char *range)
{
	struct chunkfs_events ev;
	u32 i;
	int n = 0;

	memset(&ev, 0, sizeof(ev));
	CHECK_OK(cfs_events(fs, &ev));
	for (i = 0; i < ev.count; i++)
		if (ev.e[i].code == CHUNKFS_E_DATA && ev.e[i].ino == ino &&
		    strstr(ev.e[i].msg, range))
			n++;
	return n;
}

static void test_damage(u32 no_features)
{
	struct membdev *m = mkfs_dev(no_features);
	struct cfs_fs *fs = mnt(m);
	u64 fsize = 3ull * CHUNK, f, g, p = 0, n, big, l;
	u8 *data = malloc(fsize), *buf = malloc(fsize);
	struct cfs_chunk_info ci;
	char range[64];
	u32 chunk;
	int ds = !no_features;

	/* a file with continuations, and a small one */
	fill(data, fsize);
	big = mkfile(fs, "big");
	CHECK_EQ(cfs_write(fs, big, 0, fsize, data), (s64)fsize);
	g = mkfile(fs, "small");
	CHECK_EQ(cfs_write(fs, g, 0, 3 * BS + 5, data), 3 * BS + 5);
	CHECK_OK(cfs_unmount(fs));

	/* flip a bit in block 5 of "big" and in the last block of a
	 * continuation's range (blocks in two chunks) */
	fs = mnt(m);
	f = big;
	CHECK_OK(cfs_bmap(fs, f, 5, &p, &n));
	CHECK(p != 0, "block 5 not mapped");
	m->mem[p * BS + 100] ^= 0x10;
	l = fsize / BS - 3;
	{
		u64 q = 0;

		CHECK_OK(cfs_bmap(fs, f, l, &q, &n));
		CHECK((q - 2) / (CHUNK / BS) != (p - 2) / (CHUNK / BS),
		      "the last blocks are in another chunk");
		m->mem[q * BS + BS - 1] ^= 0x80;
		chunk = (u32)((q - 2) / (CHUNK / BS));
	}
	if (!ds) { /* not verified: the flipped bytes read back */
		CHECK_EQ(cfs_read(fs, f, 0, fsize, buf), (s64)fsize);
		CHECK(buf[5 * BS + 100] == (data[5 * BS + 100] ^ 0x10),
		      "flip not read back without datasum");
		goto out;
	}
	/* the damaged block: EIO, alone or in a larger read from it */
	CHECK_EQ(cfs_read(fs, f, 5 * BS, BS, buf), -CFS_EIO);
	CHECK_EQ(cfs_read(fs, f, 5 * BS + 200, 10, buf), -CFS_EIO);
	CHECK_EQ(cfs_read(fs, f, 5 * BS, 8 * BS, buf), -CFS_EIO);
	/* a read from before it is short: the good bytes only */
	CHECK_EQ(cfs_read(fs, f, 0, 8 * BS, buf), 5 * BS);
	CHECK(!memcmp(buf, data, 5 * BS), "bytes before the damage");
	CHECK_EQ(cfs_read(fs, f, 3 * BS + 17, 8 * BS, buf), 2 * BS - 17);
	CHECK(!memcmp(buf, data + 3 * BS + 17, 2 * BS - 17), "partial head");
	/* everything else reads right */
	CHECK_EQ(cfs_read(fs, f, 6 * BS, l * BS - 6 * BS, buf),
		 (s64)(l * BS - 6 * BS));
	CHECK(!memcmp(buf, data + 6 * BS, l * BS - 6 * BS), "after the damage");
	/* large reads (their blocks hashed by a helper thread, a window of
	 * 256 at a time) stop at the damage too, wherever it falls */
	CHECK_EQ(cfs_read(fs, f, 0, fsize, buf), 5 * BS);
	CHECK_EQ(cfs_read(fs, f, 6 * BS, fsize - 6 * BS, buf),
		 (s64)(l * BS - 6 * BS));
	CHECK(!memcmp(buf, data + 6 * BS, l * BS - 6 * BS), "large read");
	CHECK_EQ(cfs_read(fs, f, (l + 1) * BS, 2 * BS, buf), 2 * BS);
	CHECK(!memcmp(buf, data + (l + 1) * BS, 2 * BS), "the last blocks");
	CHECK_EQ(cfs_read(fs, f, l * BS + 10, 5, buf), -CFS_EIO);
	CHECK_EQ(cfs_read(fs, g, 0, 4 * BS, buf), 3 * BS + 5);
	CHECK(!memcmp(buf, data, 3 * BS + 5), "the small file");
	/* a partial write into the damaged block verifies it first */
	CHECK_EQ(cfs_write(fs, f, 5 * BS + 10, 10, data), -CFS_EIO);
	/* a whole-block write replaces it: readable again */
	CHECK_EQ(cfs_write(fs, f, 5 * BS, BS, data + 5 * BS), BS);
	CHECK_EQ(cfs_read(fs, f, 0, 8 * BS, buf), 8 * BS);
	CHECK(!memcmp(buf, data, 8 * BS), "rewritten block");
	/* reported: events with the file and the range, counted, the chunk's
	 * metadata not suspect */
	snprintf(range, sizeof(range), "bytes %llu-%llu", 5ull * BS,
		 6ull * BS - 1);
	CHECK(data_events(fs, f, range) >= 1, "no data event for %s", range);
	snprintf(range, sizeof(range), "bytes %llu-%llu",
		 (unsigned long long)l * BS,
		 (unsigned long long)(l + 1) * BS - 1);
	CHECK(data_events(fs, f, range) >= 1, "no data event for %s", range);
	CHECK_OK(cfs_chunk_info(fs, chunk, &ci));
	CHECK(ci.data_errors >= 1, "data_errors %llu",
	      (unsigned long long)ci.data_errors);
	CHECK(ci.state != CFS_CHUNK_SUSPECT && ci.state != CFS_CHUNK_DAMAGED,
	      "chunk state %u", ci.state);
	CHECK_OK(cfs_chunk_info(fs, (u32)((p - 2) / (CHUNK / BS)), &ci));
	CHECK(ci.state != CFS_CHUNK_SUSPECT, "chunk state %u", ci.state);
	/* a truncate into the damaged block keeps it (it cannot be copied)
	 * and succeeds; what is left of it still reads EIO */
	{
		struct cfs_setattr sa = { .valid = CFS_SET_SIZE,
					  .size = l * BS + 100 };

		CHECK_OK(cfs_setattr(fs, f, &sa, NULL));
		CHECK_EQ(cfs_read(fs, f, l * BS, 100, buf), -CFS_EIO);
		CHECK_EQ(cfs_read(fs, f, 0, 4 * BS, buf), 4 * BS);
	}
out:
	CHECK_OK(cfs_unmount(fs));
	if (ds) { /* data_errors reached the disk */
		fs = mnt(m);
		CHECK_OK(cfs_chunk_info(fs, chunk, &ci));
		CHECK(ci.data_errors >= 1, "data_errors after remount");
		CHECK_OK(cfs_unmount(fs));
	}
	free(data);
	free(buf);
	membdev_free(m);
}

/* Images without the feature have no checksum region. */
static void test_layout(void)
{
	struct membdev *m = mkfs_dev(0), *v = mkfs_dev(CFS_MKFS_NO_DATASUM);
	const struct cfs_chunk_hdr *h = hdr_of(m, 1), *hv = hdr_of(v, 1);

	CHECK(h->g.feat_incompat & CFS_FEAT_INCOMPAT_DATASUM, "feature bit");
	CHECK(!(hv->g.feat_incompat & CFS_FEAT_INCOMPAT_DATASUM), "^datasum");
	CHECK_EQ(h->csum_start, h->itable_start + h->itable_blocks);
	CHECK_EQ(h->csum_blocks, (CHUNK / BS + (BS - 64) / 4 - 1) /
		 ((BS - 64) / 4));
	CHECK_EQ(h->gtab_start, h->csum_start + h->csum_blocks);
	CHECK_EQ(hv->csum_start, 0);
	CHECK_EQ(hv->csum_blocks, 0);
	membdev_free(m);
	membdev_free(v);
}

/* A read planned under the lock and done without it (cfs_read on a device
 * that takes parallel reads, file.c's file_read_plan/file_read_planned):
 * done at once it returns the file's bytes; when the planned blocks have
 * been copied on write, freed by a commit and taken by another file's
 * data in between, or damaged, it refuses (1), and the read under the lock
 * returns the file's new bytes. */
static void test_unlocked(void)
{
	struct membdev *m = mkfs_dev(0);
	struct cfs_fs *fs = mnt(m);
	u64 nb = 64, len = nb * BS, a, b, f, g, i, reused = 0;
	u8 *buf = malloc(len + BS), *va = malloc(len), *vb = malloc(len);
	u8 *other = malloc(4 * len);
	struct cfs_inode *ip;
	struct rplan *p = malloc(sizeof(*p));

	memset(va, 'a', len);
	memset(vb, 'b', len);
	memset(other, 'e', 4 * len);
	a = mkfile(fs, "a");
	CHECK_EQ(cfs_write(fs, a, 0, len - 100, va), (s64)(len - 100));
	CHECK_OK(cfs_sync(fs));

	/* at once: the bytes, the last block read whole into the buffer,
	 * the result the size */
	CHECK_OK(inode_get(fs, a, &ip));
	CHECK_EQ(file_read_plan(fs, ip, 0, len, p), 0);
	CHECK_EQ(p->bytes, len - 100);
	CHECK_EQ(p->nsum, nb);
	/* not a plan: a partial first block, a buffer short of the last
	 * block whole */
	CHECK_EQ(file_read_plan(fs, ip, 100, len, p), 1);
	CHECK_EQ(file_read_plan(fs, ip, 0, len - 200, p), 1);
	CHECK_EQ(file_read_plan(fs, ip, 0, len, p), 0);
	inode_put(fs, ip);
	/* more runs than a plan holds (every other block a hole): no plan,
	 * the read under the lock */
	g = mkfile(fs, "holes");
	for (i = 0; i < nb; i += 2)
		CHECK_EQ(cfs_write(fs, g, i * BS, BS, va), (s64)BS);
	CHECK_OK(inode_get(fs, g, &ip));
	CHECK_EQ(file_read_plan(fs, ip, 0, len, p), 1);
	inode_put(fs, ip);
	CHECK_EQ(cfs_read(fs, g, 0, len, buf), (s64)((nb - 1) * BS));
	for (i = 0; i + 1 < nb; i++)
		CHECK(buf[i * BS] == (i % 2 ? 0 : 'a'), "holes: block %llu",
		      (unsigned long long)i);
	CHECK_OK(inode_get(fs, a, &ip));
	CHECK_EQ(file_read_plan(fs, ip, 0, len, p), 0);
	inode_put(fs, ip);
	memset(buf, 0, len);
	CHECK_EQ(file_read_planned(fs, p, buf), 0);
	CHECK(!memcmp(buf, va, len - 100), "planned read: the bytes");

	/* planned; then the filesystem filled but for 160 blocks, the file
	 * rewritten (copied on write), committed (its old blocks freed),
	 * another file written until no space is left: into them */
	CHECK_EQ(file_read_planned(fs, p, buf), 0);
	f = mkfile(fs, "fill");
	for (i = 0; cfs_write(fs, f, i * len, len, other) == (s64)len; i++)
		;
	CHECK(i > 8, "filled: %llu", (unsigned long long)i);
	CHECK_OK(cfs_fallocate(fs, f, CFS_FALLOC_PUNCH_HOLE |
			       CFS_FALLOC_KEEP_SIZE, 0, 160 * BS));
	CHECK_OK(cfs_sync(fs));
	CHECK_EQ(cfs_write(fs, a, 0, len - 100, vb), (s64)(len - 100));
	CHECK_OK(cfs_sync(fs));
	b = mkfile(fs, "b");
	CHECK(cfs_write(fs, b, 0, 4 * len, other) > 0, "b written");
	CHECK_OK(cfs_sync(fs));
	for (i = 0; i < nb; i++)
		reused += m->mem[p->seg[0].dev + i * BS] == 'e';
	CHECK(p->nseg == 1 && reused > 0,
	      "the planned blocks were taken by the other file (%llu)",
	      (unsigned long long)reused);
	CHECK_EQ(file_read_planned(fs, p, buf), 1);
	CHECK_EQ(cfs_read(fs, a, 0, len, buf), (s64)(len - 100));
	CHECK(!memcmp(buf, vb, len - 100), "the read under the lock");

	/* planned; then a bit flipped in a planned block */
	CHECK_OK(inode_get(fs, a, &ip));
	CHECK_EQ(file_read_plan(fs, ip, 0, len, p), 0);
	inode_put(fs, ip);
	CHECK_EQ(file_read_planned(fs, p, buf), 0);
	m->mem[p->seg[0].dev + 7 * BS + 9] ^= 4;
	CHECK_EQ(file_read_planned(fs, p, buf), 1);
	CHECK_EQ(cfs_read(fs, a, 0, len, buf), 7 * BS);
	CHECK_OK(cfs_unmount(fs));
	free(p);
	free(buf);
	free(va);
	free(vb);
	free(other);
	membdev_free(m);
}

/* host_xxh64_blocks (several blocks at once with AVX-512) gives
 * libxxhash's XXH64 of every block: every block size, counts around the
 * groups of 8 and 16, unaligned buffers, random data. */
static void test_blocks(void)
{
	u64 bs, n, i, at, bad = 0, tried = 0;
	u8 *mem = malloc((40u << 16) + 64);
	u32 out[41];

	fill(mem, (40u << 16) + 64);
	for (bs = 32; bs <= 65536; bs *= 2)
		for (n = 0; n <= 40; n += (bs > 4096 ? 7 : 1))
			for (at = 0; at < 3; at++) {
				const u8 *b = mem + at * 7;

				out[n] = 0xdeadbeef;
				host_xxh64_blocks(b, bs, n, out);
				for (i = 0; i < n; i++, tried++)
					bad += out[i] !=
					       (u32)XXH64(b + i * bs, bs, 0);
				bad += out[n] != 0xdeadbeef;
			}
	CHECK(tried > 1000, "blocks hashed: %llu", (unsigned long long)tried);
	CHECK(!bad, "%llu of %llu block sums differ from XXH64 (%s)",
	      (unsigned long long)bad, (unsigned long long)tried,
	      cfs_user_xxh_simd() ? "AVX-512" : "one by one");
	printf("# block sums: %llu compared, hashed %s\n",
	       (unsigned long long)tried,
	       cfs_user_xxh_simd() ? "with AVX-512" : "one by one");
	free(mem);
}

int main(int argc, char **argv)
{
	rs = argc > 1 ? (u32)atoi(argv[1]) : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_blocks();
	test_layout();
	test_model();
	test_damage(0);
	test_damage(CFS_MKFS_NO_DATASUM);
	test_unlocked();
	if (tap_fail) {
		printf("test_datasum: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_datasum: all checks passed\n");
	return 0;
}
