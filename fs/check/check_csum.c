// SPDX-License-Identifier: GPL-2.0
/*
 * check_csum.c - pass 6c (format v2, DATASUM): the checksum region.
 *
 * Every checksum block is read (both copies under DUP, a bad copy healed
 * from the good one as any positional block).  One with no good copy
 * loses the checksums of the blocks it covers, not those blocks: it is
 * made again from the blocks as they are now, the checksum of each block
 * in use (pass 6's map) computed from its content, 0 for the others.  The
 * data is then trusted as it is (nothing is left to verify it against),
 * which the report says; without this every read of those blocks would be
 * EIO and the data as good as lost.  Read-only (-n) the block made again
 * stays in memory.
 * Needs: pass 6's map of the blocks in use (c->used).
 */
#include "check_int.h"

static void csum_rebuild(struct ck *c, u32 i, u8 *data)
{
	struct cfs_chunk *ch = c->ch;
	u32 cpb = CFS_PAYLOAD(c->fs) / 4, e;
	struct cfs_buf *b;
	u32 *ent;

	if (buf_new(c->fs, ch, ch->hdr.csum_start + i, CFS_MAGIC_CSUM, &b))
		return;
	ent = (u32 *)(b->data + sizeof(struct cfs_bhdr));
	for (e = 0; e < cpb; e++) {
		u32 local = i * cpb + e;

		if (local >= c->nblocks || !ck_test(c, local) ||
		    c->fs->dev->ops->read(c->fs->dev,
					  cfs_abs(ch, local) << c->fs->bshift,
					  data, c->fs->bs))
			continue;
		ent[e] = dsum_block(c->fs, data);
	}
	buf_put(c->fs, b);
}

int check_csum(struct ck *c)
{
	struct cfs_chunk *ch = c->ch;
	u8 *data = NULL;
	u32 i;

	if (!c->fs->datasum)
		return 0;
	for (i = 0; i < ch->hdr.csum_blocks; i++) {
		struct cfs_buf *b;

		if (!buf_read(c->fs, ch, ch->hdr.csum_start + i,
			      CFS_MAGIC_CSUM, &b)) {
			buf_put(c->fs, b);
			continue;
		}
		ck_problem(c, PR_CSUM_BLOCK, 0,
			   cfs_abs(ch, ch->hdr.csum_start + i), NULL);
		if (!data) {
			data = host_alloc(c->fs->bs);
			if (!data)
				return -CFS_ENOMEM;
		}
		csum_rebuild(c, i, data);
	}
	host_free(data);
	return 0;
}
