// SPDX-License-Identifier: GPL-2.0
/*
 * test_check.c - the checker on the memory device: a filesystem built
 * through the API with continuations everywhere checks clean in every
 * chunk; then each kind of damage, made directly in the device's memory, is
 * found, repaired by a -y check of that chunk, and a second check is clean;
 * files outside the damaged chunk read back intact.  Run on a v1
 * filesystem, a v2 one without second copies (-m single) and a v2 one with
 * them (the default): there, damage that destroys one block (an inode
 * table block, the link index root, a bitmap) is healed from the block's
 * copy, reported as corrected and not as a problem, and nothing is lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static int verbose;
static u32 no_features; /* the run's format: CFS_MKFS_V1, _NO_DUP or 0 */
static const char *fmt_name = "";

static void report(void *ctx, const struct cfs_problem_report *r)
{
	const struct cfs_problem_desc *d = cfs_problem(r->code);

	(void)ctx;
	if (verbose)
		printf("  chunk %u ino %llx: %s (%s)%s\n", r->chunk,
		       (unsigned long long)r->ino, d ? d->desc : "?",
		       r->detail ? r->detail : "", r->fixed ? " fixed" : "");
}

static u64 mk(struct cfs_fs *fs, u64 dir, const char *name, u32 mode)
{
	struct cfs_attr a;
	int err = cfs_mknod(fs, dir, name, strlen(name), mode, 0, &cr, &a);

	CHECK(!err, "mknod %s: %d", name, err);
	if (!err)
		cfs_forget(fs, a.ino, 1);
	return a.ino;
}

/* Build: a big file over 3 chunks, a directory of 700 files (spread), a
 * tree of subdirectories, hard links across chunks, xattrs. */
static struct membdev *build(void)
{
	struct membdev *m = membdev_new(48 << 20);
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	const char *why;
	char name[32];
	u8 *buf = malloc(10 << 20);
	u64 big, d, sub;
	int i;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	o.no_features = no_features;
	memcpy(o.uuid, "chunkfs-test-uid", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	for (i = 0; i < (10 << 20); i++)
		buf[i] = (u8)(i * 7 + i / 4096);
	big = mk(fs, CFS_ROOT_INO, "big", CFS_S_IFREG | 0644);
	CHECK_EQ(cfs_write(fs, big, 0, 10 << 20, buf), 10 << 20);
	d = mk(fs, CFS_ROOT_INO, "many", CFS_S_IFDIR | 0755);
	for (i = 0; i < 700; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		u64 f = mk(fs, d, name, CFS_S_IFREG | 0644);

		CHECK_EQ(cfs_write(fs, f, 0, 100 + i, buf + i), 100 + i);
		if (i % 100 == 0)
			CHECK_OK(cfs_setxattr(fs, f, "user.k", "v", 1, 0));
	}
	sub = mk(fs, d, "sub", CFS_S_IFDIR | 0755);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		mk(fs, sub, name, CFS_S_IFDIR | 0755);
	}
	{
		struct cfs_attr a;

		CHECK_OK(cfs_link(fs, big, d, "biglink", 7, &a));
		cfs_forget(fs, a.ino, 1);
		CHECK_OK(cfs_symlink(fs, sub, "ln", 2, "../f1", 5, &cr, &a));
		cfs_forget(fs, a.ino, 1);
	}
	CHECK_OK(cfs_unmount(fs));
	free(buf);
	return m;
}

static u32 check_all(struct membdev *m, u32 mode, u32 *fixed)
{
	long long found = membdev_check_all(m, mode, report, NULL, fixed);

	CHECK(found >= 0, "check of every chunk: error %lld", found);
	return found < 0 ? 0 : (u32)found;
}

/* ---- damage helpers: raw edits of the memory device ---- */
#define BS 4096u
#define CB 1024u

static u8 *blkp(struct membdev *m, u32 k, u32 local)
{
	return m->mem + ((u64)2 + (u64)k * CB + local) * BS;
}

static struct cfs_chunk_hdr *hdr(struct membdev *m, u32 k)
{
	return (struct cfs_chunk_hdr *)blkp(m, k, 0);
}

static void reseal(u8 *b)
{
	((struct cfs_bhdr *)b)->crc = host_crc32(0, b + 4, BS - 4);
}

static struct cfs_dinode *dinode(struct membdev *m, u64 ino, u8 **blk)
{
	u32 k = (u32)(ino >> 32), l = (u32)ino, ipb = (BS - 64) / 256;

	*blk = blkp(m, k, hdr(m, k)->itable_start + l / ipb);
	return (struct cfs_dinode *)(*blk + 64) + l % ipb;
}

static u64 path_ino(struct membdev *m, const char *dir, const char *name)
{
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	u64 d = CFS_ROOT_INO, r = 0;

	CHECK_OK(cfs_mount(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	if (dir) {
		CHECK_OK(cfs_lookup(fs, CFS_ROOT_INO, dir, strlen(dir), &a));
		d = a.ino;
	}
	if (!cfs_lookup(fs, d, name, strlen(name), &a))
		r = a.ino;
	cfs_unmount(fs);
	return r;
}

/* Every file of "many" not in chunk `skip` reads back intact. */
static void verify_outside(struct membdev *m, u32 skip, int big_ok)
{
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	char name[32];
	u8 *want = malloc(10 << 20), *got = malloc(10 << 20);
	u64 d;
	int i, bad = 0;

	for (i = 0; i < (10 << 20); i++)
		want[i] = (u8)(i * 7 + i / 4096);
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_lookup(fs, CFS_ROOT_INO, "many", 4, &a));
	d = a.ino;
	for (i = 0; i < 700; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		if (cfs_lookup(fs, d, name, strlen(name), &a)) {
			bad += 1;
			continue;
		}
		if ((u32)(a.ino >> 32) != skip &&
		    (cfs_read(fs, a.ino, 0, 200 + i, got) != 100 + i ||
		     memcmp(got, want + i, 100 + i)))
			bad++;
		cfs_forget(fs, a.ino, 1);
	}
	/* names of inodes in the damaged chunk may be gone; others not */
	CHECK(bad <= (skip == (u32)(d >> 32) ? 700 : 300),
	      "%d files of many unreadable", bad);
	if (big_ok) {
		CHECK_OK(cfs_lookup(fs, CFS_ROOT_INO, "big", 3, &a));
		CHECK_EQ(cfs_read(fs, a.ino, 0, 10 << 20, got), 10 << 20);
		CHECK(!memcmp(got, want, 10 << 20), "big file differs");
		cfs_forget(fs, a.ino, 1);
	}
	CHECK_OK(cfs_unmount(fs));
	free(want);
	free(got);
}

/* Check chunk k with -y (and the peers it asks for), then everything -n.
 * healed: the damage hit one copy of a copied block: it must come back
 * from the other copy (corrected, no problem, nothing lost). */
static void repair_and_verify(struct membdev *m, u32 k, const char *what,
			      int big_ok, int healed)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 fixed, found, i;

	CHECK_OK(cfs_mount_check(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_check_super(fs, CFS_CHECK_FIXALL, report, NULL, &r));
	CHECK_OK(cfs_check_chunk(fs, k, CFS_CHECK_FIXALL, report, NULL, &r));
	if (healed) {
		CHECK(r.found == 0 && r.corrected > 0, "%s%s: chunk %u: %u "
		      "problems, %u corrected (want 0, >0)", fmt_name, what,
		      k, r.found, r.corrected);
		big_ok = 1;
	} else {
		CHECK(r.found > 0, "%s%s: chunk %u: nothing found", fmt_name,
		      what, k);
	}
	CHECK(r.found == r.fixed, "%s: %u found, %u fixed", what, r.found,
	      r.fixed);
	for (i = 0; i < r.nrecheck; i++) {
		struct cfs_check_result r2;

		CHECK_OK(cfs_check_chunk(fs, r.recheck[i], CFS_CHECK_FIXALL,
					 report, NULL, &r2));
		CHECK(r2.found == r2.fixed, "%s: peer %u: %u found, %u fixed",
		      what, r.recheck[i], r2.found, r2.fixed);
	}
	CHECK_OK(cfs_unmount(fs));
	found = check_all(m, CFS_CHECK_NOFIX, &fixed);
	CHECK(found == 0, "%s: second check found %u problems", what, found);
	verify_outside(m, healed ? CFS_NO_CHUNK : k, big_ok);
}

/* heals: with second copies (1), or in any v2 filesystem (2: the chunk
 * header, which v1 has two copies of too), this damage is healed, not
 * repaired */
static void scenario(const char *what, u32 (*damage)(struct membdev *m),
		     int big_ok, int heals)
{
	struct membdev *m = build();
	u32 k = damage(m);
	int healed = (heals == 1 && !no_features) ||
		     (heals == 2 && no_features != CFS_MKFS_V1);

	printf("scenario %s%s (chunk %u)%s\n", fmt_name, what, k,
	       healed ? ": healed from the copy" : "");
	repair_and_verify(m, k, what, big_ok, healed);
	membdev_free(m);
}

static u32 d_hdr_primary(struct membdev *m)
{
	memset(blkp(m, 3, 0), 0, BS);
	return 3;
}

static u32 d_hdr_both(struct membdev *m)
{
	memset(blkp(m, 3, CB - 1), 0, BS);
	memset(blkp(m, 3, 0), 0, BS);
	return 3;
}

static u32 d_bbmap(struct membdev *m)
{
	u8 *b = blkp(m, 2, hdr(m, 2)->bbmap_start);

	b[64 + 100] ^= 0x5a;
	b[64 + 10] ^= 0x81;
	reseal(b);
	return 2;
}

static u32 d_ibmap(struct membdev *m)
{
	u8 *b = blkp(m, 4, hdr(m, 4)->ibmap_start);

	b[64 + 3] ^= 0xff;
	reseal(b);
	return 4;
}

static u32 d_link_root(struct membdev *m)
{
	memset(blkp(m, 1, hdr(m, 1)->link_root), 0, BS);
	return 1;
}

static u32 d_nlink(struct membdev *m)
{
	u64 ino = path_ino(m, "many", "f5");
	u8 *b;
	struct cfs_dinode *di = dinode(m, ino, &b);

	di->nlink = 7;
	reseal(b);
	return (u32)(ino >> 32);
}

static u32 d_free_inode_named(struct membdev *m)
{
	u64 ino = path_ino(m, "many", "f300");
	u8 *b;
	struct cfs_dinode *di = dinode(m, ino, &b);

	memset(di, 0, sizeof(*di));
	reseal(b);
	return (u32)(ino >> 32);
}

static u32 d_itable(struct membdev *m)
{
	u64 ino = path_ino(m, "many", "f600");
	u8 *b;

	dinode(m, ino, &b);
	memset(b, 0, BS);
	return (u32)(ino >> 32);
}

static u32 d_continuation(struct membdev *m)
{
	/* the big file's first continuation: its inode zeroed (a missing
	 * continuation); the origin's chunk must cut its forward link */
	u64 big = path_ino(m, NULL, "big");
	u32 k = (u32)(big >> 32) + 1, l;
	u8 *b;

	for (l = 1; l < 64; l++) {
		struct cfs_dinode *di = dinode(m, ((u64)k << 32) | l, &b);

		if ((di->flags & CFS_IF_CONT) && di->back_ino == (u32)big) {
			memset(di, 0, sizeof(*di));
			reseal(b);
			return k;
		}
	}
	CHECK(0, "no continuation of big found in chunk %u", k);
	return k;
}

static u32 d_back_link(struct membdev *m)
{
	u64 big = path_ino(m, NULL, "big");
	u32 k = (u32)(big >> 32) + 1, l;
	u8 *b;

	for (l = 1; l < 64; l++) {
		struct cfs_dinode *di = dinode(m, ((u64)k << 32) | l, &b);

		if ((di->flags & CFS_IF_CONT) && di->back_ino == (u32)big) {
			di->back_gen += 77;
			reseal(b);
			return k;
		}
	}
	CHECK(0, "no continuation of big found in chunk %u", k);
	return k;
}

static u32 d_orphan(struct membdev *m)
{
	/* remove f7's name by zeroing the directory block holding it would
	 * lose many; instead raise nlink of a file and drop... simpler:
	 * clear the entry via the API in a private mount, keeping nlink */
	struct cfs_fs *fs;
	struct cfs_attr a;
	struct cfs_inode *dp, *ip;
	const char *why;
	u64 ino = path_ino(m, "many", "f7");

	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_lookup(fs, CFS_ROOT_INO, "many", 4, &a));
	CHECK_OK(inode_get(fs, a.ino, &dp));
	CHECK_OK(inode_get(fs, ino, &ip));
	CHECK_OK(dir_remove(fs, dp, "f7", 2, ip)); /* nlink stays 1 */
	ip->nlookup = 1; /* keep it from being freed on put */
	inode_put(fs, ip);
	inode_put(fs, dp);
	cfs_forget(fs, a.ino, 1);
	cfs_sync(fs);
	/* drop the cache without cfs_unmount (which would free it) */
	m->stop_after = m->nwrites; /* nothing more reaches the device */
	cfs_unmount(fs);
	m->stop_after = 0;
	m->stopped = 0;
	return (u32)(ino >> 32);
}

int main(int argc, char **argv)
{
	struct membdev *m;
	u32 fixed;

	static const struct { u32 nf; const char *name; } fmts[] = {
		{ CFS_MKFS_V1, "v1: " }, { CFS_MKFS_NO_DUP, "single: " },
		{ 0, "dup: " },
	};
	u32 f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	verbose = argc > 1 && argv[1][0] == 'v';
	for (f = 0; f < 3; f++) {
		no_features = fmts[f].nf;
		fmt_name = fmts[f].name;
		m = build();
		CHECK_EQ(check_all(m, CFS_CHECK_NOFIX, &fixed), 0);
		{
			/* a repairing check of a clean filesystem writes
			 * nothing but the chunk headers (state, verified
			 * time): no block rewritten with a new generation */
			u8 *snap = malloc(m->size);
			u64 b, other = 0;

			memcpy(snap, m->mem, m->size);
			CHECK_EQ(check_all(m, CFS_CHECK_FIXALL, &fixed), 0);
			for (b = 2; b < m->size / BS; b++) {
				const struct cfs_bhdr *h = (const struct cfs_bhdr *)
					(m->mem + b * BS);

				if (memcmp(snap + b * BS, m->mem + b * BS, BS) &&
				    h->magic != CFS_MAGIC_CHUNK)
					other++;
			}
			CHECK(!other, "%sfsck -fy of a clean filesystem "
			      "rewrote %llu blocks besides chunk headers",
			      fmt_name, (unsigned long long)other);
			free(snap);
		}
		CHECK_EQ(check_all(m, CFS_CHECK_NOFIX, &fixed), 0);
		membdev_free(m);
		scenario("primary header", d_hdr_primary, 1, 2);
		scenario("both headers", d_hdr_both, 1, 0);
		scenario("block bitmap", d_bbmap, 1, 0);
		scenario("inode bitmap", d_ibmap, 1, 0);
		scenario("link index root", d_link_root, 1, 1);
		scenario("nlink", d_nlink, 1, 0);
		scenario("entry naming a free inode", d_free_inode_named, 1,
			 0);
		scenario("inode table block", d_itable, 1, 1);
		scenario("continuation deleted", d_continuation, 0, 0);
		scenario("back link broken", d_back_link, 0, 0);
		scenario("orphan file", d_orphan, 1, 0);
	}
	if (tap_fail) {
		printf("test_check: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_check: all checks passed\n");
	return 0;
}
