/* SPDX-License-Identifier: GPL-2.0 */
/* chunkimg.h - looking into a chunkfs image on the memory device, for the
 * unit tests that damage it on purpose: a block of a chunk, a B+tree node
 * of an inode, the count of problems an offline check of every chunk
 * finds. */
#ifndef CFS_CHUNKIMG_H
#define CFS_CHUNKIMG_H

#include "../../fs/check.h"
#include "membdev.h"

/* Local block `local` of chunk k (chunks of cb blocks of bs bytes). */
u8 *ci_blk(struct membdev *dev, u32 bs, u32 cb, u32 k, u32 local);
/* A B+tree block of chunk k owned by local inode `owner`, tree `tree`;
 * 0 if none. */
u32 ci_tree_block(struct membdev *dev, u32 bs, u32 cb, u32 k, u32 owner,
		  u32 tree);
/* Problems found by a read-only check of every chunk (1000 for a chunk
 * that could not be checked, or when the image does not mount); fn (may
 * be NULL) gets each report. */
u32 ci_offline_problems(struct membdev *dev, cfs_report_fn fn);

/* One page of directory dir's names ("." and ".." left out), from
 * *cookie on: up to CI_DIR_PAGE of them in l, *cookie moved past them.
 * Returns how many (fewer than CI_DIR_PAGE: the last page), or a negative
 * errno. */
#define CI_DIR_PAGE 64
struct ci_dir_page {
	char name[CI_DIR_PAGE][256];
	u64 ino[CI_DIR_PAGE];
	u32 n;
	u64 next;
};
int ci_dir_page(struct cfs_fs *fs, u64 dir, u64 *cookie,
		struct ci_dir_page *l);

#endif
