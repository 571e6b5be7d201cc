// SPDX-License-Identifier: GPL-2.0
/*
 * test_dirovf.c - the checker and directory overflow items (DIROVF): on an
 * image with 1-bit directory hashes (HASHBITS, tests only), a directory
 * of 120 names of 200 bytes (each hash's names in several items); its
 * check is clean.  Then the entry item of hash 0 is deleted behind the
 * library's back, leaving its overflow items without it (lookups do not
 * see their names): the checker must find it, put those names back under
 * their hash (the names of the deleted item come back from their parent
 * pointers, or go to lost+found without them), find
 * nothing on a second run, and every name of the former overflow items
 * must be found by lookup again.  The FUSE side: tests/fuse/t_dirovf.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/chunkimg.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

static struct cfs_cred root_cr = { .uid = 0, .gid = 0 };

static void report(void *ctx, const struct cfs_problem_report *r)
{
	(void)ctx;
	printf("# problem: chunk %u code %u %s%s\n", r->chunk, r->code,
	       r->detail ? r->detail : "", r->fixed ? " (fixed)" : "");
}

/* A repair of every chunk (fsck -fy). */
static void repair_all(struct membdev *m)
{
	struct cfs_check_result r;
	struct cfs_fs *fs;
	const char *why;
	u32 k;

	CHECK_OK(cfs_mount_check(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_check_super(fs, CFS_CHECK_FIXALL, report, NULL, &r));
	for (k = 0; k < cfs_nchunks(fs); k++)
		CHECK_OK(cfs_check_chunk(fs, k, CFS_CHECK_FIXALL, report, NULL,
					 &r));
	CHECK_OK(cfs_unmount(fs));
}

static void name_of(char *b, int i)
{
	snprintf(b, 256, "n%04d-", i);
	memset(b + 6, 'v', 194);
	b[200] = 0;
}

static void run(u32 no_features)
{
	struct membdev *m = membdev_new(32ull << 20);
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	struct cfs_attr a, d;
	struct cfs_inode *dp;
	struct cfs_tree t;
	const char *why;
	char name[256], saved[40][201];
	u32 nsaved = 0, len, i;
	u8 *buf;
	u64 k;

	printf("# %s\n", no_features ? "without parent pointers" :
	       "with parent pointers (they give the lost item's names back)");
	memset(&o, 0, sizeof(o));
	o.no_features = no_features;
	o.block_size = 4096;
	o.chunk_bytes = 4ull << 20;
	o.dir_hash_bits = 1;
	memcpy(o.uuid, "dirovf-test-uuid", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK(fs->dirovf && fs->hash_mask == 1, "dirovf %d mask %llu",
	      fs->dirovf, (unsigned long long)fs->hash_mask);
	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "d", 1, CFS_S_IFDIR | 0755, 0,
			   &root_cr, &d));
	for (i = 0; i < 120; i++) {
		name_of(name, (int)i);
		CHECK_OK(cfs_mknod(fs, d.ino, name, 200, CFS_S_IFREG | 0644, 0,
				   &root_cr, &a));
		cfs_forget(fs, a.ino, 1);
	}
	CHECK_OK(cfs_unmount(fs));
	CHECK_EQ(ci_offline_problems(m, report), 0);

	/* the entry item of hash 0 goes; its overflow items stay */
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_OK(inode_get(fs, d.ino, &dp));
	tree_of_inode(fs, dp, CFS_TREE_DIR, &t);
	buf = malloc(fs->bs);
	for (k = CFS_DKEY_OVF; !bt_find_ge(&t, k, &k, buf, fs->bs, &len) &&
	     k < (CFS_DKEY_OVF | 1ull << 8); k++) {
		u32 off = 0;

		while (off < len && nsaved < 40) {
			struct cfs_dirent *de = (void *)(buf + off);

			memcpy(saved[nsaved], de->name, de->namelen);
			saved[nsaved++][de->namelen] = 0;
			off += (u32)sizeof(*de) + de->namelen;
		}
	}
	printf("# %u names in the overflow items of hash 0\n", nsaved);
	CHECK(nsaved >= 10, "overflow names of hash 0: %u", nsaved);
	CHECK_OK(bt_delete(&t, 0));
	CHECK_OK(inode_write(fs, dp));
	inode_put(fs, dp);
	CHECK(cfs_lookup(fs, d.ino, saved[0], (u32)strlen(saved[0]), &a) ==
	      -CFS_ENOENT, "a name of an orphaned overflow item is not found");
	CHECK_OK(cfs_unmount(fs));

	CHECK(ci_offline_problems(m, report) > 0, "the checker finds it");
	repair_all(m);
	CHECK_EQ(ci_offline_problems(m, report), 0);
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	for (i = 0; i < nsaved; i++) {
		int e = cfs_lookup(fs, d.ino, saved[i], (u32)strlen(saved[i]),
				   &a);

		CHECK(!e, "%s... after the repair: %d", saved[i] + 0 * 6, e);
		if (!e)
			cfs_forget(fs, a.ino, 1);
	}
	CHECK_OK(cfs_unmount(fs));
	free(buf);
	membdev_free(m);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	run(0);
	run(CFS_MKFS_NO_PPTR);
	if (tap_fail) {
		printf("test_dirovf: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_dirovf: all checks passed\n");
	return 0;
}
