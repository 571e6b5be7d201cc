// SPDX-License-Identifier: GPL-2.0
/*
 * test_xcont.c - xattr continuations (XCONT, FORMAT.md 10.3.2) and the
 * checker's pass 2b: a file in chunk 0 gets 450 xattrs of 4000 bytes, so
 * chunk 0 fills with metadata and the later ones spill into an xattr
 * continuation in chunk K.  Then the forward item in the file's xattr tree
 * is deleted (as a lost tree leaf would lose it) while the link index and
 * the continuation still agree: the check of chunk 0 writes the item again
 * (fwd_restored), reports no lost xattr, every value reads back and a
 * check of every chunk finds nothing.  Without the repair (the same image
 * checked read-only) the missing item is a problem: shown able to fail.
 * Also: unlinking the file frees its continuations (chunk K's free blocks
 * and inodes come back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define DEV (64u << 20)
#define NX 450
#define VLEN 4000

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static u32 seen_restored, seen_lost;

static void report(void *ctx, const struct cfs_problem_report *r)
{
	(void)ctx;
	if (r->code == 0x0a06)
		seen_restored++;
	if (r->code == 0x0a0c)
		seen_lost++;
	fprintf(stderr, "  chunk %u: problem 0x%04x ino %llu %s%s\n", r->chunk,
		r->code, (unsigned long long)r->ino, r->detail ? r->detail : "",
		r->fixed ? " (fixed)" : "");
}

static u32 check_all(struct membdev *m, u32 mode)
{
	unsigned fixed;
	long long found = membdev_check_all(m, mode, report, NULL, &fixed);

	CHECK(found >= 0, "check of every chunk: error %lld", found);
	return found < 0 ? 0 : (u32)found;
}

static void val(u8 *v, u32 i)
{
	memset(v, (int)(i * 7 + 1) & 0xff, VLEN);
	v[0] = (u8)i;
	v[1] = (u8)(i >> 8);
}

/* The chunk of the first xattr continuation of inode ino, or 0. */
static u32 xcont_chunk(struct cfs_fs *fs, u64 ino)
{
	struct cfs_inode *ip;
	struct cfs_tree t;
	u64 k;
	u32 chunk = 0;

	CHECK_OK(inode_get(fs, ino, &ip));
	if (ip->d.xattr_root) {
		tree_of_inode(fs, ip, CFS_TREE_XATTR, &t);
		if (!bt_find_ge(&t, CFS_XKEY_CONT, &k, NULL, 0, NULL))
			chunk = (u32)k;
	}
	inode_put(fs, ip);
	return chunk;
}

/* A 4 MiB-chunk filesystem on m (no_features off) with one file "f" in
 * the root: the mounted fs, *f its inode (looked up once). */
static struct cfs_fs *mkfs_file(struct membdev *m, u32 no_features,
				const char *uuid16, u64 *f)
{
	struct cfs_mkfs_opts o;
	struct cfs_attr a;
	struct cfs_fs *fs = NULL;
	const char *why;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4u << 20;
	o.no_features = no_features;
	memcpy(o.uuid, uuid16, 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "f", 1, CFS_S_IFREG | 0644, 0,
			   &cr, &a));
	*f = a.ino;
	return fs;
}

/* A replace of a large value (in parts) that gets ENOSPC keeps the old
 * value (the old parts went before the new ones were stored: the value
 * read as EIO), and leaves nothing the checker finds.  Without XCONT, so
 * that the chunk's room runs out. */
static void replace_enospc(void)
{
	struct membdev *m = membdev_new(DEV);
	struct cfs_fs *fs;
	const char *why;
	static u8 v[VLEN], big[65536], got[65536];
	char name[32];
	u32 i, old = 20000;
	int err = 0;
	u64 f;

	fs = mkfs_file(m, CFS_MKFS_NO_XCONT, "xattr-repl-uuid!", &f);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (u8)(i * 13 + 5);
	CHECK_OK(cfs_setxattr(fs, f, "user.big", big, old, 0));
	for (i = 0; i < NX && !err; i++) {
		snprintf(name, sizeof(name), "user.x%u", i);
		val(v, i);
		err = cfs_setxattr(fs, f, name, v, VLEN, 0);
	}
	CHECK_EQ(err, -CFS_ENOSPC);
	/* room for some small values, not for 64 KiB */
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "user.s%u", i);
		if (cfs_setxattr(fs, f, name, v, 100, 0))
			break;
	}
	memset(got, 0, sizeof(got));
	got[0] = 1;
	CHECK_EQ(cfs_setxattr(fs, f, "user.big", got, sizeof(got),
			      CFS_XATTR_REPLACE), -CFS_ENOSPC);
	CHECK_EQ(cfs_getxattr(fs, f, "user.big", got, sizeof(got)), (s64)old);
	CHECK(!memcmp(got, big, old), "the old value after a failed replace");
	cfs_forget(fs, f, 1);
	CHECK_OK(cfs_unmount(fs));
	CHECK_EQ(check_all(m, CFS_CHECK_NOFIX), 0);
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_EQ(cfs_getxattr(fs, f, "user.big", got, sizeof(got)), (s64)old);
	CHECK(!memcmp(got, big, old), "the old value after a remount");
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);
}

int main(void)
{
	struct membdev *m = membdev_new(DEV);
	struct cfs_inode *ip;
	struct cfs_tree t;
	struct cfs_fs *fs;
	const char *why;
	static u8 v[VLEN], got[VLEN];
	char name[32];
	u32 i, k, free_k;
	u64 f;

	fs = mkfs_file(m, 0, "xattr-cont-uuid!", &f);
	cfs_forget(fs, f, 1);
	CHECK_EQ(CFS_CHUNK_OF(f), 0);
	free_k = 0;
	for (i = 0; i < NX; i++) {
		snprintf(name, sizeof(name), "user.x%u", i);
		val(v, i);
		CHECK_OK(cfs_setxattr(fs, f, name, v, VLEN, 0));
	}
	k = xcont_chunk(fs, f);
	CHECK(k != 0, "no xattr continuation");
	/* the forward item goes (the index entry and the continuation stay) */
	CHECK_OK(inode_get(fs, f, &ip));
	tree_of_inode(fs, ip, CFS_TREE_XATTR, &t);
	CHECK_OK(bt_delete(&t, CFS_XKEY_CONT | k));
	CHECK_OK(inode_write(fs, ip));
	inode_put(fs, ip);
	CHECK_OK(cfs_unmount(fs));

	/* read-only: the missing item is found, nothing fixed */
	CHECK(check_all(m, CFS_CHECK_NOFIX) > 0, "missing forward item unseen");
	/* the repair of chunk 0 writes it again */
	seen_restored = seen_lost = 0;
	{
		struct cfs_check_result r;

		CHECK_OK(cfs_mount_check(&m->bdev, 0, &fs, &why));
		CHECK_OK(cfs_check_chunk(fs, 0, CFS_CHECK_FIXALL, report, NULL,
					 &r));
		CHECK_OK(cfs_unmount(fs));
	}
	CHECK_EQ(seen_restored, 1);
	CHECK_EQ(seen_lost, 0);
	CHECK_EQ(check_all(m, CFS_CHECK_NOFIX), 0);

	/* every value reads back; then the file goes with its continuations */
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_EQ(xcont_chunk(fs, f), k);
	for (i = 0; i < NX; i++) {
		snprintf(name, sizeof(name), "user.x%u", i);
		val(v, i);
		CHECK_EQ(cfs_getxattr(fs, f, name, got, VLEN), VLEN);
		CHECK(!memcmp(v, got, VLEN), "value of %s", name);
	}
	{
		struct cfs_chunk *ch = chunk_get(fs, k);

		free_k = ch->hdr.free_blocks;
		CHECK_OK(cfs_unlink(fs, CFS_ROOT_INO, "f", 1));
		CHECK(ch->hdr.free_blocks > free_k + 100,
		      "chunk %u: %u free blocks, %u before the unlink", k,
		      ch->hdr.free_blocks, free_k);
	}
	CHECK_OK(cfs_unmount(fs));
	CHECK_EQ(check_all(m, CFS_CHECK_NOFIX), 0);
	membdev_free(m);
	replace_enospc();
	if (tap_fail) {
		printf("test_xcont: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_xcont: ok (continuation in chunk %u)\n", k);
	return 0;
}
