// SPDX-License-Identifier: GPL-2.0
/*
 * test_shift.c - COLLAPSE_RANGE and INSERT_RANGE on a large fragmented file
 * (issue 16): every other block of the file punched, so that thousands of
 * extents lie past the point and each one moves.  No transaction may be
 * bigger than its journal (none written in place: jstat.overflows), the
 * content must match a model (also after a remount) and the checker must
 * find nothing.  In big chunks (one big extent tree, 127 journal blocks)
 * and in small ones (the file continued through many chunks).  FUSE cannot
 * carry these modes (the kernel refuses them for every FUSE filesystem):
 * the kernel module's VM test runs them through the real path
 * (tests/kmod/rw.sh, kt shift).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/chunkfs.h"
#include "../../fs/check.h"
#include "../lib/chunkimg.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

struct geo {
	u32 bs;
	u64 chunk, dev, file;
};

static const struct geo geos[] = {
	{ 4096, 64ull << 20, 200ull << 20, 96ull << 20 },
	{ 4096, 4ull << 20, 112ull << 20, 48ull << 20 },
	{ 1024, 8ull << 20, 64ull << 20, 24ull << 20 },
};

static struct cfs_cred root_cr = { .uid = 0, .gid = 0 };

static struct cfs_fs *do_mount(struct membdev *m)
{
	struct cfs_fs *fs = NULL;
	const char *why = NULL;
	int err = cfs_mount(&m->bdev, 0, &fs, &why);

	CHECK(!err, "mount: %d %s", err, why);
	if (err)
		exit(1);
	return fs;
}

static void report(void *ctx, const struct cfs_problem_report *r)
{
	(void)ctx;
	fprintf(stderr, "# problem: chunk %u code %u block %llu %s\n",
		r->chunk, r->code, (unsigned long long)r->blk,
		r->detail ? r->detail : "");
}

struct file {
	struct cfs_fs *fs;
	u64 ino, size, max;
	u8 *model, *buf;
	const char *geo;
};

static void compare(struct file *f, const char *what)
{
	struct cfs_attr a;

	CHECK_OK(cfs_getattr(f->fs, f->ino, &a));
	CHECK(a.size == f->size, "%s %s: size %llu, model %llu", f->geo, what,
	      (unsigned long long)a.size, (unsigned long long)f->size);
	CHECK_EQ(cfs_read(f->fs, f->ino, 0, f->max, f->buf), f->size);
	if (memcmp(f->buf, f->model, f->size)) {
		u64 j = 0;

		while (f->buf[j] == f->model[j])
			j++;
		CHECK(0, "%s %s: data differs at %llu", f->geo, what,
		      (unsigned long long)j);
	}
}

static void collapse(struct file *f, u64 off, u64 len)
{
	CHECK_OK(cfs_fallocate(f->fs, f->ino, CFS_FALLOC_COLLAPSE_RANGE, off,
			       len));
	memmove(f->model + off, f->model + off + len, f->size - off - len);
	f->size -= len;
	compare(f, "collapse");
}

static void insert(struct file *f, u64 off, u64 len)
{
	CHECK_OK(cfs_fallocate(f->fs, f->ino, CFS_FALLOC_INSERT_RANGE, off,
			       len));
	memmove(f->model + off + len, f->model + off, f->size - off);
	memset(f->model + off, 0, len);
	f->size += len;
	compare(f, "insert");
}

static void test_geo(const struct geo *g)
{
	struct cfs_mkfs_opts o;
	struct membdev *m = membdev_new(g->dev);
	struct cfs_journal_stats js;
	struct cfs_attr a;
	struct file f;
	char name[64];
	u64 off, bs = g->bs;

	snprintf(name, sizeof(name), "block %u chunk %llu MiB", g->bs,
		 (unsigned long long)(g->chunk >> 20));
	memset(&o, 0, sizeof(o));
	o.block_size = g->bs;
	o.chunk_bytes = g->chunk;
	memcpy(o.uuid, "shift-test-uuid1", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	memset(&f, 0, sizeof(f));
	f.geo = name;
	f.fs = do_mount(m);
	f.max = g->file * 2;
	f.model = calloc(1, f.max);
	f.buf = malloc(f.max);
	CHECK_OK(cfs_mknod(f.fs, CFS_ROOT_INO, "f", 1, CFS_S_IFREG | 0644, 0,
			   &root_cr, &a));
	f.ino = a.ino;
	for (off = 0; off < g->file; off++)
		f.model[off] = (u8)(off * 13 / 7 + (off >> 12));
	CHECK_EQ(cfs_write(f.fs, f.ino, 0, g->file, f.model), g->file);
	f.size = g->file;
	for (off = bs; off < g->file; off += 2 * bs) {
		CHECK_OK(cfs_fallocate(f.fs, f.ino, CFS_FALLOC_PUNCH_HOLE |
				       CFS_FALLOC_KEEP_SIZE, off, bs));
		memset(f.model + off, 0, bs);
	}
	CHECK_OK(cfs_sync(f.fs));
	cfs_journal_stats(f.fs, &js);
	printf("# %s: %llu MiB, every other block punched; %llu commits, "
	       "%llu splits, %llu in place so far\n", name,
	       (unsigned long long)(g->file >> 20),
	       (unsigned long long)js.commits, (unsigned long long)js.splits,
	       (unsigned long long)js.overflows);
	compare(&f, "punched");
	collapse(&f, 16 * bs, 16 * bs);          /* every extent past it moves */
	insert(&f, bs, 7 * bs);                  /* back, by an odd amount */
	collapse(&f, (f.size / 2 & ~(bs - 1)) + bs, 3 * bs); /* the middle */
	insert(&f, f.size / 3, f.size / 2 & ~(bs - 1)); /* a big hole */
	collapse(&f, 0, 5 * bs);                 /* at the very start */
	{	/* and seeded ones anywhere, of any size */
		u32 r = 12345, i;

		for (i = 0; i < 12 && !tap_fail; i++) {
			u64 nb = f.size / bs, at, n;

			r = r * 1103515245 + 12345;
			at = (r >> 8) % (nb - 1);
			r = r * 1103515245 + 12345;
			n = 1 + (r >> 8) % (i % 3 ? 64 : nb / 4);
			if (i % 2 && f.size + n * bs <= f.max)
				insert(&f, at * bs, n * bs);
			else if (at + n < nb)
				collapse(&f, at * bs, n * bs);
		}
	}
	cfs_journal_stats(f.fs, &js);
	CHECK_OK(cfs_unmount_stats(f.fs, &js));
	printf("# %s: %llu commits, %llu splits, %llu in place\n", name,
	       (unsigned long long)js.commits, (unsigned long long)js.splits,
	       (unsigned long long)js.overflows);
	CHECK(js.overflows == 0, "%s: %llu transactions written in place",
	      name, (unsigned long long)js.overflows);
	CHECK_EQ(ci_offline_problems(m, report), 0);
	f.fs = do_mount(m);
	compare(&f, "after remount");
	CHECK_OK(cfs_unlink(f.fs, CFS_ROOT_INO, "f", 1));
	CHECK_OK(cfs_unmount_stats(f.fs, &js));
	CHECK(js.overflows == 0, "%s: unlink: %llu transactions written in "
	      "place", name, (unsigned long long)js.overflows);
	CHECK_EQ(ci_offline_problems(m, report), 0);
	free(f.model);
	free(f.buf);
	membdev_free(m);
}

int main(void)
{
	unsigned i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(geos) / sizeof(geos[0]); i++)
		test_geo(&geos[i]);
	if (tap_fail) {
		printf("test_shift: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_shift: all checks passed\n");
	return 0;
}
