// SPDX-License-Identifier: GPL-2.0
/*
 * test_shift_crash.c - a power cut at every write of a COLLAPSE_RANGE and
 * of an INSERT_RANGE that run in several rounds (issue 16; fs/file.c,
 * shift_file: each round moves at most SHIFT_ROUND extents and leaves the
 * file whole, and the rounds are committed when a chunk's changes fill
 * half its journal, so a crash can fall between two committed rounds).
 *
 * The file: FBLK blocks of 1 KiB, every other block punched (so every
 * block past the point is its own extent: some 1500 of them, about 47
 * rounds), in 4 MiB chunks (journals of 64 blocks: the rounds are
 * committed apart, 5 times in each operation).  The
 * shift runs on the memory device, which records every write and flush;
 * then for every prefix N of the record (every write; the "exact" cut:
 * the first N writes landed, and the "lost" cut: of the writes after the
 * last flush before N, a seeded half landed), the device is
 * rebuilt as the power cut left it and:
 *   - fsck -n of the image as the cut left it (the journal replayed in
 *     memory) finds nothing;
 *   - the filesystem mounts (journal replay) and the file is one of the
 *     states a crash may leave (docs/DESIGN.md, "COLLAPSE_RANGE and
 *     INSERT_RANGE"), with B the offset and L the length in blocks:
 *       collapse: the old file, with blocks of [B, B+L) zeroed (the punch
 *         of the range, itself in rounds); or old[0, B) + old[B+L, h) +
 *         L zero blocks + old[h, end) for an h in [B+L, end] (the blocks
 *         from B+L up to h moved down; the size is still the old one); or
 *         the collapsed file;
 *       insert: the old file; or old[0, h) + L zero blocks + old[h, end)
 *         for an h in [B, end] (the size grown first, the blocks from h up
 *         moved up; h = B is the inserted file);
 *   - after the unmount, fsck -n finds nothing.
 * At least two states between the old and the new file must be seen for
 * each operation (else the test would not be testing the rounds).
 *
 *   test_shift_crash [SEED]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

/* 1 KiB blocks: a journal of 64 blocks per 4 MiB chunk, so that the
 * rounds' tree changes fill half of it every few rounds */
#define BS 1024u
#define FBLK 3000u            /* file blocks */
#define DEV (32u << 20)       /* 8 chunks of 4 MiB */
#define CHUNK (4u << 20)

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static struct membdev *dev;
static u8 *old, *got;
static u32 rs = 1;
static u32 failures;

static u32 rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

/* fsck -fn: the problems found (the journal replayed in memory) */
static u32 fsck_all(void)
{
	struct cfs_check_result r;
	struct cfs_fs *cfs;
	const char *why;
	u32 k, found = 0;

	if (cfs_mount_check(&dev->bdev, CFS_MOUNT_RDONLY, &cfs, &why))
		return 1000;
	for (k = 0; k < cfs_nchunks(cfs); k++) {
		if (cfs_check_chunk(cfs, k, CFS_CHECK_NOFIX,
				    membdev_print_problem, NULL, &r))
			found += 1000;
		found += r.found + r.corrected;
	}
	cfs_unmount(cfs);
	return found;
}

/* ---- the states a crash may leave ---- */

static int blk_eq(const u8 *a, u32 ab, const u8 *b, u32 bb)
{
	return !memcmp(a + (u64)ab * BS, b + (u64)bb * BS, BS);
}

static int blk_zero(const u8 *a, u32 ab)
{
	u32 i;

	for (i = 0; i < BS; i++)
		if (a[(u64)ab * BS + i])
			return 0;
	return 1;
}

#define ST_OLD (-1)
#define ST_NEW (-2)
#define ST_BAD (-3)

/* The state got (n blocks) is: ST_OLD (collapse: maybe with blocks of the
 * range zeroed), ST_NEW, an h (blocks moved so far: the round state), or
 * ST_BAD. */
static int classify(int collapse, u32 n, u32 b, u32 l)
{
	u32 *eq = calloc(FBLK + l + 1, sizeof(u32));   /* prefix counts */
	u32 *zr = calloc(FBLK + l + 1, sizeof(u32));
	u32 *sh = calloc(FBLK + l + 1, sizeof(u32));
	u32 i, h;
	int st = ST_BAD;

	for (i = 0; i < n; i++) {
		int e = i < FBLK && blk_eq(got, i, old, i);
		int s = collapse ? i + l < FBLK && blk_eq(got, i, old, i + l)
				 : i >= l && i - l < FBLK &&
				   blk_eq(got, i, old, i - l);

		eq[i + 1] = eq[i] + e;
		zr[i + 1] = zr[i] + blk_zero(got, i);
		sh[i + 1] = sh[i] + s;
	}
#define ALL(a, x, y) ((y) <= (x) || (a)[y] - (a)[x] == (y) - (x))
	if (collapse) {
		if (n == FBLK - l && ALL(eq, 0, b) && ALL(sh, b, n)) {
			st = ST_NEW;
		} else if (n == FBLK) {
			int punch = ALL(eq, 0, b) && ALL(eq, b + l, n);

			for (i = b; punch && i < b + l; i++)
				punch = blk_eq(got, i, old, i) ||
					blk_zero(got, i);
			if (punch)
				st = ST_OLD;
			for (h = b + l + 1; st == ST_BAD && h <= n; h++)
				if (ALL(eq, 0, b) && ALL(sh, b, h - l) &&
				    ALL(zr, h - l, h) && ALL(eq, h, n))
					st = (int)h;
		}
	} else {
		if (n == FBLK && ALL(eq, 0, n)) {
			st = ST_OLD;
		} else if (n == FBLK + l) {
			for (h = FBLK; st == ST_BAD && h >= b && h <= FBLK;
			     h--) {
				if (ALL(eq, 0, h) && ALL(zr, h, h + l) &&
				    ALL(sh, h + l, n))
					st = h == b ? ST_NEW : (int)h;
				if (!h)
					break;
			}
		}
	}
#undef ALL
	free(eq);
	free(zr);
	free(sh);
	return st;
}

/* ---- the trials ---- */

static unsigned long long applied;

struct seen {
	u32 old, new, bad, mid;
	u8 h[FBLK + 1];       /* the round states seen */
};

/* The cut after record entry n (exclusive); lost: the writes after the
 * last flush landed in part (a seeded half). */
static void trial(unsigned long long n, int lost, int collapse, u32 b,
		  u32 l, struct seen *s)
{
	const char *what = collapse ? "collapse" : "insert";
	const char *variant = lost ? "lost" : "exact";
	unsigned long long lastf = 0, i;
	struct md_event *log = dev->log;
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	u32 found;
	int err, st;
	s64 r;

	for (i = n; i > 0; i--)
		if (!log[i - 1].data) {
			lastf = i;
			break;
		}
	membdev_replay(dev, &applied, lost ? lastf : n);
	dev->undoing = 1;
	if (lost)
		for (i = lastf; i < n; i++)
			if (log[i].data && rnd() % 2)
				membdev_apply(dev, log[i].off, log[i].data,
					      log[i].len);
	found = fsck_all();
	if (found) {
		CHECK(0, "%s %s N=%llu: fsck -n of the image as the cut left "
		      "it: %u problems", what, variant, n, found);
		failures++;
	}
	err = cfs_mount(&dev->bdev, 0, &fs, &why);
	if (err) {
		CHECK(0, "%s %s N=%llu: mount: %s (%d)", what, variant, n, why,
		      err);
		failures++;
		goto out;
	}
	err = cfs_lookup(fs, CFS_ROOT_INO, "f", 1, &a);
	CHECK(!err, "%s %s N=%llu: lookup: %d", what, variant, n, err);
	if (!err) {
		memset(got, 0, (u64)(FBLK + l + 1) * BS);
		r = cfs_read(fs, a.ino, 0, (u64)(FBLK + l + 1) * BS, got);
		cfs_forget(fs, a.ino, 1);
		st = r >= 0 && (u64)r == a.size && !(a.size % BS) ?
		     classify(collapse, (u32)(a.size / BS), b, l) : ST_BAD;
		if (st == ST_BAD) {
			CHECK(0, "%s %s N=%llu: size %llu (read %lld): not a "
			      "state a crash may leave", what, variant, n,
			      (unsigned long long)a.size, (long long)r);
			failures++;
			s->bad++;
		} else if (st == ST_OLD) {
			s->old++;
		} else if (st == ST_NEW) {
			s->new++;
		} else {
			s->mid++;
			s->h[st] = 1;
		}
	} else {
		failures++;
	}
	CHECK_OK(cfs_unmount(fs));
	found = fsck_all();
	if (found) {
		CHECK(0, "%s %s N=%llu: fsck -n after the mount: %u problems",
		      what, variant, n, found);
		failures++;
	}
out:
	membdev_undo(dev);
	dev->undoing = 0;
}

static void run(const u8 *base, int collapse, u32 b, u32 l)
{
	const char *what = collapse ? "collapse" : "insert";
	struct cfs_journal_stats js;
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	unsigned long long total, n, splits;
	int lost;

	memcpy(dev->mem, base, DEV);
	membdev_log_free(dev);
	dev->recording = 1;
	CHECK_OK(cfs_mount(&dev->bdev, 0, &fs, &why));
	CHECK_OK(cfs_lookup(fs, CFS_ROOT_INO, "f", 1, &a));
	cfs_journal_stats(fs, &js);
	splits = js.splits;
	CHECK_OK(cfs_fallocate(fs, a.ino, collapse ?
			       CFS_FALLOC_COLLAPSE_RANGE :
			       CFS_FALLOC_INSERT_RANGE,
			       (u64)b * BS, (u64)l * BS));
	cfs_journal_stats(fs, &js);
	splits = js.splits - splits;
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_unmount_stats(fs, &js));
	CHECK_EQ(js.overflows, 0);
	dev->recording = 0;
	total = dev->nlog;
	printf("# %s of %u blocks at block %u: %llu commits between rounds, "
	       "%llu writes and flushes recorded\n", what, l, b, splits,
	       total);
	CHECK(splits >= 2, "%s: the rounds were committed apart (%llu)",
	      what, splits);

	for (lost = 0; lost < 2; lost++) {
		struct seen s;
		u32 before = failures, hs = 0, h;

		memset(&s, 0, sizeof(s));
		memcpy(dev->mem, base, DEV);
		applied = 0;
		for (n = 0; n <= total; n++) {
			trial(n, lost, collapse, b, l, &s);
			if (failures - before > 5)
				break;
		}
		for (h = 0; h <= FBLK; h++)
			hs += s.h[h];
		printf("# %s, %s cuts: %llu; the old file %u, the new one %u, "
		       "between rounds %u (%u distinct states), none of them "
		       "%u\n", what, lost ? "lost" : "exact", n, s.old, s.new,
		       s.mid, hs, s.bad);
		CHECK(hs >= 2, "%s %s: states between rounds seen: %u", what,
		      lost ? "lost" : "exact", hs);
		CHECK(s.old && s.new, "%s: the old and the new file seen",
		      what);
	}
}

int main(int argc, char **argv)
{
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	u8 *base;
	u32 i, j;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rs = argc > 1 ? (u32)strtoul(argv[1], NULL, 0) * 2654435761u + 1 : 1;
	dev = membdev_new(DEV);
	base = malloc(DEV);
	old = calloc(FBLK, BS);
	got = malloc((u64)(2 * FBLK + 1) * BS);
	for (i = 0; i < FBLK; i++)
		for (j = 0; j < BS; j++)
			old[(u64)i * BS + j] = (u8)(1 + (i * 7 + j / 64) % 251);
	memset(&o, 0, sizeof(o));
	o.chunk_bytes = CHUNK;
	o.block_size = BS;
	memcpy(o.uuid, "shift-crash-uuid", 16);
	CHECK_OK(cfs_mkfs(&dev->bdev, &o));
	CHECK_OK(cfs_mount(&dev->bdev, 0, &fs, &why));
	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "f", 1, CFS_S_IFREG | 0644, 0,
			   &cr, &a));
	CHECK_EQ(cfs_write(fs, a.ino, 0, (u64)FBLK * BS, old),
		 (s64)FBLK * BS);
	for (i = 1; i < FBLK; i += 2) {
		CHECK_OK(cfs_fallocate(fs, a.ino, CFS_FALLOC_PUNCH_HOLE |
				       CFS_FALLOC_KEEP_SIZE, (u64)i * BS, BS));
		memset(old + (u64)i * BS, 0, BS);
	}
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_unmount(fs));
	CHECK_EQ(fsck_all(), 0);
	memcpy(base, dev->mem, DEV);
	/* an odd length: the moved blocks' holes fall where data was */
	run(base, 1, 8, 5);
	run(base, 0, 8, 5);
	membdev_free(dev);
	free(base);
	free(old);
	free(got);
	if (tap_fail) {
		printf("test_shift_crash: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_shift_crash: all checks passed\n");
	return 0;
}
