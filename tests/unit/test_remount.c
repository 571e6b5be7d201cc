// SPDX-License-Identifier: GPL-2.0
/*
 * test_remount.c - the library's side of issue 15 on the memory device:
 * cfs_remount (read-only: everything committed and the disk clean, writes
 * refused; read-write again in place, with the front end's references
 * kept; a read-only mount after a crash, whose journals were replayed in
 * memory only, replays them in place when it becomes read-write; an
 * inode unlinked while in use and let go of while read-only is freed once
 * read-write), cfs_iget_gen / cfs_iget_any (any live inode from disk,
 * ESTALE for a freed or reused number or a wrong generation) and the
 * access times (cfs_atime_due's rules, cfs_touch_atime and cfs_set_atime
 * write lazily: no commit, even on a synchronous mount).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/chunkfs.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define DEV (40ULL << 20)

static struct cfs_cred root_cr = { .uid = 0, .gid = 0 };

static struct cfs_fs *do_mount(struct membdev *m, u32 flags)
{
	struct cfs_fs *fs = NULL;
	const char *why = NULL;
	int err = cfs_mount(&m->bdev, flags, &fs, &why);

	CHECK(!err, "mount: %d %s", err, why);
	if (err)
		exit(1);
	return fs;
}

static struct membdev *do_mkfs(void)
{
	struct cfs_mkfs_opts o;
	struct membdev *m = membdev_new(DEV);

	memset(&o, 0, sizeof(o));
	o.block_size = 4096;
	o.chunk_bytes = 4 << 20;
	memcpy(o.uuid, "0123456789abcdef", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	return m;
}

/* A file with n bytes of pattern seed; its attributes (one lookup
 * reference, which is given back). */
static u64 mkfile(struct cfs_fs *fs, u64 dir, const char *name, u32 n,
		  u32 seed, struct cfs_attr *a)
{
	u8 *buf = malloc(n + 1);
	u32 i;
	int err;

	for (i = 0; i < n; i++)
		buf[i] = (u8)(seed * 31 + i * 7);
	err = cfs_mknod(fs, dir, name, (u32)strlen(name), CFS_S_IFREG | 0644,
			0, &root_cr, a);
	CHECK(!err, "mknod %s: %d", name, err);
	if (!err) {
		CHECK_EQ(cfs_write(fs, a->ino, 0, n, buf), n);
		cfs_forget(fs, a->ino, 1);
	}
	free(buf);
	return err ? 0 : a->ino;
}

static int file_is(struct cfs_fs *fs, u64 dir, const char *name, u32 n,
		   u32 seed)
{
	u8 *buf = malloc(n + 1);
	struct cfs_attr a;
	u32 i;
	int ok;

	if (cfs_lookup(fs, dir, name, (u32)strlen(name), &a)) {
		free(buf);
		return 0;
	}
	ok = a.size == n && cfs_read(fs, a.ino, 0, n, buf) == n;
	for (i = 0; ok && i < n; i++)
		ok = buf[i] == (u8)(seed * 31 + i * 7);
	cfs_forget(fs, a.ino, 1);
	free(buf);
	return ok;
}

static u64 ffree(struct cfs_fs *fs)
{
	struct cfs_statfs st;

	CHECK_OK(cfs_statfs(fs, &st));
	return st.ffree;
}

static u32 sb_state(struct membdev *m)
{
	struct cfs_super sb;
	u64 blk;

	CHECK_OK(cfs_read_super(&m->bdev, &sb, &blk));
	return sb.state;
}

/* rw -> ro -> rw, in place: the disk clean and current at ro, writes
 * refused, the references kept, an unlinked inode freed once rw. */
static void test_ro_rw(void)
{
	struct membdev *m = do_mkfs();
	struct cfs_fs *fs = do_mount(m, 0);
	struct cfs_attr a, held, got;
	struct cfs_journal_stats js;
	u64 f0, dir, sum;
	u8 *copy;
	int err;

	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "d", 1, CFS_S_IFDIR | 0755, 0,
			   &root_cr, &a));
	dir = a.ino;
	mkfile(fs, dir, "a", 100000, 1, &a);
	f0 = ffree(fs);
	/* held: an open file (a lookup reference), unlinked below */
	mkfile(fs, dir, "held", 5000, 2, &held);
	CHECK_OK(cfs_lookup(fs, dir, "held", 4, &held));
	CHECK_OK(cfs_unlink(fs, dir, "held", 4));
	CHECK_EQ(cfs_getattr(fs, held.ino, &got), 0);
	CHECK_EQ(got.nlink, 0);

	CHECK_OK(cfs_remount(fs, CFS_MOUNT_RDONLY, NULL));
	CHECK_EQ(sb_state(m), CFS_FS_CLEAN);
	/* what the disk holds is everything: a second (read-only) mount of
	 * a copy of it sees the file, with nothing to replay */
	{
		struct membdev *c = membdev_new(DEV);
		struct cfs_fs *fs2;

		memcpy(c->mem, m->mem, DEV);
		fs2 = do_mount(c, CFS_MOUNT_RDONLY);
		cfs_journal_stats(fs2, &js);
		CHECK_EQ(js.replayed_chunks, 0);
		CHECK(file_is(fs2, dir, "a", 100000, 1), "a on the copy");
		CHECK_OK(cfs_unmount(fs2));
		membdev_free(c);
	}
	CHECK_EQ(cfs_mknod(fs, dir, "x", 1, CFS_S_IFREG | 0644, 0, &root_cr,
			   &a), -CFS_EROFS);
	CHECK_EQ(cfs_write(fs, held.ino, 0, 1, "x"), -CFS_EROFS);
	CHECK_EQ(cfs_touch_atime(fs, held.ino, CFS_ATIME_STRICT), -CFS_EROFS);
	CHECK(file_is(fs, dir, "a", 100000, 1), "a read-only");
	/* the last reference goes while read-only: not freed now */
	copy = malloc(DEV);
	memcpy(copy, m->mem, DEV);
	cfs_forget(fs, held.ino, 1);
	CHECK(!memcmp(copy, m->mem, DEV), "read-only: the device changed");
	sum = ffree(fs);
	CHECK(sum < f0, "the unlinked inode is not freed while read-only");
	free(copy);

	CHECK_OK(cfs_remount(fs, 0, NULL));
	CHECK_EQ(sb_state(m), CFS_FS_DIRTY);
	mkfile(fs, dir, "b", 3000, 3, &a);
	/* the orphan was freed between operations */
	err = cfs_iget_any(fs, held.ino, &got);
	CHECK_EQ(err, -CFS_ESTALE);
	CHECK_EQ(ffree(fs), f0 - 1); /* held gone, b there */
	CHECK_OK(cfs_unmount(fs));
	fs = do_mount(m, 0);
	CHECK(file_is(fs, dir, "a", 100000, 1), "a after all");
	CHECK(file_is(fs, dir, "b", 3000, 3), "b after all");
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);
}

/* A read-only mount after a crash (journals replayed in memory only),
 * then read-write: replayed in place then; the device untouched before. */
static void test_ro_after_crash(void)
{
	struct membdev *m = do_mkfs(), *c = membdev_new(DEV);
	struct cfs_fs *fs = do_mount(m, 0);
	struct cfs_journal_stats js;
	struct cfs_attr a;
	u8 *before;
	int i;

	for (i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		mkfile(fs, CFS_ROOT_INO, name, 20000 + (u32)i * 1000,
		       (u32)i, &a);
	}
	CHECK_OK(cfs_sync(fs)); /* committed: the journals hold it */
	memcpy(c->mem, m->mem, DEV); /* the power goes off here */
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);

	c->bdev.readonly = 1; /* opened read-only, as a front end does */
	fs = do_mount(c, CFS_MOUNT_RDONLY);
	cfs_journal_stats(fs, &js);
	CHECK(js.replayed_chunks > 0, "nothing replayed (%llu)",
	      js.replayed_chunks);
	CHECK_EQ(sb_state(c), CFS_FS_DIRTY);
	before = malloc(DEV);
	memcpy(before, c->mem, DEV);
	for (i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		CHECK(file_is(fs, CFS_ROOT_INO, name, 20000 + (u32)i * 1000,
			      (u32)i), "%s read-only after the crash", name);
	}
	CHECK(!memcmp(before, c->mem, DEV), "a read-only mount wrote");
	free(before);
	/* the device made writable, as a front end does */
	CHECK_EQ(cfs_remount(fs, 0, NULL), -CFS_EROFS);
	c->bdev.readonly = 0;
	CHECK_OK(cfs_remount(fs, 0, NULL));
	cfs_journal_stats(fs, &js);
	mkfile(fs, CFS_ROOT_INO, "after", 7000, 99, &a);
	CHECK_OK(cfs_unmount(fs));
	/* a new mount replays nothing: it was all written */
	fs = do_mount(c, 0);
	cfs_journal_stats(fs, &js);
	CHECK_EQ(js.replayed_chunks, 0);
	for (i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%d", i);
		CHECK(file_is(fs, CFS_ROOT_INO, name, 20000 + (u32)i * 1000,
			      (u32)i), "%s after ro, rw, unmount", name);
	}
	CHECK(file_is(fs, CFS_ROOT_INO, "after", 7000, 99), "after");
	CHECK_OK(cfs_unmount(fs));
	membdev_free(c);
}

static void test_iget(void)
{
	struct membdev *m = do_mkfs();
	struct cfs_fs *fs = do_mount(m, 0);
	struct cfs_attr a, d, got;
	u64 ino;
	u32 gen;

	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "d", 1, CFS_S_IFDIR | 0755, 0,
			   &root_cr, &d));
	cfs_forget(fs, d.ino, 1);
	ino = mkfile(fs, d.ino, "f", 10, 1, &a);
	gen = a.gen;
	CHECK_OK(cfs_unmount(fs));
	fs = do_mount(m, 0); /* nothing cached */
	CHECK_OK(cfs_iget_gen(fs, ino, gen, &got));
	CHECK_EQ(got.ino, ino);
	CHECK_EQ(got.size, 10);
	cfs_forget(fs, ino, 1);
	CHECK_EQ(cfs_iget_gen(fs, ino, gen + 1, &got), -CFS_ESTALE);
	CHECK_OK(cfs_iget_any(fs, ino, &got));
	cfs_forget(fs, ino, 1);
	/* a directory's parent from disk */
	CHECK_OK(cfs_iget_gen(fs, d.ino, d.gen, &got));
	cfs_forget(fs, d.ino, 1);
	CHECK_OK(cfs_lookup(fs, d.ino, "..", 2, &got));
	CHECK_EQ(got.ino, CFS_ROOT_INO);
	cfs_forget(fs, got.ino, 1);
	/* numbers that name nothing */
	CHECK_EQ(cfs_iget_any(fs, ino + 1000, &got), -CFS_ESTALE);
	CHECK_EQ(cfs_iget_any(fs, (u64)1 << 50, &got), -CFS_ESTALE);
	CHECK_EQ(cfs_iget_any(fs, 0, &got), -CFS_ESTALE);
	/* deleted, then its number used again */
	CHECK_OK(cfs_unlink(fs, d.ino, "f", 1));
	CHECK_EQ(cfs_iget_gen(fs, ino, gen, &got), -CFS_ESTALE);
	CHECK_EQ(cfs_iget_any(fs, ino, &got), -CFS_ESTALE);
	CHECK_EQ(mkfile(fs, d.ino, "g", 10, 2, &a), ino);
	CHECK(a.gen != gen, "a reused number has the old generation");
	CHECK_EQ(cfs_iget_gen(fs, ino, gen, &got), -CFS_ESTALE);
	CHECK_OK(cfs_iget_gen(fs, ino, a.gen, &got));
	cfs_forget(fs, ino, 1);
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);
}

static void test_atime(void)
{
	struct membdev *m = do_mkfs();
	struct cfs_fs *fs = do_mount(m, CFS_MOUNT_SYNC);
	struct cfs_journal_stats j0, j1;
	struct cfs_setattr sa;
	struct cfs_attr a, t;
	u64 ino;

	/* the rules */
	memset(&t, 0, sizeof(t));
	t.atime = 1000;
	t.mtime = 900;
	t.ctime = 900;
	CHECK_EQ(cfs_atime_due(&t, CFS_ATIME_RELATIME, 2000, 0), 0);
	CHECK_EQ(cfs_atime_due(&t, CFS_ATIME_STRICT, 2000, 0), 1);
	CHECK_EQ(cfs_atime_due(&t, CFS_ATIME_STRICT, 1000, 0), 0);
	CHECK_EQ(cfs_atime_due(&t, CFS_ATIME_NONE, 2000, 0), 0);
	CHECK_EQ(cfs_atime_due(&t, CFS_ATIME_RELATIME, 1000 + 24 * 3600, 0), 1);
	t.mtime = 1000; /* not newer than the change */
	CHECK_EQ(cfs_atime_due(&t, CFS_ATIME_RELATIME, 2000, 0), 1);
	t.mtime = 900;
	t.ctime = 1000;
	t.ctime_ns = 1;
	CHECK_EQ(cfs_atime_due(&t, CFS_ATIME_RELATIME, 2000, 0), 1);

	ino = mkfile(fs, CFS_ROOT_INO, "f", 100, 1, &a);
	memset(&sa, 0, sizeof(sa));
	sa.valid = CFS_SET_ATIME | CFS_SET_MTIME;
	sa.atime = 1000;
	sa.mtime = 2000;
	CHECK_OK(cfs_setattr(fs, ino, &sa, &a));
	cfs_journal_stats(fs, &j0);
	/* relatime: once, then not */
	CHECK_EQ(cfs_touch_atime(fs, ino, CFS_ATIME_RELATIME), 1);
	CHECK_OK(cfs_getattr(fs, ino, &a));
	CHECK(a.atime > 2000, "atime %lld", a.atime);
	CHECK_EQ(cfs_touch_atime(fs, ino, CFS_ATIME_RELATIME), 0);
	CHECK_EQ(cfs_touch_atime(fs, ino, CFS_ATIME_NONE), 0);
	CHECK_EQ(cfs_set_atime(fs, ino, 12345, 678), 1);
	CHECK_OK(cfs_getattr(fs, ino, &a));
	CHECK_EQ(a.atime, 12345);
	CHECK_EQ(a.atime_ns, 678);
	CHECK_EQ(cfs_set_atime(fs, ino, 1, 1000000000u), -CFS_EINVAL);
	/* none of that committed, on a synchronous mount */
	cfs_journal_stats(fs, &j1);
	CHECK_EQ(j1.commits, j0.commits);
	CHECK_OK(cfs_sync(fs));
	CHECK_OK(cfs_unmount(fs));
	fs = do_mount(m, 0);
	CHECK_OK(cfs_getattr(fs, ino, &a));
	CHECK_EQ(a.atime, 12345);
	CHECK_EQ(a.atime_ns, 678);
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_ro_rw();
	test_ro_after_crash();
	test_iget();
	test_atime();
	if (tap_fail) {
		printf("test_remount: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_remount: all checks passed\n");
	return 0;
}
