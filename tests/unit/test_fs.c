// SPDX-License-Identifier: GPL-2.0
/*
 * test_fs.c - unit tests of fs/ on the test host (memory device), over
 * several block sizes and chunk sizes (4 MiB chunks make continuations
 * common): namespace operations, big files crossing chunks, directories
 * spread over chunks, xattrs, persistence across unmount/mount, and a
 * seeded random model test of file data (write, truncate, every fallocate
 * mode) checked byte for byte after every step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/chunkfs.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

struct geo {
	u32 bs;
	u64 chunk;
	u64 dev;
};

static const struct geo geos[] = {
	{ 4096, 4 << 20, 40 << 20 },
	{ 1024, 4 << 20, 24 << 20 },
	{ 2048, 8 << 20, 40 << 20 },
	{ 65536, 8 << 20, 48 << 20 }, /* 128-block chunks: room for the
					 * 24 MiB file beside the metadata */
	{ 4096, 16 << 20, 64 << 20 },
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

static struct membdev *do_mkfs(const struct geo *g)
{
	struct cfs_mkfs_opts o;
	struct membdev *m = membdev_new(g->dev);

	memset(&o, 0, sizeof(o));
	o.block_size = g->bs;
	o.chunk_bytes = g->chunk;
	memcpy(o.uuid, "0123456789abcdef", 16);
	strcpy(o.label, "test");
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	return m;
}

static u64 mk(struct cfs_fs *fs, u64 dir, const char *name, u32 mode)
{
	struct cfs_attr a;
	int err = cfs_mknod(fs, dir, name, strlen(name), mode, 0, &root_cr, &a);

	CHECK(!err, "mknod %s: %d", name, err);
	return err ? 0 : a.ino;
}

static u64 look(struct cfs_fs *fs, u64 dir, const char *name)
{
	struct cfs_attr a;
	int err = cfs_lookup(fs, dir, name, strlen(name), &a);

	if (err)
		return 0;
	cfs_forget(fs, a.ino, 1);
	return a.ino;
}

static void fill(u8 *buf, u64 n, u32 seed)
{
	u64 i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (u8)(seed >> 16);
	}
}

struct cnt {
	int n;
	int dots;
	char seen[4096];
	u64 ck[4096];
};

static int count_cb(void *ctx, const char *name, u32 len, u64 ino, u32 type,
		    u64 next)
{
	struct cnt *c = ctx;

	(void)type;
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		c->dots++;
	else {
		char nm[256];
		int idx = 4095;

		memcpy(nm, name, len);
		nm[len] = 0;
		if (len > 1 && nm[0] == 'f' && nm[1] >= '0' && nm[1] <= '9')
			idx = atoi(nm + 1);
		if (idx >= 0 && idx < 4095) {
			CHECK(!c->seen[idx], "duplicate readdir entry %.*s "
			      "(ino %llx cookie %llx, first %llx)", (int)len, name,
			      (unsigned long long)ino, (unsigned long long)next,
			      (unsigned long long)c->ck[idx]);
			c->ck[idx] = next;
			c->seen[idx] = 1;
		}
		c->n++;
	}
	return 0;
}

/* readdir in small steps (stop after each entry) must still see all. */
struct step {
	int n;
	u64 last;
	int stop;
};

static int step_cb(void *ctx, const char *name, u32 len, u64 ino, u32 type,
		   u64 next)
{
	struct step *s = ctx;

	(void)name; (void)len; (void)ino; (void)type;
	if (s->stop)
		return 1;
	s->n++;
	s->last = next;
	s->stop = 1;
	return 0;
}

static void test_namespace(const struct geo *g)
{
	struct membdev *m = do_mkfs(g);
	struct cfs_fs *fs = do_mount(m);
	u64 d1, d2, f, big, spread;
	u8 *wbuf, *rbuf;
	u64 bigsz = g->chunk * 2 + 12345;
	struct cfs_ino_links li;
	struct cfs_attr a;
	char name[64], lnk[300];
	struct cnt c;
	int i, nfiles = g->bs == 1024 ? 300 : 1500;

	d1 = mk(fs, CFS_ROOT_INO, "d1", CFS_S_IFDIR | 0755);
	d2 = mk(fs, d1, "d2", CFS_S_IFDIR | 0700);
	f = mk(fs, d2, "file", CFS_S_IFREG | 0644);
	CHECK_EQ(look(fs, CFS_ROOT_INO, "d1"), d1);
	CHECK_EQ(look(fs, d1, "d2"), d2);
	CHECK_EQ(look(fs, d2, ".."), d1);
	CHECK_EQ(cfs_mknod(fs, d2, "file", 4, CFS_S_IFREG | 0644, 0, &root_cr,
			   &a), -CFS_EEXIST);
	memset(name, 'x', 63);
	CHECK_EQ(cfs_lookup(fs, d1, lnk, 256, &a), -CFS_ENAMETOOLONG);
	CHECK_OK(cfs_getattr(fs, d1, &a));
	CHECK_EQ(a.nlink, 3);

	/* small file data */
	wbuf = malloc(bigsz);
	rbuf = malloc(bigsz);
	fill(wbuf, bigsz, 7);
	CHECK_EQ(cfs_write(fs, f, 100, 5000, wbuf), 5000);
	CHECK_EQ(cfs_read(fs, f, 0, 6000, rbuf), 5100);
	for (i = 0; i < 100; i++)
		CHECK(rbuf[i] == 0, "hole byte %d not zero", i);
	CHECK(!memcmp(rbuf + 100, wbuf, 5000), "small file data differs");

	/* a file larger than two chunks */
	big = mk(fs, CFS_ROOT_INO, "big", CFS_S_IFREG | 0600);
	for (i = 0; (u64)i * 65536 < bigsz; i++) {
		u64 off = (u64)i * 65536, n = bigsz - off < 65536 ? bigsz - off : 65536;

		CHECK_EQ(cfs_write(fs, big, off, n, wbuf + off), n);
	}
	CHECK_OK(cfs_inode_links(fs, big, &li));
	CHECK(li.nconts >= 1, "big file has no continuation (%u)", li.nconts);
	CHECK((u32)(big >> 32) != li.chunks[0], "continuation in own chunk");

	/* many files in one dir: they spill into other chunks */
	spread = mk(fs, CFS_ROOT_INO, "spread", CFS_S_IFDIR | 0755);
	for (i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		if (!mk(fs, spread, name, CFS_S_IFREG | 0644))
			break;
	}
	memset(&c, 0, sizeof(c));
	CHECK_OK(cfs_readdir(fs, spread, 0, count_cb, &c));
	CHECK_EQ(c.n, nfiles);
	CHECK_EQ(c.dots, 2);
	{
		struct step s = { 0, 0, 0 };
		u64 ck = 0;

		for (;;) {
			s.stop = 0;
			s.last = ck;
			CHECK_OK(cfs_readdir(fs, spread, ck, step_cb, &s));
			if (s.last == ck)
				break;
			ck = s.last;
		}
		CHECK_EQ(s.n, nfiles + 2);
	}
	for (i = 0; i < nfiles; i += 7) {
		snprintf(name, sizeof(name), "f%d", i);
		CHECK(look(fs, spread, name) != 0, "lookup %s", name);
	}
	/* hard link from a dir in another chunk, rename across dirs */
	CHECK_OK(cfs_link(fs, big, spread, "biglink", 7, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_EQ(a.nlink, 2);
	CHECK_OK(cfs_rename(fs, spread, "f3", 2, d2, "moved", 5, 0));
	CHECK(look(fs, spread, "f3") == 0, "old name still there");
	CHECK(look(fs, d2, "moved") != 0, "new name missing");
	CHECK_EQ(cfs_rename(fs, spread, "f5", 2, d2, "moved", 5,
			    CFS_RENAME_NOREPLACE), -CFS_EEXIST);
	CHECK_OK(cfs_rename(fs, spread, "f5", 2, d2, "moved", 5,
			    CFS_RENAME_EXCHANGE));
	CHECK_EQ(cfs_rename(fs, CFS_ROOT_INO, "d1", 2, d2, "x", 1, 0),
		 -CFS_EINVAL);
	CHECK_EQ(cfs_rename(fs, CFS_ROOT_INO, "d1", 2, d2, "x", 1, 8),
		 -CFS_EINVAL);
	CHECK_EQ(cfs_rmdir(fs, CFS_ROOT_INO, "d1", 2), -CFS_ENOTEMPTY);
	/* symlinks */
	memset(lnk, 'a', sizeof(lnk));
	CHECK_OK(cfs_symlink(fs, d1, "s1", 2, "target", 6, &root_cr, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_symlink(fs, d1, "s2", 2, lnk, 300, &root_cr, &a));
	cfs_forget(fs, a.ino, 1);
	/* xattrs */
	CHECK_OK(cfs_setxattr(fs, f, "user.a", "hello", 5, 0));
	CHECK_EQ(cfs_setxattr(fs, f, "user.a", "x", 1, CFS_XATTR_CREATE),
		 -CFS_EEXIST);
	CHECK_EQ(cfs_setxattr(fs, f, "user.b", "x", 1, CFS_XATTR_REPLACE),
		 -CFS_ENODATA);
	CHECK_OK(cfs_setxattr(fs, f, "user.b", "", 0, 0));
	CHECK_EQ(cfs_listxattr(fs, f, NULL, 0), 14);

	CHECK_OK(cfs_unmount(fs));
	/* ---- remount and verify ---- */
	fs = do_mount(m);
	CHECK_EQ(cfs_read(fs, big, 0, bigsz, rbuf), bigsz);
	CHECK(!memcmp(rbuf, wbuf, bigsz), "big file differs after remount");
	CHECK_OK(cfs_getattr(fs, big, &a));
	CHECK_EQ(a.nlink, 2);
	CHECK(a.blocks512 >= bigsz / 512, "st_blocks too small: %llu",
	      (unsigned long long)a.blocks512);
	memset(&c, 0, sizeof(c));
	CHECK_OK(cfs_readdir(fs, spread, 0, count_cb, &c));
	CHECK_EQ(c.n, nfiles);  /* -f3 (moved) +biglink */
	CHECK_EQ(cfs_readlink(fs, look(fs, d1, "s1"), name, sizeof(name)), 6);
	CHECK(!memcmp(name, "target", 6), "symlink target");
	CHECK_EQ(cfs_readlink(fs, look(fs, d1, "s2"), lnk, sizeof(lnk)), 300);
	{	/* a long symlink's block is freed with it */
		struct cfs_statfs before, after;

		CHECK_OK(cfs_statfs(fs, &before));
		CHECK_OK(cfs_unlink(fs, d1, "s2", 2));
		CHECK_OK(cfs_statfs(fs, &after));
		CHECK(after.bfree > before.bfree, "long symlink leaked its block");
	}
	CHECK_EQ(cfs_getxattr(fs, f, "user.a", name, sizeof(name)), 5);
	CHECK(!memcmp(name, "hello", 5), "xattr value");
	/* delete everything in spread: the dir's continuations go away */
	for (i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		if (i == 3)
			continue;
		CHECK_OK(cfs_unlink(fs, spread, name, strlen(name)));
	}
	CHECK_OK(cfs_unlink(fs, spread, "biglink", 7));
	CHECK_OK(cfs_inode_links(fs, spread, &li));
	CHECK_EQ(li.nconts, 0);
	CHECK_OK(cfs_rmdir(fs, CFS_ROOT_INO, "spread", 6));
	{
		struct cfs_statfs before, after;

		CHECK_OK(cfs_statfs(fs, &before));
		CHECK_OK(cfs_unlink(fs, CFS_ROOT_INO, "big", 3));
		CHECK_OK(cfs_statfs(fs, &after));
		CHECK(after.bfree >= before.bfree + bigsz / g->bs,
		      "unlink of big file freed %llu blocks",
		      (unsigned long long)(after.bfree - before.bfree));
	}
	CHECK_OK(cfs_unmount(fs));
	free(wbuf);
	free(rbuf);
	membdev_free(m);
}

/* ---- random model test of one file's data ---- */

static u32 rnd_state;
static u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void test_model(const struct geo *g, u32 seed, int ops)
{
	struct membdev *m = do_mkfs(g);
	struct cfs_fs *fs = do_mount(m);
	u64 max = g->chunk * 3, size = 0;
	u8 *model = calloc(1, max), *buf = malloc(max), *tmp = malloc(max);
	u64 f = mk(fs, CFS_ROOT_INO, "m", CFS_S_IFREG | 0644);
	u32 bs = g->bs, links0 = 0, k0;
	struct cfs_chunk_info ci0;
	int i;

	/* links mkfs made (/lost+found's continuations) */
	for (k0 = 0; cfs_chunk_info(fs, k0, &ci0) == 0; k0++)
		links0 += ci0.links;

	rnd_state = seed;
	for (i = 0; i < ops && !tap_fail; i++) {
		u32 op = rnd() % 8;
		u64 off = rnd() % (max / 2), len = 1 + rnd() % (max / 4);
		int err;
		const char *what = "";

		if (rnd() % 2) { /* aligned */
			off &= ~(u64)(bs - 1);
			len = (len + bs - 1) & ~(u64)(bs - 1);
		}
		if (off + len > max)
			len = max - off;
		switch (op) {
		case 0: case 1: case 2:
			what = "write";
			fill(tmp, len, rnd());
			CHECK_EQ(cfs_write(fs, f, off, len, tmp), len);
			memcpy(model + off, tmp, len);
			if (off + len > size)
				size = off + len;
			break;
		case 3: {
			struct cfs_setattr sa = { .valid = CFS_SET_SIZE, .size = off };

			what = "truncate";
			CHECK_OK(cfs_setattr(fs, f, &sa, NULL));
			if (off < size)
				memset(model + off, 0, size - off);
			size = off;
			break;
		}
		case 4:
			what = "punch";
			CHECK_OK(cfs_fallocate(fs, f, CFS_FALLOC_PUNCH_HOLE |
					       CFS_FALLOC_KEEP_SIZE, off, len));
			if (off < size)
				memset(model + off, 0,
				       (off + len > size ? size : off + len) - off);
			break;
		case 5:
			what = "zero";
			CHECK_OK(cfs_fallocate(fs, f, CFS_FALLOC_ZERO_RANGE,
					       off, len));
			memset(model + off, 0, len);
			if (off + len > size)
				size = off + len;
			break;
		case 6:
			what = "collapse";
			err = cfs_fallocate(fs, f, CFS_FALLOC_COLLAPSE_RANGE, off,
					    len);
			if ((off | len) & (bs - 1) || off + len >= size) {
				CHECK_EQ(err, -CFS_EINVAL);
				break;
			}
			CHECK_OK(err);
			memmove(model + off, model + off + len, size - off - len);
			memset(model + size - len, 0, len);
			size -= len;
			break;
		case 7:
			what = "insert";
			err = cfs_fallocate(fs, f, CFS_FALLOC_INSERT_RANGE, off,
					    len);
			if ((off | len) & (bs - 1) || off >= size) {
				CHECK_EQ(err, -CFS_EINVAL);
				break;
			}
			if (size + len > max) { /* our model's limit */
				CHECK_OK(err);
				memmove(model + off + len, model + off,
					max - off - len);
				memset(model + off, 0, len);
				size += len;
				{ /* shrink back to the model's range */
					struct cfs_setattr sa = { .valid = CFS_SET_SIZE,
								  .size = max };
					CHECK_OK(cfs_setattr(fs, f, &sa, NULL));
				}
				size = max;
				break;
			}
			CHECK_OK(err);
			memmove(model + off + len, model + off, size - off);
			memset(model + off, 0, len);
			size += len;
			break;
		}
		{
			struct cfs_attr a;

			CHECK_OK(cfs_getattr(fs, f, &a));
			CHECK(a.size == size, "seed %u op %d (%s %llu+%llu): "
			      "size %llu, model %llu", seed, i, what,
			      (unsigned long long)off, (unsigned long long)len,
			      (unsigned long long)a.size,
			      (unsigned long long)size);
			CHECK_EQ(cfs_read(fs, f, 0, max, buf), size);
			if (memcmp(buf, model, size)) {
				u64 j = 0;

				while (buf[j] == model[j])
					j++;
				CHECK(0, "seed %u op %d (%s %llu+%llu): data "
				      "differs at %llu", seed, i, what,
				      (unsigned long long)off,
				      (unsigned long long)len,
				      (unsigned long long)j);
			}
		}
		if (i % 50 == 49) {
			CHECK_OK(cfs_unmount(fs));
			fs = do_mount(m);
		}
	}
	CHECK_OK(cfs_unlink(fs, CFS_ROOT_INO, "m", 1));
	{
		struct cfs_statfs st;
		struct cfs_chunk_info ci;
		u32 k, links = 0;

		CHECK_OK(cfs_statfs(fs, &st));
		for (k = 0; cfs_chunk_info(fs, k, &ci) == 0; k++)
			links += ci.links;
		CHECK_EQ(links, links0);
	}
	CHECK_OK(cfs_unmount(fs));
	free(model);
	free(buf);
	free(tmp);
	membdev_free(m);
}

static void test_mount_errors(void)
{
	struct membdev *m = membdev_new(8 << 20);
	struct cfs_fs *fs;
	const char *why = NULL;
	struct cfs_mkfs_opts o;
	struct cfs_geom g;

	CHECK_EQ(cfs_mount(&m->bdev, 0, &fs, &why), -CFS_EINVAL);
	CHECK(why && strstr(why, "superblock"), "why: %s", why);
	memset(&o, 0, sizeof(o));
	o.block_size = 3000;
	CHECK_EQ(cfs_mkfs_check(&m->bdev, &o, &g, &why), -CFS_EINVAL);
	o.block_size = 4096;
	o.chunk_bytes = (4 << 20) + 1024;
	CHECK_EQ(cfs_mkfs_check(&m->bdev, &o, &g, &why), -CFS_EINVAL);
	o.chunk_bytes = 16 << 20;
	CHECK_EQ(cfs_mkfs_check(&m->bdev, &o, &g, &why), -CFS_ENOSPC);
	o.chunk_bytes = 0;
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	/* an unknown incompat feature refuses the mount */
	{
		u32 *inc = (u32 *)(m->mem + 64 + 40);
		extern u32 host_crc32(u32, const void *, u64);

		*inc |= 0x80000000u;
		*(u32 *)m->mem = host_crc32(0, m->mem + 4, 4096 - 4);
		CHECK_EQ(cfs_mount(&m->bdev, 0, &fs, &why), -CFS_EINVAL);
		CHECK(strstr(why, "incompatible"), "why: %s", why);
	}
	membdev_free(m);
}

int main(int argc, char **argv)
{
	u32 seed = argc > 1 ? (u32)atoi(argv[1]) : 1;
	unsigned i;

	setvbuf(stdout, NULL, _IOLBF, 0);

	test_mount_errors();
	for (i = 0; i < sizeof(geos) / sizeof(geos[0]); i++) {
		printf("geometry: block %u, chunk %llu MiB\n", geos[i].bs,
		       (unsigned long long)(geos[i].chunk >> 20));
		test_namespace(&geos[i]);
		test_model(&geos[i], seed + i, 300);
	}
	if (tap_fail) {
		printf("test_fs: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_fs: all checks passed\n");
	return 0;
}
