// SPDX-License-Identifier: GPL-2.0
/* chunkimg.c - see chunkimg.h. */
#include <string.h>

#include "chunkimg.h"
#include "../../fs/internal.h"

u8 *ci_blk(struct membdev *dev, u32 bs, u32 cb, u32 k, u32 local)
{
	return dev->mem + ((u64)CFS_FIRST_CHUNK_BLOCK + (u64)k * cb + local) *
		bs;
}

u32 ci_tree_block(struct membdev *dev, u32 bs, u32 cb, u32 k, u32 owner,
		  u32 tree)
{
	const struct cfs_chunk_hdr *h = (const void *)ci_blk(dev, bs, cb, k, 0);
	u32 l;

	for (l = h->data_start; l < cb - 1; l++) {
		const struct cfs_bhdr *b = (const void *)ci_blk(dev, bs, cb, k, l);

		if (b->magic == CFS_MAGIC_BTREE && b->tree == tree &&
		    b->owner_lo == owner && b->chunk == k)
			return l;
	}
	return 0;
}

u32 ci_offline_problems(struct membdev *dev, cfs_report_fn fn)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 k, found = 0;

	if (cfs_mount_check(&dev->bdev, CFS_MOUNT_RDONLY, &fs, &why))
		return 1000;
	for (k = 0; k < cfs_nchunks(fs); k++) {
		if (cfs_check_chunk(fs, k, CFS_CHECK_NOFIX, fn, NULL, &r))
			found += 1000;
		found += r.found;
	}
	cfs_unmount(fs);
	return found;
}

static int ci_collect(void *ctx, const char *name, u32 len, u64 ino,
		      u32 type, u64 next)
{
	struct ci_dir_page *l = ctx;

	(void)type;
	if (l->n == CI_DIR_PAGE)
		return 1;
	l->next = next;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	memcpy(l->name[l->n], name, len);
	l->name[l->n][len] = 0;
	l->ino[l->n++] = ino;
	return 0;
}

int ci_dir_page(struct cfs_fs *fs, u64 dir, u64 *cookie,
		struct ci_dir_page *l)
{
	int err;

	l->n = 0;
	l->next = *cookie;
	err = cfs_readdir(fs, dir, *cookie, ci_collect, l);
	if (err)
		return err;
	*cookie = l->next;
	return (int)l->n;
}
